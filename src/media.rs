//! Pictures for the preview pane: download → decode and shrink to the pane → encode for the
//! terminal → cache. Everything here is independent of the app state; the runtime drives
//! [`pipeline::ImagePipeline`] and hands its [`pipeline::ImageEvent`]s back to the app as messages.
//!
//! ```text
//!  want([selected, next, prev, …]) ──> job per picture (tokio task, abortable)
//!      download (semaphore, byte cap, magic check) ──> cache: bytes
//!      decode (spawn_blocking: limits before allocation, resize to the pane's pixel box)
//!      encode (a Picture for that cell box) ──> cache: previews
//!  next_event() ──> ImageReady / ImageFailed, only for what is still wanted
//! ```

pub mod cache;
pub mod contain;
pub mod decode;
pub mod download;
pub mod encode;
pub mod graphics;
pub mod jpeg;
pub mod kitty;
pub mod kitty_direct;
pub mod picture;
pub mod pipeline;
pub mod sixel;
pub mod size;

use thiserror::Error;

/// Why a picture could not be shown. The `Display` text is what the preview pane prints in place
/// of the picture, so it says what happened in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaError {
    #[error("could not download the picture: {0}")]
    Network(String),
    /// A local file (`xmedia render FILE`) that cannot be read.
    #[error("cannot read the file: {0}")]
    File(String),
    #[error("the image server answered HTTP {status}")]
    Http { status: u16 },
    #[error("the picture is larger than {} MiB; not downloaded", .limit >> 20)]
    TooLarge { limit: usize },
    #[error("not a picture: {what}")]
    NotAnImage { what: String },
    #[error(
        "the picture claims {width}x{height} pixels, over the {max_width}x{max_height} limit \
         (a decompression bomb?); not decoded"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("the picture has no pixels ({width}x{height})")]
    Empty { width: u32, height: u32 },
    #[error("the picture is {width}x{height}, too narrow to preview (more than {max}:1)")]
    ExtremeAspect { width: u32, height: u32, max: u32 },
    #[error("the picture is damaged or unsupported: {0}")]
    Decode(String),
    #[error("could not prepare the picture for the terminal: {0}")]
    Encode(String),
    /// A decoder or encoder panicked on this picture (a bug in it, caught; see `contain`).
    #[error("the picture made the decoder crash; skipped (decoder bug: {0})")]
    Crashed(String),
    #[error("cancelled")]
    Cancelled,
}
