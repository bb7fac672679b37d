//! The shipped `config/niryat.toml`: every source definition is checked against a fixture that
//! mirrors its site's markup (the sites cannot be reached from CI), with the host swapped for the
//! fake site.

use niryat::app::Engine;
use niryat::config::Settings;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// The bundled config with its real hosts pointed at the fake site and every source enabled.
async fn bundled_engine(t: &TestApp) -> Engine {
    let site = t.site_server.uri();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/niryat.toml"),
    )
    .unwrap()
    .replace("https://dprcg.gov.in", &site)
    .replace("https://www.statenewsservice.in", &site)
    .replace("https://durg.gov.in", &site)
    .replace("enabled = false", "enabled = true")
    .replace(
        "data/niryat.sqlite3",
        t.dir.path().join("b.sqlite3").to_str().unwrap(),
    )
    .replace("min_delay = \"2s\"", "min_delay = \"0s\"");
    let settings = Settings::from_toml(&text, std::path::Path::new("config/niryat.toml")).unwrap();
    Engine::build(settings, niryat::shutdown::Shutdown::never()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dpr_sources_read_the_dpr_markup() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 2);
    // A second before midnight in Raipur: the dated listing is the app's "today", from its clock.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    t.site.set(
        &format!("/news/date-wise-news/{today}"),
        Page::Html(fixture("sites/dpr/listing-1.html")),
    );
    let mut e = bundled_engine(&t).await;
    e.clock = Clock::Fixed(LAST_SECOND_OF_A_DAY_IST.parse().unwrap());
    let src = e.settings.source("dprcg-district-news").unwrap().clone();
    let items = e.entries(&src).await.unwrap();
    assert_eq!(items.len(), 9);
    let durg = items
        .iter()
        .find(|i| i.url.as_str().contains("/post/1652352665/"))
        .unwrap();
    let c = e.read(&src, durg, true).await.unwrap();
    assert!(c.verdict.post(), "{:?}", c.verdict.reasons);
    assert_eq!(c.extraction.as_str(), "selectors");
    assert_eq!(c.verdict.district.map(|d| d.en), Some("Durg"));

    // The dated listing walks back `days` (3) days, newest first.
    for back in 1..3 {
        let d = today - chrono::Duration::days(back);
        t.site.set(
            &format!("/news/date-wise-news/{d}"),
            Page::Html(fixture("sites/dpr/listing-2.html")),
        );
    }
    let dated = e.settings.source("dprcg-date-wise").unwrap().clone();
    let items = e.entries(&dated).await.unwrap();
    assert_eq!(
        items.len(),
        9,
        "listing-1 (today) and listing-2 (earlier days), de-duplicated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wordpress_source_reads_the_rest_api_page_by_page() {
    let t = spawn_app().await;
    let site = t.site_server.uri();
    for (page, file) in [
        ("1", "sites/wp-td/wp-json-posts-page1.json"),
        ("2", "sites/wp-td/wp-json-posts-page2.json"),
    ] {
        // The posts link to the site itself, as on a real portal (the fixture's host is swapped
        // for the fake site's, like the source's own URL).
        let body = String::from_utf8(fixture(file))
            .unwrap()
            .replace("https:\\/\\/cgsandesh.example", &site.replace('/', "\\/"));
        Mock::given(method("GET"))
            .and(path("/wp-json/wp/v2/posts"))
            .and(query_param("page", page))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json; charset=UTF-8")
                    .insert_header("x-wp-totalpages", "2")
                    .set_body_bytes(body.into_bytes()),
            )
            .with_priority(1)
            .mount(&t.site_server)
            .await;
    }
    let e = bundled_engine(&t).await;
    let src = e.settings.source("statenewsservice").unwrap().clone();
    let items = e.entries(&src).await.unwrap();
    assert_eq!(
        items.len(),
        4,
        "two pages, three search terms, de-duplicated"
    );
    assert!(
        items.iter().all(|i| i.body.is_some()),
        "REST content is the body"
    );
    let reqs = t.site_server.received_requests().await.unwrap();
    let searches: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/wp-json/wp/v2/posts")
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    assert!(
        searches
            .iter()
            .any(|q| q.contains("search=%E0%A4%A8%E0%A4%BF%E0%A4%B0")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .all(|q| q.contains("per_page=100") && q.contains("after=")),
        "{searches:?}"
    );
    // Entries carrying their text are classified without fetching the article page.
    let pos = items
        .iter()
        .find(|i| i.url.as_str().contains("exporters-conclave-jagdalpur"))
        .unwrap();
    let before = t.site_server.received_requests().await.unwrap().len();
    let c = e.read(&src, pos, true).await.unwrap();
    assert_eq!(c.extraction.as_str(), "source");
    assert!(c.verdict.post(), "{:?}", c.verdict.reasons);
    assert_eq!(
        t.site_server.received_requests().await.unwrap().len(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_source_uses_full_content_or_fetches_the_page() {
    let t = spawn_app().await;
    t.site.set(
        "/feed/",
        Page::Raw(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/rss+xml; charset=UTF-8")
                .set_body_string(
                    String::from_utf8(fixture("sites/wp-gp/feed.xml"))
                        .unwrap()
                        .replace("https://www.statenewsservice.in", &t.site_server.uri()),
                ),
        ),
    );
    for a in articles("wp-gp") {
        t.site.set(
            a["path"].as_str().unwrap(),
            Page::Html(fixture(a["file"].as_str().unwrap())),
        );
    }
    let e = bundled_engine(&t).await;
    let src = e.settings.source("statenewsservice-feed").unwrap().clone();
    let items = e.entries(&src).await.unwrap();
    assert!(items.len() >= 4, "{items:?}");
    let mut verdicts = Vec::new();
    for i in &items {
        if !i.url.as_str().starts_with(&t.site_server.uri()) {
            continue;
        }
        let c = e.read(&src, i, true).await.unwrap();
        verdicts.push((c.url.clone(), c.extraction, c.verdict.post()));
    }
    assert!(
        verdicts.iter().any(|v| v.1.as_str() == "source"),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().any(|v| v.1.as_str() == "automatic"),
        "{verdicts:?}"
    );
    let seed_copy = verdicts
        .iter()
        .find(|v| v.0.as_str().ends_with("/2022/05/183095"))
        .unwrap();
    assert!(seed_copy.2, "{verdicts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_portal_source_reads_the_s3waas_press_releases() {
    let t = spawn_app().await;
    t.site.set(
        "/press-release/",
        Page::Html(fixture("sites/s3waas/press-release.html")),
    );
    for a in articles("s3waas") {
        t.site.set(
            a["path"].as_str().unwrap(),
            Page::Html(fixture(a["file"].as_str().unwrap())),
        );
    }
    let e = bundled_engine(&t).await;
    let src = e.settings.source("district-durg").unwrap().clone();
    let items = e.entries(&src).await.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    let mut posted = 0;
    for i in &items {
        let c = e.read(&src, i, true).await.unwrap();
        assert_eq!(c.extraction.as_str(), "automatic");
        for chrome in ["Website Designed, Developed and Hosted", "Content Owned by"] {
            assert!(!c.body.contains(chrome), "chrome in the body: {}", c.body);
        }
        posted += usize::from(c.verdict.post());
    }
    assert_eq!(posted, 1, "the DEPC meeting, not the DLCC review");
}
