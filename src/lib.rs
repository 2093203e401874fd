//! xmedia: a terminal media browser for X (Twitter) accounts.
//!
//! The library holds everything; `main.rs` only parses the command line and dispatches, so tests
//! and benchmarks drive the same code the binary runs.

pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod provider;
pub mod sanitize;
pub mod secret;
pub mod testing;
