//! Crash safety: the real binary is killed with SIGKILL at arbitrary moments while it fetches and
//! posts 50 reports. No detected report may be lost, and a report may be posted twice only when
//! the process died between Telegram accepting it and the database recording it — so at most once
//! per kill, since posts are sent one at a time.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::MockServer;

use crate::helpers::*;

const ARTICLES: usize = 50;
/// When each run is killed (a fixed, irregular list). Timed from a sign of progress rather than
/// from start-up, so the kills land in the same phases on a loaded machine: the first run is
/// killed once it has requested `FIRST_KILL_AFTER_ARTICLES` article pages (some articles are
/// stored, nothing is sent yet); each later run `ms` after its first sendMessage reached the fake
/// Telegram, in the middle of the burst of sends (each takes 30–80 ms).
const FIRST_KILL_AFTER_ARTICLES: usize = 20;
const KILL_AFTER_FIRST_SEND_MS: [u64; 5] = [130, 410, 260, 550, 75];

/// 50 distinct positive reports: the Chhattisgarh positives of the synthetic corpus (distinct
/// notes, so near-duplicate detection keeps them apart), each on a DPR-style page with its own id.
/// Returns their paths, newest first, and serves the listing page.
fn build_site(site: &Site) -> Vec<String> {
    let corpus = String::from_utf8(fixture("corpus/synthetic.jsonl")).unwrap();
    let notes: Vec<Value> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["label"] == "positive" && r["state"] == "Chhattisgarh")
        .take(ARTICLES)
        .collect();
    assert_eq!(
        notes.len(),
        ARTICLES,
        "not enough positive notes in synthetic.jsonl"
    );
    let esc = niryat::core::render::escape_html;
    let mut paths = Vec::new();
    let mut rows = String::new();
    for (i, note) in notes.iter().enumerate() {
        let title = note["title"].as_str().unwrap();
        let body: String = note["text"]
            .as_str()
            .unwrap()
            .split('\n')
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}</p>", esc(p)))
            .collect();
        let html = format!(
            "<!DOCTYPE html><html lang=\"hi\"><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\
             <nav><a href=\"/\">मुख्य पृष्ठ</a></nav><h1 class=\"page-title\">{t}</h1>\
             <div class=\"field-name-body\"><div class=\"field-item\">{body}</div></div>\
             <aside><h2>ताज़ा खबरें</h2><a href=\"/x\">जिला निर्यात संवर्धन समिति की बैठक संपन्न</a></aside></body></html>",
            t = esc(title)
        );
        let id = 1_800_000_000 + i;
        let path = format!("/post/{id}/niryat-report-{}", i + 1);
        site.set(&path, Page::Html(html.into_bytes()));
        rows.push_str(&format!(
            "<div class=\"views-row\"><div class=\"views-field views-field-title\"><h3 class=\"news-title\">\
             <a href=\"{path}\">{}</a></h3></div></div>\n",
            esc(title)
        ));
        paths.push(path);
    }
    paths.reverse();
    let listing = format!(
        "<!DOCTYPE html><html lang=\"hi\"><head><meta charset=\"utf-8\"><title>जिला समाचार</title></head>\
         <body><div class=\"view view-district-news\"><div class=\"view-content\">\n{rows}</div></div></body></html>"
    );
    site.set("/news/district-news", Page::Html(listing.into_bytes()));
    paths
}

/// `niryat once` as run number `run`: its User-Agent names the run, so the fake Telegram can tell
/// which process sent each message.
fn spawn_once(config: &Path, base: &str, run: usize, log: &Path) -> Child {
    std::fs::write(
        config,
        base.replacen(
            "[fetch]\n",
            &format!("[fetch]\nuser_agent = \"{}\"\n", ua(run)),
            1,
        ),
    )
    .unwrap();
    spawn_niryat(&["once"], config, true, log)
}

fn ua(run: usize) -> String {
    format!("niryat-crash-test/run-{run}")
}

/// Article pages the fake site has been asked for so far.
async fn article_requests(site: &MockServer) -> usize {
    site.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().starts_with("/post/"))
        .count()
}

/// Articles in the database (0 when it does not exist yet).
fn stored_articles(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0)))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_moment_loses_no_report_and_duplicates_at_most_one_per_kill() {
    let started = Instant::now();
    let mut t = spawn_app_with(Options {
        backfill: ARTICLES,
        slow_telegram: true,
        ..Options::default()
    })
    .await;
    t.release();
    let (site_server, telegram, dir, config) =
        (&t.site_server, &t.telegram, &t.dir, &t.config_path);
    let base = std::fs::read_to_string(config).unwrap();
    let log = dir.path().join("niryat.log");
    let paths = build_site(&t.site);
    let urls: Vec<String> = paths
        .iter()
        .map(|p| format!("{}{p}", site_server.uri()))
        .collect();

    // Kill runs at fixed, irregular moments: some during fetching, most during the burst of sends.
    let mut kills = 0;
    let mut sends_at_kill = Vec::new();
    let mut stored_at_kill = Vec::new();
    let mut killed_runs = Vec::new();
    let db_path = t.db_path();
    for (run, ms) in std::iter::once(None)
        .chain(KILL_AFTER_FIRST_SEND_MS.map(Some))
        .enumerate()
    {
        let mut child = spawn_once(config, &base, run, &log);
        let sends_before = telegram.accepted().len();
        let since = Instant::now();
        loop {
            let ready = match ms {
                None => article_requests(site_server).await >= FIRST_KILL_AFTER_ARTICLES,
                Some(_) => telegram.accepted().len() > sends_before,
            };
            if ready || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                since.elapsed() < Duration::from_secs(20),
                "run {run} made no progress in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(ms.unwrap_or(0))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
            wait_exit(&mut child, Duration::from_secs(5)).await;
            killed_runs.push(run);
            sends_at_kill.push(telegram.accepted().len());
            stored_at_kill.push(stored_articles(&db_path));
        }
        wait_exit(&mut child, Duration::from_secs(5)).await;
    }
    // Then let it finish, as many times as it takes for the outbox to drain.
    let mut finished = false;
    for run in 100..103 {
        let mut child = spawn_once(config, &base, run, &log);
        let status = wait_exit(&mut child, Duration::from_secs(20)).await;
        assert!(
            status.success(),
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let store = niryat::store::Store::open(&db_path).unwrap();
        let posts = store.posts().await.unwrap();
        if posts.len() == ARTICLES && posts.iter().all(|p| p.status == "sent") {
            finished = true;
            break;
        }
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        finished,
        "posts still pending after three full runs\n{log_text}"
    );
    assert!(
        kills >= 4,
        "the runs ended before most kills ({kills}); kill sooner"
    );
    // Some kills must have landed in the middle of the burst of sends, or this proves little.
    assert!(
        sends_at_kill.iter().any(|&n| n > 0 && n < ARTICLES),
        "no kill landed mid-delivery: sends at each kill {sends_at_kill:?}"
    );

    // The message in flight at each kill: the last one the killed process sent (its User-Agent
    // names the run), whenever its request reached the fake — the only one that can have been
    // accepted without the database hearing of it.
    let sent: Vec<(i64, String)> = telegram
        .accepted()
        .into_iter()
        .map(|a| (a.message_id, a.source))
        .collect();
    let in_flight_at_kill: HashSet<i64> = killed_runs
        .iter()
        .filter_map(|&run| {
            telegram
                .accepted()
                .iter()
                .rfind(|a| a.user_agent == ua(run))
                .map(|a| a.message_id)
        })
        .collect();
    // Every report reached Telegram at least once.
    let mut sends_of: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, source) in &sent {
        let url = urls
            .iter()
            .find(|u| *u == source)
            .unwrap_or_else(|| panic!("a message links to no known report: {source}"));
        sends_of.entry(url.as_str()).or_default().push(*id);
    }
    let times: HashMap<&str, usize> = sends_of.iter().map(|(u, ids)| (*u, ids.len())).collect();
    // A report went out again only when its earlier send was the one in flight at a kill.
    for (u, ids) in &sends_of {
        for id in &ids[..ids.len() - 1] {
            assert!(
                in_flight_at_kill.contains(id),
                "{u} was posted again although its message {id} was not in flight at a kill \
                 (in flight: {in_flight_at_kill:?})"
            );
        }
    }
    for u in &urls {
        assert!(
            times.contains_key(u.as_str()),
            "{u} was never posted\n{log_text}"
        );
    }
    let duplicates: usize = times.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= kills,
        "{duplicates} duplicate posts for {kills} kills: {times:?}"
    );

    // The database: 50 posts, all sent, with distinct message_ids, each naming a message that
    // really carried that report.
    let store = niryat::store::Store::open(&db_path).unwrap();
    let posts = store.posts().await.unwrap();
    assert_eq!(posts.len(), ARTICLES);
    assert_eq!(store.count("articles").await.unwrap(), ARTICLES as i64);
    let by_id: HashMap<i64, &str> = sent.iter().map(|(id, t)| (*id, t.as_str())).collect();
    let mut ids = HashSet::new();
    for p in &posts {
        assert_eq!(p.status, "sent", "{p:?}");
        let id = p.message_id.unwrap();
        assert!(ids.insert(id), "message_id {id} recorded twice");
        let source = by_id
            .get(&id)
            .unwrap_or_else(|| panic!("unknown message_id {id}"));
        assert!(
            *source == p.url,
            "post {} recorded message {id}, which carried another report",
            p.url
        );
    }
    eprintln!(
        "crash test: {kills} kills (articles stored at each: {stored_at_kill:?}; sends so far: {sends_at_kill:?}), {} sends, {duplicates} duplicate(s), {:?}",
        sent.len(),
        started.elapsed()
    );
    // About 14 s on an idle 2-core machine; this only catches a run that hangs.
    assert!(started.elapsed() < Duration::from_secs(120));
}
