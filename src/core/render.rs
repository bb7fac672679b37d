//! Telegram message rendering: the HTML (parse mode "HTML") and plain-text forms of a post, its
//! inline URL buttons, HTML escaping, and a validator that checks Telegram's HTML rules and
//! measures the message the way Telegram does (UTF-16 code units of the text after entity
//! parsing), so that every message fits in [`TELEGRAM_LIMIT`].
//!
//! A post ends with its hashtags (district, kind of event). The link to the source is an inline
//! button ("पूरी खबर पढ़ें"), with one more button per "also at" copy; the plain-text form, sent
//! when Telegram cannot parse the HTML, spells the links out instead.
//!
//! Golden files: `tests/fixtures/golden/<name>.html` (the message), `<name>.txt` (the plain-text
//! fallback) and `<name>.buttons.txt` (the inline buttons) hold the exact rendering of the seed
//! article and of Chhattisgarh positives from `tests/fixtures/corpus/dev.jsonl`. After an intended change,
//! regenerate them with `UPDATE_GOLDEN=1 cargo test --lib golden` and review the diff.

use super::summary::{Summary, shorten_by};
use super::tags::is_hashtag;
use super::text::Lang;

/// Telegram's message length limit, in UTF-16 code units of the parsed text.
pub const TELEGRAM_LIMIT: usize = 4096;

/// Longest href we emit (longer URLs are not linked).
const MAX_HREF: usize = 2048;
/// Longest URL spelled out in the plain-text form.
const MAX_PLAIN_URL: usize = 1024;
/// Longest title shown, in UTF-16 units.
const MAX_TITLE: usize = 1000;
/// Most "also at" links shown.
const MAX_ALSO_AT: usize = 5;
/// Most hashtags shown.
const MAX_HASHTAGS: usize = 5;

/// An inline keyboard button: opens a URL, or sends `data` back to the bot (a callback query).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Button {
    Url { text: String, url: String },
    Callback { text: String, data: String },
}

impl Button {
    pub fn text(&self) -> &str {
        match self {
            Self::Url { text, .. } | Self::Callback { text, .. } => text,
        }
    }
}

/// Rows of inline buttons under a message.
pub type Keyboard = Vec<Vec<Button>>;

/// Everything a post shows.
pub struct PostView<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub district_en: Option<&'a str>,
    pub district_hi: Option<&'a str>,
    pub summary: &'a Summary,
    /// Other URLs carrying the same report (may be empty).
    pub also_at: &'a [String],
    /// Shown on the last line; anything that is not a single Telegram hashtag is left out.
    pub hashtags: &'a [String],
}

/// Escape text for Telegram HTML (`&`, `<`, `>` and `"`, so the result is also safe inside a
/// double-quoted attribute).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn u16len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn size16(c: char) -> usize {
    c.len_utf16()
}

/// Collapse whitespace runs (titles and sentences are single-line in the message) and drop
/// control characters and bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// which could make a post display something other than what it says.
pub fn clean(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_control() && !is_bidi_control(*c))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bidirectional embedding, override and isolate controls.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A usable http(s) URL for a link, or `None`.
fn link_url(u: &str) -> Option<url::Url> {
    let u = u.trim();
    if u.is_empty() || u.len() > MAX_HREF {
        return None;
    }
    let parsed = url::Url::parse(u).ok()?;
    // Parsing percent-encodes: the URL sent may be longer than the one written.
    (matches!(parsed.scheme(), "http" | "https") && parsed.as_str().len() <= MAX_HREF)
        .then_some(parsed)
}

fn host_label(u: &url::Url) -> Option<String> {
    let h = u.host_str()?;
    let h = h.strip_prefix("www.").unwrap_or(h);
    Some(shorten_by(h, 60, size16))
}

struct Labels {
    chair: &'static str,
    read_more: &'static str,
    also_at: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Hi => Labels {
            chair: "अध्यक्षता",
            read_more: "पूरी खबर पढ़ें",
            also_at: "यहाँ भी",
        },
        Lang::En => Labels {
            chair: "Chaired by",
            read_more: "Read the full story",
            also_at: "also at",
        },
    }
}

/// The message content before markup: each field already cleaned and length-capped.
struct Parts {
    title: String,
    meta: Vec<String>,
    body: String,
    link_text: &'static str,
    href: Option<String>,
    also: Vec<(String, String)>, // (href, host)
    also_label: &'static str,
    hashtags: String,
}

impl Parts {
    fn build(p: &PostView<'_>, plain: bool) -> Parts {
        let s = p.summary;
        let l = labels(s.lang);
        let district = match s.lang {
            Lang::Hi => p.district_hi.or(p.district_en),
            Lang::En => p.district_en.or(p.district_hi),
        }
        .map(clean)
        .filter(|d| !d.is_empty())
        .map(|d| shorten_by(&d, 60, size16));
        let date = s.date.and_then(|d| d.display(s.lang));
        let mut place_date = Vec::new();
        if let Some(d) = district {
            place_date.push(format!("📍 {d}"));
        }
        if let Some(d) = date {
            place_date.push(format!("🗓 {d}"));
        }
        let mut meta = Vec::new();
        if !place_date.is_empty() {
            meta.push(place_date.join(" · "));
        }
        if let Some(c) = s.chair.as_deref().map(clean).filter(|c| !c.is_empty()) {
            meta.push(format!("🏛 {}: {}", l.chair, shorten_by(&c, 150, size16)));
        }
        if !s.agencies.is_empty() {
            let a = clean(&s.agencies.join(", "));
            meta.push(format!("🤝 {}", shorten_by(&a, 200, size16)));
        }
        let href = link_url(p.url).map(|u| u.as_str().to_string());
        let href = if plain {
            href.filter(|h| u16len(h) <= MAX_PLAIN_URL)
        } else {
            href
        };
        let also = p
            .also_at
            .iter()
            .filter_map(|u| {
                let parsed = link_url(u)?;
                let host = host_label(&parsed)?;
                let href = parsed.as_str().to_string();
                if plain && u16len(&href) > MAX_PLAIN_URL {
                    return None;
                }
                Some((href, host))
            })
            .take(MAX_ALSO_AT)
            .collect();
        let body = s
            .sentences
            .iter()
            .map(|x| clean(x))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Parts {
            title: clean(p.title),
            meta,
            body,
            link_text: l.read_more,
            href,
            also,
            also_label: l.also_at,
            hashtags: p
                .hashtags
                .iter()
                .map(|t| t.trim())
                .filter(|t| is_hashtag(t))
                .take(MAX_HASHTAGS)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// The plain form's link line: the source's URL and its "also at" copies, spelled out (the
    /// HTML form has buttons instead).
    fn link_line(&self) -> String {
        let mut v = String::new();
        if let Some(h) = &self.href {
            v.push_str(&format!("{}: {h}", self.link_text));
        }
        if !self.also.is_empty() {
            if !v.is_empty() {
                v.push_str(" · ");
            }
            v.push_str(&format!("{}: ", self.also_label));
            let urls: Vec<&str> = self.also.iter().map(|(href, _)| href.as_str()).collect();
            v.push_str(&urls.join(", "));
        }
        v
    }

    fn buttons(&self) -> Keyboard {
        let mut rows = Vec::new();
        if let Some(h) = &self.href {
            rows.push(vec![Button::Url {
                text: self.link_text.to_owned(),
                url: h.clone(),
            }]);
        }
        for (href, host) in &self.also {
            rows.push(vec![Button::Url {
                text: format!("{}: {host}", self.also_label),
                url: href.clone(),
            }]);
        }
        rows
    }
}

/// A piece of the message: plain text or bold text.
enum Seg {
    Text(String),
    Bold(String),
}

impl Seg {
    fn html(&self, out: &mut String) {
        match self {
            Seg::Text(t) => out.push_str(&escape_html(t)),
            Seg::Bold(t) => {
                out.push_str("<b>");
                out.push_str(&escape_html(t));
                out.push_str("</b>");
            }
        }
    }
    fn plain(&self, out: &mut String) {
        match self {
            Seg::Text(t) | Seg::Bold(t) => out.push_str(t),
        }
    }
}

/// Lay the message out as segments, shortening the body and then the title so that the visible
/// text is at most [`TELEGRAM_LIMIT`] UTF-16 units.
fn layout(p: &PostView<'_>, plain: bool) -> Vec<Seg> {
    let mut parts = Parts::build(p, plain);
    // The link line is the plain form's only; the HTML form carries buttons instead.
    let link_line = |parts: &Parts| {
        if plain {
            parts.link_line()
        } else {
            String::new()
        }
    };
    let mut link = link_line(&parts);
    while u16len(&link) > 1500 && parts.also.pop().is_some() {
        link = link_line(&parts);
    }
    let tags = parts.hashtags.clone();
    let mut meta = parts.meta.clone();
    // fixed cost: meta lines + link line + hashtags + newlines between blocks
    let fixed = |meta: &[String]| -> usize {
        let mut n: usize = meta.iter().map(|m| u16len(m) + 1).sum();
        n += u16len(&link) + u16len(&tags) + 2;
        n + 4 // "\n" after title, blank lines around the body
    };
    // pathological metadata (only possible with a hand-made Summary): drop lines from the end
    while fixed(&meta) > TELEGRAM_LIMIT / 2 && !meta.is_empty() {
        meta.pop();
    }
    let fixed_cost = fixed(&meta);
    let room = TELEGRAM_LIMIT.saturating_sub(fixed_cost);
    // The body gives way first; the title is only capped at MAX_TITLE (which always leaves the
    // body room, since `fixed_cost` is at most about half the limit).
    let title = shorten_by(&parts.title, MAX_TITLE.min(room), size16);
    let room_body = room.saturating_sub(u16len(&title));
    let body = shorten_by(&parts.body, room_body, size16);

    let mut segs = Vec::new();
    if !title.is_empty() {
        segs.push(Seg::Bold(title));
    }
    for m in meta {
        segs.push(Seg::Text(format!("\n{m}")));
    }
    if !body.is_empty() {
        segs.push(Seg::Text(format!("\n\n{body}")));
    }
    if !link.is_empty() {
        segs.push(Seg::Text(format!("\n\n{link}")));
    }
    if !tags.is_empty() {
        let sep = if link.is_empty() { "\n\n" } else { "\n" };
        segs.push(Seg::Text(format!("{sep}{tags}")));
    }
    // drop a leading newline if there was no title
    if let Some(Seg::Text(t)) = segs.first_mut() {
        let trimmed = t.trim_start_matches('\n').to_string();
        *t = trimmed;
    }
    segs
}

/// Render a post in Telegram HTML parse mode. Always valid and at most [`TELEGRAM_LIMIT`] units.
pub fn render_html(p: &PostView<'_>) -> String {
    let mut out = String::new();
    for s in layout(p, false) {
        s.html(&mut out);
    }
    out
}

/// The same content without markup (fallback when Telegram rejects the entities). URLs are
/// spelled out; at most [`TELEGRAM_LIMIT`] UTF-16 units.
pub fn render_plain(p: &PostView<'_>) -> String {
    let mut out = String::new();
    for s in layout(p, true) {
        s.plain(&mut out);
    }
    out
}

/// The post's inline buttons: "पूरी खबर पढ़ें" (or "Read the full story") to the source, then one
/// per "also at" copy. Every URL is an http(s) URL of at most 2048 bytes.
pub fn render_buttons(p: &PostView<'_>) -> Keyboard {
    Parts::build(p, false).buttons()
}

/// Why a message is not valid Telegram HTML. Positions are byte offsets in the input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HtmlError {
    #[error("unsupported tag <{tag}> at byte {pos}")]
    UnknownTag { tag: String, pos: usize },
    #[error("tag <{tag}> opened at byte {pos} is never closed")]
    Unclosed { tag: String, pos: usize },
    #[error("closing </{found}> at byte {pos} does not match open <{expected}>")]
    Misnested {
        expected: String,
        found: String,
        pos: usize,
    },
    #[error("closing </{tag}> at byte {pos} without an open tag")]
    UnexpectedClose { tag: String, pos: usize },
    #[error("bare {ch:?} at byte {pos} (must be escaped)")]
    BareChar { ch: char, pos: usize },
    #[error("malformed tag at byte {pos}")]
    MalformedTag { pos: usize },
    #[error("bad attribute {attr:?} on <{tag}> at byte {pos}")]
    BadAttribute {
        tag: String,
        attr: String,
        pos: usize,
    },
    #[error("<{tag}> at byte {pos} lacks required attribute {attr}")]
    MissingAttribute {
        tag: &'static str,
        attr: &'static str,
        pos: usize,
    },
}

const ALLOWED: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
];

/// Decode the entity starting at `s[0] == '&'`; returns (char, byte length).
fn entity(s: &str) -> Option<(char, usize)> {
    let semi = s.bytes().take(12).position(|b| b == b';')?;
    let name = &s[1..semi];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let v = if let Some(h) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(h, 16).ok()?
            } else {
                num.parse::<u32>().ok()?
            };
            char::from_u32(v)?
        }
    };
    Some((c, semi + 1))
}

fn decode_entities(s: &str, base: usize) -> Result<String, HtmlError> {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest
            .chars()
            .next()
            .ok_or(HtmlError::MalformedTag { pos: base + i })?;
        if c == '&' {
            let (d, n) = entity(rest).ok_or(HtmlError::BareChar {
                ch: '&',
                pos: base + i,
            })?;
            out.push(d);
            i += n;
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
    Ok(out)
}

/// Parse attributes `name="v" name='v' name=v flag`; returns (name, decoded value).
fn parse_attrs(s: &str, base: usize) -> Result<Vec<(String, String)>, HtmlError> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_') {
            i += 1;
        }
        if i == start {
            return Err(HtmlError::MalformedTag { pos: base + i });
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (vs, ve) = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = s[vs..]
                    .bytes()
                    .position(|x| x == q)
                    .map(|p| vs + p)
                    .ok_or(HtmlError::MalformedTag { pos: base + start })?;
                i = ve + 1;
                (vs, ve)
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                (vs, i)
            };
            let raw = &s[vs..ve];
            if raw.contains('<') {
                return Err(HtmlError::BareChar {
                    ch: '<',
                    pos: base + vs,
                });
            }
            out.push((name, decode_entities(raw, base + vs)?));
        } else {
            out.push((name, String::new()));
        }
    }
    Ok(out)
}

fn check_attrs(tag: &str, attrs: &[(String, String)], pos: usize) -> Result<(), HtmlError> {
    let bad = |a: &str| HtmlError::BadAttribute {
        tag: tag.to_string(),
        attr: a.to_string(),
        pos,
    };
    for (name, value) in attrs {
        let ok = match (tag, name.as_str()) {
            ("a", "href") => !value.trim().is_empty(),
            ("span", "class") => value == "tg-spoiler",
            ("code", "class") => value.starts_with("language-"),
            ("blockquote", "expandable") => true,
            _ => false,
        };
        if !ok {
            return Err(bad(name));
        }
    }
    let has = |n: &str| attrs.iter().any(|(a, _)| a == n);
    match tag {
        "a" if !has("href") => Err(HtmlError::MissingAttribute {
            tag: "a",
            attr: "href",
            pos,
        }),
        "span" if !has("class") => Err(HtmlError::MissingAttribute {
            tag: "span",
            attr: "class=\"tg-spoiler\"",
            pos,
        }),
        _ => Ok(()),
    }
}

/// Validate `html` against Telegram's HTML rules (allowed tags only, properly nested and closed,
/// `&`/`<`/`>` escaped, `<a>` with href) and return the length Telegram counts: UTF-16 code units
/// of the text after entity parsing.
pub fn telegram_len(html: &str) -> Result<usize, HtmlError> {
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut len = 0usize;
    let mut i = 0usize;
    while i < html.len() {
        let rest = &html[i..];
        let Some(c) = rest.chars().next() else { break };
        match c {
            '<' => {
                let close = rest
                    .find('>')
                    .ok_or(HtmlError::BareChar { ch: '<', pos: i })?;
                let inner = &rest[1..close];
                if inner.contains('<') {
                    return Err(HtmlError::BareChar { ch: '<', pos: i });
                }
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match stack.pop() {
                        Some((open, _)) if open == name => {}
                        Some((open, _)) => {
                            return Err(HtmlError::Misnested {
                                expected: open,
                                found: name,
                                pos: i,
                            });
                        }
                        None => return Err(HtmlError::UnexpectedClose { tag: name, pos: i }),
                    }
                } else {
                    let name_end = inner
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(inner.len());
                    let name = inner[..name_end].to_ascii_lowercase();
                    if name.is_empty() || name.ends_with('/') || inner.ends_with('/') {
                        if ALLOWED.contains(&name.trim_end_matches('/')) {
                            return Err(HtmlError::MalformedTag { pos: i });
                        }
                        return Err(HtmlError::UnknownTag {
                            tag: name.trim_end_matches('/').to_string(),
                            pos: i,
                        });
                    }
                    if !ALLOWED.contains(&name.as_str()) {
                        return Err(HtmlError::UnknownTag { tag: name, pos: i });
                    }
                    let attrs = parse_attrs(&inner[name_end..], i + 1 + name_end)?;
                    check_attrs(&name, &attrs, i)?;
                    stack.push((name, i));
                }
                i += close + 1;
            }
            '>' => return Err(HtmlError::BareChar { ch: '>', pos: i }),
            '&' => {
                let (d, n) = entity(rest).ok_or(HtmlError::BareChar { ch: '&', pos: i })?;
                len += d.len_utf16();
                i += n;
            }
            _ => {
                len += c.len_utf16();
                i += c.len_utf8();
            }
        }
    }
    if let Some((tag, pos)) = stack.pop() {
        return Err(HtmlError::Unclosed { tag, pos });
    }
    Ok(len)
}

/// The text Telegram shows for `html` (tags dropped, entities decoded): the plain-text
/// fallback of a message built as HTML. A bare `&` or `<` is kept as written.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let Some(c) = rest.chars().next() else { break };
        match c {
            '<' => match rest.find('>') {
                Some(close) => i += close + 1,
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '&' => match entity(rest) {
                Some((d, n)) => {
                    out.push(d);
                    i += n;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dateline::PartialDate;
    use crate::core::summary::summarize;
    use crate::core::summary::tests::seed;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    const TAGS: &[String] = &[];

    fn durg_tags() -> Vec<String> {
        vec!["#Durg".to_owned(), "#DEPC".to_owned()]
    }

    fn view<'a>(title: &'a str, url: &'a str, s: &'a Summary, also: &'a [String]) -> PostView<'a> {
        PostView {
            title,
            url,
            district_en: Some("Durg"),
            district_hi: Some("दुर्ग"),
            summary: s,
            also_at: also,
            hashtags: TAGS,
        }
    }

    #[test]
    fn bidi_overrides_never_reach_a_post() {
        let title = "दुर्ग : \u{202E}बैठक\u{202C} निर्यात \u{2066}समिति\u{2069}";
        let body = "दुर्ग, मई 2022/ निर्यात संवर्धन समिति की बैठक \u{202D}आयोजित\u{202C} की गई।";
        let s = summarize(title, body, None);
        let v = view(title, "https://dprcg.gov.in/post/1/a", &s, &[]);
        for out in [render_html(&v), render_plain(&v)] {
            assert!(!out.chars().any(is_bidi_control), "{out:?}");
            assert!(out.contains("बैठक"), "{out}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_html(r#"<script>&amp; "x" a < b > c"#),
            "&lt;script&gt;&amp;amp; &quot;x&quot; a &lt; b &gt; c"
        );
    }

    #[test]
    fn validator_rejects_bad_html() {
        assert!(matches!(
            telegram_len("a<br>b"),
            Err(HtmlError::UnknownTag { .. })
        ));
        assert!(matches!(
            telegram_len("a<br/>b"),
            Err(HtmlError::UnknownTag { .. })
        ));
        assert!(matches!(
            telegram_len("<b><i>x</b></i>"),
            Err(HtmlError::Misnested { .. })
        ));
        assert!(matches!(
            telegram_len("AT&T"),
            Err(HtmlError::BareChar { ch: '&', pos: 2 })
        ));
        assert!(matches!(
            telegram_len("<a>x</a>"),
            Err(HtmlError::MissingAttribute { .. })
        ));
        assert!(matches!(
            telegram_len("<b>x"),
            Err(HtmlError::Unclosed { .. })
        ));
        assert!(matches!(
            telegram_len("x</b>"),
            Err(HtmlError::UnexpectedClose { .. })
        ));
        assert!(matches!(
            telegram_len("a > b"),
            Err(HtmlError::BareChar { ch: '>', .. })
        ));
        assert!(matches!(
            telegram_len("a < b"),
            Err(HtmlError::BareChar { ch: '<', .. })
        ));
        assert!(matches!(
            telegram_len(r#"<a href="x" onclick="y">x</a>"#),
            Err(HtmlError::BadAttribute { .. })
        ));
        assert!(matches!(
            telegram_len(r#"<span class="x">x</span>"#),
            Err(HtmlError::BadAttribute { .. })
        ));
    }

    #[test]
    fn plain_text_is_what_telegram_shows() {
        let html =
            r#"<b>#1</b> · <a href="https://x.in/?a=1&amp;b=2">बैठक &lt;1&gt; &amp; more</a>"#;
        assert_eq!(plain_text(html), "#1 · बैठक <1> & more");
        assert_eq!(
            plain_text(html).encode_utf16().count(),
            telegram_len(html).unwrap()
        );
    }

    #[test]
    fn validator_counts_like_telegram() {
        assert_eq!(telegram_len("😀"), Ok(2));
        assert_eq!(telegram_len("&amp;"), Ok(1));
        assert_eq!(telegram_len("&lt;&gt;&quot;&#39;&#x41;"), Ok(5));
        assert_eq!(
            telegram_len(r#"<b>ab</b> <a href="https://x.in/?a=1&amp;b=2">दुर्ग</a>"#),
            Ok(3 + 5)
        );
        assert_eq!(
            telegram_len(
                r#"<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler><pre><code class="language-rust">z</code></pre>"#
            ),
            Ok(3)
        );
    }

    #[test]
    fn hostile_text_is_escaped_and_shown_literally() {
        let title = "<script>alert(1)</script> &amp; a < b > c";
        let body = "रायपुर, 5 मार्च 2023/ <script>x</script> बैठक में निर्यात &amp; a < b > c पर चर्चा की गई। \"quoted\" text & more।";
        let s = summarize(title, body, None);
        let html = render_html(&view(title, "https://e.in/?a=1&b=\"2\"", &s, &[]));
        let n = telegram_len(&html).unwrap_or_else(|e| panic!("{e}: {html}"));
        assert!(n <= TELEGRAM_LIMIT);
        assert!(
            html.contains("<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; a &lt; b &gt; c</b>")
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        let v = view(title, "https://e.in/?a=1&b=\"2\"", &s, &[]);
        assert_eq!(
            render_buttons(&v)[0][0],
            Button::Url {
                text: "पूरी खबर पढ़ें".into(),
                url: "https://e.in/?a=1&b=%222%22".into()
            }
        );
        let plain = render_plain(&view(title, "https://e.in/", &s, &[]));
        assert!(plain.starts_with("<script>alert(1)</script> &amp; a < b > c\n"));
    }

    #[test]
    fn long_hindi_body_fits_and_ends_on_a_word() {
        let unit = "जिला स्तरीय निर्यात संवर्धन समिति की बैठक में उद्योगपतियों से सुझाव मांगे गए ";
        let mut body = String::new();
        while body.chars().count() < 20_000 {
            body.push_str(unit);
        }
        let words: std::collections::HashSet<&str> = unit.split_whitespace().collect();
        // through summarize (no sentence punctuation: one huge sentence)
        let s = summarize("बैठक", &body, None);
        let html = render_html(&view("बैठक", "https://e.in/1", &s, &[]));
        assert!(telegram_len(&html).is_ok_and(|n| n <= TELEGRAM_LIMIT));
        // a hand-made summary with huge sentences and a huge title exercises render's own cut
        let big = Summary {
            lang: Lang::Hi,
            date: Some(PartialDate {
                year: Some(2022),
                month: Some(5),
                day: None,
            }),
            chair: None,
            agencies: vec!["DGFT"],
            sentences: vec![body.clone(), body.clone()],
        };
        let title: String = body.chars().take(6000).collect();
        for t in ["बैठक", title.as_str()] {
            let html = render_html(&view(t, "https://e.in/1", &big, &[]));
            let n = telegram_len(&html).unwrap_or_else(|e| panic!("{e}"));
            assert!(n <= TELEGRAM_LIMIT && n > 3000, "{n}");
            let para = html.split("\n\n").nth(1).unwrap_or("");
            let para = para
                .strip_suffix('…')
                .unwrap_or_else(|| panic!("no ellipsis: {para}"));
            let last = para.split_whitespace().last().unwrap_or("");
            assert!(words.contains(last), "cut inside a word: {last}");
            let plain = render_plain(&view(t, "https://e.in/1", &big, &[]));
            assert!(u16len(&plain) <= TELEGRAM_LIMIT);
        }
    }

    #[test]
    fn seed_layout_buttons_and_hashtags() {
        let (t, b) = seed();
        let s = summarize(&t, &b, None);
        let also = vec![
            "https://www.cgwall.com/x".to_string(),
            "not a url".to_string(),
        ];
        let tags = durg_tags();
        let url = "https://www.statenewsservice.in/2022/05/183095";
        let v = PostView {
            hashtags: &tags,
            ..view(&t, url, &s, &also)
        };
        let html = render_html(&v);
        assert!(html.starts_with(&format!("<b>{t}</b>\n📍 दुर्ग · 🗓 मई 2022\n")));
        assert!(html.contains("🏛 अध्यक्षता: कलेक्टर डॉ. सर्वेश्वर नरेन्द्र भुरे\n"));
        assert!(html.contains("🤝 DGFT, EEPC, MSME-DI, NABARD\n\n"));
        // The link line gave way to buttons; the hashtags end the post.
        assert!(!html.contains("<a "), "{html}");
        assert!(html.ends_with("।\n\n#Durg #DEPC"), "{html}");
        assert_eq!(
            render_buttons(&v),
            vec![
                vec![Button::Url {
                    text: "पूरी खबर पढ़ें".into(),
                    url: url.into()
                }],
                vec![Button::Url {
                    text: "यहाँ भी: cgwall.com".into(),
                    url: "https://www.cgwall.com/x".into()
                }],
            ]
        );
        // The plain fallback keeps the links.
        let plain = render_plain(&v);
        assert!(plain.ends_with(&format!(
            "पूरी खबर पढ़ें: {url} · यहाँ भी: https://www.cgwall.com/x\n#Durg #DEPC"
        )));
        assert!(!plain.contains('<'));
    }

    #[test]
    fn only_single_hashtags_are_shown_and_a_bad_url_gets_no_button() {
        let s = summarize("बैठक", "निर्यात संवर्धन समिति की बैठक हुई।", None);
        let tags: Vec<String> = ["#Durg", "#Janjgir-Champa", "Raipur", "#DEPC"]
            .map(String::from)
            .to_vec();
        let v = PostView {
            hashtags: &tags,
            ..view("बैठक", "javascript:alert(1)", &s, &[])
        };
        assert!(render_html(&v).ends_with("\n\n#Durg #DEPC"));
        assert!(render_buttons(&v).is_empty());
        let plain = render_plain(&v);
        assert!(
            plain.ends_with("\n\n#Durg #DEPC") && !plain.contains("javascript"),
            "{plain}"
        );
    }

    #[test]
    fn english_labels() {
        let s = Summary {
            lang: Lang::En,
            date: NaiveDate::from_ymd_opt(2023, 3, 5).map(PartialDate::from_naive),
            chair: Some("Collector Dr. Sarveshwar Bhure".into()),
            agencies: vec!["DGFT", "APEDA"],
            sentences: vec!["Exporters met.".into()],
        };
        let p = PostView {
            title: "Export outreach",
            url: "https://e.in/a",
            district_en: Some("Raipur"),
            district_hi: Some("रायपुर"),
            summary: &s,
            also_at: &[],
            hashtags: &["#Raipur".to_owned(), "#ExportWorkshop".to_owned()],
        };
        assert_eq!(
            render_html(&p),
            "<b>Export outreach</b>\n📍 Raipur · 🗓 5 March 2023\n🏛 Chaired by: Collector Dr. Sarveshwar Bhure\n🤝 DGFT, APEDA\n\nExporters met.\n\n#Raipur #ExportWorkshop"
        );
        assert_eq!(
            render_buttons(&p),
            vec![vec![Button::Url {
                text: "Read the full story".into(),
                url: "https://e.in/a".into()
            }]]
        );
    }

    // ---------------------------------------------------------------------------------------
    // Golden files

    struct Case {
        name: &'static str,
        url: &'static str,
        district_en: &'static str,
        district_hi: &'static str,
    }

    const CASES: &[Case] = &[
        Case {
            name: "raipur-state-committee-hi",
            url: "https://city24x7.news/2022/09/29/chhattisgarh-state-level-export-promotion-committee-meeting-concluded",
            district_en: "Raipur",
            district_hi: "रायपुर",
        },
        Case {
            name: "janjgir-champa-seminar-hi",
            url: "https://vvnewsvaashvara.in/attractive-and-quality-product-is-naturally-demanded-by-collectors",
            district_en: "Janjgir-Champa",
            district_hi: "जांजगीर-चांपा",
        },
        Case {
            name: "raipur-export-outreach-en",
            url: "https://chhattisgarhsamachar.com/2023/03/chhattisgarh-exporters-and-investors-participate-in-export-outreach-program-to-increase-exports",
            district_en: "Raipur",
            district_hi: "रायपुर",
        },
        Case {
            name: "raipur-rice-summit-en",
            url: "https://www.pratidintime.com/national/mandi-fee-exemption-for-rice-exporters-extended-by-one-year-cm-vishnu-deo-sai-10987493",
            district_en: "Raipur",
            district_hi: "रायपुर",
        },
        Case {
            name: "kanker-apeda-hi",
            url: "https://kgnews.in/cg-%e0%a4%86%e0%a4%9c-%e0%a4%95%e0%a5%83%e0%a4%b7%e0%a4%bf-%e0%a4%b5%e0%a4%bf%e0%a4%9c%e0%a5%8d%e0%a4%9e%e0%a4%be%e0%a4%a8-%e0%a4%95%e0%a5%87%e0%a4%a8%e0%a5%8d%e0%a4%a6%e0%a5%8d%e0%a4%b0-%e0%a4%95",
            district_en: "Kanker",
            district_hi: "कांकेर",
        },
    ];

    fn golden_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
    }

    /// The three forms of a post as stored in the golden files: the HTML message, the plain-text
    /// fallback (which spells the links out), and the inline buttons (one `text → url` per line).
    fn golden_forms(p: &PostView<'_>) -> [(&'static str, String); 3] {
        let buttons: String = render_buttons(p)
            .iter()
            .flatten()
            .map(|b| match b {
                Button::Url { text, url } => format!("{text} → {url}\n"),
                Button::Callback { text, data } => format!("{text} → callback {data}\n"),
            })
            .collect();
        [
            ("html", render_html(p)),
            ("txt", render_plain(p)),
            ("buttons.txt", buttons),
        ]
    }

    /// Compare with `tests/fixtures/golden/<name>.{html,txt,buttons.txt}`;
    /// `UPDATE_GOLDEN=1 cargo test golden` rewrites the files instead.
    fn check_golden(name: &str, p: &PostView<'_>) {
        let forms = golden_forms(p);
        let html = &forms[0].1;
        assert!(
            telegram_len(html).is_ok_and(|n| n <= TELEGRAM_LIMIT),
            "{name}"
        );
        assert!(u16len(&forms[1].1) <= TELEGRAM_LIMIT, "{name}");
        for (ext, got) in &forms {
            let path = golden_dir().join(format!("{name}.{ext}"));
            if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
                std::fs::create_dir_all(golden_dir()).unwrap_or_else(|e| panic!("{e}"));
                std::fs::write(&path, got).unwrap_or_else(|e| panic!("{e}"));
                continue;
            }
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
            assert_eq!(
                got, &want,
                "golden {name}.{ext} differs (UPDATE_GOLDEN=1 to accept)"
            );
        }
    }

    /// The hashtags a post of this district and text gets.
    fn tags_of(district_en: &str, title: &str, body: &str) -> Vec<String> {
        crate::core::tags::hashtags(
            crate::core::districts::by_en(district_en),
            crate::core::tags::event_kind(title, body),
        )
    }

    #[test]
    fn golden_seed() {
        let (t, b) = seed();
        let s = summarize(&t, &b, None);
        let tags = tags_of("Durg", &t, &b);
        // A copy of the same note elsewhere: a second button, and a second link in the fallback.
        let also =
            vec!["https://www.cgwall.com/durg-export-promotion-committee-meeting/".to_owned()];
        check_golden(
            "seed-article",
            &PostView {
                hashtags: &tags,
                ..view(
                    &t,
                    "https://www.statenewsservice.in/2022/05/183095",
                    &s,
                    &also,
                )
            },
        );
    }

    #[test]
    fn golden_dev_corpus() {
        let corpus = include_str!("../../tests/fixtures/corpus/dev.jsonl");
        let mut langs = Vec::new();
        for case in CASES {
            let rec = corpus
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["url"] == case.url)
                .unwrap_or_else(|| panic!("{} not in dev.jsonl", case.url));
            assert_eq!(rec["label"], "positive");
            assert_eq!(rec["district"], case.district_en);
            let title = rec["title"].as_str().unwrap_or("");
            let text = rec["text"].as_str().unwrap_or("");
            let s = summarize(title, text, None);
            langs.push(s.lang);
            let tags = tags_of(case.district_en, title, text);
            let p = PostView {
                title,
                url: case.url,
                district_en: Some(case.district_en),
                district_hi: Some(case.district_hi),
                summary: &s,
                also_at: &[],
                hashtags: &tags,
            };
            check_golden(case.name, &p);
        }
        assert!(langs.contains(&Lang::Hi) && langs.contains(&Lang::En));
    }

    // ---------------------------------------------------------------------------------------
    // Property tests

    /// What every rendered post must satisfy: valid Telegram HTML within the limit (hashtags
    /// included), a plain form within the limit, and buttons Telegram accepts.
    fn check_post(p: &PostView<'_>) -> Result<(), TestCaseError> {
        let html = render_html(p);
        let n = telegram_len(&html);
        prop_assert!(n.is_ok(), "{:?} for {:?}", n, html);
        prop_assert!(n.unwrap_or(usize::MAX) <= TELEGRAM_LIMIT);
        prop_assert!(u16len(&render_plain(p)) <= TELEGRAM_LIMIT);
        let rows = render_buttons(p);
        prop_assert!(rows.len() <= 1 + MAX_ALSO_AT);
        for b in rows.iter().flatten() {
            let Button::Url { text, url } = b else {
                return Err(TestCaseError::fail("a post button that is not a URL"));
            };
            prop_assert!(!text.trim().is_empty() && u16len(text) <= 100, "{text:?}");
            prop_assert!(url.len() <= MAX_HREF);
            let parsed = url::Url::parse(url);
            prop_assert!(
                parsed
                    .as_ref()
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                "{url}"
            );
        }
        if let Some(last) = html.rsplit('\n').next() {
            for word in last.split(' ').filter(|w| w.starts_with('#')) {
                prop_assert!(is_hashtag(word), "{word}");
            }
        }
        // The hashtags are never what the length limit cuts: both forms end with them.
        let tags: Vec<&str> = p
            .hashtags
            .iter()
            .map(|t| t.trim())
            .filter(|t| is_hashtag(t))
            .take(MAX_HASHTAGS)
            .collect();
        if !tags.is_empty() {
            let line = format!("\n{}", tags.join(" "));
            prop_assert!(html.ends_with(&line), "{line:?} not at the end of {html:?}");
            prop_assert!(render_plain(p).ends_with(&line), "{line:?}");
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn render_never_breaks(title in ".{0,300}", body in ".{0,3000}", url in ".{0,200}",
                               also in proptest::collection::vec(".{0,80}", 0..4)) {
            let s = summarize(&title, &body, None);
            let tags = durg_tags();
            let p = PostView { title: &title, url: &url, district_en: Some("Durg"), district_hi: None,
                               summary: &s, also_at: &also, hashtags: &tags };
            check_post(&p)?;
        }

        #[test]
        fn render_markup_like_inputs(title in "[<>&\"';a-zक्ष ]{0,400}", body in "[<>&\"';/a-zक्ष।. ]{0,5000}",
                                     url in "https?://[a-z<>&\"]{1,12}\\.in/[<>&\" a-z]{0,40}",
                                     tags in proptest::collection::vec("#?[<>&\"a-zA-Z0-9_क्ष -]{0,70}", 0..8)) {
            let s = summarize(&title, &body, None);
            let also = vec![url.clone()];
            let p = PostView { title: &title, url: &url, district_en: None, district_hi: Some("<दुर्ग>"),
                               summary: &s, also_at: &also, hashtags: &tags };
            check_post(&p)?;
        }

    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn render_fits_with_huge_inputs(title in "[\\PC ]{3000,6000}", word in "[क-ह][ािीुूेैोौ्ंँ]{0,3}",
                                        n in 500usize..3000, url in "https://[a-z]{1,10}\\.in/[ -~]{0,3000}") {
            let body = vec![word.as_str(); n].join(" ");
            let s = Summary { lang: Lang::Hi, date: None, chair: Some(title.clone()),
                              agencies: vec!["DGFT"], sentences: vec![body.clone(), body] };
            let also = vec![url.clone(); 10];
            let tags = vec![format!("#{}", "A".repeat(64)); 10];
            let p = PostView { title: &title, url: &url, district_en: Some(&title), district_hi: None,
                               summary: &s, also_at: &also, hashtags: &tags };
            check_post(&p)?;
        }
    }
}
