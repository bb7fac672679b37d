//! Entries from the three non-HTML source kinds: feeds, the WordPress REST API, and dated URL templates.
//!
//! Owns: turning an RSS 2.0 / Atom / JSON Feed document ([`parse_feed`], via feed-rs) or one page of
//! `/wp-json/wp/v2/posts` ([`parse_wp_posts`]) into [`Entry`] values (canonical URL, decoded title,
//! full text when the source carries the article, publication date in India time); the WordPress
//! search URL and page count ([`wp_search_url`], [`wp_total_pages`]); and the expansion and
//! validation of URL templates with `{date:FORMAT}` placeholders ([`expand_date_template`],
//! [`check_template`]).
//!
//! Everything here is pure (no I/O) and never panics on arbitrary input. Article HTML carried by a
//! source is turned into text by [`readable::text_of_selector`], so it loses the same boilerplate as
//! a fetched page: ad labels ("- Advertisement -"), share widgets, related-post blocks and the
//! WordPress "ये भी पढ़ें: …" republication line.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use scraper::Html;
use unicode_normalization::UnicodeNormalization;
use url::Url;

use super::{canonical, page, readable};

/// One entry found on a source: a URL and, when the source carries it, the article itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Canonical article URL ([`canonical::canonicalize`]).
    pub url: Url,
    /// Plain text: HTML entities decoded (`&#8211;` → `–`), whitespace collapsed, NFC.
    pub title: String,
    /// Plain-text paragraphs joined by `"\n"`, when the source gives the full text; `None` means the
    /// caller must fetch the page.
    pub body: Option<String>,
    /// Publication date in Asia/Kolkata (UTC+05:30) when the source gives a time.
    pub published: Option<NaiveDate>,
}

/// Why a feed or a WordPress API page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntriesError {
    /// The feed document is not a readable RSS/Atom/JSON feed. `problem`, `line` and `column`
    /// locate the first XML well-formedness problem when one is found.
    #[error("bad feed: {message}{}", feed_where(problem.as_deref(), *line, *column))]
    Feed {
        /// What the feed parser reported.
        message: String,
        /// The first XML problem found by a scan of the document (e.g. a mismatched end tag).
        problem: Option<String>,
        /// 1-based line of `problem`.
        line: Option<usize>,
        /// 1-based column (in characters) of `problem`.
        column: Option<usize>,
    },
    /// The WordPress response is not valid JSON.
    #[error("bad WordPress JSON at line {line} column {column}: {message}")]
    Json {
        /// What the JSON parser reported.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The WordPress response is JSON but not a list of posts (`path` is a JSON path such as `$` or
    /// `$[3]`).
    #[error("unexpected WordPress JSON at {path}: {message}")]
    Shape {
        /// JSON path of the offending value.
        path: String,
        /// What was expected and found.
        message: String,
    },
}

fn feed_where(problem: Option<&str>, line: Option<usize>, column: Option<usize>) -> String {
    match (problem, line, column) {
        (Some(p), Some(l), Some(c)) => format!(" ({p} at line {l} column {c})"),
        (Some(p), _, _) => format!(" ({p})"),
        _ => String::new(),
    }
}

/// A URL template that cannot be expanded. Every variant names the template and the character
/// position (0-based, in chars) of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("URL template {template:?}: '{{' at char {at} is not closed by '}}'")]
    Unclosed {
        /// The template as given.
        template: String,
        /// Char index of the `{`.
        at: usize,
    },
    /// A `}` without a `{`.
    #[error("URL template {template:?}: '}}' at char {at} has no matching '{{'")]
    StrayClose {
        /// The template as given.
        template: String,
        /// Char index of the `}`.
        at: usize,
    },
    /// A placeholder other than `{date}` / `{date:FORMAT}`.
    #[error(
        "URL template {template:?}: unknown placeholder {{{name}}} at char {at} (use {{date}} or {{date:FORMAT}}, e.g. {{date:%Y-%m-%d}})"
    )]
    UnknownPlaceholder {
        /// The template as given.
        template: String,
        /// Char index of the `{`.
        at: usize,
        /// Text between the braces.
        name: String,
    },
    /// A `{date:FORMAT}` whose FORMAT is not a usable chrono strftime date format.
    #[error("URL template {template:?}: bad date format {format:?} at char {at}: {problem}")]
    BadFormat {
        /// The template as given.
        template: String,
        /// Char index of the `{`.
        at: usize,
        /// The format between `date:` and `}`.
        format: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// A feed's `content` shorter than this (chars of text, whitespace collapsed) is an excerpt, not a body.
const MIN_FEED_BODY_CHARS: usize = 300;

// ---------------------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------------------

/// Entries of an RSS 2.0 / Atom / JSON Feed document (raw bytes: feed-rs honours the XML prolog's
/// encoding).
///
/// * URL: the entry's `alternate` (or first) link, resolved against `base` (the feed URL) and
///   canonicalised; entries without an http(s) link are skipped.
/// * Title: HTML entities decoded, tags dropped, whitespace collapsed, NFC.
/// * Body: `content:encoded` / Atom `content` / JSON Feed `content_html`/`content_text`, turned into
///   text with boilerplate removal, when it holds at least 300 chars of text; a `description` /
///   `summary` is an excerpt and never a body (`None` → the caller fetches the page).
/// * Published: `pubDate` / `published` (else `updated`) as an India-time date.
pub fn parse_feed(bytes: &[u8], base: &Url, tz: Tz) -> Result<Vec<Entry>, EntriesError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .sanitize_content(false)
        .build();
    let feed = parser.parse(bytes).map_err(|e| feed_error(&e, bytes))?;
    let mut out = Vec::with_capacity(feed.entries.len());
    for entry in feed.entries {
        // RSS 2.0: a `<guid>` is a permalink unless it says isPermaLink="false"; an item may carry
        // its address only there.
        let Some(url) = entry_link(&entry.links, base).or_else(|| guid_link(&entry.id)) else {
            continue;
        };
        let title = entry
            .title
            .as_ref()
            .map(|t| html_inline_text(&t.content))
            .unwrap_or_default();
        let body = entry.content.as_ref().and_then(feed_body);
        let published = entry.published.or(entry.updated).map(|t| local_date(t, tz));
        out.push(Entry {
            url,
            title,
            body,
            published,
        });
    }
    Ok(out)
}

/// The link of an entry: the first `alternate` (or rel-less) link that is not an enclosure, else
/// the first link at all.
fn entry_link(links: &[feed_rs::model::Link], base: &Url) -> Option<Url> {
    let preferred = links.iter().find(|l| {
        matches!(l.rel.as_deref(), None | Some("alternate"))
            && l.media_type
                .as_deref()
                .is_none_or(|m| m.contains("html") || m.is_empty())
    });
    preferred
        .into_iter()
        .chain(links.iter())
        .find_map(|l| canonical::resolve(base, &l.href))
}

/// An entry id that is itself an absolute http(s) URL (an RSS permalink guid).
fn guid_link(id: &str) -> Option<Url> {
    Url::parse(id.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(|u| canonical::canonicalize(&u))
}

/// The body from a feed's content element, if it is a real article.
fn feed_body(content: &feed_rs::model::Content) -> Option<String> {
    let raw = content.body.as_deref()?;
    let ct = content.content_type.to_string().to_ascii_lowercase();
    let text = if ct.starts_with("text/plain") {
        plain_text(raw)
    } else {
        html_text(raw)?
    };
    (text.chars().count() >= MIN_FEED_BODY_CHARS).then_some(text)
}

fn feed_error(e: &feed_rs::parser::ParseFeedError, bytes: &[u8]) -> EntriesError {
    let message = e.to_string();
    let first = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF);
    let (problem, line, column) = if first == Some(&b'<') {
        match locate_xml_problem(bytes) {
            Some(p) => {
                let (l, c) = line_col(bytes, p.offset);
                (Some(p.what), Some(l), Some(c))
            }
            None => (None, None, None),
        }
    } else if first.is_none() {
        (Some("the document is empty".to_owned()), None, None)
    } else {
        (None, None, None)
    };
    EntriesError::Feed {
        message,
        problem,
        line,
        column,
    }
}

/// A problem found by [`locate_xml_problem`]: what, and the byte offset where it starts.
struct XmlProblem {
    what: String,
    offset: usize,
}

/// The first well-formedness problem of an XML document, found by reading it with quick-xml (the
/// parser feed-rs uses) and taking its error position: feed-rs reports XML errors without one.
/// Also reports an unknown entity, an element never closed, and a root element that is an HTML
/// page rather than a feed. `None` when the document reads whole.
fn locate_xml_problem(bytes: &[u8]) -> Option<XmlProblem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut seen_root = false;
    let mut buf = Vec::new();
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let offset = usize::try_from(reader.error_position()).unwrap_or(at);
                let what = match e {
                    quick_xml::Error::IllFormed(
                        quick_xml::errors::IllFormedError::UnclosedReference,
                    ) => "'&' that does not start an entity (write &amp;)".to_owned(),
                    other => other.to_string(),
                };
                return Some(XmlProblem { what, offset });
            }
        };
        let starts = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name: String = e.name().as_ref().to_owned();
                if !seen_root && name.eq_ignore_ascii_case("html") {
                    return Some(XmlProblem {
                        what: "the root element is <html>: an HTML page, not a feed".to_owned(),
                        offset: at,
                    });
                }
                seen_root = true;
                if starts {
                    open.push((name, at));
                }
            }
            Event::End(_) => {
                open.pop();
            }
            Event::GeneralRef(r) => {
                let known = matches!(&*r, "amp" | "lt" | "gt" | "quot" | "apos");
                let char_ok = r.is_char_ref() && matches!(r.resolve_char_ref(), Ok(Some(_)));
                if !known && !char_ok {
                    let name: String = r.chars().take(12).collect();
                    return Some(XmlProblem {
                        what: format!("unknown entity &{name};"),
                        offset: at,
                    });
                }
            }
            Event::Eof => {
                return match open.pop() {
                    Some((name, at)) => Some(XmlProblem {
                        what: format!("<{name}> is never closed"),
                        offset: at,
                    }),
                    None if !seen_root => Some(XmlProblem {
                        what: "no root element".to_owned(),
                        offset: 0,
                    }),
                    None => None,
                };
            }
            _ => {}
        }
        buf.clear();
    }
}

/// 1-based line and column (in chars) of a byte offset.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = before
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, col)
}

// ---------------------------------------------------------------------------------------------
// WordPress REST API
// ---------------------------------------------------------------------------------------------

/// Entries of one page of `/wp-json/wp/v2/posts` (a JSON array of post objects).
///
/// * URL: `link` (absolute http(s)), canonicalised; posts without one are skipped.
/// * Title: `title.rendered` (HTML, entities such as `&#8211;` decoded).
/// * Body: `content.rendered` as text with boilerplate removal (the in-article "- Advertisement -"
///   block and the "ये भी पढ़ें: …" line go); `None` when empty or `content.protected` is true.
/// * Published: `date_gmt` (UTC) as an India-time date; `date` (the site's local time) when
///   `date_gmt` is missing.
///
/// A WordPress error object (`{"code": …, "message": …}`) or any other non-array is a
/// [`EntriesError::Shape`] error; a non-object item too (its path, e.g. `$[2]`, is in the message).
pub fn parse_wp_posts(json: &str, tz: Tz) -> Result<Vec<Entry>, EntriesError> {
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| EntriesError::Json {
        // serde_json's Display ends with " at line L column C"; keep the "what" only.
        message: {
            let full = e.to_string();
            let tail = format!(" at line {} column {}", e.line(), e.column());
            full.strip_suffix(&tail).unwrap_or(&full).to_owned()
        },
        line: e.line(),
        column: e.column(),
    })?;
    let posts = match value {
        serde_json::Value::Array(posts) => posts,
        serde_json::Value::Object(ref o) if o.contains_key("code") => {
            let code = o.get("code").map(short_json).unwrap_or_default();
            let msg = o.get("message").map(short_json).unwrap_or_default();
            return Err(EntriesError::Shape {
                path: "$".to_owned(),
                message: format!("WordPress returned an error object: code {code}, message {msg}"),
            });
        }
        other => {
            return Err(EntriesError::Shape {
                path: "$".to_owned(),
                message: format!("expected an array of posts, found {}", json_kind(&other)),
            });
        }
    };
    let mut out = Vec::with_capacity(posts.len());
    for (i, post) in posts.iter().enumerate() {
        let Some(obj) = post.as_object() else {
            return Err(EntriesError::Shape {
                path: format!("$[{i}]"),
                message: format!("expected a post object, found {}", json_kind(post)),
            });
        };
        let Some(url) = obj
            .get("link")
            .and_then(|l| l.as_str())
            .and_then(|l| Url::parse(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| canonical::canonicalize(&u))
        else {
            continue;
        };
        let title = rendered(obj.get("title"))
            .map(html_inline_text)
            .unwrap_or_default();
        let protected = obj
            .get("content")
            .and_then(|c| c.get("protected"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let body = if protected {
            None
        } else {
            rendered(obj.get("content")).and_then(html_text)
        };
        let published = obj
            .get("date_gmt")
            .and_then(|d| d.as_str())
            .and_then(|d| wp_gmt_date(d, tz))
            .or_else(|| {
                obj.get("date")
                    .and_then(|d| d.as_str())
                    .and_then(wp_local_date)
            });
        out.push(Entry {
            url,
            title,
            body,
            published,
        });
    }
    Ok(out)
}

/// `field.rendered`, or the field itself when it is a plain string.
fn rendered(field: Option<&serde_json::Value>) -> Option<&str> {
    let f = field?;
    f.as_str()
        .or_else(|| f.get("rendered").and_then(serde_json::Value::as_str))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON value for an error message, at most 120 chars.
fn short_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let mut t: String = s.chars().take(120).collect();
        t.push('…');
        t
    } else {
        s
    }
}

/// `date_gmt` (`2024-09-20T03:25:00`, UTC without offset) → India date.
fn wp_gmt_date(s: &str, tz: Tz) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(local_date(dt.and_utc(), tz));
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| local_date(d.with_timezone(&Utc), tz))
}

/// `date` (the site's own clock, assumed India) → its date.
fn wp_local_date(s: &str) -> Option<NaiveDate> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|d| d.date())
}

/// The URL of page `page` (1-based; 0 is taken as 1) of a WordPress search for `term`,
/// `per_page` posts a page (1–100):
/// `{root}/wp-json/wp/v2/posts?search=<term>&after=<YYYY-MM-DDT00:00:00>&per_page=N&page=N&_fields=…`.
/// Only the fields read are asked for (`_fields=id,link,title,content,date,date_gmt`). `root` is the
/// site root (a sub-directory install such as `https://x.in/news/` works; its query and fragment
/// are dropped); the term is form-urlencoded (UTF-8 percent-encoded, space as `+`, which
/// WordPress decodes); `after` is omitted when `None`.
pub fn wp_search_url(
    root: &Url,
    term: &str,
    after: Option<NaiveDate>,
    page: u32,
    per_page: u32,
) -> Url {
    let mut url = root.clone();
    url.set_fragment(None);
    url.set_query(None);
    let path = format!("{}/wp-json/wp/v2/posts", root.path().trim_end_matches('/'));
    url.set_path(&path);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("search", term);
        if let Some(d) = after {
            q.append_pair("after", &format!("{}T00:00:00", d.format("%Y-%m-%d")));
        }
        q.append_pair("per_page", &per_page.clamp(1, 100).to_string());
        q.append_pair("page", &page.max(1).to_string());
        q.append_pair("_fields", "id,link,title,content,date,date_gmt");
    }
    url
}

/// Total pages from the `X-WP-TotalPages` header value; missing, unparsable or 0 → 1.
pub fn wp_total_pages(header: Option<&str>) -> u32 {
    header
        .and_then(|h| h.trim().parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// Shared text helpers
// ---------------------------------------------------------------------------------------------

/// Article HTML → text paragraphs joined by `"\n"`, with readable's boilerplate removal. `None`
/// when no text remains.
fn html_text(html: &str) -> Option<String> {
    // `body` is the walk root, so a stray `</div>` in the fragment cannot cut the text short.
    readable::text_of_selector(html, "body").filter(|t| !t.trim().is_empty())
}

/// Plain text (a `text/plain` feed content) → collapsed, NFC lines joined by `"\n"`.
fn plain_text(s: &str) -> String {
    let lines: Vec<String> = s
        .lines()
        .map(page::collapse_ws)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n").nfc().collect()
}

/// A title that may hold HTML (`&#8211;`, `<em>`): its text, whitespace collapsed, NFC.
fn html_inline_text(s: &str) -> String {
    if !s.contains(['<', '&']) {
        return page::collapse_ws(s).nfc().collect();
    }
    let frag = Html::parse_fragment(s);
    let text: String = frag.root_element().text().collect();
    page::collapse_ws(&text).nfc().collect()
}

/// A UTC instant → its date in the configured time zone.
fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

// ---------------------------------------------------------------------------------------------
// Dated URL templates
// ---------------------------------------------------------------------------------------------

/// A parsed template piece.
enum Piece<'a> {
    Lit(&'a str),
    Date(&'a str),
}

/// The default format of a bare `{date}`.
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";

/// Expands `{date:FORMAT}` placeholders (any chrono strftime *date* format; `{date}` means
/// `{date:%Y-%m-%d}`) for `today`, `today - 1`, … (`days` URLs, newest first). Several placeholders
/// may appear; a template without one expands to itself once (whatever `days`, unless 0); `days`
/// = 0 gives no URLs. Errors: unclosed `{`, stray `}`, unknown placeholder, bad or time-only
/// format ([`TemplateError`]).
pub fn expand_date_template(
    template: &str,
    today: NaiveDate,
    days: u32,
) -> Result<Vec<String>, TemplateError> {
    let pieces = parse_template(template)?;
    if days == 0 {
        return Ok(Vec::new());
    }
    if !pieces.iter().any(|p| matches!(p, Piece::Date(_))) {
        return Ok(vec![template.to_owned()]);
    }
    let mut out = Vec::new();
    let mut day = Some(today);
    for _ in 0..days {
        let Some(d) = day else { break };
        out.push(render_template(template, &pieces, d)?);
        day = d.pred_opt();
    }
    Ok(out)
}

/// Validates a template as [`expand_date_template`] would (for the config validator at start-up).
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    parse_template(template).map(|_| ())
}

fn render_template(
    template: &str,
    pieces: &[Piece<'_>],
    d: NaiveDate,
) -> Result<String, TemplateError> {
    let mut s = String::with_capacity(template.len() + 8);
    for p in pieces {
        match p {
            Piece::Lit(l) => s.push_str(l),
            Piece::Date(f) => {
                // `write!` returns an error (instead of panicking like `to_string`) on a format a
                // date cannot fill; parse_template has already rejected those.
                if write!(s, "{}", d.format(f)).is_err() {
                    return Err(TemplateError::BadFormat {
                        template: template.to_owned(),
                        at: 0,
                        format: (*f).to_owned(),
                        problem: "cannot be formatted from a date".to_owned(),
                    });
                }
            }
        }
    }
    Ok(s)
}

/// Splits a template into literals and date formats, validating every placeholder.
fn parse_template(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut lit_start = 0usize;
    let mut chars = template.char_indices().enumerate();
    while let Some((ci, (bi, c))) = chars.next() {
        match c {
            '{' => {
                if lit_start < bi {
                    pieces.push(Piece::Lit(template.get(lit_start..bi).unwrap_or_default()));
                }
                // Find the closing brace; another '{' first means this one is unclosed.
                let mut close = None;
                for (_, (bj, cj)) in chars.by_ref() {
                    if cj == '}' {
                        close = Some(bj);
                        break;
                    }
                    if cj == '{' {
                        break;
                    }
                }
                let Some(bj) = close else {
                    return Err(TemplateError::Unclosed {
                        template: template.to_owned(),
                        at: ci,
                    });
                };
                let inner = template.get(bi + 1..bj).unwrap_or_default();
                let format = match inner.split_once(':') {
                    None if inner == "date" => DEFAULT_DATE_FORMAT,
                    Some(("date", f)) => f,
                    _ => {
                        return Err(TemplateError::UnknownPlaceholder {
                            template: template.to_owned(),
                            at: ci,
                            name: inner.to_owned(),
                        });
                    }
                };
                if let Some(problem) = format_problem(format) {
                    return Err(TemplateError::BadFormat {
                        template: template.to_owned(),
                        at: ci,
                        format: format.to_owned(),
                        problem,
                    });
                }
                pieces.push(Piece::Date(format));
                lit_start = bj + 1;
            }
            '}' => {
                return Err(TemplateError::StrayClose {
                    template: template.to_owned(),
                    at: ci,
                });
            }
            _ => {}
        }
    }
    if lit_start < template.len() {
        pieces.push(Piece::Lit(template.get(lit_start..).unwrap_or_default()));
    }
    Ok(pieces)
}

/// Why a strftime format is unusable for a date, or `None` when it is fine.
fn format_problem(format: &str) -> Option<String> {
    if format.is_empty() {
        return Some("the format is empty".to_owned());
    }
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Some(
            "not a valid chrono strftime format (unknown or incomplete % specifier)".to_owned(),
        );
    }
    let probe = NaiveDate::from_ymd_opt(2024, 3, 10)?;
    let mut s = String::new();
    if write!(s, "{}", probe.format(format)).is_err() {
        return Some(
            "needs a time or time zone (only date fields such as %Y %m %d %b are allowed)"
                .to_owned(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    const IN: Tz = chrono_tz::Asia::Kolkata;
    use proptest::prelude::*;
    use serde_json::Value;

    const MANIFEST: &str = include_str!("../../tests/fixtures/sites/manifest.json");
    const GP_FEED: &str = include_str!("../../tests/fixtures/sites/wp-gp/feed.xml");
    const TD_PAGE1: &str =
        include_str!("../../tests/fixtures/sites/wp-td/wp-json-posts-page1.json");
    const TD_PAGE2: &str =
        include_str!("../../tests/fixtures/sites/wp-td/wp-json-posts-page2.json");

    fn manifest() -> Value {
        serde_json::from_str(MANIFEST).unwrap()
    }

    fn page_of_kind<'a>(m: &'a Value, kind: &str, file: &str) -> &'a Value {
        m["pages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == kind && p["file"] == file)
            .unwrap_or_else(|| panic!("no {kind} {file} in manifest"))
    }

    fn article<'a>(m: &'a Value, file: &str) -> &'a Value {
        page_of_kind(m, "article", file)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn collapsed(s: &str) -> String {
        page::collapse_ws(s)
    }

    /// Checks an entry against the manifest's article entry: date, body strings, no republish line.
    fn check_body(e: &Entry, art: &Value) {
        let body = e
            .body
            .as_deref()
            .unwrap_or_else(|| panic!("no body for {}", e.url));
        let flat = collapsed(body);
        for s in art["body_must_contain"].as_array().unwrap() {
            let s = collapsed(s.as_str().unwrap());
            assert!(flat.contains(&s), "{}: body lacks {s:?}\n{body}", e.url);
        }
        if let Some(suffix) = art["republish_suffix"].as_str() {
            assert!(!flat.contains(suffix), "{}: body keeps {suffix:?}", e.url);
            assert!(!body.contains("ये भी पढ़ें"), "{}: {body}", e.url);
        }
        assert!(!body.contains('<') && !body.contains("&#"), "{body}");
    }

    // ----- RSS (wp-gp) -----------------------------------------------------------------------

    #[test]
    fn wp_gp_feed_entries_bodies_only_from_content_encoded() {
        let m = manifest();
        let feed = page_of_kind(&m, "feed", "sites/wp-gp/feed.xml");
        let base = Url::parse("https://www.statenewsservice.in/feed/").unwrap();
        let entries = parse_feed(GP_FEED.as_bytes(), &base, IN).unwrap();
        let items = feed["items"].as_array().unwrap();
        assert_eq!(entries.len(), items.len());
        let mut with_body = 0;
        for (e, item) in entries.iter().zip(items) {
            assert_eq!(e.url.as_str(), item["link"].as_str().unwrap());
            assert_eq!(e.title, item["title"].as_str().unwrap());
            let art = article(&m, item["article_file"].as_str().unwrap());
            assert_eq!(e.published, Some(date(art["published"].as_str().unwrap())));
            if item["has_content_encoded"].as_bool().unwrap() {
                check_body(e, art);
                with_body += 1;
            } else {
                // The description is a >300-char excerpt ending "[…]": still not a body.
                assert_eq!(e.body, None, "{}: excerpt taken as body", e.url);
            }
        }
        assert_eq!(with_body, 2);
    }

    #[test]
    fn rss_titles_entities_decoded_and_relative_links_resolved() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>आकर्षक उत्पाद की मांग &#8211; कलेक्टर &amp;#8220;निर्यात&amp;#8221;</title>
<link>/2021/09/26/attractive?utm_source=rss&amp;p=3#more</link>
<pubDate>Sat, 25 Sep 2021 20:00:00 +0000</pubDate></item>
<item><title>बिना लिंक</title><description>x</description></item>
</channel></rss>"#;
        let base = Url::parse("https://cgsandesh.example/feed/").unwrap();
        let entries = parse_feed(xml.as_bytes(), &base, IN).unwrap();
        assert_eq!(entries.len(), 1, "the item without a link is skipped");
        let e = &entries[0];
        assert_eq!(e.title, "आकर्षक उत्पाद की मांग – कलेक्टर “निर्यात”");
        assert_eq!(
            e.url.as_str(),
            "https://cgsandesh.example/2021/09/26/attractive?p=3"
        );
        // 20:00 UTC on the 25th is 01:30 IST on the 26th.
        assert_eq!(e.published, Some(date("2021-09-26")));
        assert_eq!(e.body, None);
    }

    #[test]
    fn an_rss_item_whose_only_address_is_its_permalink_guid_is_kept() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>निर्यात संवर्धन समिति की बैठक</title>
<guid isPermaLink="true">https://cgsandesh.example/2022/05/183095/?utm_source=rss</guid></item>
<item><title>बिना पते</title><guid isPermaLink="false">post-183096</guid></item>
</channel></rss>"#;
        let base = Url::parse("https://cgsandesh.example/feed/").unwrap();
        let entries = parse_feed(xml.as_bytes(), &base, IN).unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(
            entries[0].url.as_str(),
            "https://cgsandesh.example/2022/05/183095/"
        );
    }

    // ----- Atom / JSON Feed ------------------------------------------------------------------

    /// Corpus row 10 (Bilaspur export-hub workshop), first paragraph: a real article body.
    const BILASPUR: &str = "बिलासपुर—-बिलासपुर जिले में निर्यात को बढ़ावा देने जिला पंचायत सभागार में एक दिवसीय कार्यशाला का आयोजन किया गया। कार्यक्रम में आलाधिकारियों समेत जिले के नामचीन उद्योगपतियों ने हिस्सा लिया। साथ ही स्वयं सहायता समूह के लोगों ने भी भाग लिया । बाहर से पहुंचे अधिकारियों ने बताया कि बिलासपुर में एक्सपोर्ट हब बनने की है पर्याप्त संभावना हैं। इस बात को लेकर अधिकारियों ने उद्योगपतियों समेत कार्यशाला में मौजूद सभी से संवाद भी किया है।";

    fn atom_feed() -> String {
        format!(
            r##"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>बिलासपुर समाचार</title>
  <id>urn:feed</id>
  <updated>2024-03-10T06:00:00Z</updated>
  <entry>
    <title type="html">बिलासपुर बनेगा एक्सपोर्ट हब &amp;#8211; DGFT &lt;em&gt;कार्यशाला&lt;/em&gt;</title>
    <link rel="alternate" type="text/html" href="/2024/03/export-hub"/>
    <link rel="enclosure" type="image/jpeg" href="/img/hub.jpg"/>
    <id>urn:1</id>
    <published>2024-03-09T20:00:00Z</published>
    <updated>2024-03-09T21:00:00Z</updated>
    <summary>छोटा सार</summary>
    <content type="html">&lt;p&gt;{BILASPUR}&lt;/p&gt;&lt;div class="sharedaddy"&gt;&lt;h3&gt;Share this:&lt;/h3&gt;&lt;a href="#"&gt;Facebook&lt;/a&gt;&lt;/div&gt;&lt;p&gt;ये भी पढ़ें: &lt;a href="/x"&gt;अन्य खबर&lt;/a&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>केवल सार</title>
    <link href="https://bilaspur.example/2024/03/only-summary/"/>
    <id>urn:2</id>
    <updated>2024-03-08T10:00:00Z</updated>
    <summary type="html">{BILASPUR}</summary>
  </entry>
  <entry>
    <title>छोटा कंटेंट</title>
    <link href="short"/>
    <id>urn:3</id>
    <updated>2024-03-08T10:00:00Z</updated>
    <content type="html">&lt;p&gt;बिलासपुर में कार्यशाला।&lt;/p&gt;</content>
  </entry>
  <entry><title>लिंक नहीं</title><id>urn:4</id><updated>2024-03-08T10:00:00Z</updated></entry>
</feed>"##
        )
    }

    #[test]
    fn atom_feed_body_title_link_date() {
        let base = Url::parse("https://bilaspur.example/news/feed.atom").unwrap();
        let entries = parse_feed(atom_feed().as_bytes(), &base, IN).unwrap();
        assert_eq!(entries.len(), 3, "{entries:#?}");
        let e = &entries[0];
        assert_eq!(
            e.url.as_str(),
            "https://bilaspur.example/2024/03/export-hub"
        );
        assert_eq!(e.title, "बिलासपुर बनेगा एक्सपोर्ट हब – DGFT कार्यशाला");
        assert_eq!(e.published, Some(date("2024-03-10")), "published, in IST");
        let body = e.body.as_deref().unwrap();
        assert_eq!(body, BILASPUR, "share widget and ये भी पढ़ें line dropped");
        // Summary only → no body, and `updated` serves as the date.
        assert_eq!(entries[1].body, None);
        assert_eq!(entries[1].published, Some(date("2024-03-08")));
        // Content under 300 chars is an excerpt.
        assert_eq!(entries[2].body, None);
        assert_eq!(
            entries[2].url.as_str(),
            "https://bilaspur.example/news/short"
        );
    }

    #[test]
    fn json_feed_is_read() {
        let feed = serde_json::json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [
                {"id": "1", "url": "https://bilaspur.example/a", "title": "निर्यात &amp; कार्यशाला",
                 "content_html": format!("<p>{BILASPUR}</p>"), "date_published": "2024-03-09T19:00:00Z"},
                {"id": "2", "title": "no url", "content_text": "x"}
            ]
        });
        let base = Url::parse("https://bilaspur.example/feed.json").unwrap();
        let entries = parse_feed(feed.to_string().as_bytes(), &base, IN).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].title, "निर्यात & कार्यशाला");
        assert_eq!(entries[0].body.as_deref(), Some(BILASPUR));
        assert_eq!(entries[0].published, Some(date("2024-03-10")));
    }

    // ----- feed errors -----------------------------------------------------------------------

    fn feed_err(xml: &str) -> (String, Option<usize>, Option<usize>, String) {
        let base = Url::parse("https://x.example/feed/").unwrap();
        match parse_feed(xml.as_bytes(), &base, IN) {
            Err(e @ EntriesError::Feed { .. }) => {
                let shown = e.to_string();
                let EntriesError::Feed {
                    problem,
                    line,
                    column,
                    ..
                } = e
                else {
                    unreachable!()
                };
                (problem.unwrap_or_default(), line, column, shown)
            }
            other => panic!("expected a feed error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_xml_error_says_what_and_where() {
        let xml = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n<item><title>निर्यात</titel>\n</item></channel></rss>";
        let (problem, line, col, shown) = feed_err(xml);
        assert!(
            problem.contains("</titel>") && problem.contains("</title>"),
            "{shown}"
        );
        assert_eq!((line, col), (Some(3), Some(21)), "{shown}");
        assert!(shown.contains("line 3 column 21"), "{shown}");
    }

    #[test]
    fn truncated_feed_and_html_page_are_errors() {
        let whole = GP_FEED;
        let cut: String = whole.chars().take(whole.chars().count() / 2).collect();
        let (problem, line, _, shown) = feed_err(&cut);
        assert!(!problem.is_empty() && line.is_some(), "{shown}");

        let (problem, line, col, shown) =
            feed_err("<!DOCTYPE html>\n<html><body><p>Not found</p></body></html>");
        assert!(problem.contains("<html>"), "{shown}");
        assert_eq!((line, col), (Some(2), Some(1)));

        let (problem, ..) = feed_err("   ");
        assert!(problem.contains("empty"));
        assert!(
            parse_feed(
                b"\x00\xff garbage",
                &Url::parse("https://x.example/").unwrap(),
                IN
            )
            .is_err()
        );
    }

    #[test]
    fn xml_scanner_finds_bad_entities_and_unclosed_tags() {
        let p = locate_xml_problem(
            b"<rss version=\"2.0\"><channel><title>AT&T</title></channel></rss>",
        )
        .unwrap();
        assert!(p.what.contains("'&'"), "{}", p.what);
        assert_eq!(
            line_col(b"<rss version=\"2.0\"><channel><title>AT&T", p.offset).0,
            1
        );
        let p = locate_xml_problem(
            "<rss><channel><title>x &nbsp; y</title></channel></rss>".as_bytes(),
        )
        .unwrap();
        assert!(p.what.contains("&nbsp;"));
        let p = locate_xml_problem(b"<rss><channel><item>").unwrap();
        assert_eq!(p.what, "<item> is never closed");
        assert!(locate_xml_problem(GP_FEED.as_bytes()).is_none());
        assert!(locate_xml_problem(atom_feed().as_bytes()).is_none());
        // Columns count characters, not bytes.
        assert_eq!(line_col("ab\nनिर्<".as_bytes(), "ab\nनिर्".len()), (2, 5));
    }

    // ----- WordPress JSON (wp-td) ------------------------------------------------------------

    #[test]
    fn wp_td_pages_entries_dates_titles_bodies() {
        let m = manifest();
        let mut seen = 0;
        for (json, file) in [
            (TD_PAGE1, "sites/wp-td/wp-json-posts-page1.json"),
            (TD_PAGE2, "sites/wp-td/wp-json-posts-page2.json"),
        ] {
            let page = page_of_kind(&m, "wp-json", file);
            let items = page["items"].as_array().unwrap();
            let entries = parse_wp_posts(json, IN).unwrap();
            assert_eq!(entries.len(), items.len());
            for (e, item) in entries.iter().zip(items) {
                assert_eq!(e.url.as_str(), item["link"].as_str().unwrap());
                assert_eq!(e.title, item["title"].as_str().unwrap());
                let art = article(&m, item["article_file"].as_str().unwrap());
                assert_eq!(e.published, Some(date(art["published"].as_str().unwrap())));
                check_body(e, art);
                seen += 1;
            }
        }
        assert_eq!(seen, 4);
        let page2 = parse_wp_posts(TD_PAGE2, IN).unwrap();
        assert!(
            page2[0].title.ends_with("होती है – कलेक्टर"),
            "{}",
            page2[0].title
        );
    }

    #[test]
    fn wp_date_gmt_is_converted_to_ist() {
        let json = r#"[{"link":"https://cgsandesh.example/a/","date":"2024-03-10T01:30:00","date_gmt":"2024-03-09T20:00:00","title":{"rendered":"t"},"content":{"rendered":""}},
                       {"link":"https://cgsandesh.example/b/","date":"2024-03-10T01:30:00","title":{"rendered":"t"},"content":{"rendered":"<p>x</p>","protected":true}}]"#;
        let e = parse_wp_posts(json, IN).unwrap();
        assert_eq!(e[0].published, Some(date("2024-03-10")));
        assert_eq!(e[0].body, None, "empty content is no body");
        assert_eq!(
            e[1].published,
            Some(date("2024-03-10")),
            "falls back to `date`"
        );
        assert_eq!(e[1].body, None, "protected content is no body");
    }

    #[test]
    fn wp_in_article_ad_block_is_dropped() {
        let mut posts: Value = serde_json::from_str(TD_PAGE2).unwrap();
        let html = posts[1]["content"]["rendered"].as_str().unwrap().to_owned();
        // The tagDiv in-article ad exactly as the wp-td article page carries it.
        let ad = r#"<div class="td-a-rec td-a-rec-id-content_inline tdi_9 td_block_template_1"><span class="td-adspot-title">- Advertisement -</span><ins class="adsbygoogle" style="display:block; text-align:center;" data-ad-layout="in-article"></ins></div>"#;
        let with_ad = html.replacen("</p>", &format!("</p>\n{ad}"), 1);
        assert!(with_ad.contains("Advertisement"));
        posts[1]["content"]["rendered"] = Value::String(with_ad);
        let e = parse_wp_posts(&posts.to_string(), IN).unwrap();
        let body = e[1].body.as_deref().unwrap();
        assert!(!body.contains("Advertisement"), "{body}");
        let m = manifest();
        check_body(
            &e[1],
            article(
                &m,
                "sites/wp-td/2021/09/22/exporters-conclave-jagdalpur.html",
            ),
        );
    }

    #[test]
    fn wp_json_errors_say_where() {
        let bad = "[{\"link\": \"https://a.example/\",\n \"title\": {\"rendered\": \"x\"}\n";
        match parse_wp_posts(bad, IN) {
            Err(EntriesError::Json { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        let e = parse_wp_posts("[{\"link\": \"https://a.example/\",}]", IN).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad WordPress JSON at line 1 column 32: trailing comma"
        );

        let err = r#"{"code":"rest_post_invalid_page_number","message":"The page number requested is larger than the number of pages available.","data":{"status":400}}"#;
        let e = parse_wp_posts(err, IN).unwrap_err();
        assert!(matches!(&e, EntriesError::Shape { path, .. } if path == "$"));
        assert!(
            e.to_string().contains("rest_post_invalid_page_number"),
            "{e}"
        );

        let e = parse_wp_posts(r#"[{"link":"https://a.example/"}, 7]"#, IN).unwrap_err();
        assert!(
            matches!(&e, EntriesError::Shape { path, .. } if path == "$[1]"),
            "{e}"
        );
        assert!(matches!(
            parse_wp_posts("\"x\"", IN),
            Err(EntriesError::Shape { .. })
        ));
    }

    #[test]
    fn wp_posts_without_a_usable_link_are_skipped() {
        let json = r#"[{"title":{"rendered":"a"}},{"link":"/relative/"},{"link":"mailto:x@y.z"},{"link":42},
                       {"link":"https://a.example/p/?utm_source=x&id=1#c","title":"सादा शीर्षक"}]"#;
        let e = parse_wp_posts(json, IN).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].url.as_str(), "https://a.example/p/?id=1");
        assert_eq!(e[0].title, "सादा शीर्षक");
        assert_eq!(parse_wp_posts("[]", IN).unwrap(), vec![]);
    }

    #[test]
    fn wp_search_url_hindi_term() {
        let d = date("2024-03-01");
        for root in ["https://cgsandesh.example", "https://cgsandesh.example/"] {
            let u = wp_search_url(&Url::parse(root).unwrap(), "निर्यात", Some(d), 2, 100);
            assert_eq!(
                u.as_str(),
                "https://cgsandesh.example/wp-json/wp/v2/posts?search=%E0%A4%A8%E0%A4%BF%E0%A4%B0%E0%A5%8D%E0%A4%AF%E0%A4%BE%E0%A4%A4&after=2024-03-01T00%3A00%3A00&per_page=100&page=2&_fields=id%2Clink%2Ctitle%2Ccontent%2Cdate%2Cdate_gmt"
            );
            let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            assert_eq!(pairs[0], ("search".into(), "निर्यात".into()));
            assert_eq!(pairs[1], ("after".into(), "2024-03-01T00:00:00".into()));
        }
        let u = wp_search_url(
            &Url::parse("https://x.example/news/?old=1#f").unwrap(),
            "export promotion & more",
            None,
            1,
            25,
        );
        assert_eq!(
            u.as_str(),
            "https://x.example/news/wp-json/wp/v2/posts?search=export+promotion+%26+more&per_page=25&page=1&_fields=id%2Clink%2Ctitle%2Ccontent%2Cdate%2Cdate_gmt"
        );
    }

    #[test]
    fn wp_total_pages_header() {
        assert_eq!(wp_total_pages(Some("2")), 2);
        assert_eq!(wp_total_pages(Some(" 17 ")), 17);
        assert_eq!(wp_total_pages(None), 1);
        assert_eq!(wp_total_pages(Some("")), 1);
        assert_eq!(wp_total_pages(Some("two")), 1);
        assert_eq!(wp_total_pages(Some("0")), 1);
        assert_eq!(wp_total_pages(Some("-3")), 1);
    }

    // ----- templates -------------------------------------------------------------------------

    #[test]
    fn template_expands_newest_first() {
        let t = "https://dprcg.gov.in/news/date-wise-news/{date:%Y-%m-%d}";
        let urls = expand_date_template(t, date("2024-03-10"), 3).unwrap();
        assert_eq!(
            urls,
            [
                "https://dprcg.gov.in/news/date-wise-news/2024-03-10",
                "https://dprcg.gov.in/news/date-wise-news/2024-03-09",
                "https://dprcg.gov.in/news/date-wise-news/2024-03-08",
            ]
        );
        assert!(
            expand_date_template(t, date("2024-03-10"), 0)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn template_formats_and_several_placeholders() {
        let t =
            "https://x.example/{date:%Y}/{date:%m}/news-{date:%d.%m.%y}?d={date:%e-%b-%Y}&p={date}";
        let urls = expand_date_template(t, date("2024-03-01"), 2).unwrap();
        assert_eq!(
            urls,
            [
                "https://x.example/2024/03/news-01.03.24?d= 1-Mar-2024&p=2024-03-01",
                "https://x.example/2024/02/news-29.02.24?d=29-Feb-2024&p=2024-02-29",
            ]
        );
        // No placeholder: itself once, however many days.
        let plain = "https://dprcg.gov.in/news/district-news";
        assert_eq!(
            expand_date_template(plain, date("2024-03-01"), 5).unwrap(),
            [plain]
        );
        assert!(check_template(plain).is_ok());
        assert!(check_template(t).is_ok());
        // Percent-escapes outside placeholders are literal.
        let enc = "https://x.example/%E0%A4%A8/{date:%d%m%Y}";
        assert_eq!(
            expand_date_template(enc, date("2024-03-01"), 1).unwrap(),
            ["https://x.example/%E0%A4%A8/01032024"]
        );
    }

    #[test]
    fn template_stops_at_the_calendar_start() {
        let urls = expand_date_template("{date}", NaiveDate::MIN, 3).unwrap();
        assert_eq!(urls.len(), 1);
    }

    #[test]
    fn template_errors_name_template_and_problem() {
        let t = "https://x.example/{date:%Y-%m-%d";
        let e = check_template(t).unwrap_err();
        assert_eq!(
            e,
            TemplateError::Unclosed {
                template: t.into(),
                at: 18
            }
        );
        assert!(
            e.to_string().contains(t) && e.to_string().contains("not closed"),
            "{e}"
        );
        assert!(matches!(
            check_template("https://x.example/{date:%Y{x}"),
            Err(TemplateError::Unclosed { at: 18, .. })
        ));
        assert!(matches!(
            check_template("https://x.example/}"),
            Err(TemplateError::StrayClose { at: 18, .. })
        ));
        let e = check_template("https://x.example/{day:%d}").unwrap_err();
        assert!(matches!(&e, TemplateError::UnknownPlaceholder { name, .. } if name == "day:%d"));
        for bad in [
            "{date:%Q}",
            "{date:%Y-%}",
            "{date:}",
            "{date:%H%M}",
            "{date:%Y%z}",
        ] {
            let t = format!("https://x.example/{bad}");
            match check_template(&t) {
                Err(e @ TemplateError::BadFormat { .. }) => {
                    assert!(e.to_string().contains(&t), "{e}");
                }
                other => panic!("{bad}: {other:?}"),
            }
            assert!(expand_date_template(&t, date("2024-03-10"), 3).is_err());
            // Errors are reported even when no URL would be produced.
            assert!(expand_date_template(&t, date("2024-03-10"), 0).is_err());
        }
        // Char positions, not byte positions, after Devanagari.
        assert!(matches!(
            check_template("https://x.example/निर्यात/{date"),
            Err(TemplateError::Unclosed { at: 26, .. })
        ));
    }

    // ----- any input: no panic, and only plausible entries -------------------------------------

    /// What every entry promises: an http(s) URL, a title without control characters, and no
    /// date before 1990.
    fn plausible_entry(e: &Entry) -> bool {
        use chrono::Datelike;
        matches!(e.url.scheme(), "http" | "https")
            && !e.title.chars().any(|c| c.is_control())
            && e.published.is_none_or(|d| d.year() >= 1990)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_feed_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let base = Url::parse("https://x.example/feed/").unwrap();
            if let Ok(entries) = parse_feed(&bytes, &base, IN) {
                for e in &entries {
                    prop_assert!(plausible_entry(e), "{e:?}");
                }
            }
        }

        #[test]
        fn parse_feed_never_panics_on_feedlike_text(
            head in prop::sample::select(vec!["<rss version=\"2.0\"><channel><item>", "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>", "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[", "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\"><item>"]),
            body in "(<[a-z:]{1,8}( [a-z]{1,4}=\"[^\"]{0,8}\")?/?>|</[a-z:]{1,8}>|&[#a-z0-9]{0,5};?|[^<&]{0,12}|<!\\[CDATA\\[|\\]\\]>|निर्यात){0,30}",
        ) {
            let base = Url::parse("https://x.example/feed/").unwrap();
            if let Ok(entries) = parse_feed(format!("{head}{body}").as_bytes(), &base, IN) {
                for e in &entries {
                    prop_assert!(plausible_entry(e), "{e:?}");
                }
            }
        }

        #[test]
        fn parse_wp_posts_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(entries) = parse_wp_posts(&String::from_utf8_lossy(&bytes), IN) {
                for e in &entries {
                    prop_assert!(plausible_entry(e), "{e:?}");
                }
            }
        }

        #[test]
        fn parse_wp_posts_never_panics_on_jsonlike_text(
            s in "\\[(\\{(\"(link|title|content|rendered|date_gmt|date|protected)\":(\"[^\"]{0,12}\"|null|true|1|\\{)[,}]?)*\\}?,?){0,6}\\]?",
        ) {
            if let Ok(entries) = parse_wp_posts(&s, IN) {
                for e in &entries {
                    prop_assert!(plausible_entry(e), "{e:?}");
                }
            }
        }

        /// A template the validator accepts expands to between 1 and `days` URLs (none for 0),
        /// and one it refuses never expands.
        #[test]
        fn templates_expand_to_at_most_days_urls(t in "[a-z/:{}%YmdHbe-]{0,30}", days in 0u32..5) {
            let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
            let expanded = expand_date_template(&t, today, days);
            match check_template(&t) {
                Ok(()) => {
                    let urls = expanded.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(urls.len() <= days as usize);
                    prop_assert_eq!(urls.is_empty(), days == 0);
                }
                Err(_) => prop_assert!(expanded.is_err()),
            }
            let _ = expand_date_template(&t, NaiveDate::MIN, days);
        }
    }
}
