//! niryat — watches Chhattisgarh district news for export-promotion meeting reports and posts
//! them to a Telegram channel.
//!
//! # Layout
//! Data flows one way: source → fetch → extract → detect → store → render → deliver.
//!
//! * [`core`]: the pure product logic — listing and article extraction, text normalisation,
//!   detection (topic, region, district) with reasons, summaries, Telegram HTML rendering,
//!   decoding, near-duplicate fingerprints. No tokio, reqwest, rusqlite or teloxide in there.
//! * [`config`]: the TOML file, parsed then validated into [`config::Settings`].
//! * [`fetch`]: polite, bounded HTTP (reqwest + rustls).
//! * [`store`]: SQLite (WAL, migrations) — seen URLs, articles, the post outbox, run history.
//! * [`notify`]: Telegram delivery (teloxide) or dry-run.
//! * [`pipeline`]: [`pipeline::App::build`] wires it all; `run_once` runs one pass and returns a report.
//! * [`schedule`]: the daemon loop, one cron job per source.
//! * [`shutdown`]: SIGINT/SIGTERM handling, checked between items.
//! * [`discover`]: `niryat discover` — fetches a page and its probes; [`core::discover`] judges them.

pub mod config;
pub mod core;
pub mod discover;
pub mod fetch;
pub mod notify;
pub mod pipeline;
pub mod schedule;
pub mod shutdown;
pub mod store;
