//! The media-tweet list. Only the rows in the visible window are built each frame.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use unicode_width::UnicodeWidthStr;

use super::format::{compact, duration_ms, one_line, relative_date, truncate};
use super::header::fit;
use super::layout::inner;
use super::{short_error, spinner, theme};
use crate::action::Action;
use crate::app::timeline::{row_height, visible_offset};
use crate::app::{App, PagerState};
use crate::domain::{Media, MediaKind, Metrics, Tweet};

pub struct TimelinePane<'a> {
    app: &'a App,
    now: DateTime<Utc>,
}

impl<'a> TimelinePane<'a> {
    pub fn new(app: &'a App, now: DateTime<Utc>) -> TimelinePane<'a> {
        TimelinePane { app, now }
    }
}

impl Widget for TimelinePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Block::bordered()
            .border_style(theme::border())
            .title(Line::styled(" Media ", theme::bold()))
            .render(area, buf);
        let body = inner(area);
        if body.is_empty() {
            return;
        }
        let tweets = self.app.tweets();
        if tweets.is_empty() {
            self.render_empty(body, buf);
            return;
        }
        let selected = self.app.selected();
        // The app keeps the offset for its idea of the screen; re-derive it for this frame's
        // actual height so the selection is always drawn.
        let offset = visible_offset(tweets, selected, self.app.timeline().offset(), body.height);
        let width = usize::from(body.width);
        let mut y = body.y;
        let mut drew_last = false;
        for (i, tweet) in tweets.iter().enumerate().skip(offset) {
            let h = row_height(tweet);
            if y + h > body.bottom() {
                break;
            }
            let is_sel = i == selected;
            for (k, line) in row_lines(tweet, self.now, width).into_iter().enumerate() {
                let row_y = y + u16::try_from(k).unwrap_or(0);
                let line = if is_sel {
                    let mut l = line;
                    l.spans.insert(0, Span::styled("▌", theme::marker()));
                    fit(l, width).style(theme::selected())
                } else {
                    let mut l = line;
                    l.spans.insert(0, Span::raw(" "));
                    fit(l, width)
                };
                if is_sel {
                    buf.set_style(Rect::new(body.x, row_y, body.width, 1), theme::selected());
                }
                buf.set_line(body.x, row_y, &line, body.width);
            }
            y += h;
            drew_last = i + 1 == tweets.len();
        }
        if drew_last
            && y < body.bottom()
            && let Some(footer) = self.footer(width)
        {
            buf.set_line(body.x, y, &footer, body.width);
        }
    }
}

impl TimelinePane<'_> {
    fn retry_key(&self) -> String {
        self.app
            .keymap()
            .key_for(Action::Retry)
            .map_or_else(|| "retry".to_string(), |k| k.to_string())
    }

    /// The line under the last row: more coming, the end, or why not.
    fn footer(&self, width: usize) -> Option<Line<'static>> {
        let line = match self.app.pager() {
            PagerState::Loading { .. } => Line::styled(
                format!("  {} loading more…", spinner(self.now)),
                theme::dim(),
            ),
            PagerState::Exhausted => Line::styled("  — end —", theme::dim()),
            PagerState::Failed { error, retry, .. } => {
                let key = self.retry_key();
                let what = match retry {
                    Some(r) => format!(
                        "retrying in {}s · press {key} to retry now",
                        (r.at - self.now).num_seconds().max(0)
                    ),
                    None => format!("press {key} to retry"),
                };
                Line::styled(
                    format!("  ✗ {} · {what}", short_error(error)),
                    theme::error(),
                )
            }
            PagerState::Idle { .. } => return None,
        };
        Some(fit(line, width))
    }

    fn render_empty(&self, body: Rect, buf: &mut Buffer) {
        let lines = match self.app.pager() {
            PagerState::Idle { .. } | PagerState::Loading { .. } => vec![Line::styled(
                format!("{} loading media…", spinner(self.now)),
                theme::dim(),
            )],
            PagerState::Exhausted => vec![Line::styled("No media tweets.", theme::dim())],
            PagerState::Failed { error, retry, .. } => {
                let mut v = vec![
                    Line::styled("Could not load media", theme::error()),
                    Line::raw(""),
                    Line::raw(error.to_string()),
                    Line::raw(""),
                ];
                if retry.is_some() {
                    v.push(Line::styled("retrying automatically…", theme::dim()));
                }
                v.push(Line::styled(
                    format!("press {} to retry", self.retry_key()),
                    theme::dim(),
                ));
                v
            }
        };
        let top = body
            .height
            .saturating_sub(u16::try_from(lines.len()).unwrap_or(0))
            / 3;
        let area = Rect::new(
            body.x + 1.min(body.width),
            body.y + top,
            body.width.saturating_sub(2),
            body.height - top,
        );
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .centered()
            .render(area, buf);
    }
}

/// The lines of one row, without the selection marker column.
pub fn row_lines(tweet: &Tweet, now: DateTime<Utc>, width: usize) -> Vec<Line<'static>> {
    let text_w = width.saturating_sub(2);
    let mut first = vec![Span::raw(" ")];
    let mut used = 0;
    if tweet.is_retweet {
        // Retweet text usually starts "RT @author:" already; do not say it twice.
        let tag = if tweet.text.starts_with("RT @") {
            "⟲ "
        } else {
            "⟲ RT "
        };
        first.push(Span::styled(tag, theme::accent()));
        used += tag.chars().count();
    } else if tweet.reply_to.is_some() {
        first.push(Span::styled("↪ ", theme::accent()));
        used += 2;
    }
    let text = one_line(&tweet.text);
    let text = if text.is_empty() {
        "(no text)".to_string()
    } else {
        text
    };
    first.push(Span::raw(truncate(&text, text_w.saturating_sub(used))));

    let mut second = vec![Span::raw("   ")];
    let date = tweet
        .created_at
        .map_or_else(|| "?".to_string(), |at| relative_date(at, now));
    second.push(Span::styled(date, theme::dim()));
    let media = media_marker(&tweet.media);
    if !media.is_empty() {
        second.push(Span::styled(" · ", theme::dim()));
        second.push(Span::styled(media, theme::accent()));
    }
    if tweet.sensitive == Some(true) {
        second.push(Span::styled(" ⚠", theme::warning()));
    }
    // Whole metrics only: drop the ones that do not fit rather than cut a number.
    let mut used: usize = second.iter().map(Span::width).sum::<usize>() + 1;
    for (i, part) in metrics_compact(&tweet.metrics).into_iter().enumerate() {
        let sep = if i == 0 { " · " } else { "  " };
        let w = sep.width() + part.width();
        if used + w > width {
            break;
        }
        used += w;
        second.push(Span::styled(sep, theme::dim()));
        second.push(Span::styled(part, theme::dim()));
    }
    let mut lines = vec![Line::from(first), Line::from(second)];

    if let Some(q) = &tweet.quoted {
        let mut third = vec![Span::styled("   ┃ ", theme::dim())];
        if let Some(h) = q.author.handle.as_deref() {
            third.push(Span::styled(format!("@{h} "), theme::accent()));
        }
        let marker = media_marker(&q.media);
        let marker_w = unicode_width::UnicodeWidthStr::width(marker.as_str());
        let used: usize = third.iter().map(Span::width).sum();
        let room = width
            .saturating_sub(used + 1)
            .saturating_sub(if marker.is_empty() { 0 } else { marker_w + 1 });
        third.push(Span::styled(
            truncate(&one_line(&q.text), room),
            theme::dim(),
        ));
        if !marker.is_empty() {
            third.push(Span::raw(" "));
            third.push(Span::styled(marker, theme::accent()));
        }
        lines.push(Line::from(third));
    }
    lines
}

/// `📷×2`, `▶ 0:46`, `GIF`, `□ audio` (a type xmedia does not know), combined for mixed media.
pub fn media_marker(media: &[Media]) -> String {
    let photos = media.iter().filter(|m| m.kind == MediaKind::Photo).count();
    let mut parts = Vec::new();
    match photos {
        0 => {}
        1 => parts.push("📷".to_string()),
        n => parts.push(format!("📷×{n}")),
    }
    for m in media.iter().filter(|m| m.kind != MediaKind::Photo) {
        parts.push(match (m.kind, m.duration_ms) {
            (MediaKind::Video, Some(ms)) => format!("▶ {}", duration_ms(ms)),
            (MediaKind::Video, None) => "▶ video".to_string(),
            (MediaKind::Other, _) => format!("□ {}", m.label()),
            _ => "GIF".to_string(),
        });
    }
    parts.join(" ")
}

/// `♥ 1.2K`, `⇄ 300`, `↩ 12`, `❝ 4`, `⚑ 9`, `1.2M views`; unknown metrics left out.
pub fn metrics_compact(m: &Metrics) -> Vec<String> {
    let mut parts = Vec::new();
    for (v, sym) in [
        (m.likes, "♥"),
        (m.retweets, "⇄"),
        (m.replies, "↩"),
        (m.quotes, "❝"),
        (m.bookmarks, "⚑"),
    ] {
        if let Some(v) = v {
            parts.push(format!("{sym} {}", compact(v)));
        }
    }
    if let Some(v) = m.views {
        parts.push(format!("{} views", compact(v)));
    }
    parts
}
