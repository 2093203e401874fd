//! The view: lays out the screen and draws each pane from `&App`. Panes are short-lived structs
//! that borrow state for one frame; one file per pane.
//!
//! Wide terminal (≥ 100 columns; the header takes 2 lines below 20 rows):
//!
//! ```text
//!  Orbital Lab ✓ @orbitlab   X                                              ┐
//!  239.9M followers  ·  1,234 following  ·  4,487 media  ·  98.2K posts     │ header::Header
//!  Exploring the universe one launch at a time…  📍 Cape Canaveral, FL      ┘
//! ┌ Media ─────────────────────────────────┐┌ Tweet 1 of 6 ───────────────────┐
//! │▌ Static fire complete. All 33 engines…  ││ ┌─────────────────────────────┐ │
//! │▌   3h · 📷×2 · ♥ 1.2M  ⇄ 48.2K  ↩ 1,234 ││ │  Drawn::image_area (picture) │ │
//! │  Look at this 👇 absolutely stunning…   ││ └─────────────────────────────┘ │
//! │    Mar 4 · ♥ 10.0K  ⇄ 999  1.0M views   ││ Orbital Lab @orbitlab           │
//! │    ┃ @esa Our new deep-field image… 📷  ││ 2026-11-23 09:00 UTC (3h)       │
//! │  ⠋ loading more…                        ││ full text, metrics, media, URL  │
//! └─ timeline::TimelinePane ────────────────┘└─ preview::PreviewPane ──────────┘
//!  keyapi  @orbitlab │ 6 / 4,487 media │ ⠋ loading │ notice      1 req · ? help   status::StatusBar
//! ```
//!
//! Narrow: the preview stacks under the list when there is height for it (`p` toggles it);
//! below 40×10 only a "terminal too small" notice. The help overlay (`?`) floats on top.

pub mod format;
pub mod header;
pub mod help;
pub mod layout;
pub mod preview;
pub mod status;
pub mod timeline;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use crate::app::App;
use layout::{MIN_HEIGHT, MIN_WIDTH, ScreenLayout};

/// What the frame left for layers drawn outside ratatui's text cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    /// Where the selected tweet's picture goes (inside the preview pane), when it has media and
    /// there is room. The image layer renders into exactly this rectangle; the text layer leaves
    /// a placeholder there.
    pub image_area: Option<Rect>,
    /// Where a picture goes in the preview pane as drawn, whether or not the selected tweet has
    /// one: the box every preview picture is made for. On a tweet without media the image layer
    /// keeps fetching the neighbours' pictures for it.
    pub picture_box: Option<Rect>,
    /// The header's avatar and affiliate badge (only when the terminal draws real graphics).
    pub header: header::HeaderPictures,
}

/// Draws the whole screen. `now` dates relative times, the spinner and countdowns.
pub fn draw(frame: &mut Frame, app: &App, now: DateTime<Utc>) -> Drawn {
    let area = frame.area();
    let buf = frame.buffer_mut();
    let Some(layout) = ScreenLayout::compute(area, app.preview_visible()) else {
        too_small(area).render(area, buf);
        return Drawn::default();
    };
    let mut drawn = Drawn::default();
    let head = header::Header::new(app);
    drawn.header = head.pictures(layout.header);
    head.render(layout.header, buf);
    timeline::TimelinePane::new(app, now).render(layout.list, buf);
    if let Some(area) = layout.preview {
        let pane = preview::PreviewPane::new(app, now);
        drawn.image_area = pane.image_area(area);
        drawn.picture_box = preview::PreviewPane::picture_box(area);
        pane.render(area, buf);
    }
    status::StatusBar::new(app, now).render(layout.status, buf);
    if app.show_help() {
        help::HelpOverlay::new(app.keymap())
            .scrolled(app.help_scroll())
            .render(area, buf);
    }
    drawn
}

fn too_small(area: Rect) -> Paragraph<'static> {
    let w = usize::from(area.width);
    let mut lines = vec![
        Line::styled(
            format::truncate("Terminal too small", w),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::styled(
            format::truncate(
                &format!(
                    "{}×{}, need {MIN_WIDTH}×{MIN_HEIGHT}",
                    area.width, area.height
                ),
                w,
            ),
            Style::new().fg(Color::DarkGray),
        ),
    ];
    let pad = usize::from(area.height.saturating_sub(2) / 2);
    let mut padded = vec![Line::raw(""); pad];
    padded.append(&mut lines);
    Paragraph::new(padded).centered()
}

/// Shared palette, so panes agree.
pub(crate) mod theme {
    use ratatui::style::{Color, Modifier, Style};

    pub fn dim() -> Style {
        Style::new().fg(Color::DarkGray)
    }
    pub fn bold() -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn accent() -> Style {
        Style::new().fg(Color::Cyan)
    }
    pub fn error() -> Style {
        Style::new().fg(Color::Red)
    }
    pub fn warning() -> Style {
        Style::new().fg(Color::Yellow)
    }
    pub fn verified() -> Style {
        Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD)
    }
    pub fn selected() -> Style {
        Style::new().bg(Color::Indexed(236))
    }
    pub fn marker() -> Style {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn border() -> Style {
        Style::new().fg(Color::DarkGray)
    }
    pub fn status_bar() -> Style {
        Style::new().bg(Color::Indexed(235)).fg(Color::Gray)
    }
}

/// The error without its provider prefix (the status bar shows the provider) and without a
/// static "retry in 42s" (the panes show a live countdown instead).
pub(crate) fn short_error(e: &crate::error::ProviderError) -> String {
    e.brief()
}

/// Spinner frame for `now` (turns while the runtime ticks).
pub(crate) fn spinner(now: DateTime<Utc>) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let i = usize::try_from(now.timestamp_subsec_millis() / 100).unwrap_or(0) % FRAMES.len();
    FRAMES[i]
}
