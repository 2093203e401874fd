//! The help overlay, generated from the live key map so it cannot drift from it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};
use unicode_width::UnicodeWidthStr;

use super::format::truncate;
use super::header::fit;
use super::theme;
use crate::action::Action;
use crate::keymap::Keymap;

pub struct HelpOverlay<'a> {
    keymap: &'a Keymap,
    /// Rows scrolled past, when the list is taller than the screen allows.
    scroll: usize,
}

/// How many rows of the list fit on a screen of `area`.
pub fn rows_that_fit(area: Rect, rows: usize) -> usize {
    let want_h = u16::try_from(rows + 4).unwrap_or(u16::MAX);
    usize::from(want_h.min(area.height.saturating_sub(2)).saturating_sub(4))
}

/// The largest useful scroll for `rows` rows on a screen of `area`: the last row at the bottom.
pub fn max_scroll(area: Rect, rows: usize) -> usize {
    rows.saturating_sub(rows_that_fit(area, rows))
}

impl<'a> HelpOverlay<'a> {
    pub fn new(keymap: &'a Keymap) -> HelpOverlay<'a> {
        HelpOverlay { keymap, scroll: 0 }
    }

    /// The list scrolled by `rows` (kept within [`max_scroll`] when drawn).
    pub fn scrolled(self, rows: usize) -> Self {
        Self {
            scroll: rows,
            ..self
        }
    }

    /// `(keys, description)` rows, in action order.
    pub fn rows(&self) -> Vec<(String, &'static str)> {
        self.keymap
            .bindings()
            .into_iter()
            .map(|(action, keys)| {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                (keys.join(", "), action.description())
            })
            .collect()
    }
}

impl Widget for HelpOverlay<'_> {
    /// Draws centered in `area` (the whole screen).
    fn render(self, area: Rect, buf: &mut Buffer) {
        let rows = self.rows();
        let key_w = rows
            .iter()
            .map(|(k, _)| k.width())
            .max()
            .unwrap_or(0)
            .min(20);
        let desc_w = rows.iter().map(|(_, d)| d.width()).max().unwrap_or(0);
        let want_w = u16::try_from(key_w + desc_w + 7).unwrap_or(u16::MAX);
        let want_h = u16::try_from(rows.len() + 4).unwrap_or(u16::MAX);
        let w = want_w.min(area.width.saturating_sub(2));
        let h = want_h.min(area.height.saturating_sub(2));
        if w < 10 || h < 3 {
            return;
        }
        let popup = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        Clear.render(popup, buf);
        let inner_w = usize::from(w.saturating_sub(4));
        let max_rows = rows_that_fit(area, rows.len());
        let scroll = self.scroll.min(max_scroll(area, rows.len()));
        // When rows remain below, the last line says how many instead of showing one.
        let below = rows.len() > scroll + max_rows;
        let shown = if below {
            max_rows.saturating_sub(1)
        } else {
            max_rows
        };
        let close = if rows.len() > max_rows && shown > 0 {
            format!(
                " {}–{} of {} · esc, ? or q to close ",
                scroll + 1,
                scroll + shown,
                rows.len()
            )
        } else {
            " esc, ? or q to close ".to_string()
        };
        Block::bordered()
            .border_style(theme::accent())
            .title(Line::styled(" Keys ", theme::bold()))
            .title_bottom(Line::styled(close, theme::dim()).right_aligned())
            .render(popup, buf);
        for (i, (keys, desc)) in rows.iter().skip(scroll).take(shown).enumerate() {
            let y = popup.y + 2 + u16::try_from(i).unwrap_or(0);
            let keys = truncate(keys, key_w);
            let pad = key_w.saturating_sub(keys.width());
            let line = Line::from(vec![
                Span::styled(keys, theme::accent()),
                Span::raw(" ".repeat(pad + 2)),
                Span::raw(*desc),
            ]);
            buf.set_line(popup.x + 2, y, &fit(line, inner_w), w.saturating_sub(4));
        }
        if below && max_rows > 0 {
            let next = self
                .keymap
                .bindings()
                .into_iter()
                .find(|(action, _)| *action == Action::SelectNext)
                .and_then(|(_, keys)| keys.first().map(ToString::to_string));
            let hint = next.map_or(String::new(), |k| format!(" ({k} to scroll)"));
            let more = format!("… {} more{hint}", rows.len() - scroll - shown);
            let y = popup.y + 2 + u16::try_from(shown).unwrap_or(0);
            buf.set_line(
                popup.x + 2,
                y,
                &Line::styled(truncate(&more, inner_w), theme::dim()),
                w.saturating_sub(4),
            );
        }
    }
}
