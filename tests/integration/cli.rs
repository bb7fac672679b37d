//! The binary as a user runs it: exit codes, messages, dry-run, eval.

use crate::helpers::*;

#[test]
fn check_accepts_the_bundled_config_and_lists_its_sources() {
    let out = niryat().arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("dprcg-district-news"), "{stdout}");
    assert!(stdout.contains("statenewsservice"), "{stdout}");
    assert_eq!(stdout.matches("\n  district-").count(), 33, "{stdout}");
}

#[test]
fn a_bad_config_exits_2_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bundled = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/niryat.toml"),
    )
    .unwrap();
    let cases = [
        (
            bundled.replace("per_minute = 20", "per_minute = 20\nper_hour = 1"),
            "per_hour",
        ),
        (
            bundled.replacen("item = \"table tbody tr\"", "item = \"table[\"", 1),
            "sources[4].list.item",
        ),
        (
            bundled.replace(
                "schedule = \"0 */10 * * * *\"",
                "schedule = \"every ten minutes\"",
            ),
            "sources[0].schedule",
        ),
    ];
    for (text, key) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        for cmd in ["check", "once", "run"] {
            let out = niryat()
                .args([cmd, "--config"])
                .arg(&path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
            assert!(
                stderr.contains("bad.toml") && stderr.contains(key),
                "{cmd}: {stderr}"
            );
        }
    }
    let out = niryat()
        .args(["check", "--config", "/nonexistent/niryat.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/niryat.toml"));
}

#[test]
fn niryat_config_env_var_selects_the_file() {
    let out = niryat()
        .arg("check")
        .env("NIRYAT_CONFIG", "/nonexistent/from-env.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from-env.toml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_without_a_token_is_a_dry_run_that_prints_the_posts() {
    let t = spawn_app_with(Options {
        backfill: 5,
        ..Options::default()
    })
    .await;
    serve_dpr(&t.site, 2);
    let config = t.config_path.clone();
    // The app built by spawn_app holds the database lock; release it for the child process.
    let mut t = t;
    t.app = None;
    let out = niryat_output(vec!["once".into(), "--config".into(), config.into()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("dry-run"), "{stderr}");
    assert_eq!(
        stdout
            .matches("--- dry-run: would post to @niryat_test")
            .count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("दुर्ग"), "{stdout}");
    assert!(
        t.sent_messages().await.is_empty(),
        "dry-run must not call Telegram"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_exits_0_when_a_source_fails_and_1_when_the_database_is_unusable() {
    let t = spawn_app().await;
    t.site.set("/news/district-news", Page::Status(500));
    let config = t.config_path.clone();
    let mut t = t;
    t.app = None;
    let out = niryat_output(vec![
        "once".into(),
        "--config".into(),
        config.clone().into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("dpr-district-news") && stdout.contains("FAILED"),
        "{stdout}"
    );

    // A database path under a regular file cannot be created.
    let blocker = t.dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        t.dir.path().join("niryat.sqlite3").to_str().unwrap(),
        blocker.join("db.sqlite3").to_str().unwrap(),
    );
    std::fs::write(&config, text).unwrap();
    let out = niryat()
        .args(["once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("db.sqlite3"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_source_prints_verdicts_and_stores_nothing() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 2);
    let config = t.config_path.clone();
    let mut t = t;
    t.app = None;
    let out = niryat_output(vec![
        "test-source".into(),
        "dpr-district-news".into(),
        "--config".into(),
        config.into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.matches("[POST]").count(), 5, "{stdout}");
    assert_eq!(stdout.matches("[skip]").count(), 4, "{stdout}");
    assert!(t.sent_messages().await.is_empty());
    let store = niryat::store::Store::open(&t.dir.path().join("niryat.sqlite3")).unwrap();
    assert_eq!(
        store.count("seen").await.unwrap(),
        0,
        "test-source must store nothing"
    );
    assert_eq!(store.count("articles").await.unwrap(), 0);
}

#[test]
fn eval_prints_scores_and_a_json_line() {
    let out = niryat()
        .args(["eval", "tests/fixtures/corpus/dev.jsonl", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for k in ["topic", "post"] {
        for f in ["precision", "recall", "f1", "tp", "fp", "fn", "tn"] {
            assert!(last[k][f].is_number(), "{k}.{f} missing: {last}");
        }
    }
    assert_eq!(last["rows"], 168);
    assert!(last["district_accuracy"].is_number());
    // (No accuracy bound here: the shipped weights were fitted on these rows. The cross-validated
    // figures are checked by core::eval's tests and below.)
}

#[test]
fn eval_cv_prints_the_spread_the_tradeoff_and_the_same_json_keys() {
    let out = niryat()
        .args([
            "eval",
            "tests/fixtures/corpus/dev.jsonl",
            "--cv",
            "5",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.starts_with("cross-validation: 5 folds over 168 rows"),
        "{stdout}"
    );
    assert!(stdout.contains("spread across folds"), "{stdout}");
    assert!(
        stdout.contains("| threshold | topic P | topic R |"),
        "{stdout}"
    );
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for k in ["topic", "post"] {
        for f in ["precision", "recall", "f1", "tp", "fp", "fn", "tn"] {
            assert!(last[k][f].is_number(), "{k}.{f} missing: {last}");
        }
    }
    assert_eq!(last["rows"], 168);
    assert_eq!(last["cv"]["k"], 5);
    assert_eq!(last["cv"]["folds"].as_array().map(Vec::len), Some(5));
    assert!(last["cv"]["post"].is_null());
    assert!(last["post"]["recall"].as_f64().unwrap() >= 0.90, "{last}");

    let bad = niryat()
        .args(["eval", "tests/fixtures/corpus/dev.jsonl", "--cv", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("dev.jsonl") && stderr.contains("--cv 1"),
        "{stderr}"
    );
}

#[test]
fn eval_fit_reproduces_the_shipped_weights() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("weights.toml");
    let out = niryat()
        .args(["eval", "tests/fixtures/corpus/dev.jsonl", "--fit"])
        .arg(&out_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("wrote"), "{stderr}");
    let written = std::fs::read_to_string(&out_path).unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/core/weights.toml"
    ))
    .unwrap();
    assert_eq!(written, shipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_detection_threshold_in_the_config_decides_what_is_posted() {
    let t = spawn_app().await;
    serve_dpr(&t.site, 2);
    let config = t.config_path.clone();
    let mut t = t;
    t.app = None;
    let test_source = || {
        niryat_output(vec![
            "test-source".into(),
            "dpr-district-news".into(),
            "--config".into(),
            config.clone().into(),
        ])
    };
    let shipped = test_source().await;
    let shipped = String::from_utf8_lossy(&shipped.stdout).into_owned();
    assert_eq!(shipped.matches("[POST]").count(), 5, "{shipped}");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[detection]\nthreshold = 0.999\n");
    std::fs::write(&config, text).unwrap();
    let strict = test_source().await;
    let strict = String::from_utf8_lossy(&strict.stdout).into_owned();
    assert!(strict.contains("(threshold 1.00)"), "{strict}");
    assert!(strict.matches("[POST]").count() < 5, "{strict}");
}

#[test]
fn eval_names_the_bad_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.jsonl");
    std::fs::write(
        &path,
        "{\"title\":\"a\",\"text\":\"b\",\"label\":\"negative\"}\n{not json}\n",
    )
    .unwrap();
    let out = niryat().arg("eval").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2") && stderr.contains("rows.jsonl"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_database_refuses_to_start() {
    let t = spawn_app().await; // holds the database lock, like a running daemon
    let config = t.config_path.clone();
    let out = niryat_output(vec!["once".into(), "--config".into(), config.into()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another niryat instance"), "{stderr}");
    drop(t);
}

#[test]
fn db_backup_copies_the_database_and_a_corrupt_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("niryat.sqlite3");
    let config = dir.path().join("niryat.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\npath = \"{}\"\n[telegram]\nchannel = \"@niryat_test\"\n",
            db.display()
        ),
    )
    .unwrap();
    // Nothing to back up yet: said so.
    let backup = dir.path().join("backup.sqlite3");
    let out = niryat()
        .args(["db", "backup"])
        .arg(&backup)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = niryat()
        .arg("once")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = niryat()
        .args(["db", "backup"])
        .arg(&backup)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let tables: i64 = copy
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'posts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
    drop(copy);

    std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
    let _ = std::fs::remove_file(dir.path().join("niryat.sqlite3-wal"));
    let out = niryat()
        .arg("once")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("niryat.sqlite3"), "{stderr}");
}

#[test]
fn the_vocabulary_is_extended_from_the_config_and_a_bad_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "[storage]\npath = \"{}\"\n[telegram]\nchannel = \"@niryat_test\"\n[detection]\nvocabulary = \"{}\"\n",
        dir.path().join("n.sqlite3").display(),
        dir.path().join("extra.toml").display()
    );
    let config = dir.path().join("niryat.toml");
    std::fs::write(&config, &base).unwrap();
    std::fs::write(
        dir.path().join("extra.toml"),
        "[topic]\nphrases = [\"निर्यात मित्र सम्मेलन\"]\n",
    )
    .unwrap();
    let ok = niryat()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    std::fs::write(
        dir.path().join("extra.toml"),
        "[topic]\nphrases = [\"re:(\"]\n",
    )
    .unwrap();
    let bad = niryat()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("extra.toml") && stderr.contains("re:("),
        "{stderr}"
    );

    std::fs::write(dir.path().join("extra.toml"), "[topik]\nphrases = []\n").unwrap();
    let unknown = niryat()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("extra.toml") && stderr.contains("topik"),
        "{stderr}"
    );
}
