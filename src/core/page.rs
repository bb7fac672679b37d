//! Selector-driven extraction from listing pages and article pages.
//!
//! The operator names CSS selectors per source (`[sources.list]`, `[sources.article]`); this module
//! applies them to a decoded page and returns owned strings. Only the configured elements are read:
//! menus, sidebars full of other headlines and comment forms never reach the detector unless the
//! operator's selector includes them. Pure: `scraper::Html` is `!Send`, so nothing here is held
//! across an `.await` by callers.

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

/// Items of a listing page in document order, de-duplicated by canonical URL. An item whose own
/// element is the link (`item = "a.news"`) works too.
pub fn extract_list(html: &str, base: &Url, rules: &ListRules) -> Vec<ListItem> {
    extract_list_in(&Html::parse_document(html), base, rules)
}

/// [`extract_list`] on an already parsed page (discovery checks many candidate rules on one page).
pub fn extract_list_in(doc: &Html, base: &Url, rules: &ListRules) -> Vec<ListItem> {
    let mut out: Vec<ListItem> = Vec::new();
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
        if out.iter().any(|i| i.url == url) {
            continue;
        }
        out.push(ListItem {
            url,
            title: collapse_ws(&link.text().collect::<String>()),
        });
    }
    out
}

/// The next-page link of a paginated listing: the first `href` matched by `next`, resolved.
pub fn next_page(html: &str, base: &Url, next: &Selector) -> Option<Url> {
    next_page_in(&Html::parse_document(html), base, next)
}

/// [`next_page`] on an already parsed page.
pub fn next_page_in(doc: &Html, base: &Url, next: &Selector) -> Option<Url> {
    doc.select(next)
        .find_map(|a| a.value().attr("href"))
        .and_then(|h| canonical::resolve(base, h))
}

/// Apply the article selectors. The title falls back to `og:title`, then `<title>`; the body is the
/// text of every element the body selector matches, in document order.
pub fn extract_article(html: &str, rules: &ArticleRules) -> Result<ArticleContent, ExtractError> {
    let doc = Html::parse_document(html);
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
        .map(|e| collapse_ws(&e.text().collect::<String>()))
        .find(|t| !t.is_empty())
        .or_else(|| meta_content(&doc, r#"meta[property="og:title"]"#))
        .or_else(|| {
            let sel = Selector::parse("title").ok()?;
            doc.select(&sel)
                .next()
                .map(|e| collapse_ws(&e.text().collect::<String>()))
        })
        .unwrap_or_default();
    let published = rules.date.as_ref().and_then(|sel| {
        doc.select(sel).find_map(|e| {
            ["content", "datetime"]
                .iter()
                .find_map(|a| e.value().attr(a).and_then(parse_iso_date))
                .or_else(|| parse_iso_date(&e.text().collect::<String>()))
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
/// `iframe`/`button` are skipped, whitespace inside a line is collapsed.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    walk(el, &mut cur, &mut lines);
    flush(&mut cur, &mut lines);
    lines.join("\n")
}

fn walk(el: ElementRef<'_>, cur: &mut String, lines: &mut Vec<String>) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => cur.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if matches!(
                    name,
                    "script"
                        | "style"
                        | "noscript"
                        | "form"
                        | "iframe"
                        | "button"
                        | "select"
                        | "svg"
                ) {
                    continue;
                }
                let block = is_block(name);
                if block {
                    flush(cur, lines);
                }
                if name == "br" {
                    flush(cur, lines);
                }
                if let Some(child_el) = ElementRef::wrap(child) {
                    walk(child_el, cur, lines);
                }
                if block {
                    flush(cur, lines);
                }
            }
            _ => {}
        }
    }
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
        let items = extract_list(LISTING, &base, &rules());
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
            next_page(html, &base, &sel).unwrap().as_str(),
            "https://dprcg.gov.in/news/district-news?page=2"
        );
        assert_eq!(next_page("<p>last page</p>", &base, &sel), None);
    }

    #[test]
    fn menu_links_outside_items_are_ignored() {
        let base = Url::parse("https://dprcg.gov.in/").unwrap();
        let items = extract_list(LISTING, &base, &rules());
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
        let a = extract_article(ARTICLE, &arules(".field-name-body")).unwrap();
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
            extract_article(ARTICLE, &arules(".nope")),
            Err(ExtractError::NoBody(_))
        ));
        let mut r = arules(".field-name-body");
        r.title = Selector::parse("h1.nope").unwrap();
        assert_eq!(extract_article(ARTICLE, &r).unwrap().title, "OG title");
    }
}
