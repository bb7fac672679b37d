//! Reading real-world sources: legacy encodings, pagination, backfill, proxies.

use crate::helpers::*;

fn listing(paths: &[&str]) -> Vec<u8> {
    let items: String = paths
        .iter()
        .map(|p| format!(r#"<li class="news"><a href="{p}">x</a></li>"#))
        .collect();
    format!("<html><body><ul>{items}</ul></body></html>").into_bytes()
}

/// A legacy district portal: `li.news` items.
fn legacy_source(id: &str, url: &str) -> SourceToml {
    html_source(id, url)
        .list("item", "li.news")
        .list("link", "a")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mislabelled_charsets_and_kruti_dev_pages_are_read_as_hindi() {
    let t = spawn_app_with(Options {
        extra_sources: legacy_source("legacy-portal", "{site}/legacy/news")
            .key("backfill", 10)
            .to_string(),
        ..Options::default()
    })
    .await;
    let pages = articles("legacy");
    let mut paths = Vec::new();
    for a in &pages {
        let p = a["path"].as_str().unwrap();
        // Served exactly as the manifest says: text/html with no charset in the header.
        t.site.set(
            p,
            Page::Raw(
                wiremock::ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html")
                    .set_body_bytes(fixture(a["file"].as_str().unwrap())),
            ),
        );
        paths.push(p);
    }
    t.site.set("/legacy/news", Page::Html(listing(&paths)));
    let report = t.run_once().await;
    let legacy = report
        .sources
        .iter()
        .find(|s| s.id == "legacy-portal")
        .unwrap();
    assert_eq!(legacy.error, None);
    assert_eq!(legacy.fetched, 2);
    assert_eq!(legacy.relevant, 2, "{report:?}");
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert!(!p.text.contains("à¤"), "mojibake: {}", p.text);
    }
    let kruti = posts
        .iter()
        .find(|p| p.url.ends_with("khairagarh-depc.html"))
        .unwrap();
    assert!(
        kruti.text.contains("निर्यात"),
        "converted to Unicode: {}",
        kruti.text
    );
    assert!(!kruti.text.contains("fu;kZr"), "{}", kruti.text);
    let db = rusqlite::Connection::open(t.dir.path().join("niryat.sqlite3")).unwrap();
    let reasons: String = db
        .query_row(
            "SELECT reasons FROM articles WHERE url LIKE '%khairagarh-depc.html'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(reasons.contains("Kruti Dev"), "flagged: {reasons}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paginated_listing_is_followed_up_to_max_pages() {
    let t = spawn_app_with(Options {
        extra_sources: legacy_source("paged", "{site}/paged/news")
            .list("next", "a.next")
            .list_key("max_pages", 2)
            .to_string(),
        ..Options::default()
    })
    .await;
    let page = |items: &[&str], next: Option<&str>| {
        let mut html = String::from_utf8(listing(items)).unwrap();
        if let Some(n) = next {
            html = html.replace(
                "</ul>",
                &format!(r#"</ul><a class="next" href="{n}">अगला</a>"#),
            );
        }
        Page::Html(html.into_bytes())
    };
    t.site.set(
        "/paged/news",
        page(&["/a/1", "/a/2"], Some("/paged/news?page=2")),
    );
    t.site.set(
        "/paged/news?page=2",
        page(&["/a/3"], Some("/paged/news?page=3")),
    );
    t.site.set("/paged/news?page=3", page(&["/a/4"], None));
    let report = t.run_once().await;
    let paged = report.sources.iter().find(|s| s.id == "paged").unwrap();
    assert_eq!(paged.listed, 3, "two pages read, the third not: {paged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_walks_dated_listings_back_and_posts_only_when_asked() {
    let t = spawn_app_with(Options {
        extra_sources: html_source("dated", "{site}/date-wise-news/{date:%Y-%m-%d}")
            .key("days", 1)
            .dpr_article()
            .without_article_date()
            .to_string(),
        ..Options::default()
    })
    .await;
    serve_dpr(&t.site, 1);
    // A second before midnight in Raipur (18:29:59 UTC): "today" is the app's, from its clock.
    let mut t = t;
    let clock = Clock::Fixed(LAST_SECOND_OF_A_DAY_IST.parse().unwrap());
    std::sync::Arc::get_mut(t.app.as_mut().unwrap())
        .expect("the test owns the app")
        .engine
        .clock = clock;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    let day = |n: i64| today - chrono::Duration::days(n);
    // Three days back: listing 2 (5 new + 4 old items) three days ago, listing 1 on the other days.
    t.site.set(
        &format!("/date-wise-news/{}", day(0)),
        Page::Html(fixture("sites/dpr/listing-1.html")),
    );
    t.site.set(
        &format!("/date-wise-news/{}", day(1)),
        Page::Html(fixture("sites/dpr/listing-1.html")),
    );
    t.site.set(
        &format!("/date-wise-news/{}", day(2)),
        Page::Html(fixture("sites/dpr/listing-1.html")),
    );
    t.site.set(
        &format!("/date-wise-news/{}", day(3)),
        Page::Html(fixture("sites/dpr/listing-2.html")),
    );

    let recorded = t.app().backfill("dated", day(3), false).await;
    assert_eq!(recorded.error, None);
    assert_eq!(
        recorded.fetched, 9,
        "every article of the four days: {recorded:?}"
    );
    assert_eq!(recorded.relevant, 5);
    assert_eq!(
        t.store().count("posts").await.unwrap(),
        0,
        "recorded, not posted"
    );

    // Again with --post: everything is already recorded, so nothing new is posted twice.
    let again = t.app().backfill("dated", day(3), true).await;
    assert_eq!(again.fetched, 0);

    // A fresh database with --post queues the relevant ones; delivery posts them oldest first.
    t.app = None;
    for f in ["niryat.sqlite3", "niryat.sqlite3-wal", "niryat.sqlite3-shm"] {
        std::fs::remove_file(t.dir.path().join(f)).ok();
    }
    t.restart();
    std::sync::Arc::get_mut(t.app.as_mut().unwrap())
        .expect("the test owns the app")
        .engine
        .clock = clock;
    let posted = t.app().backfill("dated", day(3), true).await;
    assert_eq!(posted.relevant, 5);
    let d = t.app().deliver().await;
    assert_eq!(d.sent, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_can_fetch_through_its_own_proxy() {
    // The fake site doubles as an HTTP proxy: a request for an unreachable host reaches it in
    // absolute form, so the listing is served only if the proxy is really used.
    let t = spawn_app_with(Options {
        extra_sources: html_source("via-proxy", "http://district.invalid/news/district-news")
            .text("proxy", "{site}")
            .key("respect_robots_txt", false)
            .to_string(),
        ..Options::default()
    })
    .await;
    serve_dpr(&t.site, 1);
    let report = t.run_once().await;
    let proxied = report.sources.iter().find(|s| s.id == "via-proxy").unwrap();
    assert_eq!(proxied.error, None, "{proxied:?}");
    assert_eq!(proxied.baseline, 4);
}
