//! The picture in the preview pane. Render state, like ratatui's `ListState`, so it lives beside
//! the pure `App` in the runtime rather than inside it: encoded terminal graphics are neither
//! comparable nor cheap to clone, and `App::update` stays testable without them.
//!
//! After every draw the runtime calls [`ImageLayer::sync`] with the area the preview left for the
//! picture; the layer tells the pipeline what is wanted now (the shown picture first, then the
//! rest of the tweet and its neighbours) and the pipeline cancels the rest. Finished pictures
//! come back through [`ImageLayer::next_event`] and are drawn by [`ImageLayer::render`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui_image::protocol::Protocol;

use crate::app::{App, previewable_media};
use crate::domain::{Media, MediaKind, Profile, Tweet};
use crate::media::picture::Picture;
use crate::media::pipeline::{ImageEvent, ImageKey, ImagePipeline, ImageRequest};
use crate::media::{kitty, kitty_direct};
use crate::ui::Drawn;
use crate::ui::format::duration_ms;
use crate::ui::header::HeaderPictures;

/// How many neighbours' first pictures are fetched ahead of the selection (in the direction it
/// last moved) and behind it, following what is observed: how fast the selection moves and how
/// long a picture takes. Pure: time comes in as arguments, so tests drive it with made-up
/// instants.
///
/// A held key moves the selection every ~33 ms; a picture is on screen at once only if its work
/// (settle wait, download, decode, encode) started at least that long before the selection
/// reaches it, so ahead ≈ ⌈latency / interval⌉ + [`PrefetchDepth::MARGIN`], within
/// [`PrefetchDepth::MIN_AHEAD`]..=[`PrefetchDepth::MAX_AHEAD`].
///
/// While the user reads, the depth is what the first keys of a hold would need at a typical
/// key-repeat rate ([`PrefetchDepth::calm_ahead`]: ⌈latency / 33 ms⌉ + margin, at most
/// [`PrefetchDepth::MAX_CALM_AHEAD`]): the key rate is only known from the second key, and a
/// hold that starts with only 3 pictures ahead outruns them for its first ~10 tweets (measured:
/// 84.5 % hits with a reading depth of 3, against 100 % with 12). With fast pictures (a near
/// CDN, a cache) that is just the minimum, so no bandwidth goes to tweets that will not be
/// looked at soon. Measured in docs/PERFORMANCE.md, 3(c).
#[derive(Debug, Clone)]
pub struct PrefetchDepth {
    /// Where the selection was and when it last changed.
    last_move: Option<(usize, Instant)>,
    /// Time per tweet of the latest move within a burst of moves; `None` while calm.
    interval: Option<Duration>,
    /// Smoothed time a picture takes; `None` until one has been measured.
    latency: Option<Duration>,
    /// The selection last moved towards later tweets (`j`), or earlier ones (`k`).
    forward: bool,
    /// The deepest the current burst has needed. Within a burst the depth only grows: shrinking
    /// by one on a slightly slower key would cancel the farthest download, and the next key
    /// would start it again.
    burst_ahead: usize,
}

impl Default for PrefetchDepth {
    fn default() -> Self {
        Self::new()
    }
}

impl PrefetchDepth {
    /// Fewest tweets fetched ahead.
    pub const MIN_AHEAD: usize = 3;
    /// Most tweets fetched ahead while the user reads (see [`PrefetchDepth::calm_ahead`]).
    pub const MAX_CALM_AHEAD: usize = 12;
    /// A held key's repeat interval on common terminals and desktops (~30 a second), for the
    /// depth to keep while reading.
    pub const KEY_REPEAT: Duration = Duration::from_millis(33);
    /// Most tweets fetched ahead, however fast the keys and slow the pictures.
    pub const MAX_AHEAD: usize = 24;
    /// Tweets fetched the other way.
    pub const BEHIND: usize = 2;
    /// Extra tweets ahead, for keys that come a little faster than the average and pictures
    /// that take a little longer.
    pub const MARGIN: usize = 2;
    /// No selection change for this long ends a burst: the user is reading.
    pub const CALM_AFTER: Duration = Duration::from_secs(1);
    /// What a picture is assumed to take until one has been measured (a far CDN plus decode).
    pub const ASSUMED_LATENCY: Duration = Duration::from_millis(300);
    /// A move of up to this many tweets between two frames counts as that many keys (the
    /// runtime draws once per wake, so a busy frame can take two or three presses); a longer
    /// jump (page, `G`) counts as one.
    const KEYS_PER_FRAME: usize = 4;

    pub fn new() -> Self {
        Self {
            last_move: None,
            interval: None,
            latency: None,
            forward: true,
            // Only read while a burst runs; set from `calm_ahead` when one starts.
            burst_ahead: Self::MIN_AHEAD,
        }
    }

    /// Records where the selection is at `now`; a change is a move (its direction and the time
    /// since the last one are learnt).
    pub fn selected(&mut self, index: usize, now: Instant) {
        let Some((was, at)) = self.last_move else {
            self.last_move = Some((index, now));
            return;
        };
        if index == was {
            return;
        }
        self.forward = index > was;
        let starting = self.interval.is_none();
        let gap = now.saturating_duration_since(at);
        if gap >= Self::CALM_AFTER {
            // The first move after reading starts a new burst; its rate is still unknown.
            self.interval = None;
            self.burst_ahead = self.calm_ahead();
        } else {
            if starting {
                // A burst starts from the reading depth, for the latency known now.
                self.burst_ahead = self.calm_ahead();
            }
            let keys = index.abs_diff(was);
            let keys = if keys > Self::KEYS_PER_FRAME { 1 } else { keys };
            let per_key = gap / u32::try_from(keys).unwrap_or(1);
            // The latest gap, not an average: a held key's first gap is the repeat delay
            // (~250–600 ms), and the depth should follow the repeat rate from the next key on.
            // `burst_ahead` keeps the deepest, so a slower key does not shrink it.
            self.interval = Some(per_key);
        }
        self.last_move = Some((index, now));
        self.update_burst();
    }

    /// Records how long a picture took (`ImageEvent::Ready::took`).
    pub fn picture_took(&mut self, took: Duration) {
        self.latency = Some(match self.latency {
            // Three parts old, one part new: one slow answer does not triple the depth.
            Some(old) => (old * 3 + took) / 4,
            None => took,
        });
        self.update_burst();
    }

    /// Smoothed picture latency (the assumed one until a picture was measured).
    pub fn latency(&self) -> Duration {
        self.latency.unwrap_or(Self::ASSUMED_LATENCY)
    }

    /// Time per tweet of the latest move in the current burst; `None` while calm.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Tweets ahead to cover pictures of the current latency at one tweet per `interval`.
    fn needed(&self, interval: Duration) -> usize {
        let interval = interval.max(Duration::from_millis(1));
        let steps = self.latency().as_nanos().div_ceil(interval.as_nanos());
        usize::try_from(steps)
            .unwrap_or(usize::MAX)
            .saturating_add(Self::MARGIN)
            .clamp(Self::MIN_AHEAD, Self::MAX_AHEAD)
    }

    /// The depth while the user reads: ready for the first keys of a hold at the usual repeat
    /// rate, within [`Self::MIN_AHEAD`]..=[`Self::MAX_CALM_AHEAD`].
    pub fn calm_ahead(&self) -> usize {
        self.needed(Self::KEY_REPEAT).min(Self::MAX_CALM_AHEAD)
    }

    fn update_burst(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let want = self.needed(interval).max(self.calm_ahead());
        self.burst_ahead = self.burst_ahead.max(want);
    }

    /// Tweets to fetch ahead in the direction of travel at `now`.
    pub fn ahead(&self, now: Instant) -> usize {
        match (self.interval, self.last_move) {
            (Some(_), Some((_, at))) if now.saturating_duration_since(at) < Self::CALM_AFTER => {
                self.burst_ahead
            }
            _ => self.calm_ahead(),
        }
    }

    /// (tweets after the selection, tweets before it) to fetch at `now`.
    pub fn after_before(&self, now: Instant) -> (usize, usize) {
        let ahead = self.ahead(now);
        if self.forward {
            (ahead, Self::BEHIND)
        } else {
            (Self::BEHIND, ahead)
        }
    }
}

enum Slot {
    Ready { picture: Picture, cells: Size },
    Failed(String),
}

pub struct ImageLayer {
    pipeline: ImagePipeline,
    slots: HashMap<ImageKey, Slot>,
    /// The header's avatar and badge: asked for while missing, kept across selections.
    header_slots: HashMap<ImageKey, Slot>,
    /// What was last asked for, to skip asking again when nothing changed.
    wanted: Vec<ImageKey>,
    cells: Option<Size>,
    depth: PrefetchDepth,
    placements: KittyPlacements,
    /// Set by a frame whose shown picture was held back ([`Self::HOLD_BACK`]); `render` takes
    /// `&self`, so [`Self::sync_at`] moves it into `wake` after the frame.
    held_this_frame: Cell<bool>,
    /// When the picture held back in the last frame is due ([`Self::wake_at`]).
    wake: Option<Instant>,
}

/// Kitty pictures placed directly ([`kitty_direct`]) stay on screen until deleted: text drawn
/// over them does not erase them as it erases a sixel. The ids drawn in each frame are noted,
/// and after the frame the ones no longer drawn are deleted.
#[derive(Debug, Default)]
struct KittyPlacements {
    /// Drawn in the frame being rendered (`render` takes `&self`).
    drawn: RefCell<Vec<u32>>,
    /// On screen since the last frame.
    shown: Vec<u32>,
}

impl KittyPlacements {
    fn note(&self, picture: &Picture, at: Rect) {
        if let Some(Protocol::Sixel(blob)) = picture.protocol()
            && let Some(id) = kitty_direct::image_id(&blob.data)
            // ratatui-image draws nothing in a box smaller than the picture.
            && blob.size.width <= at.width
            && blob.size.height <= at.height
        {
            self.drawn.borrow_mut().push(id);
        }
    }

    /// Deletes what was shown but not drawn in the frame just rendered.
    fn after_draw(&mut self, out: &mut String) {
        let drawn = std::mem::take(self.drawn.get_mut());
        for id in self.shown.iter().filter(|id| !drawn.contains(id)) {
            kitty_direct::delete(*id, out);
        }
        self.shown = drawn;
    }
}

/// Escape sequences to write, if there are any.
fn nonempty(out: String) -> Option<String> {
    (!out.is_empty()).then_some(out)
}

fn key(tweet: &Tweet, index: usize) -> ImageKey {
    ImageKey(format!("{}/{index}", tweet.id))
}

fn request(tweet: &Tweet, index: usize, media: &Media, cells: Size) -> Option<ImageRequest> {
    let url = media.url.as_deref()?;
    Some(
        ImageRequest::new(key(tweet, index).0, url, cells).with_original(media.width, media.height),
    )
}

impl ImageLayer {
    pub fn new(pipeline: ImagePipeline) -> Self {
        Self {
            pipeline,
            slots: HashMap::new(),
            header_slots: HashMap::new(),
            wanted: Vec::new(),
            cells: None,
            depth: PrefetchDepth::new(),
            placements: KittyPlacements::default(),
            held_this_frame: Cell::new(false),
            wake: None,
        }
    }

    /// Escape sequences to write to the terminal after a frame is drawn: the deletion of kitty
    /// pictures placed directly that the frame no longer shows, and of kitty placeholder
    /// pictures the app let go of ([`kitty::take_released`]), so the terminal does not keep
    /// their pixels. `None` when there are none (always, for the other protocols).
    pub fn after_draw(&mut self) -> Option<String> {
        let mut out = String::new();
        self.placements.after_draw(&mut out);
        kitty::take_released(&mut out);
        nonempty(out)
    }

    /// The deletions of kitty pictures let go of since the last frame, for when no frame is
    /// drawn (a picture evicted from the cache while the screen stays as it is). Safe between
    /// frames: a picture the layer still draws is held by its slot, so it is never let go of.
    pub fn released(&mut self) -> Option<String> {
        let mut out = String::new();
        kitty::take_released(&mut out);
        nonempty(out)
    }

    /// Escape sequences that take every picture the app placed or sent off the screen and out of
    /// the terminal's memory, for the exit.
    pub fn before_exit(&mut self) -> Option<String> {
        self.placements.drawn.get_mut().clear();
        let mut out = String::new();
        self.placements.after_draw(&mut out);
        kitty::take_all(&mut out);
        nonempty(out)
    }

    /// [`Self::sync_at`] now, by the clock.
    pub fn sync(&mut self, app: &App, drawn: &Drawn) {
        self.sync_at(app, drawn, Instant::now());
    }

    /// Declares what the screen wants after a draw at `now`: the preview's pictures for the
    /// preview's picture box (`drawn.picture_box`), and the header's avatar and badge while
    /// missing. How many neighbours are fetched follows [`PrefetchDepth`].
    pub fn sync_at(&mut self, app: &App, drawn: &Drawn, now: Instant) {
        self.depth.selected(app.selected(), now);
        // A frame that did not draw the preview (help open, preview hidden) holds nothing back.
        self.wake = if self.held_this_frame.take() {
            self.depth.last_move.map(|(_, at)| at + Self::HOLD_BACK)
        } else {
            None
        };
        // The pane's picture box, not the selected tweet's image area: on a tweet without media
        // the neighbours' pictures are still wanted, and kept.
        let mut wanted = self.preview_requests(app, drawn.picture_box, now);
        // Right after the shown picture: both are tiny and on screen the whole time.
        let header = self.header_requests(app, drawn.header);
        let at = wanted.len().min(1);
        wanted.splice(at..at, header);
        let keys: Vec<ImageKey> = wanted.iter().map(|r| r.key.clone()).collect();
        if keys != self.wanted {
            self.slots.retain(|k, _| keys.contains(k));
            tracing::debug!(
                cells = ?self.cells,
                first = ?keys.first(),
                count = keys.len(),
                after_before = ?self.depth.after_before(now),
                latency_ms = self.depth.latency().as_millis(),
                "pictures wanted"
            );
            self.wanted = keys;
            self.pipeline.want(wanted);
        }
    }

    /// The selected tweet's pictures (the shown one first), then the neighbours' first ones.
    fn preview_requests(
        &mut self,
        app: &App,
        area: Option<Rect>,
        now: Instant,
    ) -> Vec<ImageRequest> {
        let Some(area) = area.filter(|a| a.width > 0 && a.height > 0) else {
            return Vec::new();
        };
        let cells = Self::picture_cells(area);
        if cells.width == 0 || cells.height == 0 {
            return Vec::new();
        }
        if self.cells != Some(cells) {
            // Pictures are encoded for one box size; a resize makes them all stale.
            self.slots.clear();
            self.wanted.clear();
            self.cells = Some(cells);
        }
        let mut wanted = Vec::new();
        let tweets = app.tweets();
        let sel = app.selected();
        if let Some(tweet) = tweets.get(sel) {
            let media = previewable_media(tweet);
            let shown = app.selected_media().map_or(0, |(i, _, _)| i);
            // The shown picture, then the tweet's others in order.
            let order = std::iter::once(shown).chain((0..media.len()).filter(|i| *i != shown));
            // (A tweet without media has none: the picture box is there for the neighbours.)
            wanted.extend(order.filter_map(|i| request(tweet, i, media.get(i)?, cells)));
        }
        // The direction of travel first: those are the next to be selected.
        let (after, before) = self.depth.after_before(now);
        let later = (1..=after).filter_map(|d| tweets.get(sel + d));
        let earlier = (1..=before).filter_map(|d| sel.checked_sub(d).and_then(|i| tweets.get(i)));
        let around: Vec<&Tweet> = if after >= before {
            later.chain(earlier).collect()
        } else {
            earlier.chain(later).collect()
        };
        for t in around {
            if let Some(m) = previewable_media(t).first() {
                wanted.extend(request(t, 0, m, cells));
            }
        }
        wanted
    }

    /// The avatar and badge pictures not yet on hand for their current boxes.
    fn header_requests(&mut self, app: &App, pics: HeaderPictures) -> Vec<ImageRequest> {
        let Some(profile) = app.profile() else {
            return Vec::new();
        };
        let [avatar, badge] = header_urls(profile);
        let mut out = Vec::new();
        for (url, rect) in [(avatar, pics.avatar), (badge, pics.badge)] {
            let (Some(url), Some(rect)) = (url, rect) else {
                continue;
            };
            let cells = Size::new(rect.width, rect.height);
            let key = header_key(&url);
            match self.header_slots.get(&key) {
                Some(Slot::Ready { cells: c, .. }) if *c == cells => continue,
                Some(Slot::Failed(_)) => continue,
                Some(Slot::Ready { .. }) => {
                    // Drawn for another size (a resize): ask again.
                    self.header_slots.remove(&key);
                }
                None => {}
            }
            out.push(ImageRequest::new(key.0, url, cells).as_is());
        }
        out
    }

    /// Waits for the next finished picture. Pends forever when nothing is under way.
    pub async fn next_event(&mut self) -> ImageEvent {
        self.pipeline.next_event().await
    }

    /// The prefetch depth the layer works with (what it learnt so far).
    pub fn depth(&self) -> &PrefetchDepth {
        &self.depth
    }

    /// The keys last asked of the pipeline, most wanted first.
    pub fn wanted(&self) -> &[ImageKey] {
        &self.wanted
    }

    /// Whether the picture of `key` is made for the current box (ready to draw at once).
    pub fn is_ready(&self, key: &ImageKey) -> bool {
        matches!(self.slots.get(key), Some(Slot::Ready { cells, .. }) if Some(*cells) == self.cells)
    }

    /// Records a finished picture; returns whether the screen shows it (so a redraw is due).
    pub fn on_event(&mut self, event: ImageEvent, app: &App) -> bool {
        if event.key().0.starts_with(HEADER_KEY_PREFIX) {
            let (key, slot) = match event {
                ImageEvent::Ready {
                    key,
                    cells,
                    picture,
                    ..
                } => (key, Slot::Ready { picture, cells }),
                ImageEvent::Failed { key, reason } => {
                    tracing::debug!(?key, reason, "header picture unavailable");
                    (key, Slot::Failed(reason))
                }
            };
            self.header_slots.insert(key, slot);
            return true;
        }
        // Only preview pictures teach the depth: header pictures are tiny and fetched once.
        if let ImageEvent::Ready {
            took: Some(took), ..
        } = &event
        {
            self.depth.picture_took(*took);
        }
        let shown = self.shown_key(app);
        let is_shown = shown.as_ref() == Some(event.key());
        tracing::debug!(?event, is_shown, "picture finished");
        match event {
            ImageEvent::Ready {
                key,
                cells,
                picture,
                ..
            } => {
                self.slots.insert(key, Slot::Ready { picture, cells });
            }
            ImageEvent::Failed { key, reason } => {
                self.slots.insert(key, Slot::Failed(reason));
            }
        }
        is_shown
    }

    /// Drains finished pictures without waiting; returns whether any is on screen.
    pub fn drain(&mut self, app: &App) -> bool {
        let mut shown = false;
        while let Some(ev) = self.pipeline.try_next_event() {
            shown |= self.on_event(ev, app);
        }
        shown
    }

    /// Whether the shown picture failed (so `r` means "try the picture again").
    pub fn shown_failed(&self, app: &App) -> bool {
        self.shown_key(app)
            .is_some_and(|k| matches!(self.slots.get(&k), Some(Slot::Failed(_))))
    }

    /// Drops every failed picture so the next [`Self::sync`] asks for it again.
    pub fn retry_failed(&mut self) {
        self.slots.retain(|_, s| !matches!(s, Slot::Failed(_)));
        self.header_slots
            .retain(|_, s| !matches!(s, Slot::Failed(_)));
        self.wanted.clear();
        let n = self.pipeline.retry_failed();
        tracing::debug!(n, "retrying failed pictures");
    }

    /// Whether the selected picture has neither arrived nor failed yet.
    pub fn is_pending(&self, app: &App) -> bool {
        self.shown_key(app)
            .is_some_and(|k| !self.slots.contains_key(&k))
    }

    fn shown_key(&self, app: &App) -> Option<ImageKey> {
        let tweet = app.selected_tweet()?;
        let (i, _, _) = app.selected_media()?;
        Some(key(tweet, i))
    }

    /// Draws the shown picture (or why it is missing) into `area`, over the text placeholder.
    pub fn render(&self, frame: &mut Frame, app: &App, area: Rect) {
        self.render_at(frame, app, area, Instant::now());
    }

    /// While a key is held (moves closer together than [`Self::RAPID`]), the shown picture's
    /// bytes wait [`Self::HOLD_BACK`] after each move before they go to the terminal, so a
    /// held `j` scrolls the list instead of pushing a picture (hundreds of kilobytes of sixel,
    /// megabytes of kitty) through the terminal at every step; [`Self::wake_at`] tells the
    /// runtime when to draw it. A single key press shows its picture at once.
    pub const HOLD_BACK: Duration = Duration::from_millis(30);
    /// Moves closer together than this are a held key or fast tapping.
    pub const RAPID: Duration = Duration::from_millis(150);

    /// Whether the shown picture waits at `now` ([`Self::HOLD_BACK`]).
    fn holding_back(&self, selected: usize, now: Instant) -> bool {
        let Some((index, at)) = self.depth.last_move else {
            return false;
        };
        let since = now.saturating_duration_since(at);
        if index != selected {
            // A move this frame shows; the layer records it after the frame (`sync_at`).
            since < Self::RAPID
        } else {
            since < Self::HOLD_BACK && self.depth.interval.is_some_and(|i| i < Self::RAPID)
        }
    }

    /// When the picture the last frame held back is due, for the runtime to wake and draw it;
    /// `None` when that frame held nothing back. The time may already have passed (a slow frame,
    /// a long write after it): the runtime then draws at once.
    pub fn wake_at(&self) -> Option<Instant> {
        self.wake
    }

    /// [`Self::render`] at `now`.
    pub fn render_at(&self, frame: &mut Frame, app: &App, area: Rect, now: Instant) {
        // No picture under the help overlay: a sixel or kitty image would sit on top of it.
        if app.show_help() {
            return;
        }
        let (Some(tweet), Some((index, count, media))) =
            (app.selected_tweet(), app.selected_media())
        else {
            return;
        };
        // Possibly-sensitive media stays behind the text layer's notice until revealed (`s`);
        // the picture may already be cached, so revealing is instant.
        if app.media_hidden(tweet) {
            return;
        }
        // Nothing to fetch: the text layer's placeholder says why and stays visible.
        if media.url.is_none() {
            return;
        }
        let mut loading = false;
        // The badge row sits above the picture: a cell written over a sixel's anchor cell would
        // erase the whole picture.
        frame.render_widget(Clear, area);
        let (badge_row, area) = split_badge_row(area);
        let hold = self.holding_back(app.selected(), now);
        self.held_this_frame.set(hold);
        match self.slots.get(&key(tweet, index)) {
            Some(Slot::Ready { picture, cells }) if Some(*cells) == self.cells && !hold => {
                let size = picture.size();
                let w = size.width.min(area.width);
                let h = size.height.min(area.height);
                let at = Rect::new(
                    area.x + (area.width - w) / 2,
                    area.y + (area.height - h) / 2,
                    w,
                    h,
                );
                self.placements.note(picture, at);
                frame.render_widget(picture, at);
            }
            Some(Slot::Failed(reason)) => {
                let text = Paragraph::new(vec![
                    Line::from(""),
                    Line::styled("image unavailable", Style::new().fg(Color::Red)),
                    Line::styled(reason.as_str(), Style::new().fg(Color::DarkGray)),
                    Line::styled(
                        "(r tries again; O opens it)",
                        Style::new().fg(Color::DarkGray),
                    ),
                ])
                .centered()
                .wrap(Wrap { trim: true });
                frame.render_widget(text, area);
            }
            _ => {
                // Only blank cells under where the picture will go: text left there can survive
                // a sixel drawn over it in some terminals. The badge line says it is loading.
                loading = true;
            }
        }
        badge(frame, badge_row, index, count, media, loading);
    }

    /// Whether the header's (avatar, badge) pictures failed to load; the header then lays out
    /// its text without them (`Msg::HeaderPicturesFailed`). A retry forgets the failure.
    pub fn header_failed(&self, app: &App) -> (bool, bool) {
        let Some(profile) = app.profile() else {
            return (false, false);
        };
        let failed = |url: Option<String>| {
            url.is_some_and(|u| {
                matches!(
                    self.header_slots.get(&header_key(&u)),
                    Some(Slot::Failed(_))
                )
            })
        };
        let [avatar, badge] = header_urls(profile);
        (failed(avatar), failed(badge))
    }

    /// Draws the header's avatar and badge where the header left room for them. Nothing until
    /// they arrive (the room stays, so the text does not jump when they come); when they fail
    /// the header gives the room to its text ([`Self::header_failed`]).
    pub fn render_header(&self, frame: &mut Frame, app: &App, pics: HeaderPictures) {
        if app.show_help() {
            return;
        }
        let Some(profile) = app.profile() else {
            return;
        };
        let [avatar, badge] = header_urls(profile);
        for (url, rect) in [(avatar, pics.avatar), (badge, pics.badge)] {
            let (Some(url), Some(rect)) = (url, rect) else {
                continue;
            };
            if let Some(Slot::Ready { picture, cells }) = self.header_slots.get(&header_key(&url))
                && *cells == Size::new(rect.width, rect.height)
            {
                let size = picture.size();
                let (w, h) = (size.width.min(rect.width), size.height.min(rect.height));
                let at = Rect::new(
                    rect.x + (rect.width - w) / 2,
                    rect.y + (rect.height - h) / 2,
                    w,
                    h,
                );
                self.placements.note(picture, at);
                frame.render_widget(picture, at);
            }
        }
    }

    /// The box pictures are encoded for: the image area less its badge row.
    fn picture_cells(area: Rect) -> Size {
        let (_, pic) = split_badge_row(area);
        Size::new(pic.width, pic.height)
    }
}

const HEADER_KEY_PREFIX: &str = "header ";

fn header_key(url: &str) -> ImageKey {
    ImageKey(format!("{HEADER_KEY_PREFIX}{url}"))
}

/// The header pictures' URLs as fetched: [avatar (larger size), affiliate badge].
fn header_urls(profile: &Profile) -> [Option<String>; 2] {
    [
        profile.avatar_url.as_deref().map(larger_avatar),
        profile.affiliate.as_ref().and_then(|a| a.badge_url.clone()),
    ]
}

/// X serves profile pictures in named sizes (`_normal` is 48 px); 200 px is plenty for a few
/// cells and still small. Other URLs are used as they are.
fn larger_avatar(url: &str) -> String {
    match url.rsplit_once("_normal.") {
        Some((head, ext)) if !ext.contains('/') => format!("{head}_200x200.{ext}"),
        _ => url.to_string(),
    }
}

fn split_badge_row(area: Rect) -> (Rect, Rect) {
    let badge = Rect::new(area.x, area.y, area.width, area.height.min(1));
    let rest = Rect::new(
        area.x,
        area.y.saturating_add(1),
        area.width,
        area.height.saturating_sub(1),
    );
    (badge, rest)
}

/// "2/4", "▶ 0:27", "GIF" or "loading…" on the row above the picture.
fn badge(frame: &mut Frame, area: Rect, index: usize, count: usize, media: &Media, loading: bool) {
    let mut parts = Vec::new();
    if loading {
        parts.push("loading…".to_string());
    }
    if count > 1 {
        parts.push(format!("{}/{count}", index + 1));
    }
    match media.kind {
        MediaKind::Video => parts.push(match media.duration_ms {
            Some(ms) => format!("▶ {}", duration_ms(ms)),
            None => "▶".into(),
        }),
        MediaKind::Gif => parts.push("GIF".into()),
        MediaKind::Other => parts.push(media.label().to_string()),
        MediaKind::Photo => {}
    }
    if parts.is_empty() || area.height == 0 {
        return;
    }
    let text = format!(" {} ", parts.join(" · "));
    let width = (text.chars().count() as u16).min(area.width);
    let style = Style::new()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    frame.render_widget(
        Paragraph::new(Span::styled(text, style)),
        Rect::new(area.x, area.y, width, 1),
    );
}
