//! Operations (issue 10, configuration and container): JSON logs without the token, environment
//! overrides, SIGHUP reload, and the container's way of running the binary — all with the real
//! binary against the fakes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

/// The fake token of this file, as an operator would paste one.
const FAKE_TOKEN: &str = "123456:TEST";

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Run the binary with extra environment variables; `(status, stdout, stderr)`.
async fn run_with_env(args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = niryat();
        c.args(&args);
        for (k, v) in &vars {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_spans_and_never_the_token() {
    let mut t = spawn_app().await;
    t.baseline_then_new_reports().await;
    // One send fails (a 5xx: no usable answer, logged with the error), the others go through.
    t.telegram
        .push(tg_error(500, "Internal Server Error", None));
    t.release();
    let config = t.config_path.to_string_lossy().into_owned();
    let (code, stdout, stderr) = run_with_env(
        &["once", "--config", &config],
        &[
            ("TELEGRAM_BOT_TOKEN", FAKE_TOKEN),
            ("NIRYAT_LOG_FORMAT", "json"),
            // Everything every library logs, not only ours.
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(FAKE_TOKEN), "the token is in the output");
        assert!(
            !text.contains("123456%3ATEST"),
            "the token is in the output"
        );
    }
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "{stderr}");
    let spans_of = |message: &str| -> Vec<String> {
        let line = lines
            .iter()
            .find(|l| l["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in {stderr}"));
        line["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(spans_of("article classified"), ["pass", "source"]);
    assert_eq!(spans_of("posted"), ["pass", "deliver"]);
    assert_eq!(
        spans_of("no answer from Telegram; the post is uncertain and will be retried"),
        ["pass", "deliver"]
    );
    let source = lines
        .iter()
        .find(|l| l["fields"]["message"] == "article classified")
        .unwrap();
    assert_eq!(source["spans"][1]["id"], "dpr-district-news");
    // A bad format is refused before anything runs.
    let (code, _, stderr) = run_with_env(
        &["check", "--config", &config],
        &[("NIRYAT_LOG_FORMAT", "xml")],
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("NIRYAT_LOG_FORMAT"), "{stderr}");
}

#[tokio::test]
async fn check_shows_where_each_value_came_from_and_refuses_unknown_variables() {
    let mut t = spawn_app().await;
    t.release();
    let config = t.config_path.to_string_lossy().into_owned();
    let (code, stdout, stderr) = run_with_env(
        &["check", "--config", &config],
        &[
            ("NIRYAT__TELEGRAM__CHANNEL", "-1001234567890"),
            ("NIRYAT__SOURCES__DPR_DISTRICT_NEWS__ENABLED", "false"),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let row = |key: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} row in {stdout}"))
            .to_owned()
    };
    assert!(
        row("telegram.channel").contains("\"-1001234567890\"")
            && row("telegram.channel").ends_with("env NIRYAT__TELEGRAM__CHANNEL"),
        "{stdout}"
    );
    assert!(row("storage.path").ends_with("file"), "{stdout}");
    assert!(row("telegram.admin_chat").ends_with("default"), "{stdout}");
    assert!(
        row("sources[0].enabled").ends_with("env NIRYAT__SOURCES__DPR_DISTRICT_NEWS__ENABLED"),
        "{stdout}"
    );
    assert!(stdout.contains("(disabled)"), "{stdout}");
    // An unknown key is an error naming the variable, exit 2.
    let (code, _, stderr) = run_with_env(
        &["check", "--config", &config],
        &[("NIRYAT__TELEGRAM__CHANEL", "@x")],
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("NIRYAT__TELEGRAM__CHANEL") && stderr.contains("telegram.chanel"),
        "{stderr}"
    );
    // A bad value names the file, the key and the variable.
    let (code, _, stderr) = run_with_env(
        &["check", "--config", &config],
        &[("NIRYAT__TELEGRAM__CHANNEL", "not a channel")],
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&config)
            && stderr.contains("telegram.channel")
            && stderr.contains("NIRYAT__TELEGRAM__CHANNEL"),
        "{stderr}"
    );
}

/// A source of the fake site at `/{name}/news`, on `schedule`.
fn source_block(name: &str, schedule: &str) -> String {
    format!(
        "\n[[sources]]\nid = \"{name}\"\nkind = \"html\"\nurl = \"{{site}}/{name}/news\"\nschedule = \"{schedule}\"\n\n[sources.list]\nitem = \".view-content .views-row\"\nlink = \"h3 a\"\n"
    )
}

const EVERY_SECOND: &str = "*/1 * * * * *";
const YEARLY: &str = "0 0 0 1 1 *";

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_sources_and_schedules_and_keeps_the_old_config_when_the_new_is_invalid() {
    let mut t = spawn_app_with(Options {
        extra_sources: source_block("other", YEARLY),
        ..Options::default()
    })
    .await;
    serve_dpr(&t.site, 1);
    for path in ["/other/news", "/third/news"] {
        t.site
            .set(path, Page::Html(fixture("sites/dpr/listing-1.html")));
    }
    t.edit_config(|c| {
        c.replace(
            "backfill = 0",
            &format!("backfill = 0\nschedule = \"{EVERY_SECOND}\""),
        )
    });
    let good = std::fs::read_to_string(&t.config_path).unwrap();
    t.release();
    let log = t.dir.path().join("run.log");
    let mut child = spawn_niryat(&["run"], &t.config_path, true, &log);
    let limit = Duration::from_secs(30);
    let dpr = "/news/district-news";
    wait_until("two passes over dpr", limit, || async {
        t.requests_to(dpr).await >= 2
    })
    .await;

    // 1. An invalid config is rejected with file and key; the old one keeps running.
    t.edit_config(|c| {
        c.replacen(
            &format!("schedule = \"{EVERY_SECOND}\""),
            "schedule = \"every second\"",
            1,
        )
    });
    signal(&child, "HUP");
    wait_until("the rejection", limit, || async {
        read(&log).contains("config reload rejected")
    })
    .await;
    let rejected = read(&log)
        .lines()
        .find(|l| l.contains("config reload rejected"))
        .unwrap()
        .to_owned();
    let config = t.config_path.display().to_string();
    assert!(
        rejected.contains(&config) && rejected.contains("sources[0].schedule"),
        "{rejected}"
    );
    let before = t.requests_to(dpr).await;
    wait_until("dpr still running on the old config", limit, || async {
        t.requests_to(dpr).await >= before + 2
    })
    .await;
    assert_eq!(
        t.requests_to("/other/news").await,
        1,
        "only the start-up pass"
    );

    // 2. A valid config: dpr removed, other's schedule changed, third added.
    let start = good.find("[[sources]]").unwrap();
    let end = start + 1 + good[start + 1..].find("[[sources]]").unwrap();
    let new = format!("{}{}", &good[..start], &good[end..]).replace(YEARLY, EVERY_SECOND)
        + &source_block("third", EVERY_SECOND).replace("{site}", &t.site_server.uri());
    std::fs::write(&t.config_path, new).unwrap();
    signal(&child, "HUP");
    wait_until("the reload", limit, || async {
        read(&log).contains("config reloaded")
    })
    .await;
    let reloaded = read(&log)
        .lines()
        .find(|l| l.contains("config reloaded"))
        .unwrap()
        .to_owned();
    assert!(
        reloaded.contains(r#"added=["third"]"#)
            && reloaded.contains(r#"removed=["dpr-district-news"]"#)
            && reloaded.contains(r#"changed=["other"]"#),
        "{reloaded}"
    );
    let dpr_at_reload = t.requests_to(dpr).await;
    let other_at_reload = t.requests_to("/other/news").await;
    wait_until(
        "the changed and the added source on their schedules",
        limit,
        || async {
            t.requests_to("/other/news").await >= other_at_reload + 2
                && t.requests_to("/third/news").await >= 2
        },
    )
    .await;
    assert_eq!(
        t.requests_to(dpr).await,
        dpr_at_reload,
        "the removed source no longer runs"
    );

    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(8)).await;
    assert_eq!(status.code(), Some(0), "{}", read(&log));
    assert!(!read(&log).contains(TOKEN), "token in the log");
}

/// The Dockerfile's `WORKDIR`, `ENV` (without PATH) and `CMD`, with absolute paths moved under
/// `root`.
fn image_entrypoint(root: &Path) -> (PathBuf, Vec<(String, String)>, Vec<String>) {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let final_stage = &dockerfile[dockerfile.rfind("\nFROM ").unwrap()..];
    let joined = final_stage.replace("\\\n", " ");
    let under = |p: &str| root.join(p.trim_start_matches('/'));
    let (mut workdir, mut env, mut cmd) = (root.to_owned(), Vec::new(), Vec::new());
    for line in joined.lines().map(str::trim) {
        if let Some(w) = line.strip_prefix("WORKDIR ") {
            workdir = under(w.trim());
        } else if let Some(vars) = line.strip_prefix("ENV ") {
            for kv in vars.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap();
                if k != "PATH" {
                    let v = if v.starts_with('/') {
                        under(v).display().to_string()
                    } else {
                        v.to_owned()
                    };
                    env.push((k.to_owned(), v));
                }
            }
        } else if let Some(c) = line.strip_prefix("CMD ") {
            cmd = serde_json::from_str(c).unwrap();
        }
    }
    (workdir, env, cmd)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_run_as_the_image_runs_it_is_healthy_passes_once_and_stops_cleanly_on_sigterm() {
    let mut t = spawn_app().await;
    serve_dpr(&t.site, 1);
    t.release();
    let root = t.dir.path().join("image");
    let (workdir, env, cmd) = image_entrypoint(&root);
    assert_eq!(cmd, ["run"]);
    let var = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| PathBuf::from(v))
            .unwrap()
    };
    let (config, db) = (var("NIRYAT_CONFIG"), var("NIRYAT__STORAGE__PATH"));
    assert!(
        config.starts_with(&workdir) && db.starts_with(root.join("data")),
        "{env:?}"
    );
    // The shipped image's config points the database at a relative path; the image's
    // NIRYAT__STORAGE__PATH moves it to the volume.
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let file_db = t.db_path().display().to_string();
    std::fs::write(&config, text.replace(&file_db, "data/not-here.sqlite3")).unwrap();
    let log = t.dir.path().join("image.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_niryat"))
        .args(&cmd)
        .current_dir(&workdir)
        .env_remove("NIRYAT_CONFIG")
        .envs(env.iter().cloned())
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(30);
    wait_until("one pass", limit, || async {
        read(&log).contains("pass finished")
            && query_db::<i64>(&db, "SELECT COUNT(*) FROM seen") == Some(4)
    })
    .await;
    assert!(
        !workdir.join("data").exists(),
        "the file's relative path was not used"
    );
    // The image's HEALTHCHECK, run as Docker runs it: same environment and directory.
    let health = {
        let (workdir, env) = (workdir.clone(), env.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_niryat"))
                .arg("healthcheck")
                .current_dir(&workdir)
                .env_remove("NIRYAT_CONFIG")
                .envs(env.iter().cloned())
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let said = String::from_utf8_lossy(&health.stdout).into_owned()
        + &String::from_utf8_lossy(&health.stderr);
    assert_eq!(health.status.code(), Some(0), "{said}");
    assert!(
        said.contains("healthy") && said.contains(&db.display().to_string()),
        "{said}"
    );
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(8)).await;
    assert_eq!(status.code(), Some(0), "{}", read(&log));
    assert!(read(&log).contains("stopped"), "{}", read(&log));
}

/// Every message the README's troubleshooting table quotes (its first column's code, `…` standing
/// for the variable parts) is one the code prints.
#[test]
fn the_troubleshooting_table_quotes_the_messages_the_code_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = &readme[readme.find("### Troubleshooting").unwrap()..];
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("|---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() >= 5, "{rows:?}");
    let mut code = String::new();
    let mut dirs = vec![root.join("src")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                code.push_str(&std::fs::read_to_string(p).unwrap().replace("\\\"", "\""));
            }
        }
    }
    let spans = regex::Regex::new(r"``\s?(.+?)\s?``|`([^`]+)`").unwrap();
    let mut checked = 0;
    for row in rows {
        let first = row.split(" | ").next().unwrap();
        for c in spans.captures_iter(first) {
            let quoted = c.get(1).or(c.get(2)).unwrap().as_str();
            for piece in quoted.split('…').map(str::trim).filter(|p| !p.is_empty()) {
                assert!(
                    code.contains(piece),
                    "README quotes {piece:?} (in {quoted:?}), which no message in src/ contains"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "{checked}");
}
