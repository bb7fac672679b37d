//! SQLite storage: seen URLs, classified articles, the post outbox and pass history.
//!
//! One `rusqlite::Connection` (bundled SQLite, WAL mode, busy timeout) behind a mutex; every call
//! runs on tokio's blocking pool. The schema comes from forward-only migrations in `migrations/`,
//! applied in order under `PRAGMA user_version`. The daemon ([`Store::open`]) holds a lock file
//! beside the database, so a second daemon on the same database refuses to start and two
//! containers never double-post; readers and maintenance commands ([`Store::open_shared`]:
//! `status`, `outbox`, `db backup`, `test-source`) work beside it without the lock.
//!
//! Delivery is a transactional outbox: an article and its pending post are written in one
//! transaction, after the near-duplicate check in that same transaction; the post is marked sent
//! (with Telegram's `message_id`) only after Telegram accepted it. A post is sent twice only if the
//! process dies between Telegram accepting it and the database recording it, or if a send got no
//! answer (status `uncertain`) and its retry went through.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior, params};
use url::Url;

use crate::config::AlertSettings;
use crate::core::article::{Article, Extraction, Post};
use crate::core::bot::Scope;
use crate::core::canonical;
use crate::core::detect::Verdict;
use crate::core::districts::{self, District};
pub use crate::core::http::Validators;
use crate::core::neardup::{self, Fingerprint};
use crate::core::render::Keyboard;
use crate::core::replies::ReportLine;
use crate::core::text::normalize;

/// The migrations, by name; each is applied once, in the order of the number its name starts
/// with, and recorded in `schema_migrations`. `PRAGMA user_version` is the highest number applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    (
        "0002_source_health",
        include_str!("../migrations/0002_source_health.sql"),
    ),
    (
        "0003_duplicates",
        include_str!("../migrations/0003_duplicates.sql"),
    ),
    ("0004_outbox", include_str!("../migrations/0004_outbox.sql")),
    ("0005_bot", include_str!("../migrations/0005_bot.sql")),
    ("0006_health", include_str!("../migrations/0006_health.sql")),
];

/// How far back a new report is compared with earlier ones for near-duplicates.
pub const DUPLICATE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(60);

/// Longest a failing source waits before its next try.
pub const MAX_SOURCE_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// First backoff step of a failing source; doubles with each further failure.
pub const SOURCE_BACKOFF_BASE: Duration = Duration::from_secs(5 * 60);

/// Storage failures. Messages carry the database path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create directory {dir} for database {path}: {source}")]
    CreateDir {
        dir: PathBuf,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another niryat instance is already using database {path} (lock file {lock} is held); stop it first, or point this one at another [storage] path"
    )]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("cannot lock {lock}: {source}")]
    Lock {
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "database {path} failed its integrity check: {detail}; restore a backup (`niryat db backup` makes one) or move the file away"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "database {path} has schema version {found}, newer than this niryat knows ({known}); upgrade niryat"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database {path}: migration {name} failed: {source}")]
    Migrate {
        path: PathBuf,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: the storage task failed: {message}")]
    Task { path: PathBuf, message: String },
    #[error(
        "database {path} has schema version {found} but this niryat needs {known}; it is in use by another (older) niryat: stop that one, then run this version once to upgrade it"
    )]
    Outdated {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database {path} does not exist (run `niryat once` or `niryat run` first)")]
    Missing { path: PathBuf },
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
    /// The daemon's single-instance lock; `None` for readers beside it.
    _lock: Option<Arc<File>>,
}

/// Where a post goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The `[telegram] channel` configured when the post is sent.
    Channel,
    /// A chat id or `@username` fixed when the post was queued.
    Chat(String),
}

impl Target {
    fn as_sql(&self) -> &str {
        match self {
            Self::Channel => "channel",
            Self::Chat(c) => c,
        }
    }

    fn from_sql(s: String) -> Self {
        if s == "channel" {
            Self::Channel
        } else {
            Self::Chat(s)
        }
    }

    /// The chat this target means now, given the configured channel.
    pub fn chat<'a>(&'a self, channel: &'a str) -> &'a str {
        match self {
            Self::Channel => channel,
            Self::Chat(c) => c,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// The state of a post in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Pending,
    Sent,
    /// The last send failed with an answer (an error): retried with backoff.
    Failed,
    /// The last send got no answer: Telegram may have it. Retried with backoff; a retry may
    /// duplicate it.
    Uncertain,
    /// Dropped by the operator (`niryat outbox drop`).
    Dropped,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Uncertain => "uncertain",
            Self::Dropped => "dropped",
        }
    }
}

impl std::fmt::Display for PostStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for PostStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl FromSql for PostStatus {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v.as_str()? {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            "uncertain" => Ok(Self::Uncertain),
            "dropped" => Ok(Self::Dropped),
            other => Err(FromSqlError::Other(
                format!("unknown post status {other:?}").into(),
            )),
        }
    }
}

/// A district stored by its English name.
struct DistrictSql(Option<District>);

impl ToSql for DistrictSql {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Some(d) => ToSqlOutput::from(d.en),
            None => ToSqlOutput::Owned(rusqlite::types::Value::Null),
        })
    }
}

impl FromSql for DistrictSql {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v {
            ValueRef::Null => Ok(Self(None)),
            other => Ok(Self(districts::by_en(other.as_str()?).copied())),
        }
    }
}

/// A post to queue with its article.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub target: Target,
    pub post: Post,
    /// Also queue a private copy for every subscriber of the report's district (or of all
    /// districts), in the same transaction.
    pub subscribers: bool,
}

/// What [`Store::record_article`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The new article's id; `None` when the URL was already stored (nothing was written).
    pub id: Option<i64>,
    /// The earlier report this one repeats (then no post was queued for it).
    pub duplicate_of: Option<i64>,
    /// A post was queued.
    pub queued: bool,
    /// Private copies queued for subscribers.
    pub copies: usize,
}

/// A stored article, with the URLs of its later copies ("also at").
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub id: i64,
    pub source_id: String,
    pub article: Article,
    pub also_at: Vec<String>,
}

/// A sent post whose message must be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEdit {
    pub post_id: i64,
    pub article_id: i64,
    pub chat: String,
    pub message_id: i64,
    pub attempts: u32,
}

/// A post due for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePost {
    pub id: i64,
    pub article_id: i64,
    pub target: Target,
    pub html: String,
    /// `None` for posts queued by an older version (re-rendered from the article).
    pub plain: Option<String>,
    /// `None` for posts queued before buttons (re-rendered from the article).
    pub buttons: Option<Keyboard>,
    pub attempts: u32,
    pub status: PostStatus,
}

/// A row of the outbox, for inspection (`niryat outbox list`, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    pub id: i64,
    pub url: String,
    pub target: Target,
    /// The chat it was sent to.
    pub chat: Option<String>,
    pub status: PostStatus,
    pub attempts: u32,
    /// Sends that got no answer.
    pub ambiguous: u32,
    pub message_id: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub text: String,
}

/// Which posts an outbox command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    One(i64),
    /// Every pending, failed or uncertain post.
    All,
}

/// What a source pass saw, for its health record ([`Store::record_source_result`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOutcome {
    pub error: Option<String>,
    /// How long the site asked us to wait (Retry-After).
    pub retry_after: Option<Duration>,
    /// Items on the listing, when the pass read one (`None`: not read, or 304 Not Modified).
    pub listed: Option<usize>,
    /// Whether the listing matched nothing (`Some(true)`), something (`Some(false)`), or is not
    /// known this pass (`None`: not read, 304, or a search that may rightly find nothing).
    pub empty: Option<bool>,
    pub fetched: usize,
    /// Relevant reports newly recorded.
    pub reports: usize,
    /// Items never seen before (at the first pass: the whole listing).
    pub new_items: usize,
}

/// An alert condition that started or ended with this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Raised,
    Cleared,
}

/// The change of an alert flag that is `was`, given whether the condition now holds / is over.
fn flip(was: bool, holds: bool, over: bool) -> Option<Change> {
    match (was, holds, over) {
        (false, true, _) => Some(Change::Raised),
        (true, _, true) => Some(Change::Cleared),
        _ => None,
    }
}

/// What a source's health looks like after recording a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceHealth {
    pub consecutive_failures: u32,
    /// Failures in a row before this pass (so `> 0` with `consecutive_failures == 0` is a recovery).
    pub previous_failures: u32,
    /// Not tried again before this time (failing sources only).
    pub next_try_at: Option<DateTime<Utc>>,
    /// Passes in a row whose listing matched nothing.
    pub empty_passes: u32,
    pub previous_empty_passes: u32,
    /// The empty-listing alert started (`[alerts] empty_listing_passes` reached) or ended.
    pub empty_alert: Option<Change>,
    /// The silence alert (`[alerts] silent_days` without a new item) started or ended.
    pub silent_alert: Option<Change>,
    pub last_new_item_at: Option<DateTime<Utc>>,
}

/// A source's stored health, for `niryat status`, the status page, readiness and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceRecord {
    pub id: String,
    pub url: String,
    /// Its first pass (the baseline) is done.
    pub initialized: bool,
    pub last_run: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Backing off until then (failing sources).
    pub next_try: Option<DateTime<Utc>>,
    /// At the last pass that read the listing.
    pub items_listed: Option<u32>,
    /// At the last pass.
    pub articles_fetched: Option<u32>,
    /// Relevant reports recorded at the last pass.
    pub reports_found: Option<u32>,
    pub empty_passes: u32,
    pub last_new_item: Option<DateTime<Utc>>,
    /// Relevant reports recorded from this source, ever.
    pub reports_total: u32,
    /// Items of this source recorded as seen, ever.
    pub items_seen: u32,
}

/// The channel's posts by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PostCounts {
    pub pending: u32,
    pub failed: u32,
    pub uncertain: u32,
    pub sent_today: u32,
}

/// A relevant report, for the status page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportRow {
    pub id: i64,
    pub source_id: String,
    pub url: String,
    pub title: String,
    pub first_seen: String,
    pub district: Option<String>,
    pub score: f64,
    pub reasons: Vec<String>,
    /// The earlier report this one repeats (then it has no post).
    pub duplicate_of: Option<i64>,
    /// The state of its post; `None`: not posted (held back, or a copy).
    pub post: Option<PostStatus>,
}

/// Backoff of a source that failed `failures` times in a row: 5 min doubling, capped at 6 h.
pub fn source_backoff(failures: u32) -> Duration {
    crate::backoff::exponential(SOURCE_BACKOFF_BASE, failures, MAX_SOURCE_BACKOFF)
}

pub fn now_rfc3339() -> String {
    fmt_time(Utc::now())
}

pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `DateTime` + `Duration`, saturating at 6 h beyond anything representable.
fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now + chrono::Duration::hours(6))
}

impl Store {
    /// Open (creating if needed) the database for the daemon: take the single-instance lock, check
    /// integrity and apply pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                path: path.to_owned(),
                source,
            })?;
        }
        let lock = match try_lock(path)? {
            Some(lock) => lock,
            None => {
                return Err(StoreError::Locked {
                    path: path.to_owned(),
                    lock: lock_path(path),
                });
            }
        };
        let mut conn = connect(path)?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| StoreError::Corrupt {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: check,
            });
        }
        migrate(&mut conn, path)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
            _lock: Some(Arc::new(lock)),
        })
    }

    /// Open an existing database beside a running daemon, without the instance lock (WAL lets
    /// readers and one writer share it). When no daemon holds the lock, pending migrations are
    /// applied first; when one does and the schema is older than this version knows, it refuses.
    pub fn open_shared(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        let mut conn = connect(path)?;
        refuse_newer(&conn, path)?;
        if !pending_migrations(&conn, path, MIGRATIONS)?.is_empty() {
            match try_lock(path)? {
                Some(_lock) => migrate(&mut conn, path)?,
                None => {
                    return Err(StoreError::Outdated {
                        path: path.to_owned(),
                        found: schema_version(&conn, path)?,
                        known: usize::try_from(known_version()).unwrap_or(usize::MAX),
                    });
                }
            }
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
            _lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        let res = tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await;
        match res {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(source)) => Err(StoreError::Sql {
                path: (*path).clone(),
                source,
            }),
            Err(e) => Err(StoreError::Task {
                path: (*path).clone(),
                message: e.to_string(),
            }),
        }
    }

    /// Whether the source has completed its first pass (its baseline is recorded).
    pub async fn source_initialized(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.call(move |c| {
            c.query_row(
                "SELECT initialized_at IS NOT NULL FROM sources WHERE id = ?1",
                [id],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map(|o| o.unwrap_or(false))
        })
        .await
    }

    /// The URLs among `urls` never seen before, in the given order.
    pub async fn unseen(&self, urls: Vec<String>) -> Result<Vec<String>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM seen WHERE url = ?1")?;
            let mut out = Vec::new();
            for u in urls {
                if !stmt.exists([&u])? {
                    out.push(u);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Record the items listed at a source's first pass as seen (not posted), and mark the source
    /// initialised, in one transaction.
    pub async fn record_baseline(
        &self,
        source_id: &str,
        source_url: &str,
        items: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let (id, url) = (source_id.to_owned(), source_url.to_owned());
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_rfc3339();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO seen(url, source_id, listing_title, baseline, first_seen)
                     VALUES (?1, ?2, ?3, 1, ?4)",
                )?;
                for (u, t) in &items {
                    ins.execute(params![u, id, t, now])?;
                }
            }
            tx.execute(
                "INSERT INTO sources(id, url, initialized_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET initialized_at = COALESCE(initialized_at, excluded.initialized_at), url = excluded.url",
                params![id, url, now],
            )?;
            tx.commit()
        })
        .await
    }

    /// Store a classified article, mark its URL seen and, unless it repeats an earlier report,
    /// queue `post` — all in one transaction. With a `fingerprint`, the near-duplicate check
    /// against the reports of the last [`DUPLICATE_WINDOW`] runs inside that same transaction, so
    /// two sources finding copies of one note at the same moment can never both queue a post.
    /// Nothing is written when the URL is already stored (a concurrent pass got there first).
    pub async fn record_article(
        &self,
        source_id: &str,
        article: Article,
        fingerprint: Option<Fingerprint>,
        post: Option<NewPost>,
    ) -> Result<Recorded, StoreError> {
        let source_id = source_id.to_owned();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = Utc::now();
            let duplicate_of = match &fingerprint {
                Some(fp) => find_duplicate(&tx, fp, now - DUPLICATE_WINDOW)?,
                None => None,
            };
            let a = &article;
            let reasons = serde_json::to_string(&a.verdict.reasons).unwrap_or_else(|_| "[]".into());
            let inserted = tx.prepare_cached(
                "INSERT OR IGNORE INTO articles(source_id, url, title, published, body, topic, chhattisgarh,
                    relevant, score, reasons, district, first_seen, fingerprint, duplicate_of, extraction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                source_id, a.url.as_str(), a.title, a.published, a.body, a.verdict.topic,
                a.verdict.chhattisgarh, a.relevant(), f64::from(a.verdict.score), reasons,
                DistrictSql(a.district()), fmt_time(now), fingerprint.as_ref().map(Fingerprint::to_hex),
                duplicate_of, a.extraction.as_str()
            ])?;
            if inserted == 0 {
                return Ok(Recorded { id: None, duplicate_of: None, queued: false, copies: 0 });
            }
            let id = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT OR IGNORE INTO seen(url, source_id, listing_title, baseline, first_seen)
                 VALUES (?1, ?2, ?3, 0, ?4)",
            )?
            .execute(params![a.url.as_str(), source_id, a.listing_title, fmt_time(now)])?;
            tx.prepare_cached("DELETE FROM item_failures WHERE url = ?1")?
                .execute([a.url.as_str()])?;
            if a.relevant() && duplicate_of.is_none() {
                index_report(&tx, id, &a.title, &a.body)?;
            }
            let mut queued = false;
            let mut copies = 0;
            if let (Some(p), None) = (&post, duplicate_of) {
                insert_post(&tx, id, &p.target, &p.post, now)?;
                queued = true;
                if p.subscribers {
                    for user in subscribers_of(&tx, a.district())? {
                        copies += insert_post(&tx, id, &Target::Chat(user.to_string()), &p.post, now)?;
                    }
                }
            }
            if let Some(first) = duplicate_of {
                // The first copy's message gains an "also at" link: re-rendered if unsent, edited once sent.
                tx.prepare_cached(
                    "UPDATE posts SET edit_pending = 1, edit_attempts = 0, edit_next_at = NULL
                     WHERE article_id = ?1 AND status != 'dropped'",
                )?
                .execute([first])?;
            }
            tx.commit()?;
            Ok(Recorded { id: Some(id), duplicate_of, queued, copies })
        })
        .await
    }

    /// Record an item that cannot be processed (a page too deep to parse, given up after repeated
    /// failures) as seen, with the reason: it is not tried again.
    pub async fn record_skipped(
        &self,
        source_id: &str,
        url: &str,
        listing_title: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (id, url, title, reason) = (
            source_id.to_owned(),
            url.to_owned(),
            listing_title.to_owned(),
            reason.to_owned(),
        );
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT OR IGNORE INTO seen(url, source_id, listing_title, baseline, first_seen, skip_reason)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                params![url, id, title, now_rfc3339(), reason],
            )?;
            tx.execute("DELETE FROM item_failures WHERE url = ?1", [&url])?;
            tx.commit()
        })
        .await
    }

    /// Count a failed attempt at an item's article; returns the attempts so far.
    pub async fn item_failed(
        &self,
        source_id: &str,
        url: &str,
        error: &str,
    ) -> Result<u32, StoreError> {
        let (id, url, error) = (source_id.to_owned(), url.to_owned(), error.to_owned());
        self.call(move |c| {
            c.query_row(
                "INSERT INTO item_failures(url, source_id, attempts, last_error, updated_at)
                 VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT(url) DO UPDATE SET attempts = attempts + 1, last_error = excluded.last_error,
                    updated_at = excluded.updated_at
                 RETURNING attempts",
                params![url, id, error, now_rfc3339()],
                |r| r.get(0),
            )
        })
        .await
    }

    /// Why an item was recorded without an article, if it was.
    pub async fn skip_reason(&self, url: &str) -> Result<Option<String>, StoreError> {
        let url = url.to_owned();
        self.call(move |c| {
            c.query_row("SELECT skip_reason FROM seen WHERE url = ?1", [url], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map(Option::flatten)
        })
        .await
    }

    /// Record the outcome of a source pass at `now`; returns the source's health afterwards and
    /// the alerts it raises or clears. A failure sets the next try to `now +
    /// source_backoff(failures)`, or later if the site asked (`retry_after`). The alert flags are
    /// set in the same transaction, so each alert is raised once (and cleared once), across
    /// restarts.
    pub async fn record_source_result(
        &self,
        source_id: &str,
        source_url: &str,
        pass: PassOutcome,
        rules: AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<SourceHealth, StoreError> {
        let (id, url) = (source_id.to_owned(), source_url.to_owned());
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO sources(id, url) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET url = excluded.url",
                params![id, url],
            )?;
            let (previous, previous_empty, last_new, empty_alerted, silent_alerted): (u32, u32, Option<String>, bool, bool) =
                tx.query_row(
                    "SELECT consecutive_failures, empty_passes, last_new_item_at, empty_alerted, silent_alerted
                     FROM sources WHERE id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
            let (failures, next_try_at) = match &pass.error {
                None => (0, None),
                Some(_) => {
                    let failures = previous.saturating_add(1);
                    let wait = source_backoff(failures).max(pass.retry_after.unwrap_or_default());
                    (failures, Some(after(now, wait)))
                }
            };
            let empty_passes = match pass.empty {
                Some(true) => previous_empty.saturating_add(1),
                Some(false) => 0,
                None => previous_empty,
            };
            let last_new = if pass.new_items > 0 {
                Some(now)
            } else {
                last_new.as_deref().and_then(parse_time)
            };
            let silent = last_new.is_some_and(|t| {
                now - t >= chrono::TimeDelta::days(i64::from(rules.silent_days))
            });
            let empty_alert = flip(empty_alerted, empty_passes >= rules.empty_listing_passes, empty_passes == 0);
            let silent_alert = flip(silent_alerted, silent, !silent);
            let set = |was: bool, change: Option<Change>| match change {
                Some(Change::Raised) => true,
                Some(Change::Cleared) => false,
                None => was,
            };
            tx.execute(
                "UPDATE sources SET last_pass_at = ?2,
                    last_success_at = CASE WHEN ?3 IS NULL THEN ?2 ELSE last_success_at END,
                    consecutive_failures = ?4, last_error = ?3, next_try_at = ?5,
                    last_listed = COALESCE(?6, last_listed), last_fetched = ?7, last_reports = ?8,
                    empty_passes = ?9, last_new_item_at = ?10, empty_alerted = ?11, silent_alerted = ?12
                 WHERE id = ?1",
                params![
                    id,
                    fmt_time(now),
                    pass.error,
                    failures,
                    next_try_at.map(fmt_time),
                    pass.listed.and_then(|n| u32::try_from(n).ok()),
                    u32::try_from(pass.fetched).unwrap_or(u32::MAX),
                    u32::try_from(pass.reports).unwrap_or(u32::MAX),
                    empty_passes,
                    last_new.map(fmt_time),
                    set(empty_alerted, empty_alert),
                    set(silent_alerted, silent_alert),
                ],
            )?;
            tx.commit()?;
            Ok(SourceHealth {
                consecutive_failures: failures,
                previous_failures: previous,
                next_try_at,
                empty_passes,
                previous_empty_passes: previous_empty,
                empty_alert,
                silent_alert,
                last_new_item_at: last_new,
            })
        })
        .await
    }

    /// Every source the database knows, with its health and totals, by id.
    pub async fn source_records(&self) -> Result<Vec<SourceRecord>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT s.id, s.url, s.initialized_at IS NOT NULL, s.last_pass_at, s.last_success_at,
                    s.last_error, s.consecutive_failures, s.next_try_at, s.last_listed, s.last_fetched,
                    s.last_reports, s.empty_passes, s.last_new_item_at,
                    (SELECT COUNT(*) FROM articles a WHERE a.source_id = s.id AND a.relevant = 1),
                    (SELECT COUNT(*) FROM seen e WHERE e.source_id = s.id)
                 FROM sources s ORDER BY s.id",
            )?;
            let time = |v: Option<String>| v.as_deref().and_then(parse_time);
            let rows = stmt.query_map([], |r| {
                Ok(SourceRecord {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    initialized: r.get(2)?,
                    last_run: time(r.get(3)?),
                    last_success: time(r.get(4)?),
                    last_error: r.get(5)?,
                    consecutive_failures: r.get(6)?,
                    next_try: time(r.get(7)?),
                    items_listed: r.get(8)?,
                    articles_fetched: r.get(9)?,
                    reports_found: r.get(10)?,
                    empty_passes: r.get(11)?,
                    last_new_item: time(r.get(12)?),
                    reports_total: r.get(13)?,
                    items_seen: r.get(14)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// How many posts are pending, failed and uncertain, and how many were sent since `since`.
    pub async fn post_counts(&self, since: DateTime<Utc>) -> Result<PostCounts, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'failed'), 0),
                    COALESCE(SUM(status = 'uncertain'), 0),
                    COALESCE(SUM(status = 'sent' AND sent_at >= ?1), 0)
                 FROM posts",
                [fmt_time(since)],
                |r| {
                    Ok(PostCounts {
                        pending: r.get(0)?,
                        failed: r.get(1)?,
                        uncertain: r.get(2)?,
                        sent_today: r.get(3)?,
                    })
                },
            )
        })
        .await
    }

    /// The latest relevant reports, newest first, with their reasons and post state.
    pub async fn latest_reports(&self, limit: u32) -> Result<Vec<ReportRow>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT a.id, a.source_id, a.url, a.title, a.first_seen, a.district, a.score, a.reasons,
                    a.duplicate_of, (SELECT p.status FROM posts p WHERE p.article_id = a.id ORDER BY p.id LIMIT 1)
                 FROM articles a WHERE a.relevant = 1 ORDER BY a.id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                let reasons: String = r.get(7)?;
                Ok(ReportRow {
                    id: r.get(0)?,
                    source_id: r.get(1)?,
                    url: r.get(2)?,
                    title: r.get(3)?,
                    first_seen: r.get(4)?,
                    district: r.get(5)?,
                    score: r.get(6)?,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    duplicate_of: r.get(8)?,
                    post: r.get(9)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Write the heartbeat row: proves the database is writable (readiness).
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        self.call(|c| {
            c.execute(
                "INSERT INTO heartbeat(id, at) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
                [now_rfc3339()],
            )
            .map(|_| ())
        })
        .await
    }

    /// When a failing source may next be tried, if that is still in the future.
    pub async fn source_backing_off(
        &self,
        source_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let id = source_id.to_owned();
        let next: Option<String> = self
            .call(move |c| {
                c.query_row("SELECT next_try_at FROM sources WHERE id = ?1", [id], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .optional()
                .map(Option::flatten)
            })
            .await?;
        Ok(next.as_deref().and_then(parse_time).filter(|t| *t > now))
    }

    /// HTTP validators a source stored for a URL.
    pub async fn validators(
        &self,
        source_id: &str,
        url: &str,
    ) -> Result<Option<Validators>, StoreError> {
        let (id, url) = (source_id.to_owned(), url.to_owned());
        self.call(move |c| {
            c.query_row(
                "SELECT etag, last_modified FROM http_cache WHERE source_id = ?1 AND url = ?2",
                [id, url],
                |r| {
                    Ok(Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Remember a source's HTTP validators for a URL (or forget them when both are absent).
    pub async fn set_validators(
        &self,
        source_id: &str,
        url: &str,
        v: Validators,
    ) -> Result<(), StoreError> {
        let (id, url) = (source_id.to_owned(), url.to_owned());
        self.call(move |c| {
            if v.is_empty() {
                c.execute(
                    "DELETE FROM http_cache WHERE source_id = ?1 AND url = ?2",
                    [id, url],
                )?;
            } else {
                c.execute(
                    "INSERT INTO http_cache(source_id, url, etag, last_modified, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(source_id, url) DO UPDATE SET etag = excluded.etag,
                        last_modified = excluded.last_modified, updated_at = excluded.updated_at",
                    params![id, url, v.etag, v.last_modified, now_rfc3339()],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// Posts that are pending, failed or uncertain and due at `now`: the channel's first, then
    /// the private copies (which wait on each subscriber's 1-a-second limit and must not hold the
    /// channel up), each oldest first.
    pub async fn due_posts(&self, now: DateTime<Utc>) -> Result<Vec<DuePost>, StoreError> {
        let now = fmt_time(now);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id, target, text, plain, attempts, status, buttons FROM posts
                 WHERE status IN ('pending', 'failed', 'uncertain')
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
                 ORDER BY target <> 'channel', id",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(DuePost {
                    id: r.get(0)?,
                    article_id: r.get(1)?,
                    target: Target::from_sql(r.get(2)?),
                    html: r.get(3)?,
                    plain: r.get(4)?,
                    buttons: r
                        .get::<_, Option<String>>(7)?
                        .and_then(|j| serde_json::from_str(&j).ok()),
                    attempts: r.get(5)?,
                    status: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// An article with the URLs of its later copies.
    pub async fn article(&self, id: i64) -> Result<Option<StoredArticle>, StoreError> {
        self.call(move |c| {
            let Some(mut a) = c
                .query_row(
                    "SELECT a.id, a.source_id, a.url, a.title, a.body, a.published, a.topic, a.chhattisgarh,
                        a.district, a.score, a.reasons, a.extraction, COALESCE(s.listing_title, '')
                     FROM articles a LEFT JOIN seen s ON s.url = a.url WHERE a.id = ?1",
                    [id],
                    |r| {
                        let url: String = r.get(2)?;
                        let reasons: String = r.get(10)?;
                        let extraction: Option<String> = r.get(11)?;
                        Ok(StoredArticle {
                            id: r.get(0)?,
                            source_id: r.get(1)?,
                            article: Article {
                                url: Url::parse(&url).map_err(|e| {
                                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
                                })?,
                                listing_title: r.get(12)?,
                                title: r.get(3)?,
                                body: r.get(4)?,
                                published: r.get::<_, Option<NaiveDate>>(5)?,
                                verdict: Verdict {
                                    topic: r.get(6)?,
                                    chhattisgarh: r.get(7)?,
                                    district: r.get::<_, DistrictSql>(8)?.0,
                                    score: r.get::<_, f64>(9)? as f32,
                                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                                },
                                extraction: extraction.as_deref().map_or(Extraction::None, Extraction::parse),
                            },
                            also_at: Vec::new(),
                        })
                    },
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt =
                c.prepare_cached("SELECT url FROM articles WHERE duplicate_of = ?1 ORDER BY id")?;
            a.also_at = stmt
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(Some(a))
        })
        .await
    }

    /// Sent posts whose message must be edited and whose edit is due.
    pub async fn pending_edits(&self, now: DateTime<Utc>) -> Result<Vec<PendingEdit>, StoreError> {
        let now = fmt_time(now);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id, chat, message_id, edit_attempts FROM posts
                 WHERE edit_pending = 1 AND status = 'sent' AND message_id IS NOT NULL AND chat IS NOT NULL
                   AND (edit_next_at IS NULL OR edit_next_at <= ?1)
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(PendingEdit {
                    post_id: r.get(0)?,
                    article_id: r.get(1)?,
                    chat: r.get(2)?,
                    message_id: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Replace a post's content (re-rendered), clearing the edit flag: after a successful edit,
    /// or before sending a post that is still unsent.
    pub async fn set_post_content(&self, post_id: i64, post: Post) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET text = ?2, plain = ?3, buttons = ?4, edit_pending = 0, edit_attempts = 0,
                    edit_next_at = NULL, edit_error = NULL WHERE id = ?1",
                params![post_id, post.html, post.plain, buttons_json(&post)],
            )
            .map(|_| ())
        })
        .await
    }

    /// An edit failed: retry it at `retry_at`, or give it up (`None`): the message keeps its text,
    /// the record is kept with the error.
    pub async fn edit_failed(
        &self,
        post_id: i64,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET edit_attempts = edit_attempts + 1, edit_error = ?2, edit_next_at = ?3,
                    edit_pending = ?4 WHERE id = ?1",
                params![post_id, error, retry_at.map(fmt_time), retry_at.is_some()],
            )
            .map(|_| ())
        })
        .await
    }

    /// Unsent posts flagged for re-rendering: `(post_id, article_id)`.
    pub async fn unsent_edits(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id FROM posts
                 WHERE edit_pending = 1 AND status IN ('pending', 'failed', 'uncertain') ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// Telegram accepted the post in `chat`. A post dropped meanwhile stays dropped, but its
    /// message id is kept.
    pub async fn mark_sent(
        &self,
        post_id: i64,
        chat: &str,
        message_id: i64,
    ) -> Result<(), StoreError> {
        let chat = chat.to_owned();
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = CASE WHEN status = 'dropped' THEN 'dropped' ELSE 'sent' END,
                    chat = ?2, message_id = ?3, sent_at = ?4, attempts = attempts + 1, last_error = NULL,
                    next_attempt_at = NULL WHERE id = ?1",
                params![post_id, chat, message_id, now_rfc3339()],
            )
            .map(|_| ())
        })
        .await
    }

    /// A send failed with an answer (an error); retried at `retry_at`.
    pub async fn mark_failed(
        &self,
        post_id: i64,
        error: String,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.mark_unsent(post_id, PostStatus::Failed, error, retry_at)
            .await
    }

    /// A send got no answer (timeout, shutdown mid-send): Telegram may have the message.
    /// Retried at `retry_at`; a retry may duplicate it.
    pub async fn mark_uncertain(
        &self,
        post_id: i64,
        error: String,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.mark_unsent(post_id, PostStatus::Uncertain, error, retry_at)
            .await
    }

    /// A send that did not reach `sent`: `failed` (an answer came) or `uncertain` (none did,
    /// counted in `ambiguous`). A dropped post stays dropped.
    async fn mark_unsent(
        &self,
        post_id: i64,
        status: PostStatus,
        error: String,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let uncertain = i64::from(status == PostStatus::Uncertain);
        let status = status.as_str();
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = ?2, attempts = attempts + 1, ambiguous = ambiguous + ?3,
                    last_error = ?4, next_attempt_at = ?5 WHERE id = ?1 AND status != 'dropped'",
                params![post_id, status, uncertain, error, fmt_time(retry_at)],
            )
            .map(|_| ())
        })
        .await
    }

    /// A send was refused for a reason the operator must fix (rights, chat): the post keeps its
    /// status, with the error recorded, and is retried on the next pass.
    pub async fn note_blocked(&self, post_id: i64, error: String) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![post_id, error],
            )
            .map(|_| ())
        })
        .await
    }

    /// Every post, oldest first (for tests and inspection).
    pub async fn posts(&self) -> Result<Vec<PostRow>, StoreError> {
        self.post_rows(None).await
    }

    /// Posts that still have to go out or need the operator: pending, failed, uncertain.
    pub async fn outbox(&self) -> Result<Vec<PostRow>, StoreError> {
        self.post_rows(Some("p.status IN ('pending', 'failed', 'uncertain')"))
            .await
    }

    async fn post_rows(&self, filter: Option<&'static str>) -> Result<Vec<PostRow>, StoreError> {
        self.call(move |c| {
            let sql = format!(
                "SELECT p.id, a.url, p.target, p.chat, p.status, p.attempts, p.ambiguous, p.message_id,
                    p.last_error, p.next_attempt_at, p.text
                 FROM posts p JOIN articles a ON a.id = p.article_id {} ORDER BY p.id",
                filter.map(|f| format!("WHERE {f}")).unwrap_or_default()
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], |r| {
                Ok(PostRow {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    target: Target::from_sql(r.get(2)?),
                    chat: r.get(3)?,
                    status: r.get(4)?,
                    attempts: r.get(5)?,
                    ambiguous: r.get(6)?,
                    message_id: r.get(7)?,
                    last_error: r.get(8)?,
                    next_attempt_at: r.get(9)?,
                    text: r.get(10)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Make unsent posts due now (`niryat outbox retry`). Returns how many changed. A dropped post
    /// can be retried by its id.
    pub async fn retry_posts(&self, which: Selection) -> Result<usize, StoreError> {
        self.call(move |c| match which {
            Selection::One(id) => c.execute(
                "UPDATE posts SET status = CASE WHEN status = 'dropped' THEN 'pending' ELSE status END,
                    next_attempt_at = NULL WHERE id = ?1 AND status != 'sent'",
                [id],
            ),
            Selection::All => c.execute(
                "UPDATE posts SET next_attempt_at = NULL WHERE status IN ('pending', 'failed', 'uncertain')",
                [],
            ),
        })
        .await
    }

    /// Drop an unsent post (`niryat outbox drop`): it is kept, marked dropped, never sent.
    /// Returns whether it changed.
    pub async fn drop_post(&self, id: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = 'dropped', next_attempt_at = NULL
                 WHERE id = ?1 AND status IN ('pending', 'failed', 'uncertain')",
                [id],
            )
            .map(|n| n > 0)
        })
        .await
    }

    /// The status of one post, if it exists.
    pub async fn post_status(&self, id: i64) -> Result<Option<PostStatus>, StoreError> {
        self.call(move |c| {
            c.query_row("SELECT status FROM posts WHERE id = ?1", [id], |r| r.get(0))
                .optional()
        })
        .await
    }

    /// Count rows of a table (tests and status).
    pub async fn count(&self, table: &'static str) -> Result<i64, StoreError> {
        self.call(move |c| c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)))
            .await
    }

    /// Append a pass report to the run history.
    pub async fn record_run(
        &self,
        started: DateTime<Utc>,
        report_json: String,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO runs(started_at, finished_at, report) VALUES (?1, ?2, ?3)",
                params![fmt_time(started), now_rfc3339(), report_json],
            )
            .map(|_| ())
        })
        .await
    }

    /// Copy the live database to `dest` with SQLite's online backup API: one consistent snapshot
    /// (all pages in one step, under a read transaction), written to a temporary file beside
    /// `dest` and renamed into place, so `dest` is never half-written. Works beside a running
    /// daemon.
    pub async fn backup(&self, dest: PathBuf) -> Result<(), StoreError> {
        self.call(move |c| {
            let mut tmp_name = dest
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            tmp_name.push(".partial");
            let tmp = dest.with_file_name(tmp_name);
            let _ = std::fs::remove_file(&tmp);
            {
                let mut dst = Connection::open(&tmp)?;
                let backup = rusqlite::backup::Backup::new(c, &mut dst)?;
                // -1: every page in one step, so the copy is one consistent snapshot.
                loop {
                    match backup.step(-1)? {
                        rusqlite::backup::StepResult::Done => break,
                        rusqlite::backup::StepResult::More => {}
                        _ => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            }
            std::fs::rename(&tmp, &dest).map_err(|e| {
                rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::new(
                    e.kind(),
                    format!("cannot move the backup to {}: {e}", dest.display()),
                )))
            })
        })
        .await
    }
}

/// Which reports a list shows. Reports are relevant articles that are not copies of an earlier
/// one.
#[derive(Debug, Clone)]
pub enum ReportFilter {
    /// Newest first.
    All,
    /// One district's, newest first.
    District(&'static District),
    /// Matching an FTS5 query ([`fts_query`]), best first.
    Search(String),
}

/// The day a report is listed under: its publication date, else the day it was found.
const REPORT_DATE: &str = "COALESCE(a.published, substr(a.first_seen, 1, 10))";

fn report_line(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportLine> {
    let date: Option<String> = r.get(4)?;
    Ok(ReportLine {
        id: r.get(0)?,
        title: r.get(1)?,
        url: r.get(2)?,
        district: r
            .get::<_, DistrictSql>(3)?
            .0
            .and_then(|d| districts::by_en(d.en)),
        date: date.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
    })
}

/// The bot's queries and writes: subscriptions, paused sources, report lists, statistics,
/// resending, and the lists it pages through.
impl Store {
    /// Subscribe `user` to `scope`; `false` if it already was.
    pub async fn subscribe(&self, user: i64, scope: Scope) -> Result<bool, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO subscriptions(user_id, district, created_at) VALUES (?1, ?2, ?3)",
                params![user, scope.key(), now_rfc3339()],
            )
            .map(|n| n > 0)
        })
        .await
    }

    /// Stop `user`'s alert for `scope` (for [`Scope::All`]: every alert). Returns how many stopped.
    pub async fn unsubscribe(&self, user: i64, scope: Scope) -> Result<usize, StoreError> {
        self.call(move |c| match scope {
            Scope::All => c.execute("DELETE FROM subscriptions WHERE user_id = ?1", [user]),
            Scope::District(d) => c.execute(
                "DELETE FROM subscriptions WHERE user_id = ?1 AND district = ?2",
                params![user, d.en],
            ),
        })
        .await
    }

    /// `user`'s alerts, all-districts first.
    pub async fn subscriptions(&self, user: i64) -> Result<Vec<Scope>, StoreError> {
        let keys: Vec<String> = self
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT district FROM subscriptions WHERE user_id = ?1 ORDER BY district != '*', district",
                )?;
                let rows = stmt.query_map([user], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        Ok(keys.iter().filter_map(|k| Scope::from_key(k)).collect())
    }

    /// A user who blocked the bot (or deleted their account): their alerts are removed and their
    /// unsent private copies dropped with `reason`. Returns (alerts removed, posts dropped).
    pub async fn forget_subscriber(
        &self,
        user: i64,
        reason: String,
    ) -> Result<(usize, usize), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let removed = tx.execute("DELETE FROM subscriptions WHERE user_id = ?1", [user])?;
            let dropped = tx.execute(
                "UPDATE posts SET status = 'dropped', last_error = ?2, next_attempt_at = NULL
                 WHERE target = ?1 AND status IN ('pending', 'failed', 'uncertain')",
                params![user.to_string(), reason],
            )?;
            tx.commit()?;
            Ok((removed, dropped))
        })
        .await
    }

    /// Pause a source; `false` if it already was paused.
    pub async fn pause_source(&self, id: &str, by: Option<i64>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO paused_sources(id, paused_at, paused_by) VALUES (?1, ?2, ?3)",
                params![id, now_rfc3339(), by],
            )
            .map(|n| n > 0)
        })
        .await
    }

    /// Resume a paused source; `false` if it was not paused.
    pub async fn resume_source(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.call(move |c| {
            c.execute("DELETE FROM paused_sources WHERE id = ?1", [id])
                .map(|n| n > 0)
        })
        .await
    }

    /// The ids of the paused sources.
    pub async fn paused_sources(&self) -> Result<Vec<String>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached("SELECT id FROM paused_sources ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
        .await
    }

    pub async fn is_paused(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.call(move |c| {
            c.prepare_cached("SELECT 1 FROM paused_sources WHERE id = ?1")?
                .exists([id])
        })
        .await
    }

    /// One page of reports (`limit` from `offset`) and how many there are in all.
    pub async fn reports(
        &self,
        filter: ReportFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ReportLine>, usize), StoreError> {
        let (limit, offset) = (
            i64::try_from(limit).unwrap_or(i64::MAX),
            i64::try_from(offset).unwrap_or(i64::MAX),
        );
        self.call(move |c| {
            use rusqlite::types::Value;
            let (from, cond, order, mut args): (&str, &str, String, Vec<Value>) = match filter {
                ReportFilter::All => ("articles a", "", format!("{REPORT_DATE} DESC"), vec![]),
                ReportFilter::District(d) => (
                    "articles a",
                    " AND a.district = ?1",
                    format!("{REPORT_DATE} DESC"),
                    vec![Value::from(d.en.to_owned())],
                ),
                ReportFilter::Search(q) => (
                    "reports_fts f JOIN articles a ON a.id = f.rowid",
                    " AND reports_fts MATCH ?1",
                    "bm25(reports_fts, 5.0, 1.0)".to_owned(),
                    vec![Value::from(q)],
                ),
            };
            let wanted =
                format!("FROM {from} WHERE a.relevant = 1 AND a.duplicate_of IS NULL{cond}");
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) {wanted}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let n = args.len();
            args.extend([Value::from(limit), Value::from(offset)]);
            let page = c
                .prepare_cached(&format!(
                    "SELECT a.id, a.title, a.url, a.district, {REPORT_DATE} {wanted}
                     ORDER BY {order}, a.id DESC LIMIT ?{} OFFSET ?{}",
                    n + 1,
                    n + 2
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), report_line)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((page, usize::try_from(total).unwrap_or(0)))
        })
        .await
    }

    /// Reports per district (most first; `None`: no district) and per month (`YYYY-MM`, newest
    /// first).
    #[allow(clippy::type_complexity)]
    pub async fn report_stats(
        &self,
    ) -> Result<(Vec<(Option<&'static District>, i64)>, Vec<(String, i64)>), StoreError> {
        self.call(|c| {
            let report = "a.relevant = 1 AND a.duplicate_of IS NULL";
            let by_district = c
                .prepare(&format!(
                    "SELECT a.district, COUNT(*) AS n FROM articles a WHERE {report}
                     GROUP BY a.district ORDER BY n DESC, a.district IS NULL, a.district"
                ))?
                .query_map([], |r| {
                    Ok((
                        r.get::<_, DistrictSql>(0)?.0.and_then(|d| districts::by_en(d.en)),
                        r.get(1)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let by_month = c
                .prepare(&format!(
                    "SELECT substr({REPORT_DATE}, 1, 7) AS m, COUNT(*) FROM articles a WHERE {report}
                     GROUP BY m ORDER BY m DESC"
                ))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((by_district, by_month))
        })
        .await
    }

    /// Queue report `article_id`'s channel post again with `post` (freshly rendered): a post not
    /// yet sent is made due now; a sent one is sent once more; a report that had none (held
    /// back) gets one. `false` when there is no such report (no article, or not a relevant one).
    pub async fn resend(&self, article_id: i64, post: Post) -> Result<bool, StoreError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !tx
                .prepare_cached("SELECT 1 FROM articles WHERE id = ?1 AND relevant = 1")?
                .exists([article_id])?
            {
                return Ok(false);
            }
            let updated = tx.execute(
                "UPDATE posts SET status = 'pending', next_attempt_at = NULL, attempts = 0, last_error = NULL,
                    text = ?2, plain = ?3, buttons = ?4, edit_pending = 0, edit_attempts = 0,
                    edit_next_at = NULL, edit_error = NULL
                 WHERE article_id = ?1 AND target = 'channel'",
                params![article_id, post.html, post.plain, buttons_json(&post)],
            )?;
            if updated == 0 {
                insert_post(&tx, article_id, &Target::Channel, &post, Utc::now())?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    /// Remember a list the bot pages through; returns its id. Lists older than a week are
    /// forgotten.
    pub async fn save_list(&self, kind: &str, arg: &str) -> Result<i64, StoreError> {
        let (kind, arg) = (kind.to_owned(), arg.to_owned());
        self.call(move |c| {
            let now = Utc::now();
            c.execute(
                "DELETE FROM bot_lists WHERE created_at < ?1",
                [fmt_time(now - chrono::Duration::days(7))],
            )?;
            c.execute(
                "INSERT INTO bot_lists(kind, arg, created_at) VALUES (?1, ?2, ?3)",
                params![kind, arg, fmt_time(now)],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// A remembered list: (kind, arg).
    pub async fn list(&self, id: i64) -> Result<Option<(String, String)>, StoreError> {
        self.call(move |c| {
            c.query_row("SELECT kind, arg FROM bot_lists WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
        .await
    }
}

/// A post's buttons as stored.
fn buttons_json(post: &Post) -> String {
    serde_json::to_string(&post.buttons).unwrap_or_else(|_| "[]".into())
}

/// Queue `post` for `target`; returns 1 if queued, 0 if that target already has this article's
/// post (never twice).
fn insert_post(
    c: &Connection,
    article_id: i64,
    target: &Target,
    post: &Post,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    c.execute(
        "INSERT OR IGNORE INTO posts(article_id, target, text, plain, buttons, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        params![
            article_id,
            target.as_sql(),
            post.html,
            post.plain,
            buttons_json(post),
            fmt_time(now)
        ],
    )
}

/// Users subscribed to `district` or to every district.
fn subscribers_of(c: &Connection, district: Option<District>) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT DISTINCT user_id FROM subscriptions WHERE district = '*' OR district = ?1 ORDER BY user_id",
    )?;
    let rows = stmt.query_map([district.map(|d| d.en)], |r| r.get(0))?;
    rows.collect()
}

/// Add a report to the full-text index, normalised as the detector normalises text.
fn index_report(c: &Connection, id: i64, title: &str, body: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO reports_fts(rowid, title, body) VALUES (?1, ?2, ?3)",
        params![id, normalize(title), normalize(body)],
    )
    .map(|_| ())
}

/// Schema v5: index the reports stored by earlier versions.
fn index_stored_reports(c: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String, String)> = c
        .prepare(
            "SELECT id, title, body FROM articles WHERE relevant = 1 AND duplicate_of IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, title, body) in rows {
        index_report(c, id, &title, &body)?;
    }
    Ok(())
}

/// The FTS5 query for what a user typed: its normalised words, each a quoted prefix term, all
/// required. `None` when nothing searchable is left (punctuation, emoji).
pub fn fts_query(words: &str) -> Option<String> {
    let norm = normalize(crate::core::text::prefix_chars(words, MAX_QUERY_CHARS));
    let terms: Vec<String> = crate::core::text::tokens(&norm)
        .take(MAX_QUERY_TERMS)
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Longest search text read, and most words used from it.
const MAX_QUERY_CHARS: usize = 300;
const MAX_QUERY_TERMS: usize = 12;

/// The first relevant report of the last window whose fingerprint `fp` repeats.
fn find_duplicate(
    c: &Connection,
    fp: &Fingerprint,
    since: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, fingerprint FROM articles
         WHERE relevant = 1 AND duplicate_of IS NULL AND fingerprint IS NOT NULL AND first_seen >= ?1
         ORDER BY id DESC",
    )?;
    let mut rows = stmt.query([fmt_time(since)])?;
    while let Some(r) = rows.next()? {
        let hex: String = r.get(1)?;
        if Fingerprint::from_hex(&hex).is_some_and(|other| neardup::is_duplicate(&other, fp)) {
            return Ok(Some(r.get(0)?));
        }
    }
    Ok(None)
}

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

/// Take the single-instance lock, or `None` when another process holds it.
fn try_lock(path: &Path) -> Result<Option<File>, StoreError> {
    let lock_path = lock_path(path);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StoreError::Lock {
            lock: lock_path.clone(),
            source,
        })?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock {
            lock: lock_path,
            source,
        }),
    }
}

/// SQLite's page cache per connection, in KiB (`PRAGMA cache_size` takes it negated).
const CACHE_KIB: i64 = -1024;

/// A connection in WAL mode with a busy timeout (a reader and the daemon may write at once).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(open_err)?;
    let _mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(open_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    // A page cache of 1 MiB (SQLite's default is 2 MiB): the daemon's reads are point lookups
    // by URL and the recent fingerprints, so a bigger cache only adds resident memory.
    conn.pragma_update(None, "cache_size", CACHE_KIB)
        .map_err(open_err)?;
    Ok(conn)
}

fn schema_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|source| StoreError::Sql {
            path: path.to_owned(),
            source,
        })
}

/// The schema number a migration brings: the number its name starts with (`0006_health` → 6).
fn migration_number(name: &str) -> i64 {
    name.split('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(i64::MAX)
}

/// The highest schema number this niryat knows.
fn known_version() -> i64 {
    MIGRATIONS
        .iter()
        .map(|(n, _)| migration_number(n))
        .max()
        .unwrap_or(0)
}

/// The migrations of `list` not yet applied to the database, in number order. Read-only.
///
/// Applied migrations are recorded by name in `schema_migrations`, so a migration whose number
/// is lower than one already applied (two changes developed side by side, merged in either order)
/// is still applied. A database without that table comes from a niryat that applied migrations
/// by count: every migration numbered up to its `user_version` is applied.
fn pending_migrations(
    conn: &Connection,
    path: &Path,
    list: &'static [(&'static str, &'static str)],
) -> Result<Vec<(&'static str, &'static str)>, StoreError> {
    let sql_err = |source| StoreError::Sql {
        path: path.to_owned(),
        source,
    };
    let version = schema_version(conn, path)?;
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    let applied: std::collections::HashSet<String> = if has_table {
        let mut stmt = conn
            .prepare("SELECT name FROM schema_migrations")
            .map_err(sql_err)?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(sql_err)?
    } else {
        list.iter()
            .filter(|(n, _)| migration_number(n) <= version)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    };
    let mut pending: Vec<_> = list
        .iter()
        .filter(|(n, _)| !applied.contains(*n))
        .copied()
        .collect();
    pending.sort_by_key(|(n, _)| migration_number(n));
    Ok(pending)
}

/// Refuse a database a newer niryat has migrated further than this one knows.
fn refuse_newer(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let version = schema_version(conn, path)?;
    let known = known_version();
    if version > known {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            known: usize::try_from(known).unwrap_or(usize::MAX),
        });
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    migrate_with(conn, path, MIGRATIONS)
}

/// Apply the pending migrations of `list`, each in its own transaction, recording its name;
/// `user_version` becomes the highest number applied.
fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    list: &'static [(&'static str, &'static str)],
) -> Result<(), StoreError> {
    refuse_newer(conn, path)?;
    let pending = pending_migrations(conn, path, list)?;
    if pending.is_empty() {
        return Ok(());
    }
    let version = schema_version(conn, path)?;
    // Record what a by-count niryat applied before adding to it.
    let already: Vec<&str> = list
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !pending.iter().any(|(p, _)| p == n))
        .collect();
    for (name, sql) in pending {
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    name       TEXT PRIMARY KEY,
                    applied_at TEXT NOT NULL
                 )",
            )?;
            for n in &already {
                tx.execute(
                    "INSERT OR IGNORE INTO schema_migrations(name, applied_at) VALUES (?1, ?2)",
                    params![n, now_rfc3339()],
                )?;
            }
            tx.execute_batch(sql)?;
            if name == "0004_outbox" {
                recanonicalize(&tx)?;
            }
            if name == "0005_bot" {
                index_stored_reports(&tx)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations(name, applied_at) VALUES (?1, ?2)",
                params![name, now_rfc3339()],
            )?;
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            tx.pragma_update(
                None,
                "user_version",
                current.max(version).max(migration_number(name)),
            )?;
            tx.commit()
        };
        step(conn).map_err(|source| StoreError::Migrate {
            path: path.to_owned(),
            name,
            source,
        })?;
    }
    Ok(())
}

/// Schema v4 also normalises percent-escapes in stored URLs (`%7E` is `~`): rewrite the URLs
/// stored by earlier versions to today's canonical form, so an old item is not new again.
fn recanonicalize(c: &Connection) -> rusqlite::Result<()> {
    for table in ["seen", "articles"] {
        let urls: Vec<String> = c
            .prepare(&format!("SELECT url FROM {table}"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = c.prepare(&format!(
            "UPDATE OR IGNORE {table} SET url = ?2 WHERE url = ?1"
        ))?;
        for old in urls {
            if let Ok(parsed) = Url::parse(&old) {
                let new = canonical::canonicalize(&parsed).to_string();
                if new != old {
                    update.execute([&old, &new])?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::neardup;

    pub(crate) fn article(url: &str, relevant: bool) -> Article {
        Article {
            url: Url::parse(url).unwrap(),
            listing_title: "दुर्ग : बैठक".into(),
            title: "दुर्ग : निर्यात संवर्धन समिति की बैठक".into(),
            body: format!("body of {url}"),
            published: NaiveDate::from_ymd_opt(2022, 5, 12),
            verdict: Verdict {
                topic: relevant,
                chhattisgarh: true,
                district: districts::by_en("Durg").copied(),
                score: 5.0,
                reasons: vec!["+3 committee".into()],
            },
            extraction: Extraction::Selectors,
        }
    }

    fn post(text: &str) -> Option<NewPost> {
        Some(NewPost {
            target: Target::Channel,
            post: Post {
                html: format!("<b>{text}</b>"),
                plain: text.to_owned(),
                buttons: Vec::new(),
            },
            subscribers: true,
        })
    }

    fn open(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("n.sqlite3")).unwrap()
    }

    #[tokio::test]
    async fn schema_is_migrated_and_wal_is_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/n.sqlite3");
        let store = Store::open(&path).unwrap();
        let (mode, version): (String, i64) = store
            .call(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(version, known_version());
    }

    #[tokio::test]
    async fn a_second_daemon_is_refused_but_readers_open_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sqlite3");
        let first = Store::open(&path).unwrap();
        let err = Store::open(&path).err().expect("second open must fail");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("another niryat instance"), "{err}");
        // A reader works beside the daemon, and sees what it writes.
        first
            .record_article("dpr", article("https://d/1", true), None, post("x"))
            .await
            .unwrap();
        let reader = Store::open_shared(&path).unwrap();
        assert_eq!(reader.outbox().await.unwrap().len(), 1);
        drop(first);
        Store::open(&path).expect("lock released on drop");
        let missing = Store::open_shared(&dir.path().join("none.sqlite3"))
            .err()
            .unwrap();
        assert!(matches!(missing, StoreError::Missing { .. }), "{missing}");
    }

    #[tokio::test]
    async fn article_and_post_are_written_together_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let url = "https://dprcg.gov.in/post/1/a";
        let r = store
            .record_article("dpr", article(url, true), None, post("x"))
            .await
            .unwrap();
        assert!(r.id.is_some() && r.queued);
        let again = store
            .record_article("dpr", article(url, true), None, post("x"))
            .await
            .unwrap();
        assert_eq!(
            again,
            Recorded {
                id: None,
                duplicate_of: None,
                queued: false,
                copies: 0
            }
        );
        assert_eq!(store.count("posts").await.unwrap(), 1);
        assert!(store.unseen(vec![url.into()]).await.unwrap().is_empty());
        let due = store.due_posts(Utc::now()).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].target, Target::Channel);
        assert_eq!(due[0].plain.as_deref(), Some("x"));
        store.mark_sent(due[0].id, "@chan", 42).await.unwrap();
        assert!(store.due_posts(Utc::now()).await.unwrap().is_empty());
        let rows = store.posts().await.unwrap();
        assert_eq!(rows[0].status, PostStatus::Sent);
        assert_eq!(rows[0].message_id, Some(42));
        assert_eq!(rows[0].chat.as_deref(), Some("@chan"));
        // The stored article reads back as the same typed values.
        let back = store.article(r.id.unwrap()).await.unwrap().unwrap();
        assert_eq!(back.article, article(url, true));
        assert_eq!(back.source_id, "dpr");
    }

    #[tokio::test]
    async fn a_failing_post_insert_leaves_no_article_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store
            .call(|c| {
                c.execute_batch(
                    "CREATE TRIGGER refuse_posts BEFORE INSERT ON posts
                     BEGIN SELECT RAISE(ABORT, 'posts refused by the test'); END;",
                )
            })
            .await
            .unwrap();
        let url = "https://dprcg.gov.in/post/2/b";
        let err = store
            .record_article("dpr", article(url, true), None, post("x"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("posts refused"), "{err}");
        assert_eq!(store.count("articles").await.unwrap(), 0);
        assert_eq!(store.count("seen").await.unwrap(), 0);
        assert_eq!(store.unseen(vec![url.into()]).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn concurrent_copies_of_one_note_queue_exactly_one_post() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let body = crate::core::summary::tests::seed().1;
        let fp = neardup::fingerprint(&body);
        let writes = (0..50).map(|i| {
            let store = store.clone();
            let fp = fp.clone();
            tokio::spawn(async move {
                store
                    .record_article(
                        &format!("src{i}"),
                        article(&format!("https://site{i}.example/copy"), true),
                        Some(fp),
                        post("x"),
                    )
                    .await
                    .unwrap()
            })
        });
        let results = futures::future::join_all(writes).await;
        let queued = results
            .iter()
            .filter(|r| r.as_ref().unwrap().queued)
            .count();
        assert_eq!(queued, 1, "{results:?}");
        let first = results
            .iter()
            .map(|r| r.as_ref().unwrap())
            .find(|r| r.queued)
            .unwrap()
            .id;
        assert!(
            results
                .iter()
                .map(|r| r.as_ref().unwrap())
                .filter(|r| !r.queued)
                .all(|r| r.duplicate_of == first)
        );
        assert_eq!(store.count("posts").await.unwrap(), 1);
        assert_eq!(store.count("articles").await.unwrap(), 50);
    }

    #[tokio::test]
    async fn failed_and_uncertain_posts_wait_for_their_retry_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        for i in 1..=2 {
            store
                .record_article(
                    "dpr",
                    article(&format!("https://x.in/{i}"), true),
                    None,
                    post("t"),
                )
                .await
                .unwrap();
        }
        let due = store.due_posts(Utc::now()).await.unwrap();
        let later = Utc::now() + chrono::Duration::minutes(5);
        store
            .mark_failed(due[0].id, "HTTP 502".into(), later)
            .await
            .unwrap();
        store
            .mark_uncertain(due[1].id, "no answer (timeout)".into(), later)
            .await
            .unwrap();
        assert!(store.due_posts(Utc::now()).await.unwrap().is_empty());
        let due = store
            .due_posts(later + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(
            due.iter()
                .map(|p| (p.status, p.attempts))
                .collect::<Vec<_>>(),
            vec![(PostStatus::Failed, 1), (PostStatus::Uncertain, 1)]
        );
        let rows = store.outbox().await.unwrap();
        assert_eq!(rows[0].last_error.as_deref(), Some("HTTP 502"));
        assert_eq!((rows[0].ambiguous, rows[1].ambiguous), (0, 1));
    }

    #[tokio::test]
    async fn the_operator_can_retry_and_drop_posts() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        for i in 1..=3 {
            store
                .record_article(
                    "dpr",
                    article(&format!("https://x.in/{i}"), true),
                    None,
                    post("t"),
                )
                .await
                .unwrap();
        }
        let later = Utc::now() + chrono::Duration::hours(1);
        for p in store.due_posts(Utc::now()).await.unwrap() {
            store.mark_failed(p.id, "down".into(), later).await.unwrap();
        }
        assert!(store.due_posts(Utc::now()).await.unwrap().is_empty());
        assert_eq!(store.retry_posts(Selection::One(1)).await.unwrap(), 1);
        assert_eq!(store.due_posts(Utc::now()).await.unwrap().len(), 1);
        assert!(store.drop_post(2).await.unwrap());
        assert!(!store.drop_post(2).await.unwrap(), "already dropped");
        assert_eq!(store.retry_posts(Selection::All).await.unwrap(), 2);
        let due: Vec<i64> = store
            .due_posts(Utc::now())
            .await
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(due, vec![1, 3], "a dropped post is never due");
        assert_eq!(
            store.post_status(2).await.unwrap(),
            Some(PostStatus::Dropped)
        );
        // A dropped post comes back only when asked for by its id.
        assert_eq!(store.retry_posts(Selection::One(2)).await.unwrap(), 1);
        assert_eq!(
            store.post_status(2).await.unwrap(),
            Some(PostStatus::Pending)
        );
        assert_eq!(store.retry_posts(Selection::One(99)).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn baseline_marks_seen_and_initialised() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert!(!store.source_initialized("dpr").await.unwrap());
        store
            .record_baseline(
                "dpr",
                "https://d/",
                vec![("https://d/1".into(), "t".into())],
            )
            .await
            .unwrap();
        assert!(store.source_initialized("dpr").await.unwrap());
        assert_eq!(
            store
                .unseen(vec!["https://d/1".into(), "https://d/2".into()])
                .await
                .unwrap(),
            vec!["https://d/2".to_string()]
        );
    }

    #[tokio::test]
    async fn items_that_keep_failing_are_counted_then_recorded_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let url = "https://d/post/9/x";
        for n in 1..=3 {
            assert_eq!(store.item_failed("dpr", url, "HTTP 500").await.unwrap(), n);
        }
        assert_eq!(store.unseen(vec![url.into()]).await.unwrap().len(), 1);
        store
            .record_skipped("dpr", url, "t", "given up after 3 failed attempts")
            .await
            .unwrap();
        assert!(store.unseen(vec![url.into()]).await.unwrap().is_empty());
        assert_eq!(
            store.skip_reason(url).await.unwrap().as_deref(),
            Some("given up after 3 failed attempts")
        );
        assert_eq!(store.count("item_failures").await.unwrap(), 0);
    }

    #[tokio::test]
    async fn databases_of_every_earlier_schema_version_upgrade_without_losing_rows() {
        for version in 1..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite3");
            {
                // A database as that version of niryat left it, with a row in every table.
                let mut c = Connection::open(&path).unwrap();
                c.pragma_update(None, "synchronous", "OFF").unwrap();
                for (i, (_, sql)) in MIGRATIONS.iter().take(version).enumerate() {
                    let tx = c.transaction().unwrap();
                    tx.execute_batch(sql).unwrap();
                    tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap())
                        .unwrap();
                    tx.commit().unwrap();
                }
                // Before v4, URLs were stored with percent-escapes that v4 normalises.
                let url = if version < 4 {
                    "https://d/%7Enews/1"
                } else {
                    "https://d/~news/1"
                };
                c.execute_batch(&format!(
                    "INSERT INTO sources(id, url, initialized_at) VALUES ('dpr', 'https://d/', '2024-01-01T00:00:00Z');
                     INSERT INTO seen(url, source_id, first_seen) VALUES ('{url}', 'dpr', '2024-01-01T00:00:00Z');
                     INSERT INTO articles(source_id, url, title, body, topic, chhattisgarh, relevant, score, reasons, district, first_seen)
                       VALUES ('dpr', '{url}', 'निर्यात संवर्द्धन समिति', 'b', 1, 1, 1, 5.0, '[\"+3 committee\"]', 'Durg', '2024-01-01T00:00:00Z');
                     INSERT INTO posts(article_id, chat, text, status, created_at) VALUES (1, '@old_channel', 'x', 'pending', '2024-01-01T00:00:00Z');
                     INSERT INTO runs(started_at, finished_at, report) VALUES ('a', 'b', '{{}}');",
                ))
                .unwrap();
            }
            let store = Store::open(&path).unwrap();
            for table in ["sources", "seen", "articles", "posts", "runs"] {
                assert_eq!(store.count(table).await.unwrap(), 1, "v{version}: {table}");
            }
            assert!(store.source_initialized("dpr").await.unwrap(), "v{version}");
            let due = store.due_posts(Utc::now()).await.unwrap();
            assert_eq!(due.len(), 1, "v{version}");
            // A post queued before v4 goes to the channel configured when it is sent.
            assert_eq!(due[0].target, Target::Channel, "v{version}");
            assert_eq!(due[0].plain, None, "v{version}");
            assert_eq!(
                due[0].buttons, None,
                "v{version}: re-rendered before sending"
            );
            // Reports stored before v5 are searchable, with the detector's normalisation (from v5
            // on, niryat indexes each report as it records it; this raw insert bypasses that).
            if version < 5 {
                let (found, total) = store
                    .reports(ReportFilter::Search(fts_query("संवर्धन").unwrap()), 5, 0)
                    .await
                    .unwrap();
                assert_eq!((found.len(), total), (1, 1), "v{version}");
            }
            // URLs are in today's canonical form: the old item is not new again.
            assert!(
                store
                    .unseen(vec!["https://d/~news/1".into()])
                    .await
                    .unwrap()
                    .is_empty(),
                "v{version}"
            );
            let a = store.article(1).await.unwrap().unwrap();
            assert_eq!(a.article.url.as_str(), "https://d/~news/1");
            assert_eq!(a.article.district().map(|d| d.en), Some("Durg"));
            assert_eq!(a.article.verdict.reasons, vec!["+3 committee".to_string()]);
            let v: i64 = store
                .call(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
                .await
                .unwrap();
            assert_eq!(v, known_version());
        }
    }

    #[tokio::test]
    async fn a_migration_numbered_below_one_already_applied_is_still_applied() {
        // 0006 was applied by this niryat; a later niryat also knows 0005 (developed beside it).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sqlite3");
        let later: &'static [(&'static str, &'static str)] = Box::leak(
            MIGRATIONS
                .iter()
                .copied()
                .chain([(
                    "0005_other",
                    "CREATE TABLE other_change (x INTEGER); INSERT INTO other_change VALUES (5);",
                )])
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        {
            let mut c = connect(&path).unwrap();
            migrate(&mut c, &path).unwrap();
            assert_eq!(schema_version(&c, &path).unwrap(), 6);
            assert_eq!(pending_migrations(&c, &path, later).unwrap().len(), 1);
            migrate_with(&mut c, &path, later).unwrap();
            let names: Vec<String> = c
                .prepare("SELECT name FROM schema_migrations ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(names.len(), MIGRATIONS.len() + 1, "{names:?}");
            assert!(names.contains(&"0005_other".to_owned()), "{names:?}");
            let x: i64 = c
                .query_row("SELECT x FROM other_change", [], |r| r.get(0))
                .unwrap();
            assert_eq!(x, 5);
            assert_eq!(schema_version(&c, &path).unwrap(), 6, "the highest number");
            // Applied once: a second run changes nothing.
            migrate_with(&mut c, &path, later).unwrap();
            assert!(pending_migrations(&c, &path, later).unwrap().is_empty());
        }
        // A database migrated by count to 5 (the other change first, without this one) gets 0006.
        let path = dir.path().join("by-count.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            for (name, sql) in later.iter().filter(|(n, _)| *n != "0006_health") {
                c.execute_batch(sql).unwrap();
                c.pragma_update(None, "user_version", migration_number(name))
                    .unwrap();
            }
        }
        let mut c = connect(&path).unwrap();
        let pending = pending_migrations(&c, &path, later).unwrap();
        assert_eq!(
            pending.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["0006_health"]
        );
        migrate_with(&mut c, &path, later).unwrap();
        let empty: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sources WHERE empty_passes = 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(empty, 0);
        assert_eq!(schema_version(&c, &path).unwrap(), 6);
    }

    /// Record a pass of source "dpr" at `at`.
    async fn pass(store: &Store, at: DateTime<Utc>, outcome: PassOutcome) -> SourceHealth {
        store
            .record_source_result("dpr", "https://d/", outcome, AlertSettings::default(), at)
            .await
            .unwrap()
    }

    fn failed(error: &str, retry_after: Option<Duration>) -> PassOutcome {
        PassOutcome {
            error: Some(error.into()),
            retry_after,
            ..PassOutcome::default()
        }
    }

    #[tokio::test]
    async fn failing_sources_back_off_and_recover() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let now = Utc::now();
        let h1 = pass(&store, now, failed("HTTP 500", None)).await;
        assert_eq!((h1.consecutive_failures, h1.previous_failures), (1, 0));
        let until = store.source_backing_off("dpr", now).await.unwrap().unwrap();
        assert!(until > now + chrono::Duration::minutes(4));
        let h2 = pass(
            &store,
            now,
            failed("HTTP 500", Some(Duration::from_secs(7200))),
        )
        .await;
        assert_eq!(h2.consecutive_failures, 2);
        assert!(
            h2.next_try_at.unwrap() > now + chrono::Duration::minutes(119),
            "Retry-After wins"
        );
        let ok = pass(&store, now, PassOutcome::default()).await;
        assert_eq!((ok.consecutive_failures, ok.previous_failures), (0, 2));
        assert_eq!(store.source_backing_off("dpr", now).await.unwrap(), None);
        assert_eq!(source_backoff(1), Duration::from_secs(300));
        assert_eq!(source_backoff(3), Duration::from_secs(1200));
        assert_eq!(source_backoff(40), MAX_SOURCE_BACKOFF);
    }

    #[tokio::test]
    async fn health_counts_empty_listings_and_silence_and_flags_each_alert_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let t0 = Utc::now();
        let listed = |n: usize, new_items: usize| PassOutcome {
            listed: Some(n),
            empty: Some(n == 0),
            fetched: new_items,
            reports: new_items.min(1),
            new_items,
            ..PassOutcome::default()
        };
        let h = pass(&store, t0, listed(4, 4)).await;
        assert_eq!(
            (h.empty_passes, h.empty_alert, h.silent_alert),
            (0, None, None)
        );
        // Three empty listings (the default): raised at the third, not again at the fourth.
        let mut raised = Vec::new();
        for i in 1..=4 {
            let h = pass(&store, t0, listed(0, 0)).await;
            assert_eq!(h.empty_passes, i);
            raised.push(h.empty_alert);
        }
        assert_eq!(raised, [None, None, Some(Change::Raised), None]);
        // A 304 or a failed fetch says nothing about the selectors: the streak stands.
        let h = pass(&store, t0, failed("timeout", None)).await;
        assert_eq!((h.empty_passes, h.empty_alert), (4, None));
        let h = pass(&store, t0, listed(3, 0)).await;
        assert_eq!((h.empty_passes, h.empty_alert), (0, Some(Change::Cleared)));
        assert_eq!(pass(&store, t0, listed(3, 0)).await.empty_alert, None);
        // Seven days without a new item: raised once, cleared by the next new item.
        let later = t0 + chrono::TimeDelta::days(7);
        assert_eq!(
            pass(&store, later - chrono::TimeDelta::hours(1), listed(3, 0))
                .await
                .silent_alert,
            None
        );
        assert_eq!(
            pass(&store, later, listed(3, 0)).await.silent_alert,
            Some(Change::Raised)
        );
        assert_eq!(pass(&store, later, listed(3, 0)).await.silent_alert, None);
        let h = pass(&store, later, listed(4, 1)).await;
        assert_eq!(
            (h.silent_alert, h.last_new_item_at),
            (Some(Change::Cleared), Some(later))
        );
        let rec = &store.source_records().await.unwrap()[0];
        assert_eq!(
            (
                rec.items_listed,
                rec.articles_fetched,
                rec.reports_found,
                rec.empty_passes
            ),
            (Some(4), Some(1), Some(1), 0)
        );
        assert_eq!(
            rec.last_success,
            Some(later).map(|t| parse_time(&fmt_time(t)).unwrap())
        );
        // A source that never had an item is not "silent".
        let h = store
            .record_source_result(
                "quiet",
                "https://q/",
                PassOutcome::default(),
                AlertSettings::default(),
                later + chrono::TimeDelta::days(30),
            )
            .await
            .unwrap();
        assert_eq!(h.silent_alert, None);
    }

    #[tokio::test]
    async fn validators_belong_to_a_source_not_to_a_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let v = Validators {
            etag: Some("\"abc\"".into()),
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        };
        store
            .set_validators("dpr", "https://d/", v.clone())
            .await
            .unwrap();
        assert_eq!(
            store.validators("dpr", "https://d/").await.unwrap(),
            Some(v)
        );
        assert_eq!(
            store.validators("dpr-renamed", "https://d/").await.unwrap(),
            None,
            "another source on the same URL has none"
        );
        store
            .set_validators("dpr", "https://d/", Validators::default())
            .await
            .unwrap();
        assert_eq!(store.validators("dpr", "https://d/").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_backup_is_a_consistent_copy_taken_beside_the_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sqlite3");
        let daemon = Store::open(&path).unwrap();
        daemon
            .record_article("dpr", article("https://d/1", true), None, post("x"))
            .await
            .unwrap();
        let dest = dir.path().join("copy.sqlite3");
        Store::open_shared(&path)
            .unwrap()
            .backup(dest.clone())
            .await
            .unwrap();
        let copy = Connection::open(&dest).unwrap();
        let n: i64 = copy
            .query_row("SELECT COUNT(*) FROM posts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert!(!dir.path().join("copy.sqlite3.partial").exists());
    }

    #[tokio::test]
    async fn a_failed_edit_backs_off_and_a_gone_message_stops_being_edited() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let first = store
            .record_article("dpr", article("https://d/1", true), None, post("x"))
            .await
            .unwrap()
            .id
            .unwrap();
        let p = &store.due_posts(Utc::now()).await.unwrap()[0];
        store.mark_sent(p.id, "@chan", 7).await.unwrap();
        // A copy of the report flags the sent post for an edit.
        let mut copy = article("https://other.example/1", true);
        copy.body = "copy".into();
        store
            .call(move |c| {
                c.execute(
                    "UPDATE articles SET fingerprint = ?2 WHERE id = ?1",
                    params![first, neardup::fingerprint("copy").to_hex()],
                )
            })
            .await
            .unwrap();
        let r = store
            .record_article("wp", copy, Some(neardup::fingerprint("copy")), post("y"))
            .await
            .unwrap();
        assert_eq!(r.duplicate_of, Some(first));
        let edits = store.pending_edits(Utc::now()).await.unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!((edits[0].chat.as_str(), edits[0].message_id), ("@chan", 7));
        let later = Utc::now() + chrono::Duration::minutes(2);
        store
            .edit_failed(edits[0].post_id, "HTTP 502".into(), Some(later))
            .await
            .unwrap();
        assert!(store.pending_edits(Utc::now()).await.unwrap().is_empty());
        let again = store.pending_edits(later).await.unwrap();
        assert_eq!(again[0].attempts, 1);
        store
            .edit_failed(edits[0].post_id, "message to edit not found".into(), None)
            .await
            .unwrap();
        assert!(
            store
                .pending_edits(later + chrono::Duration::days(1))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.count("posts").await.unwrap(), 1, "the record is kept");
    }

    #[tokio::test]
    async fn a_database_from_a_newer_niryat_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
        let err = Store::open_shared(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    }
}
