//! SQLite storage: seen URLs, classified articles, the post outbox and pass history.
//!
//! One `rusqlite::Connection` (bundled SQLite, WAL mode, busy timeout) behind a mutex; every call
//! runs on tokio's blocking pool. The schema comes from forward-only migrations in `migrations/`,
//! applied in order under `PRAGMA user_version`. A lock file beside the database makes a second
//! daemon on the same database refuse to start, so two containers never double-post.
//!
//! Delivery is a transactional outbox: an article and its pending post are written in one
//! transaction; the post is marked sent (with Telegram's `message_id`) only after Telegram accepted
//! it. A crash between those two steps is the only way a report can be posted twice.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

pub use crate::fetch::Validators;

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
];

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
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
    _lock: Arc<File>,
}

/// A classified article ready to be stored.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub source_id: String,
    pub url: String,
    pub title: String,
    pub published: Option<String>,
    pub body: String,
    pub topic: bool,
    pub chhattisgarh: bool,
    pub relevant: bool,
    pub score: f32,
    pub reasons: Vec<String>,
    pub district: Option<String>,
    pub listing_title: String,
    /// Near-duplicate fingerprint (hex) of the body.
    pub fingerprint: Option<String>,
    /// The article this one repeats (another site's copy of the same press note).
    pub duplicate_of: Option<i64>,
}

/// A stored article, as needed to re-render its post.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub body: String,
    pub published: Option<String>,
    pub district: Option<String>,
    /// URLs of later copies on other sites.
    pub also_at: Vec<String>,
}

/// A sent post whose message must be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEdit {
    pub post_id: i64,
    pub article_id: i64,
    pub chat: String,
    pub message_id: i64,
}

/// A post waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPost {
    pub id: i64,
    pub article_id: i64,
    pub chat: String,
    pub text: String,
    pub attempts: u32,
}

/// A row of the `posts` table, for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    pub id: i64,
    pub url: String,
    pub status: String,
    pub attempts: u32,
    pub message_id: Option<i64>,
    pub last_error: Option<String>,
    pub text: String,
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
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    SOURCE_BACKOFF_BASE
        .saturating_mul(factor)
        .min(MAX_SOURCE_BACKOFF)
}

pub fn now_rfc3339() -> String {
    fmt_time(Utc::now())
}

pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Open (creating if needed) the database, take the single-instance lock, check integrity and
    /// apply pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                path: path.to_owned(),
                source,
            })?;
        }
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
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: path.to_owned(),
                    lock: lock_path,
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::Lock {
                    lock: lock_path,
                    source,
                });
            }
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
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
            _lock: Arc::new(lock),
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

    /// Mark a source initialised without recording items (nothing was listed, or all were backfilled).
    pub async fn mark_initialized(
        &self,
        source_id: &str,
        source_url: &str,
    ) -> Result<(), StoreError> {
        self.record_baseline(source_id, source_url, Vec::new())
            .await
    }

    /// Store a classified article, mark its URL seen and, when `post` is given, queue the post — all
    /// in one transaction. Returns the article id, or `None` when the URL was already stored (a
    /// concurrent pass got there first): nothing is written twice.
    pub async fn record_article(
        &self,
        a: NewArticle,
        post: Option<(String, String)>,
    ) -> Result<Option<i64>, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_rfc3339();
            let reasons = serde_json::to_string(&a.reasons).unwrap_or_else(|_| "[]".into());
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO articles(source_id, url, title, published, body, topic, chhattisgarh,
                    relevant, score, reasons, district, first_seen, fingerprint, duplicate_of)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    a.source_id, a.url, a.title, a.published, a.body, a.topic, a.chhattisgarh,
                    a.relevant, f64::from(a.score), reasons, a.district, now, a.fingerprint,
                    a.duplicate_of
                ],
            )?;
            if inserted == 0 {
                return Ok(None);
            }
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT OR IGNORE INTO seen(url, source_id, listing_title, baseline, first_seen)
                 VALUES (?1, ?2, ?3, 0, ?4)",
                params![a.url, a.source_id, a.listing_title, now],
            )?;
            if let Some((chat, text)) = post {
                tx.execute(
                    "INSERT INTO posts(article_id, chat, text, status, created_at) VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![id, chat, text, now],
                )?;
            }
            if let Some(first) = a.duplicate_of {
                // The first copy's message gains an "also at" link: edit it once sent.
                tx.execute(
                    "UPDATE posts SET edit_pending = 1 WHERE article_id = ?1",
                    [first],
                )?;
            }
            tx.commit()?;
            Ok(Some(id))
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
                    let failures = previous + 1;
                    let wait = source_backoff(failures).max(retry_after.unwrap_or_default());
                    let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(6));
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
        Ok(next
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t > now))
    }

    /// Stored HTTP validators of a URL.
    pub async fn validators(&self, url: &str) -> Result<Option<Validators>, StoreError> {
        let url = url.to_owned();
        self.call(move |c| {
            c.query_row(
                "SELECT etag, last_modified FROM http_cache WHERE url = ?1",
                [url],
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

    /// Remember a URL's HTTP validators (or forget them when both are absent).
    pub async fn set_validators(&self, url: &str, v: Validators) -> Result<(), StoreError> {
        let url = url.to_owned();
        self.call(move |c| {
            if v.etag.is_none() && v.last_modified.is_none() {
                c.execute("DELETE FROM http_cache WHERE url = ?1", [url])?;
            } else {
                c.execute(
                    "INSERT INTO http_cache(url, etag, last_modified, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                        updated_at = excluded.updated_at",
                    params![url, v.etag, v.last_modified, now_rfc3339()],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// Posts that are pending or failed and due at `now`, oldest first.
    pub async fn due_posts(&self, now: DateTime<Utc>) -> Result<Vec<PendingPost>, StoreError> {
        let now = fmt_time(now);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id, chat, text, attempts FROM posts
                 WHERE status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(PendingPost {
                    id: r.get(0)?,
                    article_id: r.get(1)?,
                    chat: r.get(2)?,
                    text: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Fingerprints of relevant, first-copy articles seen since `since`, newest first.
    pub async fn recent_fingerprints(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let since = fmt_time(since);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, fingerprint FROM articles
                 WHERE relevant = 1 AND duplicate_of IS NULL AND fingerprint IS NOT NULL AND first_seen >= ?1
                 ORDER BY id DESC",
            )?;
            let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// An article with the URLs of its later copies.
    pub async fn article(&self, id: i64) -> Result<Option<StoredArticle>, StoreError> {
        self.call(move |c| {
            let Some(mut a) = c
                .query_row(
                    "SELECT id, url, title, body, published, district FROM articles WHERE id = ?1",
                    [id],
                    |r| {
                        Ok(StoredArticle {
                            id: r.get(0)?,
                            url: r.get(1)?,
                            title: r.get(2)?,
                            body: r.get(3)?,
                            published: r.get(4)?,
                            district: r.get(5)?,
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

    /// Sent posts whose message must be edited.
    pub async fn pending_edits(&self) -> Result<Vec<PendingEdit>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id, chat, message_id FROM posts
                 WHERE edit_pending = 1 AND status = 'sent' AND message_id IS NOT NULL ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PendingEdit {
                    post_id: r.get(0)?,
                    article_id: r.get(1)?,
                    chat: r.get(2)?,
                    message_id: r.get(3)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Replace a post's text (re-rendered), clearing the edit flag: used after a successful edit,
    /// or before sending a post that is still pending.
    pub async fn set_post_text(&self, post_id: i64, text: String) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET text = ?2, edit_pending = 0 WHERE id = ?1",
                params![post_id, text],
            )
            .map(|_| ())
        })
        .await
    }

    /// Pending (unsent) posts flagged for re-rendering.
    pub async fn unsent_edits(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, article_id FROM posts WHERE edit_pending = 1 AND status != 'sent' ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// Telegram accepted the post.
    pub async fn mark_sent(&self, post_id: i64, message_id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = 'sent', message_id = ?2, sent_at = ?3, attempts = attempts + 1,
                    last_error = NULL, next_attempt_at = NULL WHERE id = ?1",
                params![post_id, message_id, now_rfc3339()],
            )
            .map(|_| ())
        })
        .await
    }

    /// A send attempt failed; it will be retried at `retry_at`.
    pub async fn mark_failed(
        &self,
        post_id: i64,
        error: String,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET status = 'failed', attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![post_id, error, fmt_time(retry_at)],
            )
            .map(|_| ())
        })
        .await
    }

    /// A send was refused for a reason the operator must fix (rights, chat): the post stays
    /// pending, with the error recorded, and is retried on the next pass.
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
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT p.id, a.url, p.status, p.attempts, p.message_id, p.last_error, p.text
                 FROM posts p JOIN articles a ON a.id = p.article_id ORDER BY p.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PostRow {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    status: r.get(2)?,
                    attempts: r.get(3)?,
                    message_id: r.get(4)?,
                    last_error: r.get(5)?,
                    text: r.get(6)?,
                })
            })?;
            rows.collect()
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

    /// Copy the live database to `dest` with SQLite's online backup API.
    pub async fn backup(&self, dest: PathBuf) -> Result<(), StoreError> {
        self.call(move |c| c.backup(rusqlite::MAIN_DB, &dest, None))
            .await
    }
}

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let sql_err = |source| StoreError::Sql {
        path: path.to_owned(),
        source,
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_err)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn article(url: &str, relevant: bool) -> NewArticle {
        NewArticle {
            source_id: "dpr".into(),
            url: url.into(),
            title: "दुर्ग : निर्यात संवर्धन समिति की बैठक".into(),
            published: Some("2022-05-12".into()),
            body: "body".into(),
            topic: relevant,
            chhattisgarh: true,
            relevant,
            score: 5.0,
            reasons: vec!["+3 committee".into()],
            district: Some("Durg".into()),
            listing_title: String::new(),
            fingerprint: None,
            duplicate_of: None,
        }
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
    async fn a_second_open_of_the_same_database_is_refused_while_the_first_lives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sqlite3");
        let first = Store::open(&path).unwrap();
        let err = Store::open(&path).err().expect("second open must fail");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("another niryat instance"), "{err}");
        drop(first);
        Store::open(&path).expect("lock released on drop");
    }

    #[tokio::test]
    async fn article_and_post_are_written_together_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("n.sqlite3")).unwrap();
        let url = "https://dprcg.gov.in/post/1/a";
        let id = store
            .record_article(article(url, true), Some(("@c".into(), "<b>x</b>".into())))
            .await
            .unwrap();
        assert!(id.is_some());
        let again = store
            .record_article(article(url, true), Some(("@c".into(), "<b>x</b>".into())))
            .await
            .unwrap();
        assert_eq!(again, None);
        assert_eq!(store.count("posts").await.unwrap(), 1);
        assert!(store.unseen(vec![url.into()]).await.unwrap().is_empty());
        let due = store.due_posts(Utc::now()).await.unwrap();
        assert_eq!(due.len(), 1);
        store.mark_sent(due[0].id, 42).await.unwrap();
        assert!(store.due_posts(Utc::now()).await.unwrap().is_empty());
        let rows = store.posts().await.unwrap();
        assert_eq!(rows[0].status, "sent");
        assert_eq!(rows[0].message_id, Some(42));
    }

    #[tokio::test]
    async fn failed_posts_wait_for_their_retry_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("n.sqlite3")).unwrap();
        store
            .record_article(
                article("https://x.in/1", true),
                Some(("@c".into(), "t".into())),
            )
            .await
            .unwrap();
        let p = &store.due_posts(Utc::now()).await.unwrap()[0];
        let later = Utc::now() + chrono::Duration::minutes(5);
        store
            .mark_failed(p.id, "network down".into(), later)
            .await
            .unwrap();
        assert!(store.due_posts(Utc::now()).await.unwrap().is_empty());
        let due = store
            .due_posts(later + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].attempts, 1);
        assert_eq!(
            store.posts().await.unwrap()[0].last_error.as_deref(),
            Some("network down")
        );
    }

    #[tokio::test]
    async fn baseline_marks_seen_and_initialised() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("n.sqlite3")).unwrap();
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
    async fn databases_of_every_earlier_schema_version_upgrade_without_losing_rows() {
        for version in 1..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite3");
            {
                // A database as that version of niryat left it, with a row in every table.
                let mut c = Connection::open(&path).unwrap();
                for (i, (_, sql)) in MIGRATIONS.iter().take(version).enumerate() {
                    let tx = c.transaction().unwrap();
                    tx.execute_batch(sql).unwrap();
                    tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap())
                        .unwrap();
                    tx.commit().unwrap();
                }
                c.execute_batch(
                    "INSERT INTO sources(id, url, initialized_at) VALUES ('dpr', 'https://d/', '2024-01-01T00:00:00Z');
                     INSERT INTO seen(url, source_id, first_seen) VALUES ('https://d/1', 'dpr', '2024-01-01T00:00:00Z');
                     INSERT INTO articles(source_id, url, title, body, topic, chhattisgarh, relevant, score, reasons, first_seen)
                       VALUES ('dpr', 'https://d/1', 't', 'b', 1, 1, 1, 5.0, '[]', '2024-01-01T00:00:00Z');
                     INSERT INTO posts(article_id, chat, text, status, created_at) VALUES (1, '@c', 'x', 'pending', '2024-01-01T00:00:00Z');
                     INSERT INTO runs(started_at, finished_at, report) VALUES ('a', 'b', '{}');",
                )
                .unwrap();
            }
            let store = Store::open(&path).unwrap();
            for table in ["sources", "seen", "articles", "posts", "runs"] {
                assert_eq!(store.count(table).await.unwrap(), 1, "v{version}: {table}");
            }
            assert!(store.source_initialized("dpr").await.unwrap(), "v{version}");
            assert_eq!(
                store.due_posts(Utc::now()).await.unwrap().len(),
                1,
                "v{version}"
            );
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
        let store = Store::open(&dir.path().join("n.sqlite3")).unwrap();
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
    async fn validators_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("n.sqlite3")).unwrap();
        assert_eq!(store.validators("https://d/").await.unwrap(), None);
        let v = Validators {
            etag: Some("\"abc\"".into()),
            last_modified: None,
        };
        store.set_validators("https://d/", v.clone()).await.unwrap();
        assert_eq!(store.validators("https://d/").await.unwrap(), Some(v));
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
    }
}
