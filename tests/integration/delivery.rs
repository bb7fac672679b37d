//! Delivery against the fake Bot API: rate limits, refusals, outages, dry-run.

use std::time::Instant;

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_for_retry_after_and_retried() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.run_once().await;
    serve_dpr(&t.site, 2);
    t.telegram.push(tg_error(
        429,
        "Too Many Requests: retry after 1",
        Some(json!({"retry_after": 1})),
    ));
    let started = Instant::now();
    let report = t.run_once().await;
    assert!(
        started.elapsed().as_millis() >= 1000,
        "did not wait retry_after"
    );
    assert_eq!(report.delivery.sent, 3);
    assert_eq!(report.delivery.failed, 0);
    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 4, "one refused + three accepted");
    assert_eq!(
        sent[0]["text"], sent[1]["text"],
        "the refused post is retried first"
    );
    let posts = t.store().posts().await.unwrap();
    assert!(posts.iter().all(|p| p.status == "sent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_without_rights_keeps_posts_pending_until_fixed() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.run_once().await;
    serve_dpr(&t.site, 2);
    t.telegram.push(tg_error(
        403,
        "Forbidden: bot was kicked from the channel chat",
        None,
    ));
    let report = t.run_once().await;
    assert!(report.delivery.blocked);
    assert_eq!(report.delivery.sent, 0);
    // It stopped at the first refusal: no retry storm.
    assert_eq!(t.sent_messages().await.len(), 1);
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.status == "pending"));
    assert!(posts[0].last_error.as_deref().unwrap().contains("kicked"));
    // The operator fixes the bot's rights; the next pass delivers without a restart.
    let next = t.run_once().await;
    assert_eq!(next.delivery.sent, 3);
    assert!(
        t.store()
            .posts()
            .await
            .unwrap()
            .iter()
            .all(|p| p.status == "sent")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_unreachable_keeps_posts_and_never_leaks_the_token() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.run_once().await;
    serve_dpr(&t.site, 2);
    // Telegram goes away.
    let tg_uri = t.tg_server.uri();
    t.tg_server.reset().await;
    let t = {
        let mut t = t;
        // Point the app at a port where nothing listens.
        let cfg = std::fs::read_to_string(&t.config_path)
            .unwrap()
            .replace(&tg_uri, "http://127.0.0.1:9");
        std::fs::write(&t.config_path, cfg).unwrap();
        t.restart();
        t
    };
    let report = t.run_once().await;
    assert_eq!(report.delivery.sent, 0);
    assert_eq!(report.delivery.failed, 3);
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3, "nothing lost");
    for p in &posts {
        assert_eq!(p.status, "failed");
        let err = p.last_error.as_deref().unwrap();
        assert!(
            !err.contains("TEST-niryat-fake-token"),
            "token leaked: {err}"
        );
        assert!(!err.contains("123456:"), "token leaked: {err}");
    }
}
