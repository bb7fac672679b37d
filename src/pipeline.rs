//! One pass: source → fetch → extract → detect → store → render → deliver, and its report.
//!
//! [`App::build`] wires the store, fetcher, detector and notifier from [`Settings`]; `main` and the
//! integration tests both go through it. A failing source is logged with its id and URL, recorded,
//! and never stops the others. Articles are recorded with their verdict, and the post for a
//! relevant one is queued in the same transaction; delivery then drains the outbox.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex as StdMutex;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::Mutex;
use tracing::{Instrument, error, info, info_span, warn};
use url::Url;

use crate::config::{Settings, SourceKind, SourceSettings};
use crate::core::detect::{Detector, Document, Verdict, VocabError, Vocabulary};
use crate::core::page::{self, ListItem};
use crate::core::{readable, render, summary};
use crate::fetch::{FetchError, Fetcher, RequestOptions};
use crate::notify::{self, BotToken, Delivered, Notifier, NotifyError};
use crate::shutdown::Shutdown;
use crate::store::{NewArticle, Store, StoreError};

/// Why the app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vocabulary(#[from] VocabError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// Why a source pass failed. Always names the source id and URL.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source {id}: {source}")]
    Fetch {
        id: String,
        #[source]
        source: FetchError,
    },
    #[error("source {id} ({url}): the listing selectors matched no items — site layout changed?")]
    EmptyListing { id: String, url: String },
    #[error("source {id}: {source}")]
    Store {
        id: String,
        #[source]
        source: StoreError,
    },
    #[error("no source with id {0:?} in the config")]
    Unknown(String),
}

/// The fetch/extract/classify half of the pipeline: no storage, no delivery. `test-source` uses it alone.
pub struct Engine {
    pub settings: Settings,
    pub fetcher: Fetcher,
    pub detector: Detector,
}

/// One article as the engine sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    pub url: String,
    pub listing_title: String,
    pub title: String,
    pub published: Option<String>,
    pub body: String,
    pub verdict: Verdict,
    /// How the body was found: "selectors" or "automatic".
    pub extraction: &'static str,
}

impl Engine {
    pub fn build(settings: Settings) -> Result<Self, BuildError> {
        let mut vocab = Vocabulary::embedded()?;
        if let Some(extra) = &settings.vocabulary {
            vocab.merge(Vocabulary::from_toml_str(
                &extra.content,
                &extra.path.display().to_string(),
            )?);
        }
        let detector = Detector::new(vocab)?;
        let fetcher = Fetcher::new(settings.fetch.clone())?;
        Ok(Self {
            settings,
            fetcher,
            detector,
        })
    }

    fn options<'a>(&self, src: &'a SourceSettings) -> RequestOptions<'a> {
        RequestOptions {
            timeout: src.timeout,
            proxy: src.proxy.as_ref(),
            respect_robots: src.respect_robots_txt,
        }
    }

    /// Fetch the listing and return its items (newest first, as listed).
    pub async fn list(&self, src: &SourceSettings) -> Result<Vec<ListItem>, SourceError> {
        let page = self
            .fetcher
            .get(&src.url, self.options(src))
            .await
            .map_err(|source| SourceError::Fetch {
                id: src.id.clone(),
                source,
            })?;
        let items = match &src.kind {
            SourceKind::Html { list, .. } => page::extract_list(&page.text, &page.url, list),
        };
        if items.is_empty() {
            return Err(SourceError::EmptyListing {
                id: src.id.clone(),
                url: src.url.to_string(),
            });
        }
        Ok(items)
    }

    /// Fetch one article, extract its title and body, and classify it.
    pub async fn classify_item(
        &self,
        src: &SourceSettings,
        item: &ListItem,
    ) -> Result<Classified, FetchError> {
        let page = self.fetcher.get(&item.url, self.options(src)).await?;
        let SourceKind::Html { article, .. } = &src.kind;
        let (title, body, published, extraction) = extract(&page.text, &item.url, article.as_ref());
        let title = if title.is_empty() {
            item.title.clone()
        } else {
            title
        };
        let verdict = self.detector.classify(&Document {
            title: &title,
            body: &body,
            url: Some(item.url.as_str()),
        });
        Ok(Classified {
            url: item.url.to_string(),
            listing_title: item.title.clone(),
            title,
            published,
            body,
            verdict,
            extraction,
        })
    }
}

/// Selectors first; automatic extraction when none are configured or they find no body.
fn extract(
    html: &str,
    url: &Url,
    rules: Option<&page::ArticleRules>,
) -> (String, String, Option<String>, &'static str) {
    let url_date = readable::date_from_url(url.as_str());
    if let Some(Ok(a)) = rules.map(|r| page::extract_article(html, r)) {
        let published = a.published.or(url_date).map(|d| d.to_string());
        return (a.title, a.body, published, "selectors");
    }
    match readable::extract(html, url.as_str()) {
        Some(x) => (
            x.title.unwrap_or_default(),
            x.body,
            x.published.or(url_date).map(|d| d.to_string()),
            "automatic",
        ),
        None => (
            String::new(),
            String::new(),
            url_date.map(|d| d.to_string()),
            "none",
        ),
    }
}

/// Render the Telegram post for a classified article.
pub fn render_post(c: &Classified) -> String {
    let published = c.published.as_deref().and_then(page::parse_iso_date);
    let summary = summary::summarize(&c.title, &c.body, published);
    render::render_html(&render::PostView {
        title: &c.title,
        url: &c.url,
        district_en: c.verdict.district.map(|d| d.en),
        district_hi: c.verdict.district.map(|d| d.hi),
        summary: &summary,
        also_at: &[],
    })
}

/// Outcome of one source pass.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SourceReport {
    pub id: String,
    pub url: String,
    pub error: Option<String>,
    /// Items on the listing.
    pub listed: usize,
    /// Items recorded as already there at the first pass (not posted).
    pub baseline: usize,
    /// New articles fetched and classified.
    pub fetched: usize,
    /// Of those, queued for posting.
    pub relevant: usize,
    /// New items whose article could not be fetched (retried next pass).
    pub item_errors: usize,
    /// The source was already running; this pass was skipped.
    pub skipped: bool,
}

/// Outcome of one delivery run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub printed: usize,
    pub failed: usize,
    pub blocked: bool,
}

/// Outcome of a whole pass.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PassReport {
    pub sources: Vec<SourceReport>,
    pub delivery: DeliveryReport,
}

impl PassReport {
    pub fn failed_sources(&self) -> usize {
        self.sources.iter().filter(|s| s.error.is_some()).count()
    }
}

/// The whole daemon state.
pub struct App {
    pub engine: Engine,
    pub store: Store,
    pub notifier: Notifier,
    shutdown: Shutdown,
    source_locks: HashMap<String, Mutex<()>>,
    delivery_lock: Mutex<()>,
    /// Distinct delivery errors already reported to the operator.
    alerted: StdMutex<HashSet<String>>,
}

impl App {
    /// Wire everything from settings. `token` comes from the environment (`BotToken::from_env`);
    /// `None` means dry-run.
    pub fn build(
        settings: Settings,
        token: Option<BotToken>,
        shutdown: Shutdown,
    ) -> Result<Self, BuildError> {
        let store = Store::open(&settings.storage_path)?;
        let engine = Engine::build(settings)?;
        let notifier = Notifier::new(
            &engine.settings.telegram,
            token,
            engine.fetcher.client().clone(),
            engine.settings.fetch.timeout,
        );
        let source_locks = engine
            .settings
            .sources
            .iter()
            .map(|s| (s.id.clone(), Mutex::new(())))
            .collect();
        Ok(Self {
            engine,
            store,
            notifier,
            shutdown,
            source_locks,
            delivery_lock: Mutex::new(()),
            alerted: StdMutex::new(HashSet::new()),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.engine.settings
    }

    /// One pass over every enabled source (concurrently; one host's requests still queue at its
    /// gate), then deliver what is pending.
    pub async fn run_once(&self) -> PassReport {
        let started = Utc::now();
        let span = info_span!("pass", started = %started.format("%Y-%m-%dT%H:%M:%SZ"));
        async {
            let futs = self
                .settings()
                .sources
                .iter()
                .filter(|s| s.enabled)
                .map(|s| self.run_source(&s.id));
            let sources = futures::future::join_all(futs).await;
            let delivery = self.deliver().await;
            let report = PassReport { sources, delivery };
            info!(
                sources = report.sources.len(),
                failed = report.failed_sources(),
                sent = report.delivery.sent,
                "pass finished"
            );
            if let Err(e) = self
                .store
                .record_run(started, serde_json::to_string(&report).unwrap_or_default())
                .await
            {
                error!(error = %e, "cannot record the pass");
            }
            report
        }
        .instrument(span)
        .await
    }

    /// A scheduled tick for one source: its pass, then delivery.
    pub async fn tick(&self, id: &str) -> SourceReport {
        let r = self.run_source(id).await;
        self.deliver().await;
        r
    }

    /// One pass over one source. Never runs twice at once for the same source.
    pub async fn run_source(&self, id: &str) -> SourceReport {
        let mut report = SourceReport {
            id: id.to_owned(),
            ..SourceReport::default()
        };
        let Some(src) = self.settings().source(id) else {
            report.error = Some(SourceError::Unknown(id.to_owned()).to_string());
            return report;
        };
        report.url = src.url.to_string();
        let Some(lock) = self.source_locks.get(id) else {
            return report;
        };
        let Ok(_guard) = lock.try_lock() else {
            info!(
                source = id,
                "previous pass still running; skipping this tick"
            );
            report.skipped = true;
            return report;
        };
        let span = info_span!("source", id = %src.id, url = %src.url);
        let result = self
            .source_pass(src, &mut report)
            .instrument(span.clone())
            .await;
        let error = result.err().map(|e| e.to_string());
        if let Some(e) = &error {
            warn!(parent: &span, error = %e, "source failed");
        }
        match self
            .store
            .record_source_result(&src.id, src.url.as_str(), error.clone())
            .await
        {
            Ok(h) if h.consecutive_failures == 1 && error.is_some() => {
                warn!(parent: &span, "source started failing");
            }
            Ok(_) => {}
            Err(e) => error!(parent: &span, error = %e, "cannot record the source result"),
        }
        report.error = error;
        report
    }

    async fn source_pass(
        &self,
        src: &SourceSettings,
        report: &mut SourceReport,
    ) -> Result<(), SourceError> {
        let store_err = |source| SourceError::Store {
            id: src.id.clone(),
            source,
        };
        let items = self.engine.list(src).await?;
        report.listed = items.len();
        let unseen: HashSet<String> = self
            .store
            .unseen(items.iter().map(|i| i.url.to_string()).collect())
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let new_items: Vec<&ListItem> = items
            .iter()
            .filter(|i| unseen.contains(i.url.as_str()))
            .collect();
        let initialized = self
            .store
            .source_initialized(&src.id)
            .await
            .map_err(store_err)?;
        let to_fetch: Vec<&ListItem> = if initialized {
            new_items
        } else {
            // Listings are newest first: the first `backfill` items get posted, the rest are the baseline.
            let n = src.backfill.min(new_items.len());
            let (backfill, baseline) = new_items.split_at(n);
            report.baseline = baseline.len();
            self.store
                .record_baseline(
                    &src.id,
                    src.url.as_str(),
                    baseline
                        .iter()
                        .map(|i| (i.url.to_string(), i.title.clone()))
                        .collect(),
                )
                .await
                .map_err(store_err)?;
            info!(
                baseline = baseline.len(),
                backfill = backfill.len(),
                "first pass: existing items recorded as seen"
            );
            backfill.to_vec()
        };
        // Oldest first, so posts appear in publication order.
        for item in to_fetch.into_iter().rev() {
            if self.shutdown.is_triggered() {
                info!("shutdown requested; stopping between items");
                break;
            }
            match self.engine.classify_item(src, item).await {
                Ok(c) => {
                    report.fetched += 1;
                    let relevant = c.verdict.post();
                    info!(url = %c.url, relevant, score = c.verdict.score, title = %c.title, "article classified");
                    let post = relevant
                        .then(|| (self.settings().telegram.channel.clone(), render_post(&c)));
                    let stored = self
                        .store
                        .record_article(new_article(&src.id, c), post)
                        .await
                        .map_err(store_err)?;
                    if relevant && stored.is_some() {
                        report.relevant += 1;
                    }
                }
                Err(e) => {
                    report.item_errors += 1;
                    warn!(url = %item.url, error = %e, "article fetch failed; will retry next pass");
                }
            }
        }
        Ok(())
    }

    /// Send every due post, oldest first. Stops between posts on shutdown, and for the rest of
    /// this run when the chat refuses the bot.
    pub async fn deliver(&self) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        let _guard = self.delivery_lock.lock().await;
        let due = match self.store.due_posts(Utc::now()).await {
            Ok(d) => d,
            Err(e) => {
                error!(error = %e, "cannot read pending posts");
                return report;
            }
        };
        for post in due {
            if self.shutdown.is_triggered() {
                break;
            }
            let span = info_span!("deliver", post_id = post.id, chat = %post.chat);
            let res = self
                .notifier
                .send(post.id, &post.chat, &post.text, &self.shutdown)
                .instrument(span.clone())
                .await;
            let write = match res {
                Ok(Delivered::Sent { message_id }) => {
                    report.sent += 1;
                    info!(parent: &span, message_id, "posted");
                    self.store.mark_sent(post.id, message_id).await
                }
                Ok(Delivered::Printed) => {
                    report.printed += 1;
                    Ok(())
                }
                Err(NotifyError::Retry(msg)) => {
                    report.failed += 1;
                    let delay = notify::backoff(post.attempts + 1);
                    warn!(parent: &span, error = %msg, retry_in_secs = delay.as_secs(), "post failed; will retry");
                    let at = Utc::now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(6));
                    self.store.mark_failed(post.id, msg, at).await
                }
                Err(NotifyError::Blocked(msg)) => {
                    report.blocked = true;
                    if self.first_alert(&msg) {
                        error!(parent: &span, error = %msg, "Telegram refuses the bot; posts stay pending until this is fixed (no restart needed)");
                    }
                    let r = self.store.note_blocked(post.id, msg).await;
                    if let Err(e) = r {
                        error!(parent: &span, error = %e, "cannot record the delivery error");
                    }
                    break;
                }
            };
            if let Err(e) = write {
                error!(parent: &span, error = %e, "cannot record the delivery result");
            }
        }
        report
    }

    fn first_alert(&self, msg: &str) -> bool {
        self.alerted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(msg.to_owned())
    }

    /// Wait until no source pass and no delivery is in flight (used at shutdown).
    pub async fn drain(&self) {
        for lock in self.source_locks.values() {
            let _ = lock.lock().await;
        }
        let _ = self.delivery_lock.lock().await;
    }
}

fn new_article(source_id: &str, c: Classified) -> NewArticle {
    NewArticle {
        source_id: source_id.to_owned(),
        url: c.url,
        title: c.title,
        published: c.published,
        body: c.body,
        topic: c.verdict.topic,
        chhattisgarh: c.verdict.chhattisgarh,
        relevant: c.verdict.post(),
        score: c.verdict.score,
        reasons: c.verdict.reasons.clone(),
        district: c.verdict.district.map(|d| d.en.to_owned()),
        listing_title: c.listing_title,
    }
}
