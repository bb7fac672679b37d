//! `cargo bench`: the per-article path, detection alone, and listing extraction (criterion).
//!
//! * `article/{hi,en}`: what a pass does with one fetched article page, on one core: decode the
//!   bytes, parse the page within the budget, read it with the DPR source's selectors, classify it
//!   (legacy-font check, detection), and for a relevant report its near-duplicate fingerprint, its
//!   summary and its Telegram post (HTML and plain). The pages are those `bench/pass.sh` serves
//!   (`bench/pages.py`: real corpus texts in a Drupal 7 government site's chrome, 60–150 KB with
//!   inline CSS and scripts, menus, sidebars of other headlines and a comment form); they are
//!   generated into `bench/.site` when missing (python3). Throughput is in articles per second.
//! * `stage/*`: the same path split into its stages, over all the pages.
//! * `detect/dev-corpus`: `Detector::classify` over every row of `tests/fixtures/corpus/dev.jsonl`.
//! * `listing/{1000,10000}`: parse a DPR-style listing page of N links and extract its items.
//!
//! Quick run: `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scraper::Selector;
use url::Url;

use niryat::core::article::{Article, Extracted};
use niryat::core::detect::{Detector, Document, Vocabulary};
use niryat::core::page::{self, ArticleRules, ListRules};
use niryat::core::text::{Lang, detect_lang};
use niryat::core::{decode, dom, neardup, readable};

/// Article pages measured (the first ones `bench/pages.py` writes: 77 % Hindi, 23 % English).
const PAGES: usize = 200;
const CONTENT_TYPE: &str = "text/html; charset=utf-8";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("constant selector")
}

/// The bundled DPR source's article selectors (what `bench/pass.sh` configures).
fn dpr_rules() -> ArticleRules {
    ArticleRules {
        title: sel("h1.page-title"),
        body: sel(".field-name-body"),
        date: Some(sel(".date-display-single")),
    }
}

fn detector() -> Detector {
    Detector::new(Vocabulary::embedded().expect("embedded vocabulary")).expect("detector")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
}

/// One fetched page: its URL (the one `bench/pass.sh` serves, under the real host so that the
/// dprcg id gives the date) and its bytes.
struct Page {
    url: Url,
    bytes: Vec<u8>,
}

/// The first [`PAGES`] article pages of `bench/.site`, generated when missing.
fn pages() -> Vec<Page> {
    let site = root().join("bench/.site");
    let dir = site.join("p");
    let count = |d: &Path| std::fs::read_dir(d).map_or(0, |r| r.count());
    if count(&dir) < PAGES + 1 {
        let status = Command::new("python3")
            .arg(root().join("bench/pages.py"))
            .arg(&site)
            .arg(PAGES.to_string())
            .status()
            .expect("python3 bench/pages.py (python3 is needed to generate the benchmark pages)");
        assert!(status.success(), "bench/pages.py failed");
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("bench/.site/p")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    files.sort();
    files
        .into_iter()
        .skip(1) // article 0 is the baseline of a pass, not a new article
        .take(PAGES)
        .map(|p| {
            let id = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            Page {
                url: Url::parse(&format!("https://dprcg.gov.in/post/{id}/bench")).expect("url"),
                bytes: std::fs::read(&p).expect("page"),
            }
        })
        .collect()
}

/// The per-article path of a pass (`intake::extract_and_classify` and `App::record`): decode,
/// parse, read with the selectors, classify; fingerprint and render a relevant report.
fn process(det: &Detector, rules: &ArticleRules, page: &Page) -> Article {
    let decoded = decode::decode_html(&page.bytes, Some(CONTENT_TYPE));
    let doc = dom::parse(&decoded.text, dom::Budget::default()).expect("parsed");
    let r = readable::read_article(
        &doc,
        page.url.as_str(),
        Some(rules),
        chrono_tz::Asia::Kolkata,
    );
    let x = Extracted {
        title: r.title,
        body: r.body,
        published: r.published,
        extraction: r.method,
    };
    let article = Article::classify(det, page.url.clone(), "", x, today());
    if article.relevant() {
        black_box(neardup::fingerprint(&article.body));
        black_box(article.report_date());
        black_box(article.post(&[]));
    }
    article
}

fn article(c: &mut Criterion) {
    let det = detector();
    let rules = dpr_rules();
    let all = pages();
    let (hi, en): (Vec<&Page>, Vec<&Page>) = all
        .iter()
        .partition(|p| detect_lang(&process(&det, &rules, p).body) == Lang::Hi);
    let relevant = all
        .iter()
        .filter(|p| process(&det, &rules, p).relevant())
        .count();
    let kb = |v: &[&Page]| v.iter().map(|p| p.bytes.len()).sum::<usize>() / 1024 / v.len().max(1);
    eprintln!(
        "article pages: {} Hindi (mean {} KB), {} English (mean {} KB); {relevant} relevant",
        hi.len(),
        kb(&hi),
        en.len(),
        kb(&en)
    );
    let mut g = c.benchmark_group("article");
    for (name, set) in [("hi", &hi), ("en", &en)] {
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for p in set.iter() {
                    black_box(process(&det, &rules, p));
                }
            });
        });
    }
    g.finish();

    // The same path, stage by stage, over every page.
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(all.len() as u64));
    let texts: Vec<String> = all
        .iter()
        .map(|p| decode::decode_html(&p.bytes, Some(CONTENT_TYPE)).text)
        .collect();
    g.bench_function("decode", |b| {
        b.iter(|| {
            for p in &all {
                black_box(decode::decode_html(&p.bytes, Some(CONTENT_TYPE)));
            }
        });
    });
    g.bench_function("parse", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(dom::parse(t, dom::Budget::default()).expect("parsed"));
            }
        });
    });
    let docs: Vec<scraper::Html> = texts
        .iter()
        .map(|t| dom::parse(t, dom::Budget::default()).expect("parsed"))
        .collect();
    g.bench_function("read", |b| {
        b.iter(|| {
            for (d, p) in docs.iter().zip(&all) {
                black_box(readable::read_article(
                    d,
                    p.url.as_str(),
                    Some(&rules),
                    chrono_tz::Asia::Kolkata,
                ));
            }
        });
    });
    let read: Vec<Extracted> = docs
        .iter()
        .zip(&all)
        .map(|(d, p)| {
            let r =
                readable::read_article(d, p.url.as_str(), Some(&rules), chrono_tz::Asia::Kolkata);
            Extracted {
                title: r.title,
                body: r.body,
                published: r.published,
                extraction: r.method,
            }
        })
        .collect();
    drop(docs);
    g.bench_function("classify", |b| {
        b.iter(|| {
            for (x, p) in read.iter().zip(&all) {
                black_box(Article::classify(
                    &det,
                    p.url.clone(),
                    "",
                    x.clone(),
                    today(),
                ));
            }
        });
    });
    let articles: Vec<Article> = read
        .iter()
        .zip(&all)
        .map(|(x, p)| Article::classify(&det, p.url.clone(), "", x.clone(), today()))
        .filter(Article::relevant)
        .collect();
    g.throughput(Throughput::Elements(articles.len() as u64));
    g.bench_function("post (relevant only)", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(neardup::fingerprint(&a.body));
                black_box(a.report_date());
                black_box(a.post(&[]));
            }
        });
    });
    g.finish();
}

fn detect(c: &mut Criterion) {
    let det = detector();
    let rows: Vec<(String, String, String)> =
        std::fs::read_to_string(root().join("tests/fixtures/corpus/dev.jsonl"))
            .expect("dev corpus")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json row");
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                (s("title"), s("text"), s("url"))
            })
            .collect();
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function("dev-corpus", |b| {
        b.iter(|| {
            for (title, body, url) in &rows {
                black_box(det.classify(&Document {
                    title,
                    body,
                    url: Some(url),
                }));
            }
        });
    });
    g.finish();
}

/// A DPR listing page (the `.view-content .views-row` / `h3 a` markup of the bundled source) of
/// `n` links with dates and teasers.
fn listing_page(n: usize) -> String {
    let titles = [
        "जिला निर्यात प्रोत्साहन समिति की बैठक संपन्न",
        "कलेक्टर ने की विभागीय योजनाओं की समीक्षा",
        "Collector reviews preparations for the paddy procurement",
        "मुख्यमंत्री ने किसानों को दी शुभकामनाएं",
    ];
    let mut s = String::from(
        "<!DOCTYPE html><html lang=\"hi\"><head><meta charset=\"utf-8\"><title>समाचार | जनसंपर्क विभाग</title></head>\
         <body><div id=\"page\"><div class=\"view view-news\"><div class=\"view-content\">\n",
    );
    for k in 0..n {
        let id = 1_700_000_000 + 613 * k;
        let title = titles[k % titles.len()];
        s.push_str(&format!(
            "<div class=\"views-row views-row-{k}\"><div class=\"views-field views-field-title\"><h3><a href=\"/post/{id}/news-{k}\">{title} ({k})</a></h3></div>\
             <div class=\"views-field\"><span class=\"date-display-single\">2026-12-03</span></div>\
             <div class=\"views-field views-field-body\"><p>{title}: विस्तृत समाचार के लिए पढ़ें।</p></div></div>\n"
        ));
    }
    s.push_str("</div><ul class=\"pager\"><li class=\"pager-next\"><a href=\"?page=1\">next</a></li></ul></div></div></body></html>");
    s
}

fn listing(c: &mut Criterion) {
    let base = Url::parse("https://dprcg.gov.in/news").expect("url");
    let rules = ListRules {
        item: sel(".view-content .views-row"),
        link: sel("h3 a"),
    };
    let next = sel(".pager-next a");
    let mut g = c.benchmark_group("listing");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let html = listing_page(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(n.to_string(), |b| {
            b.iter(|| {
                let doc = dom::parse(&html, dom::Budget::default()).expect("parsed");
                let items = page::extract_list(&doc, &base, &rules);
                assert_eq!(items.len(), n);
                black_box((items, page::next_page(&doc, &base, &next)));
            });
        });
    }
    g.finish();
}

criterion_group!(benches, article, detect, listing);
criterion_main!(benches);
