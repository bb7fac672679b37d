//! Selector-driven extraction from listing pages and article pages.
//!
//! The operator names CSS selectors per source (`[sources.list]`, `[sources.article]`); this module
//! applies them to a decoded page and returns owned strings. Only the configured elements are read:
//! menus, sidebars full of other headlines and comment forms never reach the detector unless the
//! operator's selector includes them. Pure: `scraper::Html` is `!Send`, so nothing here is held
//! across an `.await` by callers.

use std::collections::HashSet;

use chrono::NaiveDate;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::canonical;

/// One entry of a listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Canonical absolute article URL.
    pub url: Url,
    /// Link text, whitespace-collapsed (may be empty).
    pub title: String,
}

/// Compiled `[sources.list]` selectors.
#[derive(Debug, Clone)]
pub struct ListRules {
    pub item: Selector,
    pub link: Selector,
}

/// Compiled `[sources.article]` selectors.
#[derive(Debug, Clone)]
pub struct ArticleRules {
    pub title: Selector,
    pub body: Selector,
    pub date: Option<Selector>,
}

/// What the article selectors found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleContent {
    pub title: String,
    /// Paragraphs separated by `\n`.
    pub body: String,
    /// Date from the `date` selector (`content`/`datetime` attribute or ISO text), if any.
    pub published: Option<NaiveDate>,
}

/// Why an article page gave no usable content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("the body selector `{0}` matched no text on the page")]
    NoBody(String),
}

/// Items of a listing page in document order, de-duplicated by canonical URL (a set, so the cost
/// stays linear in the number of links). An item whose own element is the link (`item = "a.news"`)
/// works too.
pub fn extract_list(doc: &Html, base: &Url, rules: &ListRules) -> Vec<ListItem> {
    let mut out: Vec<ListItem> = Vec::new();
    let mut seen: HashSet<Url> = HashSet::new();
    for item in doc.select(&rules.item) {
        let link = item
            .select(&rules.link)
            .find(|a| a.value().attr("href").is_some())
            .or_else(|| item.value().attr("href").map(|_| item));
        let Some(link) = link else { continue };
        let Some(url) = link
            .value()
            .attr("href")
            .and_then(|h| canonical::resolve(base, h))
        else {
            continue;
        };
        if !seen.insert(url.clone()) {
            continue;
        }
        out.push(ListItem {
            url,
            title: inline_text(link),
        });
    }
    out
}

/// The next-page link of a paginated listing: the first `href` matched by `next`, resolved.
pub fn next_page(doc: &Html, base: &Url, next: &Selector) -> Option<Url> {
    doc.select(next)
        .find_map(|a| a.value().attr("href"))
        .and_then(|h| canonical::resolve(base, h))
}

/// Where a page sends the browser instead of showing content: `<meta http-equiv="refresh"
/// content="0; url=…">`, resolved against `base`.
pub fn meta_refresh(doc: &Html, base: &Url) -> Option<Url> {
    let sel = Selector::parse("meta[http-equiv]").ok()?;
    doc.select(&sel)
        .filter(|m| {
            m.value()
                .attr("http-equiv")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"))
        })
        .find_map(|m| {
            let content = m.value().attr("content")?;
            let (_, target) = content.split_once(['=', ';'])?;
            let target = target.trim();
            let target = match target.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("url") => v,
                _ => target,
            };
            canonical::resolve(base, target.trim().trim_matches(['\'', '"']))
        })
}

/// Apply the article selectors. The title falls back to `og:title`, then `<title>`; the body is the
/// text of every element the body selector matches, in document order.
pub fn extract_article(doc: &Html, rules: &ArticleRules) -> Result<ArticleContent, ExtractError> {
    let body = doc
        .select(&rules.body)
        .map(element_text)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if body.trim().is_empty() {
        return Err(ExtractError::NoBody(selector_text(&rules.body)));
    }
    let title = doc
        .select(&rules.title)
        .map(inline_text)
        .find(|t| !t.is_empty())
        .or_else(|| meta_content(doc, r#"meta[property="og:title"]"#))
        .or_else(|| {
            let sel = Selector::parse("title").ok()?;
            doc.select(&sel).next().map(inline_text)
        })
        .unwrap_or_default();
    let published = rules.date.as_ref().and_then(|sel| {
        doc.select(sel).find_map(|e| {
            ["content", "datetime"]
                .iter()
                .find_map(|a| e.value().attr(a).and_then(parse_iso_date))
                .or_else(|| parse_iso_date(&inline_text(e)))
        })
    });
    Ok(ArticleContent {
        title,
        body,
        published,
    })
}

/// The leading `YYYY-MM-DD` of an ISO-8601 date or date-time.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

fn meta_content(doc: &Html, css: &str) -> Option<String> {
    let sel = Selector::parse(css).ok()?;
    doc.select(&sel)
        .find_map(|e| e.value().attr("content"))
        .map(collapse_ws)
        .filter(|s| !s.is_empty())
}

fn selector_text(sel: &Selector) -> String {
    // scraper has no Display for Selector; its Debug is verbose, so keep it short.
    let dbg = format!("{sel:?}");
    dbg.chars().take(80).collect()
}

/// Visible text of an element: block elements start new lines, `script`/`style`/`form`/`noscript`/
/// `iframe`/`button` are skipped, whitespace inside a line is collapsed. Walks with an explicit
/// stack: a page nested 100,000 deep costs time, never the thread's stack.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for step in walk(el) {
        match step {
            Step::Text(t) => cur.push_str(t),
            Step::Break => flush(&mut cur, &mut lines),
        }
    }
    flush(&mut cur, &mut lines);
    lines.join("\n")
}

/// The text of an inline element (a title, a link) on one line, without script or style text.
pub fn inline_text(el: ElementRef<'_>) -> String {
    let mut s = String::new();
    for step in walk(el) {
        match step {
            Step::Text(t) => s.push_str(t),
            Step::Break => s.push(' '),
        }
    }
    collapse_ws(&s)
}

/// What a depth-first walk over visible content yields.
enum Step<'a> {
    Text(&'a str),
    /// A block boundary (or `<br>`): the text before and after belong to different lines.
    Break,
}

/// Visible text and block boundaries under `el`, in document order, skipping invisible elements.
fn walk(el: ElementRef<'_>) -> impl Iterator<Item = Step<'_>> {
    use ego_tree::iter::Edge;
    let mut skip_depth = 0usize;
    el.traverse().skip(1).filter_map(move |edge| match edge {
        Edge::Open(node) => match node.value() {
            Node::Text(t) if skip_depth == 0 => Some(Step::Text(&t[..])),
            Node::Element(e) => {
                if skip_depth > 0 || is_invisible(e.name()) {
                    skip_depth += 1;
                    None
                } else if is_block(e.name()) || e.name() == "br" {
                    Some(Step::Break)
                } else {
                    None
                }
            }
            _ => None,
        },
        Edge::Close(node) => match node.value() {
            Node::Element(e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    None
                } else if is_block(e.name()) {
                    Some(Step::Break)
                } else {
                    None
                }
            }
            _ => None,
        },
    })
}

fn is_invisible(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "form"
            | "iframe"
            | "button"
            | "select"
            | "svg"
            | "template"
            | "head"
    )
}

fn flush(cur: &mut String, lines: &mut Vec<String>) {
    let line = collapse_ws(cur);
    if !line.is_empty() {
        lines.push(line);
    }
    cur.clear();
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "ul"
            | "ol"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "blockquote"
            | "pre"
            | "figure"
            | "figcaption"
            | "main"
            | "dl"
            | "dt"
            | "dd"
            | "hr"
    )
}

/// Collapse runs of whitespace (including NBSP) to one space and trim.
pub fn collapse_ws(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"<html><body>
      <nav><a href="/">मुख्य पृष्ठ</a><a href="/post/9/menu">निर्यात संवर्धन समिति (menu)</a></nav>
      <div class="view-content">
        <div class="views-row"><h3><a href="/post/1652345678/%E0%A4%A6%E0%A5%81%E0%A4%B0%E0%A5%8D%E0%A4%97?utm_source=x">दुर्ग : बैठक</a></h3>
          <a href="/post/1652345678/%E0%A4%A6%E0%A5%81%E0%A4%B0%E0%A5%8D%E0%A4%97">पूरी खबर पढ़ें</a></div>
        <div class="views-row"><h3><a href="https://DPRCG.gov.in/post/1652349999/x#c">कोरबा : समय-सीमा</a></h3></div>
        <div class="views-row"><h3>no link</h3></div>
      </div></body></html>"#;

    fn rules() -> ListRules {
        ListRules {
            item: Selector::parse(".view-content .views-row").unwrap(),
            link: Selector::parse("h3 a").unwrap(),
        }
    }

    #[test]
    fn listing_items_are_resolved_canonical_and_in_order() {
        let base = Url::parse("https://dprcg.gov.in/news/district-news").unwrap();
        let items = extract_list(&Html::parse_document(LISTING), &base, &rules());
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(
            items[0].url.as_str(),
            "https://dprcg.gov.in/post/1652345678/%E0%A4%A6%E0%A5%81%E0%A4%B0%E0%A5%8D%E0%A4%97"
        );
        assert_eq!(items[0].title, "दुर्ग : बैठक");
        assert_eq!(
            items[1].url.as_str(),
            "https://dprcg.gov.in/post/1652349999/x"
        );
    }

    #[test]
    fn next_page_link_is_resolved() {
        let html =
            r#"<ul class="pager"><li class="pager-next"><a href="?page=2">अगला ›</a></li></ul>"#;
        let base = Url::parse("https://dprcg.gov.in/news/district-news").unwrap();
        let sel = Selector::parse(".pager-next a").unwrap();
        assert_eq!(
            next_page(&Html::parse_document(html), &base, &sel)
                .unwrap()
                .as_str(),
            "https://dprcg.gov.in/news/district-news?page=2"
        );
        assert_eq!(
            next_page(&Html::parse_document("<p>last page</p>"), &base, &sel),
            None
        );
    }

    #[test]
    fn menu_links_outside_items_are_ignored() {
        let base = Url::parse("https://dprcg.gov.in/").unwrap();
        let items = extract_list(&Html::parse_document(LISTING), &base, &rules());
        assert!(items.iter().all(|i| !i.url.as_str().contains("/post/9/")));
    }

    const ARTICLE: &str = r#"<html><head><title>Site</title><meta property="og:title" content="OG title"></head><body>
      <aside class="sidebar"><h4>ताज़ा खबरें</h4><a href="/x">जिला निर्यात संवर्धन समिति की बैठक संपन्न</a></aside>
      <h1 class="page-title">  दुर्ग :  समिति की बैठक </h1>
      <span class="date-display-single" content="2022-05-12T00:00:00+05:30">12 May</span>
      <div class="field-name-body"><p>पहला   अनुच्छेद।</p><script>var x = "निर्यात";</script><p>दूसरा<br>अनुच्छेद।</p>
        <form id="respond"><h3>Leave a Reply</h3></form></div>
    </body></html>"#;

    fn arules(body: &str) -> ArticleRules {
        ArticleRules {
            title: Selector::parse("h1.page-title").unwrap(),
            body: Selector::parse(body).unwrap(),
            date: Some(Selector::parse(".date-display-single").unwrap()),
        }
    }

    #[test]
    fn article_reads_only_the_configured_body() {
        let a =
            extract_article(&Html::parse_document(ARTICLE), &arules(".field-name-body")).unwrap();
        assert_eq!(a.title, "दुर्ग : समिति की बैठक");
        assert_eq!(a.body, "पहला अनुच्छेद।\nदूसरा\nअनुच्छेद।");
        assert!(
            !a.body.contains("निर्यात"),
            "sidebar/script leaked: {}",
            a.body
        );
        assert!(!a.body.contains("Leave a Reply"));
        assert_eq!(a.published, NaiveDate::from_ymd_opt(2022, 5, 12));
    }

    #[test]
    fn missing_body_is_an_error_and_title_falls_back_to_og() {
        assert!(matches!(
            extract_article(&Html::parse_document(ARTICLE), &arules(".nope")),
            Err(ExtractError::NoBody(_))
        ));
        let mut r = arules(".field-name-body");
        r.title = Selector::parse("h1.nope").unwrap();
        assert_eq!(
            extract_article(&Html::parse_document(ARTICLE), &r)
                .unwrap()
                .title,
            "OG title"
        );
    }

    #[test]
    fn text_of_a_page_nested_100000_deep_does_not_overflow_the_stack() {
        // Run on a thread with a small stack: a recursive walk would abort the process here.
        let text = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let doc = crate::core::dom::deep_document(100_000, "निर्यात संवर्धन");
                let sel = Selector::parse("body").unwrap();
                let body = doc.select(&sel).next().unwrap();
                (element_text(body), inline_text(body))
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text.0, "निर्यात संवर्धन");
        assert_eq!(text.1, "निर्यात संवर्धन");
    }

    #[test]
    fn script_and_style_never_leak_into_titles_or_link_texts() {
        let html = r#"<html><head><title>Site</title></head><body>
          <h1 class="page-title"><script>alert(1)</script><b>दुर्ग</b><style>x{}</style> : बैठक</h1>
          <div class="field-name-body"><p>पाठ</p></div>
          <div class="view-content"><div class="views-row"><h3><a href="/post/1/a"><script>alert(2)</script>खबर</a></h3></div></div>
        </body></html>"#;
        let doc = Html::parse_document(html);
        let a = extract_article(&doc, &arules(".field-name-body")).unwrap();
        assert_eq!(a.title, "दुर्ग : बैठक");
        let base = Url::parse("https://dprcg.gov.in/").unwrap();
        let items = extract_list(&doc, &base, &rules());
        assert_eq!(items[0].title, "खबर");
    }

    #[test]
    fn duplicate_links_are_dropped_in_linear_time() {
        // Compare 5,000 links with 50,000: a linear check costs about 10x more, a pairwise scan
        // 100x. The bound of 40x leaves room for a noisy machine and still fails a quadratic scan.
        fn listing(n: usize) -> (Html, usize) {
            let mut s = String::from("<div class=\"view-content\">");
            for i in 0..n {
                // Every tenth link twice: the duplicates must go.
                for _ in 0..(1 + usize::from(i % 10 == 0)) {
                    s.push_str(&format!(
                        "<div class=\"views-row\"><h3><a href=\"/post/{i}/x\">{i}</a></h3></div>"
                    ));
                }
            }
            s.push_str("</div>");
            (Html::parse_document(&s), n)
        }
        let base = Url::parse("https://dprcg.gov.in/").unwrap();
        let time = |doc: &Html, n: usize| {
            let mut best = std::time::Duration::MAX;
            for _ in 0..3 {
                let t = std::time::Instant::now();
                let items = extract_list(doc, &base, &rules());
                best = best.min(t.elapsed());
                assert_eq!(items.len(), n);
            }
            best
        };
        let (small, n_small) = listing(5_000);
        let (large, n_large) = listing(50_000);
        let t_small = time(&small, n_small);
        let t_large = time(&large, n_large);
        let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(1e-6);
        assert!(
            ratio < 40.0,
            "5,000 links: {t_small:?}, 50,000 links: {t_large:?} (x{ratio:.0}): not linear"
        );
    }

    #[test]
    fn a_meta_refresh_page_names_its_target() {
        let doc = Html::parse_document(
            r#"<html><head><meta http-equiv="Refresh" content="0; URL='/hi/news'"></head><body></body></html>"#,
        );
        let base = Url::parse("https://dprcg.gov.in/news").unwrap();
        assert_eq!(
            meta_refresh(&doc, &base).unwrap().as_str(),
            "https://dprcg.gov.in/hi/news"
        );
        assert_eq!(meta_refresh(&Html::parse_document(LISTING), &base), None);
    }
}
