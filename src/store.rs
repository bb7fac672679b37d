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

use crate::core::article::{Article, Extraction, Post};
use crate::core::canonical;
use crate::core::detect::Verdict;
use crate::core::districts::{self, District};
pub use crate::core::http::Validators;
use crate::core::neardup::{self, Fingerprint};

/// The migrations, in order; the schema version is the number applied.
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

/// What a source's health looks like after recording a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceHealth {
    pub consecutive_failures: u32,
    /// Failures in a row before this pass (so `> 0` with `consecutive_failures == 0` is a recovery).
    pub previous_failures: u32,
    /// Not tried again before this time (failing sources only).
    pub next_try_at: Option<DateTime<Utc>>,
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
        let version = schema_version(&conn, path)?;
        let known = MIGRATIONS.len();
        if usize::try_from(version).unwrap_or(usize::MAX) < known {
            match try_lock(path)? {
                Some(_lock) => migrate(&mut conn, path)?,
                None => {
                    return Err(StoreError::Outdated {
                        path: path.to_owned(),
                        found: version,
                        known,
                    });
                }
            }
        } else {
            migrate(&mut conn, path)?; // refuses a newer schema
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
                return Ok(Recorded { id: None, duplicate_of: None, queued: false });
            }
            let id = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT OR IGNORE INTO seen(url, source_id, listing_title, baseline, first_seen)
                 VALUES (?1, ?2, ?3, 0, ?4)",
            )?
            .execute(params![a.url.as_str(), source_id, a.listing_title, fmt_time(now)])?;
            tx.prepare_cached("DELETE FROM item_failures WHERE url = ?1")?
                .execute([a.url.as_str()])?;
            let mut queued = false;
            if let (Some(p), None) = (&post, duplicate_of) {
                tx.prepare_cached(
                    "INSERT INTO posts(article_id, target, text, plain, status, created_at)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                )?
                .execute(params![id, p.target.as_sql(), p.post.html, p.post.plain, fmt_time(now)])?;
                queued = true;
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
            Ok(Recorded { id: Some(id), duplicate_of, queued })
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

    /// Record the outcome of a source pass; returns the source's health afterwards. A failure
    /// sets the next try to `now + source_backoff(failures)`, or later if the site asked
    /// (`retry_after`).
    pub async fn record_source_result(
        &self,
        source_id: &str,
        source_url: &str,
        error: Option<String>,
        retry_after: Option<Duration>,
    ) -> Result<SourceHealth, StoreError> {
        let (id, url) = (source_id.to_owned(), source_url.to_owned());
        self.call(move |c| {
            let now = Utc::now();
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO sources(id, url) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET url = excluded.url",
                params![id, url],
            )?;
            let previous: u32 = tx.query_row(
                "SELECT consecutive_failures FROM sources WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            let health = match &error {
                None => {
                    tx.execute(
                        "UPDATE sources SET last_pass_at = ?2, last_success_at = ?2, consecutive_failures = 0,
                            last_error = NULL, next_try_at = NULL WHERE id = ?1",
                        params![id, fmt_time(now)],
                    )?;
                    SourceHealth { consecutive_failures: 0, previous_failures: previous, next_try_at: None }
                }
                Some(e) => {
                    let failures = previous.saturating_add(1);
                    let wait = source_backoff(failures).max(retry_after.unwrap_or_default());
                    let next = after(now, wait);
                    tx.execute(
                        "UPDATE sources SET last_pass_at = ?2, consecutive_failures = ?3, last_error = ?4,
                            next_try_at = ?5 WHERE id = ?1",
                        params![id, fmt_time(now), failures, e, fmt_time(next)],
                    )?;
                    SourceHealth { consecutive_failures: failures, previous_failures: previous, next_try_at: Some(next) }
                }
            };
            tx.commit()?;
            Ok(health)
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

    /// Posts that are pending, failed or uncertain and due at `now`, oldest first.
    pub async fn due_posts(&self, now: DateTime<Utc>) -> Result<Vec<DuePost>, StoreError> {
        let now = fmt_time(now);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id, target, text, plain, attempts, status FROM posts
                 WHERE status IN ('pending', 'failed', 'uncertain')
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(DuePost {
                    id: r.get(0)?,
                    article_id: r.get(1)?,
                    target: Target::from_sql(r.get(2)?),
                    html: r.get(3)?,
                    plain: r.get(4)?,
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
                "UPDATE posts SET text = ?2, plain = ?3, edit_pending = 0, edit_attempts = 0,
                    edit_next_at = NULL, edit_error = NULL WHERE id = ?1",
                params![post_id, post.html, post.plain],
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
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = 'failed', attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                 WHERE id = ?1 AND status != 'dropped'",
                params![post_id, error, fmt_time(retry_at)],
            )
            .map(|_| ())
        })
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
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = 'uncertain', attempts = attempts + 1, ambiguous = ambiguous + 1,
                    last_error = ?2, next_attempt_at = ?3 WHERE id = ?1 AND status != 'dropped'",
                params![post_id, error, fmt_time(retry_at)],
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

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version = schema_version(conn, path)?;
    let known = MIGRATIONS.len();
    let current = usize::try_from(version).unwrap_or(usize::MAX);
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            known,
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            if *name == "0004_outbox" {
                recanonicalize(&tx)?;
            }
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
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
            },
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
        assert_eq!(version, MIGRATIONS.len() as i64);
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
                queued: false
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
                c.execute_batch(
                    "INSERT INTO sources(id, url, initialized_at) VALUES ('dpr', 'https://d/', '2024-01-01T00:00:00Z');
                     INSERT INTO seen(url, source_id, first_seen) VALUES ('https://d/%7Enews/1', 'dpr', '2024-01-01T00:00:00Z');
                     INSERT INTO articles(source_id, url, title, body, topic, chhattisgarh, relevant, score, reasons, district, first_seen)
                       VALUES ('dpr', 'https://d/%7Enews/1', 't', 'b', 1, 1, 1, 5.0, '[\"+3 committee\"]', 'Durg', '2024-01-01T00:00:00Z');
                     INSERT INTO posts(article_id, chat, text, status, created_at) VALUES (1, '@old_channel', 'x', 'pending', '2024-01-01T00:00:00Z');
                     INSERT INTO runs(started_at, finished_at, report) VALUES ('a', 'b', '{}');",
                )
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
            assert_eq!(v, MIGRATIONS.len() as i64);
        }
    }

    #[tokio::test]
    async fn failing_sources_back_off_and_recover() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let now = Utc::now();
        let h1 = store
            .record_source_result("dpr", "https://d/", Some("HTTP 500".into()), None)
            .await
            .unwrap();
        assert_eq!((h1.consecutive_failures, h1.previous_failures), (1, 0));
        let until = store.source_backing_off("dpr", now).await.unwrap().unwrap();
        assert!(until > now + chrono::Duration::minutes(4));
        let h2 = store
            .record_source_result(
                "dpr",
                "https://d/",
                Some("HTTP 500".into()),
                Some(Duration::from_secs(7200)),
            )
            .await
            .unwrap();
        assert_eq!(h2.consecutive_failures, 2);
        assert!(
            h2.next_try_at.unwrap() > now + chrono::Duration::minutes(119),
            "Retry-After wins"
        );
        let ok = store
            .record_source_result("dpr", "https://d/", None, None)
            .await
            .unwrap();
        assert_eq!((ok.consecutive_failures, ok.previous_failures), (0, 2));
        assert_eq!(store.source_backing_off("dpr", now).await.unwrap(), None);
        assert_eq!(source_backoff(1), Duration::from_secs(300));
        assert_eq!(source_backoff(3), Duration::from_secs(1200));
        assert_eq!(source_backoff(40), MAX_SOURCE_BACKOFF);
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
