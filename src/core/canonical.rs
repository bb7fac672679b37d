//! Canonical article URLs: the identity of a report.
//!
//! Two links to the same article must give the same key, whatever tracking junk a listing adds, so
//! "new" can mean "canonical URL never seen before". Pure: no I/O.

use url::Url;

/// Canonical form of an absolute http(s) URL: scheme and host lowercased (the `url` crate does that),
/// default port dropped, fragment dropped, percent-escapes of unreserved characters decoded (`%7E`
/// is `~`, RFC 3986 §6.2.2.2) and the hex of the others upper-cased, `utm_*` and other well-known
/// tracking parameters dropped, remaining query parameters kept in their order. Percent-encoding is normalised by the parser, so a
/// raw Devanagari slug and its percent-encoded form give the same string.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    let path = normalize_escapes(url.path());
    if path != url.path() {
        out.set_path(&path);
    }
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

/// RFC 3986 normalisation of percent-escapes in a path: an escaped unreserved character
/// (`A-Z a-z 0-9 - . _ ~`) is the character itself; other escapes get upper-case hex.
fn normalize_escapes(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                b.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            let byte = u8::try_from(h * 16 + l).unwrap_or(0);
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
            i += 3;
            continue;
        }
        // Everything else in a parsed URL's path is ASCII; copy it (and any char) whole.
        let ch = path[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
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

    #[test]
    fn escaped_unreserved_characters_are_the_same_article() {
        assert_eq!(
            canon("https://dprcg.gov.in/%7Enews/post/1/a%2Db%5fc"),
            canon("https://dprcg.gov.in/~news/post/1/a-b_c")
        );
        // Reserved characters stay escaped, in one spelling.
        assert_eq!(
            canon("https://x.in/a%2fb%e0%a4%a6"),
            "https://x.in/a%2Fb%E0%A4%A6"
        );
    }
}
