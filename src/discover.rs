//! `niryat discover`: the fetching half of discovery, and the `--test` / `--write` helpers.
//!
//! Fetches the page with the shared polite [`Fetcher`] (robots.txt, User-Agent, timeouts, proxy),
//! probes the feed URLs and the WordPress posts endpoint, fetches one sample article per proposal,
//! and leaves every judgement to [`crate::core::discover`].

use std::path::{Path, PathBuf};

use tracing::{debug, info};
use url::Url;

use crate::config::{ConfigError, Settings, SourceKind, SourceSettings};
use crate::core::discover::{self as find, Candidate, Shape};
use crate::core::{decode, entries};
use crate::engine::{BuildError, Engine};
use crate::fetch::{FetchError, Fetcher, Raw, RequestOptions};

/// Why discovery gave nothing, or its result could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(
        "blocked by robots.txt: {url} is disallowed for niryat's User-Agent (set respect_robots_txt = false in [fetch] to override)"
    )]
    Robots { url: String },
    #[error(transparent)]
    Fetch(FetchError),
    #[error("no way to watch {url} was found: {reason}")]
    Nothing { url: String, reason: String },
    /// The config, or the config with the proposal added, does not validate.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DiscoverError {
    /// Bad config or input (exit code 2) rather than a failure to find or fetch (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Invalid(_))
    }
}

/// What discovery found on a page, best first.
#[derive(Debug)]
pub struct Found {
    /// The page URL after redirects.
    pub url: Url,
    pub candidates: Vec<Candidate>,
}

/// Find every way to watch the site at `url`: feeds, the WordPress API, listings on the page.
pub async fn discover(
    fetcher: &Fetcher,
    url: &Url,
    opts: RequestOptions<'_>,
    tz: chrono_tz::Tz,
) -> Result<Found, DiscoverError> {
    let raw = match fetcher.get_raw(url, opts, None).await {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            return Err(DiscoverError::Nothing {
                url: url.to_string(),
                reason: "the server answered 304 Not Modified to a plain request".to_owned(),
            });
        }
        Err(FetchError::Robots { url }) => return Err(DiscoverError::Robots { url }),
        Err(e) => return Err(DiscoverError::Fetch(e)),
    };
    let page_url = raw.url.clone();
    let content_type = raw.header("content-type");
    let mut candidates: Vec<Candidate> = Vec::new();

    // The URL may be a feed itself.
    let feedish = content_type.is_some_and(|c| c.contains("xml") || c.contains("json"))
        || raw.bytes.trim_ascii_start().starts_with(b"<?xml");
    if feedish
        && let Ok(found) = entries::parse_feed(&raw.bytes, &page_url, tz)
        && !found.is_empty()
    {
        let mut c = feed_candidate(page_url.clone(), "the URL itself is a feed", &found);
        sample_feed_article(fetcher, (opts, tz), &found, &mut c).await;
        return Ok(Found {
            url: page_url,
            candidates: vec![c],
        });
    }

    let html = decode::decode_html(&raw.bytes, content_type).text;
    let scan = find::scan(&html, &page_url);

    // 1. Feeds: linked from the page, then the common paths.
    let mut probes: Vec<(Url, String)> = scan
        .feeds
        .iter()
        .map(|f| {
            (
                f.url.clone(),
                format!(
                    "linked from the page (<link rel=\"alternate\" type=\"{}\">) at {}",
                    f.mime, f.url
                ),
            )
        })
        .collect();
    for u in find::common_feed_urls(&page_url) {
        if !probes.iter().any(|(p, _)| *p == u) {
            let how = format!("found at {}", u.path());
            probes.push((u, how));
        }
    }
    let mut feeds_seen: Vec<Vec<Url>> = Vec::new();
    for (u, how) in probes {
        let Some((final_url, found)) = probe_feed(fetcher, &u, opts, tz).await else {
            continue;
        };
        let urls: Vec<Url> = found.iter().map(|e| e.url.clone()).collect();
        if feeds_seen.contains(&urls) {
            continue;
        }
        feeds_seen.push(urls);
        info!(feed = %final_url, entries = found.len(), "feed confirmed");
        let mut c = feed_candidate(final_url, &how, &found);
        sample_feed_article(fetcher, (opts, tz), &found, &mut c).await;
        candidates.push(c);
    }

    // 2. WordPress: the API root announced by a Link header or a <link>, else the default path.
    let announced = raw
        .headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| find::wp_api_from_link_header(v, &page_url))
        .map(|u| (u, "Link header rel=\"https://api.w.org/\""))
        .or_else(|| {
            scan.wp_api
                .clone()
                .map(|u| (u, "<link rel=\"https://api.w.org/\"> on the page"))
        });
    let root = match &announced {
        Some((api, _)) => find::wp_site_root(api),
        None => page_url.join("/").unwrap_or_else(|_| page_url.clone()),
    };
    if let Some(probe) = find::wp_posts_probe(&root)
        && let Some(posts) = probe_wordpress(fetcher, &probe, opts, tz).await
    {
        let how = announced
            .as_ref()
            .map_or("no API link on the page", |(_, how)| how);
        info!(root = %root, posts, "WordPress REST API confirmed");
        candidates.push(Candidate::wordpress(root, how, posts));
    }

    // 3. Listings on the page.
    for l in scan.listings.clone() {
        let sample = l.items.first().map(|i| i.url.clone());
        let mut c = Candidate::listing(l);
        if let Some(s) = sample {
            sample_article(fetcher, (opts, tz), &s, &mut c).await;
        }
        candidates.push(c);
    }

    if candidates.is_empty() {
        return Err(DiscoverError::Nothing {
            url: page_url.to_string(),
            reason: scan
                .javascript
                .clone()
                .unwrap_or_else(|| scan.nothing_reason()),
        });
    }
    Ok(Found {
        url: page_url,
        candidates,
    })
}

fn feed_candidate(url: Url, how: &str, found: &[entries::Entry]) -> Candidate {
    let full = found.iter().filter(|e| e.body.is_some()).count();
    Candidate::feed(url, how, found.len(), full)
}

/// A probe: the response, or `None` (logged) when there is none to read.
async fn probe(fetcher: &Fetcher, url: &Url, opts: RequestOptions<'_>) -> Option<Raw> {
    match fetcher.get_raw(url, opts, None).await {
        Ok(raw) => raw,
        Err(e) => {
            debug!(%url, error = %e, "probe found nothing");
            None
        }
    }
}

/// A feed at `url`: its final URL and entries, when it answers with a readable, non-empty feed.
async fn probe_feed(
    fetcher: &Fetcher,
    url: &Url,
    opts: RequestOptions<'_>,
    tz: chrono_tz::Tz,
) -> Option<(Url, Vec<entries::Entry>)> {
    let raw = probe(fetcher, url, opts).await?;
    match entries::parse_feed(&raw.bytes, &raw.url, tz) {
        Ok(found) if !found.is_empty() => Some((raw.url, found)),
        Ok(_) => None,
        Err(e) => {
            debug!(%url, error = %e, "not a feed");
            None
        }
    }
}

/// The number of posts `/wp-json/wp/v2/posts` answers with, when it answers JSON posts.
async fn probe_wordpress(
    fetcher: &Fetcher,
    url: &Url,
    opts: RequestOptions<'_>,
    tz: chrono_tz::Tz,
) -> Option<usize> {
    let raw = probe(fetcher, url, opts).await?;
    let text = decode::decode_xml(&raw.bytes, raw.header("content-type")).text;
    match entries::parse_wp_posts(&text, tz) {
        Ok(posts) => Some(posts.len()),
        Err(e) => {
            debug!(%url, error = %e, "not the WordPress API");
            None
        }
    }
}

/// Judge the first feed entry that has to be read from its page.
async fn sample_feed_article(
    fetcher: &Fetcher,
    (opts, tz): (RequestOptions<'_>, chrono_tz::Tz),
    found: &[entries::Entry],
    c: &mut Candidate,
) {
    match found.iter().find(|e| e.body.is_none()) {
        Some(e) => sample_article(fetcher, (opts, tz), &e.url, c).await,
        None => c
            .notes
            .push("article: every entry carries its full text; no page is fetched".to_owned()),
    }
}

/// Fetch one article and record whether the automatic extractor reads it cleanly.
async fn sample_article(
    fetcher: &Fetcher,
    (opts, tz): (RequestOptions<'_>, chrono_tz::Tz),
    url: &Url,
    c: &mut Candidate,
) {
    match fetcher.get(url, opts).await {
        Ok(page) => {
            let advice = find::advise_article(&page.text, &page.url, tz);
            c.set_article(&advice, url);
        }
        Err(e) => c
            .notes
            .push(format!("article: the sample could not be fetched ({e})")),
    }
}

// ---------------------------------------------------------------------------------------------
// --test, --write, --source
// ---------------------------------------------------------------------------------------------

/// The config at `path` with its sources replaced by the proposal `block` (one `[[sources]]`
/// table): what `--test` runs `test-source` on, without touching the file.
pub fn settings_for_test(path: &Path, block: &str) -> Result<Settings, DiscoverError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let syntax = |message: String| ConfigError::Syntax {
        path: path.to_owned(),
        message,
    };
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| syntax(e.to_string()))?;
    let proposal: toml::Table = toml::from_str(block)
        .map_err(|e| DiscoverError::Invalid(format!("the proposal is not valid TOML: {e}")))?;
    if let Some(sources) = proposal.get("sources") {
        table.insert("sources".to_owned(), sources.clone());
    }
    let merged = toml::to_string(&table)
        .map_err(|e| DiscoverError::Invalid(format!("cannot merge the proposal: {e}")))?;
    Ok(Settings::from_toml(&merged, path)?)
}

/// Append the proposal `block` to the config at `path`, after the config with it passes the same
/// validation as `niryat check`. The old file is kept as `<file>.bak` (or `.bak.1`, `.bak.2`, …
/// when that exists); returns the backup's path.
pub fn append_to_config(path: &Path, block: &str) -> Result<PathBuf, DiscoverError> {
    let old = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut new = old.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str("\n# Added by `niryat discover`.\n");
    new.push_str(block);
    let settings = Settings::from_toml(&new, path)?;
    Engine::build(settings, crate::shutdown::Shutdown::never()).map_err(|e| match e {
        BuildError::Vocabulary(v) => DiscoverError::Invalid(v.to_string()),
        other => DiscoverError::Invalid(other.to_string()),
    })?;
    let backup = backup_path(path);
    let write_err = |p: &Path| {
        let p = p.to_owned();
        move |source| DiscoverError::Write { path: p, source }
    };
    std::fs::copy(path, &backup).map_err(write_err(&backup))?;
    // Write beside the file, then rename over it: a crash leaves the old or the new file, never half.
    let tmp = path.with_extension("toml.discover-tmp");
    std::fs::write(&tmp, new).map_err(write_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(write_err(path))?;
    Ok(backup)
}

fn backup_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "niryat.toml".to_owned());
    let first = path.with_file_name(format!("{name}.bak"));
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|n| path.with_file_name(format!("{name}.bak.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// A configured source as a [`Shape`], to diff against its re-discovery.
pub fn shape_of(src: &SourceSettings) -> Shape {
    use scraper::selector::ToCss;
    let css = |s: &scraper::Selector| s.to_css_string();
    let mut keys: Vec<(&'static str, Option<String>)> = Vec::new();
    match &src.kind {
        SourceKind::Html { list, next, .. } => {
            keys.push(("list.item", Some(css(&list.item))));
            keys.push(("list.link", Some(css(&list.link))));
            keys.push(("list.next", next.as_ref().map(css)));
        }
        SourceKind::WordPress { search, .. } => keys.push(("search", Some(format!("{search:?}")))),
        SourceKind::Feed { .. } => {}
    }
    if !matches!(src.kind, SourceKind::WordPress { .. }) {
        let a = src.kind.article();
        keys.push(("article.title", a.map(|a| css(&a.title))));
        keys.push(("article.body", a.map(|a| css(&a.body))));
        keys.push(("article.date", a.and_then(|a| a.date.as_ref().map(css))));
    }
    Shape {
        kind: src.kind.name().to_owned(),
        url: src
            .url_template
            .clone()
            .unwrap_or_else(|| src.url.to_string()),
        keys,
    }
}
