//! The app: one pass over the sources and its report, the locks that keep a source from running
//! twice at once, and a failing source's backoff.
//!
//! [`App::build`] wires the store, the engine (fetcher + detector) and the notifier from
//! [`Settings`]; `main` and the integration tests both go through it. A failing source is logged
//! with its id and URL, recorded, and never stops the others. A pass over one source lists it
//! ([`crate::listing`]), plans its new items ([`crate::policy`]), reads each into an article
//! ([`crate::intake`]) and records it with its post in one transaction ([`Store::record_article`]);
//! delivery then drains the outbox ([`crate::delivery`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::Mutex;
use tracing::{Instrument, error, info, info_span, warn};

use crate::config::{Settings, SourceKind, SourceSettings};
use crate::core::entries::Entry;
use crate::core::neardup;
use crate::delivery::DeliveryReport;
pub use crate::engine::{BuildError, Engine, SourceError};
use crate::intake::ItemError;
use crate::listing::{Listed, Walk};
use crate::metrics::{FetchKind, FetchOutcome, Metrics};
use crate::notify::{BotToken, Notifier};
use crate::policy::{self, PassMode};
use crate::shutdown::Shutdown;
use crate::store::{Change, NewPost, PassOutcome, SourceHealth, Store, Target};

/// A page that failed this many passes in a row is given up: recorded as seen with its error.
pub const MAX_ITEM_ATTEMPTS: u32 = 5;

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
    /// Of those, relevant reports (on topic, about Chhattisgarh) newly recorded.
    pub relevant: usize,
    /// Relevant reports recorded without a post: older than `max_age`, or a backfill without
    /// `--post`. (Copies of an earlier report are not posted either; they are logged.)
    pub held_back: usize,
    /// New items whose article could not be fetched (retried next pass).
    pub item_errors: usize,
    /// New items that can never be processed, or were given up: recorded as seen with the reason.
    pub unprocessable: usize,
    /// New items left for the next pass by `max_new_per_pass`.
    pub deferred: usize,
    /// Listing pages that failed while others were read: the source is degraded, not failed.
    pub problems: Vec<String>,
    /// The source was already running, or is backing off after failures, or is paused; this
    /// pass was skipped.
    pub skipped: bool,
    /// An admin paused the source (the bot's `/pause`): it is skipped until `/resume`.
    pub paused: bool,
    /// The listing answered 304 Not Modified.
    pub not_modified: bool,
    /// Listed items never seen before (at the first pass: the whole listing).
    pub new_items: usize,
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
    pub(crate) shutdown: Shutdown,
    source_locks: HashMap<String, Mutex<()>>,
    pub(crate) delivery_lock: Mutex<()>,
    /// Distinct alerts already sent to the operator.
    pub(crate) alerted: StdMutex<HashSet<String>>,
    /// Counters and gauges for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The scheduler is running (`/readyz`); set by [`crate::schedule::run`].
    pub scheduler_running: Arc<AtomicBool>,
    /// Set when a reloaded app replaces this one: its scheduled ticks no longer run. Ticks hold
    /// the read side while they run, so [`App::retire`] waits for them.
    retired: tokio::sync::RwLock<bool>,
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
        Self::with_store(store, settings, token, shutdown)
    }

    fn with_store(
        store: Store,
        settings: Settings,
        token: Option<BotToken>,
        shutdown: Shutdown,
    ) -> Result<Self, BuildError> {
        let engine = Engine::build(settings, shutdown.clone())?;
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
        let metrics = Arc::new(Metrics::new(notifier.retry_after_waited()));
        Ok(Self {
            engine,
            store,
            notifier,
            metrics,
            scheduler_running: Arc::new(AtomicBool::new(false)),
            shutdown,
            source_locks,
            delivery_lock: Mutex::new(()),
            alerted: StdMutex::new(HashSet::new()),
            retired: tokio::sync::RwLock::new(false),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.engine.settings
    }

    /// This app with new settings (a SIGHUP reload): a new engine, notifier and source locks; the
    /// same database, token, shutdown and memory of alerts sent. The database cannot move while
    /// running: a changed `storage.path` is logged and waits for a restart.
    pub fn reloaded(&self, mut settings: Settings) -> Result<Self, BuildError> {
        if settings.storage_path != self.settings().storage_path {
            warn!(
                running = %self.settings().storage_path.display(),
                configured = %settings.storage_path.display(),
                "storage.path changed: the database moves at the next restart, not on reload"
            );
            settings.storage_path = self.settings().storage_path.clone();
        }
        let mut app = Self::with_store(
            self.store.clone(),
            settings,
            self.notifier.token(),
            self.shutdown.clone(),
        )?;
        app.alerted = StdMutex::new(
            self.alerted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        );
        // The endpoint keeps reading the same counters and scheduler state.
        app.metrics = Arc::clone(&self.metrics);
        app.scheduler_running = Arc::clone(&self.scheduler_running);
        Ok(app)
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
        let retired = self.retired.read().await;
        if *retired {
            return SourceReport {
                id: id.to_owned(),
                skipped: true,
                ..SourceReport::default()
            };
        }
        async {
            let r = self.run_source(id).await;
            self.deliver().await;
            r
        }
        .instrument(info_span!("tick", source = id))
        .await
    }

    /// The source's settings and a fresh report for it; without settings, the report says the
    /// id is unknown.
    fn source_and_report(&self, id: &str) -> (Option<&SourceSettings>, SourceReport) {
        let mut report = SourceReport {
            id: id.to_owned(),
            ..SourceReport::default()
        };
        let src = self.settings().source(id);
        match src {
            Some(src) => report.url = src.url.to_string(),
            None => report.error = Some(SourceError::Unknown(id.to_owned()).to_string()),
        }
        (src, report)
    }

    /// One pass over one source. Never runs twice at once for the same source.
    pub async fn run_source(&self, id: &str) -> SourceReport {
        let (src, mut report) = self.source_and_report(id);
        let Some(src) = src else {
            return report;
        };
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
        match self.store.is_paused(&src.id).await {
            Ok(true) => {
                info!(parent: &span, "source is paused (the bot's /resume resumes it); skipping this tick");
                report.skipped = true;
                report.paused = true;
                return report;
            }
            Ok(false) => {}
            Err(e) => error!(parent: &span, error = %e, "cannot read whether the source is paused"),
        }
        match self.store.source_backing_off(&src.id, Utc::now()).await {
            Ok(Some(until)) => {
                info!(parent: &span, until = %until, "source is backing off after failures; skipping this tick");
                report.skipped = true;
                return report;
            }
            Ok(None) => {}
            Err(e) => error!(parent: &span, error = %e, "cannot read the source state"),
        }
        let walk = Walk::of(src, self.engine.today());
        let result = self
            .source_pass(src, &mut report, &walk, PassMode::Normal)
            .instrument(span.clone())
            .await;
        if let Err(SourceError::Stopped(_)) = result {
            info!(parent: &span, "stopped by shutdown; the pass resumes next time");
            return report;
        }
        let retry_after = result.as_ref().err().and_then(SourceError::retry_after);
        // Whether the listing was read (a 304 or a failed fetch says nothing about it). A
        // WordPress search may rightly find nothing on a quiet week: it never counts as empty.
        let listing_read = match &result {
            Ok(()) => !report.not_modified,
            Err(e) => matches!(e, SourceError::EmptyListing { .. }),
        };
        let counts_empty = !matches!(src.kind, SourceKind::WordPress { .. });
        let error = result.err().map(|e| e.to_string());
        if let Some(e) = &error {
            warn!(parent: &span, error = %e, "source failed");
        }
        self.metrics
            .pass(&src.id, report.listed, report.fetched, report.relevant);
        let pass = PassOutcome {
            error: error.clone(),
            retry_after,
            listed: listing_read.then_some(report.listed),
            empty: (listing_read && counts_empty).then_some(report.listed == 0),
            fetched: report.fetched,
            reports: report.relevant,
            new_items: report.new_items,
        };
        let now = Utc::now();
        match self
            .store
            .record_source_result(&src.id, src.url.as_str(), pass, self.settings().alerts, now)
            .await
        {
            Ok(h) => {
                self.health_alerts(src, &h, error.as_deref(), &report, now)
                    .await
            }
            Err(e) => error!(parent: &span, error = %e, "cannot record the source result"),
        }
        report.error = error;
        report
    }

    /// Tell the operator what this pass changed in the source's health: it started failing or
    /// recovered, its listing matched nothing `[alerts] empty_listing_passes` times in a row or
    /// matches again, it has had no new item for `[alerts] silent_days` or has one again. The
    /// store flips each condition once, so each alert goes out once.
    async fn health_alerts(
        &self,
        src: &SourceSettings,
        h: &SourceHealth,
        error: Option<&str>,
        report: &SourceReport,
        now: chrono::DateTime<Utc>,
    ) {
        let (id, url) = (&src.id, &src.url);
        let mut alerts = Vec::new();
        if h.consecutive_failures == 1 {
            alerts.push(format!(
                "niryat: source {id} ({url}) started failing: {}. It is retried with backoff; you will hear when it recovers.",
                error.unwrap_or_default()
            ));
        } else if h.consecutive_failures == 0 && h.previous_failures > 0 {
            alerts.push(format!(
                "niryat: source {id} ({url}) recovered after {} failed pass(es).",
                h.previous_failures
            ));
        }
        match h.empty_alert {
            Some(Change::Raised) => alerts.push(format!(
                "niryat: source {id} ({url}): the listing matched nothing {} passes in a row, the selectors are probably stale. `niryat discover --source {id}` proposes new ones.",
                h.empty_passes
            )),
            Some(Change::Cleared) => alerts.push(format!(
                "niryat: source {id} ({url}): the listing matches again ({} items) after {} empty pass(es).",
                report.listed, h.previous_empty_passes
            )),
            None => {}
        }
        match h.silent_alert {
            Some(Change::Raised) => {
                let last = h.last_new_item_at.unwrap_or(now);
                alerts.push(format!(
                    "niryat: source {id} ({url}): no new item for {} days (the last on {}) from a source that used to have them. Check the site, or run `niryat test-source {id}`.",
                    (now - last).num_days(),
                    last.with_timezone(&self.settings().timezone).format("%Y-%m-%d")
                ));
            }
            Some(Change::Cleared) => alerts.push(format!(
                "niryat: source {id} ({url}) has new items again ({}).",
                report.new_items
            )),
            None => {}
        }
        for text in alerts {
            self.alert(&text).await;
        }
    }

    async fn source_pass(
        &self,
        src: &SourceSettings,
        report: &mut SourceReport,
        walk: &Walk,
        mode: PassMode,
    ) -> Result<(), SourceError> {
        let store_err = |source| SourceError::Store {
            id: src.id.clone(),
            source,
        };
        let initialized = self
            .store
            .source_initialized(&src.id)
            .await
            .map_err(store_err)?;
        // Conditional GET only for scheduled passes of an initialised source: its first pass (or
        // a backfill) reads the listing whole, whatever another source stored for the same URL.
        let validators = if mode == PassMode::Normal && initialized {
            self.store
                .validators(&src.id, src.url.as_str())
                .await
                .map_err(store_err)?
        } else {
            None
        };
        let started = Instant::now();
        let listed = self.engine.list(src, walk, validators.as_ref()).await;
        let outcome = match &listed {
            Ok(Listed::NotModified) => Some(FetchOutcome::NotModified),
            Ok(Listed::Entries(_)) => Some(FetchOutcome::Ok),
            Err(SourceError::Stopped(_)) => None,
            Err(SourceError::EmptyListing { .. }) => Some(FetchOutcome::Empty),
            Err(_) => Some(FetchOutcome::Error),
        };
        if let Some(outcome) = outcome {
            self.metrics
                .fetch(&src.id, FetchKind::Listing, outcome, started.elapsed());
        }
        let listing = match listed? {
            Listed::NotModified => {
                info!("listing not modified since the last pass");
                report.not_modified = true;
                return Ok(());
            }
            Listed::Entries(l) => l,
        };
        report.listed = listing.entries.len();
        report.problems.clone_from(&listing.problems);
        let unseen: HashSet<String> = self
            .store
            .unseen(listing.entries.iter().map(|i| i.url.to_string()).collect())
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let new_items: Vec<&Entry> = listing
            .entries
            .iter()
            .filter(|i| unseen.contains(i.url.as_str()))
            .collect();
        report.new_items = new_items.len();
        let plan = policy::plan(
            new_items,
            mode,
            initialized,
            src.backfill,
            src.max_new_per_pass,
        );
        if mode == PassMode::Normal && !initialized {
            report.baseline = plan.baseline.len();
            self.store
                .record_baseline(
                    &src.id,
                    src.url.as_str(),
                    plan.baseline
                        .iter()
                        .map(|i| (i.url.to_string(), i.title.clone()))
                        .collect(),
                )
                .await
                .map_err(store_err)?;
            info!(
                baseline = plan.baseline.len(),
                backfill = plan.fetch.len(),
                "first pass: existing items recorded as seen"
            );
        }
        if plan.deferred > 0 {
            report.deferred = plan.deferred;
            warn!(
                fetched = plan.fetch.len(),
                deferred = plan.deferred,
                max_new_per_pass = src.max_new_per_pass,
                "more new items than max_new_per_pass; the rest wait for the next pass"
            );
        }
        let links_internal = self.engine.source_is_internal(src).await;
        let today = self.engine.today();
        // Items are read a few at a time (fetches overlap, pages parse on every core) and
        // recorded one by one in listing order, so posts keep the order of the listing.
        // Reading and recording run side by side in this task: the reads are driven while an
        // article is being stored (a blocking SQLite write), and finished reads wait in a queue
        // as long as the read-ahead. When recording stops (shutdown, a store error) the queue
        // closes and the reads in flight are dropped. A read's future is made only when it
        // starts, so memory does not grow with the number of new items (10,000 futures made up
        // front held about 28 MB at N = 10,000).
        let read_ahead = self.engine.read_ahead();
        let (done, mut finished) = tokio::sync::mpsc::channel(read_ahead);
        let read = async move {
            let mut waiting = plan.fetch.into_iter();
            let mut reading = futures::stream::FuturesOrdered::new();
            loop {
                while reading.len() < read_ahead
                    && let Some(item) = waiting.next()
                {
                    reading.push_back(self.read_item(src, item, links_internal));
                }
                tokio::select! {
                    _ = done.closed() => break,
                    next = reading.next() => {
                        let Some(r) = next else { break };
                        if done.send(r).await.is_err() {
                            break;
                        }
                    }
                }
            }
        };
        // At shutdown, reads not yet started end as `Stopped` and fetches in flight are cut off;
        // the articles before the first of those are recorded, the rest stay unseen.
        let counts = &mut *report;
        let record = async move {
            while let Some((item, read)) = finished.recv().await {
                match read {
                    Ok(article) => {
                        counts.fetched += 1;
                        self.record(src, article, mode, today, counts).await?;
                    }
                    Err(ItemError::Stopped) => {
                        info!("shutdown requested; stopping between items");
                        break;
                    }
                    Err(e) => self.item_failed(src, item, &e, counts).await?,
                }
            }
            Ok::<(), crate::store::StoreError>(())
        };
        let ((), recorded) = tokio::join!(read, record);
        recorded.map_err(store_err)?;
        // Remember the listing's validators only when every new item was handled, so a 304 can
        // never hide an item that still has to be fetched.
        if mode == PassMode::Normal
            && report.item_errors == 0
            && report.deferred == 0
            && listing.problems.is_empty()
            && !self.shutdown.is_triggered()
        {
            self.store
                .set_validators(&src.id, src.url.as_str(), listing.validators)
                .await
                .map_err(store_err)?;
        }
        Ok(())
    }

    /// Read one item into an article, returning the item with the outcome.
    async fn read_item<'a>(
        &self,
        src: &SourceSettings,
        item: &'a Entry,
        links_internal: bool,
    ) -> (&'a Entry, Result<crate::core::article::Article, ItemError>) {
        if self.shutdown.is_triggered() {
            return (item, Err(ItemError::Stopped));
        }
        let started = Instant::now();
        let read = self.engine.read(src, item, links_internal).await;
        if !matches!(read, Err(ItemError::Stopped)) {
            let outcome = if read.is_ok() {
                FetchOutcome::Ok
            } else {
                FetchOutcome::Error
            };
            self.metrics
                .fetch(&src.id, FetchKind::Article, outcome, started.elapsed());
        }
        (item, read)
    }

    /// Store a classified article, queueing its post when it is relevant, new (not a copy of a
    /// recent report) and not held back.
    async fn record(
        &self,
        src: &SourceSettings,
        mut article: crate::core::article::Article,
        mode: PassMode,
        today: NaiveDate,
        report: &mut SourceReport,
    ) -> Result<(), crate::store::StoreError> {
        let relevant = article.relevant();
        info!(url = %article.url, relevant, score = article.verdict.score, title = %article.title, "article classified");
        let mut post = None;
        let mut fingerprint = None;
        if relevant {
            fingerprint = Some(neardup::fingerprint(&article.body));
            match policy::hold_back(mode, article.report_date(), today, src.max_age) {
                Some(why) => {
                    info!(url = %article.url, reason = %why, "relevant report held back");
                    article.verdict.reasons.push(why);
                    if mode == PassMode::Normal {
                        report.held_back += 1;
                    }
                }
                None => {
                    post = Some(NewPost {
                        target: Target::Channel,
                        post: article.post(&[]),
                        // Subscribers get new reports, not a backfill of old ones; and only
                        // while the bot runs (it is how they unsubscribe).
                        subscribers: mode == PassMode::Normal && self.settings().bot.enabled,
                    });
                }
            }
        }
        let url = article.url.clone();
        let recorded = self
            .store
            .record_article(&src.id, article, fingerprint, post)
            .await?;
        if let Some(first) = recorded.duplicate_of {
            info!(url = %url, first_article = first, "another copy of an earlier report: not posted again");
        }
        if recorded.copies > 0 {
            info!(url = %url, copies = recorded.copies, "private copies queued for subscribers");
        }
        if relevant && recorded.id.is_some() {
            report.relevant += 1;
        }
        Ok(())
    }

    /// An item gave no article: count a transient failure (and give up after
    /// [`MAX_ITEM_ATTEMPTS`]), or record a permanent one as seen with its reason.
    async fn item_failed(
        &self,
        src: &SourceSettings,
        item: &Entry,
        e: &ItemError,
        report: &mut SourceReport,
    ) -> Result<(), crate::store::StoreError> {
        let url = item.url.as_str();
        let reason = if e.is_permanent() {
            Some(e.to_string())
        } else {
            let attempts = self.store.item_failed(&src.id, url, &e.to_string()).await?;
            (attempts >= MAX_ITEM_ATTEMPTS)
                .then(|| format!("given up after {attempts} failed attempts; last: {e}"))
        };
        match reason {
            Some(reason) => {
                report.unprocessable += 1;
                warn!(url, reason = %reason, "item cannot be processed; recorded as seen and not retried");
                self.store
                    .record_skipped(&src.id, url, &item.title, &reason)
                    .await
            }
            None => {
                report.item_errors += 1;
                warn!(url, error = %e, "article fetch failed; will retry next pass");
                Ok(())
            }
        }
    }

    /// `niryat backfill`: walk the source back to `since` (dates, pages or the API's `after`),
    /// record every new article with its verdict, and queue posts only when `post` is set.
    /// Validators are not used, so an unchanged listing is still walked.
    pub async fn backfill(&self, id: &str, since: NaiveDate, post: bool) -> SourceReport {
        let (src, mut report) = self.source_and_report(id);
        let Some(src) = src else {
            return report;
        };
        let Some(lock) = self.source_locks.get(id) else {
            return report;
        };
        // Waits for a scheduled pass of the same source to finish rather than skipping.
        let _guard = lock.lock().await;
        let walk = Walk::since(since, self.engine.today());
        let mode = if post {
            PassMode::Post
        } else {
            PassMode::Record
        };
        let span = info_span!("backfill", id = %src.id, url = %src.url, since = %since);
        if let Err(e) = self
            .source_pass(src, &mut report, &walk, mode)
            .instrument(span)
            .await
        {
            report.error = Some(e.to_string());
        }
        report
    }

    /// Stop this app's ticks for good and wait for its work in flight (a reload replaces it):
    /// a tick that fired before cannot start a pass afterwards.
    pub async fn retire(&self) {
        *self.retired.write().await = true;
        self.drain().await;
    }

    /// Wait until no source pass and no delivery is in flight (used at shutdown).
    pub async fn drain(&self) {
        for lock in self.source_locks.values() {
            let _ = lock.lock().await;
        }
        let _ = self.delivery_lock.lock().await;
    }
}
