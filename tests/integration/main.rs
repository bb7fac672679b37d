//! One integration test binary (see Cargo.toml `autotests = false`).

mod cli;
mod daemon;
mod delivery;
mod helpers;
mod pipeline;
mod politeness;
