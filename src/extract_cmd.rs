//! `niryat extract FILE|URL... [--json] [--source ID]`: what niryat reads from article pages.
//!
//! Saved pages are read from disk (charset detected as for fetched pages); URLs are fetched with
//! the polite fetcher and the config's `[fetch]` settings (or the source's, with `--source`). Each
//! page goes through [`readable::read_article`], the same call the pipeline makes, with the source's
//! `[sources.article]` selectors when `--source` is given.

use std::path::Path;

use niryat::config::{Settings, SourceSettings};
use niryat::core::dom::parse_html;
use niryat::core::{decode, readable};
use niryat::fetch::{FetchError, Fetcher, RequestOptions};
use serde::Serialize;
use url::Url;

/// Why one input could not be read. The other inputs are still read.
#[derive(Debug, thiserror::Error)]
enum InputError {
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// How the run went as a whole.
pub enum Outcome {
    /// Every input was read (some may have yielded no article text).
    Read,
    /// Some inputs failed: `files` unreadable files, `urls` failed fetches.
    Failed { files: usize, urls: usize },
}

/// One line of `--json` output.
#[derive(Serialize)]
struct JsonLine<'a> {
    input: &'a str,
    title: Option<&'a str>,
    published: Option<String>,
    body: &'a str,
    method: &'a str,
    date_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Reads every input in order and prints what was found. `settings` is needed for URLs and for
/// `source` (the caller loads it only then).
pub async fn run(
    inputs: &[String],
    json: bool,
    settings: Option<&Settings>,
    source: Option<&SourceSettings>,
) -> Outcome {
    let fetcher = match settings {
        Some(s) if inputs.iter().any(|i| as_url(i).is_some()) => {
            match Fetcher::new(s.fetch.clone()) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Outcome::Failed {
                        files: 0,
                        urls: inputs.len(),
                    };
                }
            }
        }
        _ => None,
    };
    let rules = source.and_then(|s| s.kind.article());
    let tz = settings.map_or(niryat::config::DEFAULT_TIMEZONE, |s| s.timezone);
    let (mut files, mut urls) = (0, 0);
    for input in inputs {
        let read = match (as_url(input), &fetcher, settings) {
            (Some(url), Some(fetcher), Some(settings)) => {
                let opts = match source {
                    Some(s) => RequestOptions {
                        timeout: s.timeout,
                        proxy: s.proxy.as_ref(),
                        respect_robots: s.respect_robots_txt,
                        allow_internal: true,
                    },
                    None => RequestOptions {
                        timeout: settings.fetch.timeout,
                        proxy: None,
                        respect_robots: settings.fetch.respect_robots_txt,
                        allow_internal: true,
                    },
                };
                fetcher
                    .get(&url, opts)
                    .await
                    .map(|page| {
                        readable::read_article(&parse_html(&page.text), url.as_str(), rules, tz)
                    })
                    .map_err(InputError::from)
            }
            _ => read_file(Path::new(input))
                .map(|html| readable::read_article(&parse_html(&html), "", rules, tz))
                .map_err(|source| InputError::File {
                    path: input.clone(),
                    source,
                }),
        };
        match read {
            Ok(r) => print_reading(input, &r, json, source),
            Err(e) => {
                match e {
                    InputError::File { .. } => files += 1,
                    InputError::Fetch(_) => urls += 1,
                }
                eprintln!("error: {e}");
                if json {
                    print_json(&JsonLine {
                        input,
                        title: None,
                        published: None,
                        body: "",
                        method: "error",
                        date_source: None,
                        error: Some(e.to_string()),
                    });
                }
            }
        }
    }
    if files + urls == 0 {
        Outcome::Read
    } else {
        Outcome::Failed { files, urls }
    }
}

/// An `http(s)://` input; anything else is a file path.
pub fn as_url(input: &str) -> Option<Url> {
    Url::parse(input)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// A saved page, decoded the way fetched pages are (BOM, `<meta charset>`, mislabels).
fn read_file(path: &Path) -> Result<String, std::io::Error> {
    let bytes = std::fs::read(path)?;
    Ok(decode::decode_html(&bytes, None).text)
}

fn print_json(line: &JsonLine<'_>) {
    match serde_json::to_string(line) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {}: cannot write JSON: {e}", line.input),
    }
}

fn print_reading(input: &str, r: &readable::Reading, json: bool, source: Option<&SourceSettings>) {
    if json {
        print_json(&JsonLine {
            input,
            title: Some(r.title.as_str()).filter(|t| !t.is_empty()),
            published: r.published.map(|d| d.to_string()),
            body: &r.body,
            method: r.method.as_str(),
            date_source: r.date_source,
            error: None,
        });
        return;
    }
    println!("== {input}");
    println!(
        "title:     {}",
        if r.title.is_empty() {
            "(none)"
        } else {
            &r.title
        }
    );
    match (r.published, r.date_source) {
        (Some(d), Some(from)) => println!("published: {d} (from {})", date_label(from)),
        (Some(d), None) => println!("published: {d}"),
        (None, _) => println!("published: (none found)"),
    }
    let method = match (r.method.as_str(), source) {
        ("selectors", Some(s)) => format!("selectors of source {}", s.id),
        (m, Some(s)) if r.selectors_missed => format!(
            "{m} (the body selector of source {} matched no text on this page)",
            s.id
        ),
        (m, Some(s)) if s.kind.article().is_none() => {
            format!("{m} (source {} has no [sources.article] selectors)", s.id)
        }
        (m, _) => m.to_string(),
    };
    println!("method:    {method}");
    if r.body.is_empty() {
        println!("body:      (empty: no article text found)\n");
    } else {
        println!(
            "body:      {} paragraph(s), {} chars\n{}\n",
            r.body.lines().count(),
            r.body.chars().count(),
            r.body
        );
    }
}

/// Where a date came from, in words.
fn date_label(source: &str) -> &str {
    match source {
        "article:published_time" => "<meta property=\"article:published_time\">",
        "json-ld" => "JSON-LD datePublished",
        "itemprop" => "<meta itemprop=\"datePublished\">",
        "time[datetime]" => "<time datetime> near the article",
        "date-text" => "visible date text near the article",
        "url" => "the date in the URL",
        "dprcg-id" => "the dprcg.gov.in post id (Unix time)",
        "date selector" => "the source's date selector",
        other => other,
    }
}
