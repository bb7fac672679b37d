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

/// A news site on a bare TCP listener that holds the request for `/a/1` (the oldest new article)
/// open until every other article of the pass has been asked for and answered, and counts the article requests in
/// flight at once. Every response closes its connection.
struct GatedSite {
    url: String,
    /// The article paths in the order the site was asked for them.
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The most article requests in flight at once.
    peak: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl GatedSite {
    /// Serve `pages` (path → HTML); `/a/…` paths are articles, and `/a/1` waits until the other
    /// `articles - 1` have been answered.
    async fn start(pages: std::collections::HashMap<String, String>, articles: usize) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let in_flight = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (answered_tx, answered_rx) = tokio::sync::watch::channel(0usize);
        let pages = std::sync::Arc::new(pages);
        let (a, p) = (asked.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (asked, peak, in_flight, pages) =
                    (a.clone(), p.clone(), in_flight.clone(), pages.clone());
                let (answered_tx, mut answered_rx) = (answered_tx.clone(), answered_rx.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&head).into_owned();
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    let article = path.starts_with("/a/");
                    if article {
                        let now = in_flight.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        asked.lock().unwrap().push(path.clone());
                        if path == "/a/1" {
                            // Held until the others are through: without concurrency this
                            // request never completes, and the test times out.
                            let _ = answered_rx.wait_for(|n| *n + 1 >= articles).await;
                        }
                    }
                    let (status, body) = match pages.get(&path) {
                        Some(b) => ("200 OK", b.clone()),
                        None => ("404 Not Found", "not found".to_owned()),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                    if article {
                        in_flight.fetch_sub(1, SeqCst);
                        answered_tx.send_modify(|n| *n += 1);
                    }
                });
            }
        });
        Self { url, asked, peak }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_items_are_fetched_at_once_up_to_the_host_limit_and_recorded_in_listing_order() {
    const ARTICLES: usize = 4;
    const PER_HOST: usize = 3;
    let reports = distinct_positives();
    // Newest first, as a listing shows them; the baseline item is the oldest.
    let rows: Vec<(String, String)> = (0..=ARTICLES)
        .rev()
        .map(|k| (format!("/a/{k}"), reports[k].0.clone()))
        .collect();
    let mut pages: std::collections::HashMap<String, String> = rows
        .iter()
        .zip((0..=ARTICLES).rev())
        .map(|((path, title), k)| {
            let body = &reports[k].1;
            (path.clone(), article_html(title, body, Some("2022-05-12")))
        })
        .collect();
    pages.insert("/news".into(), listing_html(&rows[ARTICLES..]));
    pages.insert("/news-2".into(), listing_html(&rows));
    let site = GatedSite::start(pages, ARTICLES).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("niryat.toml");
    let toml = config_toml(&site.url, "http://127.0.0.1:9", dir.path(), 0, "")
        .replace(
            "per_host_concurrency = 1",
            &format!("per_host_concurrency = {PER_HOST}"),
        )
        .replace("/news/district-news", "/news");
    std::fs::write(&config, &toml).unwrap();
    let (_trigger, stop) = niryat::shutdown::channel();
    let app = niryat::app::App::build(
        niryat::config::Settings::load(&config).unwrap(),
        None,
        stop.clone(),
    )
    .unwrap();
    assert_eq!(app.run_once().await.sources[0].baseline, 1);
    drop(app);
    std::fs::write(&config, toml.replace("/news\"", "/news-2\"")).unwrap();
    let app = niryat::app::App::build(niryat::config::Settings::load(&config).unwrap(), None, stop)
        .unwrap();
    let pass = tokio::time::timeout(Duration::from_secs(60), app.run_once())
        .await
        .expect("the held first article was released only if the others were fetched meanwhile");
    let src = &pass.sources[0];
    assert_eq!(
        (src.error.as_deref(), src.fetched),
        (None, ARTICLES),
        "{src:?}"
    );
    let peak = site.peak.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (2..=PER_HOST).contains(&peak),
        "{peak} article requests at once; the host allows {PER_HOST}"
    );
    // The oldest article was answered last, yet the articles are stored (and their posts
    // queued) oldest first, as the listing orders them.
    let db = rusqlite::Connection::open(dir.path().join("niryat.sqlite3")).unwrap();
    let column = |sql: &str| -> Vec<rusqlite::types::Value> {
        let mut stmt = db.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let stored = column("SELECT url FROM articles ORDER BY id");
    let oldest_first: Vec<rusqlite::types::Value> = (1..=ARTICLES)
        .map(|k| rusqlite::types::Value::Text(format!("{}/a/{k}", site.url)))
        .collect();
    assert_eq!(stored, oldest_first);
    let posts = column("SELECT article_id FROM posts ORDER BY id");
    let sorted = column("SELECT article_id FROM posts ORDER BY article_id");
    assert_eq!(posts, sorted, "posts queued in article order");
    assert_eq!(site.asked.lock().unwrap().len(), ARTICLES);
}
