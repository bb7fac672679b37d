//! `spawn_app()`: a fake news site and a fake Telegram Bot API on loopback, a temporary SQLite
//! file, and the app built exactly as `main` builds it (`App::build(Settings, token, shutdown)`).
//! The fake Bot API also plays users: `getUpdates` hands out the messages and button taps a test
//! queued (then nothing), and every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use niryat::app::{App, PassReport};
use niryat::bot::BotHandle;
use niryat::config::Settings;
pub use niryat::engine::Clock;
use niryat::notify::BotToken;
use niryat::shutdown::{self, Shutdown, Trigger};
use niryat::store::Store;
use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

/// The real binary, as a user runs it: no token, no config from the environment, repo root as cwd.
pub fn niryat() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("niryat").unwrap();
    c.env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("NIRYAT_CONFIG")
        .env("RUST_LOG", "info")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Run the binary from an async test (the fake servers live on this runtime, so the blocking
/// wait happens on the blocking pool).
pub async fn niryat_output(args: Vec<std::ffi::OsString>) -> std::process::Output {
    tokio::task::spawn_blocking(move || niryat().args(args).output().unwrap())
        .await
        .unwrap()
}

/// The fake bot token used by every test. Obviously fake, never a real one.
pub const TOKEN: &str = "123456:TEST-niryat-fake-token";
pub const CHANNEL: &str = "@niryat_test";

/// The id of the DPR source every test config has.
pub const DPR: &str = "dpr-district-news";

/// 23:59:59 on 2 December 2026 in Asia/Kolkata, for tests that pin the app's clock.
pub const LAST_SECOND_OF_A_DAY_IST: &str = "2026-12-02T18:29:59Z";

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A page the fake site serves.
#[derive(Clone)]
#[allow(dead_code)]
pub enum Page {
    Html(Vec<u8>),
    Status(u16),
    Delay(Duration, Vec<u8>),
    Raw(ResponseTemplate),
    /// Served with an ETag; answers 304 to a matching If-None-Match.
    Cached(String, Vec<u8>),
    /// Served with a Last-Modified date; answers 304 to a matching If-Modified-Since.
    LastModified(String, Vec<u8>),
}

/// The fake news site: a path → page map the test can change between passes. It remembers when
/// each path was asked for.
#[derive(Clone, Default)]
pub struct Site {
    pages: Arc<Mutex<HashMap<String, Page>>>,
    asked: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
}

impl Site {
    pub fn set(&self, path: &str, page: Page) {
        self.pages.lock().unwrap().insert(path.to_owned(), page);
    }

    /// Whether `path` was asked for after `since`.
    pub fn asked_after(&self, path: &str, since: std::time::Instant) -> bool {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .any(|(p, t)| p == path && *t > since)
    }

    /// When `path` was first asked for.
    pub fn first_asked(&self, path: &str) -> Option<std::time::Instant> {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| *t)
    }
}

impl Respond for Site {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.asked
            .lock()
            .unwrap()
            .push((req.url.path().to_owned(), std::time::Instant::now()));
        let path = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let page = {
            let pages = self.pages.lock().unwrap();
            pages
                .get(&path)
                .or_else(|| pages.get(req.url.path()))
                .cloned()
        };
        match page {
            Some(Page::Html(b)) => ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_bytes(b),
            Some(Page::Status(s)) => ResponseTemplate::new(s).set_body_string("error"),
            Some(Page::Delay(d, b)) => ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_bytes(b)
                .set_delay(d),
            Some(Page::Raw(t)) => t,
            Some(Page::Cached(etag, b)) => {
                let matches = req
                    .headers
                    .get("if-none-match")
                    .and_then(|v| v.to_str().ok())
                    == Some(etag.as_str());
                if matches {
                    ResponseTemplate::new(304).insert_header("etag", etag.as_str())
                } else {
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "text/html; charset=utf-8")
                        .insert_header("etag", etag.as_str())
                        .set_body_bytes(b)
                }
            }
            Some(Page::LastModified(date, b)) => {
                let matches = req
                    .headers
                    .get("if-modified-since")
                    .and_then(|v| v.to_str().ok())
                    == Some(date.as_str());
                if matches {
                    ResponseTemplate::new(304)
                } else {
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "text/html; charset=utf-8")
                        .insert_header("last-modified", date.as_str())
                        .set_body_bytes(b)
                }
            }
            None => ResponseTemplate::new(404).set_body_string("not found"),
        }
    }
}

/// A scripted answer: for one method (`Some("editmessagetext")`) or any (`None`).
type Scripted = (Option<String>, ResponseTemplate);

/// The fake Telegram Bot API: answers sendMessage with a new message_id, or with scripted
/// responses queued by the test (a 429, a 403 …), optionally for one method only; a chat can be
/// made to refuse every request. `getUpdates` returns the user messages and button taps queued
/// with [`Telegram::user_says`] and [`Telegram::user_taps`], then an empty list after a short
/// wait (as a long poll with nothing new would).
#[derive(Clone, Default)]
pub struct Telegram {
    next_id: Arc<AtomicI64>,
    /// `(method, response)`: `None` answers the next request of any method but getUpdates.
    scripted: Arc<Mutex<VecDeque<Scripted>>>,
    refused: Arc<Mutex<HashMap<String, ResponseTemplate>>>,
    /// `(method, when)` of every request, in arrival order.
    arrivals: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
    /// Every message answered with a message_id, logged the moment its request arrived: what
    /// Telegram would have accepted, even if the sender died before reading the answer.
    accepted: Arc<Mutex<Vec<Accepted>>>,
    /// Answer each accepted message after 30–80 ms, so a kill can land mid-send.
    slow: Arc<std::sync::atomic::AtomicBool>,
    updates: Arc<Mutex<VecDeque<Value>>>,
    next_update: Arc<AtomicI64>,
}

/// How long the fake holds a `getUpdates` that has nothing to return.
const EMPTY_POLL: Duration = Duration::from_millis(30);

/// A Telegram user as updates carry it.
fn user_json(user: i64, lang: Option<&str>) -> Value {
    let mut u = json!({"id": user, "is_bot": false, "first_name": format!("user{user}")});
    if let Some(l) = lang {
        u["language_code"] = json!(l);
    }
    u
}

/// A message the fake Telegram accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub message_id: i64,
    /// The report it carries: its first button's URL.
    pub source: String,
    /// The sender's User-Agent (`[fetch] user_agent`), e.g. to tell processes apart.
    pub user_agent: String,
}

impl Telegram {
    /// The messages accepted so far, in arrival order.
    pub fn accepted(&self) -> Vec<Accepted> {
        self.accepted.lock().unwrap().clone()
    }

    /// When each request of `method` (lower case, e.g. "sendmessage") arrived, in order.
    pub fn arrivals(&self, method: &str) -> Vec<std::time::Instant> {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, t)| *t)
            .collect()
    }

    pub fn push(&self, t: ResponseTemplate) {
        self.scripted.lock().unwrap().push_back((None, t));
    }

    /// Answer the next request of `method` (e.g. "editmessagetext") with `t`.
    pub fn push_for(&self, method: &str, t: ResponseTemplate) {
        self.scripted
            .lock()
            .unwrap()
            .push_back((Some(method.to_ascii_lowercase()), t));
    }

    /// Answer every request to `chat` (its `chat_id`) with `t`.
    pub fn refuse_chat(&self, chat: &str, t: ResponseTemplate) {
        self.refused.lock().unwrap().insert(chat.to_owned(), t);
    }

    /// Stop refusing `chat`.
    pub fn allow_chat(&self, chat: &str) {
        self.refused.lock().unwrap().remove(chat);
    }

    fn push_update(&self, kind: &str, payload: Value) {
        let id = self.next_update.fetch_add(1, Ordering::SeqCst) + 1;
        let mut update = json!({"update_id": id});
        update[kind] = payload;
        self.updates.lock().unwrap().push_back(update);
    }

    /// `user` (with Telegram's `language_code`, if any) sends `text` to the bot in private chat.
    pub fn user_says(&self, user: i64, lang: Option<&str>, text: &str) {
        let message_id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        self.push_update(
            "message",
            json!({
                "message_id": message_id,
                "date": 1_700_000_000,
                "chat": {"id": user, "type": "private", "first_name": format!("user{user}")},
                "from": user_json(user, lang),
                "text": text,
            }),
        );
    }

    /// `user` taps an inline button carrying `data` under the bot's message `message_id`.
    pub fn user_taps(&self, user: i64, lang: Option<&str>, message_id: i64, data: &str) {
        let id = self.next_update.load(Ordering::SeqCst) + 1;
        self.push_update(
            "callback_query",
            json!({
                "id": format!("cb{id}"),
                "from": user_json(user, lang),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": 1_700_000_000,
                    "chat": {"id": user, "type": "private", "first_name": format!("user{user}")},
                    "text": "list",
                },
            }),
        );
    }

    fn bot_api(&self, method: &str) -> Option<ResponseTemplate> {
        let ok = |result: Value| {
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": result}))
        };
        Some(match method {
            "getupdates" => {
                let updates: Vec<Value> = self.updates.lock().unwrap().drain(..).collect();
                if updates.is_empty() {
                    ok(json!([])).set_delay(EMPTY_POLL)
                } else {
                    ok(Value::Array(updates))
                }
            }
            "getme" => ok(json!({
                "id": 123456, "is_bot": true, "first_name": "niryat", "username": "niryat_test_bot",
                "can_join_groups": false, "can_read_all_group_messages": false,
                "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
            })),
            "getwebhookinfo" => {
                ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
            }
            "deletewebhook" | "setmycommands" | "answercallbackquery" => ok(json!(true)),
            _ => return None,
        })
    }
}

pub fn tg_error(code: u16, description: &str, parameters: Option<Value>) -> ResponseTemplate {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    ResponseTemplate::new(code).set_body_json(body)
}

/// The Bot API method of a request, in lower case ("sendmessage").
fn bot_method(req: &Request) -> String {
    req.url
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

impl Respond for Telegram {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let method = bot_method(req);
        self.arrivals
            .lock()
            .unwrap()
            .push((method.clone(), std::time::Instant::now()));
        let chat = match &body["chat_id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(t) = self.refused.lock().unwrap().get(&chat) {
            return t.clone();
        }
        {
            let mut scripted = self.scripted.lock().unwrap();
            let pos = scripted.iter().position(|(m, _)| match m {
                Some(m) => *m == method,
                None => method != "getupdates",
            });
            if let Some(t) = pos.and_then(|i| scripted.remove(i)) {
                return t.1;
            }
        }
        if let Some(t) = self.bot_api(&method) {
            return t;
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let text = body.get("text").cloned().unwrap_or(Value::Null);
        self.accepted.lock().unwrap().push(Accepted {
            message_id: id,
            source: button_urls(&body).into_iter().next().unwrap_or_default(),
            user_agent: req
                .headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        });
        let answer = ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {
                "message_id": id,
                "date": 1_700_000_000,
                "chat": {"id": -1_001_234_567_890i64, "type": "channel", "title": "niryat test"},
                "text": text,
            }
        }));
        if self.slow.load(Ordering::SeqCst) {
            answer.set_delay(Duration::from_millis(30 + (id as u64 * 37) % 50))
        } else {
            answer
        }
    }
}

pub struct TestApp {
    pub site_server: MockServer,
    pub tg_server: MockServer,
    pub site: Site,
    pub telegram: Telegram,
    pub dir: TempDir,
    pub config_path: PathBuf,
    pub app: Option<Arc<App>>,
    pub trigger: Trigger,
    pub stop: Shutdown,
}

/// Options for the generated config.
pub struct Options {
    /// Extra TOML appended to the config (more sources, overrides).
    /// `{site}` in it is replaced by the fake site's base URL.
    pub extra_sources: String,
    pub token: bool,
    /// `backfill` of the DPR source.
    pub backfill: usize,
    /// Telegram answers each message after 30–80 ms.
    pub slow_telegram: bool,
    /// Extra keys of `[telegram]` (e.g. `admins = [42]`).
    pub telegram: String,
    /// `[bot] enabled`.
    pub bot: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            extra_sources: String::new(),
            token: true,
            backfill: 0,
            slow_telegram: false,
            telegram: String::new(),
            bot: false,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    let site_server = MockServer::start().await;
    let tg_server = MockServer::start().await;
    let site = Site::default();
    let telegram = Telegram::default();
    telegram.slow.store(opts.slow_telegram, Ordering::SeqCst);
    Mock::given(any())
        .respond_with(site.clone())
        .mount(&site_server)
        .await;
    Mock::given(any())
        .respond_with(telegram.clone())
        .mount(&tg_server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("niryat.toml");
    let config = config_toml(
        &site_server.uri(),
        &tg_server.uri(),
        dir.path(),
        opts.backfill,
        &opts.extra_sources.replace("{site}", &site_server.uri()),
    )
    .replace(
        "per_minute = 1000\n",
        &format!("per_minute = 1000\n{}\n", opts.telegram),
    );
    let config = if opts.bot {
        format!("{config}\n[bot]\nenabled = true\n")
    } else {
        config
    };
    std::fs::write(&config_path, config).unwrap();
    let (trigger, stop) = shutdown::channel();
    let settings = Settings::load(&config_path).unwrap();
    let token = opts.token.then(|| BotToken::new(TOKEN));
    let app = App::build(settings, token, stop.clone()).unwrap();
    TestApp {
        site_server,
        tg_server,
        site,
        telegram,
        dir,
        config_path,
        app: Some(Arc::new(app)),
        trigger,
        stop,
    }
}

/// One `[[sources]]` table of a test config, built instead of repeated TOML. `{site}` in a URL is
/// replaced by the fake site's address (see [`Options::extra_sources`]). Test sources carry
/// `max_age = "36500d"`: the fixture notes are from 2022.
#[derive(Debug, Clone)]
pub struct SourceToml {
    head: Vec<(String, String)>,
    list: Vec<(String, String)>,
    article: Vec<(String, String)>,
}

/// A DPR-style html listing: `.view-content .views-row` items, `h3 a` links.
pub fn html_source(id: &str, url: &str) -> SourceToml {
    SourceToml::new(id, "html", url)
        .list("item", ".view-content .views-row")
        .list("link", "h3 a")
}

/// A WordPress source searching for निर्यात.
pub fn wordpress_source(id: &str, url: &str) -> SourceToml {
    SourceToml::new(id, "wordpress", url).key("search", r#"["निर्यात"]"#)
}

/// A feed source.
pub fn feed_source(id: &str, url: &str) -> SourceToml {
    SourceToml::new(id, "feed", url)
}

impl SourceToml {
    fn new(id: &str, kind: &str, url: &str) -> Self {
        Self {
            head: vec![
                ("id".into(), format!("{id:?}")),
                ("max_age".into(), "\"36500d\"".into()),
                ("kind".into(), format!("{kind:?}")),
                ("url".into(), format!("{url:?}")),
            ],
            list: Vec::new(),
            article: Vec::new(),
        }
    }

    /// A source key with a TOML value as written (`5`, `true`, `["a"]`, `"\"7d\""`).
    pub fn key(mut self, key: &str, toml: impl std::fmt::Display) -> Self {
        self.head.retain(|(k, _)| k != key);
        self.head.push((key.into(), toml.to_string()));
        self
    }

    /// A string-valued source key.
    pub fn text(self, key: &str, value: &str) -> Self {
        self.key(key, format!("{value:?}"))
    }

    /// Drop a key (e.g. `max_age`, to get the default).
    pub fn without(mut self, key: &str) -> Self {
        self.head.retain(|(k, _)| k != key);
        self
    }

    /// A `[sources.list]` key with a TOML value as written.
    pub fn list_key(mut self, key: &str, toml: impl std::fmt::Display) -> Self {
        self.list.retain(|(k, _)| k != key);
        self.list.push((key.into(), toml.to_string()));
        self
    }

    /// A string-valued `[sources.list]` key (a selector).
    pub fn list(self, key: &str, selector: &str) -> Self {
        self.list_key(key, format!("{selector:?}"))
    }

    /// The DPR article selectors: `h1.page-title`, `.field-name-body`, `.date-display-single`.
    pub fn dpr_article(mut self) -> Self {
        self.article = [
            ("title", "h1.page-title"),
            ("body", ".field-name-body"),
            ("date", ".date-display-single"),
        ]
        .iter()
        .map(|(k, v)| ((*k).into(), format!("{v:?}")))
        .collect();
        self
    }

    /// Without `[sources.article] date`.
    pub fn without_article_date(mut self) -> Self {
        self.article.retain(|(k, _)| k != "date");
        self
    }
}

impl std::fmt::Display for SourceToml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "\n[[sources]]")?;
        for (k, v) in &self.head {
            writeln!(f, "{k} = {v}")?;
        }
        for (table, keys) in [("list", &self.list), ("article", &self.article)] {
            if !keys.is_empty() {
                writeln!(f, "[sources.{table}]")?;
                for (k, v) in keys {
                    writeln!(f, "{k} = {v}")?;
                }
            }
        }
        Ok(())
    }
}

/// The config a test runs with: one DPR-style html source on the fake site; politeness delays off.
pub fn config_toml(site: &str, tg: &str, dir: &Path, backfill: usize, extra: &str) -> String {
    format!(
        r#"
[storage]
path = "{db}"

[telegram]
channel = "{CHANNEL}"
api_url = "{tg}"
per_second = 100
per_minute = 1000
per_chat_per_second = 50
overall_per_second = 500

[schedule]
cron = "0 */15 * * * *"
timezone = "Asia/Kolkata"

[fetch]
timeout = "5s"
connect_timeout = "2s"
min_delay = "0s"
per_host_concurrency = 1
respect_robots_txt = true

{dpr}
{extra}
"#,
        dpr = html_source(DPR, &format!("{site}/news/district-news"))
            .key("backfill", backfill)
            .dpr_article(),
        db = dir.join("niryat.sqlite3").display(),
    )
}

impl TestApp {
    pub fn app(&self) -> &App {
        self.app.as_deref().unwrap()
    }

    /// Start the bot beside the app, as the daemon does with `[bot] enabled = true`.
    pub fn start_bot(&self) -> BotHandle {
        niryat::bot::start(Arc::clone(self.app.as_ref().unwrap()), self.stop.clone())
            .expect("the bot starts (a token is set)")
    }

    pub async fn run_once(&self) -> PassReport {
        self.app().run_once().await
    }

    /// Simulate a restart: drop the app (releasing the database lock) and build a new one from
    /// the same config file and database.
    pub fn restart(&mut self) {
        self.restart_with(true);
    }

    /// A restart with the token set (`true`) or in dry-run.
    pub fn restart_with(&mut self, token: bool) {
        self.app = None;
        let (trigger, stop) = shutdown::channel();
        self.trigger = trigger;
        self.stop = stop.clone();
        let settings = Settings::load(&self.config_path).unwrap();
        let token = token.then(|| BotToken::new(TOKEN));
        self.app = Some(Arc::new(App::build(settings, token, stop).unwrap()));
    }

    /// Rewrite the config file (takes effect at the next restart).
    pub fn edit_config(&self, f: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.config_path).unwrap();
        std::fs::write(&self.config_path, f(text)).unwrap();
    }

    /// Release the database for a child process.
    pub fn release(&mut self) {
        self.app = None;
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("niryat.sqlite3")
    }

    /// The common opening: a first pass over DPR listing 1 (the baseline), then listing 2 is
    /// served, with 5 new items (3 positives, 2 hard negatives).
    pub async fn baseline_then_new_reports(&self) {
        serve_dpr(&self.site, 1);
        self.run_once().await;
        serve_dpr(&self.site, 2);
    }

    pub fn store(&self) -> &Store {
        &self.app().store
    }

    /// Every sendMessage request the fake Telegram received, as JSON bodies.
    pub async fn sent_messages(&self) -> Vec<Value> {
        tg_requests(self, "sendmessage").await
    }

    /// How many requests the fake site received for `path` (query ignored).
    pub async fn requests_to(&self, path: &str) -> usize {
        self.site_server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == path)
            .count()
    }

    pub fn site_url(&self, path: &str) -> String {
        format!("{}{path}", self.site_server.uri())
    }
}

/// The fixture manifest written by `tests/fixtures/sites/generate.py`.
pub fn manifest() -> Value {
    serde_json::from_slice(&fixture("sites/manifest.json")).unwrap()
}

/// Article pages of one family, from the manifest.
pub fn articles(family: &str) -> Vec<Value> {
    manifest()["pages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "article" && p["family"] == family)
        .cloned()
        .collect()
}

/// Serve DPR listing `n` (1, 2 or 3) at /news/district-news and every DPR article page.
pub fn serve_dpr(site: &Site, listing: u8) {
    site.set(
        "/news/district-news",
        Page::Html(fixture(&format!("sites/dpr/listing-{listing}.html"))),
    );
    for a in articles("dpr") {
        site.set(
            a["path"].as_str().unwrap(),
            Page::Html(fixture(a["file"].as_str().unwrap())),
        );
    }
}

/// The manifest entry whose path starts with `/post/<id>/`.
pub fn dpr_article(id: &str) -> Value {
    articles("dpr")
        .into_iter()
        .find(|a| {
            a["path"]
                .as_str()
                .unwrap()
                .starts_with(&format!("/post/{id}/"))
        })
        .unwrap_or_else(|| panic!("no DPR fixture {id}"))
}

/// Run the real binary as a child (`niryat ARGS --config CONFIG`), with the fake token or in
/// dry-run; stderr goes to `log` (appended) so a test can read it afterwards.
pub fn spawn_niryat(args: &[&str], config: &Path, token: bool, log: &Path) -> std::process::Child {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let stdout = stderr.try_clone().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_niryat"));
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("NIRYAT_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    if token {
        cmd.env("TELEGRAM_BOT_TOKEN", TOKEN);
    } else {
        cmd.env_remove("TELEGRAM_BOT_TOKEN");
    }
    cmd.spawn().unwrap()
}

/// Send a signal to a child.
pub fn signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Wait for a child without blocking the runtime that serves the fakes; panics after `limit`.
pub async fn wait_exit(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("niryat did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Poll `cond` until it holds; panics with `what` after `limit`. Tests wait on events, not sleeps.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !cond().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A read-only query on a database another process (or the app) is using.
pub fn query_db<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Option<T> {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?
        .query_row(sql, [], |r| r.get(0))
        .ok()
}

/// The URLs of a message's inline buttons (a post's source first, then its "also at" copies).
pub fn button_urls(msg: &Value) -> Vec<String> {
    msg["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|b| b["url"].as_str().map(str::to_owned))
        .collect()
}

/// Whether a sent post has a button to `url`.
pub fn links_to(msg: &Value, url: &str) -> bool {
    button_urls(msg).iter().any(|u| u == url)
}

/// Every request the fake Telegram received, in order: (method in lower case, JSON body).
pub async fn tg_log(t: &TestApp) -> Vec<(String, Value)> {
    t.tg_server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (bot_method(r), body)
        })
        .collect()
}

/// The requests of one Bot API method (e.g. "sendmessage") the fake Telegram received.
pub async fn tg_requests(t: &TestApp, method: &str) -> Vec<Value> {
    tg_log(t)
        .await
        .into_iter()
        .filter(|(m, _)| m == method)
        .map(|(_, body)| body)
        .collect()
}

/// A DPR-style listing of `(path, title)` rows, newest first.
pub fn listing_html(rows: &[(String, String)]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html lang=\"hi\"><head><meta charset=\"utf-8\"><title>जिला समाचार</title></head>\
         <body><nav><a href=\"/\">मुख्य पृष्ठ</a><a href=\"/news\">समाचार</a></nav>\
         <div class=\"view view-district-news\"><div class=\"view-content\">\n",
    );
    for (path, title) in rows {
        s.push_str(&format!(
            "<div class=\"views-row\"><div class=\"views-field views-field-title\"><h3 class=\"news-title\"><a href=\"{path}\">{}</a></h3></div>\
             <div class=\"views-field views-field-created\"><span class=\"date-display-single\">12/05/2022</span></div></div>\n",
            niryat::core::render::escape_html(title)
        ));
    }
    s.push_str("</div></div></body></html>\n");
    s
}

/// A DPR-style article page: title, body paragraphs, an optional ISO date, and real-site chrome
/// (a menu, a sidebar of export headlines, a comment form).
pub fn article_html(title: &str, body: &str, date: Option<&str>) -> String {
    let esc = niryat::core::render::escape_html;
    let paras: String = body
        .split('\n')
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect();
    let date = date
        .map(|d| {
            format!("<span class=\"date-display-single\" content=\"{d}T10:00:00+05:30\">{d}</span>")
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"hi\"><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\
         <nav><a href=\"/\">मुख्य पृष्ठ</a><a href=\"/news\">समाचार</a></nav><h1 class=\"page-title\">{t}</h1>{date}\
         <div class=\"field-name-body\"><div class=\"field-item\">{paras}</div></div>\
         <aside><h2>ताज़ा खबरें</h2><a href=\"/x\">जिला निर्यात संवर्धन समिति की बैठक संपन्न</a></aside>\
         <form id=\"comment-form\"><h3>अपनी टिप्पणी दें</h3><textarea></textarea></form></body></html>",
        t = esc(title)
    )
}

/// The Chhattisgarh positives of the synthetic corpus: distinct notes (near-duplicate detection
/// keeps them apart), as `(title, text)`.
pub fn distinct_positives() -> Vec<(String, String)> {
    let corpus = String::from_utf8(fixture("corpus/synthetic.jsonl")).unwrap();
    corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["label"] == "positive" && r["state"] == "Chhattisgarh")
        .map(|r| {
            (
                r["title"].as_str().unwrap().to_owned(),
                r["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
