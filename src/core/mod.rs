//! The pure product logic: no tokio, reqwest, rusqlite or teloxide here.
//!
//! Extraction ([`page`], [`readable`]), decoding ([`decode`], [`krutidev`]), identity
//! ([`canonical`], [`neardup`]), detection ([`text`], [`districts`], [`detect`] with its [`logit`] model, [`eval`]),
//! and the post ([`dateline`], [`summary`], [`render`]). Each function takes text and returns
//! owned values, so it is tested with fixture pages in milliseconds.

pub mod article;
pub mod canonical;
pub mod dateline;
pub mod decode;
pub mod detect;
pub mod districts;
pub mod dom;
pub mod entries;
pub mod eval;
pub mod http;
pub mod krutidev;
pub mod logit;
pub mod neardup;
pub mod page;
pub mod readable;
pub mod render;
pub mod summary;
pub mod text;
