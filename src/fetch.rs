//! HTTP fetching of listing and article pages: polite, bounded, and explicit about failures.
//!
//! One reqwest client (rustls) per proxy setting. Every request goes through a per-host gate:
//! at most `per_host_concurrency` requests at once and `min_delay` between two requests to one
//! host. robots.txt is honoured (cached per host for an hour, fetched with a short timeout)
//! unless a source opts out. Bodies over [`MAX_BODY`] are refused, redirects are limited to 10
//! and to http/https. Links found on a page ([`RequestOptions::allow_internal`] false) are never
//! fetched from loopback, private or link-local addresses: such IP literals are refused, and
//! hostnames go through a resolver that drops internal addresses (so DNS cannot be used to
//! point us inward between check and connect). The bytes are decoded by [`crate::core::decode`],
//! which catches pages that mislabel their charset.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use tokio::sync::{Mutex, Semaphore};
use url::Url;

use crate::config::FetchSettings;
use crate::core::decode;
pub use crate::core::http::Validators;
use crate::core::http::{host_is_internal, is_internal};

/// Largest body accepted: 5 MiB.
pub const MAX_BODY: usize = 5 * 1024 * 1024;
/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 10;
const ROBOTS_TTL: Duration = Duration::from_secs(3600);
/// Longest wait for a robots.txt: a silent host must not cost the full page timeout twice.
const ROBOTS_TIMEOUT: Duration = Duration::from_secs(10);

/// A fetch that failed. Every message carries the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: no answer within {secs} s (timeout)")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: server answered HTTP {status}{}", retry_after.map(|s| format!(" (Retry-After {s} s)")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        retry_after: Option<u64>,
    },
    #[error("{url}: body larger than {limit} bytes, refused")]
    TooLarge { url: String, limit: usize },
    #[error(
        "{url}: disallowed by the site's robots.txt for our User-Agent (set respect_robots_txt = false on the source to override)"
    )]
    Robots { url: String },
    #[error("{url}: redirect refused: {reason}")]
    Redirect { url: String, reason: String },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("cannot build an HTTP client for proxy {proxy}: {message}")]
    Proxy { proxy: String, message: String },
    #[error(
        "{url}: refused: a link found on a page points to an internal address ({detail}); only a source whose own URL is internal may fetch such links"
    )]
    Internal { url: String, detail: String },
}

/// The resolver's refusal, found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to internal addresses")]
struct InternalAddress {
    host: String,
}

/// A DNS resolver that drops loopback, private and link-local addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> =
                all.into_iter().filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err(
                    Box::new(InternalAddress { host }) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl FetchError {
    /// How long the site asked us to wait (a `Retry-After` in seconds on a 429/503).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => retry_after.map(Duration::from_secs),
            _ => None,
        }
    }
}

/// A fetched and decoded page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects.
    pub url: Url,
    pub text: String,
    /// Encoding used to decode the body (encoding_rs name).
    pub encoding: &'static str,
    /// The declared charset was wrong.
    pub mislabelled: bool,
    /// ETag / Last-Modified the server sent.
    pub validators: Validators,
}

/// An undecoded response.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The URL after redirects.
    pub url: Url,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Raw {
    /// A header's value as text (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Per-request options from the source.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions<'a> {
    pub timeout: Duration,
    pub proxy: Option<&'a Url>,
    pub respect_robots: bool,
    /// The URL may be on an internal address: it comes from the config, or the source itself is
    /// internal. `false` for links found on pages.
    pub allow_internal: bool,
}

/// A 304 Not Modified to a request that sent no validators.
fn unasked_304(url: &Url) -> FetchError {
    FetchError::Status {
        url: url.to_string(),
        status: 304,
        retry_after: None,
    }
}

struct HostGate {
    permits: Arc<Semaphore>,
    last: Mutex<Option<Instant>>,
}

struct RobotsEntry {
    fetched: Instant,
    /// `None`: no robots.txt (or unreadable): everything allowed.
    body: Option<String>,
}

/// The fetcher shared by all sources.
pub struct Fetcher {
    settings: FetchSettings,
    client: reqwest::Client,
    /// For links found on pages: internal addresses refused (resolver and redirects).
    public_client: reqwest::Client,
    proxied: Mutex<HashMap<String, reqwest::Client>>,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
    robots: Mutex<HashMap<String, Arc<RobotsEntry>>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let client = build_client(&settings, None, false)?;
        let public_client = build_client(&settings, None, true)?;
        Ok(Self {
            settings,
            client,
            public_client,
            proxied: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
        })
    }

    /// The client used for Telegram too, so both share TLS and connection settings.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// GET a page: robots.txt check, host gate, size cap, decoding.
    pub async fn get(&self, url: &Url, opts: RequestOptions<'_>) -> Result<Page, FetchError> {
        let page = self.get_conditional(url, opts, None).await?;
        page.ok_or_else(|| unasked_304(url))
    }

    /// GET a page's undecoded bytes and headers, for a caller that decodes them elsewhere (off
    /// the async runtime).
    pub async fn get_undecoded(
        &self,
        url: &Url,
        opts: RequestOptions<'_>,
    ) -> Result<Raw, FetchError> {
        let raw = self.get_raw(url, opts, None).await?;
        raw.ok_or_else(|| unasked_304(url))
    }

    /// GET with `If-None-Match` / `If-Modified-Since` from `validators`; `Ok(None)` when the
    /// server answers 304 Not Modified.
    pub async fn get_conditional(
        &self,
        url: &Url,
        opts: RequestOptions<'_>,
        validators: Option<&Validators>,
    ) -> Result<Option<Page>, FetchError> {
        let Some(raw) = self.get_raw(url, opts, validators).await? else {
            return Ok(None);
        };
        let decoded = decode::decode_html(&raw.bytes, raw.header(CONTENT_TYPE.as_str()));
        let validators = Validators {
            etag: raw.header(ETAG.as_str()).map(str::to_owned),
            last_modified: raw.header(LAST_MODIFIED.as_str()).map(str::to_owned),
        };
        Ok(Some(Page {
            url: raw.url,
            text: decoded.text,
            encoding: decoded.encoding,
            mislabelled: decoded.mislabelled,
            validators,
        }))
    }

    /// The undecoded body and headers (feeds, JSON APIs); `Ok(None)` on 304 Not Modified.
    pub async fn get_raw(
        &self,
        url: &Url,
        opts: RequestOptions<'_>,
        validators: Option<&Validators>,
    ) -> Result<Option<Raw>, FetchError> {
        if !opts.allow_internal && host_is_internal(url) {
            return Err(FetchError::Internal {
                url: url.to_string(),
                detail: format!("host {}", url.host_str().unwrap_or_default()),
            });
        }
        let client = match (opts.proxy, opts.allow_internal) {
            // Behind a proxy the proxy resolves names; IP literals were checked above.
            (Some(_), _) | (None, true) => self.client_for(opts.proxy).await?,
            (None, false) => self.public_client.clone(),
        };
        if opts.respect_robots
            && !self
                .robots_allow(&client, url, opts.timeout.min(ROBOTS_TIMEOUT))
                .await
        {
            return Err(FetchError::Robots {
                url: url.to_string(),
            });
        }
        Ok(self
            .get_bytes(&client, url, opts.timeout, validators)
            .await?
            .map(|(url, headers, bytes)| Raw {
                url,
                headers,
                bytes,
            }))
    }

    async fn client_for(&self, proxy: Option<&Url>) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = proxy else {
            return Ok(self.client.clone());
        };
        let mut map = self.proxied.lock().await;
        if let Some(c) = map.get(proxy.as_str()) {
            return Ok(c.clone());
        }
        let c = build_client(&self.settings, Some(proxy), false)?;
        map.insert(proxy.to_string(), c.clone());
        Ok(c)
    }

    async fn gate(&self, url: &Url) -> Arc<HostGate> {
        let host = host_key(url);
        let mut gates = self.gates.lock().await;
        Arc::clone(gates.entry(host).or_insert_with(|| {
            Arc::new(HostGate {
                permits: Arc::new(Semaphore::new(self.settings.per_host_concurrency)),
                last: Mutex::new(None),
            })
        }))
    }

    async fn get_bytes(
        &self,
        client: &reqwest::Client,
        url: &Url,
        timeout: Duration,
        validators: Option<&Validators>,
    ) -> Result<Option<(Url, HeaderMap, Vec<u8>)>, FetchError> {
        let gate = self.gate(url).await;
        let _permit = Arc::clone(&gate.permits)
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Network {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        {
            let mut last = gate.last.lock().await;
            if let Some(prev) = *last {
                let ready = prev + self.settings.min_delay;
                let now = Instant::now();
                if ready > now {
                    tokio::time::sleep(ready - now).await;
                }
            }
            *last = Some(Instant::now());
        }
        let secs = timeout.as_secs();
        let work = async {
            let mut req = client.get(url.clone());
            if let Some(v) = validators {
                if let Some(etag) = &v.etag {
                    req = req.header(IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &v.last_modified {
                    req = req.header(IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(|e| map_reqwest(url, e, secs))?;
            let status = resp.status();
            if status == StatusCode::NOT_MODIFIED && validators.is_some() {
                return Ok(None);
            }
            if !status.is_success() {
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    retry_after,
                });
            }
            if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: MAX_BODY,
                });
            }
            let final_url = resp.url().clone();
            let headers = resp.headers().clone();
            let mut resp = resp;
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| map_reqwest(url, e, secs))? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(FetchError::TooLarge {
                        url: url.to_string(),
                        limit: MAX_BODY,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Some((final_url, headers, body)))
        };
        // The client's own timeout covers connect + headers; this one also bounds a body that drips.
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout {
                url: url.to_string(),
                secs,
            }),
        }
    }

    /// Whether robots.txt allows our User-Agent to fetch `url`. A missing or unreadable robots.txt
    /// allows everything (the page fetch itself will report a dead site).
    async fn robots_allow(&self, client: &reqwest::Client, url: &Url, timeout: Duration) -> bool {
        let origin = url.origin().ascii_serialization();
        let cached = {
            let map = self.robots.lock().await;
            map.get(&origin)
                .filter(|e| e.fetched.elapsed() < ROBOTS_TTL)
                .cloned()
        };
        let entry = match cached {
            Some(e) => e,
            None => {
                let body = match Url::parse(&format!("{origin}/robots.txt")) {
                    Ok(robots_url) => {
                        match self.get_bytes(client, &robots_url, timeout, None).await {
                            Ok(Some((_, _, bytes))) => {
                                Some(String::from_utf8_lossy(&bytes).into_owned())
                            }
                            Ok(None) => None,
                            Err(e) => {
                                tracing::debug!(%origin, error = %e, "no usable robots.txt; allowing");
                                None
                            }
                        }
                    }
                    Err(_) => None,
                };
                let e = Arc::new(RobotsEntry {
                    fetched: Instant::now(),
                    body,
                });
                self.robots.lock().await.insert(origin, Arc::clone(&e));
                e
            }
        };
        match &entry.body {
            None => true,
            Some(body) => robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
                body,
                "niryat",
                url.as_str(),
            ),
        }
    }
}

fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn build_client(
    settings: &FetchSettings,
    proxy: Option<&Url>,
    public_only: bool,
) -> Result<reqwest::Client, FetchError> {
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            let scheme = attempt.url().scheme().to_owned();
            attempt.error(format!("redirect to a {scheme}: URL"))
        } else if public_only && host_is_internal(attempt.url()) {
            let host = attempt.url().host_str().unwrap_or_default().to_owned();
            attempt.error(InternalAddress { host })
        } else {
            attempt.follow()
        }
    });
    let mut b = reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout)
        .gzip(true)
        .redirect(policy);
    if public_only {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b = match proxy {
        Some(p) => b.proxy(
            reqwest::Proxy::all(p.as_str()).map_err(|e| FetchError::Proxy {
                proxy: p.to_string(),
                message: e.to_string(),
            })?,
        ),
        None => b,
    };
    b.build().map_err(|e| FetchError::Proxy {
        proxy: proxy.map(Url::to_string).unwrap_or_else(|| "(none)".into()),
        message: e.to_string(),
    })
}

fn map_reqwest(url: &Url, e: reqwest::Error, secs: u64) -> FetchError {
    // We print the URL ourselves; reqwest's copy would only repeat it.
    let e = e.without_url();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(internal) = c.downcast_ref::<InternalAddress>() {
            return FetchError::Internal {
                url: url.to_string(),
                detail: internal.to_string(),
            };
        }
        cause = c.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout {
            url: url.to_string(),
            secs,
        };
    }
    if e.is_redirect() {
        return FetchError::Redirect {
            url: url.to_string(),
            reason: crate::errors::chain(&e),
        };
    }
    FetchError::Network {
        url: url.to_string(),
        message: crate::errors::chain(&e),
    }
}
