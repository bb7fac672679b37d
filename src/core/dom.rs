//! Parsing a page into a DOM within a budget: hostile pages must neither crash nor stall us.
//!
//! html5ever is a conforming parser, but two page shapes cost it far more than their size
//! suggests: elements nested tens of thousands deep (each start tag scans the whole stack of open
//! elements, so the cost grows with the square of the depth) and sheer size. [`parse`] refuses a
//! page nested deeper than [`Budget::max_depth`] after a linear pre-scan, feeds the parser in
//! chunks and gives up once [`Budget::max_time`] has passed. Every walk over the resulting tree in
//! this crate uses an explicit stack or the tree's flat iterators, never recursion, so depth can
//! never overflow a thread's stack.

use std::time::{Duration, Instant};

use html5ever::driver::{self, ParseOpts};
use html5ever::tendril::{StrTendril, TendrilSink};
use scraper::{Html, HtmlTreeSink};

/// How much a page may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Deepest element nesting accepted (browsers stop nesting at 512; real pages stay far below).
    pub max_depth: usize,
    /// Longest the parser may run on one page.
    pub max_time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_depth: 2_000,
            max_time: Duration::from_secs(10),
        }
    }
}

/// Why a page was not parsed. Both are properties of the page: retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the page nests elements at least {depth} deep (limit {limit}); refused as malformed")]
    TooDeep { depth: usize, limit: usize },
    #[error("parsing the page took longer than {secs} s; refused")]
    TooSlow { secs: u64 },
}

/// Bytes fed to the parser between two looks at the clock.
const CHUNK: usize = 32 * 1024;

/// Parse a whole document within `budget`.
pub fn parse(html: &str, budget: Budget) -> Result<Html, ParseError> {
    let depth = nesting_depth(html, budget.max_depth);
    if depth > budget.max_depth {
        return Err(ParseError::TooDeep {
            depth,
            limit: budget.max_depth,
        });
    }
    let started = Instant::now();
    let mut parser = driver::parse_document(
        HtmlTreeSink::new(Html::new_document()),
        ParseOpts::default(),
    );
    let mut rest = html;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
        if started.elapsed() > budget.max_time {
            return Err(ParseError::TooSlow {
                secs: budget.max_time.as_secs(),
            });
        }
    }
    Ok(parser.finish())
}

/// Elements whose end tag may be omitted, or that never have content: a page may leave them
/// open without nesting anything (`<p>a<p>b`, `<li>`, `<br>`), so they do not count as depth.
fn counts_as_nesting(name: &str) -> bool {
    !matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "p"
            | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "rb"
            | "rt"
            | "rp"
            | "html"
            | "head"
            | "body"
    )
}

/// Elements whose content is raw text up to their own end tag.
fn is_raw_text(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "textarea" | "title" | "xmp" | "iframe" | "noembed" | "noframes"
    )
}

/// The deepest nesting of start tags over end tags, scanned linearly over the markup; stops
/// early once `limit` is exceeded. An estimate (it does not run the tree builder's rules), used
/// only to refuse pathological pages before the parser pays a quadratic price for them.
pub fn nesting_depth(html: &str, limit: usize) -> usize {
    let b = html.as_bytes();
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut i = 0usize;
    while let Some(off) = memchr(b'<', &b[i..]) {
        i += off + 1;
        if b[i..].starts_with(b"!--") {
            i = find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'-') {
            end += 1;
        }
        if end == start || !b[start].is_ascii_alphabetic() {
            continue;
        }
        let name = html[start..end].to_ascii_lowercase();
        let Some(gt) = memchr(b'>', &b[end..]).map(|o| end + o) else {
            break;
        };
        i = gt + 1;
        if closing {
            if counts_as_nesting(&name) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        if is_raw_text(&name) {
            let close = format!("</{name}");
            i = find_ci(b, i, close.as_bytes())
                .and_then(|c| memchr(b'>', &b[c..]).map(|o| c + o + 1))
                .unwrap_or(b.len());
            continue;
        }
        let self_closing = gt > 0 && b[gt - 1] == b'/';
        if counts_as_nesting(&name) && !self_closing {
            depth += 1;
            if depth > max {
                max = depth;
                if max > limit {
                    return max;
                }
            }
        }
    }
    max
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// A document whose body holds `depth` nested `<div>`s around `text`, built directly (the parser
/// would take minutes): what a hostile page looks like once parsed. For tests of tree walks.
#[cfg(test)]
pub(crate) fn deep_document(depth: usize, text: &str) -> Html {
    use html5ever::{QualName, local_name, ns};
    use scraper::node::{Element, Text};
    use scraper::{Node, Selector};
    let mut doc = Html::parse_document("<html><body></body></html>");
    let body_sel = Selector::parse("body").expect("selector");
    let mut at = doc.select(&body_sel).next().expect("body").id();
    for _ in 0..depth {
        let div = Node::Element(Element::new(
            QualName::new(None, ns!(html), local_name!("div")),
            Vec::new(),
        ));
        at = doc.tree.get_mut(at).expect("node").append(div).id();
    }
    doc.tree
        .get_mut(at)
        .expect("node")
        .append(Node::Text(Text { text: text.into() }));
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn nested(depth: usize) -> String {
        let mut s = String::from("<html><body>");
        for _ in 0..depth {
            s.push_str("<div>");
        }
        s.push_str("निर्यात");
        for _ in 0..depth {
            s.push_str("</div>");
        }
        s.push_str("</body></html>");
        s
    }

    #[test]
    fn a_page_nested_100000_deep_is_refused_without_parsing_it() {
        let page = nested(100_000);
        let err = parse(&page, Budget::default()).unwrap_err();
        assert!(
            matches!(err, ParseError::TooDeep { limit: 2_000, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("deep"), "{err}");
    }

    #[test]
    fn ordinary_nesting_and_unclosed_paragraphs_are_accepted() {
        let page = nested(300);
        let doc = parse(&page, Budget::default()).unwrap();
        assert!(doc.root_element().text().any(|t| t == "निर्यात"));
        // Thousands of paragraphs and list items left open are siblings, not nesting.
        let mut flat = String::from("<ul>");
        for i in 0..5_000 {
            flat.push_str(&format!("<li>{i}<p>x<br><img src=a.png>"));
        }
        assert!(
            nesting_depth(&flat, 2_000) < 5,
            "{}",
            nesting_depth(&flat, 2_000)
        );
        assert!(parse(&flat, Budget::default()).is_ok());
    }

    #[test]
    fn tags_inside_scripts_and_comments_do_not_count() {
        let mut s = String::from("<script>");
        for _ in 0..5_000 {
            s.push_str("<div>");
        }
        s.push_str("</script><!--");
        for _ in 0..5_000 {
            s.push_str("<div>");
        }
        s.push_str("--><div>x</div>");
        assert_eq!(nesting_depth(&s, 2_000), 1);
    }

    #[test]
    fn the_time_budget_stops_the_parser() {
        let page = "<p>x</p>".repeat(200_000);
        let err = parse(
            &page,
            Budget {
                max_depth: 2_000,
                max_time: Duration::ZERO,
            },
        )
        .unwrap_err();
        assert_eq!(err, ParseError::TooSlow { secs: 0 });
        assert!(parse(&page, Budget::default()).is_ok());
    }

    #[test]
    fn multibyte_text_across_chunk_boundaries_is_kept_whole() {
        let body = "निर्यात संवर्धन ".repeat(10_000);
        let doc = parse(&format!("<p>{body}</p>"), Budget::default()).unwrap();
        let text: String = doc.root_element().text().collect();
        assert_eq!(text, body);
    }
}
