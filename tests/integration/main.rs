//! One integration test binary (see Cargo.toml `autotests = false`).

mod cli;
mod delivery;
mod helpers;
mod pipeline;
