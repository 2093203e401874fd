//! xmedia: a terminal media browser for X (Twitter) accounts.
//!
//! The library holds everything; `main.rs` only parses the command line and dispatches, so tests
//! and benchmarks drive the same code the binary runs.

pub mod action;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod domain;
pub mod dump;
pub mod effect;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod image_layer;
pub mod keymap;
pub mod late_answers;
pub mod logging;
pub mod media;
pub mod msg;
pub mod opener;
pub mod provider;
pub mod render_cmd;
pub mod retry;
pub mod runtime;
pub mod sanitize;
pub mod secret;
pub mod setup;
pub mod source;
pub mod testing;
pub mod tui;
pub mod ui;
