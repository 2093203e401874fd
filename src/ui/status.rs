//! The status bar: provider, progress, paging state, requests spent, notices, the help hint.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

use super::format::{thousands, truncate};
use super::header::fit;
use super::{short_error, spinner, theme};
use crate::action::Action;
use crate::app::{App, NoticeLevel, PagerState};

pub struct StatusBar<'a> {
    app: &'a App,
    now: DateTime<Utc>,
}

impl<'a> StatusBar<'a> {
    pub fn new(app: &'a App, now: DateTime<Utc>) -> StatusBar<'a> {
        StatusBar { app, now }
    }

    fn key(&self, action: Action, fallback: &str) -> String {
        self.app
            .keymap()
            .key_for(action)
            .map_or_else(|| fallback.to_string(), |k| k.to_string())
    }

    /// The paging state in a few words.
    fn paging(&self) -> Option<Span<'static>> {
        let span = match self.app.pager() {
            PagerState::Idle { next: None } => Span::styled("starting…", theme::dim()),
            PagerState::Idle { .. } => return None,
            PagerState::Loading { .. } => {
                Span::styled(format!("{} loading", spinner(self.now)), theme::accent())
            }
            PagerState::Exhausted => Span::styled("end", theme::dim()),
            PagerState::Failed { error, retry, .. } => {
                let what = short_error(error);
                let retry_key = self.key(Action::Retry, "r");
                // What to do first: a long error message is what gets cut at the edge, not the
                // countdown or the key.
                let text = match retry {
                    Some(r) => {
                        let secs = (r.at - self.now).num_seconds().max(0);
                        format!("✗ retrying in {secs}s · {retry_key} now · {what}")
                    }
                    None => format!("✗ {retry_key} to retry · {what}"),
                };
                Span::styled(text, theme::error().add_modifier(Modifier::BOLD))
            }
        };
        Some(span)
    }
}

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        buf.set_style(area, theme::status_bar());
        let sep = || Span::styled(" │ ", Style::new().fg(Color::DarkGray));
        let loaded = self.app.tweets().len() as u64;
        let progress = match self.app.profile().and_then(|p| p.media_count) {
            Some(total) => format!("{} / {} media", thousands(loaded), thousands(total)),
            None => format!("{} media", thousands(loaded)),
        };
        let mut left = vec![
            Span::styled(
                if self.app.config().demo {
                    format!(" demo · {} ", self.app.provider())
                } else {
                    format!(" {} ", self.app.provider())
                },
                Style::new().fg(Color::Black).bg(Color::Cyan),
            ),
            Span::raw(" "),
            Span::styled(self.app.user_label(), theme::bold()),
            sep(),
            Span::raw(progress),
        ];
        if let Some(p) = self.paging() {
            left.push(sep());
            left.push(p);
        }
        if let Some(n) = self.app.notice() {
            let style = match n.level {
                NoticeLevel::Info => Style::new().fg(Color::Green),
                NoticeLevel::Warning => theme::warning(),
                NoticeLevel::Error => theme::error(),
            };
            left.push(sep());
            left.push(Span::styled(n.text.clone(), style));
        }
        let spent = self.app.requests_spent();
        let right = format!(
            "{} req{} · {} help ",
            thousands(spent),
            if spent == 1 { "" } else { "s" },
            self.key(Action::ToggleHelp, "?")
        );
        let width = usize::from(area.width);
        let left_natural: usize = left.iter().map(Span::width).sum();
        // The left side matters more: shorten the right one before cutting the left.
        let right = if left_natural + right.width() < width || width >= 100 {
            right
        } else {
            format!("{} help ", self.key(Action::ToggleHelp, "?"))
        };
        let right_w = right.width();
        let show_right = width >= right_w + 20;
        let left_w = if show_right {
            width - right_w - 1
        } else {
            width
        };
        let left = fit(Line::from(left), left_w);
        buf.set_line(area.x, area.y, &left, area.width);
        if show_right {
            let x = area.x + u16::try_from(width - right_w).unwrap_or(0);
            buf.set_string(
                x,
                area.y,
                truncate(&right, right_w),
                Style::new().fg(Color::Gray),
            );
        }
    }
}
