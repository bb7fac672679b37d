//! The pure product logic: no tokio, reqwest, rusqlite or teloxide here.
//!
//! Extraction ([`page`], [`readable`]), discovery of how to watch a site ([`discover`]), decoding ([`decode`], [`krutidev`]), identity
//! ([`canonical`], [`neardup`]), detection ([`text`], [`districts`], [`detect`], [`eval`]),
//! and the post ([`dateline`], [`summary`], [`render`]). Each function takes text and returns
//! owned values, so it is tested with fixture pages in milliseconds.

pub mod canonical;
pub mod dateline;
pub mod decode;
pub mod detect;
pub mod discover;
pub mod districts;
pub mod entries;
pub mod eval;
pub mod krutidev;
pub mod neardup;
pub mod page;
pub mod readable;
pub mod render;
pub mod summary;
pub mod text;
