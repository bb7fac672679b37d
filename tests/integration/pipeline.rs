//! The pipeline end to end against the fake DPR site and the fake Bot API.

use crate::helpers::*;

const DURG: &str = "1652352665"; // the seed article, new in listing 2
const KANKER: &str = "1661518844";
const BILASPUR: &str = "1663170129";
const MUNGELI_SAMAY_SEEMA: &str = "1686057927"; // hard negative, export-heavy sidebar
const RICE_MANDI_FEE: &str = "1726758673"; // hard negative, export-heavy sidebar
const KCG: &str = "1732197410"; // new in listing 3

fn text(m: &serde_json::Value) -> &str {
    m["text"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_pass_records_the_listing_and_posts_nothing() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    let report = t.run_once().await;
    let src = &report.sources[0];
    assert_eq!(src.error, None);
    assert_eq!((src.listed, src.baseline, src.fetched), (4, 4, 0));
    assert!(t.sent_messages().await.is_empty());
    assert_eq!(t.store().count("seen").await.unwrap(), 4);
    assert_eq!(t.store().count("posts").await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_positive_reports_are_posted_once_and_negatives_never() {
    let mut t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.run_once().await;

    serve_dpr(&t.site, 2);
    let report = t.run_once().await;
    assert_eq!(report.sources[0].fetched, 5, "{report:?}");
    assert_eq!(report.sources[0].relevant, 3, "{report:?}");
    assert_eq!(report.delivery.sent, 3);

    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    // Oldest first: Durg (seed), Kanker, Bilaspur.
    for (m, id) in sent.iter().zip([DURG, KANKER, BILASPUR]) {
        let page = dpr_article(id);
        let url = t.site_url(page["path"].as_str().unwrap());
        assert_eq!(m["chat_id"], CHANNEL);
        assert_eq!(m["parse_mode"], "HTML");
        let title = niryat::core::render::escape_html(page["title"].as_str().unwrap());
        assert!(
            text(m).contains(&format!("<b>{title}</b>")),
            "title in bold: {}",
            text(m)
        );
        assert!(links_to(m, &url), "a button to {url}: {m}");
        assert!(niryat::core::render::telegram_len(text(m)).unwrap() <= 4096);
    }
    assert!(
        text(&sent[0]).contains("दुर्ग"),
        "district: {}",
        text(&sent[0])
    );
    assert!(
        text(&sent[1]).contains("कांकेर"),
        "district: {}",
        text(&sent[1])
    );
    assert!(
        text(&sent[2]).contains("बिलासपुर"),
        "district: {}",
        text(&sent[2])
    );
    // Nothing from the negatives' pages, whose sidebars are full of export headlines.
    for neg in [MUNGELI_SAMAY_SEEMA, RICE_MANDI_FEE] {
        let title = dpr_article(neg)["title"].as_str().unwrap().to_owned();
        assert!(
            sent.iter().all(|m| !text(m).contains(&title)),
            "negative {neg} posted"
        );
    }
    // Every article is stored with its verdict; only the three positives have posts, all sent.
    assert_eq!(t.store().count("articles").await.unwrap(), 5);
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3);
    assert!(
        posts
            .iter()
            .all(|p| p.status == "sent" && p.message_id.is_some())
    );

    // A rerun and a restart post nothing again.
    let again = t.run_once().await;
    assert_eq!((again.sources[0].fetched, again.delivery.sent), (0, 0));
    t.restart();
    let after_restart = t.run_once().await;
    assert_eq!(after_restart.delivery.sent, 0);
    assert_eq!(t.sent_messages().await.len(), 3);

    // A later listing with one more report posts exactly that one.
    serve_dpr(&t.site, 3);
    t.run_once().await;
    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 4);
    assert!(text(&sent[3]).contains("खैरागढ़"), "{}", text(&sent[3]));
    let _ = KCG;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_posts_that_many_of_the_items_already_listed() {
    let t = spawn_app_with(Options {
        backfill: 5,
        ..Options::default()
    })
    .await;
    serve_dpr(&t.site, 2);
    let report = t.run_once().await;
    // The 5 newest items are fetched (3 of them positive); the other 4 are the baseline.
    assert_eq!(report.sources[0].baseline, 4);
    assert_eq!(report.sources[0].fetched, 5);
    assert_eq!(t.sent_messages().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_answering_500_does_not_stop_the_others() {
    let t = spawn_app_with(Options {
        extra_sources: html_source("broken-portal", "{site}/news")
            .list("item", "article")
            .list("link", "a")
            .to_string(),
        ..Options::default()
    })
    .await;
    t.site.set("/news", Page::Status(500));
    serve_dpr(&t.site, 1);
    let first = t.run_once().await;
    let broken = first
        .sources
        .iter()
        .find(|s| s.id == "broken-portal")
        .unwrap();
    let err = broken.error.as_deref().unwrap();
    assert!(
        err.contains("broken-portal") && err.contains("/news") && err.contains("500"),
        "{err}"
    );
    serve_dpr(&t.site, 2);
    let report = t.run_once().await;
    // The broken source backs off; the healthy one carries on and posts.
    let broken = report
        .sources
        .iter()
        .find(|s| s.id == "broken-portal")
        .unwrap();
    assert!(broken.skipped, "{broken:?}");
    let dpr = report
        .sources
        .iter()
        .find(|s| s.id == "dpr-district-news")
        .unwrap();
    assert_eq!(dpr.error, None);
    assert_eq!(report.delivery.sent, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_selectors_match_nothing_is_a_failure_naming_the_source() {
    let t = spawn_app().await;
    t.site.set(
        "/news/district-news",
        Page::Html(
            b"<html><body><div class=\"redesigned\">new layout</div></body></html>".to_vec(),
        ),
    );
    let report = t.run_once().await;
    let err = report.sources[0].error.as_deref().unwrap();
    assert!(
        err.contains("dpr-district-news") && err.contains("layout changed"),
        "{err}"
    );
    // It does not count as the first pass: no baseline is taken from a broken listing.
    assert!(
        !t.store()
            .source_initialized("dpr-district-news")
            .await
            .unwrap()
    );
    assert_eq!(t.store().count("seen").await.unwrap(), 0);
    // The failing source backs off: the next pass does not hammer it.
    serve_dpr(&t.site, 1);
    let next = t.run_once().await;
    assert!(next.sources[0].skipped, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_that_fails_to_load_is_retried_on_the_next_pass() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    let durg = dpr_article(DURG);
    t.site
        .set(durg["path"].as_str().unwrap(), Page::Status(503));
    let first = t.run_once().await;
    assert_eq!(first.sources[0].item_errors, 1);
    assert_eq!(first.delivery.sent, 2);
    t.site.set(
        durg["path"].as_str().unwrap(),
        Page::Html(fixture(durg["file"].as_str().unwrap())),
    );
    let second = t.run_once().await;
    assert_eq!(second.sources[0].fetched, 1);
    assert_eq!(second.delivery.sent, 1);
    assert_eq!(t.sent_messages().await.len(), 3);
}
