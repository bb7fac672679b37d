//! One integration test binary (see Cargo.toml `autotests = false`).

mod bundled;
mod cli;
mod crash;
mod daemon;
mod delivery;
mod discover;
mod duplicates;
mod faults;
mod helpers;
mod pipeline;
mod politeness;
mod sources;
