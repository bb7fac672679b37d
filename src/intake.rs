//! Turning a listed item into an [`Article`]: fetch its page (unless the source carried the
//! text), decode, extract (the source's selectors first, the automatic extractor otherwise),
//! convert legacy-font Hindi, and classify.
//!
//! Everything CPU-bound (parsing, extraction, classification) runs on the blocking pool within
//! a [`dom::Budget`], so one heavy page never stalls the fetches of other sources. A page that
//! cannot be processed at all (too slow to parse, or one that makes the extractor panic) is [`ItemError::Unprocessable`]: recorded as seen with its reason, never
//! retried, and never takes the process down.

use std::sync::Arc;

use chrono::NaiveDate;
use reqwest::header::CONTENT_TYPE;
use url::Url;

use crate::config::SourceSettings;
use crate::core::article::{Article, Extracted, Extraction};
use crate::core::detect::Detector;
use crate::core::entries::Entry;
use crate::core::page::ArticleRules;
use crate::core::{decode, dom, readable};
use crate::engine::Engine;
use crate::fetch::FetchError;

/// Why an item gave no article.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// The page could not be fetched: tried again on later passes (a few times).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The page can never be processed; the reason names the URL.
    #[error("{url}: {reason}")]
    Unprocessable { url: String, reason: String },
    /// Shutdown came while the page was being fetched.
    #[error("stopped by shutdown")]
    Stopped,
}

impl ItemError {
    /// A failure that retrying cannot fix.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Unprocessable { .. } | Self::Fetch(FetchError::Internal { .. })
        )
    }
}

impl Engine {
    /// The article behind `entry`. `links_internal`: the source may follow links to internal
    /// addresses (its own URL is internal).
    pub async fn read(
        &self,
        src: &SourceSettings,
        entry: &Entry,
        links_internal: bool,
    ) -> Result<Article, ItemError> {
        let today = self.today();
        let detector = Arc::clone(&self.detector);
        let url = entry.url.clone();
        let listing_title = entry.title.clone();
        let job: Box<dyn FnOnce() -> Result<Article, String> + Send> = match &entry.body {
            Some(body) => {
                let x = Extracted {
                    title: entry.title.clone(),
                    body: body.clone(),
                    published: entry.published,
                    extraction: Extraction::Source,
                };
                Box::new(move || Ok(Article::classify(&detector, url, &listing_title, x, today)))
            }
            None => {
                let opts = self.options(src, links_internal);
                // The undecoded bytes: decoding scans the whole body, so it runs on the blocking
                // pool with the parsing, not on the async runtime.
                let raw = match self
                    .unless_stopped(self.fetcher.get_undecoded(&entry.url, opts))
                    .await
                {
                    None => return Err(ItemError::Stopped),
                    Some(r) => r?,
                };
                let rules = src.kind.article().cloned();
                let fallback_date = entry.published;
                let (budget, tz) = (self.budget(), self.settings.timezone);
                Box::new(move || {
                    let page = decode::decode_html(&raw.bytes, raw.header(CONTENT_TYPE.as_str()));
                    drop(raw);
                    extract_and_classify(
                        &detector,
                        url,
                        &listing_title,
                        &page.text,
                        rules.as_ref(),
                        fallback_date,
                        (today, budget, tz),
                    )
                })
            }
        };
        // One page per core at a time (the workers hand out one permit per thread).
        let outcome = self.workers.run(job).await;
        let unprocessable = |reason: String| ItemError::Unprocessable {
            url: entry.url.to_string(),
            reason,
        };
        match outcome {
            Ok(Ok(Ok(article))) => Ok(article),
            Ok(Ok(Err(reason))) => Err(unprocessable(reason)),
            Ok(Err(panic)) => Err(unprocessable(format!(
                "the extractor failed on this page ({})",
                panic_text(panic.as_ref())
            ))),
            Err(gone) => Err(unprocessable(format!(
                "the extractor did not finish: {gone}"
            ))),
        }
    }
}

/// Parse within the budget, extract, classify: the blocking half of [`Engine::read`].
fn extract_and_classify(
    detector: &Detector,
    url: Url,
    listing_title: &str,
    html: &str,
    rules: Option<&ArticleRules>,
    fallback_date: Option<NaiveDate>,
    (today, budget, tz): (NaiveDate, dom::Budget, chrono_tz::Tz),
) -> Result<Article, String> {
    let doc = dom::parse(html, budget).map_err(|e| e.to_string())?;
    let r = readable::read_article(&doc, url.as_str(), rules, tz);
    let x = Extracted {
        title: r.title,
        body: r.body,
        published: r.published.or(fallback_date),
        extraction: r.method,
    };
    Ok(Article::classify(detector, url, listing_title, x, today))
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
