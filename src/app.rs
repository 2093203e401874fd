//! The one owned application state and its only mutator, [`App::update`]: pure, no I/O.
//!
//! The runtime feeds every [`Msg`] to `update`, executes the returned [`Effect`]s, and draws with
//! [`crate::ui::draw`] when [`App::take_dirty`] says something changed. It sends `Msg::Tick(now)`
//! every [`App::tick_interval`] while that is `Some` (and none while idle).
//!
//! ```text
//! let mut app = App::new(kind, config);
//! app.update(Msg::Resized(w, h));
//! app.update(Msg::Tick(Utc::now()));          // the clock, before anything can fail
//! run(app.update(Msg::Started));              // -> FetchPage { req, cursor: None }
//! loop {
//!     select! (biased) { terminal event => Key/Mouse/Resized,
//!                        task result    => PageLoaded/PageFailed/RetryDue/…,
//!                        tick (only while app.tick_interval() is Some) => Tick(now) }
//!     drain everything pending through app.update, collecting effects;
//!     run effects:  FetchPage     -> provider task, answer PageLoaded/PageFailed { same req }
//!                   ScheduleRetry -> sleep(after), then RetryDue { req }
//!                   OpenUrl       -> `open` crate, OpenFailed(why) on error
//!                   CopyToClipboard -> write effect::osc52_sequence(text), CopyFailed on error
//!                   Quit          -> leave the loop (also app.should_quit())
//!     if app.take_dirty() { terminal.draw(|f| drawn = ui::draw(f, &app, Utc::now())) }
//!     // drawn.image_area is where the picture of app.selected_tweet() goes.
//! }
//! ```

pub mod pager;
pub mod timeline;

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use url::Url;

use crate::action::Action;
use crate::domain::{Media, MediaKind, Profile, ProviderKind, Tweet};
use crate::effect::{Effect, validate_open_url};
use crate::keymap::Keymap;
use crate::msg::Msg;
use crate::ui::layout::ScreenLayout;

pub use pager::{Pager, PagerState, ScheduledRetry};
pub use timeline::Timeline;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Fetch the next page when at most this many rows are left below the selection. Holding `j`
    /// (~30 rows/s) against ~1 s of latency needs ~30; 40 leaves room.
    pub prefetch_threshold: usize,
    /// Automatic retries of a failing retryable request before waiting for `r`.
    pub max_retries: u32,
    /// How long a notice ("copied link") stays.
    pub notice_ttl: Duration,
    pub keymap: Keymap,
    /// The account as the user named it (`@nasa`), shown until the profile arrives.
    pub user_label: String,
    /// Showing the bundled demo account (said in the status bar, always).
    pub demo: bool,
    /// Seed for retry jitter (fixed in tests).
    pub seed: u64,
    /// Hide media of tweets marked possibly sensitive until the user reveals them (`s`).
    pub hide_sensitive: bool,
    /// Command that plays videos and GIFs (`mpv`, `vlc --loop`): `O` runs it with the MP4's URL
    /// as the last argument. `None` opens them in the browser like photos.
    pub player: Option<String>,
    /// Draw the avatar and affiliate badge as pictures in the header (the terminal has real
    /// graphics: kitty, sixel or iTerm2).
    pub header_pictures: bool,
}

impl Default for AppConfig {
    fn default() -> AppConfig {
        AppConfig {
            prefetch_threshold: 40,
            max_retries: 4,
            notice_ttl: Duration::from_secs(3),
            keymap: Keymap::default(),
            user_label: String::new(),
            demo: false,
            seed: 0x5eed,
            hide_sensitive: true,
            player: None,
            header_pictures: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
    /// Set on the first tick after the notice appears, so a stale clock cannot expire it early.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct App {
    provider: ProviderKind,
    config: AppConfig,
    timeline: Timeline,
    pager: Pager,
    profile: Option<Profile>,
    requests_spent: u64,
    notice: Option<Notice>,
    show_help: bool,
    /// Rows of the help list scrolled past (a short terminal shows only part of it).
    help_scroll: usize,
    preview_visible: bool,
    /// Terminal size as last reported.
    area: Rect,
    /// Wall clock as of the last tick.
    now: DateTime<Utc>,
    /// Which of the selected tweet's pictures is shown (reset when the selection moves).
    media_index: usize,
    /// The picture on show failed to load (told by the runtime's image layer).
    picture_failed: bool,
    /// The header's (avatar, badge) pictures failed to load (told by the image layer).
    header_failed: (bool, bool),
    /// Tweets whose possibly-sensitive media the user chose to see (`s`), by id.
    revealed: std::collections::HashSet<String>,
    dirty: bool,
    quit: bool,
}

impl App {
    pub fn new(provider: ProviderKind, config: AppConfig) -> App {
        let pager = Pager::new(config.max_retries, config.seed);
        App {
            provider,
            config,
            timeline: Timeline::default(),
            pager,
            profile: None,
            requests_spent: 0,
            notice: None,
            show_help: false,
            help_scroll: 0,
            preview_visible: true,
            area: Rect::new(0, 0, 80, 24),
            now: DateTime::UNIX_EPOCH,
            media_index: 0,
            picture_failed: false,
            header_failed: (false, false),
            revealed: std::collections::HashSet::new(),
            dirty: true,
            quit: false,
        }
    }

    /// The first page request (same as sending `Msg::Started`). Empty when already started.
    pub fn start(&mut self) -> Vec<Effect> {
        self.dirty = true;
        self.pager.start().into_iter().collect()
    }

    // ---- read access for views and tests ----

    pub fn provider(&self) -> ProviderKind {
        self.provider
    }
    pub fn config(&self) -> &AppConfig {
        &self.config
    }
    pub fn keymap(&self) -> &Keymap {
        &self.config.keymap
    }
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }
    pub fn tweets(&self) -> &[Tweet] {
        self.timeline.tweets()
    }
    pub fn selected(&self) -> usize {
        self.timeline.selected()
    }
    pub fn selected_tweet(&self) -> Option<&Tweet> {
        self.timeline.selected_tweet()
    }

    /// The picture shown for the selected tweet: `(index, count, media)`, counting the tweet's
    /// own media and then its quoted tweet's.
    pub fn selected_media(&self) -> Option<(usize, usize, &Media)> {
        let all = previewable_media(self.selected_tweet()?);
        let i = self.media_index.min(all.len().checked_sub(1)?);
        Some((i, all.len(), all[i]))
    }
    /// Whether `tweet`'s pictures stay behind a notice: it (or the tweet it quotes) is marked
    /// possibly sensitive, hiding is on, and the user has not revealed it.
    pub fn media_hidden(&self, tweet: &Tweet) -> bool {
        self.config.hide_sensitive && is_sensitive(tweet) && !self.revealed.contains(&tweet.id)
    }
    pub fn pager(&self) -> &PagerState {
        self.pager.state()
    }
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }
    pub fn user_label(&self) -> String {
        match &self.profile {
            Some(p) => format!("@{}", p.handle),
            None => self.config.user_label.clone(),
        }
    }
    pub fn requests_spent(&self) -> u64 {
        self.requests_spent
    }
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }
    pub fn picture_failed(&self) -> bool {
        self.picture_failed
    }
    /// Whether the header's (avatar, badge) pictures failed to load.
    pub fn header_pictures_failed(&self) -> (bool, bool) {
        self.header_failed
    }
    pub fn show_help(&self) -> bool {
        self.show_help
    }

    /// Rows of the help list scrolled past.
    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }
    pub fn preview_visible(&self) -> bool {
        self.preview_visible
    }
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether something changed since the last call: draw when true.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// How often the runtime should send `Msg::Tick`: fast while the spinner turns, once a
    /// second for a countdown or a notice, never when nothing moves.
    pub fn tick_interval(&self) -> Option<Duration> {
        match self.pager.state() {
            PagerState::Loading { .. } => Some(Duration::from_millis(100)),
            PagerState::Failed { retry: Some(_), .. } => Some(Duration::from_secs(1)),
            _ if self.notice.is_some() => Some(Duration::from_millis(250)),
            _ => None,
        }
    }

    // ---- the update function ----

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Started => self.start(),
            Msg::Key(ev) => match self.config.keymap.action_for(&ev) {
                // Inside help the quit key closes it, as in less or htop: quitting by mistake
                // would throw away the loaded pages (each one a paid request to load again).
                // Ctrl-C quits from anywhere.
                Some(Action::Quit) if self.show_help && !is_ctrl_c(&ev) => {
                    self.perform(Action::ToggleHelp)
                }
                Some(action) => self.perform(action),
                None => Vec::new(),
            },
            Msg::Mouse(ev) => self.mouse(ev),
            Msg::Resized(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                self.dirty = true;
                self.after_move()
            }
            Msg::Tick(now) => {
                self.tick(now);
                Vec::new()
            }
            Msg::PageLoaded { req, page } => {
                let Some(accepted) = self.pager.accept(req) else {
                    return Vec::new();
                };
                self.dirty = true;
                if let Some(p) = page.profile {
                    self.merge_profile(p);
                }
                let added = if accepted.refresh {
                    self.timeline.replace(page.tweets)
                } else {
                    self.timeline.merge(page.tweets)
                };
                let capped = self.pager.finish(page.next_cursor, added);
                if let Some(w) = capped.or_else(|| page.warnings.first().cloned()) {
                    self.set_notice(w, NoticeLevel::Warning);
                }
                self.after_move()
            }
            Msg::PageFailed { req, error } => match self.pager.fail(req, error, self.now) {
                pager::Failure::Stale => Vec::new(),
                pager::Failure::Recorded { retry } => {
                    self.dirty = true;
                    retry.into_iter().collect()
                }
            },
            Msg::RetryDue { req } => {
                let effects: Vec<Effect> = self.pager.retry_due(req).into_iter().collect();
                self.dirty |= !effects.is_empty();
                effects
            }
            Msg::ProfileLoaded(p) => {
                self.merge_profile(p);
                self.dirty = true;
                Vec::new()
            }
            Msg::RequestsSpent(n) => {
                self.dirty |= n != self.requests_spent;
                self.requests_spent = n;
                Vec::new()
            }
            Msg::OpenFailed(why) => {
                self.set_notice(format!("could not open: {why}"), NoticeLevel::Error);
                Vec::new()
            }
            Msg::Notice(text) => {
                self.set_notice(text, NoticeLevel::Warning);
                Vec::new()
            }
            Msg::PictureFailed(failed) => {
                self.picture_failed = failed;
                Vec::new()
            }
            Msg::HeaderPicturesFailed { avatar, badge } => {
                // The header's layout changes.
                self.dirty |= self.header_failed != (avatar, badge);
                self.header_failed = (avatar, badge);
                Vec::new()
            }
            Msg::CopyFailed(why) => {
                self.set_notice(format!("could not copy: {why}"), NoticeLevel::Error);
                Vec::new()
            }
        }
    }

    fn merge_profile(&mut self, p: Profile) {
        // A page's embedded profile may be thinner than a lookup's: keep what we knew.
        self.profile = Some(match self.profile.take() {
            Some(old) => crate::source::merge_profile(p, old),
            None => p,
        });
        self.dirty = true;
    }

    fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        if let Some(n) = &mut self.notice {
            match n.expires_at {
                None => {
                    let ttl = chrono::Duration::from_std(self.config.notice_ttl)
                        .unwrap_or(chrono::Duration::seconds(3));
                    n.expires_at = Some(now + ttl);
                }
                Some(at) if now >= at => {
                    self.notice = None;
                    self.dirty = true;
                }
                Some(_) => {}
            }
        }
        if matches!(
            self.pager.state(),
            PagerState::Loading { .. } | PagerState::Failed { retry: Some(_), .. }
        ) {
            self.dirty = true;
        }
    }

    fn set_notice(&mut self, text: String, level: NoticeLevel) {
        self.notice = Some(Notice {
            text,
            level,
            expires_at: None,
        });
        self.dirty = true;
    }

    fn layout(&self) -> Option<ScreenLayout> {
        ScreenLayout::compute(self.area, self.preview_visible)
    }

    fn list_height(&self) -> u16 {
        self.layout().map_or(1, |l| l.list_inner().height.max(1))
    }

    /// Keeps the selection on screen and prefetches when it nears the end.
    fn after_move(&mut self) -> Vec<Effect> {
        self.timeline.ensure_visible(self.list_height());
        // Rows left below the selection, compared with the threshold.
        let below = self
            .timeline
            .len()
            .saturating_sub(self.timeline.selected() + 1);
        let near_end = self.timeline.is_empty() || below <= self.config.prefetch_threshold;
        if near_end {
            self.pager.fetch_next().into_iter().collect()
        } else {
            Vec::new()
        }
    }

    fn move_by(&mut self, delta: isize) -> Vec<Effect> {
        let target = self.timeline.selected().saturating_add_signed(delta);
        self.select(target)
    }

    /// Selects row `index` (clamped). Redraws only if something moved: holding `j` on the last
    /// row costs nothing.
    fn select(&mut self, index: usize) -> Vec<Effect> {
        let before = (self.timeline.selected(), self.timeline.offset());
        self.timeline.select(index);
        let effects = self.after_move();
        let after = (self.timeline.selected(), self.timeline.offset());
        if after.0 != before.0 {
            self.media_index = 0;
        }
        self.dirty |= before != after || !effects.is_empty();
        effects
    }

    fn perform(&mut self, action: Action) -> Vec<Effect> {
        if self.show_help {
            let rows = self.keymap().bindings().len();
            let max = crate::ui::help::max_scroll(self.area, rows);
            // A page keeps one row of the last one on screen.
            let page = crate::ui::help::rows_that_fit(self.area, rows)
                .saturating_sub(2)
                .max(1);
            let scroll = self.help_scroll.min(max);
            let to = match action {
                Action::ToggleHelp | Action::Back => {
                    self.show_help = false;
                    self.dirty = true;
                    return Vec::new();
                }
                // Only Ctrl-C gets here (`update` turns the other quit keys into closing).
                Action::Quit => None,
                // The overlay is modal: the moving keys scroll it, the others do nothing.
                Action::SelectNext => Some(scroll + 1),
                Action::SelectPrev => Some(scroll.saturating_sub(1)),
                Action::PageDown | Action::HalfPageDown => Some(scroll + page),
                Action::PageUp | Action::HalfPageUp => Some(scroll.saturating_sub(page)),
                Action::SelectFirst => Some(0),
                Action::SelectLast => Some(max),
                _ => return Vec::new(),
            };
            if let Some(to) = to {
                let to = to.min(max);
                self.dirty |= to != self.help_scroll;
                self.help_scroll = to;
                return Vec::new();
            }
        }
        let page = self.timeline.visible_rows(self.list_height());
        let page = isize::try_from(page).unwrap_or(isize::MAX);
        match action {
            Action::SelectNext => self.move_by(1),
            Action::SelectPrev => self.move_by(-1),
            Action::PageDown => self.move_by(page),
            Action::PageUp => self.move_by(-page),
            Action::HalfPageDown => self.move_by((page / 2).max(1)),
            Action::HalfPageUp => self.move_by(-(page / 2).max(1)),
            Action::SelectFirst => self.select(0),
            Action::SelectLast => self.select(usize::MAX),
            Action::OpenTweet => match self.selected_tweet().map(|t| t.url.clone()) {
                Some(url) => self.open(&url),
                None => Vec::new(),
            },
            Action::NextMedia | Action::PrevMedia => {
                let count = self
                    .selected_tweet()
                    .map_or(0, |t| previewable_media(t).len());
                if count > 1 {
                    let i = self.media_index.min(count - 1);
                    self.media_index = if action == Action::NextMedia {
                        (i + 1) % count
                    } else {
                        (i + count - 1) % count
                    };
                    self.dirty = true;
                }
                Vec::new()
            }
            Action::RevealSensitive => {
                let Some(tweet) = self.selected_tweet() else {
                    return Vec::new();
                };
                if !is_sensitive(tweet) {
                    self.set_notice(
                        "nothing hidden here: this tweet is not marked sensitive".into(),
                        NoticeLevel::Info,
                    );
                    return Vec::new();
                }
                let id = tweet.id.clone();
                if !self.revealed.remove(&id) {
                    self.revealed.insert(id);
                }
                self.dirty = true;
                Vec::new()
            }
            Action::OpenMedia => match self
                .selected_media()
                .map(|(_, _, m)| (m.kind, open_url_for(m)))
            {
                Some((MediaKind::Video | MediaKind::Gif, Ok(url)))
                    if self.config.player.is_some() =>
                {
                    self.play(&url)
                }
                Some((_, Ok(url))) => self.open(&url),
                Some((_, Err(why))) => {
                    self.set_notice(why.to_string(), NoticeLevel::Warning);
                    Vec::new()
                }
                None => {
                    self.set_notice("this tweet has no media".into(), NoticeLevel::Warning);
                    Vec::new()
                }
            },
            Action::CopyLink => match self.selected_tweet().map(|t| t.url.clone()) {
                Some(url) => {
                    self.set_notice("copied link".into(), NoticeLevel::Info);
                    vec![Effect::CopyToClipboard(url)]
                }
                None => Vec::new(),
            },
            Action::Retry => self.retry(),
            Action::TogglePreview => {
                self.preview_visible = !self.preview_visible;
                self.dirty = true;
                self.after_move()
            }
            Action::ToggleHelp => {
                self.show_help = !self.show_help;
                self.help_scroll = 0;
                self.dirty = true;
                Vec::new()
            }
            Action::Back => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Action::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
        }
    }

    fn retry(&mut self) -> Vec<Effect> {
        self.dirty = true;
        match self.pager.state() {
            PagerState::Failed { .. } => self.pager.retry_now().into_iter().collect(),
            // A broken picture (the shown one, or the header's avatar or badge) is retried on its
            // own: reloading the list would cost a request.
            _ if self.picture_failed => {
                self.set_notice("trying the picture again".into(), NoticeLevel::Info);
                vec![Effect::RetryPictures]
            }
            _ if self.header_failed.0 || self.header_failed.1 => {
                self.set_notice("trying the header pictures again".into(), NoticeLevel::Info);
                vec![Effect::RetryPictures]
            }
            PagerState::Loading { .. } => Vec::new(),
            PagerState::Idle { next: None } => self.pager.start().into_iter().collect(),
            PagerState::Idle { .. } | PagerState::Exhausted => {
                self.set_notice("refreshing".into(), NoticeLevel::Info);
                vec![self.pager.refresh()]
            }
        }
    }

    fn open(&mut self, url: &str) -> Vec<Effect> {
        match validate_open_url(url) {
            Ok(url) => {
                self.set_notice(format!("opened {url}"), NoticeLevel::Info);
                vec![Effect::OpenUrl(url)]
            }
            Err(why) => {
                self.set_notice(format!("not opening link: {why}"), NoticeLevel::Error);
                Vec::new()
            }
        }
    }

    /// Hands a video's URL to the configured player, validated like any link we open.
    fn play(&mut self, url: &str) -> Vec<Effect> {
        let Some(command) = self.config.player.clone() else {
            return self.open(url);
        };
        match validate_open_url(url) {
            Ok(url) => {
                let program = command.split_whitespace().next().unwrap_or_default();
                self.set_notice(format!("playing in {program}"), NoticeLevel::Info);
                vec![Effect::Play { url, command }]
            }
            Err(why) => {
                self.set_notice(format!("not playing: {why}"), NoticeLevel::Error);
                Vec::new()
            }
        }
    }

    fn mouse(&mut self, ev: MouseEvent) -> Vec<Effect> {
        if self.show_help {
            return Vec::new();
        }
        match ev.kind {
            MouseEventKind::ScrollDown => self.move_by(1),
            MouseEventKind::ScrollUp => self.move_by(-1),
            MouseEventKind::Down(MouseButton::Left) => {
                let Some(layout) = self.layout() else {
                    return Vec::new();
                };
                let inner = layout.list_inner();
                if !inner.contains(Position::new(ev.column, ev.row)) {
                    return Vec::new();
                }
                match self.timeline.index_at_line(ev.row - inner.y) {
                    Some(i) => self.select(i),
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }
}

/// Ctrl-C, which quits even from inside help.
fn is_ctrl_c(ev: &crossterm::event::KeyEvent) -> bool {
    ev.code == crossterm::event::KeyCode::Char('c')
        && ev
            .modifiers
            .contains(crossterm::event::KeyModifiers::CONTROL)
}

/// Every picture a tweet can show: its own media, then its quoted tweet's.
pub fn previewable_media(tweet: &Tweet) -> Vec<&Media> {
    tweet
        .media
        .iter()
        .chain(tweet.quoted.iter().flat_map(|q| q.media.iter()))
        .collect()
}

/// Marked possibly sensitive, itself or the tweet it quotes (whose pictures it also shows).
pub fn is_sensitive(tweet: &Tweet) -> bool {
    tweet.sensitive == Some(true)
        || tweet
            .quoted
            .as_ref()
            .is_some_and(|q| q.sensitive == Some(true))
}

/// The media a tweet is shown by: its first own media, else the first of the tweet it quotes.
/// The preview's picture and `OpenMedia` both use this, so they always agree.
pub fn primary_media(tweet: &Tweet) -> Option<&Media> {
    tweet
        .media
        .first()
        .or_else(|| tweet.quoted.as_ref().and_then(|q| q.media.first()))
}

/// The URL `OpenMedia` opens for a tweet's [`primary_media`]: a photo at original size, a video
/// or GIF as its best MP4.
pub fn media_url(tweet: &Tweet) -> Result<String, &'static str> {
    let media = primary_media(tweet).ok_or("this tweet has no media")?;
    open_url_for(media)
}

fn open_url_for(media: &Media) -> Result<String, &'static str> {
    match media.kind {
        MediaKind::Photo => {
            let url = media.url.as_deref().ok_or("this photo has no URL")?;
            photo_original(url).ok_or("this photo's URL is not valid")
        }
        MediaKind::Video | MediaKind::Gif => media
            .video_url
            .clone()
            .or_else(|| Media::best_mp4(&media.variants))
            .ok_or("no playable MP4 for this video"),
        // Its URL (if any) is only a preview image, and its kind is unknown: the tweet's page is
        // where it plays.
        MediaKind::Other => Err("xmedia cannot open this kind of media · o opens the tweet"),
    }
}

/// The photo URL at original size: any `name=` size parameter replaced by `name=orig`, other
/// parameters kept.
pub fn photo_original(url: &str) -> Option<String> {
    let mut parsed = Url::parse(url).ok()?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "name")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("name", "orig");
    Some(parsed.to_string())
}
