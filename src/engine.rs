//! The fetch → extract → classify half of niryat, without storage or delivery: what
//! `test-source` runs alone, and what [`crate::app::App`] drives. Listing a source lives in
//! [`crate::listing`], turning an item into an [`crate::core::article::Article`] in
//! [`crate::intake`]; both are `impl Engine` blocks.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::{Settings, SourceSettings};
use crate::core::detect::{Detector, VocabError, Vocabulary};
use crate::fetch::{FetchError, Fetcher, RequestOptions};
use crate::shutdown::Shutdown;

/// Why the engine (or the app around it) could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Vocabulary(#[from] VocabError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// Where the engine's "now" comes from: the system clock, or a fixed instant (tests that must
/// not depend on the hour they run at, e.g. a dated listing read a second before midnight).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }

    /// Today in time zone `tz`.
    pub fn today(self, tz: chrono_tz::Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }
}

/// Settings, the polite fetcher and the detector.
pub struct Engine {
    pub settings: Settings,
    pub fetcher: Fetcher,
    pub detector: Arc<Detector>,
    /// Stops fetches in flight and walks between pages.
    pub shutdown: Shutdown,
    /// What "today" is for dated listings and `max_age`.
    pub clock: Clock,
    /// The threads that decode, parse and classify pages, one per core.
    pub(crate) workers: Arc<crate::workers::Workers>,
}

impl Engine {
    pub fn build(settings: Settings, shutdown: Shutdown) -> Result<Self, BuildError> {
        let mut vocab = Vocabulary::embedded()?;
        if let Some(extra) = &settings.vocabulary {
            vocab.merge(Vocabulary::from_toml_str(
                &extra.content,
                &extra.path.display().to_string(),
            )?);
        }
        let mut detector = Detector::new(vocab)?;
        if let Some(t) = settings.detection_threshold {
            detector.set_threshold(t);
        }
        let detector = Arc::new(detector);
        let fetcher = Fetcher::new(settings.fetch.clone())?;
        Ok(Self {
            settings,
            fetcher,
            detector,
            shutdown,
            clock: Clock::System,
            workers: Arc::new(crate::workers::Workers::new(cores())),
        })
    }

    /// Request options of a source. `allow_internal`: the URL comes from the config (or the
    /// source itself is internal); `false` for links found on pages.
    pub(crate) fn options<'a>(
        &self,
        src: &'a SourceSettings,
        allow_internal: bool,
    ) -> RequestOptions<'a> {
        RequestOptions {
            timeout: src.timeout,
            proxy: src.proxy.as_ref(),
            respect_robots: src.respect_robots_txt,
            allow_internal,
        }
    }

    /// How many of a source's new items are read at once: enough to keep its host's
    /// `per_host_concurrency` requests in flight while every core parses pages already fetched.
    /// Politeness is unchanged: requests still queue at the host's gate.
    pub fn read_ahead(&self) -> usize {
        self.settings.fetch.per_host_concurrency + cores()
    }

    /// What parsing one page may cost (`[fetch] parse_timeout`).
    pub fn budget(&self) -> crate::core::dom::Budget {
        crate::core::dom::Budget {
            max_time: self.settings.fetch.parse_timeout,
        }
    }

    /// Today in the configured time zone.
    pub fn today(&self) -> NaiveDate {
        self.clock.today(self.settings.timezone)
    }

    /// Whether links found on this source's pages may point to internal addresses: only when
    /// the source's own URL is on one (an intranet source, or a local test site).
    pub async fn source_is_internal(&self, src: &SourceSettings) -> bool {
        if crate::core::http::host_is_internal(&src.url) {
            return true;
        }
        if src.proxy.is_some() {
            return false;
        }
        let (Some(host), Some(port)) = (src.url.host_str(), src.url.port_or_known_default()) else {
            return false;
        };
        match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => addrs
                .into_iter()
                .any(|a| crate::core::http::is_internal(a.ip())),
            Err(_) => false,
        }
    }

    /// Run `fut` unless shutdown comes first (`None`).
    pub(crate) async fn unless_stopped<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::select! {
            v = fut => Some(v),
            () = self.shutdown.wait() => None,
        }
    }
}

/// The cores this process may use (at least 1).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
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
    #[error(
        "source {id} ({url}): the listing selectors matched no items — site layout changed? `niryat discover {url}` proposes new selectors"
    )]
    EmptyListing { id: String, url: String },
    #[error(
        "source {id} ({url}): the listing page redirects to {target} (meta refresh) instead of listing items; set the source's url to {target}"
    )]
    Redirected {
        id: String,
        url: String,
        target: String,
    },
    #[error(
        "source {id} ({url}): the WordPress API redirected to a login page ({target}): the site closes its REST API to anonymous readers; watch its feed instead (kind = \"feed\", url = its /feed/)"
    )]
    LoginRedirect {
        id: String,
        url: String,
        target: String,
    },
    #[error("source {id} ({url}): cannot read the response: {message}")]
    Parse {
        id: String,
        url: String,
        message: String,
    },
    #[error("source {id}: {source}")]
    Store {
        id: String,
        #[source]
        source: crate::store::StoreError,
    },
    #[error("source {id}: {message}")]
    Config { id: String, message: String },
    #[error("no source with id {0:?} in the config")]
    Unknown(String),
    /// Shutdown came in the middle of the pass: not a failure of the source.
    #[error("source {0}: stopped by shutdown")]
    Stopped(String),
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
