//! `niryat discover`: the real binary against fixture sites served by a fake site
//! (tests/fixtures/discover/, written like the real families). For each family the first proposal
//! must pass `niryat check`, and `test-source` with it must list exactly the fixture's articles.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

fn discover_manifest() -> Value {
    serde_json::from_slice(&fixture("discover/manifest.json")).unwrap()
}

fn fixture_site(name: &str) -> Value {
    discover_manifest()["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no discover fixture {name}"))
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive()
}

/// A fixture site on a fake server, and a config (politeness delays off) in a temp dir.
struct Fixture {
    server: MockServer,
    site: Site,
    dir: TempDir,
    config: PathBuf,
    spec: Value,
}

impl Fixture {
    async fn serve(name: &str) -> Self {
        let server = MockServer::start().await;
        let site = Site::default();
        Mock::given(any())
            .respond_with(site.clone())
            .mount(&server)
            .await;
        let spec = fixture_site(name);
        let host = spec["host"].as_str().unwrap();
        let uri = server.uri();
        for p in spec["pages"].as_array().unwrap() {
            let body = String::from_utf8(fixture(p["file"].as_str().unwrap()))
                .unwrap()
                .replace(host, &uri);
            let path = p["path"].as_str().unwrap();
            // A dated listing is served for the last three days (what its template reads).
            let paths: Vec<String> = if path.contains("{today}") {
                (0..3)
                    .map(|back| {
                        let d = today() - chrono::Duration::days(back);
                        path.replace("{today}", &d.to_string())
                    })
                    .collect()
            } else {
                vec![path.to_owned()]
            };
            for path in paths {
                let mut t = ResponseTemplate::new(200)
                    .insert_header("content-type", p["content_type"].as_str().unwrap())
                    .set_body_bytes(body.clone().into_bytes());
                for (k, v) in p["headers"].as_object().unwrap() {
                    t = t.insert_header(k.as_str(), v.as_str().unwrap().replace(host, &uri));
                }
                site.set(&path, Page::Raw(t));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("niryat.toml");
        std::fs::write(&config, base_config(&uri, dir.path())).unwrap();
        Self {
            server,
            site,
            dir,
            config,
            spec,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.server.uri(),
            path.replace("{today}", &today().to_string())
        )
    }

    fn start(&self) -> String {
        self.url(self.spec["start"].as_str().unwrap())
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut v: Vec<OsString> = args.iter().map(OsString::from).collect();
        v.push("--config".into());
        v.push(self.config.clone().into());
        niryat_output(v).await
    }
}

/// The test config: the helpers' config without its sources (discover does not need any).
fn base_config(site: &str, dir: &Path) -> String {
    let full = config_toml(site, "http://127.0.0.1:9", dir, 0, "");
    let cut = full.find("[[sources]]").unwrap();
    full[..cut].to_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// stdout must be valid TOML; its `[[sources]]`, in order.
fn proposals(out: &Output) -> Vec<toml::Table> {
    let stdout = text(&out.stdout);
    let doc: toml::Table = toml::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not valid TOML: {e}\n{stdout}"));
    doc.get("sources")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().map(|s| s.as_table().unwrap().clone()).collect())
        .unwrap_or_default()
}

/// The URLs `test-source` lists (the line under each verdict).
fn listed_urls(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.trim_start_matches("# ").strip_prefix("  "))
        .filter(|l| l.starts_with("http"))
        .map(str::to_owned)
        .collect()
}

/// Discover a family's start page, then check the first proposal with `niryat check` and
/// `test-source`: it must list exactly the fixture's articles. Returns the proposals and stdout.
async fn first_proposal_lists_exactly_the_articles(name: &str) -> (Vec<toml::Table>, String) {
    let fx = Fixture::serve(name).await;
    let out = fx.run(&["discover", &fx.start()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
    let found = proposals(&out);
    assert!(!found.is_empty(), "{name}: {}", text(&out.stdout));
    let first = &found[0];
    let want = &fx.spec["first"];
    assert_eq!(first["kind"].as_str(), want["kind"].as_str(), "{name}");
    assert!(
        first.get("enabled").is_none(),
        "the first proposal is enabled"
    );
    if want["kind"] == "html" {
        let list = first["list"].as_table().unwrap();
        assert_eq!(list["item"].as_str(), want["item"].as_str(), "{name}: item");
        assert_eq!(list["link"].as_str(), want["link"].as_str(), "{name}: link");
        assert_eq!(
            list.get("next").and_then(|n| n.as_str()),
            want["next"].as_str(),
            "{name}: next"
        );
        let url = first["url"].as_str().unwrap();
        match want["url_template"].as_str() {
            Some(t) => assert_eq!(url, fx.url(t), "{name}: url template"),
            None => assert_eq!(url, fx.start(), "{name}: url"),
        }
    } else {
        assert_eq!(
            first["url"].as_str(),
            Some(fx.url(want["url"].as_str().unwrap()).as_str()),
            "{name}"
        );
    }

    // The first proposal alone in a config: `niryat check`, then `test-source`.
    let id = first["id"].as_str().unwrap().to_owned();
    let mut one = toml::Table::new();
    one.insert(
        "sources".into(),
        toml::Value::Array(vec![toml::Value::Table(first.clone())]),
    );
    let config = fx.dir.path().join("with-proposal.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n{}",
            std::fs::read_to_string(&fx.config).unwrap(),
            toml::to_string(&one).unwrap()
        ),
    )
    .unwrap();
    let check = niryat_output(vec![
        "check".into(),
        "--config".into(),
        config.clone().into(),
    ])
    .await;
    assert_eq!(
        check.status.code(),
        Some(0),
        "{name}: check: {}",
        text(&check.stderr)
    );
    let tested = niryat_output(vec![
        "test-source".into(),
        id.into(),
        "--limit".into(),
        "100".into(),
        "--config".into(),
        config.into(),
    ])
    .await;
    let stdout = text(&tested.stdout);
    assert_eq!(
        tested.status.code(),
        Some(0),
        "{name}: test-source: {}",
        text(&tested.stderr)
    );
    let want: Vec<String> = fx.spec["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| fx.url(a.as_str().unwrap()))
        .collect();
    assert_eq!(listed_urls(&stdout), want, "{name}: {stdout}");
    assert!(
        stdout.contains(&format!("{} item(s) listed", want.len())),
        "{stdout}"
    );
    (found, text(&out.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpr_drupal_listing_with_a_pager() {
    let (found, _) = first_proposal_lists_exactly_the_articles("dpr-listing").await;
    assert_eq!(found.len(), 1, "no feed, no WordPress: one listing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpr_date_wise_listing_becomes_a_date_template() {
    first_proposal_lists_exactly_the_articles("dpr-date-wise").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordpress_generatepress_feed_first_then_rest_api_then_listing() {
    let (found, stdout) = first_proposal_lists_exactly_the_articles("wp-gp").await;
    assert!(
        stdout.contains(
            "# feed: linked from the page (<link rel=\"alternate\" type=\"application/rss+xml\">)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("# wordpress: Link header rel=\"https://api.w.org/\"; /wp-json/wp/v2/posts answered with 4 post(s)"),
        "{stdout}"
    );
    let kinds: Vec<&str> = found.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["feed", "wordpress", "html"]);
    let wp = &found[1];
    let search: Vec<&str> = wp["search"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(search, ["निर्यात", "export", "एक्सपोर्ट"]);
    assert_eq!(wp["enabled"].as_bool(), Some(false), "alternatives are off");
    let listing = fixture_site("wp-gp")["listing"].clone();
    let list = found[2]["list"].as_table().unwrap();
    assert_eq!(list["item"].as_str(), listing["item"].as_str());
    assert_eq!(list["link"].as_str(), listing["link"].as_str());
    assert_eq!(list["next"].as_str(), listing["next"].as_str());
    let ids: Vec<&str> = found.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["127-0-0-1", "127-0-0-1-2", "127-0-0-1-3"]);

    // Given the feed itself, discover proposes it.
    let fx = Fixture::serve("wp-gp").await;
    let out = fx.run(&["discover", &fx.url("/feed/")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("# feed: the URL itself is a feed; 4 entries"));
    let found = proposals(&out);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["url"].as_str(), Some(fx.url("/feed/").as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordpress_newspaper_feed_and_api_found_without_any_link_to_them() {
    let (found, stdout) = first_proposal_lists_exactly_the_articles("wp-td").await;
    assert!(
        stdout.contains("# feed: found at /feed/; 4 entries, 0 with the full text"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# wordpress: no API link on the page;"),
        "{stdout}"
    );
    let kinds: Vec<&str> = found.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["feed", "wordpress", "html"]);
    let listing = fixture_site("wp-td")["listing"].clone();
    let list = found[2]["list"].as_table().unwrap();
    assert_eq!(list["item"].as_str(), listing["item"].as_str());
    assert_eq!(list["next"].as_str(), listing["next"].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3waas_press_release_table() {
    first_proposal_lists_exactly_the_articles("s3waas").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_table_layout_portal() {
    first_proposal_lists_exactly_the_articles("legacy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_news_list_wins_over_a_longer_related_box() {
    let (found, _) = first_proposal_lists_exactly_the_articles("related").await;
    assert_eq!(found.len(), 1, "the related box is not proposed at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_menus_only_finds_nothing_and_exits_1() {
    let fx = Fixture::serve("menus-only").await;
    let out = fx.run(&["discover", &fx.start()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing repeated on the page"), "{stderr}");
    assert!(stderr.contains("menu"), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_and_javascript_pages_exit_1_with_the_reason() {
    let fx = Fixture::serve("dpr-listing").await;
    fx.site.set(
        "/robots.txt",
        Page::Raw(ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /news/\n")),
    );
    let out = fx.run(&["discover", &fx.start()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("blocked by robots.txt"), "{stderr}");
    assert_eq!(
        fx.server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/news/district-news")
            .count(),
        0,
        "a disallowed page is never fetched"
    );

    fx.site.set(
        "/app",
        Page::Html(
            br#"<!doctype html><html><head><title>District news</title><script src="/static/js/main.4f1c.js"></script></head>
<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div></body></html>"#
                .to_vec(),
        ),
    );
    let out = fx.run(&["discover", &fx.url("/app")]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the page needs JavaScript"), "{stderr}");

    let out = fx.run(&["discover", &fx.url("/no-such-page")]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/no-such-page: server answered HTTP 404"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_exit_2() {
    let fx = Fixture::serve("dpr-listing").await;
    let start = fx.start();
    for (args, what) in [
        (vec!["discover", "not a url"], "is not a URL"),
        (vec!["discover", "ftp://example.org/"], "http or https"),
        (vec!["discover", &start, "--id", "dpr news"], "--id"),
        (vec!["discover", &start, "--proxy", "gopher://x"], "--proxy"),
        (vec!["discover", "--source", "nope"], "no source with id"),
        (vec!["discover"], "required"),
        (
            vec!["discover", "--source", "x", "--write"],
            "cannot be used",
        ),
    ] {
        let out = fx.run(&args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(what), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_flag_prints_the_verdicts_as_comments() {
    let fx = Fixture::serve("dpr-listing").await;
    let out = fx
        .run(&["discover", &fx.start(), "--id", "dpr-found", "--test"])
        .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Still valid TOML: the report is in comment lines.
    assert_eq!(proposals(&out)[0]["id"].as_str(), Some("dpr-found"));
    assert!(stdout.contains("# dpr-found ("), "{stdout}");
    assert!(stdout.contains("10 item(s) listed"), "{stdout}");
    assert_eq!(stdout.matches("# [POST]").count(), 6, "{stdout}");
    assert_eq!(stdout.matches("# [skip]").count(), 4, "{stdout}");
    assert!(
        stdout.contains("#   topic=true chhattisgarh=true district=Durg"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_appends_after_validation_and_keeps_a_backup() {
    let fx = Fixture::serve("related").await;
    let before = std::fs::read_to_string(&fx.config).unwrap();
    let out = fx
        .run(&["discover", &fx.start(), "--id", "cgdarpan-durg", "--write"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("niryat.toml.bak"));
    let backup = fx.dir.path().join("niryat.toml.bak");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
    let after = std::fs::read_to_string(&fx.config).unwrap();
    assert!(after.starts_with(&before), "appended, nothing else changed");
    let settings = niryat::config::Settings::from_toml(&after, Path::new("niryat.toml")).unwrap();
    let src = settings.source("cgdarpan-durg").unwrap();
    assert_eq!(src.url.as_str(), fx.start());

    // The same id again fails validation: exit 2, nothing written, no new backup.
    let out = fx
        .run(&["discover", &fx.start(), "--id", "cgdarpan-durg", "--write"])
        .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("duplicate source id"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&fx.config).unwrap(), after);
    assert!(!fx.dir.path().join("niryat.toml.bak.1").exists());

    // Another id: a second backup, the first one kept.
    let out = fx
        .run(&["discover", &fx.start(), "--id", "cgdarpan-2", "--write"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(fx.dir.path().join("niryat.toml.bak.1")).unwrap(),
        after
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_flag_prints_the_diff_of_stale_selectors() {
    let fx = Fixture::serve("dpr-listing").await;
    let stale = html_source(DPR, &fx.start())
        .list("item", ".news-list .news-item")
        .to_string();
    let mut config = std::fs::read_to_string(&fx.config).unwrap();
    config.push_str(&stale);
    std::fs::write(&fx.config, config).unwrap();
    let out = fx.run(&["discover", "--source", "dpr-district-news"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains("# - list.item = \".news-list .news-item\"\n# + list.item = \"div.view-content > div.views-row\""),
        "{stdout}"
    );
    assert!(stdout.contains("#   list.link = \"h3 a\""), "{stdout}");
    assert!(
        stdout.contains("# - list.next = (none)\n# + list.next = \"li.pager-next a\""),
        "{stdout}"
    );
    assert_eq!(
        proposals(&out)[0]["id"].as_str(),
        Some("dpr-district-news"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_comes_from_the_flag_or_the_config() {
    // The fake site doubles as an HTTP proxy: a request for an unreachable host reaches it in
    // absolute form, so the page is found only if the proxy is really used.
    let fx = Fixture::serve("related").await;
    let target = "http://district.invalid/district/durg";
    let out = fx
        .run(&["discover", target, "--proxy", &fx.server.uri()])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(proposals(&out)[0]["id"].as_str(), Some("district-invalid"));

    let out = fx.run(&["discover", target]).await;
    assert_eq!(out.status.code(), Some(1), "no proxy: unreachable");

    let config = std::fs::read_to_string(&fx.config).unwrap().replace(
        "[fetch]\n",
        &format!("[fetch]\nproxy = \"{}\"\n", fx.server.uri()),
    );
    std::fs::write(&fx.config, config).unwrap();
    let out = fx.run(&["discover", target]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
