//! The pure product logic: no tokio, reqwest, rusqlite or teloxide here.
//!
//! Extraction ([`page`], [`readable`]), discovery of how to watch a site ([`discover`]), decoding ([`decode`], [`krutidev`]), identity
//! ([`canonical`], [`neardup`]), detection ([`text`], [`districts`], [`detect`] with its [`logit`] model, [`eval`]),
//! the post ([`dateline`], [`summary`], [`tags`], [`render`], [`quiet`]), and the bot's
//! commands and replies ([`bot`], [`replies`]). Each function takes text and returns
//! owned values, so it is tested with fixture pages in milliseconds.

pub mod article;
pub mod bot;
pub mod canonical;
pub mod dateline;
pub mod decode;
pub mod detect;
pub mod discover;
pub mod districts;
pub mod dom;
pub mod entries;
pub mod eval;
pub mod http;
pub mod krutidev;
pub mod logit;
pub mod neardup;
pub mod page;
pub mod quiet;
pub mod readable;
pub mod render;
pub mod replies;
pub mod summary;
pub mod tags;
pub mod text;

#[cfg(test)]
mod purity {
    /// The core is pure: it never names the async runtime, the HTTP client, the database, the
    /// Telegram library, nor any adapter module. One crate cannot have the compiler enforce
    /// that, so this test does: it fails when a file under `src/core` names one of them.
    #[test]
    fn the_core_never_names_io_crates_or_adapters() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let forbidden = [
            "tokio",
            "reqwest",
            "rusqlite",
            "teloxide",
            "axum",
            "hyper",
            "std::fs",
            "std::process",
        ];
        let adapters = [
            "app", "config", "delivery", "engine", "fetch", "intake", "listing", "notify",
            "policy", "schedule", "shutdown", "store",
        ];
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let code = std::fs::read_to_string(&path).unwrap();
            checked += 1;
            // Only the product code: unit tests (at the end of each file) may read fixtures.
            for (n, line) in code
                .lines()
                .enumerate()
                .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
            {
                let line = without_strings(line.split("//").next().unwrap_or_default());
                let words: Vec<&str> = line
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .collect();
                for w in &words {
                    let head = w.split("::").next().unwrap_or_default();
                    assert!(
                        !forbidden
                            .iter()
                            .any(|f| *w == *f || head == *f || w.starts_with(&format!("{f}::"))),
                        "{}:{}: the core names `{w}`",
                        path.display(),
                        n + 1
                    );
                    for a in adapters {
                        assert!(
                            !w.starts_with(&format!("crate::{a}")),
                            "{}:{}: the core uses the adapter `{w}`",
                            path.display(),
                            n + 1
                        );
                    }
                }
            }
        }
        assert!(checked >= 15, "read {checked} files");
    }

    /// A line of code with its string literals emptied (test data may name anything).
    fn without_strings(line: &str) -> String {
        let mut out = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for c in line.chars() {
            match (in_string, c) {
                (true, '\\') if !escaped => escaped = true,
                (true, '"') if !escaped => in_string = false,
                (true, _) => escaped = false,
                (false, '"') => in_string = true,
                (false, c) => out.push(c),
            }
        }
        out
    }
}
