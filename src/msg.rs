//! Facts the runtime reports to [`crate::app::App::update`], in the past tense.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

use crate::domain::{Page, Profile};
use crate::error::ProviderError;

/// Identifies one page request, so an answer that arrives after the app moved on is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The runtime is up; the app answers with its first `FetchPage`.
    Started,
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal is now `w` columns by `h` rows.
    Resized(u16, u16),
    /// Wall clock advanced. Sent periodically while [`crate::app::App::tick_interval`] is `Some`
    /// (spinner, countdown, notice expiry), and before the first draw.
    Tick(DateTime<Utc>),
    PageLoaded {
        req: RequestId,
        page: Page,
    },
    PageFailed {
        req: RequestId,
        error: ProviderError,
    },
    ProfileLoaded(Profile),
    /// Total requests spent on the provider since start (a running total, not an increment).
    RequestsSpent(u64),
    /// An `OpenUrl` effect failed (no browser, …); the text says why.
    OpenFailed(String),
    /// Something the user should read (config warnings, "showing the demo").
    Notice(String),
    /// Whether the picture on show failed to load (sent when that changes), which makes `r` try
    /// the picture again instead of reloading the list.
    PictureFailed(bool),
    /// Whether the header's avatar and affiliate badge pictures failed to load (sent when that
    /// changes): the header then gives their room back to its text.
    HeaderPicturesFailed {
        avatar: bool,
        badge: bool,
    },
    /// A `CopyToClipboard` effect failed.
    CopyFailed(String),
    /// The delay asked for by `Effect::ScheduleRetry { req, .. }` has passed.
    RetryDue {
        req: RequestId,
    },
}
