//! The selected tweet in full: text, author, date, metrics, media details, link. The top of the
//! pane is left to the image layer (see [`PreviewPane::image_area`]).

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use unicode_width::UnicodeWidthStr;

use super::format::{compact, duration_ms, full_date, one_line, relative_date, truncate, wrap};
use super::header::fit;
use super::layout::inner;
use super::theme;
use crate::app::{App, primary_media};
use crate::domain::{Media, MediaKind, Metrics, Tweet};

/// From this many inner rows the picture goes above the text (its upper two fifths).
const IMAGE_MIN_INNER_HEIGHT: u16 = 16;
/// A shorter pane (stacked under the list in a narrow terminal, or a short wide one) puts the
/// picture beside the text instead, on the left, when it is at least this wide and tall inside.
const BESIDE_MIN_INNER_WIDTH: u16 = 50;
const BESIDE_MIN_INNER_HEIGHT: u16 = 4;

pub struct PreviewPane<'a> {
    app: &'a App,
    now: DateTime<Utc>,
}

impl<'a> PreviewPane<'a> {
    pub fn new(app: &'a App, now: DateTime<Utc>) -> PreviewPane<'a> {
        PreviewPane { app, now }
    }

    /// The image layer's rectangle inside a preview pane drawn at `area`, when the selected
    /// tweet has a [`primary_media`]: the upper part of a tall pane, the left part of a short
    /// wide one (`picture_place`); `None` when there is no room. The picture to draw there is
    /// `primary_media(app.selected_tweet())`.
    pub fn image_area(&self, area: Rect) -> Option<Rect> {
        let tweet = self.app.selected_tweet()?;
        primary_media(tweet)?;
        Self::picture_box(area)
    }

    /// Where a picture goes in a preview pane drawn at `area`, whatever tweet is selected.
    pub fn picture_box(area: Rect) -> Option<Rect> {
        picture_place(inner(area)).map(|(picture, _)| picture)
    }
}

/// Where the picture and the text go inside a preview pane's `body` when there is a picture:
/// (picture, text). The split depends on the pane only, never on the tweet, so every picture
/// (the neighbours' ones fetched ahead too) is made for the same box.
fn picture_place(body: Rect) -> Option<(Rect, Rect)> {
    if body.width >= 10 && body.height >= IMAGE_MIN_INNER_HEIGHT {
        let h = (body.height * 2 / 5).min(24);
        let used = h + 1;
        return Some((
            Rect::new(body.x, body.y, body.width, h),
            Rect::new(body.x, body.y + used, body.width, body.height - used),
        ));
    }
    if body.width >= BESIDE_MIN_INNER_WIDTH && body.height >= BESIDE_MIN_INNER_HEIGHT {
        // Half the width at most, and about what a 16:9 picture as tall as the pane (less the
        // badge row) needs: 3.6 columns a row, cells being about twice as tall as wide. The text
        // keeps the rest.
        let w = (body.width / 2).min(body.height.saturating_sub(1) * 4);
        let used = w + 1;
        return Some((
            Rect::new(body.x, body.y, w, body.height),
            Rect::new(body.x + used, body.y, body.width - used, body.height),
        ));
    }
    None
}

impl Widget for PreviewPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let title = match self.app.tweets().len() {
            0 => " Tweet ".to_string(),
            n => format!(
                " Tweet {} of {} ",
                self.app.selected() + 1,
                compact(n as u64)
            ),
        };
        Block::bordered()
            .border_style(theme::border())
            .title(Line::styled(title, theme::bold()))
            .render(area, buf);
        let body = inner(area);
        if body.is_empty() {
            return;
        }
        let Some(tweet) = self.app.selected_tweet() else {
            return;
        };
        let mut text_area = body;
        if primary_media(tweet).is_some()
            && let Some((img, text)) = picture_place(body)
        {
            let shown = self.app.selected_media().map(|(_, _, m)| m);
            placeholder(shown, self.app.media_hidden(tweet), img, buf);
            text_area = text;
        }
        let inner_w = usize::from(text_area.width.saturating_sub(2));
        let lines = details(tweet, self.now, inner_w);
        for (i, line) in lines
            .into_iter()
            .take(usize::from(text_area.height))
            .enumerate()
        {
            let y = text_area.y + u16::try_from(i).unwrap_or(0);
            buf.set_line(
                text_area.x + 1,
                y,
                &fit(line, inner_w),
                text_area.width.saturating_sub(2),
            );
        }
    }
}

/// What stands where the picture goes until the image layer draws it (and instead of it for
/// hidden sensitive media, and for media with nothing to draw): the media `l`/`h` selected.
fn placeholder(media: Option<&Media>, hidden: bool, area: Rect, buf: &mut Buffer) {
    let label = match media {
        Some(m) if hidden => format!("⚠ possibly sensitive {} · s shows it", m.label()),
        Some(m) => {
            let mut s = m.label().to_string();
            if let (Some(w), Some(h)) = (m.width, m.height) {
                s.push_str(&format!(" {w}×{h}"));
            }
            // Nothing will be drawn over this placeholder: say why, and what works instead.
            if m.url.is_none() {
                s.push_str(match m.kind {
                    MediaKind::Other => " · no preview · o opens the tweet",
                    MediaKind::Photo => " · no picture URL · o opens the tweet",
                    MediaKind::Video | MediaKind::Gif if m.video_url.is_some() => {
                        " · no poster frame · O plays it"
                    }
                    MediaKind::Video | MediaKind::Gif => " · no poster frame",
                });
            }
            s
        }
        None => String::new(),
    };
    let r = Rect::new(
        area.x + 1,
        area.y,
        area.width.saturating_sub(2),
        area.height,
    );
    Block::bordered().border_style(theme::dim()).render(r, buf);
    let inner_w = usize::from(r.width.saturating_sub(2));
    let one_line = format!("[ {label} ]");
    // A narrow box (the picture beside the text) wraps the label rather than cut off what to
    // press; lines that still do not fit are cut.
    let lines = if one_line.width() <= inner_w {
        vec![one_line]
    } else {
        let rows = usize::from(r.height.saturating_sub(2)).max(1);
        let mut lines = wrap(&label, inner_w);
        lines.truncate(rows);
        lines
    };
    let style = if hidden {
        theme::warning()
    } else {
        theme::dim()
    };
    let n = u16::try_from(lines.len()).unwrap_or(0);
    let top = (r.y + r.height / 2)
        .saturating_sub(n.saturating_sub(1) / 2)
        .max(r.y + 1);
    for (i, line) in lines.into_iter().enumerate() {
        let text = truncate(&line, inner_w);
        let w = u16::try_from(text.width()).unwrap_or(0);
        let x = r.x + r.width.saturating_sub(w) / 2;
        let y = top + u16::try_from(i).unwrap_or(0);
        if y < r.bottom() {
            buf.set_string(x, y, text, style);
        }
    }
}

fn details(tweet: &Tweet, now: DateTime<Utc>, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.push(author_line(tweet));
    let mut when = Vec::new();
    if let Some(at) = tweet.created_at {
        // The relative age only where it adds something (within a week).
        let text = if (now - at).num_days() < 7 {
            format!("{} ({})", full_date(at), relative_date(at, now))
        } else {
            full_date(at)
        };
        when.push(Span::styled(text, theme::dim()));
    }
    if tweet.is_retweet {
        when.push(Span::styled("  ⟲ retweet", theme::accent()));
    }
    if tweet.sensitive == Some(true) {
        when.push(Span::styled("  ⚠ sensitive", theme::warning()));
    }
    if let Some(to) = &tweet.reply_to {
        // Providers give either the parent's author handle or only a tweet id.
        let to = to.trim_start_matches('@');
        let text = if to.is_empty() || to.bytes().all(|b| b.is_ascii_digit()) {
            "  ↪ reply".to_string()
        } else {
            format!("  ↪ reply to @{to}")
        };
        when.push(Span::styled(text, theme::accent()));
    }
    if !when.is_empty() {
        lines.push(Line::from(when));
    }
    lines.push(Line::raw(""));
    lines.extend(wrap(&tweet.text, width).into_iter().map(Line::raw));

    let metrics = metrics_long(&tweet.metrics);
    if !metrics.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(
            wrap_items(&metrics, " · ", width)
                .into_iter()
                .map(|l| Line::styled(l, theme::dim())),
        );
    }
    if !tweet.media.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(media_lines(&tweet.media, width, ""));
    }
    if let Some(q) = &tweet.quoted {
        lines.push(Line::raw(""));
        let bar = || Span::styled("┃ ", theme::dim());
        let mut head = vec![bar(), Span::styled("Quoting ", theme::dim())];
        head.extend(author_line(q).spans);
        lines.push(Line::from(head));
        let qw = width.saturating_sub(2);
        for l in wrap(&q.text, qw) {
            lines.push(Line::from(vec![bar(), Span::raw(l)]));
        }
        for l in media_lines(&q.media, qw, "") {
            let mut spans = vec![bar()];
            spans.extend(l.spans);
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(truncate(&tweet.url, width), theme::accent()));
    lines
}

fn author_line(tweet: &Tweet) -> Line<'static> {
    let mut spans = Vec::new();
    if let Some(name) = tweet.author.name.as_deref().filter(|n| !n.is_empty()) {
        spans.push(Span::styled(one_line(name), theme::bold()));
        spans.push(Span::raw(" "));
    }
    if let Some(h) = tweet.author.handle.as_deref() {
        spans.push(Span::styled(format!("@{h}"), theme::dim()));
    }
    Line::from(spans)
}

fn media_lines(media: &[Media], width: usize, indent: &str) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, m) in media.iter().enumerate() {
        let mut head = format!("{indent}{}. {}", i + 1, m.label());
        if let (Some(w), Some(h)) = (m.width, m.height) {
            head.push_str(&format!(" {w}×{h}"));
        }
        if let Some(ms) = m.duration_ms {
            head.push_str(&format!(" · {}", duration_ms(ms)));
        }
        lines.push(Line::styled(truncate(&head, width), theme::accent()));
        if let Some(alt) = m
            .alt_text
            .as_deref()
            .map(one_line)
            .filter(|a| !a.is_empty())
        {
            for l in wrap(&format!("alt: {alt}"), width.saturating_sub(3)) {
                lines.push(Line::styled(format!("{indent}   {l}"), theme::dim()));
            }
        }
    }
    lines
}

/// Joins `items` with `sep`, breaking lines only between items.
fn wrap_items(items: &[String], sep: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && line.width() + sep.width() + item.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str(sep);
        }
        line.push_str(&truncate(item, width));
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `1,234 likes`, `300 retweets`, …; unknown metrics left out.
fn metrics_long(m: &Metrics) -> Vec<String> {
    [
        (m.likes, "likes"),
        (m.retweets, "retweets"),
        (m.replies, "replies"),
        (m.quotes, "quotes"),
        (m.bookmarks, "bookmarks"),
        (m.views, "views"),
    ]
    .into_iter()
    .filter_map(|(v, label)| v.map(|v| format!("{} {label}", compact(v))))
    .collect()
}
