//! One integration test binary (see Cargo.toml `autotests = false`).

mod cli;
mod crash;
mod delivery;
mod faults;
mod helpers;
mod pipeline;
