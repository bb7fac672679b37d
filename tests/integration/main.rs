//! One integration test binary (see Cargo.toml `autotests = false`).

mod bot;
mod bundled;
mod cli;
mod crash;
mod daemon;
mod delivery;
mod discover;
mod duplicates;
mod extract;
mod faults;
mod hardening;
mod helpers;
mod operations;
mod ops;
mod pipeline;
mod politeness;
mod posts;
mod sources;
