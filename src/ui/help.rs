//! The help overlay, generated from the live key map so it cannot drift from it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};
use unicode_width::UnicodeWidthStr;

use super::format::truncate;
use super::header::fit;
use super::theme;
use crate::keymap::Keymap;

pub struct HelpOverlay<'a> {
    keymap: &'a Keymap,
}

impl<'a> HelpOverlay<'a> {
    pub fn new(keymap: &'a Keymap) -> HelpOverlay<'a> {
        HelpOverlay { keymap }
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
        Block::bordered()
            .border_style(theme::accent())
            .title(Line::styled(" Keys ", theme::bold()))
            .title_bottom(Line::styled(" esc or ? to close ", theme::dim()).right_aligned())
            .render(popup, buf);
        let inner_w = usize::from(w.saturating_sub(4));
        let max_rows = usize::from(h.saturating_sub(4));
        let cut = rows.len() > max_rows;
        for (i, (keys, desc)) in rows.iter().take(max_rows).enumerate() {
            let y = popup.y + 2 + u16::try_from(i).unwrap_or(0);
            if cut && i + 1 == max_rows {
                let more = format!("… {} more (enlarge the terminal)", rows.len() - i);
                buf.set_line(
                    popup.x + 2,
                    y,
                    &Line::styled(truncate(&more, inner_w), theme::dim()),
                    w.saturating_sub(4),
                );
                break;
            }
            let keys = truncate(keys, key_w);
            let pad = key_w.saturating_sub(keys.width());
            let line = Line::from(vec![
                Span::styled(keys, theme::accent()),
                Span::raw(" ".repeat(pad + 2)),
                Span::raw(*desc),
            ]);
            buf.set_line(popup.x + 2, y, &fit(line, inner_w), w.saturating_sub(4));
        }
    }
}
