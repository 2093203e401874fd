//! The profile header: who this is and how big the account is.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

use super::format::{compact, one_line, truncate};
use super::theme;
use crate::app::App;
use crate::domain::Profile;

pub struct Header<'a> {
    app: &'a App,
}

impl<'a> Header<'a> {
    pub fn new(app: &'a App) -> Header<'a> {
        Header { app }
    }
}

impl Widget for Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let width = usize::from(area.width.saturating_sub(2));
        let lines = match self.app.profile() {
            Some(p) => profile_lines(p, width),
            None => vec![
                Line::from(vec![Span::styled(self.app.user_label(), theme::bold())]),
                Line::styled("loading profile…", theme::dim()),
            ],
        };
        for (i, line) in lines.into_iter().take(usize::from(area.height)).enumerate() {
            let y = area.y + u16::try_from(i).unwrap_or(0);
            buf.set_line(
                area.x + 1,
                y,
                &fit(line, width),
                area.width.saturating_sub(2),
            );
        }
    }
}

fn profile_lines(p: &Profile, width: usize) -> Vec<Line<'static>> {
    let mut first = Vec::new();
    if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
        first.push(Span::styled(one_line(name), theme::bold()));
        first.push(Span::raw(" "));
    }
    if p.verified == Some(true) {
        first.push(Span::styled("✓ ", theme::verified()));
    }
    first.push(Span::styled(format!("@{}", p.handle), theme::dim()));
    if p.protected == Some(true) {
        first.push(Span::styled(" 🔒", theme::dim()));
    }
    if let Some(label) = p
        .affiliate
        .as_ref()
        .and_then(|a| a.label.as_deref())
        .filter(|l| !l.is_empty())
    {
        first.push(Span::raw("  "));
        first.push(Span::styled(
            format!(" {} ", one_line(label)),
            Style::new().fg(Color::Black).bg(Color::Gray),
        ));
    }

    let counts: Vec<(String, &str)> = [
        (p.followers, "followers"),
        (p.following, "following"),
        (p.media_count, "media"),
        (p.tweets, "posts"),
    ]
    .into_iter()
    .filter_map(|(n, label)| n.map(|n| (compact(n), label)))
    .collect();
    // Tighter separators before dropping a count; whole counts only.
    let total = |sep: usize| -> usize {
        counts
            .iter()
            .map(|(n, l)| n.len() + 1 + l.len())
            .sum::<usize>()
            + sep * counts.len().saturating_sub(1)
    };
    let sep = if total(5) <= width { "  ·  " } else { " · " };
    let mut stats = Vec::new();
    let mut used = 0;
    for (n, label) in counts {
        let sep_w = if stats.is_empty() { 0 } else { sep.width() };
        let w = sep_w + n.len() + 1 + label.len();
        if used + w > width {
            break;
        }
        used += w;
        if !stats.is_empty() {
            stats.push(Span::styled(sep, theme::dim()));
        }
        stats.push(Span::styled(n, theme::bold()));
        stats.push(Span::styled(format!(" {label}"), theme::dim()));
    }

    let mut about = Vec::new();
    if let Some(bio) = p.bio.as_deref().map(one_line).filter(|b| !b.is_empty()) {
        about.push(Span::raw(bio));
    }
    if let Some(loc) = p
        .location
        .as_deref()
        .map(one_line)
        .filter(|l| !l.is_empty())
    {
        // The location goes first in the budget: it is short and the bio is what gets cut.
        let loc = format!("  📍 {loc}");
        let loc_w = loc.width();
        if let Some(bio) = about.pop() {
            let room = width.saturating_sub(loc_w);
            about.push(Span::raw(truncate(&bio.content, room)));
        }
        about.push(Span::styled(loc, theme::dim()));
    }
    vec![Line::from(first), Line::from(stats), Line::from(about)]
}

/// Cuts a line's spans to `width` columns.
pub(crate) fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    let mut used = 0;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = span.width();
        if used + w <= width {
            used += w;
            spans.push(span);
        } else {
            let rest = width.saturating_sub(used);
            if rest > 0 {
                spans.push(Span::styled(truncate(&span.content, rest), span.style));
            }
            break;
        }
    }
    Line::from(spans).style(line.style)
}
