//! The preview's picture layer end to end, short of a real terminal: demo pages over loopback
//! HTTP, pictures downloaded from the demo server, decoded and encoded as half-blocks, drawn with
//! the rest of the screen on ratatui's `TestBackend`.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui_image::picker::{Picker, ProtocolType};
use xmedia::app::{App, AppConfig};
use xmedia::demo::{self, DemoOptions};
use xmedia::domain::ProviderKind;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::image_layer::{ImageLayer, PrefetchDepth};
use xmedia::media::download::Downloader;
use xmedia::media::encode::KittyPlacement;
use xmedia::media::graphics::fixed_picker;
use xmedia::media::kitty_direct;
use xmedia::media::pipeline::{ImageKey, ImagePipeline, PipelineConfig};
use xmedia::msg::{Msg, RequestId};
use xmedia::provider::{AnyProvider, Provider};

struct Harness {
    app: App,
    layer: ImageLayer,
    term: Terminal<TestBackend>,
    image_area: Option<Rect>,
    drawn: xmedia::ui::Drawn,
    /// What the layer asked to write to the terminal after each frame, in order.
    after_draw: String,
}

impl Harness {
    fn draw(&mut self) {
        self.draw_at(Instant::now());
    }

    /// Draws and syncs as if the clock read `at` (the layer learns the key rate from it).
    fn draw_at(&mut self, at: Instant) {
        let now = chrono::Utc::now();
        let (app, layer) = (&self.app, &self.layer);
        let mut drawn = xmedia::ui::Drawn::default();
        self.term
            .draw(|f| {
                drawn = xmedia::ui::draw(f, app, now);
                if let Some(a) = drawn.image_area {
                    layer.render_at(f, app, a, at);
                }
                layer.render_header(f, app, drawn.header);
            })
            .expect("draw");
        self.image_area = drawn.image_area;
        self.drawn = drawn;
        self.layer.sync_at(&self.app, &drawn, at);
        if let Some(commands) = self.layer.after_draw() {
            self.after_draw.push_str(&commands);
        }
    }

    /// The ids of the kitty pictures placed directly in the last frame.
    fn kitty_ids(&self) -> Vec<u32> {
        let buf = self.term.backend().buffer();
        let mut ids: Vec<u32> = buf
            .content()
            .iter()
            .filter_map(|c| kitty_direct::image_id(c.symbol()))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Waits for pictures until the shown one is on screen (a liveness limit, not a speed one).
    async fn settle(&mut self) {
        for _ in 0..50 {
            self.draw();
            if !self.area_text().contains("loading") {
                return;
            }
            // A picture held back after a quick key press is due shortly, with no event.
            if let Some(due) = self.layer.wake_at() {
                tokio::time::sleep_until(due.into()).await;
                continue;
            }
            let ev = tokio::time::timeout(Duration::from_secs(10), self.layer.next_event())
                .await
                .expect("a picture within 10 s");
            self.layer.on_event(ev, &self.app);
        }
        panic!("the shown picture never arrived");
    }

    /// Hands the layer's events to it and redraws, until `done` holds (checked before each
    /// event) or 50 events have passed; each event may take `wait`, saying `what` if not.
    async fn pump_until(&mut self, what: &str, wait: Duration, done: impl Fn(&Self) -> bool) {
        for _ in 0..50 {
            if done(self) {
                return;
            }
            let ev = tokio::time::timeout(wait, self.layer.next_event())
                .await
                .unwrap_or_else(|_| panic!("{what} within {wait:?}"));
            self.layer.on_event(ev, &self.app);
            self.draw();
        }
    }

    fn area_text(&self) -> String {
        self.rect_text(self.image_area.expect("an image area"))
    }

    fn rect_text(&self, area: Rect) -> String {
        let buf = self.term.backend().buffer();
        let mut s = String::new();
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                s.push_str(buf[(x, y)].symbol());
            }
            s.push('\n');
        }
        s
    }

    /// Whether the selected tweet's picture is still on its way.
    fn layer_busy(&self) -> bool {
        self.layer.is_pending(&self.app)
    }

    fn key(&mut self, c: char) {
        self.key_at(c, Instant::now());
    }

    fn key_at(&mut self, c: char, at: Instant) {
        self.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        self.draw_at(at);
    }

    /// The neighbours whose first picture the layer asks for, as offsets from the selection
    /// (+3 = the third tweet after it).
    fn prefetched_offsets(&self) -> Vec<isize> {
        let tweets = self.app.tweets();
        let sel = self.app.selected() as isize;
        let mut out: Vec<isize> = self
            .layer
            .wanted()
            .iter()
            .filter_map(|k| k.0.strip_suffix("/0"))
            .filter_map(|id| tweets.iter().position(|t| t.id.as_str() == id))
            .map(|i| i as isize - sel)
            .filter(|d| *d != 0)
            .collect();
        out.sort();
        out
    }
}

async fn harness() -> (Harness, demo::DemoServer) {
    harness_with(ProviderKind::Keyapi).await
}

async fn harness_with(kind: ProviderKind) -> (Harness, demo::DemoServer) {
    harness_with_config(kind, AppConfig::default()).await
}

/// The demo's profile as the X API's user lookup returns it (avatar and affiliate badge).
async fn demo_profile(server: &demo::DemoServer) -> xmedia::domain::Profile {
    let config = server.provider_config(ProviderKind::Xapi).expect("config");
    let provider = AnyProvider::new(config, HttpClient::new(&HttpConfig::default()));
    provider
        .lookup_user(demo::DEMO_HANDLE)
        .await
        .expect("lookup")
        .expect("a profile")
}

async fn harness_with_config(kind: ProviderKind, config: AppConfig) -> (Harness, demo::DemoServer) {
    harness_with_options(kind, config, DemoOptions::default()).await
}

async fn harness_with_options(
    kind: ProviderKind,
    config: AppConfig,
    options: DemoOptions,
) -> (Harness, demo::DemoServer) {
    let pictures = (
        fixed_picker(ProtocolType::Halfblocks, (10, 20)),
        PipelineConfig::default(),
    );
    harness_with_pipeline(kind, config, options, pictures).await
}

/// A harness whose pictures are made with `picker` and `pipeline_config`.
async fn harness_with_pipeline(
    kind: ProviderKind,
    config: AppConfig,
    options: DemoOptions,
    pictures: (Picker, PipelineConfig),
) -> (Harness, demo::DemoServer) {
    harness_editing_page(kind, config, options, pictures, |_| {}).await
}

/// [`harness_with_pipeline`], with the first page changed by `edit` before the app gets it.
async fn harness_editing_page(
    kind: ProviderKind,
    config: AppConfig,
    options: DemoOptions,
    (picker, pipeline_config): (Picker, PipelineConfig),
    edit: impl FnOnce(&mut xmedia::domain::Page),
) -> (Harness, demo::DemoServer) {
    let server = demo::start(options).await.expect("demo server");
    let http = HttpClient::new(&HttpConfig::default());
    let provider = AnyProvider::new(server.provider_config(kind).expect("config"), http.clone());
    let user = match kind {
        // The X API pages by user id (the app resolves the handle first).
        ProviderKind::Xapi => xmedia::domain::UserRef::id(demo::DEMO_USER_ID),
        _ => xmedia::domain::UserRef::handle(demo::DEMO_HANDLE),
    };
    let mut page = provider.fetch_page(&user, None).await.expect("first page");
    edit(&mut page);
    let mut app = App::new(kind, config);
    app.update(Msg::Resized(140, 42));
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page,
    });
    let pipeline = ImagePipeline::new(
        Downloader::new(http.reqwest().clone(), &Default::default()),
        picker,
        pipeline_config,
    );
    let h = Harness {
        app,
        layer: ImageLayer::new(pipeline),
        term: Terminal::new(TestBackend::new(140, 42)).expect("terminal"),
        image_area: None,
        drawn: Default::default(),
        after_draw: String::new(),
    };
    (h, server)
}

fn half_blocks(s: &str) -> usize {
    s.chars().filter(|c| matches!(c, '▀' | '▄' | '█')).count()
}

#[tokio::test]
async fn the_selected_picture_arrives_and_h_l_step_through_a_tweets_pictures() {
    let (mut h, _server) = harness().await;
    h.draw();
    let before = h.area_text();
    assert!(
        before.contains("loading"),
        "a loading badge first:\n{before}"
    );
    assert_eq!(half_blocks(&before), 0);

    h.settle().await;
    let shown = h.area_text();
    assert!(
        half_blocks(&shown) > 100,
        "a picture in half-blocks:\n{shown}"
    );
    // The demo's newest tweet has three photos.
    assert!(shown.contains("1/3"), "{shown}");

    h.key('l');
    h.settle().await;
    let second = h.area_text();
    assert!(second.contains("2/3"), "{second}");
    assert_ne!(shown, second, "a different picture");

    h.key('h');
    let back = h.area_text();
    assert!(back.contains("1/3"), "{back}");
    assert!(
        half_blocks(&back) > 100,
        "the first picture comes from the cache at once"
    );
}

/// Issue 4: "while a key is held, wait briefly (≈30 ms) before pushing image bytes". A single
/// press shows the cached picture at once; a press right after another (a held key) shows it
/// only once the keys pause for `HOLD_BACK`, and the layer says when to draw it.
#[tokio::test]
async fn while_a_key_is_held_pictures_wait_until_the_keys_pause() {
    let (mut h, _server) = harness().await;
    // Pictures of the first tweets in the cache: step through them slowly, one settle each.
    h.settle().await;
    for _ in 0..3 {
        h.key('j');
        h.settle().await;
    }
    for _ in 0..3 {
        h.key('k');
        h.settle().await;
    }
    assert!(half_blocks(&h.area_text()) > 100);

    let t0 = Instant::now() + Duration::from_secs(5);
    // One press after a pause: the picture at once.
    h.key_at('j', t0);
    assert!(
        half_blocks(&h.area_text()) > 100,
        "a single press shows its picture:\n{}",
        h.area_text()
    );
    assert_eq!(h.layer.wake_at(), None, "nothing held back");
    // The next press 33 ms later, as a held key repeats: held back, due 30 ms after the move.
    let t1 = t0 + Duration::from_millis(33);
    h.key_at('j', t1);
    assert_eq!(
        half_blocks(&h.area_text()),
        0,
        "held back:\n{}",
        h.area_text()
    );
    assert_eq!(h.layer.wake_at(), Some(t1 + ImageLayer::HOLD_BACK));
    // Still inside the hold-back: nothing yet, and the same time to wake for.
    h.draw_at(t1 + Duration::from_millis(10));
    assert_eq!(half_blocks(&h.area_text()), 0);
    assert_eq!(h.layer.wake_at(), Some(t1 + ImageLayer::HOLD_BACK));
    // Due: drawn, and nothing more to wake for.
    let due = t1 + ImageLayer::HOLD_BACK;
    h.draw_at(due);
    assert!(
        half_blocks(&h.area_text()) > 100,
        "shown once the keys pause:\n{}",
        h.area_text()
    );
    assert_eq!(h.layer.wake_at(), None);

    // Held back again; the runtime asks only after the due time has passed (a slow frame, a
    // long write): the picture is still due, so the runtime wakes at once instead of leaving it
    // on "loading" until the next key (what a once-flaky run of this test caught).
    let t2 = due + Duration::from_millis(33);
    h.key_at('j', t2);
    assert_eq!(half_blocks(&h.area_text()), 0);
    assert_eq!(h.layer.wake_at(), Some(t2 + ImageLayer::HOLD_BACK));
    // A frame without the preview (help over it) holds nothing back: nothing to wake for.
    h.key_at('?', t2 + Duration::from_millis(5));
    assert_eq!(h.layer.wake_at(), None, "help open: no picture to wake for");
}

#[tokio::test]
async fn help_hides_the_picture() {
    let (mut h, _server) = harness().await;
    h.draw();
    h.settle().await;
    assert!(half_blocks(&h.area_text()) > 100);
    h.key('?');
    let buf = h.term.backend().buffer();
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert_eq!(
        half_blocks(&text),
        0,
        "no picture left under the help overlay"
    );
    assert!(text.contains("Keys"), "help is open");
}

#[tokio::test]
async fn sensitive_media_stays_hidden_until_s_and_then_shows_at_once() {
    // Only the X API format carries the demo's sensitivity flag.
    let (mut h, _server) = harness_with(ProviderKind::Xapi).await;
    let at = h
        .app
        .tweets()
        .iter()
        .position(|t| t.sensitive == Some(true))
        .expect("the demo marks one tweet sensitive");
    for _ in 0..at {
        h.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('j'),
            KeyModifiers::NONE,
        )));
    }
    h.draw();
    // Its picture is fetched ahead like any other, but not drawn.
    h.pump_until("prefetch finishes", Duration::from_secs(10), |h| {
        !h.layer_busy()
    })
    .await;
    let hidden = h.area_text();
    assert_eq!(
        half_blocks(&hidden),
        0,
        "no picture while hidden:\n{hidden}"
    );
    assert!(hidden.contains("possibly sensitive"), "{hidden}");
    assert!(hidden.contains("s shows it"), "{hidden}");

    h.key('s');
    let shown = h.area_text();
    assert!(
        half_blocks(&shown) > 100,
        "revealed from the cache without waiting:\n{shown}"
    );
    h.key('s');
    assert_eq!(half_blocks(&h.area_text()), 0, "s hides it again");
}

/// With real graphics the header shows the avatar and the affiliate badge as pictures (drawn
/// here in half-blocks to read them back), and its text moves right to make room.
#[tokio::test]
async fn header_shows_avatar_and_badge_pictures_when_enabled() {
    let (mut h, server) = harness_with_config(
        ProviderKind::Xapi,
        AppConfig {
            header_pictures: true,
            ..AppConfig::default()
        },
    )
    .await;
    h.app
        .update(Msg::ProfileLoaded(demo_profile(&server).await));
    h.draw();
    let pics = h.drawn.header;
    let avatar = pics.avatar.expect("room for the avatar");
    let badge = pics.badge.expect("room for the badge");
    assert_eq!((avatar.width, avatar.height), (6, 3), "2h × h cells");
    assert!(badge.x > avatar.right(), "badge on the text's first line");
    h.pump_until("header pictures arrive", Duration::from_secs(10), |h| {
        half_blocks(&h.rect_text(avatar)) > 0 && half_blocks(&h.rect_text(badge)) > 0
    })
    .await;
    assert!(half_blocks(&h.rect_text(avatar)) > 0, "avatar drawn");
    assert!(half_blocks(&h.rect_text(badge)) > 0, "badge drawn");
    // The name starts after the avatar, not under it.
    let first_row = h.rect_text(Rect::new(0, 0, 140, 1));
    let name_col = first_row.find("Aster").expect("name on the first row");
    assert!(name_col >= usize::from(avatar.right()), "{first_row}");

    // Help open: no header pictures either (they would sit on top of the overlay).
    h.key('?');
    assert_eq!(half_blocks(&h.rect_text(avatar)), 0);
}

/// Kitty pictures placed directly are not erased by text drawn over them, so the layer deletes
/// each one the frame no longer draws: the old preview when the selection moves, everything
/// under the help overlay, everything at exit — and nothing that is still shown.
#[tokio::test]
async fn kitty_pictures_placed_directly_are_deleted_once_no_longer_drawn() {
    let direct = PipelineConfig {
        kitty: KittyPlacement::Direct,
        ..PipelineConfig::default()
    };
    let (mut h, server) = harness_with_pipeline(
        ProviderKind::Xapi,
        AppConfig {
            header_pictures: true,
            ..AppConfig::default()
        },
        DemoOptions::default(),
        (fixed_picker(ProtocolType::Kitty, (10, 20)), direct),
    )
    .await;
    h.app
        .update(Msg::ProfileLoaded(demo_profile(&server).await));
    h.settle().await;
    h.pump_until("header pictures arrive", Duration::from_secs(10), |h| {
        h.kitty_ids().len() == 3
    })
    .await;
    let first = h.kitty_ids();
    assert_eq!(first.len(), 3, "preview, avatar and badge placed");
    assert_eq!(
        h.after_draw, "",
        "nothing deleted while everything is shown"
    );
    // The deletions asked for, as a sorted list of ids (each checked to be exactly what
    // `kitty_direct::delete` writes).
    let deleted = |commands: &str| {
        let mut ids: Vec<u32> = commands
            .split_inclusive("\x1b\\")
            .map(|c| {
                let id = c
                    .strip_prefix("\x1b_Ga=d,d=I,i=")
                    .and_then(|r| r.split(',').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("not a deletion: {c:?}"));
                let mut expected = String::new();
                kitty_direct::delete(id, &mut expected);
                assert_eq!(c, expected);
                id
            })
            .collect();
        ids.sort_unstable();
        ids
    };

    h.key('j');
    h.settle().await;
    let second = h.kitty_ids();
    assert_eq!(second.len(), 3);
    let gone: Vec<u32> = first
        .iter()
        .copied()
        .filter(|id| !second.contains(id))
        .collect();
    assert_eq!(
        gone.len(),
        1,
        "only the preview changed: {first:?} → {second:?}"
    );
    assert_eq!(deleted(&std::mem::take(&mut h.after_draw)), gone);

    h.key('?');
    assert!(h.kitty_ids().is_empty(), "no picture over the help");
    assert_eq!(deleted(&std::mem::take(&mut h.after_draw)), second);

    h.key('?');
    assert_eq!(h.kitty_ids(), second, "drawn again from the cache");
    assert_eq!(h.after_draw, "");
    let at_exit = h.layer.before_exit().expect("deletions at exit");
    assert_eq!(deleted(&at_exit), second, "all taken off at exit");
    assert_eq!(h.layer.before_exit(), None);
}

/// A kitty picture placed directly sits on top of the text, and ratatui never rewrites the cells
/// it covers. So it must cover only its own cells, centred in the pane: the cells beside a 3:2
/// photo in a wide pane are then redrawn as blank once the help overlay closes, instead of
/// keeping the overlay's text and frame (a ghost seen in kitty 0.26).
#[tokio::test]
async fn a_direct_kitty_picture_covers_only_its_cells_and_leaves_no_ghost_beside_it() {
    let direct = PipelineConfig {
        kitty: KittyPlacement::Direct,
        ..PipelineConfig::default()
    };
    let (mut h, _server) = harness_with_pipeline(
        ProviderKind::Xapi,
        AppConfig::default(),
        DemoOptions::default(),
        (fixed_picker(ProtocolType::Kitty, (10, 20)), direct),
    )
    .await;
    // The first tweet's second photo is 1080×720: narrower than the pane is wide.
    h.key('l');
    h.settle().await;
    let area = h.image_area.expect("preview");
    let picture = {
        let buf = h.term.backend().buffer();
        let mut found = None;
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let symbol = buf[(x, y)].symbol();
                if kitty_direct::image_id(symbol).is_some() {
                    // Its size in pixels (`s=W,v=H`), in cells of 10×20 pixels.
                    let key = |k: &str| -> u16 {
                        symbol
                            .split([',', ';'])
                            .find_map(|kv| kv.strip_prefix(k))
                            .and_then(|n| n.parse::<u16>().ok())
                            .expect("picture size")
                    };
                    let (w, h) = (key("s=").div_ceil(10), key("v=").div_ceil(20));
                    found = Some(Rect::new(x, y, w, h));
                }
            }
        }
        found.expect("a picture in the preview")
    };
    // Below the badge row; centred across the pane and narrower than it.
    let below = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
    assert!(
        picture.width < below.width,
        "{picture:?} fills the width of {below:?}"
    );
    assert!(below.contains(picture.as_position()) && picture.bottom() <= below.bottom());
    let left = picture.x - below.x;
    let right = below.right() - picture.right();
    assert!(
        left.abs_diff(right) <= 1,
        "centred: {left} and {right} cells beside it"
    );

    h.key('?');
    assert!(h.kitty_ids().is_empty(), "help over the preview");
    h.key('?');
    assert_eq!(h.kitty_ids().len(), 1, "drawn again");
    let buf = h.term.backend().buffer();
    for y in below.top()..below.bottom() {
        for x in below.left()..below.right() {
            if picture.contains((x, y).into()) {
                continue;
            }
            assert_eq!(
                buf[(x, y)].symbol(),
                " ",
                "cell ({x},{y}) beside the picture {picture:?} still shows what was there"
            );
        }
    }
}

/// On a tweet without media the preview shows no picture, but the neighbours' pictures are
/// still fetched, and those already made are kept: moving on shows them at once.
#[tokio::test]
async fn a_tweet_without_media_keeps_the_neighbours_pictures_coming() {
    let (mut h, _server) = harness_editing_page(
        ProviderKind::Xapi,
        AppConfig::default(),
        DemoOptions::default(),
        (
            fixed_picker(ProtocolType::Halfblocks, (10, 20)),
            PipelineConfig::default(),
        ),
        |page| {
            let text_only = &mut page.tweets[1];
            text_only.media.clear();
            text_only.quoted = None;
        },
    )
    .await;
    // Single presses, a second apart (a held key would hold pictures back).
    let start = Instant::now();
    let at = |s: u64| start + Duration::from_secs(s);
    h.settle().await;
    let first = h.area_text();
    assert!(half_blocks(&first) > 100, "{first}");
    h.key_at('j', at(1));
    assert_eq!(h.image_area, None, "no picture for a tweet without media");
    assert!(
        !h.layer.wanted().is_empty(),
        "the neighbours' pictures are still wanted"
    );
    // Let the picture ahead arrive while the selection stays here.
    let next_key = ImageKey(format!("{}/0", h.app.tweets()[2].id.as_str()));
    assert!(
        h.layer.wanted().contains(&next_key),
        "{:?}",
        h.layer.wanted()
    );
    h.pump_until("the next picture", Duration::from_secs(10), |h| {
        h.layer.is_ready(&next_key)
    })
    .await;
    h.key_at('j', at(2));
    let next = h.area_text();
    assert!(
        half_blocks(&next) > 100 && !next.contains("loading"),
        "the picture after the text-only tweet is there at once:\n{next}"
    );
    h.key_at('k', at(3));
    h.key_at('k', at(4));
    let back = h.area_text();
    assert!(
        half_blocks(&back) > 100 && !back.contains("loading"),
        "the first picture was kept:\n{back}"
    );
}

#[tokio::test]
async fn header_stays_text_only_without_real_graphics() {
    let (mut h, server) = harness_with(ProviderKind::Xapi).await;
    h.app
        .update(Msg::ProfileLoaded(demo_profile(&server).await));
    h.draw();
    assert_eq!(h.drawn.header, Default::default());
    let first_row = h.rect_text(Rect::new(0, 0, 140, 1));
    assert!(first_row.starts_with(" Aster"), "{first_row}");
}

const KEY_REPEAT: Duration = Duration::from_millis(33);
const FAST_REPEAT: Duration = Duration::from_millis(15);

/// Moves the selection from `from` one tweet at a time (`down` = `j`) every `gap`, starting at
/// `t`; returns the time of the last move.
fn hold(
    depth: &mut PrefetchDepth,
    from: usize,
    moves: usize,
    down: bool,
    gap: Duration,
    t: Instant,
) -> Instant {
    let mut now = t;
    depth.selected(from, now);
    let mut at = from;
    for _ in 0..moves {
        now += gap;
        at = if down { at + 1 } else { at - 1 };
        depth.selected(at, now);
    }
    now
}

#[test]
fn fast_keys_with_slow_pictures_raise_the_prefetch_depth() {
    let t0 = Instant::now();
    let mut slow = PrefetchDepth::new();
    let mut fast = PrefetchDepth::new();
    for _ in 0..8 {
        slow.picture_took(Duration::from_millis(400));
        fast.picture_took(Duration::from_millis(40));
    }
    let reading = slow.ahead(t0);
    let end = hold(&mut slow, 0, 20, true, KEY_REPEAT, t0);
    hold(&mut fast, 0, 20, true, KEY_REPEAT, t0);
    let deep = slow.ahead(end);
    // 400 ms pictures, a tweet every 33 ms: 13 tweets go by while one picture is made.
    assert!(deep >= 13, "deep enough to hide 400 ms pictures: {deep}");
    assert!(deep > reading, "{deep} > {reading} before the keys");
    assert!(
        deep > fast.ahead(end),
        "slower pictures need more ahead: {deep} vs {}",
        fast.ahead(end)
    );
    // The same keys with pictures that take 3× longer go deeper still (until the bound).
    let mut slower = PrefetchDepth::new();
    slower.picture_took(Duration::from_millis(1200));
    hold(&mut slower, 0, 20, true, KEY_REPEAT, t0);
    assert!(slower.ahead(end) > deep);
}

#[test]
fn slow_navigation_keeps_the_reading_depth() {
    let t0 = Instant::now();
    let mut depth = PrefetchDepth::new();
    for _ in 0..8 {
        depth.picture_took(Duration::from_millis(400));
    }
    // Reading with slow pictures: ready for a held key's first tweets, within the calm bound.
    let calm = depth.calm_ahead();
    assert_eq!(
        calm,
        PrefetchDepth::MAX_CALM_AHEAD,
        "400 ms / 33 ms + 2 > 12"
    );
    let end = hold(&mut depth, 0, 10, true, Duration::from_secs(2), t0);
    assert_eq!(depth.ahead(end), calm);
    assert_eq!(depth.interval(), None, "each gap ends a burst");
    // Stepping slower than a picture takes: no deeper than reading.
    let end = hold(&mut depth, 10, 10, true, Duration::from_millis(500), end);
    assert_eq!(depth.ahead(end), calm);
}

#[test]
fn fast_pictures_keep_the_reading_depth_small() {
    let t0 = Instant::now();
    let mut depth = PrefetchDepth::new();
    assert_eq!(
        depth.calm_ahead(),
        PrefetchDepth::MAX_CALM_AHEAD,
        "300 ms assumed until a picture is measured"
    );
    for _ in 0..12 {
        depth.picture_took(Duration::from_millis(40));
    }
    // 40 ms pictures: two tweets of a held key, plus the margin.
    assert_eq!(depth.calm_ahead(), 4);
    let end = hold(&mut depth, 0, 10, true, Duration::from_secs(2), t0);
    assert_eq!(depth.ahead(end), 4);
}

#[test]
fn the_prefetch_depth_falls_back_once_the_keys_stop() {
    let t0 = Instant::now();
    let mut depth = PrefetchDepth::new();
    depth.picture_took(Duration::from_millis(400));
    let end = hold(&mut depth, 0, 20, true, KEY_REPEAT, t0);
    assert!(depth.ahead(end) > PrefetchDepth::MIN_AHEAD);
    let halfway = end + PrefetchDepth::CALM_AFTER / 2;
    assert_eq!(
        depth.ahead(halfway),
        depth.ahead(end),
        "a pause is not yet reading"
    );
    // One slower key within the burst does not shrink it (that would cancel the farthest
    // download, and the next fast key would start it again).
    let deep = depth.ahead(end);
    depth.selected(21, halfway);
    assert_eq!(depth.ahead(halfway), deep);
    let end = halfway;
    assert_eq!(
        depth.ahead(end + PrefetchDepth::CALM_AFTER),
        depth.calm_ahead()
    );
    assert!(depth.calm_ahead() < deep);
}

#[test]
fn the_prefetch_depth_stays_within_its_bounds() {
    let t0 = Instant::now();
    // Keys as fast as they come and pictures that never seem to arrive.
    let mut depth = PrefetchDepth::new();
    depth.picture_took(Duration::from_secs(30));
    let end = hold(&mut depth, 0, 500, true, Duration::from_micros(100), t0);
    assert_eq!(depth.ahead(end), PrefetchDepth::MAX_AHEAD);
    // Same-instant moves (several keys in one frame) do not divide by zero.
    let end = hold(&mut depth, 500, 50, true, Duration::ZERO, end);
    assert_eq!(depth.ahead(end), PrefetchDepth::MAX_AHEAD);
    // Pictures from a cache next door with fast keys: never fewer than the minimum.
    let mut quick = PrefetchDepth::new();
    quick.picture_took(Duration::ZERO);
    let end = hold(&mut quick, 0, 50, true, KEY_REPEAT, t0);
    assert_eq!(quick.ahead(end), PrefetchDepth::MIN_AHEAD);
}

#[test]
fn the_prefetch_depth_follows_the_direction_of_travel() {
    let t0 = Instant::now();
    let mut depth = PrefetchDepth::new();
    depth.picture_took(Duration::from_millis(400));
    let end = hold(&mut depth, 100, 20, false, KEY_REPEAT, t0);
    let (after, before) = depth.after_before(end);
    assert_eq!(after, PrefetchDepth::BEHIND);
    assert!(before > PrefetchDepth::MIN_AHEAD, "deep upwards: {before}");
    // Turning round keeps the depth (same burst) and points it the other way.
    let end = hold(&mut depth, 80, 3, true, KEY_REPEAT, end);
    let (after, back) = depth.after_before(end);
    assert_eq!((after, back), (before, PrefetchDepth::BEHIND));
}

/// The layer itself: holding `j` makes it ask for pictures further ahead than while reading,
/// and holding `k` turns that depth upwards. Times are made up, so the depth does not depend on
/// how fast this machine is (no picture is awaited, so the assumed latency is used).
#[tokio::test]
async fn holding_a_key_makes_the_layer_prefetch_deeper_in_that_direction() {
    let (mut h, _server) = harness().await;
    let t0 = Instant::now();
    h.draw_at(t0);
    let reading = h.prefetched_offsets();
    let max_read = reading.iter().copied().max().unwrap_or(0);
    let calm = h.layer.depth().calm_ahead() as isize;
    assert!(
        max_read <= calm && !reading.is_empty(),
        "the reading depth ahead while reading: {reading:?}"
    );
    // A fast repeat (15 ms a key) with the assumed 300 ms pictures needs more than reading.
    let mut now = t0 + Duration::from_secs(3);
    for _ in 0..4 {
        h.key_at('j', now);
        now += FAST_REPEAT;
    }
    let ahead = h.layer.depth().ahead(now - FAST_REPEAT) as isize;
    assert!(ahead > calm);
    let held = h.prefetched_offsets();
    let max_held = held.iter().copied().max().unwrap_or(0);
    assert!(
        max_held > calm && max_held <= ahead,
        "deeper while j is held, within {ahead}: {held:?}"
    );
    assert!(
        held.iter().all(|d| *d >= -(PrefetchDepth::BEHIND as isize)),
        "{held:?}"
    );

    // Read a while, then hold k: the depth points up.
    now += Duration::from_secs(3);
    for _ in 0..24 {
        h.key_at('j', now);
        now += Duration::from_secs(2);
    }
    for _ in 0..4 {
        h.key_at('k', now);
        now += FAST_REPEAT;
    }
    let up = h.prefetched_offsets();
    assert!(
        up.iter().copied().min().unwrap_or(0) < -calm,
        "deeper upwards while k is held: {up:?}"
    );
    assert!(
        up.iter().all(|d| *d <= PrefetchDepth::BEHIND as isize),
        "{up:?}"
    );
}

/// The depth is fed by how long pictures really take: with every picture answer held back
/// 600 ms by the demo, the layer's latency estimate is at least that (from its assumed 300 ms).
#[tokio::test]
async fn the_layer_learns_picture_latency_from_finished_pictures() {
    let faults = xmedia::demo::faults::Faults::parse(&["image-latency=600".to_string()])
        .expect("fault spec");
    let (mut h, _server) = harness_with_options(
        ProviderKind::Keyapi,
        AppConfig::default(),
        DemoOptions {
            faults,
            ..DemoOptions::default()
        },
    )
    .await;
    assert_eq!(h.layer.depth().latency(), PrefetchDepth::ASSUMED_LATENCY);
    h.draw();
    h.settle().await;
    let learnt = h.layer.depth().latency();
    assert!(
        learnt >= Duration::from_millis(600),
        "at least the server's delay: {learnt:?}"
    );
}

/// RELIABILITY-style failure of the header's pictures, end to end: with the demo's
/// `hostile-images` switch the avatar answers 404 and the badge is an endless 25 MiB body. The
/// layer reports both failed, and once the app is told (as `runtime::run` does before drawing)
/// the header's text starts at the left edge instead of after a blank 6×3 box.
#[tokio::test]
async fn a_failed_avatar_gives_its_room_back_to_the_header_text() {
    let faults =
        xmedia::demo::faults::Faults::parse(&["hostile-images".to_string()]).expect("fault spec");
    let (mut h, server) = harness_with_options(
        ProviderKind::Xapi,
        AppConfig {
            header_pictures: true,
            ..AppConfig::default()
        },
        DemoOptions {
            faults,
            ..DemoOptions::default()
        },
    )
    .await;
    h.app
        .update(Msg::ProfileLoaded(demo_profile(&server).await));
    h.draw();
    let avatar = h
        .drawn
        .header
        .avatar
        .expect("room kept while the avatar loads");
    let first_row = h.rect_text(Rect::new(0, 0, 140, 1));
    assert!(
        first_row.find("Aster").expect("name") >= usize::from(avatar.right()),
        "{first_row}"
    );
    assert_eq!(h.layer.header_failed(&h.app), (false, false));
    h.pump_until("header pictures finish", Duration::from_secs(20), |h| {
        h.layer.header_failed(&h.app) == (true, true)
    })
    .await;
    assert_eq!(h.layer.header_failed(&h.app), (true, true));
    let (avatar, badge) = h.layer.header_failed(&h.app);
    h.app.update(Msg::HeaderPicturesFailed { avatar, badge });
    h.draw();
    assert_eq!(h.drawn.header, Default::default(), "no room for pictures");
    let first_row = h.rect_text(Rect::new(0, 0, 140, 1));
    assert!(first_row.starts_with(" Aster"), "{first_row}");
    // The label follows the handle with the usual two spaces, no badge gap.
    let shown = first_row.trim_end();
    assert!(shown.contains("@xmedia_demo   Northlight"), "{shown}");
}
