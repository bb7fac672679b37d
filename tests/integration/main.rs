//! One integration test binary (see Cargo.toml `autotests = false`).

mod bundled;
mod cli;
mod daemon;
mod delivery;
mod duplicates;
mod helpers;
mod pipeline;
mod politeness;
