//! Canonical article URLs: the identity of a report.
//!
//! Two links to the same article must give the same key, whatever tracking junk a listing adds, so
//! "new" can mean "canonical URL never seen before". Pure: no I/O.

use url::Url;

/// Canonical form of an absolute http(s) URL: scheme and host lowercased (the `url` crate does that),
/// default port dropped, fragment dropped, `utm_*` and other well-known tracking parameters dropped,
/// remaining query parameters kept in their order. Percent-encoding is normalised by the parser, so a
/// raw Devanagari slug and its percent-encoded form give the same string.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    out
}

/// Resolve `href` against `base` and canonicalise it; `None` for non-http(s) links (`mailto:`,
/// `javascript:`) and unparsable ones.
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let joined = base.join(href).ok()?;
    matches!(joined.scheme(), "http" | "https").then(|| canonicalize(&joined))
}

fn is_tracking_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_") || matches!(k.as_str(), "fbclid" | "gclid" | "amp" | "ref_src")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn lowercases_scheme_and_host_and_drops_fragment_and_utm() {
        assert_eq!(
            canon("HTTPS://DPRCG.Gov.IN/post/1652345678/x?utm_source=tw&utm_medium=s#top"),
            "https://dprcg.gov.in/post/1652345678/x"
        );
    }

    #[test]
    fn keeps_meaningful_query_parameters() {
        assert_eq!(
            canon("https://statenewsservice.in/?p=164837&utm_campaign=x"),
            "https://statenewsservice.in/?p=164837"
        );
    }

    #[test]
    fn raw_and_percent_encoded_hindi_slugs_are_the_same_key() {
        let raw = canon("https://dprcg.gov.in/post/1652345678/दुर्ग-बैठक");
        let enc = canon(
            "https://dprcg.gov.in/post/1652345678/%E0%A4%A6%E0%A5%81%E0%A4%B0%E0%A5%8D%E0%A4%97-%E0%A4%AC%E0%A5%88%E0%A4%A0%E0%A4%95",
        );
        assert_eq!(raw, enc);
    }

    #[test]
    fn resolve_skips_non_http_links() {
        let base = Url::parse("https://dprcg.gov.in/news/district-news").unwrap();
        assert_eq!(
            resolve(&base, "/post/1/a#c").unwrap().as_str(),
            "https://dprcg.gov.in/post/1/a"
        );
        assert!(resolve(&base, "mailto:x@y.in").is_none());
        assert!(resolve(&base, "javascript:void(0)").is_none());
        assert!(resolve(&base, "#").is_none());
    }
}
