//! One integration test binary (see Cargo.toml `autotests = false`).

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
mod ops;
mod pipeline;
mod politeness;
mod sources;
