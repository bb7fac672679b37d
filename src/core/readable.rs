//! Automatic main-text extraction from news pages (no selectors needed), plus publication dates.
//!
//! Owns: choosing the article container on a page by text density and link density (in the spirit of
//! readability/trafilatura: the best-scoring block, promoted to the ancestor of several strong blocks,
//! with its same-class siblings), removing boilerplate inside it (menus, share widgets, related-news
//! blocks, tickers, ad labels, sidebars, WordPress comment forms, the h1 headline), a schema.org
//! `articleBody` when the page shows only the start of it, the page title, and the publication date
//! from `article:published_time`, JSON-LD `datePublished`, `time[datetime]` or the URL (dated slugs and
//! the Unix-time ids of dprcg.gov.in). The Hindi dateline inside the body is parsed elsewhere.
//! [`read_article`] is what the pipeline and `niryat extract` call: selectors first, then this.
//!
//! Everything here is pure and never panics on arbitrary input: the tree is walked iteratively (deep tag
//! soup cannot overflow the stack), pages nested deeper than [`super::dom::MAX_DEPTH`] are flattened before
//! parsing (bounded work), and text is measured in chars, never sliced by byte index.

use std::cell::OnceCell;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use unicode_normalization::UnicodeNormalization;

use super::article::Extraction;
use super::dom::parse_html;
use super::page::{ArticleRules, extract_article};

/// What [`extract`] found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// `og:title`, else the `h1` of the article (inside or above the chosen container), else `<title>`
    /// without its " – Site name" suffix.
    pub title: Option<String>,
    /// Paragraphs joined with `"\n"`; whitespace collapsed inside paragraphs; NFC.
    pub body: String,
    /// Publication date (dates with a UTC offset are converted to India time, +05:30, first).
    pub published: Option<NaiveDate>,
    /// Where `published` came from: `"article:published_time"`, `"json-ld"`, `"itemprop"`,
    /// `"time[datetime]"`, `"url"` or `"dprcg-id"`.
    pub date_source: Option<&'static str>,
}

/// Fewer body chars than this (whitespace excluded) is not a plausible article.
const MIN_BODY_CHARS: usize = 80;
/// A text run shorter than this (whitespace excluded) does not vote for its container.
const MIN_RUN_CHARS: usize = 25;
const NONE: usize = usize::MAX;
/// How many of the best-scoring blocks are compared when choosing the container.
const TOP_CANDIDATES: usize = 5;
/// How many enclosing blocks above the container are searched for its h1 and date.
const MAX_CLIMB: usize = 8;

/// Builds a regex from a constant pattern. The patterns below are literals covered by the tests, so
/// a failure here is a programming error caught by every test run.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex") // compile-time constant pattern
}

/// Builds a selector from a constant string (same reasoning as [`re`]).
fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("constant selector") // compile-time constant selector
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// Finds the article's main text, title and publication date on a decoded page. `url` is the page's
/// address (used for URL dates). Returns `None` when no plausible article text is found.
pub fn extract(html: &str, url: &str, tz: Tz) -> Option<Extracted> {
    extract_doc(&parse_html(html), url, tz)
}

/// [`extract`] on a page already parsed (by [`super::dom::parse`]).
pub fn extract_doc(doc: &Html, url: &str, tz: Tz) -> Option<Extracted> {
    let arena = Arena::build(doc.root_element());

    let mut chosen = None;
    for mode in [Mode::Strict, Mode::Lenient] {
        if let Some(found) = extract_body(&arena, mode) {
            chosen = Some(found);
            break;
        }
    }
    let (body, roots, mode) = chosen?;

    let title = find_title(doc, &arena, &roots);
    // A headline repeated as the body's first line (bold title inside the container) is not body.
    let body = match (&title, body.split_once('\n')) {
        (Some(t), Some((first, rest))) if first == t => rest.to_string(),
        _ => body,
    };
    let ld = linked_data(doc);
    let body = fuller_declared_body(&ld, &body).unwrap_or(body);
    let (published, date_source) = match find_date(doc, &ld, &arena, &roots, mode, (url, tz)) {
        Some((d, s)) => (Some(d), Some(s)),
        None => (None, None),
    };
    Some(Extracted {
        title,
        body,
        published,
        date_source,
    })
}

/// What niryat reads from an article page: the source's `[sources.article]` selectors first, the
/// automatic extractor when there are none or they find no body. The pipeline and `niryat extract`
/// both read pages through this, so what `extract` shows is what gets classified.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Empty when none was found.
    pub title: String,
    /// Empty when no article text was found.
    pub body: String,
    pub published: Option<NaiveDate>,
    /// Where `published` came from: an [`Extracted::date_source`], or `"date selector"`.
    pub date_source: Option<&'static str>,
    /// Selectors, automatic, or none when neither found a body.
    pub method: Extraction,
    /// Selectors were given but their `body` matched no text (the automatic extractor was used).
    pub selectors_missed: bool,
}

/// Reads a parsed article page: `rules` first when given, else (or when they find no body)
/// [`extract_doc`]. `url` is the page's address, for URL dates (may be empty).
pub fn read_article(doc: &Html, url: &str, rules: Option<&ArticleRules>, tz: Tz) -> Reading {
    let url_date = date_from_url_with_source(url, tz);
    let selected = rules.map(|r| extract_article(doc, r));
    if let Some(Ok(a)) = selected {
        let (published, date_source) = match (a.published, url_date) {
            (Some(d), _) => (Some(d), Some("date selector")),
            (None, Some((d, s))) => (Some(d), Some(s)),
            (None, None) => (None, None),
        };
        return Reading {
            title: a.title,
            body: a.body,
            published,
            date_source,
            method: Extraction::Selectors,
            selectors_missed: false,
        };
    }
    let selectors_missed = rules.is_some();
    match extract_doc(doc, url, tz) {
        Some(x) => Reading {
            title: x.title.unwrap_or_default(),
            body: x.body,
            published: x.published,
            date_source: x.date_source,
            method: Extraction::Automatic,
            selectors_missed,
        },
        None => Reading {
            title: String::new(),
            body: String::new(),
            published: url_date.map(|(d, _)| d),
            date_source: url_date.map(|(_, s)| s),
            method: Extraction::None,
            selectors_missed,
        },
    }
}

/// Date from the URL alone.
///
/// * `https://dprcg.gov.in/post/<10-digit id>/…`: the id is the Unix time of publication; the date is
///   taken on India time (UTC+05:30, fixed offset).
/// * `/YYYY/MM/DD/` (WordPress dated permalinks) and `/DD/MM/YYYY/` (seen on some Hindi portals).
/// * `/YYYY/MM/<id>` (month without a day) gives `None` on purpose: inventing day 1 would be a wrong
///   date most of the time, and the body's dateline (parsed elsewhere) usually carries the day.
pub fn date_from_url(url: &str, tz: Tz) -> Option<NaiveDate> {
    date_from_url_with_source(url, tz).map(|(d, _)| d)
}

/// Text of the element(s) matched by a CSS selector, with the same boilerplate removal inside
/// (scripts, styles, share/related/comment blocks). Several matches are joined with `"\n"` (a match
/// nested inside an earlier match is not repeated). `None` when the selector is invalid, matches
/// nothing, or the matches hold no text.
pub fn text_of_selector(html: &str, selector: &str) -> Option<String> {
    let selector = Selector::parse(selector).ok()?;
    let doc = parse_html(html);
    let arena = Arena::build(doc.root_element());
    // Matches in document order; a match inside an earlier match is not descended into.
    let mut roots = Vec::new();
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if let Some(e) = arena.elem(i)
            && selector.matches(&e)
        {
            roots.push(i);
            continue;
        }
        stack.extend(arena.children(i).iter().rev());
    }
    let prune = prune_set(&arena, &roots, Mode::Strict);
    let parts: Vec<String> = roots
        .iter()
        .map(|&r| render(&walk(&arena, r, Mode::Strict, Some(&prune)).0))
        .filter(|t| !t.is_empty())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("\n"))
    }
}

// ---------------------------------------------------------------------------------------------
// A light arena over scraper's tree (ego_tree ids are not nameable without that crate)
// ---------------------------------------------------------------------------------------------

enum Kind<'a> {
    Elem(ElementRef<'a>),
    Text(&'a str),
}

struct ANode<'a> {
    kind: Kind<'a>,
    parent: usize,
    children: Vec<usize>,
}

struct Arena<'a> {
    nodes: Vec<ANode<'a>>,
    /// Boilerplate flags per node, computed once per [`Mode`] (Strict, Lenient).
    boiler: [OnceCell<Vec<bool>>; 2],
}

impl<'a> Arena<'a> {
    /// Copies the element and text nodes under `root` (index 0) into an arena, iteratively.
    fn build(root: ElementRef<'a>) -> Self {
        let mut nodes = vec![ANode {
            kind: Kind::Elem(root),
            parent: NONE,
            children: Vec::new(),
        }];
        let mut stack = vec![(*root, 0usize)];
        while let Some((node, idx)) = stack.pop() {
            for child in node.children() {
                let kind = match child.value() {
                    Node::Element(_) => match ElementRef::wrap(child) {
                        Some(e) => Kind::Elem(e),
                        None => continue,
                    },
                    Node::Text(t) => Kind::Text(t),
                    _ => continue,
                };
                let ci = nodes.len();
                nodes.push(ANode {
                    kind,
                    parent: idx,
                    children: Vec::new(),
                });
                nodes[idx].children.push(ci);
                stack.push((child, ci));
            }
        }
        Arena {
            nodes,
            boiler: [OnceCell::new(), OnceCell::new()],
        }
    }

    /// Whether node `i` is boilerplate in `mode` (cached classification).
    fn boiler(&self, i: usize, mode: Mode) -> bool {
        let slot = match mode {
            Mode::Strict => &self.boiler[0],
            Mode::Lenient => &self.boiler[1],
        };
        slot.get_or_init(|| {
            (0..self.nodes.len())
                .map(|n| classify_boilerplate(self, n, mode))
                .collect()
        })
        .get(i)
        .copied()
        .unwrap_or(false)
    }

    fn tag(&self, i: usize) -> &'a str {
        match self.nodes.get(i).map(|n| &n.kind) {
            Some(Kind::Elem(e)) => e.value().name(),
            _ => "",
        }
    }

    fn elem(&self, i: usize) -> Option<ElementRef<'a>> {
        match self.nodes.get(i).map(|n| &n.kind) {
            Some(Kind::Elem(e)) => Some(*e),
            _ => None,
        }
    }

    fn parent(&self, i: usize) -> usize {
        self.nodes.get(i).map_or(NONE, |n| n.parent)
    }

    fn children(&self, i: usize) -> &[usize] {
        self.nodes.get(i).map_or(&[], |n| n.children.as_slice())
    }

    /// Whether `a` is `d` or one of its ancestors.
    fn is_ancestor(&self, a: usize, d: usize) -> bool {
        let mut n = d;
        while n != NONE {
            if n == a {
                return true;
            }
            n = self.parent(n);
        }
        false
    }

    /// Pre-order descendants of `root` (root included), iteratively.
    fn descendants(&self, root: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            out.push(i);
            for &c in self.children(i).iter().rev() {
                stack.push(c);
            }
        }
        out
    }

    /// Text under `i` when its subtree has at most `max_nodes` nodes (bounded work on deep soup).
    fn small_text(&self, i: usize, max_nodes: usize) -> Option<String> {
        let mut s = String::new();
        let mut stack = vec![i];
        let mut seen = 0;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > max_nodes {
                return None;
            }
            match self.nodes.get(n).map(|x| &x.kind) {
                Some(Kind::Text(t)) => {
                    s.push_str(t);
                    s.push(' ');
                }
                Some(Kind::Elem(_)) => stack.extend(self.children(n).iter().rev()),
                None => {}
            }
        }
        Some(collapse(&s))
    }

    /// The visible text under `i`, whitespace-collapsed: never the content of scripts, styles,
    /// templates and the like ([`is_skip_tag`]).
    fn text_of(&self, i: usize) -> String {
        let mut s = String::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            match self.nodes.get(n).map(|x| &x.kind) {
                Some(Kind::Text(t)) => {
                    s.push_str(t);
                    s.push(' ');
                }
                Some(Kind::Elem(e)) if n == i || !is_skip_tag(e.value().name()) => {
                    stack.extend(self.children(n).iter().rev());
                }
                _ => {}
            }
        }
        collapse(&s)
    }
}

// ---------------------------------------------------------------------------------------------
// Boilerplate classification
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Drop by tag, by hidden attributes and by class/id names.
    Strict,
    /// Drop by tag and hidden attributes only (retry when Strict finds nothing).
    Lenient,
}

/// Elements whose whole subtree is never article text.
fn is_skip_tag(tag: &str) -> bool {
    matches!(
        tag,
        "head"
            | "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "svg"
            | "math"
            | "canvas"
            | "object"
            | "embed"
            | "video"
            | "audio"
            | "select"
            | "option"
            | "textarea"
            | "button"
            | "input"
            | "marquee"
            | "figcaption"
            | "dialog"
    )
}

/// Page-structure elements that hold chrome on modern pages, skipped in [`Mode::Strict`] only:
/// old ASP.NET portals wrap the whole page in one `<form>`, which [`Mode::Lenient`] then reads.
fn is_chrome_tag(tag: &str) -> bool {
    matches!(tag, "form" | "nav" | "aside" | "footer" | "header" | "menu")
}

/// Elements that start a new text block (everything else is inline).
fn is_block_tag(tag: &str) -> bool {
    matches!(
        tag,
        "html"
            | "body"
            | "p"
            | "div"
            | "section"
            | "article"
            | "main"
            | "td"
            | "th"
            | "tr"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "caption"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "address"
            | "center"
            | "hr"
            | "fieldset"
            | "details"
            | "summary"
            | "hgroup"
    )
}

/// Blocks that are paragraphs: their text votes for their parent, not for themselves.
fn is_para_tag(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "pre" | "blockquote" | "li" | "dd" | "dt" | "h2" | "h3" | "h4" | "h5" | "h6"
    )
}

/// Class/id tokens that mark boilerplate whatever else the element is called.
static STRONG_NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|menubar|sidebar|widget|widgets|widget-area|footer|comment|comments|commentlist|commentform|respond|reply|related|relatedposts|jp-relatedposts|yarpp|crp|share|shares|sharing|sharedaddy|addtoany|a2a|social|socials|ticker|breaking|marquee|ad|ads|adsbygoogle|advert|adverts|advertisement|advertise|sponsor|sponsored|promo|popup|modal|cookie|newsletter|subscribe|breadcrumb|breadcrumbs|pagination|pager|byline|author|meta|tags|tagcloud|print|skip-link|secondary|colophon|masthead|latest|trending|popular|recent|more-news|also-read)(?:$|[-_\s])",
    )
});

/// Class/id tokens that mark boilerplate unless a positive token is present too.
static WEAK_NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:^|[-_\s])(?:header|banner|top-bar|topbar|bottom|hidden|hide|toolbar|copyright|logo)(?:$|[-_\s])",
    )
});

/// Class/id tokens that suggest article content.
static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:^|[-_\s])(?:article|content|entry|post|body|story|text|main|single|detail|details|news-detail|field-item|field-items|td-post-content|blog|page-content|description)(?:$|[-_\s])",
    )
});

/// The class and id of an element, lower-cased, without WordPress taxonomy classes such as
/// `tag-breaking-news` or `category-ads` (their slugs say nothing about layout).
fn class_id(e: &ElementRef<'_>) -> String {
    let v = e.value();
    let mut s = String::new();
    for c in v.classes() {
        let lc = c.to_lowercase();
        if [
            "tag-",
            "category-",
            "format-",
            "status-",
            "type-",
            "postid-",
        ]
        .iter()
        .any(|p| lc.starts_with(p))
        {
            continue;
        }
        s.push_str(&lc);
        s.push(' ');
    }
    if let Some(id) = v.id() {
        s.push_str(&id.to_lowercase());
    }
    s
}

fn hidden(e: &ElementRef<'_>) -> bool {
    let v = e.value();
    if v.attr("hidden").is_some() || v.attr("aria-hidden") == Some("true") {
        return true;
    }
    v.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.to_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Whether element `i` (not the walk root) is boilerplate in `mode`.
fn is_boilerplate(arena: &Arena<'_>, i: usize, mode: Mode) -> bool {
    arena.boiler(i, mode)
}

fn classify_boilerplate(arena: &Arena<'_>, i: usize, mode: Mode) -> bool {
    let Some(e) = arena.elem(i) else {
        return false;
    };
    let tag = e.value().name();
    if is_skip_tag(tag) || hidden(&e) {
        return true;
    }
    if mode == Mode::Strict && is_chrome_tag(tag) {
        return true;
    }
    if mode == Mode::Lenient || matches!(tag, "html" | "body" | "article" | "main") {
        return false;
    }
    let ci = class_id(&e);
    if ci.is_empty() {
        return false;
    }
    // `hentry`/`type-post` wrappers are the post itself, whatever other tokens they carry.
    if ci.contains("hentry") {
        return false;
    }
    STRONG_NEGATIVE.is_match(&ci) || (WEAK_NEGATIVE.is_match(&ci) && !POSITIVE.is_match(&ci))
}

/// Score bonus from tag and class/id names, applied once per candidate container.
fn init_score(arena: &Arena<'_>, i: usize) -> f64 {
    let Some(e) = arena.elem(i) else {
        return 0.0;
    };
    let mut s = match e.value().name() {
        "article" => 10.0,
        "div" | "main" => 5.0,
        "section" => 3.0,
        "td" | "pre" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let ci = class_id(&e);
    if POSITIVE.is_match(&ci) {
        s += 25.0;
    }
    if STRONG_NEGATIVE.is_match(&ci) || WEAK_NEGATIVE.is_match(&ci) {
        s -= 25.0;
    }
    s
}

/// A whole line (whitespace collapsed, case-folded) that is chrome, not article text.
static BOILER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:advertisements?|advertisment|advertise with us|sponsored(?: content)?|विज्ञापन|ads|ad|share|share this(?: article| post| story)?|share (?:on|via) (?:facebook|twitter|x|whatsapp|telegram|linkedin|pinterest|email|koo)|tweet|whatsapp|facebook|twitter|telegram|linkedin|pinterest|email|print|copy link|koo|शेयर(?: करें)?|related(?: news| articles?| posts?| stories)?|संबंधित (?:खबरें|ख़बरें|खबर|ख़बर|समाचार|पोस्ट|लेख)|(?:ये|यह|इसे|इन्हें) भी पढ़(?:ें|े)\b.*|you may (?:also )?like|more (?:stories|news|from .*)|latest (?:news|posts|stories)|recent posts|popular posts|most read|(?:ताज़ा|ताजा|लेटेस्ट|ताज़ा|ताजातरीन|ताज़ातरीन) (?:खबरें|ख़बरें|ख़बर|खबर|समाचार|न्यूज़|न्यूज)|trending(?: now| news)?|breaking(?: news)?|ब्रेकिंग(?: न्यूज़| न्यूज| खबर| ख़बर)?|leave a (?:reply|comment)|cancel reply|post comment|submit comment|\d* ?comments?|no comments(?: yet)?|your email address will not be published.*|required fields are marked.*|save my name, email.*|(?:name|email|website|comment)\s*\*?|टिप्पणी(?: करें| दें)?|प्रतिक्रिया दें|read more|और पढ़ें|पूरी खबर पढ़ें|आगे पढ़ें|continue reading.*|tags?\s*:.*|टैग्स?\s*:.*|filed under.*|categor(?:y|ies)\s*:.*|posted in.*|follow us.*|हमें फॉलो करें.*|join (?:us|our) .*|copyright.*|©.*|all rights reserved.*|(?:previous|next|prev) (?:post|article|story|news)|previous|next|पिछली (?:खबर|पोस्ट)|अगली (?:खबर|पोस्ट)|home|होम|मुख्य पृष्ठ|समाचार|news|press release|प्रेस विज्ञप्ति|skip to (?:main )?content|loading\W*|please wait.*)$",
    )
});

/// Text anywhere in a short line that marks it as chrome (comment form notes and the like).
static BOILER_SUBSTR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)your email address will not be published|required fields are marked|save my name, email|notify me of (?:follow-up|new posts)|share on (?:facebook|twitter|whatsapp)|(?:ये|यह|इसे) भी पढ़(?:ें|े)\s*[:：\-–]",
    )
});

/// A short heading that introduces a block of other stories or the comment area.
static SECTION_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\W*(?:related(?: news| articles?| posts?| stories)?|संबंधित (?:खबरें|ख़बरें|खबर|ख़बर|समाचार|पोस्ट|लेख)|(?:ये|यह|इसे|इन्हें) भी पढ़(?:ें|े)|you may (?:also )?like|more (?:stories|news)|latest (?:news|posts|stories)|recent posts|popular posts|most read|(?:ताज़ा|ताजा|लेटेस्ट|ताज़ा|ताजातरीन|ताज़ातरीन) (?:खबरें|ख़बरें|ख़बर|खबर|समाचार|न्यूज़|न्यूज)|trending(?: now| news)?|breaking(?: news)?|ब्रेकिंग(?: न्यूज़| न्यूज| खबर| ख़बर)?|leave a (?:reply|comment)|\d* ?comments?|टिप्पणियाँ|टिप्पणी(?: करें| दें)?)\W*$",
    )
});

// ---------------------------------------------------------------------------------------------
// Text runs
// ---------------------------------------------------------------------------------------------

/// One line of text (a `<br>` or a block boundary ends it).
#[derive(Default)]
struct Line {
    raw: String,
    chars: usize,
    link_chars: usize,
}

/// The inline text of one block between two nested blocks.
struct Run {
    owner: usize,
    lines: Vec<Line>,
}

impl Run {
    fn chars(&self) -> usize {
        self.lines.iter().map(|l| l.chars).sum()
    }
    fn link_chars(&self) -> usize {
        self.lines.iter().map(|l| l.link_chars).sum()
    }
}

fn non_ws_chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Per-node totals of the text that survives boilerplate removal.
#[derive(Clone, Copy, Default)]
struct Totals {
    chars: usize,
    link_chars: usize,
}

impl Totals {
    fn link_density(self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.chars as f64
        }
    }
}

enum Step {
    Open(usize),
    Close(usize),
}

/// Walks the subtree at `root` in document order, skipping boilerplate (and `prune`d nodes), and
/// returns its text runs plus per-node text totals.
fn walk(
    arena: &Arena<'_>,
    root: usize,
    mode: Mode,
    prune: Option<&[bool]>,
) -> (Vec<Run>, Vec<Totals>) {
    let mut totals = vec![Totals::default(); arena.nodes.len()];
    let mut runs: Vec<Run> = Vec::new();
    let mut blocks: Vec<Run> = Vec::new();
    let mut link_depth = 0usize;
    let mut stack = vec![Step::Open(root)];

    fn flush(run: &mut Run, runs: &mut Vec<Run>) {
        let lines: Vec<Line> = std::mem::take(&mut run.lines)
            .into_iter()
            .filter(|l| l.chars > 0)
            .collect();
        if !lines.is_empty() {
            runs.push(Run {
                owner: run.owner,
                lines,
            });
        }
    }

    while let Some(step) = stack.pop() {
        match step {
            Step::Open(i) => {
                let Some(node) = arena.nodes.get(i) else {
                    continue;
                };
                match &node.kind {
                    Kind::Text(t) => {
                        let n = non_ws_chars(t);
                        if n == 0 {
                            if let Some(run) = blocks.last_mut()
                                && let Some(line) = run.lines.last_mut()
                            {
                                line.raw.push(' ');
                            }
                            continue;
                        }
                        let is_link = link_depth > 0;
                        if let Some(run) = blocks.last_mut() {
                            if run.lines.is_empty() {
                                run.lines.push(Line::default());
                            }
                            if let Some(line) = run.lines.last_mut() {
                                line.raw.push_str(t);
                                line.chars += n;
                                if is_link {
                                    line.link_chars += n;
                                }
                            }
                        }
                        if let Some(tp) = totals.get_mut(node.parent) {
                            tp.chars += n;
                            if is_link {
                                tp.link_chars += n;
                            }
                        }
                    }
                    Kind::Elem(e) => {
                        if i != root
                            && (prune.is_some_and(|p| p.get(i).copied().unwrap_or(false))
                                || is_boilerplate(arena, i, mode))
                        {
                            continue;
                        }
                        let tag = e.value().name();
                        if tag == "br" {
                            if let Some(run) = blocks.last_mut() {
                                run.lines.push(Line::default());
                            }
                            continue;
                        }
                        if is_block_tag(tag) || i == root {
                            if let Some(run) = blocks.last_mut() {
                                flush(run, &mut runs);
                            }
                            blocks.push(Run {
                                owner: i,
                                lines: Vec::new(),
                            });
                        } else if tag == "a" {
                            link_depth += 1;
                        } else if matches!(tag, "img" | "wbr") {
                            continue;
                        }
                        stack.push(Step::Close(i));
                        for &c in node.children.iter().rev() {
                            stack.push(Step::Open(c));
                        }
                    }
                }
            }
            Step::Close(i) => {
                let tag = arena.tag(i);
                if is_block_tag(tag) || i == root {
                    if let Some(mut run) = blocks.pop() {
                        flush(&mut run, &mut runs);
                    }
                    // Text after a nested block continues on a fresh line of the outer block.
                } else if tag == "a" {
                    link_depth = link_depth.saturating_sub(1);
                }
                if i != root {
                    let t = totals.get(i).copied().unwrap_or_default();
                    if let Some(tp) = totals.get_mut(arena.parent(i)) {
                        tp.chars += t.chars;
                        tp.link_chars += t.link_chars;
                    }
                }
            }
        }
    }
    (runs, totals)
}

/// Whether `c` is NFC-stable in any context: below U+0300, Devanagari other than the nukta, the
/// Vedic stress marks and the nukta letters U+0958–U+095F (the only Devanagari code points that
/// reorder, compose or decompose under NFC), and general punctuation from U+200B.
fn nfc_stable(c: char) -> bool {
    let u = u32::from(c);
    u < 0x300
        || ((0x900..=0x97F).contains(&u)
            && u != 0x93C
            && !(0x951..=0x954).contains(&u)
            && !(0x958..=0x95F).contains(&u))
        || (0x200B..=0x206F).contains(&u)
        || u == 0x20B9
}

/// True when `s` is certainly NFC: every char is [`nfc_stable`], or is a nukta that neither
/// composes with the letter before it (न, र, ळ) nor follows another combining mark.
fn nfc_fast(s: &str) -> bool {
    let mut prev = 0u32;
    for c in s.chars() {
        let u = u32::from(c);
        let ok = if u == 0x93C {
            !matches!(prev, 0x928 | 0x930 | 0x933 | 0x93C | 0x94D | 0x951..=0x954)
        } else {
            nfc_stable(c)
        };
        if !ok {
            return false;
        }
        prev = u;
    }
    true
}

/// NFC, skipping the rebuild when the text is already normalised (a cheap per-char test for the
/// common Hindi/English case first, then the library's quick check).
fn nfc(s: String) -> String {
    if nfc_fast(&s)
        || unicode_normalization::is_nfc_quick(s.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        s
    } else {
        s.nfc().collect()
    }
}

/// Collapses whitespace runs to one space and trims.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps a line unless it is chrome: link lists, share/ad labels, comment-form notes.
fn keep_line(text: &str, line: &Line) -> bool {
    if line.chars == 0 {
        return false;
    }
    if line.link_chars * 2 > line.chars || !text.chars().any(char::is_alphanumeric) {
        return false;
    }
    let n = text.chars().count();
    let trimmed = text.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ':' | '|' | '-' | '–' | '—' | '»' | '›' | '•' | '·' | '*' | '[' | ']'
            )
    });
    if n <= 200 && BOILER_LINE.is_match(trimmed) {
        return false;
    }
    !(n <= 300 && BOILER_SUBSTR.is_match(text))
}

/// Renders runs to the body: one line per paragraph, collapsed, NFC, chrome lines dropped.
fn render(runs: &[Run]) -> String {
    let mut out: Vec<String> = Vec::new();
    for run in runs {
        for line in &run.lines {
            let text = nfc(collapse(&line.raw));
            if keep_line(&text, line) {
                out.push(text);
            }
        }
    }
    out.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Container choice
// ---------------------------------------------------------------------------------------------

/// Body text, the chosen container roots and the mode that found them.
fn extract_body(arena: &Arena<'_>, mode: Mode) -> Option<(String, Vec<usize>, Mode)> {
    let (runs, totals) = walk(arena, 0, mode, None);
    let mut score: Vec<Option<f64>> = vec![None; arena.nodes.len()];
    for run in &runs {
        let chars = run.chars();
        if chars < MIN_RUN_CHARS || run.link_chars() * 2 > chars {
            continue;
        }
        let punct: usize = run
            .lines
            .iter()
            .map(|l| {
                l.raw
                    .chars()
                    .filter(|c| matches!(c, ',' | '।' | '،'))
                    .count()
            })
            .sum();
        let content = 1.0 + punct as f64 + (chars / 100).min(3) as f64;
        let mut node = if is_para_tag(arena.tag(run.owner)) {
            arena.parent(run.owner)
        } else {
            run.owner
        };
        for level in 0..3 {
            if node == NONE {
                break;
            }
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f64 * 3.0,
            };
            let slot = &mut score[node];
            let base = slot.unwrap_or_else(|| init_score(arena, node));
            *slot = Some(base + content / div);
            node = arena.parent(node);
        }
    }
    let final_score = |i: usize| -> Option<f64> {
        score
            .get(i)
            .copied()
            .flatten()
            .map(|s| s * (1.0 - totals.get(i).copied().unwrap_or_default().link_density()))
    };
    // The best candidates, best first.
    let mut ranked: Vec<(usize, f64)> = (0..arena.nodes.len())
        .filter_map(|i| final_score(i).map(|s| (i, s)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(TOP_CANDIDATES);
    let &(mut top, top_score) = ranked.first()?;

    // An article split over several similar blocks: when at least three other strong candidates
    // sit under one ancestor of the best one, that ancestor holds the article.
    let close: Vec<usize> = ranked
        .iter()
        .skip(1)
        .filter(|&&(_, s)| s >= top_score * 0.75)
        .map(|&(i, _)| i)
        .collect();
    if close.len() >= 3 {
        let mut a = arena.parent(top);
        while a != NONE && !matches!(arena.tag(a), "body" | "html") {
            let inside = close.iter().filter(|&&c| arena.is_ancestor(a, c)).count();
            if inside >= 3 {
                top = a;
                break;
            }
            a = arena.parent(a);
        }
    }
    // A lone child says nothing its parent does not: take the parent, whose siblings are checked.
    while let p = arena.parent(top)
        && p != NONE
        && !matches!(arena.tag(p), "body" | "html")
        && arena
            .children(p)
            .iter()
            .filter(|&&c| arena.elem(c).is_some())
            .count()
            == 1
    {
        top = p;
    }
    let top_score = final_score(top).unwrap_or(top_score).max(top_score);
    let top_class = arena
        .elem(top)
        .and_then(|e| e.value().attr("class"))
        .filter(|c| !c.trim().is_empty());

    // Siblings that carry more of the same article (text split over sibling blocks).
    let parent = arena.parent(top);
    let mut roots = Vec::new();
    if parent == NONE || matches!(arena.tag(top), "body" | "html") {
        roots.push(top);
    } else {
        let threshold = (top_score * 0.2).max(10.0);
        for &s in arena.children(parent) {
            if s == top {
                roots.push(s);
                continue;
            }
            if arena.elem(s).is_none() || is_boilerplate(arena, s, mode) || arena.tag(s) == "h1" {
                continue;
            }
            let t = totals.get(s).copied().unwrap_or_default();
            // A sibling of the same class as the best block is another part of it.
            let same_class = top_class.is_some()
                && arena.elem(s).and_then(|e| e.value().attr("class")) == top_class;
            let bonus = if same_class { top_score * 0.2 } else { 0.0 };
            let include = match final_score(s) {
                Some(sc) if sc + bonus >= threshold => true,
                _ => {
                    arena.tag(s) == "p"
                        && t.link_density() < 0.25
                        && (t.chars > 80 || {
                            let text = arena.text_of(s);
                            text.ends_with('।') || text.ends_with('.')
                        })
                }
            };
            if include {
                roots.push(s);
            }
        }
    }

    let prune = prune_set(arena, &roots, mode);
    let mut parts = Vec::new();
    for &r in &roots {
        let (runs, _) = walk(arena, r, mode, Some(&prune));
        let text = render(&runs);
        if !text.is_empty() {
            parts.push(text);
        }
    }
    let body = parts.join("\n");
    if non_ws_chars(&body) < MIN_BODY_CHARS {
        return None;
    }
    Some((body, roots, mode))
}

/// Nodes to drop inside the chosen container: a "related news" / "ये भी पढ़ें" / "Leave a Reply"
/// heading, and either its whole enclosing block (when that block is mostly links) or the run of
/// link-heavy siblings that follow it.
fn prune_set(arena: &Arena<'_>, roots: &[usize], mode: Mode) -> Vec<bool> {
    let mut prune = vec![false; arena.nodes.len()];
    for &root in roots {
        let (_, totals) = walk(arena, root, mode, None);
        for i in arena.descendants(root) {
            if i == root || prune.get(i).copied().unwrap_or(true) {
                continue;
            }
            let tag = arena.tag(i);
            // The headline is the title, not body text.
            if tag == "h1" {
                if let Some(p) = prune.get_mut(i) {
                    *p = true;
                }
                continue;
            }
            if !(is_block_tag(tag) || matches!(tag, "span" | "strong" | "b")) {
                continue;
            }
            let t = totals.get(i).copied().unwrap_or_default();
            if t.chars == 0 || t.chars > 40 {
                continue;
            }
            let Some(text) = arena.small_text(i, 64) else {
                continue;
            };
            if !SECTION_HEADING.is_match(&text) {
                continue;
            }
            // Skip descendants of an already pruned node.
            let mut a = arena.parent(i);
            let mut inside = false;
            while a != NONE && a != root {
                if prune.get(a).copied().unwrap_or(false) {
                    inside = true;
                    break;
                }
                a = arena.parent(a);
            }
            if inside {
                continue;
            }
            // Climb to the nearest block holding the heading.
            let mut head = i;
            while !is_block_tag(arena.tag(head)) && arena.parent(head) != NONE && head != root {
                head = arena.parent(head);
            }
            if head == root {
                continue;
            }
            let parent = arena.parent(head);
            let pt = totals.get(parent).copied().unwrap_or_default();
            let ht = totals.get(head).copied().unwrap_or_default();
            let rest = Totals {
                chars: pt.chars.saturating_sub(ht.chars),
                link_chars: pt.link_chars.saturating_sub(ht.link_chars),
            };
            if parent != root && parent != NONE && rest.link_density() > 0.4 {
                if let Some(p) = prune.get_mut(parent) {
                    *p = true;
                }
                continue;
            }
            if let Some(p) = prune.get_mut(head) {
                *p = true;
            }
            // Following siblings that are lists of links.
            let sibs = arena.children(parent);
            if let Some(pos) = sibs.iter().position(|&s| s == head) {
                for &s in &sibs[pos + 1..] {
                    let st = totals.get(s).copied().unwrap_or_default();
                    if st.chars == 0 {
                        continue;
                    }
                    if st.link_density() > 0.4 {
                        if let Some(p) = prune.get_mut(s) {
                            *p = true;
                        }
                    } else {
                        break;
                    }
                }
            }
        }
    }
    prune
}

// ---------------------------------------------------------------------------------------------
// Title
// ---------------------------------------------------------------------------------------------

static OG_TITLE: LazyLock<Selector> =
    LazyLock::new(|| sel(r#"meta[property="og:title"], meta[name="og:title"]"#));
static OG_SITE: LazyLock<Selector> =
    LazyLock::new(|| sel(r#"meta[property="og:site_name"], meta[name="og:site_name"]"#));
static TITLE: LazyLock<Selector> = LazyLock::new(|| sel("title"));
static H1_KNOWN: LazyLock<Selector> = LazyLock::new(|| {
    sel(
        r#"h1.entry-title, h1.post-title, h1.tdb-title-text, h1[itemprop="headline"], h1.page-title"#,
    )
});

fn clean(s: &str) -> Option<String> {
    let c = nfc(collapse(s));
    if c.is_empty() { None } else { Some(c) }
}

/// Removes a trailing " – Site name" (or " | ", " - ", " :: ", " « ", " » ").
fn strip_site(title: &str, site: Option<&str>) -> String {
    const SEPS: [&str; 7] = [" – ", " — ", " | ", " - ", " :: ", " « ", " » "];
    if let Some(site) = site.filter(|s| !s.is_empty()) {
        for sep in SEPS {
            if let Some(head) = title.strip_suffix(site).and_then(|h| h.strip_suffix(sep)) {
                let head = head.trim();
                if !head.is_empty() {
                    return head.to_string();
                }
            }
        }
        return title.to_string();
    }
    let mut best: Option<(usize, usize)> = None; // (byte index of separator, its length)
    for sep in SEPS {
        if let Some(pos) = title.rfind(sep)
            && best.is_none_or(|(b, _)| pos > b)
        {
            best = Some((pos, sep.len()));
        }
    }
    if let Some((pos, len)) = best
        && let (Some(head), Some(tail)) = (title.get(..pos), title.get(pos + len..))
    {
        let (hn, tn) = (head.trim().chars().count(), tail.trim().chars().count());
        if hn > 0 && tn > 0 && tn <= 60 && tn < hn {
            return head.trim().to_string();
        }
    }
    title.to_string()
}

fn find_title(doc: &Html, arena: &Arena<'_>, roots: &[usize]) -> Option<String> {
    let site = doc
        .select(&OG_SITE)
        .find_map(|m| m.value().attr("content"))
        .and_then(clean);
    if let Some(og) = doc
        .select(&OG_TITLE)
        .find_map(|m| m.value().attr("content"))
        .and_then(clean)
    {
        return Some(match site.as_deref() {
            Some(site) => strip_site(&og, Some(site)),
            None => og,
        });
    }
    // h1 inside the container, then in its enclosing blocks (the post header), below <body>.
    let first_h1 = |root: usize| {
        arena
            .descendants(root)
            .into_iter()
            .find(|&i| arena.tag(i) == "h1" && !arena.text_of(i).is_empty())
            .map(|i| arena.text_of(i))
    };
    for &r in roots {
        if let Some(t) = first_h1(r).and_then(|t| clean(&t)) {
            return Some(t);
        }
    }
    if let Some(&r) = roots.first() {
        let mut a = arena.parent(r);
        let mut levels = 0;
        while a != NONE && levels < MAX_CLIMB && !matches!(arena.tag(a), "body" | "html") {
            if let Some(t) = first_h1(a).and_then(|t| clean(&t)) {
                return Some(t);
            }
            a = arena.parent(a);
            levels += 1;
        }
    }
    if let Some(t) = arena
        .descendants(0)
        .into_iter()
        .filter(|&i| arena.elem(i).is_some_and(|e| H1_KNOWN.matches(&e)))
        .find_map(|i| clean(&arena.text_of(i)))
    {
        return Some(t);
    }
    doc.select(&TITLE)
        .find_map(|t| clean(&t.text().collect::<String>()))
        .map(|t| strip_site(&t, site.as_deref()))
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

static META_PUBLISHED: LazyLock<Selector> = LazyLock::new(|| {
    sel(r#"meta[property="article:published_time"], meta[name="article:published_time"]"#)
});
static META_ITEMPROP: LazyLock<Selector> =
    LazyLock::new(|| sel(r#"meta[itemprop="datePublished"]"#));
static LD_JSON: LazyLock<Selector> = LazyLock::new(|| sel(r#"script[type="application/ld+json"]"#));
static LD_DATE_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r#""datePublished"\s*:\s*"([^"]{8,40})""#));

/// Parses an ISO-8601-ish date or date-time; a date-time with an offset is read on India time.
fn parse_date(s: &str, tz: Tz) -> Option<NaiveDate> {
    let s = s.trim();
    let with_offset = DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%z").ok());
    let d = if let Some(dt) = with_offset {
        dt.with_timezone(&tz).date_naive()
    } else if let Ok(ndt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        ndt.date()
    } else if let Ok(ndt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        ndt.date()
    } else {
        let head: String = s.chars().take(10).collect();
        NaiveDate::parse_from_str(&head, "%Y-%m-%d").ok()?
    };
    plausible(d)
}

fn plausible(d: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    (1995..=2100).contains(&d.year()).then_some(d)
}

/// `datePublished` in JSON-LD, preferring Article-like objects, looking inside `@graph` and arrays.
fn json_ld_date(ld: &LinkedData, tz: Tz) -> Option<NaiveDate> {
    let mut article = Vec::new();
    let mut other = Vec::new();
    for o in ld.values.iter().flat_map(json_objects) {
        if let Some(serde_json::Value::String(d)) = o.get("datePublished") {
            if is_article_type(o) {
                article.push(d);
            } else {
                other.push(d);
            }
        }
    }
    let raw = ld
        .unparsed
        .iter()
        .flat_map(|t| LD_DATE_RE.captures_iter(t).map(|c| c[1].to_string()));
    article
        .into_iter()
        .chain(other)
        .map(|d| parse_date(d, tz))
        .chain(raw.map(|d| parse_date(&d, tz)))
        .find_map(|d| d)
}

/// The page's JSON-LD scripts, read once: the parsed ones, and the text of those that are not
/// valid JSON (searched for dates by regex).
struct LinkedData {
    values: Vec<serde_json::Value>,
    unparsed: Vec<String>,
}

fn linked_data(doc: &Html) -> LinkedData {
    let mut ld = LinkedData {
        values: Vec::new(),
        unparsed: Vec::new(),
    };
    for script in doc.select(&LD_JSON) {
        let text: String = script.text().collect();
        match serde_json::from_str::<serde_json::Value>(text.trim()) {
            Ok(v) => ld.values.push(v),
            Err(_) => ld.unparsed.push(text),
        }
    }
    ld
}

/// Every JSON object inside `v` (itself included), in document order, walked iteratively.
fn json_objects(v: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Array(a) => stack.extend(a.iter().rev()),
            serde_json::Value::Object(o) => {
                out.push(o);
                stack.extend(o.values().rev());
            }
            _ => {}
        }
    }
    out
}

/// A schema.org object whose `@type` names an article (NewsArticle, BlogPosting, Report …).
fn is_article_type(o: &serde_json::Map<String, serde_json::Value>) -> bool {
    let ty = o.get("@type").map(|t| t.to_string()).unwrap_or_default();
    ty.contains("Article") || ty.contains("BlogPosting") || ty.contains("Report")
}

/// The longest plain-text schema.org `articleBody` of an article object on the page.
fn json_ld_body(ld: &LinkedData) -> Option<&str> {
    ld.values
        .iter()
        .flat_map(json_objects)
        .filter(|o| is_article_type(o))
        .filter_map(|o| match o.get("articleBody") {
            Some(serde_json::Value::String(b)) if !b.contains("</") => Some(b.as_str()),
            _ => None,
        })
        .max_by_key(|b| b.len())
}

/// The page's schema.org `articleBody` instead of `body` when the page shows only the start of
/// the article (paywalls, "read more" pages, lazy-loaded text): the declared body is at least half
/// as long again and begins like, or holds the start of, what the page shows.
fn fuller_declared_body(ld: &LinkedData, body: &str) -> Option<String> {
    let declared = json_ld_body(ld)?;
    let paras: Vec<String> = declared
        .lines()
        .map(|l| nfc(collapse(l)))
        .filter(|l| !l.is_empty())
        .collect();
    let declared = paras.join("\n");
    if non_ws_chars(&declared) * 2 < non_ws_chars(body) * 3 {
        return None;
    }
    let flat = |s: &str| -> String { s.split_whitespace().collect::<Vec<_>>().join(" ") };
    let (d, b) = (flat(&declared), flat(body));
    let head = |s: &str| -> String { s.chars().take(60).collect() };
    (d.contains(&head(&b)) || b.contains(&head(&d))).then_some(declared)
}

/// `time[datetime]` inside the container, then inside its enclosing blocks, outside boilerplate;
/// a `published` time beats an `updated`/`modified` one.
fn time_date(arena: &Arena<'_>, roots: &[usize], mode: Mode, tz: Tz) -> Option<NaiveDate> {
    let find_in = |root: usize| -> Option<NaiveDate> {
        let mut found: Vec<(bool, NaiveDate)> = Vec::new();
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if i != root && is_boilerplate_for_dates(arena, i, mode) {
                continue;
            }
            if let Some(e) = arena.elem(i)
                && e.value().name() == "time"
                && let Some(d) = e.value().attr("datetime").and_then(|v| parse_date(v, tz))
            {
                let ci = class_id(&e);
                found.push((ci.contains("updated") || ci.contains("modified"), d));
            }
            for &c in arena.children(i).iter().rev() {
                stack.push(c);
            }
        }
        found
            .iter()
            .find(|(upd, _)| !upd)
            .or(found.first())
            .map(|&(_, d)| d)
    };
    date_scopes(arena, roots).into_iter().find_map(find_in)
}

/// Where to look for a date, nearest first: the container roots, up to [`MAX_CLIMB`] enclosing
/// blocks, then the whole page (boilerplate is skipped inside each scope).
fn date_scopes(arena: &Arena<'_>, roots: &[usize]) -> Vec<usize> {
    let mut scopes: Vec<usize> = roots.to_vec();
    let mut a = roots.first().map_or(NONE, |&r| arena.parent(r));
    while a != NONE && scopes.len() < roots.len() + MAX_CLIMB {
        scopes.push(a);
        a = arena.parent(a);
    }
    scopes.push(0);
    scopes
}

static DMY_TEXT_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|[^\d])(\d{1,2})[/.\-](\d{1,2})[/.\-]((?:19|20)\d{2})(?:[^\d]|$)"));

/// A visible `DD/MM/YYYY` (or `DD-MM-YYYY`, `DD.MM.YYYY`) in a small element whose class/id names a
/// date (`.date`, `.news-date`, `.post-date`): S3WaaS and old portals show dates this way.
fn visible_date(arena: &Arena<'_>, roots: &[usize], mode: Mode) -> Option<NaiveDate> {
    let find_in = |root: usize| -> Option<NaiveDate> {
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if i != root && is_boilerplate_for_dates(arena, i, mode) {
                continue;
            }
            if let Some(e) = arena.elem(i)
                && (e.value().attr("class").is_some_and(|c| c.contains("date"))
                    || e.value().id().is_some_and(|c| c.contains("date")))
            {
                let ci = class_id(&e);
                if ci.contains("date")
                    && !ci.contains("update")
                    && !ci.contains("modified")
                    && let Some(text) = arena.small_text(i, 64)
                    && text.chars().count() <= 60
                    && let Some(c) = DMY_TEXT_RE.captures(&text)
                    && let (Ok(d), Ok(m), Ok(y)) = (
                        c[1].parse::<u32>(),
                        c[2].parse::<u32>(),
                        c[3].parse::<i32>(),
                    )
                    && let Some(date) = NaiveDate::from_ymd_opt(y, m, d).and_then(plausible)
                {
                    return Some(date);
                }
            }
            for &c in arena.children(i).iter().rev() {
                stack.push(c);
            }
        }
        None
    };
    date_scopes(arena, roots).into_iter().find_map(find_in)
}

/// Like [`is_boilerplate`], but keeps the post header and meta line, where themes put the date.
fn is_boilerplate_for_dates(arena: &Arena<'_>, i: usize, mode: Mode) -> bool {
    let Some(e) = arena.elem(i) else {
        return false;
    };
    let tag = e.value().name();
    if matches!(tag, "header" | "footer") {
        let ci = class_id(&e);
        return !(POSITIVE.is_match(&ci) || ci.contains("meta"));
    }
    if !is_boilerplate(arena, i, mode) {
        return false;
    }
    let ci = class_id(&e);
    // Post meta/byline blocks hold the date; sidebars, related blocks and comments do not.
    let keep = (ci.contains("meta") || ci.contains("byline") || ci.contains("date"))
        && !(ci.contains("sidebar")
            || ci.contains("widget")
            || ci.contains("related")
            || ci.contains("comment"));
    !keep
}

static DPRCG_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^(?:https?://)?(?:www\.)?dprcg\.gov\.in/post/(\d{10})(?:[/?#]|$)"));
static YMD_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:[/?#]|$)"));
static DMY_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"/(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?:[/?#]|$)"));

fn date_from_url_with_source(url: &str, tz: Tz) -> Option<(NaiveDate, &'static str)> {
    let url = url.trim();
    if let Some(c) = DPRCG_RE.captures(url) {
        let secs: i64 = c[1].parse().ok()?;
        let d = DateTime::from_timestamp(secs, 0)?
            .with_timezone(&tz)
            .date_naive();
        return plausible(d).map(|d| (d, "dprcg-id"));
    }
    // Only the path counts (a query string may carry unrelated numbers).
    let path = match url::Url::parse(url) {
        Ok(u) => u.path().to_string(),
        Err(_) => url.split(['?', '#']).next().unwrap_or("").to_string(),
    };
    let ymd = |y: &str, m: &str, d: &str| -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
            .and_then(plausible)
    };
    if let Some(d) = YMD_RE
        .captures(&path)
        .and_then(|c| ymd(&c[1], &c[2], &c[3]))
    {
        return Some((d, "url"));
    }
    if let Some(d) = DMY_RE
        .captures(&path)
        .and_then(|c| ymd(&c[3], &c[2], &c[1]))
    {
        return Some((d, "url"));
    }
    None
}

fn find_date(
    doc: &Html,
    ld: &LinkedData,
    arena: &Arena<'_>,
    roots: &[usize],
    mode: Mode,
    (url, tz): (&str, Tz),
) -> Option<(NaiveDate, &'static str)> {
    if let Some(d) = doc
        .select(&META_PUBLISHED)
        .find_map(|m| m.value().attr("content").and_then(|c| parse_date(c, tz)))
    {
        return Some((d, "article:published_time"));
    }
    if let Some(d) = json_ld_date(ld, tz) {
        return Some((d, "json-ld"));
    }
    if let Some(d) = doc
        .select(&META_ITEMPROP)
        .find_map(|m| m.value().attr("content").and_then(|c| parse_date(c, tz)))
    {
        return Some((d, "itemprop"));
    }
    if let Some(d) = time_date(arena, roots, mode, tz) {
        return Some((d, "time[datetime]"));
    }
    if let Some(d) = visible_date(arena, roots, mode) {
        return Some((d, "date-text"));
    }
    date_from_url_with_source(url, tz)
}

#[cfg(test)]
mod tests {
    use super::*;
    const IN: Tz = chrono_tz::Asia::Kolkata;
    use crate::core::dom::{MAX_DEPTH, cap_depth};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn corpus_rows() -> Vec<serde_json::Value> {
        include_str!("../../tests/fixtures/corpus/dev.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn corpus_text(url_part: &str) -> String {
        corpus_rows()
            .into_iter()
            .find(|r| r["url"].as_str().unwrap().contains(url_part))
            .unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    }

    // ----- manifest-driven accuracy -------------------------------------------------------

    #[derive(Default)]
    struct Tally {
        pages: usize,
        body_ok: usize,
        title_ok: usize,
        title_checked: usize,
        date_ok: usize,
        date_checked: usize,
        failures: Vec<String>,
    }

    /// The host a family's pages live on (manifests give paths only).
    fn url_for(page: &serde_json::Value) -> String {
        if let Some(u) = page["url"].as_str() {
            return u.to_string();
        }
        let path = page["path"].as_str().unwrap_or("/");
        if let Some(h) = page["host"].as_str() {
            return format!("https://{h}{path}");
        }
        let host = match page["family"].as_str().unwrap_or("") {
            "dpr" => "https://dprcg.gov.in",
            _ => "https://news.example.in",
        };
        format!("{host}{path}")
    }

    fn run_manifest(rel: &str, tallies: &mut BTreeMap<String, Tally>) -> bool {
        let path = fixtures().join(rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return false;
        };
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        for page in manifest["pages"].as_array().unwrap() {
            if page["kind"] != "article" {
                continue;
            }
            let family = page["family"].as_str().unwrap().to_string();
            let file = page["file"].as_str().unwrap();
            let html = std::fs::read_to_string(fixtures().join(file)).unwrap();
            let url = url_for(page);
            let t = tallies.entry(family).or_default();
            t.pages += 1;
            let Some(x) = extract(&html, &url, IN) else {
                t.failures.push(format!("{file}: extract() gave None"));
                continue;
            };
            if std::env::var_os("READABLE_DUMP").is_some() {
                println!(
                    "=== {file} | {:?} | {:?} {:?}\n{}\n",
                    x.title, x.published, x.date_source, x.body
                );
            }
            let body = collapse(&x.body);
            let mut why = Vec::new();
            for s in page["body_must_contain"].as_array().unwrap() {
                let s = collapse(s.as_str().unwrap());
                if !body.contains(&s) {
                    why.push(format!("missing {s:?}"));
                }
            }
            for s in page["chrome_must_not_contain"].as_array().unwrap() {
                let s = s.as_str().unwrap();
                if body.contains(s) {
                    why.push(format!("chrome {s:?}"));
                }
            }
            if why.is_empty() {
                t.body_ok += 1;
            } else {
                t.failures.push(format!("{file}: {}", why.join("; ")));
            }
            if let Some(want) = page["title"].as_str() {
                t.title_checked += 1;
                if x.title.as_deref() == Some(collapse(want).as_str()) {
                    t.title_ok += 1;
                } else {
                    t.failures
                        .push(format!("{file}: title {:?} != {want:?}", x.title));
                }
            }
            if page.get("published").is_some() {
                t.date_checked += 1;
                let want = page["published"]
                    .as_str()
                    .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
                if x.published == want {
                    t.date_ok += 1;
                } else {
                    t.failures.push(format!(
                        "{file}: published {:?} ({:?}) != {want:?}",
                        x.published, x.date_source
                    ));
                }
            }
        }
        true
    }

    /// Extraction accuracy over every article page of both fixture manifests (ours, and the sites
    /// one when present): share of pages whose body holds every `body_must_contain` string and no
    /// `chrome_must_not_contain` string; titles and dates are checked too. Run with `--nocapture`
    /// to see the per-family table (set `READABLE_DUMP=1` to print every extracted page as well).
    #[test]
    fn accuracy_over_manifests() {
        let mut tallies = BTreeMap::new();
        assert!(run_manifest("readable/manifest.json", &mut tallies));
        run_manifest("sites/manifest.json", &mut tallies);
        let mut all_fail = Vec::new();
        println!("family\tpages\tbody_acc\ttitle\tdate");
        for (fam, t) in &tallies {
            println!(
                "{fam}\t{}\t{:.3}\t{}/{}\t{}/{}",
                t.pages,
                t.body_ok as f64 / t.pages.max(1) as f64,
                t.title_ok,
                t.title_checked,
                t.date_ok,
                t.date_checked
            );
            all_fail.extend(t.failures.iter().cloned());
        }
        let pages: usize = tallies.values().map(|t| t.pages).sum();
        let ok: usize = tallies.values().map(|t| t.body_ok).sum();
        println!("overall\t{pages}\t{:.3}", ok as f64 / pages.max(1) as f64);
        assert!(all_fail.is_empty(), "failures:\n{}", all_fail.join("\n"));
    }

    // ----- focused behaviour --------------------------------------------------------------

    fn page(name: &str) -> String {
        std::fs::read_to_string(fixtures().join("readable").join(name)).unwrap()
    }

    #[test]
    fn newspaper_theme_drops_chrome_and_keeps_article() {
        let x = extract(
            &page("wp-newspaper.html"),
            "https://satyamevnews.com/2022/05/12/jila-niryat/",
            IN,
        )
        .unwrap();
        assert!(x.body.starts_with("दुर्ग , मई 2022/जिला स्तरीय"), "{}", x.body);
        assert!(
            x.body
                .contains("13. श्री अंकित मेहता, ईईपीसीआई, दुर्ग उपस्थित थे।")
        );
        for chrome in [
            "ब्रेकिंग",
            "Share on Facebook",
            "RELATED ARTICLES",
            "Leave a Reply",
            "Required fields are marked",
            "Advertisement",
            "ये भी पढ़ें",
            "ताज़ा खबरें",
        ] {
            assert!(!x.body.contains(chrome), "{chrome} in {}", x.body);
        }
        // Four paragraphs, one per line.
        assert_eq!(x.body.lines().count(), 4, "{}", x.body);
        // 20:15 UTC on 12 May is 13 May in India.
        assert_eq!(x.published, Some(d(2022, 5, 13)));
        assert_eq!(x.date_source, Some("article:published_time"));
        assert_eq!(
            x.title.as_deref(),
            Some("जिला स्तरीय निर्यात संवर्धन समिति का वर्चुअल बैठक का हुआ आयोजन")
        );
    }

    #[test]
    fn dpr_body_with_br_and_date_from_id() {
        let url = "https://dprcg.gov.in/post/1790772080/रायगढ़-जिला";
        let x = extract(&page("dprcg-post.html"), url, IN).unwrap();
        assert!(x.body.starts_with("रायगढ़, 30 सितम्बर 2026/"), "{}", x.body);
        assert!(x.body.lines().count() >= 2);
        assert!(!x.body.contains("पूरी खबर पढ़ें"));
        assert_eq!(x.published, Some(d(2026, 9, 30)));
        assert_eq!(x.date_source, Some("dprcg-id"));
        // <title> minus the " | site" suffix is not used: the h1 above the container wins.
        assert_eq!(x.title.as_deref(), Some("जिला निर्यात संवर्धन समिति की बैठक"));
    }

    #[test]
    fn json_ld_graph_article_date_wins_over_webpage_and_time() {
        let x = extract(&page("wp-generic.html"), "https://example.in/2023/03/x", IN).unwrap();
        assert_eq!(x.published, Some(d(2023, 3, 2)));
        assert_eq!(x.date_source, Some("json-ld"));
        assert!(!x.body.contains("Very good initiative"));
        assert!(!x.body.contains("Rice exporters seek"));
        assert!(x.body.starts_with("In an effort to increase exports"));
        // No og:title: the h1 in the post header.
        assert!(
            x.title
                .unwrap()
                .starts_with("Chhattisgarh exporters and investors")
        );
    }

    #[test]
    fn time_datetime_prefers_published_over_updated() {
        let text = corpus_text("chhattisgarhsamachar.com/2023");
        let paras: String = text.lines().map(|p| format!("<p>{p}</p>")).collect();
        let html = format!(
            r#"<html><head><title>T</title></head><body><article><header class="entry-header"><h1>H</h1>
            <div class="entry-meta"><time class="updated" datetime="2023-03-05T10:00:00+05:30">5</time>
            <time class="entry-date published" datetime="2023-03-02T11:42:07+05:30">2</time></div></header>
            <div class="entry-content">{paras}</div></article>
            <aside class="widget"><time datetime="2020-01-01">old</time></aside></body></html>"#
        );
        let x = extract(&html, "https://x.in/?p=5", IN).unwrap();
        assert_eq!(x.published, Some(d(2023, 3, 2)));
        assert_eq!(x.date_source, Some("time[datetime]"));
        assert_eq!(x.title.as_deref(), Some("H"));
    }

    #[test]
    fn table_layout_without_metadata() {
        let x = extract(
            &page("table-layout.html"),
            "https://pnewschhattisgarh.in/2023/07/10515",
            IN,
        )
        .unwrap();
        assert!(x.body.starts_with("खैरागढ़ :—"), "{}", x.body);
        assert!(!x.body.contains("संबंधित खबरें"));
        assert!(!x.body.contains("विज्ञापन"));
        // Day-less URL: no date.
        assert_eq!(x.published, None);
        assert_eq!(x.date_source, None);
        assert!(x.title.unwrap().starts_with("जिला निर्यात संवर्धन समिति एवं"));
    }

    #[test]
    fn classless_related_list_inside_content_is_pruned_but_later_text_kept() {
        let text = corpus_text("pnewschhattisgarh");
        let mut paras = text.lines().map(|p| format!("<p>{p}</p>"));
        let first = paras.next().unwrap();
        let rest: String = paras.collect();
        let html = format!(
            r#"<html><body><div class="entry-content">{first}
            <h3>संबंधित खबरें</h3><ul><li><a href="/a">कोरबा में जिला निर्यात संवर्धन समिति की बैठक संपन्न</a></li>
            <li><a href="/b">रायपुर में एक्सपोर्ट कॉन्क्लेव 15 तारीख को</a></li></ul>{rest}
            <p>Share on WhatsApp</p><p>विज्ञापन</p></div></body></html>"#
        );
        let x = extract(&html, "", IN).unwrap();
        assert!(!x.body.contains("संबंधित खबरें"));
        assert!(!x.body.contains("कोरबा में जिला निर्यात"));
        assert!(!x.body.contains("WhatsApp"));
        assert!(!x.body.contains("विज्ञापन"));
        let last = text.lines().last().unwrap();
        assert!(x.body.ends_with(&collapse(last)), "{}", x.body);
    }

    /// Every corpus text (120 real notes, 330–2,000 chars, Hindi and English) poured into the
    /// Newspaper-theme chrome and into the DPR chrome: the body must start and end with the note's
    /// own text and carry none of the chrome.
    #[test]
    fn every_corpus_text_survives_both_chromes() {
        let mut failures = Vec::new();
        for (name, open, close) in [
            (
                "wp-newspaper.html",
                r#"<div class="td-post-content tagdiv-type">"#,
                "</div>\n<footer>",
            ),
            (
                "dprcg-post.html",
                r#"<div class="field-item even" property="content:encoded">"#,
                "</div></div></div>",
            ),
        ] {
            let base = page(name);
            let (head, rest) = base.split_once(open).unwrap();
            let (_, tail) = rest.split_once(close).unwrap();
            for (k, r) in corpus_rows().iter().enumerate() {
                let text = r["text"].as_str().unwrap();
                let paras: Vec<String> = text
                    .lines()
                    .map(collapse)
                    .filter(|l| !l.is_empty())
                    .collect();
                let inner: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
                let html = format!("{head}{open}{inner}{close}{tail}");
                let Some(x) = extract(&html, "https://x.in/", IN) else {
                    failures.push(format!("{name} row {k}: None"));
                    continue;
                };
                let body = collapse(&x.body);
                // Short lines of the scraped corpus text ("Advertisement", "KCG") are not anchors.
                let long: Vec<&String> = paras.iter().filter(|p| p.chars().count() >= 25).collect();
                let first: String = long[0].chars().take(40).collect();
                let last_para = long.last().unwrap();
                let n = last_para.chars().count();
                let last: String = last_para.chars().skip(n.saturating_sub(40)).collect();
                let first_ok =
                    body.contains(&first) || x.title.as_deref() == Some(paras[0].as_str());
                if !first_ok || !body.contains(&last) {
                    failures.push(format!(
                        "{name} row {k}: lost text; body starts {:?}",
                        body.chars().take(80).collect::<String>()
                    ));
                }
                for chrome in [
                    "Share on Facebook",
                    "RELATED ARTICLES",
                    "Leave a Reply",
                    "ताज़ा खबरें",
                    "अन्य समाचार",
                    "पूरी खबर पढ़ें",
                    "All rights reserved",
                    "कॉपीराइट",
                ] {
                    if body.contains(chrome) && !text.contains(chrome) {
                        failures.push(format!("{name} row {k}: chrome {chrome:?}"));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn whole_page_inside_aspnet_form_is_read_leniently() {
        let text = corpus_text("pnewschhattisgarh");
        let paras: String = text.lines().map(|p| format!("<p>{p}</p>")).collect();
        let html = format!(
            r#"<html><body><form method="post" action="./News.aspx?id=5" id="form1">
            <input type="hidden" name="__VIEWSTATE" value="abc"><div id="menu"><a href="/">मुख्य पृष्ठ</a></div>
            <div id="ContentPlaceHolder1_divNews"><h2>समाचार</h2>{paras}</div></form></body></html>"#
        );
        let x = extract(&html, "", IN).unwrap();
        assert!(x.body.starts_with("खैरागढ़ :—"), "{}", x.body);
        assert!(!x.body.contains("मुख्य पृष्ठ"));
    }

    #[test]
    fn link_lists_and_empty_pages_give_none() {
        let links: String = (0..40)
            .map(|i| {
                format!("<li><a href='/n{i}'>कलेक्टर ने की समीक्षा बैठक, दिए आवश्यक निर्देश {i}</a></li>")
            })
            .collect();
        assert_eq!(
            extract(&format!("<ul>{links}</ul>"), "https://x.in/", IN),
            None
        );
        assert_eq!(extract("", "", IN), None);
        assert_eq!(
            extract("<html><body><p>छोटा</p></body></html>", "", IN),
            None
        );
    }

    #[test]
    fn whitespace_collapsed_and_nfc() {
        // "ड़" as ड + nukta (decomposed) must come out precomposed-normalised (NFC keeps ड़ as
        // U+0921 U+093C, so compare with the NFC of the input).
        let text = corpus_text("pnewschhattisgarh");
        let first = text.lines().next().unwrap();
        let html = format!(
            "<html><body><div class='entry-content'><p>  {}\n\t  बढ़ावा   </p></div></body></html>",
            first.replace(' ', " \u{a0} ")
        );
        let x = extract(&html, "", IN).unwrap();
        assert!(!x.body.contains("  "));
        assert!(!x.body.contains('\u{a0}'));
        let nfc: String = x.body.nfc().collect();
        assert_eq!(x.body, nfc);
        assert!(x.body.ends_with("बढ़ावा"));
    }

    #[test]
    fn nfc_fast_path_agrees_with_full_nfc() {
        for r in corpus_rows() {
            for field in ["title", "text"] {
                let t = r[field].as_str().unwrap().to_string();
                let full: String = t.nfc().collect();
                assert_eq!(nfc(t), full);
            }
        }
        // Nukta letters: precomposed U+095C decomposes, न + nukta composes.
        assert_eq!(nfc("\u{95C}".to_string()), "\u{921}\u{93C}");
        assert_eq!(nfc("\u{928}\u{93C}".to_string()), "\u{929}");
        assert_eq!(nfc("e\u{301}".to_string()), "\u{e9}");
        // Nukta after virama is reordered before it.
        assert_eq!(
            nfc("\u{921}\u{94D}\u{93C}".to_string()),
            "\u{921}\u{93C}\u{94D}"
        );
        assert!(nfc_fast("खैरागढ़ बढ़ावा"));
    }

    #[test]
    fn title_fallbacks() {
        assert_eq!(
            strip_site("जिला निर्यात संवर्धन समिति की बैठक – Satyam Ev News", None),
            "जिला निर्यात संवर्धन समिति की बैठक"
        );
        assert_eq!(strip_site("बैठक - Satyam", Some("Satyam")), "बैठक");
        // A short head is not stripped down to a site-like tail.
        assert_eq!(
            strip_site("News | A very long headline about export promotion", None),
            "News | A very long headline about export promotion"
        );
        assert_eq!(
            strip_site("Raipur - Jal Arpan", Some("DPR")),
            "Raipur - Jal Arpan"
        );
    }

    #[test]
    fn dates_from_urls() {
        assert_eq!(
            date_from_url(
                "https://dprcg.gov.in/post/1790772080/Raipur-Jal-Arpan-Water-Offering",
                IN
            ),
            Some(d(2026, 9, 30))
        );
        // 1632316331 = 2021-09-22 18:42:11 IST; 1652352665 = 2022-05-12 16:21 IST.
        assert_eq!(
            date_from_url("https://dprcg.gov.in/post/1632316331/x", IN),
            Some(d(2021, 9, 22))
        );
        assert_eq!(
            date_from_url("https://dprcg.gov.in/post/1652352665", IN),
            Some(d(2022, 5, 12))
        );
        // 1789842600 = 2026-09-19 18:30 UTC = 2026-09-20 00:00 IST: the IST day, not the UTC one.
        assert_eq!(
            date_from_url("https://dprcg.gov.in/post/1789842600/x", IN),
            Some(d(2026, 9, 20))
        );
        assert_eq!(
            date_from_url(
                "http://city24x7.news/2021/03/01/uttar-bastar-kanker-photograph-exhibition",
                IN
            ),
            Some(d(2021, 3, 1))
        );
        assert_eq!(
            date_from_url(
                "https://dainikaagaazindia.in/20/09/2024/will-make-madhya-pradesh/",
                IN
            ),
            Some(d(2024, 9, 20))
        );
        assert_eq!(
            date_from_url("https://statenewsservice.in/2022/02/164837", IN),
            None
        );
        assert_eq!(date_from_url("https://cgnews.in/archives/12609", IN), None);
        assert_eq!(date_from_url("https://x.in/2022/02/30/bad-day/", IN), None);
        assert_eq!(date_from_url("https://x.in/?p=2022/03/04", IN), None);
        assert_eq!(date_from_url("https://dprcg.gov.in/post/12345/x", IN), None);
        assert_eq!(date_from_url("not a url ॥ २०२२", IN), None);
    }

    #[test]
    fn parse_date_forms() {
        assert_eq!(parse_date("2024-02-28", IN), Some(d(2024, 2, 28)));
        assert_eq!(
            parse_date("2024-02-28T23:50:00+05:30", IN),
            Some(d(2024, 2, 28))
        );
        assert_eq!(parse_date("2024-02-27T20:00:00Z", IN), Some(d(2024, 2, 28)));
        assert_eq!(
            parse_date("2024-02-27T20:00:00.000+0000", IN),
            Some(d(2024, 2, 28))
        );
        assert_eq!(parse_date("2024-02-28 10:15:00", IN), Some(d(2024, 2, 28)));
        assert_eq!(parse_date("28 फरवरी 2024", IN), None);
        assert_eq!(parse_date("0001-01-01", IN), None);
    }

    #[test]
    fn json_ld_invalid_json_falls_back_to_regex() {
        let text = corpus_text("pnewschhattisgarh");
        let html = format!(
            r#"<html><head><script type="application/ld+json">{{"@type":"NewsArticle", "datePublished":"2024-11-21T10:00:00+05:30",}}</script></head>
            <body><div class="entry-content"><p>{}</p></div></body></html>"#,
            text.replace('\n', "</p><p>")
        );
        let x = extract(&html, "", IN).unwrap();
        assert_eq!(x.published, Some(d(2024, 11, 21)));
        assert_eq!(x.date_source, Some("json-ld"));
    }

    #[test]
    fn selector_text_drops_boilerplate() {
        let html = page("wp-newspaper.html");
        let t = text_of_selector(&html, ".td-post-content").unwrap();
        assert!(t.starts_with("दुर्ग , मई 2022/"));
        assert!(!t.contains("Advertisement"));
        assert!(!t.contains("ये भी पढ़ें"));
        let t = text_of_selector(&html, "article").unwrap();
        assert!(!t.contains("Share on Facebook"));
        assert!(!t.contains("TAGS"));
        assert!(t.contains("डीजीएफटी द्वारा केन्द्र सरकार"));
        assert_eq!(text_of_selector(&html, ".no-such-thing"), None);
        assert_eq!(text_of_selector(&html, "div[[["), None);
        // Nested matches are not repeated.
        let t = text_of_selector(&html, "div").unwrap();
        assert_eq!(t.matches("डीजीएफटी द्वारा केन्द्र सरकार").count(), 1);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let text = corpus_text("pnewschhattisgarh");
        let html = format!("{}<p>{text}</p>", "<div>".repeat(3_000));
        let x = extract(&html, "", IN).unwrap();
        assert!(x.body.contains("खैरागढ़"));
        assert!(text_of_selector(&html, "p").is_some());
    }

    /// Depth of the deepest element of a parsed page (`html` is depth 1).
    fn max_depth(html: &str) -> usize {
        let doc = Html::parse_document(html);
        let arena = Arena::build(doc.root_element());
        // Parents come before their children in the arena.
        let mut depth = vec![0usize; arena.nodes.len()];
        for i in 0..arena.nodes.len() {
            if arena.elem(i).is_some() {
                let p = arena.parent(i);
                depth[i] = if p == NONE { 0 } else { depth[p] } + 1;
            }
        }
        depth.into_iter().max().unwrap_or(0)
    }

    #[test]
    fn a_hundred_thousand_nested_divs_are_read_in_bounded_work() {
        let text = corpus_text("pnewschhattisgarh");
        let first = collapse(text.lines().next().unwrap());
        let n = 100_000;
        let html = format!(
            "<html><head><title>गहरा पन्ना</title></head><body>{}<p>{text}</p>{}</body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        // Every element is kept, none deeper than MAX_DEPTH.
        let capped = cap_depth(&html);
        assert_eq!(capped.matches("<div>").count(), n);
        assert_eq!(capped.matches("<p>").count(), 1);
        assert_eq!(max_depth(&capped), MAX_DEPTH);
        let x = extract(&html, "", IN).unwrap();
        assert!(x.body.starts_with(&first), "{}", x.body);
        assert_eq!(x.title.as_deref(), Some("गहरा पन्ना"));
        // The same through the selector path (read_article caps the page before both).
        let rules = ArticleRules {
            title: sel("title"),
            body: sel("body"),
            date: None,
        };
        let r = read_article(&parse_html(&html), "", Some(&rules), IN);
        assert_eq!(r.method, Extraction::Selectors);
        assert!(r.body.starts_with(&first));
    }

    #[test]
    fn ordinary_pages_are_not_touched_by_the_depth_cap() {
        for name in [
            "wp-newspaper.html",
            "dprcg-post.html",
            "table-layout.html",
            "wp-generic.html",
        ] {
            let html = page(name);
            assert!(
                matches!(cap_depth(&html), std::borrow::Cow::Borrowed(_)),
                "{name}"
            );
        }
        // Unclosed paragraphs, list items and cells close each other; markup inside scripts,
        // comments and quoted attributes is not markup.
        let html = format!(
            "<body>{}<ul>{}</ul><table>{}</table><script>{}</script><!-- {} --><div title='>{}'>x</div></body>",
            "<p>पैरा".repeat(2_000),
            "<li>सूची".repeat(2_000),
            "<tr><td>क<td>ख".repeat(2_000),
            "document.write('<div>');".repeat(2_000),
            "<div>".repeat(2_000),
            "<div>".repeat(2_000)
        );
        assert!(matches!(cap_depth(&html), std::borrow::Cow::Borrowed(_)));
        // Deep nesting after all that is still capped.
        let deep = format!("{html}{}", "<section>".repeat(2_000));
        assert_eq!(max_depth(&deep), 2_000 + 2);
        // html and body are implied around it.
        assert_eq!(max_depth(&cap_depth(&deep)), MAX_DEPTH + 2);
    }

    #[test]
    fn script_and_style_never_reach_the_title() {
        let text = corpus_text("pnewschhattisgarh");
        let paras: String = text.lines().map(|p| format!("<p>{p}</p>")).collect();
        // The h1 inside the article.
        let html = format!(
            r#"<html><head><style>h1 {{ color: red }}</style></head><body><article>
            <h1>निर्यात बैठक<script>var ad_slot = "top";</script><style>.x{{margin:0}}</style><noscript>Enable JavaScript</noscript></h1>
            <div class="entry-content">{paras}</div></article></body></html>"#
        );
        assert_eq!(
            extract(&html, "", IN).unwrap().title.as_deref(),
            Some("निर्यात बैठक")
        );
        // A theme's h1.entry-title away from the container.
        let html = format!(
            r#"<html><body><div class="top"><h1 class="entry-title"><script>window.x = 1;</script>निर्यात बैठक<style>h1{{}}</style></h1></div>
            <div id="main"><div class="entry-content">{paras}</div></div></body></html>"#
        );
        assert_eq!(
            extract(&html, "", IN).unwrap().title.as_deref(),
            Some("निर्यात बैठक")
        );
        // The source's title selector (`niryat extract --source`, the pipeline) too.
        let rules = ArticleRules {
            title: sel("h1.entry-title"),
            body: sel(".entry-content"),
            date: None,
        };
        assert_eq!(
            read_article(&parse_html(&html), "", Some(&rules), IN).title,
            "निर्यात बैठक"
        );
    }

    #[test]
    fn read_article_prefers_selectors_then_automatic_then_the_url_date() {
        let html = page("dprcg-post.html");
        let url = "https://dprcg.gov.in/post/1790772080/x";
        let rules = ArticleRules {
            title: sel("h1"),
            body: sel(".field-item"),
            date: Some(sel("time")),
        };
        let r = read_article(&parse_html(&html), url, Some(&rules), IN);
        assert_eq!(r.method, Extraction::Selectors);
        assert!(!r.selectors_missed);
        assert!(r.body.starts_with("रायगढ़, 30 सितम्बर 2026/"), "{}", r.body);
        // No <time> on the page: the date comes from the URL, and says so.
        assert_eq!(r.published, Some(d(2026, 9, 30)));
        assert_eq!(r.date_source, Some("dprcg-id"));

        let missing = ArticleRules {
            title: sel("h1"),
            body: sel(".no-such-body"),
            date: None,
        };
        let r = read_article(&parse_html(&html), url, Some(&missing), IN);
        assert_eq!(r.method, Extraction::Automatic);
        assert!(r.selectors_missed);
        assert!(r.body.starts_with("रायगढ़, 30 सितम्बर 2026/"));
        assert_eq!(
            r,
            Reading {
                selectors_missed: true,
                ..read_article(&parse_html(&html), url, None, IN)
            }
        );

        let r = read_article(
            &parse_html("<html><body><p>छोटा</p></body></html>"),
            url,
            None,
            IN,
        );
        assert_eq!(r.method, Extraction::None);
        assert_eq!(r.body, "");
        assert_eq!(r.published, Some(d(2026, 9, 30)));
        assert_eq!(r.date_source, Some("dprcg-id"));
    }

    /// Paragraphs of a few corpus notes, for pages built in the tests below.
    fn corpus_paragraphs(n: usize) -> Vec<String> {
        corpus_rows()
            .iter()
            .flat_map(|r| {
                r["text"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .map(collapse)
                    .filter(|l| l.chars().count() > 120)
                    .collect::<Vec<_>>()
            })
            .take(n)
            .collect()
    }

    #[test]
    fn an_article_split_over_similar_blocks_is_read_whole() {
        let paras = corpus_paragraphs(6);
        let steps: String = paras
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    r#"<div class="mod step"><div class="stepContent"><div class="content"><span class="head">चरण {i}</span><p>{p}</p></div></div></div>"#
                )
            })
            .collect();
        let others: String = (0..8)
            .map(|i| {
                format!("<li><a href='/n{i}'>कलेक्टर ने की समीक्षा बैठक, दिए आवश्यक निर्देश {i}</a></li>")
            })
            .collect();
        let html = format!(
            r#"<html><body><div id="page"><div class="article"><h1>निर्यात बैठक</h1>{steps}</div>
            <div class="more"><ul>{others}</ul></div></div></body></html>"#
        );
        let x = extract(&html, "", IN).unwrap();
        for p in &paras {
            assert!(x.body.contains(p.as_str()), "missing {p:?} in {}", x.body);
        }
        assert!(!x.body.contains("समीक्षा बैठक"));
    }

    #[test]
    fn the_declared_article_body_replaces_a_truncated_page() {
        let paras = corpus_paragraphs(5);
        let ld = serde_json::json!({
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": "निर्यात बैठक",
            "articleBody": paras.join("\n"),
        });
        // The page shows the first two paragraphs; the rest is behind a "read more".
        let html = format!(
            r#"<html><head><script type="application/ld+json">{ld}</script></head><body>
            <article><div class="entry-content"><p>{}</p><p>{}</p></div><a href="/more">पूरा पढ़ें</a></article></body></html>"#,
            paras[0], paras[1]
        );
        let x = extract(&html, "", IN).unwrap();
        assert_eq!(x.body, paras.join("\n"));
        // A declared body that is not this article (another text) is not used.
        let other = serde_json::json!({"@type": "NewsArticle", "articleBody": corpus_paragraphs(12)[6..].join("\n")});
        let html = html.replace(&ld.to_string(), &other.to_string());
        let x = extract(&html, "", IN).unwrap();
        assert_eq!(x.body, format!("{}\n{}", paras[0], paras[1]));
    }

    #[test]
    fn the_headline_inside_the_article_is_the_title_not_body() {
        let paras = corpus_paragraphs(3);
        let html = format!(
            r#"<html><head><meta property="og:title" content="निर्यात संवर्धन समिति की बैठक | समाचार"></head><body>
            <div class="story-body"><h1 class="headline"><span>निर्यात संवर्धन समिति की बैठक</span><br><span>संवाददाता, रायपुर</span></h1>
            <p>{}</p><p>{}</p><p>{}</p></div></body></html>"#,
            paras[0], paras[1], paras[2]
        );
        let x = extract(&html, "", IN).unwrap();
        assert_eq!(x.body, paras.join("\n"));
    }

    /// Timing figures for ~1 MB pages (not a timed assertion): run with
    /// `cargo test readable::tests::one_megabyte_page_timing -- --ignored --nocapture`.
    /// "realistic": the Newspaper-theme article plus ~1 MB of inline scripts, styles and link-list
    /// chrome (what makes real pages big); "text-heavy": ~1 MB of paragraphs, a worst case.
    #[test]
    #[ignore]
    fn one_megabyte_page_timing() {
        let base = page("wp-newspaper.html");
        let (head, tail) = base.split_once("<div class=\"td-container\">").unwrap();
        let text = corpus_text("pnewschhattisgarh");
        let mut chrome = String::new();
        let mut i = 0;
        while chrome.len() < 1_000_000 {
            chrome.push_str(&format!(
                "<script>var td_block_{i} = {{\"id\":{i},\"atts\":\"{}\"}};</script>\
                 <style>.td_uid_{i}_rand{{margin:0 0 {i}px}}</style>\
                 <div class='td_module_wrap td-related-span4'><h3 class='entry-title'><a href='/n{i}'>कलेक्टर ने की समीक्षा बैठक, दिए आवश्यक निर्देश {i}</a></h3><span class='td-post-date'><time datetime='2020-01-01'>1</time></span></div>",
                "x".repeat(400)
            ));
            i += 1;
        }
        let realistic = format!(
            "{head}<div class=\"td-container\">{tail}<div class='td-footer-chrome'>{chrome}</div>"
        );
        let mut heavy = String::new();
        while heavy.len() < 1_000_000 {
            heavy.push_str(&format!("<p>{text}</p>"));
        }
        let heavy =
            format!("{head}<div class=\"td-container\">{tail}<div class='more'>{heavy}</div>");
        for (name, html) in [("realistic", &realistic), ("text-heavy", &heavy)] {
            let mut best = std::time::Duration::MAX;
            for _ in 0..5 {
                let t0 = std::time::Instant::now();
                let x = extract(html, "https://x.in/", IN);
                best = best.min(t0.elapsed());
                assert!(x.is_some());
            }
            let t0 = std::time::Instant::now();
            let doc = Html::parse_document(html);
            let parse = t0.elapsed();
            drop(doc);
            println!(
                "{name}: {} bytes, extract() best of 5: {best:?} (Html::parse_document alone: {parse:?})",
                html.len()
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics_on_random_strings(s in "\\PC{0,400}", u in "\\PC{0,80}") {
            let _ = extract(&s, &u, IN);
            let _ = text_of_selector(&s, &u);
            let _ = date_from_url(&u, IN);
        }

        #[test]
        fn never_panics_on_tag_soup(parts in proptest::collection::vec(proptest::prop_oneof![
            proptest::strategy::Just("<div class='entry-content'>".to_string()),
            proptest::strategy::Just("<p>".to_string()),
            proptest::strategy::Just("</p>".to_string()),
            proptest::strategy::Just("</div>".to_string()),
            proptest::strategy::Just("<br>".to_string()),
            proptest::strategy::Just("<a href='#'>".to_string()),
            proptest::strategy::Just("</a>".to_string()),
            proptest::strategy::Just("<table><tr><td>".to_string()),
            proptest::strategy::Just("<aside class='widget'>".to_string()),
            proptest::strategy::Just("<h3>संबंधित खबरें</h3>".to_string()),
            proptest::strategy::Just("<time datetime='2024-13-45T99'>".to_string()),
            proptest::strategy::Just(r#"<script type="application/ld+json">{"@graph":[{"datePublished":"x"#.to_string()),
            proptest::strategy::Just("<meta property='article:published_time' content='2024-02-28T25:00:00+05:30'>".to_string()),
            proptest::strategy::Just("जिला निर्यात संवर्धन समिति की बैठक, कलेक्टर की अध्यक्षता में। ".to_string()),
            "\\PC{0,30}",
        ], 0..120)) {
            let html = parts.concat();
            // Extraction never invents text: every Devanagari word it returns is on the page.
            if let Some(x) = extract(&html, "https://dprcg.gov.in/post/9999999999/x", IN) {
                for word in x.body.split(|c: char| !('\u{0900}'..='\u{097F}').contains(&c)) {
                    proptest::prop_assert!(word.is_empty() || html.contains(word), "{word:?} not on the page");
                }
            }
            let _ = text_of_selector(&html, "div, p, td");
        }
    }
}
