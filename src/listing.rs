//! Listing a source: the entries it shows now, newest first, for each source kind.
//!
//! * `html`: the listing page (or one per day of a `{date:…}` template), following `next` links
//!   up to `max_pages`; a page already visited in this pass is never read again.
//! * `feed`: one RSS/Atom/JSON Feed document.
//! * `wordpress`: the REST API's search for each term, page by page.
//!
//! A page that fails after others were read does not discard them: the pass goes on with what
//! was read and reports the page as a problem (the source is degraded, not failed). Pages are
//! parsed on the blocking pool within a [`dom::Budget`], never on the async workers.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};
use scraper::Selector;
use tracing::{info, warn};
use url::Url;

use crate::config::{SourceKind, SourceSettings};
use crate::core::entries::{self, Entry};
use crate::core::http::Validators;
use crate::core::page::{self, ListItem, ListRules};
use crate::core::{decode, dom};
use crate::engine::{Engine, SourceError};
use crate::fetch::FetchError;

/// How far a listing pass reaches back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Days of a `{date:…}` template.
    pub days: u32,
    /// Listing pages (html `next`) or API pages (wordpress) read at most.
    pub max_pages: usize,
    /// WordPress: only posts after this date.
    pub after: Option<NaiveDate>,
}

/// API pages a scheduled WordPress pass reads at most per search term.
const WP_MAX_PAGES: usize = 10;
/// Pages a backfill reads at most per listing or search term.
const BACKFILL_MAX_PAGES: usize = 200;
/// Posts asked for per WordPress API page; halved (down to [`WP_MIN_PER_PAGE`]) when a page
/// is larger than the body cap.
const WP_PER_PAGE: u32 = 100;
const WP_MIN_PER_PAGE: u32 = 10;

impl Walk {
    /// A scheduled pass, as configured, on `today`.
    pub fn of(src: &SourceSettings, today: NaiveDate) -> Self {
        let max_pages = match &src.kind {
            SourceKind::Html { max_pages, .. } => *max_pages,
            _ => WP_MAX_PAGES,
        };
        Self {
            days: src.days,
            max_pages,
            after: matches!(src.kind, SourceKind::WordPress { .. })
                .then(|| today.checked_sub_days(Days::new(u64::from(src.days))))
                .flatten(),
        }
    }

    /// A backfill back to `since` (inclusive) from `today`.
    pub fn since(since: NaiveDate, today: NaiveDate) -> Self {
        let span = today.signed_duration_since(since).num_days().max(0);
        let days = u32::try_from(span.saturating_add(1)).unwrap_or(u32::MAX);
        Self {
            days,
            max_pages: BACKFILL_MAX_PAGES,
            after: since.pred_opt(),
        }
    }
}

/// What a listing pass found.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Entries, newest first, de-duplicated by URL.
    pub entries: Vec<Entry>,
    /// Validators of the (single) listing URL, to store once the pass is complete.
    pub validators: Validators,
    /// Pages that failed while others were read (the source is degraded).
    pub problems: Vec<String>,
}

/// The outcome of a listing pass.
#[derive(Debug)]
pub enum Listed {
    /// The listing answered 304 Not Modified to our validators.
    NotModified,
    Entries(Listing),
}

/// One listing page, read on the blocking pool.
struct ListingPage {
    items: Vec<ListItem>,
    next: Option<Url>,
    refresh: Option<Url>,
}

fn read_listing_page(
    text: &str,
    base: &Url,
    rules: &ListRules,
    next: Option<&Selector>,
    budget: dom::Budget,
) -> Result<ListingPage, dom::ParseError> {
    let doc = dom::parse(text, budget)?;
    Ok(ListingPage {
        items: page::extract_list(&doc, base, rules),
        next: next.and_then(|n| page::next_page(&doc, base, n)),
        refresh: page::meta_refresh(&doc, base),
    })
}

impl Engine {
    /// The entries `src` lists now. `validators` (a conditional GET of a single-URL listing or
    /// feed) may make it [`Listed::NotModified`].
    pub async fn list(
        &self,
        src: &SourceSettings,
        walk: &Walk,
        validators: Option<&Validators>,
    ) -> Result<Listed, SourceError> {
        let mut listing = match &src.kind {
            SourceKind::Html { list, next, .. } => {
                match self
                    .list_html(src, list, next.as_ref(), walk.max_pages, walk, validators)
                    .await?
                {
                    Some(l) => l,
                    None => return Ok(Listed::NotModified),
                }
            }
            SourceKind::Feed { .. } => match self.list_feed(src, validators).await? {
                Some(l) => l,
                None => return Ok(Listed::NotModified),
            },
            SourceKind::WordPress {
                search,
                allow_other_hosts,
            } => {
                self.list_wordpress(src, search, *allow_other_hosts, walk)
                    .await?
            }
        };
        let mut seen = HashSet::new();
        listing.entries.retain(|e| seen.insert(e.url.clone()));
        Ok(Listed::Entries(listing))
    }

    /// The entries `src` lists now for a scheduled pass, read whole (no validators).
    pub async fn entries(&self, src: &SourceSettings) -> Result<Vec<Entry>, SourceError> {
        let walk = Walk::of(src, self.today());
        Ok(match self.list(src, &walk, None).await? {
            Listed::Entries(l) => l.entries,
            Listed::NotModified => Vec::new(),
        })
    }

    /// Fetch with shutdown: a fetch in flight is abandoned when shutdown is asked for.
    async fn fetch_or_stop<T>(
        &self,
        src: &SourceSettings,
        fut: impl std::future::Future<Output = Result<T, FetchError>>,
    ) -> Result<T, SourceError> {
        match self.unless_stopped(fut).await {
            None => Err(SourceError::Stopped(src.id.clone())),
            Some(r) => r.map_err(|source| SourceError::Fetch {
                id: src.id.clone(),
                source,
            }),
        }
    }

    async fn list_html(
        &self,
        src: &SourceSettings,
        rules: &ListRules,
        next_sel: Option<&Selector>,
        max_pages: usize,
        walk: &Walk,
        validators: Option<&Validators>,
    ) -> Result<Option<Listing>, SourceError> {
        let starts: Vec<Url> = match &src.url_template {
            None => vec![src.url.clone()],
            Some(t) => entries::expand_date_template(t, self.today(), walk.days)
                .map_err(|e| SourceError::Config {
                    id: src.id.clone(),
                    message: e.to_string(),
                })?
                .iter()
                .filter_map(|u| Url::parse(u).ok())
                .collect(),
        };
        let conditional = src.url_template.is_none();
        let internal_links = self.source_is_internal(src).await;
        let mut listing = Listing::default();
        let mut visited: HashSet<Url> = HashSet::new();
        let mut first_error: Option<SourceError> = None;
        let mut refresh: Option<Url> = None;
        for start in starts {
            let mut url = Some(start);
            let mut pages = 0usize;
            let mut found_on_page = false;
            while let Some(u) = url.take() {
                if pages >= max_pages {
                    break;
                }
                if !visited.insert(u.clone()) {
                    info!(source = %src.id, url = %u, "listing page already read in this pass; not following the loop");
                    break;
                }
                let v = (conditional && pages == 0).then_some(validators).flatten();
                let opts = self.options(src, !found_on_page || internal_links);
                let fetched = self
                    .fetch_or_stop(src, self.fetcher.get_conditional(&u, opts, v))
                    .await;
                let fetched = match fetched {
                    Ok(Some(p)) => p,
                    Ok(None) => return Ok(None),
                    Err(e @ SourceError::Stopped(_)) => return Err(e),
                    Err(e) => {
                        warn!(source = %src.id, page = %u, error = %e, "listing page failed; keeping what was read");
                        listing.problems.push(e.to_string());
                        first_error.get_or_insert(e);
                        break;
                    }
                };
                if conditional && pages == 0 {
                    listing.validators = fetched.validators.clone();
                }
                pages += 1;
                let (text, base) = (fetched.text, fetched.url);
                let (rules, next_sel, budget) = (rules.clone(), next_sel.cloned(), self.budget());
                let read = tokio::task::spawn_blocking(move || {
                    read_listing_page(&text, &base, &rules, next_sel.as_ref(), budget)
                })
                .await;
                let page = match read {
                    Ok(Ok(p)) => p,
                    Ok(Err(e)) => {
                        let e = SourceError::Parse {
                            id: src.id.clone(),
                            url: u.to_string(),
                            message: e.to_string(),
                        };
                        listing.problems.push(e.to_string());
                        first_error.get_or_insert(e);
                        break;
                    }
                    Err(join) => {
                        let e = SourceError::Parse {
                            id: src.id.clone(),
                            url: u.to_string(),
                            message: format!("the listing reader failed: {join}"),
                        };
                        listing.problems.push(e.to_string());
                        first_error.get_or_insert(e);
                        break;
                    }
                };
                if page.items.is_empty() && refresh.is_none() {
                    refresh = page.refresh;
                }
                listing
                    .entries
                    .extend(page.items.into_iter().map(|i| Entry {
                        url: i.url,
                        title: i.title,
                        body: None,
                        published: None,
                    }));
                found_on_page = true;
                url = page.next;
            }
        }
        if listing.entries.is_empty() {
            // Nothing usable was read: the source failed, with the first page's reason if a
            // page failed.
            if let Some(e) = first_error {
                return Err(e);
            }
            return Err(match refresh {
                Some(target) => SourceError::Redirected {
                    id: src.id.clone(),
                    url: src.url.to_string(),
                    target: target.to_string(),
                },
                None => SourceError::EmptyListing {
                    id: src.id.clone(),
                    url: src.url.to_string(),
                },
            });
        }
        Ok(Some(listing))
    }

    async fn list_feed(
        &self,
        src: &SourceSettings,
        validators: Option<&Validators>,
    ) -> Result<Option<Listing>, SourceError> {
        let opts = self.options(src, true);
        let Some(raw) = self
            .fetch_or_stop(src, self.fetcher.get_raw(&src.url, opts, validators))
            .await?
        else {
            return Ok(None);
        };
        let validators = Validators {
            etag: raw.header("etag").map(str::to_owned),
            last_modified: raw.header("last-modified").map(str::to_owned),
        };
        let (bytes, base, tz) = (raw.bytes, raw.url, self.settings.timezone);
        let parsed = tokio::task::spawn_blocking(move || entries::parse_feed(&bytes, &base, tz))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let entries = parsed.map_err(|message| SourceError::Parse {
            id: src.id.clone(),
            url: src.url.to_string(),
            message,
        })?;
        Ok(Some(Listing {
            entries,
            validators,
            problems: Vec::new(),
        }))
    }

    async fn list_wordpress(
        &self,
        src: &SourceSettings,
        search: &[String],
        allow_other_hosts: bool,
        walk: &Walk,
    ) -> Result<Listing, SourceError> {
        let mut listing = Listing::default();
        let mut first_error: Option<SourceError> = None;
        let mut read_any = false;
        let opts = self.options(src, true);
        'terms: for term in search {
            let mut per_page = WP_PER_PAGE;
            let mut page = 1u32;
            loop {
                let url = entries::wp_search_url(&src.url, term, walk.after, page, per_page);
                let raw = match self
                    .fetch_or_stop(src, self.fetcher.get_raw(&url, opts, None))
                    .await
                {
                    Ok(Some(raw)) => raw,
                    // Only a conditional request can answer 304, and this one is not.
                    Ok(None) => break,
                    Err(SourceError::Fetch {
                        source: FetchError::TooLarge { .. },
                        ..
                    }) if per_page / 2 >= WP_MIN_PER_PAGE => {
                        per_page /= 2;
                        page = 1;
                        info!(source = %src.id, term, per_page, "WordPress API page larger than the body cap; asking for fewer posts per page");
                        continue;
                    }
                    Err(e @ SourceError::Stopped(_)) => return Err(e),
                    Err(e) => {
                        warn!(source = %src.id, url = %url, error = %e, "WordPress API page failed; keeping what was read");
                        listing.problems.push(e.to_string());
                        first_error.get_or_insert(e);
                        continue 'terms;
                    }
                };
                if is_login_page(&raw.url) {
                    return Err(SourceError::LoginRedirect {
                        id: src.id.clone(),
                        url: url.to_string(),
                        target: raw.url.to_string(),
                    });
                }
                let text = decode::decode_xml(&raw.bytes, raw.header("content-type")).text;
                let found = match entries::parse_wp_posts(&text, self.settings.timezone) {
                    Ok(found) => found,
                    Err(e) => {
                        let message = if raw.url != url {
                            format!("{e} (the request was redirected to {})", raw.url)
                        } else {
                            e.to_string()
                        };
                        let e = SourceError::Parse {
                            id: src.id.clone(),
                            url: url.to_string(),
                            message,
                        };
                        listing.problems.push(e.to_string());
                        first_error.get_or_insert(e);
                        continue 'terms;
                    }
                };
                read_any = true;
                for entry in found {
                    if allow_other_hosts || same_site(&entry.url, &src.url) {
                        listing.entries.push(entry);
                    } else {
                        warn!(source = %src.id, link = %entry.url, "WordPress post links to another host; refused (set allow_other_hosts = true on the source to accept)");
                    }
                }
                let total = entries::wp_total_pages(raw.header("x-wp-totalpages"));
                if page >= total || page as usize >= walk.max_pages {
                    break;
                }
                page += 1;
            }
        }
        match (read_any, first_error) {
            (false, Some(e)) => Err(e),
            _ => Ok(listing),
        }
    }
}

/// A WordPress login page (where a closed REST API redirects anonymous readers).
fn is_login_page(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    path.contains("wp-login") || path.ends_with("/login") || path.ends_with("/login/")
}

/// Same site: the same host, ignoring a leading `www.`.
fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        let h = u.host_str().unwrap_or_default().to_ascii_lowercase();
        h.strip_prefix("www.").map(str::to_owned).unwrap_or(h)
    };
    host(a) == host(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_backfill_walk_reaches_back_to_its_date_without_overflow() {
        let w = Walk::since(d("2026-11-28"), d("2026-12-03"));
        assert_eq!((w.days, w.after), (6, Some(d("2026-11-27"))));
        assert_eq!(w.max_pages, BACKFILL_MAX_PAGES);
        // The extremes chrono allows: no panic, and sensible values.
        let w = Walk::since(NaiveDate::MIN, NaiveDate::MAX);
        assert!(w.days > 190_000_000, "{}", w.days);
        assert_eq!(w.after, None);
        let w = Walk::since(NaiveDate::MAX, NaiveDate::MIN);
        assert_eq!(w.days, 1);
    }

    #[test]
    fn wordpress_links_must_stay_on_the_site_and_login_pages_are_recognised() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_site(
            &u("https://statenewsservice.in/2022/05/183095"),
            &u("https://www.statenewsservice.in/")
        ));
        assert!(!same_site(
            &u("https://evil.example/2022/05/183095"),
            &u("https://www.statenewsservice.in/")
        ));
        assert!(is_login_page(&u(
            "https://x.in/wp-login.php?redirect_to=%2Fwp-json%2F"
        )));
        assert!(!is_login_page(&u("https://x.in/wp-json/wp/v2/posts")));
    }
}
