//! Prometheus metrics (`/metrics`), every one named `niryat_…`.
//!
//! Counters are counted by the pipeline as it runs (fetches, items, articles, reports, sends, the
//! seconds waited on Telegram's `retry_after`); gauges that describe stored state (posts pending
//! and uncertain, each source's last success and empty-listing streak) are read from the database
//! at each scrape, so they are right after a restart too. Encoded by `prometheus-client` in the
//! Prometheus text format.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::store::{PostCounts, SourceRecord};

/// What was fetched: a listing (page, feed, API search) or an article page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchKind {
    Listing,
    Article,
}

/// How a fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchOutcome {
    Ok,
    NotModified,
    /// The listing was read and matched no items.
    Empty,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FetchLabels {
    source: String,
    kind: String,
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

impl FetchKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Listing => "listing",
            Self::Article => "article",
        }
    }
}

impl FetchOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotModified => "not_modified",
            Self::Empty => "empty",
            Self::Error => "error",
        }
    }
}

/// The daemon's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    fetches: Family<FetchLabels, Counter>,
    fetch_duration: Family<KindLabel, Histogram>,
    items_listed: Family<SourceLabel, Counter>,
    articles_fetched: Family<SourceLabel, Counter>,
    reports_detected: Family<SourceLabel, Counter>,
    posts_sent: Counter,
    posts_failed: Counter,
    posts_pending: Gauge,
    posts_uncertain: Gauge,
    last_success: Family<SourceLabel, Gauge>,
    empty_streak: Family<SourceLabel, Gauge>,
    consecutive_failures: Family<SourceLabel, Gauge>,
}

fn source(id: &str) -> SourceLabel {
    SourceLabel {
        source: id.to_owned(),
    }
}

impl Metrics {
    /// `retry_after_waited`: the notifier's count of seconds spent waiting out Telegram 429s.
    pub fn new(retry_after_waited: Counter<f64, AtomicU64>) -> Self {
        let mut registry = Registry::default();
        let fetches = Family::<FetchLabels, Counter>::default();
        registry.register(
            "niryat_fetches",
            "Fetches by source, kind (listing, article) and outcome (ok, not_modified, empty, error)",
            fetches.clone(),
        );
        let fetch_duration = Family::<KindLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.05, 2.0, 12))
        });
        registry.register_with_unit(
            "niryat_fetch_duration",
            "Time to fetch and read a listing or an article",
            Unit::Seconds,
            fetch_duration.clone(),
        );
        let items_listed = Family::<SourceLabel, Counter>::default();
        registry.register(
            "niryat_items_listed",
            "Items seen on listings, by source (every pass counts its listing)",
            items_listed.clone(),
        );
        let articles_fetched = Family::<SourceLabel, Counter>::default();
        registry.register(
            "niryat_articles_fetched",
            "New articles fetched and classified, by source",
            articles_fetched.clone(),
        );
        let reports_detected = Family::<SourceLabel, Counter>::default();
        registry.register(
            "niryat_reports_detected",
            "Relevant reports (on topic, about Chhattisgarh) newly recorded, by source",
            reports_detected.clone(),
        );
        let posts_sent = Counter::default();
        registry.register(
            "niryat_posts_sent",
            "Posts Telegram accepted",
            posts_sent.clone(),
        );
        let posts_failed = Counter::default();
        registry.register(
            "niryat_posts_failed",
            "Sends that failed or got no answer (retried with backoff)",
            posts_failed.clone(),
        );
        let posts_pending = Gauge::default();
        registry.register(
            "niryat_posts_pending",
            "Posts waiting to be sent (pending or failed, in the outbox)",
            posts_pending.clone(),
        );
        let posts_uncertain = Gauge::default();
        registry.register(
            "niryat_posts_uncertain",
            "Posts whose last send got no answer (Telegram may have them)",
            posts_uncertain.clone(),
        );
        registry.register_with_unit(
            "niryat_telegram_retry_after",
            "Seconds waited on Telegram's retry_after (429 Too Many Requests)",
            Unit::Seconds,
            retry_after_waited,
        );
        let last_success = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "niryat_source_last_success_timestamp_seconds",
            "Unix time of the source's last successful pass",
            last_success.clone(),
        );
        let empty_streak = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "niryat_source_empty_listing_streak",
            "Passes in a row whose listing matched zero items",
            empty_streak.clone(),
        );
        let consecutive_failures = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "niryat_source_consecutive_failures",
            "Failed passes in a row",
            consecutive_failures.clone(),
        );
        Self {
            registry,
            fetches,
            fetch_duration,
            items_listed,
            articles_fetched,
            reports_detected,
            posts_sent,
            posts_failed,
            posts_pending,
            posts_uncertain,
            last_success,
            empty_streak,
            consecutive_failures,
        }
    }

    /// One fetch of `source` and how long it took.
    pub fn fetch(&self, source: &str, kind: FetchKind, outcome: FetchOutcome, took: Duration) {
        self.fetches
            .get_or_create(&FetchLabels {
                source: source.to_owned(),
                kind: kind.as_str().to_owned(),
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
        self.fetch_duration
            .get_or_create(&KindLabel {
                kind: kind.as_str().to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// What a source pass found.
    pub fn pass(&self, id: &str, listed: usize, fetched: usize, reports: usize) {
        let label = source(id);
        for (family, n) in [
            (&self.items_listed, listed),
            (&self.articles_fetched, fetched),
            (&self.reports_detected, reports),
        ] {
            family
                .get_or_create(&label)
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    pub fn post_sent(&self) {
        self.posts_sent.inc();
    }

    pub fn post_failed(&self) {
        self.posts_failed.inc();
    }

    /// The text exposition, with the stored state of `sources` and the outbox.
    pub fn render(&self, sources: &[SourceRecord], posts: PostCounts) -> String {
        self.posts_pending
            .set(i64::from(posts.pending) + i64::from(posts.failed));
        self.posts_uncertain.set(i64::from(posts.uncertain));
        for s in sources {
            let label = source(&s.id);
            if let Some(t) = s.last_success {
                self.last_success.get_or_create(&label).set(t.timestamp());
            }
            self.empty_streak
                .get_or_create(&label)
                .set(i64::from(s.empty_passes));
            self.consecutive_failures
                .get_or_create(&label)
                .set(i64::from(s.consecutive_failures));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
