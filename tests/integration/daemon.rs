//! The daemon's control flow: no overlapping passes, stopping between items, cron ticks, signals.

use std::sync::Arc;
use std::time::{Duration, Instant};

use niryat::app::App;
use niryat::config::Settings;
use niryat::notify::BotToken;
use niryat::{schedule, shutdown};

use crate::helpers::*;

const SOURCE: &str = "dpr-district-news";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_never_runs_twice_at_once() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.site.set(
        "/news/district-news",
        Page::Delay(
            Duration::from_millis(500),
            fixture("sites/dpr/listing-1.html"),
        ),
    );
    let (a, b) = tokio::join!(t.app().run_source(SOURCE), t.app().run_source(SOURCE));
    assert!(a.skipped ^ b.skipped, "exactly one is skipped: {a:?} {b:?}");
    let ran = if a.skipped { b } else { a };
    assert_eq!(ran.baseline, 4);
    let listing_requests = t.requests_to("/news/district-news").await;
    assert_eq!(listing_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_between_items_and_loses_nothing() {
    let mut t = spawn_app().await;
    t.baseline_then_new_reports().await;
    // Slow article pages, so the pass is mid-way when the signal comes.
    for a in articles("dpr") {
        t.site.set(
            a["path"].as_str().unwrap(),
            Page::Delay(
                Duration::from_millis(400),
                fixture(a["file"].as_str().unwrap()),
            ),
        );
    }
    let trigger = std::mem::replace(&mut t.trigger, shutdown::channel().0);
    // Stop as soon as a second article is being fetched: one item is done, the pass is mid-way
    // (an item still being fetched at the signal is abandoned and stays unseen).
    let site = t.site.clone();
    let paths: Vec<String> = articles("dpr")
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_owned())
        .collect();
    let since = Instant::now();
    let stopper = tokio::spawn(async move {
        wait_until("a second article fetch", Duration::from_secs(30), || {
            let asked = paths.iter().filter(|p| site.asked_after(p, since)).count() >= 2;
            async move { asked }
        })
        .await;
        trigger.trigger();
    });
    let report = t.run_once().await;
    stopper.await.unwrap();
    let first = report.sources[0].fetched;
    assert!((1..5).contains(&first), "stopped between items: {report:?}");
    // Whatever was classified is stored; the rest is still unseen and is picked up after a restart.
    assert_eq!(t.store().count("articles").await.unwrap() as usize, first);
    serve_dpr(&t.site, 2);
    t.restart();
    let rest = t.run_once().await;
    assert_eq!(first + rest.sources[0].fetched, 5);
    assert_eq!(t.store().count("posts").await.unwrap(), 3);
    assert_eq!(
        t.sent_messages().await.len(),
        3,
        "each report posted exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_runs_sources_on_their_cron_schedule_until_shutdown() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    let cfg = std::fs::read_to_string(&t.config_path)
        .unwrap()
        .replace("backfill = 0", "backfill = 0\nschedule = \"*/1 * * * * *\"");
    std::fs::write(&t.config_path, cfg).unwrap();
    let mut t = t;
    t.app = None;
    let (trigger, stop) = shutdown::channel();
    let settings = Settings::load(&t.config_path).unwrap();
    let app = Arc::new(App::build(settings, Some(BotToken::new(TOKEN)), stop.clone()).unwrap());
    let daemon = tokio::spawn(schedule::run(Arc::clone(&app), stop));
    // The start-up pass plus at least two ticks of a once-a-second schedule.
    wait_until("three listing fetches", Duration::from_secs(60), || async {
        t.requests_to("/news/district-news").await >= 3
    })
    .await;
    let stopping = Instant::now();
    trigger.trigger();
    tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .expect("daemon stops after shutdown")
        .unwrap()
        .unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(10));
    assert_eq!(app.store.count("seen").await.unwrap(), 4);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_run_command_cleanly() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 1);
    let config = t.config_path.clone();
    let mut t = t;
    t.app = None;
    let bin = assert_cmd::cargo::cargo_bin("niryat");
    let child = std::process::Command::new(bin)
        .args(["run", "--config"])
        .arg(&config)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the start-up pass to reach the site.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = t.site_server.received_requests().await.unwrap().len();
        if n > 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shutdown requested") && stderr.contains("stopped"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("TEST-niryat-fake-token"),
        "token in the log: {stderr}"
    );
}
