//! Polite fetching: robots.txt, the per-host delay, conditional GET, Retry-After.

use std::time::{Duration, Instant};

use crate::helpers::*;

fn listing_requests(reqs: &[wiremock::Request]) -> Vec<&wiremock::Request> {
    reqs.iter()
        .filter(|r| r.url.path() == "/news/district-news")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_is_honoured_and_a_source_can_override_it() {
    let t = spawn_app_with(Options {
        extra_sources: html_source("overrides-robots", "{site}/private/news")
            .key("respect_robots_txt", false)
            .to_string(),
        ..Options::default()
    })
    .await;
    t.site.set(
        "/robots.txt",
        Page::Raw(
            wiremock::ResponseTemplate::new(200)
                .set_body_string("User-agent: *\nDisallow: /news/\nDisallow: /private/\n"),
        ),
    );
    serve_dpr(&t.site, 1);
    t.site.set(
        "/private/news",
        Page::Html(fixture("sites/dpr/listing-1.html")),
    );
    let report = t.run_once().await;
    let dpr = report
        .sources
        .iter()
        .find(|s| s.id == "dpr-district-news")
        .unwrap();
    let err = dpr.error.as_deref().unwrap();
    assert!(
        err.contains("robots.txt") && err.contains("/news/district-news"),
        "{err}"
    );
    let reqs = t.site_server.received_requests().await.unwrap();
    assert!(
        listing_requests(&reqs).is_empty(),
        "a disallowed page was fetched"
    );
    // The source that opted out was fetched.
    let other = report
        .sources
        .iter()
        .find(|s| s.id == "overrides-robots")
        .unwrap();
    assert_eq!(other.error, None);
    assert_eq!(other.baseline, 4);
    // robots.txt itself is fetched once per host and cached.
    let robots = reqs
        .iter()
        .filter(|r| r.url.path() == "/robots.txt")
        .count();
    assert_eq!(robots, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_one_host_are_spaced_by_min_delay() {
    let t = spawn_app().await;
    let cfg = std::fs::read_to_string(&t.config_path)
        .unwrap()
        .replace("min_delay = \"0s\"", "min_delay = \"250ms\"");
    std::fs::write(&t.config_path, cfg).unwrap();
    let mut t = t;
    t.restart();
    t.baseline_then_new_reports().await;
    let started = Instant::now();
    t.run_once().await;
    // The listing and five articles on one host: at least five gaps of 250 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(5 * 250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_listing_is_not_downloaded_again() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.site.set(
        "/news/district-news",
        Page::Cached("\"v1\"".into(), fixture("sites/dpr/listing-1.html")),
    );
    t.run_once().await;
    let second = t.run_once().await;
    assert!(second.sources[0].not_modified, "{second:?}");
    assert_eq!(second.sources[0].error, None);
    let reqs = t.site_server.received_requests().await.unwrap();
    let listing = listing_requests(&reqs);
    assert_eq!(listing.len(), 2);
    assert_eq!(
        listing[1]
            .headers
            .get("if-none-match")
            .unwrap()
            .to_str()
            .unwrap(),
        "\"v1\""
    );
    // A changed listing (new ETag) is read and its new items are posted.
    serve_dpr(&t.site, 2);
    t.site.set(
        "/news/district-news",
        Page::Cached("\"v2\"".into(), fixture("sites/dpr/listing-2.html")),
    );
    let third = t.run_once().await;
    assert_eq!(third.delivery.sent, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_with_last_modified_is_asked_with_if_modified_since() {
    const DATE: &str = "Wed, 02 Dec 2026 10:00:00 GMT";
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.site.set(
        "/news/district-news",
        Page::LastModified(DATE.into(), fixture("sites/dpr/listing-1.html")),
    );
    t.run_once().await;
    let second = t.run_once().await;
    assert!(second.sources[0].not_modified, "{second:?}");
    let reqs = t.site_server.received_requests().await.unwrap();
    let listing = listing_requests(&reqs);
    assert_eq!(listing.len(), 2);
    assert!(listing[0].headers.get("if-modified-since").is_none());
    assert_eq!(
        listing[1].headers.get("if-modified-since").unwrap(),
        DATE,
        "the stored Last-Modified goes back as If-Modified-Since"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_are_kept_only_after_a_pass_that_handled_every_new_item() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.site.set(
        "/news/district-news",
        Page::Cached("\"v1\"".into(), fixture("sites/dpr/listing-1.html")),
    );
    t.run_once().await;
    // The listing changes, but every new article fails this pass.
    t.site.set(
        "/news/district-news",
        Page::Cached("\"v2\"".into(), fixture("sites/dpr/listing-2.html")),
    );
    for a in articles("dpr") {
        t.site.set(a["path"].as_str().unwrap(), Page::Status(500));
    }
    let failing = t.run_once().await;
    assert_eq!(failing.sources[0].item_errors, 5, "{failing:?}");
    assert_eq!(failing.delivery.sent, 0);
    // Had "v2" been stored, the next pass would get 304 and never fetch the three again.
    serve_dpr(&t.site, 2);
    t.site.set(
        "/news/district-news",
        Page::Cached("\"v2\"".into(), fixture("sites/dpr/listing-2.html")),
    );
    let next = t.run_once().await;
    assert!(!next.sources[0].not_modified, "{next:?}");
    assert_eq!(next.delivery.sent, 3, "{next:?}");
    // Now the pass was complete: its validators are used.
    let after = t.run_once().await;
    assert!(after.sources[0].not_modified, "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_from_the_site_is_honoured() {
    let t = spawn_app().await;
    t.site.set(
        "/news/district-news",
        Page::Raw(wiremock::ResponseTemplate::new(503).insert_header("retry-after", "7200")),
    );
    let report = t.run_once().await;
    assert!(
        report.sources[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Retry-After 7200")
    );
    let until = t
        .store()
        .source_backing_off("dpr-district-news", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(
        until > chrono::Utc::now() + chrono::Duration::minutes(119),
        "{until}"
    );
}
