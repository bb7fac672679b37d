//! `niryat extract`: what niryat reads from saved pages and from URLs, as the binary prints it.

use serde_json::Value;

use crate::helpers::*;

/// A DPR article fixture: `h1.page-title`, `.field-name-body`, a `.date-display-single` date and an
/// `article:published_time` meta, inside the site's menus, sidebar and footer.
const DPR_POST: &str = "tests/fixtures/sites/dpr/post/1632316331.html";
const DPR_TITLE: &str = "एक्सपोर्टर्स कॉन्क्लेव में निर्यात के लिए अनुकूल वातावरण बनाने पर दिया गया जोर";
const DPR_FIRST_WORDS: &str = "जगदलपुर, बस्तर में वनोपज के साथ ही कृषि";

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A config whose only source is the DPR one (`[sources.article]` selectors set); the site URL is
/// unused unless a test serves it.
fn write_config(dir: &std::path::Path, site: &str) -> std::path::PathBuf {
    let path = dir.join("niryat.toml");
    std::fs::write(&path, config_toml(site, "http://127.0.0.1:9", dir, 0, "")).unwrap();
    path
}

#[test]
fn a_saved_page_prints_title_date_with_its_origin_body_and_method() {
    let out = niryat().args(["extract", DPR_POST]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("== {DPR_POST}")), "{stdout}");
    assert!(
        stdout.contains(&format!("title:     {DPR_TITLE}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains("published: 2021-09-22 (from <meta property=\"article:published_time\">)"),
        "{stdout}"
    );
    assert!(stdout.contains("method:    automatic\n"), "{stdout}");
    assert!(stdout.contains(DPR_FIRST_WORDS), "{stdout}");
    // The site's chrome is not read.
    assert!(!stdout.contains("सर्वाधिकार सुरक्षित"), "{stdout}");
    assert!(!stdout.contains("दिनांकवार समाचार"), "{stdout}");
}

#[test]
fn json_gives_one_object_per_input_in_order_and_an_empty_page_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let menu_only = dir.path().join("menu.html");
    let links: String = (0..30)
        .map(|i| format!("<li><a href='/n{i}'>कलेक्टर ने की समीक्षा बैठक, दिए निर्देश {i}</a></li>"))
        .collect();
    std::fs::write(
        &menu_only,
        format!("<html><body><ul class='menu'>{links}</ul></body></html>"),
    )
    .unwrap();
    let out = niryat()
        .args(["extract", "--json", DPR_POST])
        .arg(&menu_only)
        .arg("tests/fixtures/readable/wp-generic.html")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for l in &lines {
        for key in ["input", "title", "published", "body", "method"] {
            assert!(l.get(key).is_some(), "{key} missing: {l}");
        }
    }
    assert_eq!(lines[0]["input"], DPR_POST);
    assert_eq!(lines[0]["title"], DPR_TITLE);
    assert_eq!(lines[0]["published"], "2021-09-22");
    assert_eq!(lines[0]["method"], "automatic");
    assert!(
        lines[0]["body"]
            .as_str()
            .unwrap()
            .starts_with(DPR_FIRST_WORDS),
        "{}",
        lines[0]
    );

    assert_eq!(lines[1]["input"], menu_only.to_str().unwrap());
    assert_eq!(lines[1]["body"], "");
    assert_eq!(lines[1]["method"], "none");

    assert_eq!(lines[2]["published"], "2023-03-02");
    assert_eq!(lines[2]["date_source"], "json-ld");
}

#[test]
fn an_unreadable_file_exits_2_naming_it_and_the_other_inputs_are_still_read() {
    let out = niryat()
        .args([
            "extract",
            "--json",
            "/nonexistent/saved-page.html",
            DPR_POST,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/saved-page.html"), "{stderr}");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["method"], "error");
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("saved-page.html")
    );
    assert_eq!(lines[1]["title"], DPR_TITLE);

    // A directory is not a page either.
    let out = niryat()
        .args(["extract", "tests/fixtures"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tests/fixtures"));
}

#[test]
fn with_source_the_article_selectors_are_used_and_a_miss_falls_back_to_automatic() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9");
    let out = niryat()
        .args([
            "extract",
            "--json",
            "--source",
            "dpr-district-news",
            "--config",
        ])
        .arg(&config)
        .args([DPR_POST, "tests/fixtures/readable/wp-newspaper.html"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    // The DPR page has the source's markup: its selectors read it, date from `.date-display-single`.
    assert_eq!(lines[0]["method"], "selectors");
    assert_eq!(lines[0]["date_source"], "date selector");
    assert_eq!(lines[0]["published"], "2021-09-22");
    assert_eq!(lines[0]["title"], DPR_TITLE);
    assert!(
        lines[0]["body"]
            .as_str()
            .unwrap()
            .starts_with(DPR_FIRST_WORDS)
    );
    // A WordPress page has no `.field-name-body`: read automatically, as the pipeline would.
    assert_eq!(lines[1]["method"], "automatic");
    assert!(
        lines[1]["body"]
            .as_str()
            .unwrap()
            .starts_with("दुर्ग , मई 2022/")
    );

    let out = niryat()
        .args(["extract", "--source", "dpr-district-news", "--config"])
        .arg(&config)
        .arg("tests/fixtures/readable/wp-newspaper.html")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("the body selector of source dpr-district-news matched no text"),
        "{stdout}"
    );

    let out = niryat()
        .args(["extract", "--source", "no-such-source", "--config"])
        .arg(&config)
        .arg(DPR_POST)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no-such-source") && stderr.contains("niryat.toml"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_is_fetched_politely_and_a_failed_fetch_exits_1_naming_the_url() {
    let t = spawn_app().await;
    let path = "/post/1632316331/exporters-conclave";
    t.site
        .set(path, Page::Html(fixture("sites/dpr/post/1632316331.html")));
    t.site.set(
        "/robots.txt",
        Page::Raw(
            wiremock::ResponseTemplate::new(200)
                .set_body_string("User-agent: *\nDisallow: /private/\n"),
        ),
    );
    let url = t.site_url(path);
    let out = niryat_output(vec![
        "extract".into(),
        "--json".into(),
        "--config".into(),
        t.config_path.clone().into(),
        url.clone().into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["input"], url.as_str());
    assert_eq!(lines[0]["title"], DPR_TITLE);
    assert_eq!(lines[0]["method"], "automatic");
    assert!(
        lines[0]["body"]
            .as_str()
            .unwrap()
            .starts_with(DPR_FIRST_WORDS)
    );
    // The polite fetcher: robots.txt read first, our User-Agent on the page request.
    let requests = t.site_server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/robots.txt");
    let page = requests.iter().find(|r| r.url.path() == path).unwrap();
    let ua = page.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("niryat/"), "{ua}");

    // Disallowed by robots.txt, and a server error: both named, exit 1.
    t.site.set("/gone", Page::Status(500));
    let out = niryat_output(vec![
        "extract".into(),
        "--config".into(),
        t.config_path.clone().into(),
        t.site_url("/private/page").into(),
        t.site_url("/gone").into(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/private/page") && stderr.contains("robots.txt"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/gone") && stderr.contains("500"),
        "{stderr}"
    );
}
