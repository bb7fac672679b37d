//! Fault injection: one faulty source next to the healthy DPR source, and a misbehaving Bot API.
//!
//! Each site-side case shows that the daemon keeps going, that the healthy source is unaffected,
//! that the failure names the source id and URL and is counted in the `sources` table, and that
//! nothing stored is lost or doubled. The raw TCP server below does what wiremock cannot: drip a
//! body, cut a connection, or send a body with no (or a lying) Content-Length.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::ResponseTemplate;

use crate::helpers::*;

const FAULTY: &str = "faulty-portal";

/// The DPR positives used on the extra sources' own pages (not on the DPR listings' URLs).
const POSITIVES: [&str; 3] = ["1652352665", "1661518844", "1663170129"];

fn faulty_source(id: &str, url: &str) -> SourceToml {
    html_source(id, url)
        .text("timeout", "1s")
        .key("respect_robots_txt", false)
        .dpr_article()
}

/// Read-only view of the daemon's database, beside the live app (WAL allows it).
fn db(t: &TestApp) -> Connection {
    Connection::open_with_flags(
        t.dir.path().join("niryat.sqlite3"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

/// `(consecutive_failures, initialized, last_error)` of a source, if it has a row.
fn source_row(t: &TestApp, id: &str) -> Option<(u32, bool, Option<String>)> {
    db(t)
        .query_row(
            "SELECT consecutive_failures, initialized_at IS NOT NULL, last_error FROM sources WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .unwrap()
}

/// The scenario every site-side fault goes through: two passes with the faulty source failing
/// both times while the DPR source takes its baseline, then posts listing 2's three reports.
async fn faulty_source_is_isolated(url: &str, setup: impl Fn(&Site), expect: &[&str]) {
    let t = spawn_app_with(Options {
        extra_sources: faulty_source(FAULTY, url).to_string(),
        ..Options::default()
    })
    .await;
    setup(&t.site);
    serve_dpr(&t.site, 1);
    let started = Instant::now();
    let first = t.run_once().await;
    serve_dpr(&t.site, 2);
    let second = t.run_once().await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a fault stalled the pass: {:?}",
        started.elapsed()
    );

    // A daemon that backs a failing source off may skip it on the second pass; a skip is not a
    // failure, so count the passes that really ran it.
    let mut ran = 0;
    for (n, report) in [&first, &second].into_iter().enumerate() {
        let good = report.sources.iter().find(|s| s.id == DPR).unwrap();
        assert_eq!(
            good.error, None,
            "the healthy source was disturbed: {good:?}"
        );
        let bad = report.sources.iter().find(|s| s.id == FAULTY).unwrap();
        if n > 0 && bad.skipped {
            assert_eq!(bad.error, None, "{bad:?}");
            continue;
        }
        ran += 1;
        let err = bad
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("pass {n}: no error for the faulty source: {bad:?}"));
        assert!(
            !bad.url.is_empty() && !bad.url.contains("{site}"),
            "{bad:?}"
        );
        assert!(
            err.contains(FAULTY) && err.contains(&bad.url),
            "error must name the source id and URL {}: {err}",
            bad.url
        );
        for e in expect {
            assert!(err.contains(e), "error should say {e:?}: {err}");
        }
        assert_eq!(
            (bad.listed, bad.fetched, bad.baseline),
            (0, 0, 0),
            "{bad:?}"
        );
    }
    let good = first.sources.iter().find(|s| s.id == DPR).unwrap();
    assert_eq!((good.listed, good.baseline), (4, 4));
    let good = second.sources.iter().find(|s| s.id == DPR).unwrap();
    assert_eq!((good.fetched, good.relevant), (5, 3), "{good:?}");
    assert_eq!(second.delivery.sent, 3);

    // The failure is counted, the faulty source's baseline is not taken, the healthy one is clean.
    let (failures, initialized, last_error) = source_row(&t, FAULTY).unwrap();
    assert_eq!(failures, ran);
    assert!(
        !initialized,
        "a failed first pass must not take the baseline"
    );
    assert!(last_error.unwrap().contains(FAULTY));
    assert_eq!(source_row(&t, DPR).unwrap().0, 0);

    // Nothing lost, nothing doubled.
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.status == "sent"), "{posts:#?}");
    let ids: HashSet<_> = posts.iter().map(|p| p.message_id.unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(t.sent_messages().await.len(), 3);
    assert_eq!(t.store().count("articles").await.unwrap(), 5);
    assert_eq!(t.store().count("seen").await.unwrap(), 9);
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 server for what wiremock cannot do.

/// Start a server on loopback; the request path chooses the misbehaviour.
async fn raw_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_raw(stream));
        }
    });
    addr
}

async fn read_request_path(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 65_536 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace().nth(1).map(str::to_owned)
}

async fn serve_raw(mut s: TcpStream) {
    let Some(path) = read_request_path(&mut s).await else {
        return;
    };
    const HTML: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n";
    match path.as_str() {
        // Headers promptly, then one byte a second: only a whole-request deadline stops it.
        "/drip" => {
            let head = format!("{HTML}Content-Length: 100000\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for b in b"<html><body><div class=\"view-content\">".iter().cycle() {
                if s.write_all(&[*b]).await.is_err() || s.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        // The connection is closed without a word.
        "/reset" => drop(s),
        // Headers and half the announced body, then the connection is closed.
        "/cut-body" => {
            let head = format!("{HTML}Content-Length: 50000\r\n\r\n<html><body><div class=\"view-");
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.flush().await;
            drop(s);
        }
        // No Content-Length: the body runs until the connection closes, 6 MB of it.
        "/huge-no-length" => {
            let head = format!("{HTML}Connection: close\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'x'; 64 * 1024];
            for _ in 0..(6 * 1024 * 1024 / block.len()) {
                if s.write_all(&block).await.is_err() {
                    return;
                }
            }
            let _ = s.shutdown().await;
        }
        // A Content-Length of 50 MB in front of a small body.
        "/lying-length" => {
            let head =
                format!("{HTML}Content-Length: 52428800\r\n\r\n<html><body>tiny</body></html>");
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.flush().await;
            // Hold the connection a little so the client sees the headers, not a reset.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        _ => {
            let _ = s
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Site-side faults.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_slower_than_the_source_timeout() {
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| {
            site.set(
                "/faulty/news",
                Page::Delay(Duration::from_secs(3), fixture("sites/dpr/listing-1.html")),
            )
        },
        &["timeout"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_drips_one_byte_a_second() {
    let addr = raw_server().await;
    faulty_source_is_isolated(&format!("http://{addr}/drip"), |_| {}, &["timeout"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_before_any_answer() {
    let addr = raw_server().await;
    faulty_source_is_isolated(&format!("http://{addr}/reset"), |_| {}, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_in_the_middle_of_the_body() {
    let addr = raw_server().await;
    faulty_source_is_isolated(&format!("http://{addr}/cut-body"), |_| {}, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_with_retry_after() {
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| {
            site.set(
                "/faulty/news",
                Page::Raw(ResponseTemplate::new(503).insert_header("retry-after", "120")),
            )
        },
        &["HTTP 503", "Retry-After 120"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_listing() {
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| site.set("/faulty/news", Page::Status(403)),
        &["HTTP 403"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop() {
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| {
            site.set(
                "/faulty/news",
                Page::Raw(ResponseTemplate::new(301).insert_header("location", "/faulty/news")),
            )
        },
        &["redirect"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_six_megabyte_listing_is_refused() {
    // 6 MB > the 5 MiB cap; wiremock sends a Content-Length, so it is refused up front.
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| site.set("/faulty/news", Page::Html(vec![b' '; 6_000_000])),
        &["larger than"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_six_megabyte_body_without_content_length_is_cut_off() {
    let addr = raw_server().await;
    faulty_source_is_isolated(
        &format!("http://{addr}/huge-no-length"),
        |_| {},
        &["larger than"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_announcing_50_megabytes_is_refused() {
    let addr = raw_server().await;
    faulty_source_is_isolated(
        &format!("http://{addr}/lying-length"),
        |_| {},
        &["larger than"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_listing_is_a_layout_change_and_takes_no_baseline() {
    faulty_source_is_isolated(
        "{site}/faulty/news",
        |site| {
            site.set(
                "/faulty/news",
                Page::Html(
                    b"<html><body><main class=\"redesign\"><p>Nothing here</p></main></body></html>"
                        .to_vec(),
                ),
            )
        },
        &["layout changed"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Damaged pages that still carry usable items.

/// Serve the positive DPR articles again under `/{prefix}/post/<id>/report`; returns `(path, title)`.
fn serve_copies(
    site: &Site,
    prefix: &str,
    damage: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Vec<(String, String)> {
    POSITIVES
        .iter()
        .map(|id| {
            let a = dpr_article(id);
            let path = format!("/{prefix}/post/{id}/report");
            site.set(
                &path,
                Page::Html(damage(fixture(a["file"].as_str().unwrap()))),
            );
            (path, a["title"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn with_source(toml: &str) -> Options {
    Options {
        extra_sources: toml.to_owned(),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_cut_in_the_middle_of_an_item_keeps_the_items_before_the_cut() {
    let t = spawn_app_with(with_source(
        &faulty_source("cut-portal", "{site}/cut/news")
            .key("backfill", 10)
            .to_string(),
    ))
    .await;
    serve_dpr(&t.site, 1);
    let rows = serve_copies(&t.site, "cut", |b| b);
    let html = listing_html(&rows);
    // Cut inside the third item's link, in the middle of its href.
    let third = html.find(&rows[2].0).unwrap();
    let cut = &html.as_bytes()[..third + 8];
    t.site.set("/cut/news", Page::Html(cut.to_vec()));

    let report = t.run_once().await;
    let cut_src = report
        .sources
        .iter()
        .find(|s| s.id == "cut-portal")
        .unwrap();
    assert_eq!(cut_src.error, None, "{cut_src:?}");
    assert_eq!(
        cut_src.listed, 2,
        "the two whole items are listed: {cut_src:?}"
    );
    assert_eq!((cut_src.fetched, cut_src.relevant), (2, 2), "{cut_src:?}");
    let dpr = report.sources.iter().find(|s| s.id == DPR).unwrap();
    assert_eq!((dpr.error.as_deref(), dpr.baseline), (None, 4));

    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 2);
    for (path, _) in &rows[..2] {
        let url = t.site_url(path);
        assert_eq!(
            sent.iter().filter(|m| links_to(m, &url)).count(),
            1,
            "{url} posted once"
        );
    }
    // The complete listing later brings the third item, and only it.
    t.site
        .set("/cut/news", Page::Html(listing_html(&rows).into_bytes()));
    let next = t.run_once().await;
    let cut_src = next.sources.iter().find(|s| s.id == "cut-portal").unwrap();
    assert_eq!((cut_src.listed, cut_src.fetched), (3, 1), "{cut_src:?}");
    assert_eq!(t.sent_messages().await.len(), 3);
    assert_eq!(t.store().count("posts").await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_bytes_in_listing_and_articles_do_not_stop_the_source() {
    let t = spawn_app_with(with_source(
        &faulty_source("bad-bytes", "{site}/bytes/news")
            .key("backfill", 10)
            .to_string(),
    ))
    .await;
    serve_dpr(&t.site, 1);
    // Broken bytes in each article's body, just after its opening tag.
    let marker = b"property=\"content:encoded\">";
    let rows = serve_copies(&t.site, "bytes", |mut b| {
        let at = b
            .windows(marker.len())
            .position(|w| w == marker)
            .expect("DPR body marker")
            + marker.len();
        b.splice(at..at, [0xff, 0xfe, 0xc3, 0x28, 0xe0, 0xa4].iter().copied());
        b
    });
    // And in the middle of a listing title (a lone continuation byte and a truncated sequence).
    let mut listing = listing_html(&rows).into_bytes();
    let at = listing
        .windows(rows[0].1.len())
        .position(|w| w == rows[0].1.as_bytes())
        .unwrap()
        + 3;
    listing.splice(at..at, [0x80, 0xe0, 0xa4].iter().copied());
    t.site.set("/bytes/news", Page::Html(listing));

    let report = t.run_once().await;
    let src = report.sources.iter().find(|s| s.id == "bad-bytes").unwrap();
    assert_eq!(src.error, None, "{src:?}");
    assert_eq!(src.item_errors, 0, "{src:?}");
    assert_eq!(
        (src.listed, src.fetched, src.relevant),
        (3, 3, 3),
        "{src:?}"
    );
    let dpr = report.sources.iter().find(|s| s.id == DPR).unwrap();
    assert_eq!(dpr.error, None);

    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 3);
    for (path, title) in &rows {
        let url = t.site_url(path);
        let m = sent
            .iter()
            .find(|m| links_to(m, &url))
            .unwrap_or_else(|| panic!("{url} not posted"));
        let text = m["text"].as_str().unwrap();
        // Still read as UTF-8: the Devanagari title survives, no mojibake.
        let title = niryat::core::render::escape_html(title);
        assert!(text.contains(&title), "{text}");
        assert!(!text.contains("à¤"), "mojibake: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Telegram-side faults.

fn message_texts(sent: &[serde_json::Value]) -> Vec<String> {
    sent.iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Change `[fetch] timeout` (which also bounds each Bot API request) and restart the app.
fn set_request_timeout(t: &mut TestApp, timeout: &str) {
    let cfg = std::fs::read_to_string(&t.config_path)
        .unwrap()
        .replace("timeout = \"5s\"", &format!("timeout = \"{timeout}\""));
    std::fs::write(&t.config_path, cfg).unwrap();
    t.restart();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_429s_is_waited_out_and_each_post_goes_out_once() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    for _ in 0..3 {
        t.telegram.push(tg_error(
            429,
            "Too Many Requests: retry after 1",
            Some(json!({"retry_after": 1})),
        ));
    }
    let started = Instant::now();
    let report = t.run_once().await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(3), "waited only {took:?}");
    assert!(took < Duration::from_secs(15), "waited too long: {took:?}");
    assert_eq!((report.delivery.sent, report.delivery.failed), (3, 0));

    let texts = message_texts(&t.sent_messages().await);
    assert_eq!(
        texts.len(),
        6,
        "three refused tries of the first post + three accepted"
    );
    assert!(
        texts[..4].iter().all(|x| *x == texts[0]),
        "the first post is retried in place"
    );
    let distinct: HashSet<_> = texts.iter().collect();
    assert_eq!(distinct.len(), 3);
    // Accepted exactly once each: the three refused tries all precede the first acceptance.
    assert_eq!(texts[4..].iter().filter(|x| **x == texts[0]).count(), 0);

    let posts = t.store().posts().await.unwrap();
    assert!(
        posts.iter().all(|p| p.status == "sent" && p.attempts == 1),
        "{posts:#?}"
    );
    let ids: HashSet<_> = posts.iter().map(|p| p.message_id.unwrap()).collect();
    assert_eq!(ids.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_telegram_cannot_parse_is_resent_as_plain_text_with_the_link() {
    let t = spawn_app().await;
    t.baseline_then_new_reports().await;
    t.telegram.push(tg_error(
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        None,
    ));
    let report = t.run_once().await;
    assert_eq!((report.delivery.sent, report.delivery.failed), (3, 0));

    let sent = t.sent_messages().await;
    assert_eq!(sent.len(), 4, "{sent:#?}");
    assert_eq!(sent[0]["parse_mode"], "HTML");
    assert!(
        sent[1].get("parse_mode").is_none_or(|v| v.is_null()),
        "the retry must not ask for HTML: {}",
        sent[1]
    );
    let html = sent[0]["text"].as_str().unwrap();
    let plain = sent[1]["text"].as_str().unwrap();
    assert!(
        !plain.contains("<b>") && !plain.contains("href="),
        "{plain}"
    );
    // The plain text keeps the words and, above all, the link to the report (a button in the
    // HTML form).
    assert!(!html.contains("href="), "{html}");
    let url = button_urls(&sent[0]).remove(0);
    assert!(links_to(&sent[1], &url), "the retry keeps the button");
    let url = url.as_str();
    assert!(
        plain.contains(url),
        "the article link is lost in the plain text:\n{plain}"
    );
    assert!(plain.contains("निर्यात"), "{plain}");
    // The next posts go out as HTML again.
    assert_eq!(sent[2]["parse_mode"], "HTML");
    assert_eq!(sent[3]["parse_mode"], "HTML");

    let posts = t.store().posts().await.unwrap();
    assert!(posts.iter().all(|p| p.status == "sent"), "{posts:#?}");
    assert_eq!(posts[0].text, html, "the stored post keeps its HTML");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_server_error_marks_the_post_failed_for_later_and_loses_nothing() {
    // The only Telegram 5xx test: teloxide sleeps 10 s after any 5xx before reading it, so the
    // request timeout must be well beyond that (a loaded machine adds seconds) for the 502
    // itself to be seen rather than a timeout.
    let mut t = spawn_app().await;
    set_request_timeout(&mut t, "60s");
    t.baseline_then_new_reports().await;
    t.telegram.push(tg_error(502, "Bad Gateway", None));
    let before = chrono::Utc::now();
    let report = t.run_once().await;
    assert_eq!(
        (report.delivery.sent, report.delivery.failed),
        (2, 1),
        "{report:?}"
    );

    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3, "nothing lost");
    let failed = &posts[0];
    assert_eq!(
        (failed.status.as_str(), failed.attempts),
        ("failed", 1),
        "{failed:?}"
    );
    assert!(failed.message_id.is_none());
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("Bad Gateway"),
        "{failed:?}"
    );
    assert!(posts[1..].iter().all(|p| p.status == "sent"));
    let next: String = db(&t)
        .query_row(
            "SELECT next_attempt_at FROM posts WHERE id = ?1",
            [failed.id],
            |r| r.get(0),
        )
        .unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    assert!(
        next > before + chrono::Duration::seconds(45),
        "next attempt should be about a minute later: {next}"
    );
    // Not due yet: a pass right away does not resend it.
    let again = t.run_once().await;
    assert_eq!((again.delivery.sent, again.delivery.failed), (0, 0));
    assert_eq!(t.sent_messages().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_that_never_answers_times_out_and_the_post_is_kept() {
    let mut t = spawn_app().await;
    // A shorter request timeout than the suite's 5 s, to keep the test short.
    set_request_timeout(&mut t, "2s");
    t.baseline_then_new_reports().await;
    // The first sendMessage hangs far longer than any timeout.
    t.telegram.push(
        ResponseTemplate::new(200)
            .set_body_json(json!({"ok": true, "result": {}}))
            .set_delay(Duration::from_secs(120)),
    );
    let report = tokio::time::timeout(Duration::from_secs(30), t.run_once())
        .await
        .expect("delivery hangs on a Telegram that never answers");
    assert_eq!(
        (
            report.delivery.sent,
            report.delivery.uncertain,
            report.delivery.failed
        ),
        (2, 1, 0),
        "{report:?}"
    );
    // The request left and no answer came: Telegram may have the message, so the post is
    // `uncertain` (not `failed`), kept, and counted as a possible duplicate when retried.
    let posts = t.store().posts().await.unwrap();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].status, "uncertain");
    assert_eq!((posts[0].attempts, posts[0].ambiguous), (1, 1));
    assert!(
        posts[0].last_error.as_deref().unwrap().contains("timeout"),
        "{:?}",
        posts[0]
    );
    assert!(posts[1..].iter().all(|p| p.status == "sent"));
}
