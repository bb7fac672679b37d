//! Operations (issue 10): per-source health and its alerts, `niryat status`, the HTTP endpoint
//! (/healthz, /readyz, /metrics, the status page) and `niryat healthcheck`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use niryat::schedule;
use serde_json::Value;

use crate::helpers::*;

const SOURCE: &str = "dpr-district-news";
const ADMIN: i64 = -1_009_876_543_210;

/// A test app whose alerts go to the admin chat, with `extra` appended to the config.
async fn app_with_admin(extra: &str) -> TestApp {
    let mut t = spawn_app_with(Options {
        extra_sources: extra.to_owned(),
        ..Options::default()
    })
    .await;
    t.edit_config(|c| {
        c.replace(
            "per_second = 100",
            &format!("per_second = 100\nadmin_chat = \"{ADMIN}\""),
        )
    });
    t.restart();
    t
}

async fn alerts(t: &TestApp) -> Vec<String> {
    t.sent_messages()
        .await
        .iter()
        .filter(|m| m["chat_id"] == ADMIN)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Run `sql` on the test's database (to let a backoff expire, or to age a timestamp).
fn db_exec(t: &TestApp, sql: &str) {
    rusqlite::Connection::open(t.db_path())
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

/// A DPR listing page after a redesign: the news rows no longer match `.view-content .views-row`.
fn redesigned_listing() -> Page {
    Page::Html(
        String::from_utf8(fixture("sites/dpr/listing-1.html"))
            .unwrap()
            .replace("view-content", "news-list")
            .into_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_matches_nothing_n_passes_in_a_row_is_alerted_once_then_once_on_recovery() {
    let t = app_with_admin("\n[alerts]\nempty_listing_passes = 3\n").await;
    serve_dpr(&t.site, 1);
    t.run_once().await;
    t.site.set("/news/district-news", redesigned_listing());
    for _ in 0..5 {
        // Each empty listing is also a failure; let its backoff expire so the next pass runs.
        db_exec(&t, "UPDATE sources SET next_try_at = NULL");
        let r = t.run_once().await;
        assert!(
            r.sources[0]
                .error
                .as_deref()
                .unwrap()
                .contains("matched no items")
        );
    }
    let a = alerts(&t).await;
    assert_eq!(a.len(), 2, "{a:#?}");
    assert!(a[0].contains("started failing"), "{a:#?}");
    assert!(
        a[1].contains(SOURCE)
            && a[1].contains(
                "the listing matched nothing 3 passes in a row, the selectors are probably stale"
            ),
        "{a:#?}"
    );
    let streak: i64 = query_db(&t.db_path(), "SELECT empty_passes FROM sources").unwrap();
    assert_eq!(streak, 5);
    // The selectors match again: recovered, once.
    serve_dpr(&t.site, 1);
    db_exec(&t, "UPDATE sources SET next_try_at = NULL");
    t.run_once().await;
    t.run_once().await;
    let a = alerts(&t).await;
    assert_eq!(a.len(), 4, "{a:#?}");
    assert!(a[2].contains("recovered after 5 failed pass(es)"), "{a:#?}");
    assert!(
        a[3].contains("the listing matches again (4 items) after 5 empty pass(es)"),
        "{a:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_without_a_new_item_for_silent_days_is_alerted_once_then_once_on_recovery() {
    let t = app_with_admin("\n[alerts]\nsilent_days = 7\n").await;
    serve_dpr(&t.site, 1);
    t.run_once().await; // the first pass: the listing's items are new
    t.run_once().await; // nothing new, but the last new item is recent
    assert!(alerts(&t).await.is_empty());
    // The last new item was 8 days ago (the stored timestamp, not a clock that waits).
    let eight_days_ago = niryat::store::fmt_time(chrono::Utc::now() - chrono::TimeDelta::days(8));
    db_exec(
        &t,
        &format!("UPDATE sources SET last_new_item_at = '{eight_days_ago}'"),
    );
    t.run_once().await;
    t.run_once().await;
    let a = alerts(&t).await;
    assert_eq!(a.len(), 1, "{a:#?}");
    assert!(
        a[0].contains(SOURCE)
            && a[0].contains("no new item for 8 days")
            && a[0].contains("from a source that used to have them"),
        "{a:#?}"
    );
    let status = niryat_output(vec![
        "status".into(),
        "--json".into(),
        "--config".into(),
        t.config_path.clone().into(),
    ])
    .await;
    let o: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(o["sources"][0]["health"], "silent", "{o:#}");
    // New items: recovered, once.
    serve_dpr(&t.site, 2);
    t.run_once().await;
    t.run_once().await;
    let a = alerts(&t).await;
    assert_eq!(a.len(), 2, "{a:#?}");
    assert!(a[1].contains("has new items again (5)"), "{a:#?}");
}

/// A free port on loopback (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// `name{labels}` → value, from a Prometheus text scrape; every metric must be niryat's.
fn scrape(body: &str) -> HashMap<String, f64> {
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("a valid Prometheus text scrape");
    let mut out = HashMap::new();
    for s in parsed.samples {
        assert!(s.metric.starts_with("niryat_"), "{}", s.metric);
        let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        labels.sort();
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(h) => {
                out.insert(
                    format!("{}_count{{{}}}", s.metric, labels.join(",")),
                    h.last().map_or(0.0, |b| b.count),
                );
                continue;
            }
            prometheus_parse::Value::Summary(_) => continue,
        };
        out.insert(format!("{}{{{}}}", s.metric, labels.join(",")), value);
    }
    out
}

const HOSTILE_SOURCE: &str = r#"
[[sources]]
id = "hostile"
kind = "html"
url = "{site}/hostile/news"
backfill = 1
max_age = "36500d"
schedule = "0 0 0 1 1 *"

[sources.list]
item = ".view-content .views-row"
link = "h3 a"

[sources.article]
title = "h1.page-title"
body = ".field-name-body"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_health_readiness_metrics_and_an_escaped_status_page() {
    let mut t = spawn_app_with(Options {
        extra_sources: HOSTILE_SOURCE.to_owned(),
        ..Options::default()
    })
    .await;
    // Yearly schedules: no cron tick fires during the test (the passes are the start-up one and
    // the tick the test runs); twice a year is the readiness limit.
    t.edit_config(|c| c.replace("backfill = 0", "backfill = 0\nschedule = \"0 0 0 1 1 *\""));
    t.restart();
    serve_dpr(&t.site, 1);
    let (title, body) = distinct_positives().remove(0);
    let hostile = format!("{title} <script>alert('x')</script>");
    t.site.set(
        "/hostile/news",
        Page::Html(listing_html(&[("/hostile/1".into(), hostile.clone())]).into_bytes()),
    );
    t.site.set(
        "/hostile/1",
        Page::Html(article_html(&hostile, &body, None).into_bytes()),
    );
    let app = Arc::new(t.app.take().unwrap());
    let (trigger, stop) = niryat::shutdown::channel();
    let (addr, server) = niryat::server::start(
        Arc::clone(&app),
        "127.0.0.1:0".parse().unwrap(),
        stop.clone(),
    )
    .await
    .unwrap();
    let base = format!("http://{addr}");
    assert_eq!(get(&format!("{base}/healthz")).await, (200, "ok\n".into()));
    let (code, why) = get(&format!("{base}/readyz")).await;
    assert_eq!(code, 503);
    assert!(
        why.contains("the scheduler is not running") && why.contains("source hostile: no pass yet"),
        "{why}"
    );

    // The daemon: its start-up pass runs, then the endpoint says ready.
    let daemon = tokio::spawn(schedule::run(Arc::clone(&app), stop));
    wait_until("ready", Duration::from_secs(60), || async {
        get(&format!("{base}/readyz")).await.0 == 200
    })
    .await;
    // A 429 on the first send: waited out (1 s) and counted.
    t.telegram.push(tg_error(
        429,
        "Too Many Requests: retry after 1",
        Some(serde_json::json!({"retry_after": 1})),
    ));
    serve_dpr(&t.site, 2);
    let r = app.tick(SOURCE).await;
    assert_eq!((r.fetched, r.relevant), (5, 3), "{r:?}");
    wait_until("every post sent", Duration::from_secs(30), || async {
        app.store.outbox().await.unwrap().is_empty()
    })
    .await;

    let (code, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(code, 200);
    let m = scrape(&text);
    let v = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in\n{text}"));
    let dpr = format!("source={SOURCE}");
    assert_eq!(
        v(&format!("niryat_items_listed_total{{{dpr}}}")),
        4.0 + 9.0,
        "{text}"
    );
    assert_eq!(v(&format!("niryat_articles_fetched_total{{{dpr}}}")), 5.0);
    assert_eq!(v(&format!("niryat_reports_detected_total{{{dpr}}}")), 3.0);
    assert_eq!(v("niryat_reports_detected_total{source=hostile}"), 1.0);
    assert_eq!(
        v(&format!(
            "niryat_fetches_total{{kind=listing,outcome=ok,{dpr}}}"
        )),
        2.0
    );
    assert_eq!(
        v(&format!(
            "niryat_fetches_total{{kind=article,outcome=ok,{dpr}}}"
        )),
        5.0
    );
    assert_eq!(v("niryat_fetch_duration_seconds_count{kind=article}"), 6.0);
    assert_eq!(v("niryat_posts_sent_total{}"), 4.0);
    assert_eq!(v("niryat_posts_failed_total{}"), 0.0);
    assert_eq!(v("niryat_posts_pending{}"), 0.0);
    assert_eq!(v("niryat_posts_uncertain{}"), 0.0);
    assert_eq!(v("niryat_telegram_retry_after_seconds_total{}"), 1.0);
    assert_eq!(
        v(&format!("niryat_source_empty_listing_streak{{{dpr}}}")),
        0.0
    );
    let last_success = v(&format!(
        "niryat_source_last_success_timestamp_seconds{{{dpr}}}"
    ));
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - 120.0..=now + 1.0).contains(&last_success),
        "{last_success}"
    );

    // The status page: one row per source, the reports with their reasons and post state, the
    // outbox; the hostile title is text, not markup.
    let (code, page) = get(&format!("{base}/")).await;
    assert_eq!(code, 200);
    assert!(page.contains("name=\"viewport\""), "{page}");
    assert!(!page.contains("<script"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{page}"
    );
    for id in [SOURCE, "hostile"] {
        let row = page
            .split(&format!("<tr data-source=\"{id}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no row for {id}: {page}"));
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("class=\"h-ok\">ok"), "{row}");
    }
    assert_eq!(page.matches("<tr data-report=").count(), 4, "{page}");
    assert!(
        page.contains("export and event words in one sentence"),
        "{page}"
    );
    assert!(page.contains(">sent<"), "{page}");
    assert!(page.contains("The outbox is empty"), "{page}");

    // A source whose last pass is older than twice its (yearly) interval: not ready.
    db_exec(
        &t,
        "UPDATE sources SET last_pass_at = '2020-01-01T00:00:00.000Z' WHERE id = 'hostile'",
    );
    let (code, why) = get(&format!("{base}/readyz")).await;
    assert_eq!(code, 503);
    assert!(
        why.contains("source hostile: last pass at 2020-01-01"),
        "{why}"
    );
    assert!(!why.contains(SOURCE), "{why}");

    // The server stops with the daemon.
    trigger.trigger();
    daemon.await.unwrap().unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops at shutdown")
        .unwrap();
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_outbox_backup_test_source_and_healthcheck_work_beside_a_running_daemon() {
    let port = free_port();
    let mut t = spawn_app_with(Options {
        extra_sources: format!("\n[server]\nlisten = \"127.0.0.1:{port}\"\n"),
        token: true,
        ..Options::default()
    })
    .await;
    t.release();
    serve_dpr(&t.site, 1);
    let log = t.dir.path().join("daemon.log");
    let config = t.config_path.clone();
    let mut daemon = spawn_niryat(&["run"], &config, true, &log);
    let db = t.db_path();
    wait_until("the start-up pass", Duration::from_secs(60), || async {
        query_db::<i64>(
            &db,
            "SELECT COUNT(*) FROM sources WHERE last_pass_at IS NOT NULL",
        ) == Some(1)
    })
    .await;
    let run = |args: &[&str]| {
        let mut v: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        v.push("--config".into());
        v.push(config.clone().into());
        niryat_output(v)
    };
    let ok = |out: &std::process::Output| {
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert_eq!(out.status.code(), Some(0), "{o}\n{e}");
        o
    };

    let status = ok(&run(&["status"]).await);
    let row = status
        .lines()
        .find(|l| l.starts_with(SOURCE))
        .unwrap_or_else(|| panic!("{status}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], "ok", "{status}");
    assert!(
        status.contains("0 pending, 0 uncertain, 0 failed, 0 sent today"),
        "{status}"
    );
    let json: Value = serde_json::from_str(&ok(&run(&["status", "--json"]).await)).unwrap();
    let s = &json["sources"][0];
    assert_eq!(
        (s["id"].as_str(), s["health"].as_str()),
        (Some(SOURCE), Some("ok"))
    );
    assert_eq!(s["items_listed"], 4);
    assert_eq!(s["consecutive_failures"], 0);
    assert_eq!(s["empty_passes"], 0);
    assert!(
        s["next_run"].is_string() && s["last_success"].is_string(),
        "{json:#}"
    );
    assert_eq!(json["posts"]["sent_today"], 0);

    let outbox = ok(&run(&["outbox", "list"]).await);
    assert!(outbox.contains("the outbox is empty"), "{outbox}");

    let backup = t.dir.path().join("backup.sqlite3");
    ok(&run(&["db", "backup", backup.to_str().unwrap()]).await);
    assert_eq!(
        query_db::<i64>(&backup, "SELECT COUNT(*) FROM seen"),
        Some(4)
    );

    serve_dpr(&t.site, 2);
    let tested = ok(&run(&["test-source", SOURCE, "--limit", "1"]).await);
    assert!(
        tested.contains(&format!("{SOURCE} (")) && tested.contains("9 item(s) listed"),
        "{tested}"
    );

    let health = ok(&run(&["healthcheck"]).await);
    assert!(
        health.starts_with(&format!(
            "healthy: http://127.0.0.1:{port}/healthz answered 200"
        )),
        "{health}"
    );

    signal(&daemon, "TERM");
    let status = wait_exit(&mut daemon, Duration::from_secs(10)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    // The endpoint went down with the daemon: unhealthy, exit 1, one line.
    let out = run(&["healthcheck"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("unhealthy: http://127.0.0.1:{port}/healthz")),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_endpoint_healthcheck_checks_the_database() {
    let mut t = spawn_app().await;
    t.release();
    let config = t.config_path.clone();
    let args = || {
        vec![
            "healthcheck".into(),
            "--config".into(),
            config.clone().into(),
        ]
    };
    // A database that does not exist (yet): unhealthy.
    let missing = t.dir.path().join("missing.toml");
    std::fs::write(
        &missing,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("niryat.sqlite3", "none.sqlite3"),
    )
    .unwrap();
    let out = niryat_output(vec![
        "healthcheck".into(),
        "--config".into(),
        missing.into(),
    ])
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unhealthy: database") && err.contains("none.sqlite3 does not exist"),
        "{err}"
    );
    serve_dpr(&t.site, 1);
    t.restart();
    t.run_once().await;
    // Beside the process holding the database (the lock never keeps readers out).
    let out = niryat_output(args()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("healthy: database") && stdout.contains("opens and is readable"),
        "{stdout}"
    );
    // An unreadable database file: unhealthy.
    t.release();
    std::fs::write(t.db_path(), b"this is not a database").unwrap();
    let _ = std::fs::remove_file(t.db_path().with_extension("sqlite3-wal"));
    let out = niryat_output(args()).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
