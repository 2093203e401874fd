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

/// Where the header's small pictures go, for the image layer. Only when the terminal draws real
/// graphics (`AppConfig::header_pictures`): in half-blocks a 6×3-cell avatar is a smudge, and the
/// affiliate label already says what the badge would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderPictures {
    /// The avatar, square in pixels, at the left of the header.
    pub avatar: Option<Rect>,
    /// The affiliate badge, two cells wide, just before the affiliate label.
    pub badge: Option<Rect>,
}

/// The header needs this many columns before it gives some to the avatar.
const AVATAR_MIN_WIDTH: u16 = 60;
/// Cells the badge picture takes before the label.
const BADGE_CELLS: u16 = 2;

impl<'a> Header<'a> {
    pub fn new(app: &'a App) -> Header<'a> {
        Header { app }
    }

    /// The avatar box, when pictures are on, the profile has an avatar that did not fail to
    /// load, and there is room. A failed avatar gives its room back to the text rather than
    /// leaving a blank square or a placeholder: the name and handle right of it already say
    /// whose header this is, and a stand-in glyph would only point at what is missing.
    fn avatar_area(&self, area: Rect) -> Option<Rect> {
        let p = self.app.profile()?;
        p.avatar_url.as_ref()?;
        if !self.app.config().header_pictures
            || self.app.header_pictures_failed().0
            || area.height < 2
            || area.width < AVATAR_MIN_WIDTH
        {
            return None;
        }
        // Terminal cells are about twice as tall as wide: 2h × h cells is roughly square.
        Some(Rect::new(area.x + 1, area.y, area.height * 2, area.height))
    }

    /// The text's area: the header less the avatar and a column of space after it.
    fn text_area(&self, area: Rect) -> Rect {
        match self.avatar_area(area) {
            Some(a) => {
                let x = a.right() + 1;
                Rect::new(x, area.y, area.right().saturating_sub(x), area.height)
            }
            None => Rect::new(
                area.x + 1,
                area.y,
                area.width.saturating_sub(2),
                area.height,
            ),
        }
    }

    /// Where the pictures go when the header is drawn at `area`.
    pub fn pictures(&self, area: Rect) -> HeaderPictures {
        let text = self.text_area(area);
        let badge = self
            .first_line(usize::from(text.width))
            .1
            .map(|col| Rect::new(text.x + col, text.y, BADGE_CELLS, 1));
        HeaderPictures {
            avatar: self.avatar_area(area),
            badge,
        }
    }

    /// The lines, and the column of the badge slot on the first line when there is one.
    fn first_line(&self, width: usize) -> (Vec<Line<'static>>, Option<u16>) {
        match self.app.profile() {
            Some(p) => {
                // A failed badge leaves no gap before the label either.
                let slot = self.app.config().header_pictures
                    && !self.app.header_pictures_failed().1
                    && p.affiliate.as_ref().is_some_and(|a| a.badge_url.is_some());
                profile_lines(p, width, slot)
            }
            None => (
                vec![
                    Line::from(vec![Span::styled(self.app.user_label(), theme::bold())]),
                    Line::styled("loading profile…", theme::dim()),
                ],
                None,
            ),
        }
    }
}

impl Widget for Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let text = self.text_area(area);
        let width = usize::from(text.width);
        let (lines, _) = self.first_line(width);
        for (i, line) in lines.into_iter().take(usize::from(area.height)).enumerate() {
            let y = area.y + u16::try_from(i).unwrap_or(0);
            buf.set_line(text.x, y, &fit(line, width), text.width);
        }
    }
}

/// The header's three lines. With `badge_slot`, two blank cells are left before the affiliate
/// label for its badge picture, and their column is returned (when the line has room for them).
fn profile_lines(p: &Profile, width: usize, badge_slot: bool) -> (Vec<Line<'static>>, Option<u16>) {
    let mut first = Vec::new();
    let mut badge_col = None;
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
        if badge_slot {
            let col: usize = first.iter().map(Span::width).sum();
            let label_w = one_line(label).width() + 2;
            // Only when the badge and the whole label fit: a badge before a cut label looks lost.
            if col + usize::from(BADGE_CELLS) + 1 + label_w <= width {
                badge_col = u16::try_from(col).ok();
                first.push(Span::raw(" ".repeat(usize::from(BADGE_CELLS) + 1)));
            }
        }
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
    (
        vec![Line::from(first), Line::from(stats), Line::from(about)],
        badge_col,
    )
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
