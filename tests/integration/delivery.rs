//! Delivery against the fake Bot API: rate limits, refusals, outages, dry-run.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_for_exactly_retry_after_and_retried() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    t.telegram.push(tg_error(
        429,
        "Too Many Requests: retry after 2",
        Some(json!({"retry_after": 2})),
    ));
    let report = t.run_once().await;
    assert_eq!(report.delivery.sent, 3);
    assert_eq!(report.delivery.failed, 0);
    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 4, "one refused + three accepted");
    assert_eq!(
        sent[0]["text"], sent[1]["text"],
        "the refused post is retried first"
    );
    // The resend comes after retry_after, not after a fixed or doubled wait: [2.0, 3.0) s.
    let at = t.telegram.arrivals("sendmessage");
    let waited = at[1] - at[0];
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "resent after {waited:?}, Telegram said retry_after 2"
    );
    let posts = t.store().posts().await.unwrap();
    assert!(posts.iter().all(|p| p.status == "sent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_given_up_for_this_pass_after_six_429s_in_a_row() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    for _ in 0..6 {
        t.telegram.push(tg_error(
            429,
            "Too Many Requests: retry after 1",
            Some(json!({"retry_after": 1})),
        ));
    }
    let report = t.run_once().await;
    assert_eq!(
        t.telegram.arrivals("sendmessage").len(),
        6 + 2,
        "six rounds for the first post, then the two others"
    );
    assert_eq!(report.delivery.failed, 1);
    assert_eq!(report.delivery.sent, 2);
    let posts = t.store().posts().await.unwrap();
    let failed: Vec<_> = posts.iter().filter(|p| p.status == "failed").collect();
    assert_eq!(failed.len(), 1, "{posts:?}");
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("429") && error.contains("6 times"),
        "{error}"
    );
    // Kept for a later pass, not dropped.
    assert_eq!(failed[0].attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_without_rights_keeps_posts_pending_until_fixed() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
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
    t.baseline_then_new_reports().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_too_long_falls_back_to_a_shortened_plain_text() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    t.telegram
        .push(tg_error(400, "Bad Request: message is too long", None));
    let report = t.run_once().await;
    assert_eq!(report.delivery.sent, 3);
    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0]["parse_mode"], "HTML");
    assert!(
        sent[1].get("parse_mode").is_none(),
        "fallback is plain text: {}",
        sent[1]
    );
    let text = sent[1]["text"].as_str().unwrap();
    assert!(
        !text.contains("<b>") && text.encode_utf16().count() <= 3000,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_hears_once_when_a_source_fails_and_once_when_it_recovers() {
    let t = spawn_app().await;
    let cfg = std::fs::read_to_string(&t.config_path).unwrap().replace(
        "per_second = 100",
        "per_second = 100\nadmin_chat = \"-1009876543210\"",
    );
    std::fs::write(&t.config_path, cfg).unwrap();
    let mut t = t;
    t.restart();
    t.site.set("/news/district-news", Page::Status(500));
    t.run_once().await;
    t.run_once().await; // backing off: no second alert
    let alerts = |msgs: &[serde_json::Value]| {
        msgs.iter()
            .filter(|m| m["chat_id"] == -1_009_876_543_210i64)
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let a = alerts(&t.sent_messages().await);
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(
        a[0].contains("dpr-district-news") && a[0].contains("started failing"),
        "{a:?}"
    );
    // The backoff expires (simulated by clearing it in the database) and the site is back.
    let db = rusqlite::Connection::open(t.dir.path().join("niryat.sqlite3")).unwrap();
    db.execute("UPDATE sources SET next_try_at = NULL", [])
        .unwrap();
    serve_dpr(&t.site, 1);
    t.run_once().await;
    t.run_once().await;
    let a = alerts(&t.sent_messages().await);
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a[1].contains("recovered"), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_migrated_to_a_supergroup_is_followed() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    t.telegram.push(tg_error(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        Some(json!({"migrate_to_chat_id": -1_001_111_111_111i64})),
    ));
    let report = t.run_once().await;
    assert_eq!(report.delivery.sent, 3);
    let sent = t.sent_messages().await;
    assert_eq!(sent[0]["chat_id"], CHANNEL);
    assert!(
        sent[1..]
            .iter()
            .all(|m| m["chat_id"] == -1_001_111_111_111i64),
        "{sent:#?}"
    );
}
