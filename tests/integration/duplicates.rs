//! One press note republished by several sites is one report: posted once, and the first
//! message gains an "also at" link by an edit.

use crate::helpers::*;

/// A WordPress-style listing (theme "gp") linking the given article paths.
fn wp_listing(paths: &[&str]) -> Vec<u8> {
    let items: String = paths
        .iter()
        .map(|p| format!(r#"<article class="post"><h2 class="entry-title"><a href="{p}">x</a></h2></article>"#))
        .collect();
    format!("<html><body><main id=\"main\">{items}</main></body></html>").into_bytes()
}

/// A WordPress theme's category page, read as an html listing.
fn wp_portal() -> SourceToml {
    html_source("wp-portal", "{site}/category/chhattisgarh/")
        .list("item", "article")
        .list("link", ".entry-title a")
}

fn wp_source() -> String {
    wp_portal().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_note_is_posted_once_and_the_post_gains_an_also_at_link() {
    let t = spawn_app_with(Options {
        extra_sources: wp_source(),
        ..Options::default()
    })
    .await;
    for a in articles("wp-gp") {
        t.site.set(
            a["path"].as_str().unwrap(),
            Page::Html(fixture(a["file"].as_str().unwrap())),
        );
    }
    serve_dpr(&t.site, 1);
    t.site.set(
        "/category/chhattisgarh/",
        Page::Html(wp_listing(&["/2020/10/96412"])),
    );
    t.run_once().await; // baselines

    serve_dpr(&t.site, 2);
    let first = t.run_once().await;
    assert_eq!(first.delivery.sent, 3, "{first:?}");

    // The portal republishes the Durg (seed) and Kanker notes with other headlines, plus a negative.
    t.site.set(
        "/category/chhattisgarh/",
        Page::Html(wp_listing(&[
            "/2023/12/261554",
            "/2022/08/198733",
            "/2022/05/183095",
            "/2020/10/96412",
        ])),
    );
    let second = t.run_once().await;
    let wp = second.sources.iter().find(|s| s.id == "wp-portal").unwrap();
    assert_eq!(wp.error, None);
    assert_eq!(wp.fetched, 3, "{wp:?}");
    assert_eq!(
        second.delivery.sent, 0,
        "copies are not posted again: {second:?}"
    );
    assert_eq!(second.delivery.edited, 2, "{second:?}");

    let reqs = t.tg_server.received_requests().await.unwrap();
    let edits: Vec<serde_json::Value> = reqs
        .iter()
        .filter(|r| {
            r.url
                .path()
                .to_ascii_lowercase()
                .ends_with("/editmessagetext")
        })
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(edits.len(), 2);
    let seed_copy = t.site_url("/2022/05/183095");
    let durg_edit = edits
        .iter()
        .find(|e| links_to(e, &seed_copy))
        .expect("the Durg post gains a button to the republished copy");
    assert_eq!(
        durg_edit["reply_markup"]["inline_keyboard"][1][0]["text"], "यहाँ भी: 127.0.0.1",
        "the copy's button is named by its host"
    );
    assert_eq!(durg_edit["parse_mode"], "HTML");
    assert_eq!(
        durg_edit["message_id"], 1,
        "the first message (Durg) is edited"
    );
    assert!(niryat::core::render::telegram_len(durg_edit["text"].as_str().unwrap()).is_ok());
    // Articles are all stored; the copies point at their first report.
    assert_eq!(t.store().count("posts").await.unwrap(), 3);
    // A rerun edits nothing more.
    let third = t.run_once().await;
    assert_eq!((third.delivery.sent, third.delivery.edited), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_found_before_the_first_post_is_sent_is_folded_into_it() {
    let t = spawn_app_with(Options {
        extra_sources: wp_portal().key("backfill", 1).to_string(),
        backfill: 9,
        ..Options::default()
    })
    .await;
    for a in articles("wp-gp") {
        t.site.set(
            a["path"].as_str().unwrap(),
            Page::Html(fixture(a["file"].as_str().unwrap())),
        );
    }
    serve_dpr(&t.site, 2);
    t.site.set(
        "/category/chhattisgarh/",
        Page::Html(wp_listing(&["/2022/05/183095"])),
    );
    // Telegram refuses everything on this pass, so the posts are still pending when the copy arrives.
    t.telegram.push(tg_error(
        403,
        "Forbidden: bot was kicked from the channel chat",
        None,
    ));
    let first = t.run_once().await;
    assert!(first.delivery.blocked);
    let second = t.run_once().await;
    assert_eq!(second.delivery.edited, 0);
    // Sources run concurrently, so either copy may be the first; the one post carries both links.
    let sent = t.sent_messages().await;
    let seed_copy = t.site_url("/2022/05/183095");
    let dpr_durg = t.site_url(dpr_article("1652352665")["path"].as_str().unwrap());
    let accepted = &sent[1..]; // the first request was refused
    let durg: Vec<_> = accepted
        .iter()
        .filter(|m| links_to(m, &seed_copy) || links_to(m, &dpr_durg))
        .collect();
    assert_eq!(durg.len(), 1, "the Durg note is posted once: {durg:#?}");
    assert!(
        links_to(durg[0], &seed_copy) && links_to(durg[0], &dpr_durg),
        "{}",
        durg[0]
    );
    assert_eq!(accepted.len(), 5, "the five DPR positives, Durg once");
}
