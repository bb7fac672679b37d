//! Parsing a page into a DOM within a budget: hostile pages must neither crash nor stall us.
//!
//! html5ever is a conforming parser, but two page shapes cost it far more than their size
//! suggests: elements nested tens of thousands deep (most start tags scan the whole stack of open
//! elements, so the cost grows with the square of the depth) and sheer size. [`parse`] first caps
//! the nesting at [`MAX_DEPTH`] as Chromium does (deeper elements become siblings; nothing is
//! dropped), then feeds the parser in chunks and gives up once [`Budget::max_time`] has passed.
//! Every walk over the resulting tree in this crate uses an explicit stack or the tree's flat
//! iterators, never recursion, so depth can never overflow a thread's stack.

use std::time::{Duration, Instant};

use html5ever::driver::{self, ParseOpts};
use html5ever::tendril::{StrTendril, TendrilSink};
use scraper::{Html, HtmlTreeSink};

// ---------------------------------------------------------------------------------------------
// The depth cap
// ---------------------------------------------------------------------------------------------

/// Deepest element nesting kept from a page. Chromium's HTML parser stops nesting at 512 too
/// (deeper elements become siblings), so real pages render no deeper than this.
pub const MAX_DEPTH: usize = 512;

/// Parses a page with its element nesting capped at [`MAX_DEPTH`], without a time budget: for
/// small documents (a feed entry's content, a fixture).
pub fn parse_html(html: &str) -> Html {
    Html::parse_document(&cap_depth(html))
}

/// Whether `name` is one of `names` (ASCII case-insensitive; `names` are lower-case).
fn one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Elements that never have children (no end tag).
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame",
];

/// Elements whose content is text up to their end tag (markup inside is not markup).
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
];

/// Start tags that close an open `<p>` (the common part of HTML's list).
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "div",
    "dl",
    "fieldset",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Pops the elements a start tag `name` closes implicitly (`<p>` after `<p>`, `<li>` after `<li>`,
/// cells and rows), so unclosed paragraphs and cells do not count as nesting.
fn close_implied(stack: &mut Vec<&str>, name: &str) {
    if one_of(name, CLOSES_P) && stack.last().is_some_and(|t| t.eq_ignore_ascii_case("p")) {
        stack.pop();
    }
    let closes: &[&str] = if name.eq_ignore_ascii_case("li") {
        &["li"]
    } else if one_of(name, &["dt", "dd"]) {
        &["dt", "dd"]
    } else if one_of(name, &["td", "th"]) {
        &["td", "th"]
    } else if name.eq_ignore_ascii_case("tr") {
        &["td", "th", "tr"]
    } else if one_of(name, &["tbody", "thead", "tfoot"]) {
        &["td", "th", "tr", "tbody", "thead", "tfoot"]
    } else if name.eq_ignore_ascii_case("option") {
        &["option"]
    } else {
        &[]
    };
    while stack.last().is_some_and(|t| one_of(t, closes)) {
        stack.pop();
    }
}

/// The page rewritten so that no element nests deeper than [`MAX_DEPTH`], the way Chromium builds
/// it: an element that would open below that depth becomes a sibling of the deepest open element
/// (an end tag for that one is inserted before it, and its own end tag is dropped later). Nothing
/// is removed: every element and every text stays. Linear in the page size; a page that is not
/// that deep comes back borrowed, unchanged.
pub fn cap_depth(html: &str) -> std::borrow::Cow<'_, str> {
    rewrite(html, false)
}

/// The page with its nesting capped ([`cap_depth`]) and what no reader of the tree looks at left
/// out, so that the parser does not tokenize it: the text of `<script>` and `<style>` elements
/// (the elements themselves stay, empty) and comments. Only where the end is certain: a comment
/// that ends at its first `-->` (not `<!-->`, `<!--->` or one holding `--!>`), a style or script
/// whose end tag is `</style` or `</script` followed by a space, `/` or `>`, and a script without
/// `<!--` (which could start the escaped states in which `</script>` does not end it). Anything
/// else goes to the parser unchanged. The text of the page is the same either way; the bench
/// pages (`bench/pages.py`) lose about a quarter of their bytes.
pub fn lighten(html: &str) -> std::borrow::Cow<'_, str> {
    rewrite(html, true)
}

fn rewrite(html: &str, elide: bool) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    // Elements closed early by the cap whose own end tag is still to come, by name.
    let mut closed: Vec<(&str, usize)> = Vec::new();
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut i = 0usize;
    let name_end = |from: usize| {
        b[from..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_')))
            .map_or(b.len(), |n| from + n)
    };
    let find = |from: usize, pat: &str| {
        let hay = b.get(from..)?;
        match pat.as_bytes() {
            [one] => memchr::memchr(*one, hay),
            many => memchr::memmem::find(hay, many),
        }
        .map(|n| from + n)
    };
    // Replaces html[from..to] by `with` in the output (built only once something changes).
    let edit =
        |out: &mut Option<String>, copied: &mut usize, from: usize, to: usize, with: &str| {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len() + 64));
            o.push_str(html.get(*copied..from).unwrap_or(""));
            o.push_str(with);
            *copied = to;
        };
    // Cleared for good at the first thing this scan does not follow exactly as html5ever's
    // tokenizer does (foreign content, `<script/>`, a script that may hold escaped markup, a raw
    // text without its end tag); from there on nothing more is left out.
    let mut safe = elide;
    let is_space = |c: u8| matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    while let Some(lt) = find(i, "<") {
        let next = b.get(lt + 1).copied().unwrap_or(0);
        if b[lt..].starts_with(b"<!--") {
            // Where the tokenizer ends it: `<!-->` and `<!--->` at once, else at the first
            // `-->` or `--!>`.
            let body = lt + 4;
            let e = if b[body..].starts_with(b">") {
                Some(body + 1)
            } else if b[body..].starts_with(b"->") {
                Some(body + 2)
            } else {
                let a = find(body, "-->").map(|e| e + 3);
                let c = find(body, "--!>").map(|e| e + 4);
                a.into_iter().chain(c).min()
            };
            i = e.unwrap_or(b.len());
            match e {
                Some(e) if safe => edit(&mut out, &mut copied, lt, e, ""),
                Some(_) => {}
                None => safe = false,
            }
            continue;
        }
        if next == b'!' || next == b'?' {
            i = find(lt + 1, ">").map_or(b.len(), |e| e + 1);
            continue;
        }
        let closing = next == b'/';
        let start = if closing { lt + 2 } else { lt + 1 };
        if !b.get(start).is_some_and(u8::is_ascii_alphabetic) {
            i = match b.get(start) {
                // `</>` is dropped, `</` + anything else is a bogus comment up to `>`.
                Some(b'>') if closing => start + 1,
                Some(_) if closing => find(start, ">").map_or(b.len(), |e| e + 1),
                _ => lt + 1,
            };
            continue;
        }
        let ne = name_end(start);
        let name = &html[start..ne];
        // The tag as the tokenizer reads it: its name runs to a space, `/` or `>`; then
        // attributes, whose values only may be quoted (a quoted value may hold `>`).
        let mut j = ne;
        while j < b.len() && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        let full_name = &html[start..j];
        let mut self_closing = false;
        while j < b.len() {
            match b[j] {
                c if is_space(c) => j += 1,
                b'>' => break,
                b'/' => {
                    j += 1;
                    if b.get(j) == Some(&b'>') {
                        self_closing = true;
                        break;
                    }
                }
                _ => {
                    // An attribute name (a leading `=` belongs to it), then maybe `=` and a value.
                    j += 1;
                    while j < b.len() && !is_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
                        j += 1;
                    }
                    while j < b.len() && is_space(b[j]) {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'=') {
                        j += 1;
                        while j < b.len() && is_space(b[j]) {
                            j += 1;
                        }
                        match b.get(j) {
                            Some(&q) if q == b'"' || q == b'\'' => {
                                j = memchr::memchr(q, &b[j + 1..])
                                    .map_or(b.len(), |n| j + 1 + n + 1);
                            }
                            _ => {
                                while j < b.len() && !is_space(b[j]) && b[j] != b'>' {
                                    j += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        let end = (j + 1).min(b.len());
        i = end;
        if closing {
            if stack.last().is_some_and(|t| t.eq_ignore_ascii_case(name)) {
                stack.pop();
            } else if let Some(c) = closed
                .iter_mut()
                .find(|(n, k)| *k > 0 && n.eq_ignore_ascii_case(name))
            {
                // The end tag of an element the cap already closed.
                c.1 -= 1;
                edit(&mut out, &mut copied, lt, end, "");
            } else if let Some(pos) = stack.iter().rposition(|n| n.eq_ignore_ascii_case(name)) {
                stack.truncate(pos);
            }
            continue;
        }
        let raw = one_of(full_name, RAW_TEXT);
        if one_of(full_name, &["svg", "math", "plaintext"]) || (raw && self_closing) {
            // Foreign content (where <style> and <script> are elements and CDATA exists), a
            // page that is all text from here, or a raw-text tag written self-closing (which
            // HTML ignores and SVG does not).
            safe = false;
        }
        if self_closing || one_of(name, VOID) {
            continue;
        }
        if raw {
            // Skip to its end tag (`</name` and a space, `/` or `>`); the end tag itself is then
            // read (and ignored) by the loop.
            let n = full_name.len();
            let mut k = end;
            let found = loop {
                match find(k, "</") {
                    Some(p)
                        if b.get(p + 2..p + 2 + n)
                            .is_some_and(|m| m.eq_ignore_ascii_case(full_name.as_bytes()))
                            && b.get(p + 2 + n)
                                .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>') =>
                    {
                        break Some(p);
                    }
                    Some(p) => k = p + 2,
                    None => break None,
                }
            };
            i = found.unwrap_or(b.len());
            let script = full_name.eq_ignore_ascii_case("script");
            if found.is_none() || (script && memchr::memmem::find(&b[end..i], b"<!--").is_some()) {
                safe = false;
            }
            if safe && i > end && (script || full_name.eq_ignore_ascii_case("style")) {
                edit(&mut out, &mut copied, end, i, "");
            }
            continue;
        }
        close_implied(&mut stack, name);
        if stack.len() >= MAX_DEPTH
            && let Some(top) = stack.pop()
        {
            match closed.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(top)) {
                Some(c) => c.1 += 1,
                None => closed.push((top, 1)),
            }
            edit(&mut out, &mut copied, lt, lt, &format!("</{top}>"));
        }
        stack.push(name);
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(html.get(copied..).unwrap_or(""));
            std::borrow::Cow::Owned(o)
        }
    }
}

/// How much a page may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Longest the parser may run on one page (`[fetch] parse_timeout`).
    pub max_time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_time: Duration::from_secs(10),
        }
    }
}

/// Why a page was not parsed: a property of the page, so retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("parsing the page took longer than {} (parse_timeout); refused", humantime::format_duration(*.0))]
    TooSlow(Duration),
}

/// Bytes fed to the parser between two looks at the clock.
const CHUNK: usize = 32 * 1024;

/// Parse a whole document, nesting capped and lightened ([`lighten`]), within `budget`. A page that fits in one chunk is
/// always parsed; a longer one is given up when the budget is spent before its end.
pub fn parse(html: &str, budget: Budget) -> Result<Html, ParseError> {
    let html = lighten(html);
    let started = Instant::now();
    let mut parser = driver::parse_document(
        HtmlTreeSink::new(Html::new_document()),
        ParseOpts::default(),
    );
    let mut rest: &str = &html;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
        if !rest.is_empty() && started.elapsed() > budget.max_time {
            return Err(ParseError::TooSlow(budget.max_time));
        }
    }
    Ok(parser.finish())
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
    use proptest::prelude::*;

    /// Every text of a parsed page outside `<script>` and `<style>`, in document order, with the
    /// names of the elements and their attributes: what readers of the tree can see.
    fn visible(doc: &Html) -> String {
        let mut out = String::new();
        for node in doc.tree.root().descendants() {
            match node.value() {
                scraper::Node::Element(e) => {
                    out.push_str(&format!("<{}", e.name()));
                    for (k, v) in e.attrs() {
                        out.push_str(&format!(" {k}={v:?}"));
                    }
                    out.push('>');
                }
                scraper::Node::Text(t) => {
                    let hidden = node
                        .parent()
                        .and_then(|p| p.value().as_element())
                        .is_some_and(|e| matches!(e.name(), "script" | "style"));
                    if !hidden {
                        out.push_str(t);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Pieces of markup that make scripts, styles and comments end somewhere else than they seem to.
    const TRICKY: &[&str] = &[
        "<p>निर्यात",
        "</p>",
        "<script>",
        "</script>",
        "</script ",
        "</scripts>",
        "<script type=\"x\">var a = '</p>';",
        "<!--",
        "-->",
        "--!>",
        "<!-->",
        "<!--->",
        "<style>",
        "</style>",
        "</styles>",
        "p { color: red }",
        "<textarea>",
        "</textarea>",
        "<title>",
        "</title>",
        "<svg>",
        "</svg>",
        "<div class=\"a\">",
        "</div>",
        " बैठक ",
        "a<b",
        ">",
        "<script/>",
        "<noscript>",
        "</noscript>",
        "<a title='x>",
        "'>",
        "<p \"a>",
        "</ x>",
        "</>",
        "<!DOCTYPE html>",
        "<?x>",
        "<math>",
        "<template>",
        "<script.x>",
        "<p a=b\"c>",
        "<p =x>",
        "<style/>",
        "<img src=x/>",
    ];

    #[test]
    fn lightening_drops_scripts_styles_and_comments_only() {
        let page = "<html><head><style>body { margin: 0 }</style><script>var x = 1;</script></head>\
                    <body><!-- menu --><p>निर्यात<!-- x --> बैठक</p><script src=\"a.js\"></script>\
                    <script><!-- document.write('<script>y</script>'); --></script><p>end</p></body></html>";
        let light = lighten(page);
        assert!(!light.contains("margin") && !light.contains("var x") && !light.contains("menu"));
        assert!(
            light.contains("document.write"),
            "a script holding <!-- is kept whole"
        );
        assert!(
            light.contains("<style></style><script></script>"),
            "{light}"
        );
        assert_eq!(
            visible(&parse(page, Budget::default()).expect("parsed")),
            visible(&Html::parse_document(page))
        );
        assert_eq!(
            cap_depth(page),
            std::borrow::Cow::Borrowed(page),
            "cap_depth alone changes nothing"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// However scripts, styles and comments are cut, the parsed page shows the same elements
        /// and texts lightened or not.
        #[test]
        fn lightening_never_changes_what_a_page_shows(
            pieces in proptest::collection::vec(proptest::sample::select(TRICKY), 0..24)
        ) {
            let page = pieces.concat();
            prop_assert_eq!(
                visible(&parse(&page, Budget::default()).expect("parsed")),
                visible(&Html::parse_document(&page)),
                "{}", page
            );
        }
    }

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

    /// A budget no loaded CI machine reaches: these tests are about what parsing does, not how
    /// fast (the budget itself is tested with a zero budget).
    const UNHURRIED: Budget = Budget {
        max_time: Duration::from_secs(600),
    };

    #[test]
    fn a_page_nested_100000_deep_is_parsed_flattened_in_bounded_work() {
        let doc = parse(&nested(100_000), UNHURRIED).unwrap();
        assert!(doc.root_element().text().any(|t| t == "निर्यात"));
    }

    #[test]
    fn the_time_budget_stops_the_parser_but_never_a_one_chunk_page() {
        let page = "<p>x</p>".repeat(200_000);
        let none = Budget {
            max_time: Duration::ZERO,
        };
        let err = parse(&page, none).unwrap_err();
        assert_eq!(err, ParseError::TooSlow(Duration::ZERO));
        assert!(err.to_string().contains("parse_timeout"), "{err}");
        assert!(parse(&page, UNHURRIED).is_ok());
        assert!(parse("<p>one chunk</p>", none).is_ok());
    }

    #[test]
    fn multibyte_text_across_chunk_boundaries_is_kept_whole() {
        let body = "निर्यात संवर्धन ".repeat(10_000);
        let doc = parse(&format!("<p>{body}</p>"), UNHURRIED).unwrap();
        let text: String = doc.root_element().text().collect();
        assert_eq!(text, body);
    }
}
