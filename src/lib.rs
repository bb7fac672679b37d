//! niryat — watches Chhattisgarh district news for export-promotion meeting reports and posts
//! them to a Telegram channel.
//!
//! # Layout
//! Data flows one way: source → fetch → extract → detect → store → render → deliver.
//!
//! * [`core`]: the pure product logic — the one [`core::article::Article`], parsing within a
//!   budget, listing and article extraction, text normalisation, detection (topic, region,
//!   district) with reasons, summaries, Telegram HTML rendering, decoding, near-duplicate
//!   fingerprints. No tokio, reqwest, rusqlite or teloxide in there (a test enforces it).
//! * [`config`]: the TOML file and `NIRYAT__…` environment overrides, parsed then validated
//!   into [`config::Settings`].
//! * [`fetch`]: polite, bounded HTTP (reqwest + rustls); links found on pages never reach
//!   internal addresses.
//! * [`engine`]: settings + fetcher + detector: the fetch/extract/classify half, which
//!   `test-source` runs alone. [`listing`] lists a source (html, feed, wordpress); [`intake`]
//!   turns an item into an article off the async runtime.
//! * [`policy`]: baseline, the per-pass cap and `max_age` — what happens to new items.
//! * [`store`]: SQLite (WAL, migrations) — seen URLs, articles, the post outbox, source health.
//! * [`notify`]: Telegram requests (teloxide) or dry-run; [`delivery`] drains the outbox and
//!   alerts the operator.
//! * [`app`]: [`app::App::build`] wires it all; `run_once` runs one pass and returns a report.
//! * [`schedule`]: the daemon loop, one cron job per source, and the [`bot`] beside it when
//!   `[bot] enabled` (teloxide's dispatcher, long polling; its pure half is [`core::bot`] and
//!   [`core::replies`]).
//! * [`health`]: each source's health, next run and readiness, as `niryat status`, the status
//!   page and `/readyz` see them; [`metrics`]: the Prometheus metrics; [`server`]: the HTTP
//!   endpoint (`/healthz`, `/readyz`, `/metrics`, the status page `/`).
//! * [`shutdown`]: SIGINT/SIGTERM handling, checked between items; SIGHUP asks for a reload.
//! * [`workers`]: one thread per core that decodes, parses and classifies fetched pages.
//! * [`logging`]: text or JSON logs (`NIRYAT_LOG_FORMAT`), the token redacted from every line.
//! * [`backoff`], [`errors`]: the one backoff policy and the one error-chain formatter.
//! * [`discover`]: `niryat discover` — fetches a page and its probes; [`core::discover`] judges them.

#![forbid(unsafe_code)]

pub mod app;
pub mod backoff;
pub mod bot;
pub mod config;
pub mod core;
pub mod delivery;
pub mod discover;
pub mod engine;
pub mod errors;
pub mod fetch;
pub mod health;
pub mod intake;
pub mod listing;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod policy;
pub mod schedule;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod workers;
