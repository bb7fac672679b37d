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
use crate::core::entries::{self, Entry};
use crate::core::neardup::{self, Fingerprint};
use crate::core::page;
use crate::core::{districts, krutidev, readable, render, summary};
use crate::fetch::{FetchError, Fetcher, RequestOptions, Validators};
use crate::notify::{self, BotToken, Delivered, Notifier, NotifyError};
use crate::shutdown::Shutdown;
use crate::store::{NewArticle, Store, StoreError, StoredArticle};

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
    #[error("source {id} ({url}): cannot read the response: {message}")]
    Parse {
        id: String,
        url: String,
        message: String,
    },
    #[error("source {id}: {message}")]
    Config { id: String, message: String },
    #[error("no source with id {0:?} in the config")]
    Unknown(String),
}

impl SourceError {
    /// How long the site asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Fetch { source, .. } => source.retry_after(),
            _ => None,
        }
    }
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

    /// Fetch the listing and return its entries (newest first, as listed).
    pub async fn list(&self, src: &SourceSettings) -> Result<Vec<Entry>, SourceError> {
        Ok(self
            .list_conditional(src, None, &Walk::of(src))
            .await?
            .map(|(items, _)| items)
            .unwrap_or_default())
    }

    /// Entries of a source, newest first, de-duplicated by URL. For a single-URL listing or feed
    /// a conditional GET is made with `validators`: `Ok(None)` when it has not changed; the new
    /// validators come back with the entries.
    pub async fn list_conditional(
        &self,
        src: &SourceSettings,
        validators: Option<&Validators>,
        walk: &Walk,
    ) -> Result<Option<(Vec<Entry>, Validators)>, SourceError> {
        let fetch_err = |source| SourceError::Fetch {
            id: src.id.clone(),
            source,
        };
        let opts = self.options(src);
        let mut entries: Vec<Entry> = Vec::new();
        let mut new_validators = Validators::default();
        match &src.kind {
            SourceKind::Html { list, next, .. } => {
                let today = Utc::now()
                    .with_timezone(&self.settings.timezone)
                    .date_naive();
                let starts: Vec<Url> = match &src.url_template {
                    None => vec![src.url.clone()],
                    Some(t) => entries::expand_date_template(t, today, walk.days)
                        .map_err(|e| SourceError::Config {
                            id: src.id.clone(),
                            message: e.to_string(),
                        })?
                        .iter()
                        .filter_map(|u| Url::parse(u).ok())
                        .collect(),
                };
                let conditional = src.url_template.is_none();
                for start in starts {
                    let mut url = Some(start);
                    let mut pages = 0;
                    while let Some(u) = url.take() {
                        if pages >= walk.max_pages {
                            break;
                        }
                        let v = if conditional && pages == 0 {
                            validators
                        } else {
                            None
                        };
                        let Some(page) = self
                            .fetcher
                            .get_conditional(&u, opts, v)
                            .await
                            .map_err(fetch_err)?
                        else {
                            return Ok(None);
                        };
                        if conditional && pages == 0 {
                            new_validators = page.validators.clone();
                        }
                        pages += 1;
                        entries.extend(
                            page::extract_list(&page.text, &page.url, list)
                                .into_iter()
                                .map(|i| Entry {
                                    url: i.url,
                                    title: i.title,
                                    body: None,
                                    published: None,
                                }),
                        );
                        url = next
                            .as_ref()
                            .and_then(|n| page::next_page(&page.text, &page.url, n))
                            .filter(|n| *n != u);
                    }
                }
                if entries.is_empty() {
                    return Err(SourceError::EmptyListing {
                        id: src.id.clone(),
                        url: src.url.to_string(),
                    });
                }
            }
            SourceKind::Feed { .. } => {
                let Some(raw) = self
                    .fetcher
                    .get_raw(&src.url, opts, validators)
                    .await
                    .map_err(fetch_err)?
                else {
                    return Ok(None);
                };
                new_validators = Validators {
                    etag: raw.header("etag").map(str::to_owned),
                    last_modified: raw.header("last-modified").map(str::to_owned),
                };
                entries =
                    entries::parse_feed(&raw.bytes, &raw.url).map_err(|e| SourceError::Parse {
                        id: src.id.clone(),
                        url: src.url.to_string(),
                        message: e.to_string(),
                    })?;
            }
            SourceKind::WordPress { search } => {
                for term in search {
                    let mut page = 1;
                    loop {
                        let url = entries::wp_search_url(&src.url, term, walk.after, page);
                        let Some(raw) = self
                            .fetcher
                            .get_raw(&url, opts, None)
                            .await
                            .map_err(fetch_err)?
                        else {
                            // Only a conditional request can answer 304, and this one is not.
                            break;
                        };
                        let text =
                            crate::core::decode::decode_xml(&raw.bytes, raw.header("content-type"))
                                .text;
                        let found =
                            entries::parse_wp_posts(&text).map_err(|e| SourceError::Parse {
                                id: src.id.clone(),
                                url: url.to_string(),
                                message: e.to_string(),
                            })?;
                        entries.extend(found);
                        let total = entries::wp_total_pages(raw.header("x-wp-totalpages"));
                        if page >= total || page as usize >= walk.max_pages {
                            break;
                        }
                        page += 1;
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        entries.retain(|e| seen.insert(e.url.to_string()));
        Ok(Some((entries, new_validators)))
    }

    /// Classify one entry: its own text when the source carried it (feeds, WordPress), else the
    /// article page fetched and extracted.
    pub async fn classify_item(
        &self,
        src: &SourceSettings,
        item: &Entry,
    ) -> Result<Classified, FetchError> {
        let (title, body, published, extraction) = match &item.body {
            Some(body) => (
                item.title.clone(),
                body.clone(),
                item.published.map(|d| d.to_string()),
                "source",
            ),
            None => {
                let page = self.fetcher.get(&item.url, self.options(src)).await?;
                let (t, b, p, how) = extract(&page.text, &item.url, src.kind.article());
                (t, b, p.or(item.published.map(|d| d.to_string())), how)
            }
        };
        let title = if title.is_empty() {
            item.title.clone()
        } else {
            title
        };
        let (title, body, legacy_font) = from_legacy_font(title, body);
        let mut verdict = self.detector.classify(&Document {
            title: &title,
            body: &body,
            url: Some(item.url.as_str()),
        });
        if legacy_font {
            verdict.reasons.insert(
                0,
                "legacy font: the page is in Kruti Dev (ASCII that renders as Devanagari); converted to Unicode before matching".to_owned(),
            );
        }
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

/// How far a listing pass reaches back.
#[derive(Debug, Clone)]
pub struct Walk {
    /// Days of a `{date:…}` template.
    pub days: u32,
    /// Listing pages (html `next`) or API pages (wordpress) read at most.
    pub max_pages: usize,
    /// WordPress: only posts after this date.
    pub after: Option<chrono::NaiveDate>,
}

impl Walk {
    /// A normal pass, as configured.
    pub fn of(src: &SourceSettings) -> Self {
        let max_pages = match &src.kind {
            SourceKind::Html { max_pages, .. } => *max_pages,
            _ => 10,
        };
        Self {
            days: src.days,
            max_pages,
            after: matches!(src.kind, SourceKind::WordPress { .. })
                .then(|| Utc::now().date_naive() - chrono::Duration::days(i64::from(src.days))),
        }
    }

    /// A backfill back to `since` (inclusive), in the configured time zone's today.
    pub fn since(since: chrono::NaiveDate, today: chrono::NaiveDate) -> Self {
        let days = u32::try_from((today - since).num_days().max(0) + 1).unwrap_or(u32::MAX);
        Self {
            days,
            max_pages: 200,
            after: Some(since - chrono::Duration::days(1)),
        }
    }
}

/// Hindi typed in the legacy Kruti Dev font arrives as ASCII gibberish; convert the lines that
/// look like it (and the title) so it is classified as Hindi. Returns whether anything was converted.
fn from_legacy_font(title: String, body: String) -> (String, String, bool) {
    let body_converted = krutidev::convert_krutidev_lines(&body);
    let title_converted =
        krutidev::looks_like_krutidev(&title).then(|| krutidev::krutidev_to_unicode(&title));
    let converted = body_converted.is_some() || title_converted.is_some();
    (
        title_converted.unwrap_or(title),
        body_converted.unwrap_or(body),
        converted,
    )
}

/// Selectors first; automatic extraction when none are configured or they find no body.
fn extract(
    html: &str,
    url: &Url,
    rules: Option<&page::ArticleRules>,
) -> (String, String, Option<String>, &'static str) {
    let r = readable::read_article(html, url.as_str(), rules);
    (
        r.title,
        r.body,
        r.published.map(|d| d.to_string()),
        r.method,
    )
}

/// Render the Telegram post for a classified article.
pub fn render_post(c: &Classified) -> String {
    render_parts(
        &c.title,
        &c.body,
        &c.url,
        c.published.as_deref(),
        c.verdict.district,
        &[],
    )
}

/// Re-render a stored article's post, with the URLs of its later copies ("also at").
pub fn render_stored(a: &StoredArticle) -> String {
    let district = a.district.as_deref().and_then(districts::by_en).copied();
    render_parts(
        &a.title,
        &a.body,
        &a.url,
        a.published.as_deref(),
        district,
        &a.also_at,
    )
}

fn render_parts(
    title: &str,
    body: &str,
    url: &str,
    published: Option<&str>,
    district: Option<districts::District>,
    also_at: &[String],
) -> String {
    let published = published.and_then(page::parse_iso_date);
    let summary = summary::summarize(title, body, published);
    render::render_html(&render::PostView {
        title,
        url,
        district_en: district.map(|d| d.en),
        district_hi: district.map(|d| d.hi),
        summary: &summary,
        also_at,
    })
}

/// How far back a new report is compared with earlier ones for near-duplicates.
const DUPLICATE_WINDOW_DAYS: i64 = 60;

/// What a source pass does with new relevant articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassMode {
    /// Scheduled pass: the first one records a baseline; later ones queue posts.
    Normal,
    /// Backfill: record what is found, queue nothing.
    Record,
    /// Backfill with `--post`: queue posts for what is found (oldest first).
    Post,
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
    /// The source was already running, or is backing off after failures; this pass was skipped.
    pub skipped: bool,
    /// The listing answered 304 Not Modified.
    pub not_modified: bool,
}

/// Outcome of one delivery run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub printed: usize,
    pub failed: usize,
    pub blocked: bool,
    /// Sent messages edited (a later copy added an "also at" link).
    pub edited: usize,
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

    /// The source's settings and a fresh report for it, or a report saying the id is unknown.
    fn source_and_report(&self, id: &str) -> Result<(&SourceSettings, SourceReport), SourceReport> {
        let mut report = SourceReport {
            id: id.to_owned(),
            ..SourceReport::default()
        };
        match self.settings().source(id) {
            Some(src) => {
                report.url = src.url.to_string();
                Ok((src, report))
            }
            None => {
                report.error = Some(SourceError::Unknown(id.to_owned()).to_string());
                Err(report)
            }
        }
    }

    /// One pass over one source. Never runs twice at once for the same source.
    pub async fn run_source(&self, id: &str) -> SourceReport {
        let (src, mut report) = match self.source_and_report(id) {
            Ok(found) => found,
            Err(report) => return report,
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
        match self.store.source_backing_off(&src.id, Utc::now()).await {
            Ok(Some(until)) => {
                info!(parent: &span, until = %until, "source is backing off after failures; skipping this tick");
                report.skipped = true;
                return report;
            }
            Ok(None) => {}
            Err(e) => error!(parent: &span, error = %e, "cannot read the source state"),
        }
        let result = self
            .source_pass(src, &mut report, &Walk::of(src), PassMode::Normal)
            .instrument(span.clone())
            .await;
        let retry_after = result.as_ref().err().and_then(SourceError::retry_after);
        let error = result.err().map(|e| e.to_string());
        if let Some(e) = &error {
            warn!(parent: &span, error = %e, "source failed");
        }
        match self
            .store
            .record_source_result(&src.id, src.url.as_str(), error.clone(), retry_after)
            .await
        {
            Ok(h) if h.consecutive_failures == 1 => {
                self.alert(&format!(
                    "niryat: source {} ({}) started failing: {}. It is retried with backoff; you will hear when it recovers.",
                    src.id,
                    src.url,
                    error.as_deref().unwrap_or_default()
                ))
                .await;
            }
            Ok(h) if h.consecutive_failures == 0 && h.previous_failures > 0 => {
                self.alert(&format!(
                    "niryat: source {} ({}) recovered after {} failed pass(es).",
                    src.id, src.url, h.previous_failures
                ))
                .await;
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
        walk: &Walk,
        mode: PassMode,
    ) -> Result<(), SourceError> {
        let store_err = |source| SourceError::Store {
            id: src.id.clone(),
            source,
        };
        // Conditional GET only for scheduled passes: a backfill walks the listing whatever it says.
        let validators = if mode == PassMode::Normal {
            self.store
                .validators(src.url.as_str())
                .await
                .map_err(store_err)?
        } else {
            None
        };
        let Some((items, new_validators)) = self
            .engine
            .list_conditional(src, validators.as_ref(), walk)
            .await?
        else {
            info!("listing not modified since the last pass");
            report.not_modified = true;
            return Ok(());
        };
        report.listed = items.len();
        let unseen: HashSet<String> = self
            .store
            .unseen(items.iter().map(|i| i.url.to_string()).collect())
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let new_items: Vec<&Entry> = items
            .iter()
            .filter(|i| unseen.contains(i.url.as_str()))
            .collect();
        let initialized = self
            .store
            .source_initialized(&src.id)
            .await
            .map_err(store_err)?;
        let to_fetch: Vec<&Entry> = if initialized || mode != PassMode::Normal {
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
                    let fingerprint = relevant.then(|| neardup::fingerprint(&c.body));
                    let duplicate_of = match &fingerprint {
                        Some(fp) => self.find_duplicate(fp).await.map_err(store_err)?,
                        None => None,
                    };
                    if let Some(first) = duplicate_of {
                        info!(url = %c.url, first_article = first, "another copy of an earlier report: not posted again");
                    }
                    let post = (relevant && duplicate_of.is_none() && mode != PassMode::Record)
                        .then(|| (self.settings().telegram.channel.clone(), render_post(&c)));
                    let stored = self
                        .store
                        .record_article(
                            new_article(&src.id, c, fingerprint.map(|f| f.to_hex()), duplicate_of),
                            post,
                        )
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
        // Remember the listing's validators only when every new item was handled, so a 304 can
        // never hide an item that still has to be fetched.
        if mode == PassMode::Normal && report.item_errors == 0 && !self.shutdown.is_triggered() {
            self.store
                .set_validators(src.url.as_str(), new_validators)
                .await
                .map_err(store_err)?;
        }
        Ok(())
    }

    /// Send every due post, oldest first. Stops between posts on shutdown, and for the rest of
    /// this run when the chat refuses the bot.
    pub async fn deliver(&self) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        let _guard = self.delivery_lock.lock().await;
        self.rerender_unsent().await;
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
                        self.alert(&format!(
                            "niryat: Telegram refuses the bot; posts stay pending until this is fixed (no restart needed): {msg}"
                        ))
                        .instrument(span.clone())
                        .await;
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
        if !report.blocked {
            self.apply_edits(&mut report).await;
        }
        report
    }

    /// The earlier relevant article this fingerprint repeats, if any.
    async fn find_duplicate(&self, fp: &Fingerprint) -> Result<Option<i64>, StoreError> {
        let since = Utc::now() - chrono::Duration::days(DUPLICATE_WINDOW_DAYS);
        let candidates = self.store.recent_fingerprints(since).await?;
        Ok(candidates.into_iter().find_map(|(id, hex)| {
            Fingerprint::from_hex(&hex)
                .filter(|other| neardup::is_duplicate(other, fp))
                .map(|_| id)
        }))
    }

    async fn rerender(&self, article_id: i64) -> Option<String> {
        match self.store.article(article_id).await {
            Ok(a) => a.map(|a| render_stored(&a)),
            Err(e) => {
                error!(error = %e, "cannot read the article to re-render its post");
                None
            }
        }
    }

    /// Posts that gained "also at" links: unsent ones are re-rendered in place (before sending).
    async fn rerender_unsent(&self) {
        let list = match self.store.unsent_edits().await {
            Ok(l) => l,
            Err(e) => {
                error!(error = %e, "cannot read posts to re-render");
                return;
            }
        };
        for (post_id, article_id) in list {
            let Some(text) = self.rerender(article_id).await else {
                continue;
            };
            if let Err(e) = self.store.set_post_text(post_id, text).await {
                error!(error = %e, "cannot update the post text");
            }
        }
    }

    /// Sent posts that gained "also at" links: edit the Telegram message. A failed edit is
    /// retried on the next delivery.
    async fn apply_edits(&self, report: &mut DeliveryReport) {
        let edits = match self.store.pending_edits().await {
            Ok(e) => e,
            Err(e) => {
                error!(error = %e, "cannot read posts to edit");
                return;
            }
        };
        for edit in edits {
            if self.shutdown.is_triggered() {
                break;
            }
            let Some(text) = self.rerender(edit.article_id).await else {
                continue;
            };
            match self
                .notifier
                .edit(&edit.chat, edit.message_id, &text, &self.shutdown)
                .await
            {
                Ok(()) => {
                    report.edited += 1;
                    if let Err(e) = self.store.set_post_text(edit.post_id, text).await {
                        error!(error = %e, "cannot record the edit");
                    }
                }
                Err(e) => {
                    warn!(post_id = edit.post_id, error = %e, "editing the message failed; will retry");
                }
            }
        }
    }

    /// Tell the operator: an error line in the log, and a message to `[telegram] admin_chat`
    /// when one is configured (best effort: an alert that cannot be sent is only logged).
    pub async fn alert(&self, text: &str) {
        error!(alert = true, "{text}");
        let Some(admin) = &self.settings().telegram.admin_chat else {
            return;
        };
        if let Err(e) = self.notifier.send_alert(admin, text, &self.shutdown).await {
            warn!(error = %e, "cannot send the alert to the admin chat");
        }
    }

    fn first_alert(&self, msg: &str) -> bool {
        self.alerted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(msg.to_owned())
    }

    /// `niryat backfill`: walk the source back to `since` (dates, pages or the API's `after`),
    /// record every new article with its verdict, and queue posts only when `post` is set.
    /// Validators are not used, so an unchanged listing is still walked.
    pub async fn backfill(&self, id: &str, since: chrono::NaiveDate, post: bool) -> SourceReport {
        let (src, mut report) = match self.source_and_report(id) {
            Ok(found) => found,
            Err(report) => return report,
        };
        let Some(lock) = self.source_locks.get(id) else {
            return report;
        };
        // Waits for a scheduled pass of the same source to finish rather than skipping.
        let _guard = lock.lock().await;
        let today = Utc::now()
            .with_timezone(&self.settings().timezone)
            .date_naive();
        let walk = Walk::since(since, today);
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

    /// Wait until no source pass and no delivery is in flight (used at shutdown).
    pub async fn drain(&self) {
        for lock in self.source_locks.values() {
            let _ = lock.lock().await;
        }
        let _ = self.delivery_lock.lock().await;
    }
}

fn new_article(
    source_id: &str,
    c: Classified,
    fingerprint: Option<String>,
    duplicate_of: Option<i64>,
) -> NewArticle {
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
        fingerprint,
        duplicate_of,
    }
}
