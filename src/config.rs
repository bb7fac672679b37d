//! Configuration: parse the TOML file, then validate it into typed [`Settings`].
//!
//! Two stages, as ripgrep does with its low- and high-level arguments: serde structs that mirror
//! the file exactly (`deny_unknown_fields`, so a typo is an error and never silently ignored),
//! then [`Settings`] with parsed URLs, compiled selectors, checked cron expressions and time zone.
//! Every error names the file and the key. The bot token is *not* here: it comes only from the
//! `TELEGRAM_BOT_TOKEN` environment variable (see [`crate::notify::BotToken`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::core::entries;
use crate::core::page::{ArticleRules, ListRules};
use crate::core::quiet::QuietHours;

pub mod env;
pub mod keys;

use keys::Leaf;

/// Default location of the config file; `NIRYAT_CONFIG` or `--config` override it.
pub const DEFAULT_CONFIG_PATH: &str = "config/niryat.toml";
/// `[schedule] timezone` when not set: the time zone of every date niryat reads and shows.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Kolkata;
/// Most listing pages one pass may read (`[sources.list] max_pages`).
pub const MAX_PAGES: usize = 50;
/// Most days a `{date:…}` template or a WordPress search may reach back (`days`).
pub const MAX_DAYS: u32 = 366;
/// Default `max_new_per_pass`.
pub const DEFAULT_MAX_NEW_PER_PASS: usize = 50;
/// Default `[alerts] empty_listing_passes`.
pub const DEFAULT_EMPTY_LISTING_PASSES: u32 = 3;
/// Default `[alerts] silent_days`.
pub const DEFAULT_SILENT_DAYS: u32 = 7;
/// Default `max_age`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A config file that cannot be used. Messages always carry the file path, and the key when one
/// is at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    /// A `NIRYAT__…` environment variable that names no key or cannot be applied.
    #[error("environment variable {var} (overriding {path}): {message}")]
    Env {
        path: PathBuf,
        var: String,
        message: String,
    },
}

// ---------------------------------------------------------------- stage 1: the file as written

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    storage: RawStorage,
    telegram: RawTelegram,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    detection: RawDetection,
    #[serde(default)]
    bot: RawBot,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    alerts: RawAlerts,
    #[serde(default)]
    server: RawServer,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    empty_listing_passes: Option<u32>,
    silent_days: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBot {
    #[serde(default)]
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelegram {
    channel: String,
    api_url: Option<String>,
    admin_chat: Option<String>,
    #[serde(default = "default_per_second")]
    per_second: u32,
    #[serde(default = "default_per_minute")]
    per_minute: u32,
    #[serde(default = "default_per_chat_per_second")]
    per_chat_per_second: u32,
    #[serde(default = "default_overall_per_second")]
    overall_per_second: u32,
    link_preview: Option<String>,
    quiet_hours: Option<String>,
    #[serde(default)]
    admins: Vec<i64>,
}

fn default_per_chat_per_second() -> u32 {
    1
}
fn default_overall_per_second() -> u32 {
    30
}

fn default_per_second() -> u32 {
    1
}
fn default_per_minute() -> u32 {
    20
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    #[serde(default = "default_cron")]
    cron: String,
    #[serde(default = "default_tz")]
    timezone: String,
}

impl Default for RawSchedule {
    fn default() -> Self {
        Self {
            cron: default_cron(),
            timezone: default_tz(),
        }
    }
}

fn default_cron() -> String {
    "0 */15 * * * *".into()
}
fn default_tz() -> String {
    DEFAULT_TIMEZONE.name().into()
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    user_agent: Option<String>,
    contact: Option<String>,
    timeout: Option<String>,
    connect_timeout: Option<String>,
    per_host_concurrency: Option<usize>,
    min_delay: Option<String>,
    respect_robots_txt: Option<bool>,
    parse_timeout: Option<String>,
    proxy: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDetection {
    vocabulary: Option<PathBuf>,
    threshold: Option<f64>,
}

/// The keys every source kind accepts, then the kind's own: one struct per kind, so a key that
/// does not apply to a kind is an unknown key, named by the TOML reader.
macro_rules! raw_source {
    ($name:ident { $($(#[$meta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            id: String,
            url: String,
            schedule: Option<String>,
            #[serde(default)]
            backfill: usize,
            timeout: Option<String>,
            proxy: Option<String>,
            respect_robots_txt: Option<bool>,
            #[serde(default = "default_true")]
            enabled: bool,
            max_new_per_pass: Option<usize>,
            max_age: Option<String>,
            $($(#[$meta])* $field: $ty,)*
        }
    };
}

raw_source!(RawHtml {
    /// Days walked back by a `{date:…}` URL template.
    days: Option<u32>,
    list: RawList,
    article: Option<RawArticle>,
});
raw_source!(RawFeed {
    article: Option<RawArticle>,
});
raw_source!(RawWordPress {
    /// Days searched back.
    days: Option<u32>,
    search: Vec<String>,
    /// Accept post links on another host than the site's.
    allow_other_hosts: Option<bool>,
});

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum RawSource {
    Html(RawHtml),
    Feed(RawFeed),
    #[serde(rename = "wordpress")]
    WordPress(RawWordPress),
}

/// What every kind shares, taken out of the kind's struct.
struct RawCommon {
    id: String,
    url: String,
    schedule: Option<String>,
    backfill: usize,
    timeout: Option<String>,
    proxy: Option<String>,
    respect_robots_txt: Option<bool>,
    enabled: bool,
    max_new_per_pass: Option<usize>,
    max_age: Option<String>,
}

macro_rules! common {
    ($s:expr) => {
        RawCommon {
            id: $s.id,
            url: $s.url,
            schedule: $s.schedule,
            backfill: $s.backfill,
            timeout: $s.timeout,
            proxy: $s.proxy,
            respect_robots_txt: $s.respect_robots_txt,
            enabled: $s.enabled,
            max_new_per_pass: $s.max_new_per_pass,
            max_age: $s.max_age,
        }
    };
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    item: String,
    link: String,
    next: Option<String>,
    max_pages: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticle {
    title: String,
    body: String,
    date: Option<String>,
}

// ---------------------------------------------------------------- stage 2: validated settings

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file it came from (for messages).
    pub file: PathBuf,
    pub storage_path: PathBuf,
    pub telegram: TelegramSettings,
    pub timezone: Tz,
    pub fetch: FetchSettings,
    /// Operator extension of the detection vocabulary, already read and checked.
    pub vocabulary: Option<VocabularyFile>,
    /// `[detection] threshold`: the topic probability from which a report counts as on topic; `None`
    /// keeps the threshold shipped with the learned weights (src/core/weights.toml).
    pub detection_threshold: Option<f64>,
    pub bot: BotSettings,
    pub sources: Vec<SourceSettings>,
    pub alerts: AlertSettings,
    pub server: ServerSettings,
    /// Where each key outside `[[sources]]` came from, and every override of a source's key
    /// (what `niryat check` shows).
    pub origins: Vec<KeyOrigin>,
}

/// `[alerts]`: when a source that is not failing still looks broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSettings {
    /// Alert after this many passes in a row whose listing matched nothing.
    pub empty_listing_passes: u32,
    /// Alert when a source that used to have new items has had none for this many days.
    pub silent_days: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            empty_listing_passes: DEFAULT_EMPTY_LISTING_PASSES,
            silent_days: DEFAULT_SILENT_DAYS,
        }
    }
}

/// `[server]`: the HTTP endpoint (health, readiness, metrics, status page); off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerSettings {
    pub listen: Option<std::net::SocketAddr>,
}

/// `[bot]`: the bot that answers subscribers in private chat.
#[derive(Debug, Clone, Default)]
pub struct BotSettings {
    /// Off unless `enabled = true`.
    pub enabled: bool,
}

/// `[telegram] link_preview`: how a post shows the link preview of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkPreview {
    #[default]
    Off,
    Small,
    Large,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File,
    /// The environment variable that set it.
    Env(String),
    Default,
}

/// One key's origin, and its value as TOML when it is set (`None`: the default applies).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOrigin {
    pub key: String,
    pub origin: Origin,
    pub value: Option<String>,
}

/// Every leaf key the config accepts, as a dotted path (`telegram.channel`, `sources.list.item`),
/// with its type: read from the serde structs (see [`keys`]), never listed by hand. Sources' keys
/// are the union over the kinds, under `sources.`.
pub fn known_keys() -> Vec<(String, Leaf)> {
    let mut all: Vec<(String, Leaf)> = keys::walk::<RawConfig>("")
        .into_iter()
        .filter(|(k, _)| k != "sources")
        .collect();
    all.push(("sources.kind".to_owned(), Leaf::String));
    for kind in [
        keys::walk::<RawHtml>("sources"),
        keys::walk::<RawFeed>("sources"),
        keys::walk::<RawWordPress>("sources"),
    ] {
        for k in kind {
            if !all.iter().any(|(seen, _)| *seen == k.0) {
                all.push(k);
            }
        }
    }
    all
}

/// An operator's vocabulary file: its path and content.
#[derive(Debug, Clone)]
pub struct VocabularyFile {
    pub path: PathBuf,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// `@username` or a numeric id such as `-1001234567890`.
    pub channel: String,
    pub api_url: Url,
    pub admin_chat: Option<String>,
    /// Posting rate to the channel.
    pub per_second: u32,
    pub per_minute: u32,
    /// Messages per second to one private chat (Telegram allows 1).
    pub per_chat_per_second: u32,
    /// Messages per second over all chats (Telegram allows 30).
    pub overall_per_second: u32,
    pub link_preview: LinkPreview,
    /// Posts in this window (in `[schedule] timezone`) go out without a notification sound.
    pub quiet_hours: Option<QuietHours>,
    /// Telegram user ids allowed to use the bot's admin commands.
    pub admins: Vec<i64>,
}

impl TelegramSettings {
    pub fn is_admin(&self, user: i64) -> bool {
        self.admins.contains(&user)
    }
}

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub per_host_concurrency: usize,
    pub min_delay: Duration,
    pub respect_robots_txt: bool,
    /// Longest time spent parsing one page; a page that takes longer is recorded as unprocessable.
    pub parse_timeout: Duration,
    /// Default proxy of every source (and of `niryat discover`); a source's own `proxy` wins.
    pub proxy: Option<Url>,
}

#[derive(Debug, Clone)]
pub struct SourceSettings {
    pub id: String,
    /// The listing/feed/site URL (for a dated template: today's expansion, for display).
    pub url: Url,
    /// A URL template with `{date:FORMAT}` placeholders, walked back `days` days from today.
    pub url_template: Option<String>,
    /// Days walked back by the template, or searched back by a wordpress source.
    pub days: u32,
    pub kind: SourceKind,
    /// 6-field cron expression, seconds first.
    pub cron: String,
    pub backfill: usize,
    pub timeout: Duration,
    pub proxy: Option<Url>,
    /// The global `[fetch] respect_robots_txt`, unless the source overrides it.
    pub respect_robots_txt: bool,
    /// The source's own override, if any (logged at start-up).
    pub robots_override: Option<bool>,
    pub enabled: bool,
    /// Most new items fetched in one pass; the rest wait for the next pass.
    pub max_new_per_pass: usize,
    /// Reports older than this (by dateline or publication date) are recorded, not posted.
    pub max_age: Duration,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A listing page scraped with CSS selectors, optionally paginated.
    Html {
        list: ListRules,
        /// Selector of the next-page link.
        next: Option<Selector>,
        /// Most listing pages read per pass.
        max_pages: usize,
        /// `None`: read the main text automatically.
        article: Option<ArticleRules>,
    },
    /// An RSS/Atom/JSON feed; entries without full content are fetched and read automatically
    /// (or with `article` selectors).
    Feed { article: Option<ArticleRules> },
    /// A WordPress site's REST API, searched for each term.
    WordPress {
        search: Vec<String>,
        /// Accept post links on another host than the site's.
        allow_other_hosts: bool,
    },
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Html { .. } => "html",
            Self::Feed { .. } => "feed",
            Self::WordPress { .. } => "wordpress",
        }
    }

    /// Article selectors, if configured.
    pub fn article(&self) -> Option<&ArticleRules> {
        match self {
            Self::Html { article, .. } | Self::Feed { article } => article.as_ref(),
            Self::WordPress { .. } => None,
        }
    }
}

impl Settings {
    /// Read and validate a config file, with the process's `NIRYAT__…` environment overrides.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Read and validate a config file with the given environment (`NIRYAT__…` overrides).
    pub fn load_with_env(
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_with_env(&text, path, vars)
    }

    /// Validate TOML text; `path` is only used in messages and to find the vocabulary file.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml_with_env(text, path, std::iter::empty())
    }

    /// Validate TOML text with environment overrides applied over it (see [`env`]).
    pub fn from_toml_with_env(
        text: &str,
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            path: path.to_owned(),
            message: message.trim_end().to_owned(),
        };
        let file: toml::Table = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        let known = known_keys();
        let mut table = file.clone();
        let overrides =
            env::apply(&mut table, vars, &known).map_err(|(var, message)| ConfigError::Env {
                path: path.to_owned(),
                var,
                message,
            })?;
        let raw: RawConfig = if overrides.is_empty() {
            // Read from the text: messages keep their line and column.
            toml::from_str(text).map_err(|e| syntax(e.to_string()))?
        } else {
            table.clone().try_into().map_err(|e: toml::de::Error| {
                let vars: Vec<&str> = overrides.iter().map(|o| o.var.as_str()).collect();
                syntax(format!(
                    "{} (with the environment overrides {})",
                    e.to_string().trim_end(),
                    vars.join(", ")
                ))
            })?
        };
        let origins = origins(&known, &file, &table, &overrides);
        let mut settings = Validator {
            path,
            overrides: &overrides,
        }
        .settings(raw)?;
        settings.origins = origins;
        Ok(settings)
    }

    pub fn source(&self, id: &str) -> Option<&SourceSettings> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// The origin of every key outside `[[sources]]`, then the overridden keys of sources.
fn origins(
    known: &[(String, Leaf)],
    file: &toml::Table,
    merged: &toml::Table,
    overrides: &[env::Override],
) -> Vec<KeyOrigin> {
    let mut out: Vec<KeyOrigin> = known
        .iter()
        .filter(|(k, _)| !k.starts_with("sources."))
        .map(|(key, _)| {
            let origin = match overrides.iter().find(|o| o.key == *key) {
                Some(o) => Origin::Env(o.var.clone()),
                None if env::get(file, key).is_some() => Origin::File,
                None => Origin::Default,
            };
            KeyOrigin {
                key: key.clone(),
                origin,
                value: env::get(merged, key).map(ToString::to_string),
            }
        })
        .collect();
    for o in overrides.iter().filter(|o| o.key.starts_with("sources[")) {
        let value = o
            .key
            .strip_prefix("sources[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(i, key)| {
                let source = merged.get("sources")?.get(i.parse::<usize>().ok()?)?;
                let t = source.as_table()?;
                env::get(t, key).map(ToString::to_string)
            });
        out.push(KeyOrigin {
            key: o.key.clone(),
            origin: Origin::Env(o.var.clone()),
            value,
        });
    }
    out
}

struct Validator<'a> {
    path: &'a Path,
    overrides: &'a [env::Override],
}

impl Validator<'_> {
    /// An invalid value: names the file and the key, and the environment variable when the value
    /// came from one.
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        let key = key.into();
        let mut message = message.into();
        if let Some(o) = self
            .overrides
            .iter()
            .find(|o| key == o.key || key.starts_with(&format!("{} (", o.key)))
        {
            message.push_str(&format!(" (set by the environment variable {})", o.var));
        }
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key,
            message,
        }
    }

    fn settings(&self, raw: RawConfig) -> Result<Settings, ConfigError> {
        let timezone: Tz = raw.schedule.timezone.parse().map_err(|_| {
            self.err(
                "schedule.timezone",
                format!(
                    "unknown time zone {:?} (use an IANA name such as \"Asia/Kolkata\")",
                    raw.schedule.timezone
                ),
            )
        })?;
        self.cron("schedule.cron", &raw.schedule.cron, timezone)?;
        let telegram = self.telegram(raw.telegram)?;
        let fetch = self.fetch(raw.fetch)?;
        if raw.storage.path.as_os_str().is_empty() {
            return Err(self.err("storage.path", "must not be empty"));
        }
        let vocabulary = match raw.detection.vocabulary {
            None => None,
            Some(p) => {
                let content = std::fs::read_to_string(&p).map_err(|e| {
                    self.err(
                        "detection.vocabulary",
                        format!("cannot read {}: {e}", p.display()),
                    )
                })?;
                Some(VocabularyFile { path: p, content })
            }
        };
        if let Some(t) = raw.detection.threshold
            && !crate::core::detect::valid_threshold(t)
        {
            return Err(self.err(
                "detection.threshold",
                format!("{t} must be a probability between 0 and 1 (exclusive), e.g. 0.6"),
            ));
        }
        let mut sources: Vec<SourceSettings> = Vec::with_capacity(raw.sources.len());
        for (i, s) in raw.sources.into_iter().enumerate() {
            let src = self.source(i, s, &raw.schedule.cron, timezone, &fetch)?;
            if sources.iter().any(|o| o.id == src.id) {
                return Err(self.err(
                    format!("sources[{i}].id"),
                    format!("duplicate source id {:?}: ids must be unique", src.id),
                ));
            }
            sources.push(src);
        }
        let alerts = self.alerts(&raw.alerts)?;
        let server = self.server(&raw.server)?;
        Ok(Settings {
            file: self.path.to_owned(),
            storage_path: raw.storage.path,
            telegram,
            timezone,
            fetch,
            vocabulary,
            detection_threshold: raw.detection.threshold,
            bot: BotSettings {
                enabled: raw.bot.enabled,
            },
            sources,
            alerts,
            server,
            origins: Vec::new(),
        })
    }

    fn alerts(&self, a: &RawAlerts) -> Result<AlertSettings, ConfigError> {
        let d = AlertSettings::default();
        let at_least_one = |key: &str, v: Option<u32>, default: u32| match v {
            Some(0) => Err(self.err(key, "must be at least 1")),
            v => Ok(v.unwrap_or(default)),
        };
        Ok(AlertSettings {
            empty_listing_passes: at_least_one(
                "alerts.empty_listing_passes",
                a.empty_listing_passes,
                d.empty_listing_passes,
            )?,
            silent_days: at_least_one("alerts.silent_days", a.silent_days, d.silent_days)?,
        })
    }

    fn server(&self, s: &RawServer) -> Result<ServerSettings, ConfigError> {
        let listen = match &s.listen {
            None => None,
            Some(l) => Some(l.parse().map_err(|_| {
                self.err(
                    "server.listen",
                    format!(
                        "{l:?} is not an address and port (e.g. \"0.0.0.0:8080\", or \"127.0.0.1:8080\" for this machine only)"
                    ),
                )
            })?),
        };
        Ok(ServerSettings { listen })
    }

    fn telegram(&self, t: RawTelegram) -> Result<TelegramSettings, ConfigError> {
        check_chat(&t.channel).map_err(|m| self.err("telegram.channel", m))?;
        if let Some(admin) = &t.admin_chat {
            check_chat(admin).map_err(|m| self.err("telegram.admin_chat", m))?;
        }
        let api = t
            .api_url
            .unwrap_or_else(|| "https://api.telegram.org".to_owned());
        let mut api_url = self.http_url("telegram.api_url", &api)?;
        let loopback = match api_url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if api_url.scheme() == "http" && !loopback {
            return Err(self.err(
                "telegram.api_url",
                format!(
                    "{api:?} is plain http to another machine: the bot token would travel in the clear; use https (plain http is only allowed to a Bot API server on this machine, e.g. http://127.0.0.1:8081)"
                ),
            ));
        }
        // teloxide joins "/bot<token>/<Method>" itself; a trailing slash would double it.
        let trimmed = api_url.path().trim_end_matches('/').to_owned();
        api_url.set_path(&trimmed);
        if t.per_second == 0 || t.per_minute == 0 {
            return Err(self.err(
                "telegram.per_second",
                "rate limits must be at least 1 (Telegram allows about 1/s and 20/min per channel)",
            ));
        }
        for (key, v) in [
            ("telegram.per_chat_per_second", t.per_chat_per_second),
            ("telegram.overall_per_second", t.overall_per_second),
        ] {
            if v == 0 {
                return Err(self.err(
                    key,
                    "must be at least 1 (Telegram allows 1 message a second per chat, 30 overall)",
                ));
            }
        }
        let link_preview = match t.link_preview.as_deref() {
            None | Some("off") => LinkPreview::Off,
            Some("small") => LinkPreview::Small,
            Some("large") => LinkPreview::Large,
            Some(other) => {
                return Err(self.err(
                    "telegram.link_preview",
                    format!("{other:?} is not one of \"off\", \"small\", \"large\""),
                ));
            }
        };
        let quiet_hours = match t.quiet_hours.as_deref() {
            None => None,
            Some(q) => Some(QuietHours::parse(q).map_err(|m| self.err("telegram.quiet_hours", m))?),
        };
        if let Some(bad) = t.admins.iter().find(|id| **id <= 0) {
            return Err(self.err(
                "telegram.admins",
                format!("{bad} is not a Telegram user id (user ids are positive numbers; ask @userinfobot for yours)"),
            ));
        }
        Ok(TelegramSettings {
            channel: t.channel,
            api_url,
            admin_chat: t.admin_chat,
            per_second: t.per_second,
            per_minute: t.per_minute,
            per_chat_per_second: t.per_chat_per_second,
            overall_per_second: t.overall_per_second,
            link_preview,
            quiet_hours,
            admins: t.admins,
        })
    }

    fn fetch(&self, f: RawFetch) -> Result<FetchSettings, ConfigError> {
        let contact = f
            .contact
            .unwrap_or_else(|| "https://github.com/niryat/niryat".to_owned());
        let user_agent = f
            .user_agent
            .unwrap_or_else(|| format!("niryat/{} (+{contact})", env!("CARGO_PKG_VERSION")));
        let per_host_concurrency = f.per_host_concurrency.unwrap_or(1);
        if per_host_concurrency == 0 {
            return Err(self.err("fetch.per_host_concurrency", "must be at least 1"));
        }
        let timeout = match f.timeout.as_deref() {
            Some(t) => self.positive_duration("fetch.timeout", t)?,
            None => Duration::from_secs(60),
        };
        let connect_timeout = match f.connect_timeout.as_deref() {
            Some(t) => self.positive_duration("fetch.connect_timeout", t)?,
            None => Duration::from_secs(20),
        };
        Ok(FetchSettings {
            user_agent,
            timeout,
            connect_timeout,
            per_host_concurrency,
            min_delay: self.duration("fetch.min_delay", f.min_delay.as_deref(), 2)?,
            respect_robots_txt: f.respect_robots_txt.unwrap_or(true),
            parse_timeout: match f.parse_timeout.as_deref() {
                Some(t) => self.positive_duration("fetch.parse_timeout", t)?,
                None => Duration::from_secs(10),
            },
            proxy: match &f.proxy {
                Some(p) => Some(self.proxy("fetch.proxy", p)?),
                None => None,
            },
        })
    }

    fn source(
        &self,
        i: usize,
        raw: RawSource,
        default_cron: &str,
        tz: Tz,
        fetch: &FetchSettings,
    ) -> Result<SourceSettings, ConfigError> {
        let is_html = matches!(raw, RawSource::Html(_));
        let (common, days, list, article, search, allow_other_hosts) = match raw {
            RawSource::Html(h) => (common!(h), h.days, Some(h.list), h.article, None, None),
            RawSource::Feed(f) => (common!(f), None, None, f.article, None, None),
            RawSource::WordPress(w) => (
                common!(w),
                w.days,
                None,
                None,
                Some(w.search),
                w.allow_other_hosts,
            ),
        };
        let s = common;
        let key = |k: &str| format!("sources[{i}].{k}");
        if !valid_source_id(&s.id) {
            return Err(self.err(
                key("id"),
                format!(
                    "{:?} is not a valid id: use letters, digits, '-', '_' or '.'",
                    s.id
                ),
            ));
        }
        let key = |k: &str| format!("sources[{i}].{k} (source {:?})", s.id);
        let url_template = s.url.contains("{date").then(|| s.url.clone());
        let url = match &url_template {
            None => self.http_url(&key("url"), &s.url)?,
            Some(_) if !is_html => {
                return Err(self.err(key("url"), "`{date:…}` URL templates are for html sources"));
            }
            Some(t) => {
                let today = chrono::Utc::now().date_naive();
                let first = entries::expand_date_template(t, today, 1)
                    .map_err(|e| self.err(key("url"), e.to_string()))?;
                self.http_url(&key("url"), first.first().map_or("", String::as_str))?
            }
        };
        let cron = match &s.schedule {
            Some(c) => {
                self.cron(&key("schedule"), c, tz)?;
                c.clone()
            }
            None => default_cron.to_owned(),
        };
        let timeout = match &s.timeout {
            Some(t) => self.positive_duration(&key("timeout"), t)?,
            None => fetch.timeout,
        };
        let proxy = match &s.proxy {
            None => fetch.proxy.clone(),
            Some(p) => Some(self.proxy(&key("proxy"), p)?),
        };
        let article = match &article {
            None => None,
            Some(a) => Some(ArticleRules {
                title: self.selector(&key("article.title"), &a.title)?,
                body: self.selector(&key("article.body"), &a.body)?,
                date: match &a.date {
                    Some(d) => Some(self.selector(&key("article.date"), d)?),
                    None => None,
                },
            }),
        };
        let kind = match (list, search) {
            (Some(list), _) => {
                let next = match &list.next {
                    Some(n) => Some(self.selector(&key("list.next"), n)?),
                    None => None,
                };
                let max_pages = list.max_pages.unwrap_or(if next.is_some() { 3 } else { 1 });
                if !(1..=MAX_PAGES).contains(&max_pages) {
                    return Err(self.err(
                        key("list.max_pages"),
                        format!("{max_pages} is out of range: use 1 to {MAX_PAGES}"),
                    ));
                }
                SourceKind::Html {
                    list: ListRules {
                        item: self.selector(&key("list.item"), &list.item)?,
                        link: self.selector(&key("list.link"), &list.link)?,
                    },
                    next,
                    max_pages,
                    article,
                }
            }
            (None, Some(search)) => {
                if search.is_empty() || search.iter().any(|t| t.trim().is_empty()) {
                    return Err(self.err(
                        key("search"),
                        "a wordpress source needs non-empty search terms, e.g. search = [\"निर्यात\", \"export\"]",
                    ));
                }
                SourceKind::WordPress {
                    search,
                    allow_other_hosts: allow_other_hosts.unwrap_or(false),
                }
            }
            (None, None) => SourceKind::Feed { article },
        };
        let days = days.unwrap_or(match (&kind, &url_template) {
            (SourceKind::WordPress { .. }, _) => 7,
            (_, Some(_)) => 3,
            _ => 1,
        });
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(self.err(
                key("days"),
                format!("{days} is out of range: use 1 to {MAX_DAYS}"),
            ));
        }
        let max_new_per_pass = s.max_new_per_pass.unwrap_or(DEFAULT_MAX_NEW_PER_PASS);
        if max_new_per_pass == 0 {
            return Err(self.err(key("max_new_per_pass"), "must be at least 1"));
        }
        let max_age = match &s.max_age {
            Some(a) => self.positive_duration(&key("max_age"), a)?,
            None => DEFAULT_MAX_AGE,
        };
        Ok(SourceSettings {
            id: s.id,
            url,
            url_template,
            days,
            kind,
            cron,
            backfill: s.backfill,
            timeout,
            proxy,
            respect_robots_txt: s.respect_robots_txt.unwrap_or(fetch.respect_robots_txt),
            robots_override: s.respect_robots_txt,
            enabled: s.enabled,
            max_new_per_pass,
            max_age,
        })
    }

    fn proxy(&self, key: &str, p: &str) -> Result<Url, ConfigError> {
        parse_proxy(p).map_err(|m| self.err(key, m))
    }

    fn http_url(&self, key: &str, s: &str) -> Result<Url, ConfigError> {
        let u = Url::parse(s).map_err(|e| self.err(key, format!("{s:?} is not a URL: {e}")))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(self.err(key, format!("{s:?} must be an http or https URL")));
        }
        Ok(u)
    }

    fn selector(&self, key: &str, css: &str) -> Result<Selector, ConfigError> {
        Selector::parse(css)
            .map_err(|e| self.err(key, format!("{css:?} is not a valid CSS selector: {e}")))
    }

    fn cron(&self, key: &str, expr: &str, tz: Tz) -> Result<(), ConfigError> {
        let cron = parse_cron(expr).map_err(|e| {
            self.err(
                key,
                format!(
                    "{expr:?} is not a valid cron expression ({e}); use 6 fields, seconds first, e.g. \"0 */15 * * * *\""
                ),
            )
        })?;
        let now = chrono::Utc::now().with_timezone(&tz);
        if cron.find_next_occurrence(&now, false).is_err() {
            return Err(self.err(
                key,
                format!(
                    "{expr:?} never fires (no such date: day-of-month and day-of-week must both match); the source would never run"
                ),
            ));
        }
        Ok(())
    }

    /// A duration that must be more than zero.
    fn positive_duration(&self, key: &str, s: &str) -> Result<Duration, ConfigError> {
        let d = self.duration(key, Some(s), 0)?;
        if d.is_zero() {
            return Err(self.err(key, "must be more than zero"));
        }
        Ok(d)
    }

    fn duration(
        &self,
        key: &str,
        s: Option<&str>,
        default_secs: u64,
    ) -> Result<Duration, ConfigError> {
        match s {
            None => Ok(Duration::from_secs(default_secs)),
            Some(s) => parse_duration(s).ok_or_else(|| {
                self.err(
                    key,
                    format!(
                        "{s:?} is not a duration (examples: \"500ms\", \"2s\", \"5m\", \"6h\", \"7d\")"
                    ),
                )
            }),
        }
    }
}

/// Parse a cron expression exactly as the scheduler will (6 fields with seconds, or 7 with a
/// year; day-of-month and day-of-week must both match).
pub fn parse_cron(expr: &str) -> Result<croner::Cron, croner::errors::CronError> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
}

/// A source id: letters, digits, `-`, `_` or `.`, not empty.
pub fn valid_source_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// A proxy URL: `http://`, `https://` or `socks5://`.
pub fn parse_proxy(p: &str) -> Result<Url, String> {
    let u = Url::parse(p).map_err(|e| format!("{p:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(format!(
            "scheme {:?} is not supported (use http, https or socks5)",
            u.scheme()
        ));
    }
    Ok(u)
}

fn check_chat(s: &str) -> Result<(), String> {
    let ok = match s.strip_prefix('@') {
        Some(name) => {
            name.len() >= 4 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => s.parse::<i64>().is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is neither a @channel_username nor a numeric chat id such as \"-1001234567890\""
        ))
    }
}

/// A duration as written in the config: `"500ms"`, `"2s"`, `"5m"`, `"6h"`, `"7d"`, `"1h 30m"`
/// (humantime's syntax); a bare number means seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(Duration::from_secs);
    }
    humantime::parse_duration(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    const MINIMAL: &str = r#"
[storage]
path = "data/x.sqlite3"
[telegram]
channel = "@niryat_test"
[[sources]]
id = "dpr"
kind = "html"
url = "https://dprcg.gov.in/news/district-news"
[sources.list]
item = ".views-row"
link = "h3 a"
"#;

    fn load(s: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(s, Path::new("config/test.toml"))
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(s.timezone, chrono_tz::Asia::Kolkata);
        assert_eq!(s.sources[0].cron, "0 */15 * * * *");
        assert_eq!(s.sources[0].timeout, Duration::from_secs(60));
        assert_eq!(s.telegram.api_url.as_str(), "https://api.telegram.org/");
        assert_eq!(s.fetch.min_delay, Duration::from_secs(2));
        assert!(s.fetch.respect_robots_txt);
    }

    #[test]
    fn an_unknown_key_in_any_section_is_an_error_naming_file_and_key() {
        let wordpress = MINIMAL
            .replace(
                "[sources.list]\nitem = \".views-row\"\nlink = \"h3 a\"\n",
                "",
            )
            .replace(
                "kind = \"html\"",
                "kind = \"wordpress\"\nsearch = [\"export\"]",
            );
        let feed = MINIMAL
            .replace(
                "[sources.list]\nitem = \".views-row\"\nlink = \"h3 a\"\n",
                "",
            )
            .replace("kind = \"html\"", "kind = \"feed\"");
        let article = format!("{MINIMAL}[sources.article]\ntitle = \"h1\"\nbody = \"p\"\n");
        let cases = [
            (
                MINIMAL.to_owned(),
                "[storage]",
                "[storage]\nptah = \"x\"",
                "ptah",
            ),
            (
                MINIMAL.to_owned(),
                "[telegram]",
                "[telegram]\nchanel = \"@x\"",
                "chanel",
            ),
            (
                format!("{MINIMAL}\n[schedule]\n"),
                "[schedule]",
                "[schedule]\ncorn = \"x\"",
                "corn",
            ),
            (
                format!("{MINIMAL}\n[fetch]\n"),
                "[fetch]",
                "[fetch]\ntimout = \"5s\"",
                "timout",
            ),
            (
                format!("{MINIMAL}\n[detection]\n"),
                "[detection]",
                "[detection]\nvocab = \"x\"",
                "vocab",
            ),
            (
                MINIMAL.to_owned(),
                "kind = \"html\"",
                "kind = \"html\"\nshedule = \"x\"",
                "shedule",
            ),
            (
                MINIMAL.to_owned(),
                "[sources.list]",
                "[sources.list]\nitme = \"x\"",
                "itme",
            ),
            (
                article,
                "[sources.article]",
                "[sources.article]\ndat = \"x\"",
                "dat",
            ),
            (
                wordpress.clone(),
                "search = [",
                "serch = 1\nsearch = [",
                "serch",
            ),
            // A key of another kind is unknown for this one.
            (
                wordpress,
                "search = [",
                "article = 1\nsearch = [",
                "article",
            ),
            (
                feed.clone(),
                "kind = \"feed\"",
                "kind = \"feed\"\nlist = 1",
                "list",
            ),
            (
                feed,
                "kind = \"feed\"",
                "kind = \"feed\"\nsearch = [\"x\"]",
                "search",
            ),
        ];
        for (base, anchor, replacement, key) in cases {
            assert!(base.contains(anchor), "{anchor}");
            let bad = base.replacen(anchor, replacement, 1);
            let e = load(&bad).unwrap_err().to_string();
            assert!(e.contains("config/test.toml"), "{e}");
            assert!(e.contains(&format!("`{key}`")), "expected `{key}` in: {e}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let sources_list = "[sources.list]\nitem = \".views-row\"\nlink = \"h3 a\"\n";
        let cases = [
            (
                MINIMAL.replace("\"h3 a\"", "\"h3 >>> a\""),
                "sources[0].list.link",
            ),
            (
                MINIMAL.replace("https://dprcg.gov.in/news/district-news", "ftp://x"),
                "sources[0].url",
            ),
            (
                MINIMAL.replace(
                    "kind = \"html\"",
                    "kind = \"html\"\nschedule = \"*/5 * * * *\"",
                ),
                "sources[0].schedule",
            ),
            (
                MINIMAL.replace(
                    "kind = \"html\"",
                    "kind = \"html\"\nschedule = \"0 0 0 31 2 *\"",
                ),
                "sources[0].schedule",
            ),
            (
                format!("[schedule]\ncron = \"0 0 0 30 2 *\"\n{MINIMAL}"),
                "schedule.cron",
            ),
            (
                MINIMAL.replace("@niryat_test", "niryat test"),
                "telegram.channel",
            ),
            (
                MINIMAL.replace(
                    "channel = \"@niryat_test\"",
                    "channel = \"@niryat_test\"\napi_url = \"http://bot-api.example:8081\"",
                ),
                "telegram.api_url",
            ),
            (
                format!("{MINIMAL}\n[schedule]\ntimezone = \"Mars/Olympus\""),
                "schedule.timezone",
            ),
            (
                format!("{MINIMAL}\n[fetch]\ntimeout = \"0s\""),
                "fetch.timeout",
            ),
            (
                MINIMAL.replace("kind = \"html\"", "kind = \"html\"\ntimeout = \"0ms\""),
                "sources[0].timeout",
            ),
            (
                MINIMAL.replace("link = \"h3 a\"", "link = \"h3 a\"\nmax_pages = 51"),
                "sources[0].list.max_pages",
            ),
            (
                MINIMAL.replace("kind = \"html\"", "kind = \"html\"\nmax_new_per_pass = 0"),
                "sources[0].max_new_per_pass",
            ),
            (
                MINIMAL.replace("kind = \"html\"", "kind = \"html\"\nmax_age = \"a week\""),
                "sources[0].max_age",
            ),
            (
                MINIMAL.replace(sources_list, "").replace(
                    "kind = \"html\"",
                    "kind = \"wordpress\"\nsearch = [\"x\"]\ndays = 4000000000",
                ),
                "sources[0].days",
            ),
            (
                MINIMAL
                    .replace("/news/district-news", "/news/{date:%Y-%m-%d}")
                    .replace("kind = \"html\"", "kind = \"html\"\ndays = 367"),
                "sources[0].days",
            ),
            (
                MINIMAL.replace("kind = \"html\"", "kind = \"rss\""),
                "`rss`",
            ),
            (
                MINIMAL.replace("kind = \"html\"", "kind = \"wordpress\""),
                "`list`",
            ),
            (
                MINIMAL
                    .replace(sources_list, "")
                    .replace("kind = \"html\"", "kind = \"wordpress\"\nsearch = []"),
                "sources[0].search",
            ),
        ];
        for (text, key) in cases {
            let e = load(&text).unwrap_err().to_string();
            assert!(e.contains(key), "expected key {key} in: {e}");
            assert!(e.contains("config/test.toml"), "{e}");
        }
    }

    #[test]
    fn new_limits_have_defaults_and_durations_read_days() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(s.sources[0].max_new_per_pass, 50);
        assert_eq!(s.sources[0].max_age, Duration::from_secs(7 * 86_400));
        let s = load(&MINIMAL.replace(
            "kind = \"html\"",
            "kind = \"html\"\nmax_age = \"30d\"\nmax_new_per_pass = 5",
        ))
        .unwrap();
        assert_eq!(s.sources[0].max_age, Duration::from_secs(30 * 86_400));
        assert_eq!(s.sources[0].max_new_per_pass, 5);
        // Plain http is fine to a Bot API server on this machine.
        assert!(
            load(&MINIMAL.replace(
                "channel = \"@niryat_test\"",
                "channel = \"@niryat_test\"\napi_url = \"http://127.0.0.1:8081\""
            ))
            .is_ok()
        );
    }

    #[test]
    fn alerts_and_server_have_defaults_and_checked_values() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(
            (s.alerts.empty_listing_passes, s.alerts.silent_days),
            (3, 7)
        );
        assert_eq!(s.server.listen, None, "the endpoint is off by default");
        let s = load(&format!(
            "{MINIMAL}\n[alerts]\nempty_listing_passes = 5\nsilent_days = 14\n[server]\nlisten = \"0.0.0.0:8080\"\n"
        ))
        .unwrap();
        assert_eq!(
            (s.alerts.empty_listing_passes, s.alerts.silent_days),
            (5, 14)
        );
        assert_eq!(s.server.listen, Some("0.0.0.0:8080".parse().unwrap()));
        for (bad, key) in [
            ("[alerts]\nsilent_days = 0", "alerts.silent_days"),
            (
                "[alerts]\nempty_listing_passes = 0",
                "alerts.empty_listing_passes",
            ),
            ("[server]\nlisten = \"8080\"", "server.listen"),
        ] {
            let err = load(&format!("{MINIMAL}\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("config/test.toml") && err.contains(key),
                "{err}"
            );
        }
        let err = load(&format!("{MINIMAL}\n[server]\nport = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("port"), "{err}");
    }

    #[test]
    fn detection_threshold_is_a_probability() {
        assert_eq!(load(MINIMAL).unwrap().detection_threshold, None);
        let with = |t: &str| format!("{MINIMAL}\n[detection]\nthreshold = {t}\n");
        assert_eq!(load(&with("0.35")).unwrap().detection_threshold, Some(0.35));
        for bad in ["0", "1", "1.5", "-0.2", "nan"] {
            let e = load(&with(bad)).unwrap_err().to_string();
            assert!(
                e.contains("config/test.toml") && e.contains("detection.threshold"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn telegram_extras_and_the_bot_have_defaults_and_are_checked() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(s.telegram.link_preview, LinkPreview::Off);
        assert_eq!(s.telegram.quiet_hours, None);
        assert!(s.telegram.admins.is_empty());
        assert_eq!(
            (
                s.telegram.per_chat_per_second,
                s.telegram.overall_per_second
            ),
            (1, 30)
        );
        assert!(!s.bot.enabled);
        let with = |extra: &str| {
            MINIMAL.replace(
                "channel = \"@niryat_test\"",
                &format!("channel = \"@niryat_test\"\n{extra}"),
            )
        };
        let s = load(&format!(
            "{}\n[bot]\nenabled = true\n",
            with("link_preview = \"large\"\nquiet_hours = \"22:00-07:00\"\nadmins = [12345, 678]")
        ))
        .unwrap();
        assert_eq!(s.telegram.link_preview, LinkPreview::Large);
        assert_eq!(
            s.telegram.quiet_hours.map(|q| q.to_string()).as_deref(),
            Some("22:00-07:00")
        );
        assert!(s.telegram.is_admin(678) && !s.telegram.is_admin(1));
        assert!(s.bot.enabled);
        for (bad, key) in [
            ("link_preview = \"medium\"", "telegram.link_preview"),
            ("quiet_hours = \"10pm-7am\"", "telegram.quiet_hours"),
            ("quiet_hours = \"07:00-07:00\"", "telegram.quiet_hours"),
            ("admins = [-100123]", "telegram.admins"),
            ("per_chat_per_second = 0", "telegram.per_chat_per_second"),
            ("overall_per_second = 0", "telegram.overall_per_second"),
        ] {
            let e = load(&with(bad)).unwrap_err().to_string();
            assert!(
                e.contains("config/test.toml") && e.contains(key),
                "{bad}: {e}"
            );
        }
        let e = load(&format!("{MINIMAL}\n[bot]\nenable = true\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`enable`"), "{e}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let two = format!(
            "{MINIMAL}{}",
            &MINIMAL[MINIMAL.find("[[sources]]").unwrap()..]
        );
        let e = load(&two).unwrap_err().to_string();
        assert!(e.contains("duplicate source id"), "{e}");
    }

    #[test]
    fn api_url_trailing_slash_is_trimmed() {
        let s = load(&MINIMAL.replace(
            "channel = \"@niryat_test\"",
            "channel = \"-1001234567890\"\napi_url = \"http://127.0.0.1:9/tg/\"",
        ))
        .unwrap();
        assert_eq!(s.telegram.api_url.as_str(), "http://127.0.0.1:9/tg");
    }

    #[test]
    fn fetch_proxy_is_the_default_of_every_source() {
        let with = |fetch: &str, source: &str| {
            load(
                &MINIMAL
                    .replace("[telegram]", &format!("[fetch]\n{fetch}\n[telegram]"))
                    .replace("kind = \"html\"", &format!("kind = \"html\"\n{source}")),
            )
        };
        let s = with("proxy = \"socks5://127.0.0.1:1080\"", "").unwrap();
        assert_eq!(
            s.fetch.proxy.as_ref().map(Url::as_str),
            Some("socks5://127.0.0.1:1080")
        );
        assert_eq!(s.sources[0].proxy, s.fetch.proxy);
        let s = with(
            "proxy = \"socks5://127.0.0.1:1080\"",
            "proxy = \"http://10.0.0.1:3128\"",
        )
        .unwrap();
        assert_eq!(
            s.sources[0].proxy.as_ref().map(Url::as_str),
            Some("http://10.0.0.1:3128/")
        );
        assert_eq!(with("", "").unwrap().sources[0].proxy, None);
        let e = with("proxy = \"ftp://x\"", "").unwrap_err().to_string();
        assert!(
            e.contains("fetch.proxy") && e.contains("config/test.toml"),
            "{e}"
        );
    }

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load_env(s: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_toml_with_env(s, Path::new("config/test.toml"), env(vars))
    }

    #[test]
    fn the_known_keys_come_from_the_structs() {
        let keys: Vec<String> = known_keys().into_iter().map(|(k, _)| k).collect();
        for k in [
            "storage.path",
            "telegram.channel",
            "telegram.per_second",
            "schedule.cron",
            "fetch.proxy",
            "detection.threshold",
            "sources.id",
            "sources.kind",
            "sources.list.item",
            "sources.article.date",
            "sources.search",
            "sources.allow_other_hosts",
        ] {
            assert!(keys.contains(&k.to_owned()), "{k} missing from {keys:?}");
        }
        assert!(!keys.contains(&"sources".to_owned()));
        let types: std::collections::HashMap<String, Leaf> = known_keys().into_iter().collect();
        assert_eq!(types["telegram.per_second"], Leaf::Integer);
        assert_eq!(types["telegram.admin_chat"], Leaf::String);
        assert_eq!(types["fetch.respect_robots_txt"], Leaf::Bool);
        assert_eq!(types["detection.threshold"], Leaf::Float);
        assert_eq!(types["sources.search"], Leaf::Array);
    }

    #[test]
    fn environment_variables_override_any_key_and_are_typed_by_the_key() {
        let s = load_env(
            MINIMAL,
            &[
                ("NIRYAT__TELEGRAM__CHANNEL", "-1001234567890"),
                ("NIRYAT__TELEGRAM__PER_MINUTE", "7"),
                ("NIRYAT__STORAGE__PATH", "/data/niryat.sqlite3"),
                ("NIRYAT__FETCH__RESPECT_ROBOTS_TXT", "false"),
                ("NIRYAT__FETCH__PROXY", "socks5://127.0.0.1:1080"),
                ("NIRYAT__DETECTION__THRESHOLD", "0.6"),
                ("NIRYAT__SCHEDULE__CRON", "0 0 * * * *"),
                // Not overrides: one underscore, or no prefix at all.
                ("NIRYAT_CONFIG", "elsewhere.toml"),
                ("TELEGRAM__CHANNEL", "@ignored"),
            ],
        )
        .unwrap();
        assert_eq!(s.telegram.channel, "-1001234567890");
        assert_eq!(s.telegram.per_minute, 7);
        assert_eq!(s.storage_path, PathBuf::from("/data/niryat.sqlite3"));
        assert!(!s.fetch.respect_robots_txt);
        assert!(s.fetch.proxy.is_some());
        assert_eq!(s.detection_threshold, Some(0.6));
        assert_eq!(s.sources[0].cron, "0 0 * * * *");
        let origin = |k: &str| s.origins.iter().find(|o| o.key == k).unwrap().clone();
        assert_eq!(
            origin("telegram.channel").origin,
            Origin::Env("NIRYAT__TELEGRAM__CHANNEL".into())
        );
        assert_eq!(
            origin("telegram.channel").value.as_deref(),
            Some("\"-1001234567890\"")
        );
        assert_eq!(
            origin("storage.path").origin,
            Origin::Env("NIRYAT__STORAGE__PATH".into())
        );
        assert_eq!(origin("telegram.api_url").origin, Origin::Default);
        assert_eq!(origin("telegram.api_url").value, None);
        // Without the variable, the same key comes from the file.
        let s = load_env(MINIMAL, &[]).unwrap();
        let o = s
            .origins
            .iter()
            .find(|o| o.key == "telegram.channel")
            .unwrap();
        assert_eq!(o.origin, Origin::File);
        assert_eq!(o.value.as_deref(), Some("\"@niryat_test\""));
    }

    #[test]
    fn a_section_missing_from_the_file_can_come_from_the_environment() {
        let no_storage = MINIMAL.replace("[storage]\npath = \"data/x.sqlite3\"\n", "");
        assert!(load_env(&no_storage, &[]).is_err());
        let s = load_env(&no_storage, &[("NIRYAT__STORAGE__PATH", "/data/a.sqlite3")]).unwrap();
        assert_eq!(s.storage_path, PathBuf::from("/data/a.sqlite3"));
    }

    #[test]
    fn sources_are_addressed_by_id() {
        let two = format!(
            "{MINIMAL}[[sources]]\nid = \"snsnews.wp\"\nkind = \"wordpress\"\nurl = \"https://example.org\"\nsearch = [\"export\"]\n"
        );
        let s = load_env(
            &two,
            &[
                ("NIRYAT__SOURCES__DPR__ENABLED", "false"),
                ("NIRYAT__SOURCES__DPR__LIST__ITEM", "li.news"),
                (
                    "NIRYAT__SOURCES__SNSNEWS_WP__SEARCH",
                    "[\"निर्यात\", \"export\"]",
                ),
                ("NIRYAT__SOURCES__SNSNEWS_WP__PROXY", "http://10.0.0.1:3128"),
            ],
        )
        .unwrap();
        assert!(!s.sources[0].enabled);
        match &s.sources[0].kind {
            SourceKind::Html { list, .. } => {
                assert_eq!(
                    format!("{:?}", list.item),
                    format!("{:?}", Selector::parse("li.news").unwrap())
                )
            }
            k => panic!("{k:?}"),
        }
        match &s.sources[1].kind {
            SourceKind::WordPress { search, .. } => assert_eq!(search, &["निर्यात", "export"]),
            k => panic!("{k:?}"),
        }
        assert!(s.sources[1].proxy.is_some());
        assert!(s.origins.iter().any(|o| o.key == "sources[0].enabled"
            && o.origin == Origin::Env("NIRYAT__SOURCES__DPR__ENABLED".into())));
        for (var, value, expected) in [
            (
                "NIRYAT__SOURCES__NOPE__ENABLED",
                "false",
                "no source whose id is written NOPE",
            ),
            (
                "NIRYAT__SOURCES__DPR__ID",
                "x",
                "no config key `sources.id`",
            ),
            ("NIRYAT__SOURCES__DPR", "x", "sources are set by id"),
            (
                "NIRYAT__SOURCES__DPR__LIST__ITME",
                "x",
                "keys of [sources.list]: item, link",
            ),
        ] {
            let e = load_env(&two, &[(var, value)]).unwrap_err().to_string();
            assert!(e.contains(var) && e.contains(expected), "{var}: {e}");
        }
    }

    #[test]
    fn a_bad_environment_variable_is_an_error_naming_it() {
        for (var, value, expected) in [
            (
                "NIRYAT__TELEGRAM__CHANEL",
                "@x",
                "no config key `telegram.chanel` (keys of [telegram]: channel, api_url",
            ),
            (
                "NIRYAT__NOSUCH__KEY",
                "1",
                "no config key `nosuch.key` (sections: alerts, bot, detection, fetch",
            ),
            ("NIRYAT__TELEGRAM", "@x", "no config key `telegram`"),
            ("NIRYAT__", "x", "not a key path"),
            ("NIRYAT__TELEGRAM____CHANNEL", "x", "not a key path"),
        ] {
            let e = load_env(MINIMAL, &[(var, value)]).unwrap_err();
            assert!(matches!(e, ConfigError::Env { .. }), "{e:?}");
            let e = e.to_string();
            assert!(e.contains(var) && e.contains("config/test.toml"), "{e}");
            assert!(e.contains(expected), "{var}: {e}");
        }
        // A value the key cannot take names the key, the file and the variable.
        for (var, value, key) in [
            (
                "NIRYAT__TELEGRAM__CHANNEL",
                "not a channel",
                "telegram.channel",
            ),
            ("NIRYAT__TELEGRAM__PER_SECOND", "0", "telegram.per_second"),
            (
                "NIRYAT__SOURCES__DPR__SCHEDULE",
                "*/5 * * * *",
                "sources[0].schedule",
            ),
        ] {
            let e = load_env(MINIMAL, &[(var, value)]).unwrap_err().to_string();
            assert!(
                e.contains(key) && e.contains(var) && e.contains("config/test.toml"),
                "{e}"
            );
        }
        // A value of the wrong type is a syntax error that names the override.
        let e = load_env(MINIMAL, &[("NIRYAT__TELEGRAM__PER_SECOND", "fast")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("config/test.toml")
                && e.contains("NIRYAT__TELEGRAM__PER_SECOND")
                && e.contains("per_second"),
            "{e}"
        );
    }

    /// Every key the structs accept is documented in the reference config (set, or commented out
    /// as `# key = default`) under its own section header.
    #[test]
    fn the_reference_config_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/niryat.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let header = Regex::new(r"^#?\s*\[\[?([a-z_.]+)\]\]?\s*(#.*)?$").unwrap();
        let key_line = Regex::new(r"^#?\s*([a-z_]+)\s*=").unwrap();
        let mut section = String::new();
        let mut documented = std::collections::HashSet::new();
        for line in text.lines().map(str::trim) {
            if let Some(c) = header.captures(line) {
                section = c[1].to_owned();
            } else if let Some(c) = key_line.captures(line) {
                documented.insert(format!("{section}.{}", &c[1]));
            }
        }
        let missing: Vec<String> = known_keys()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !documented.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "{} does not document {missing:?}: add each under its section, with its default",
            path.display()
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("6h"), Some(Duration::from_secs(21600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("fast"), None);
        assert_eq!(parse_duration("99999999999999999999"), None);
    }
}
