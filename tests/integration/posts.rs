//! What a channel post looks like on the wire: hashtags, the source button, the link preview
//! setting and quiet hours.

use chrono::{Timelike, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

fn text(m: &Value) -> &str {
    m["text"].as_str().unwrap_or_default()
}

fn dpr_url(t: &TestApp, id: &str) -> String {
    t.site_url(dpr_article(id)["path"].as_str().unwrap())
}

/// The three posts of DPR listing 2, by the article's id.
async fn three_posts(t: &TestApp) -> Vec<(String, Value)> {
    t.baseline_then_new_reports().await;
    let r = t.run_once().await;
    assert_eq!(r.delivery.sent, 3, "{r:?}");
    let sent = t.sent_messages().await;
    ["1652352665", "1661518844", "1663170129"]
        .iter()
        .map(|id| {
            let url = dpr_url(t, id);
            let m = sent
                .iter()
                .find(|m| links_to(m, &url))
                .unwrap_or_else(|| panic!("{url} not posted"));
            ((*id).to_owned(), m.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_posts_end_with_hashtags_and_open_the_source_with_a_button() {
    let t = spawn_app().await;
    let posts = three_posts(&t).await;
    let want = [
        ("1652352665", "#Durg #DEPC"),
        ("1661518844", "#Kanker #ExportWorkshop"),
        ("1663170129", "#Bilaspur #ExportWorkshop"),
    ];
    for ((id, m), (want_id, tags)) in posts.iter().zip(want) {
        assert_eq!(id, want_id);
        let body = text(m);
        assert!(body.ends_with(&format!("\n\n{tags}")), "{body}");
        assert!(
            !body.contains("<a "),
            "the link line gave way to the button: {body}"
        );
        assert!(niryat::core::render::telegram_len(body).unwrap() <= 4096);
        assert_eq!(
            m["reply_markup"],
            json!({"inline_keyboard": [[{"text": "पूरी खबर पढ़ें", "url": dpr_url(&t, id)}]]}),
        );
        // "off" by default: no preview; and a sound (no quiet hours configured).
        assert_eq!(m["link_preview_options"], json!({"is_disabled": true}));
        assert!(m.get("disable_notification").is_none(), "{m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_preview_small_or_large_previews_the_source() {
    for (setting, key) in [
        ("small", "prefer_small_media"),
        ("large", "prefer_large_media"),
    ] {
        let t = spawn_app_with(Options {
            telegram: format!("link_preview = \"{setting}\""),
            ..Options::default()
        })
        .await;
        for (id, m) in three_posts(&t).await {
            let mut want = json!({"url": dpr_url(&t, &id)});
            want[key] = json!(true);
            assert_eq!(m["link_preview_options"], want, "{setting}");
        }
    }
}

/// A quiet-hours window (in Asia/Kolkata, the test config's zone) that contains now, or one that
/// does not, with hours of margin either way.
fn window(containing_now: bool) -> String {
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Kolkata).hour();
    let (start, end) = if containing_now {
        ((now + 22) % 24, (now + 2) % 24)
    } else {
        ((now + 3) % 24, (now + 6) % 24)
    };
    format!("{start:02}:00-{end:02}:00")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_in_quiet_hours_go_out_without_a_sound() {
    let quiet = window(true);
    let mut t = spawn_app_with(Options {
        telegram: format!("quiet_hours = \"{quiet}\""),
        ..Options::default()
    })
    .await;
    for (_, m) in three_posts(&t).await {
        assert_eq!(m["disable_notification"], json!(true), "{m}");
    }
    // Outside the window, the next post rings.
    t.edit_config(|c| c.replace(&quiet, &window(false)));
    t.restart();
    serve_dpr(&t.site, 3);
    let r = t.run_once().await;
    assert_eq!(r.delivery.sent, 1, "{r:?}");
    let last = t.sent_messages().await.pop().unwrap();
    assert!(last.get("disable_notification").is_none(), "{last}");
    assert!(
        text(&last).ends_with("#KhairagarhChhuikhadanGandai #DEPC"),
        "{}",
        text(&last)
    );
}
