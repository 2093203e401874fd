//! The preview's picture layer end to end, short of a real terminal: demo pages over loopback
//! HTTP, pictures downloaded from the demo server, decoded and encoded as half-blocks, drawn with
//! the rest of the screen on ratatui's `TestBackend`.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui_image::picker::ProtocolType;
use xmedia::app::{App, AppConfig};
use xmedia::demo::{self, DemoOptions};
use xmedia::domain::ProviderKind;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::image_layer::ImageLayer;
use xmedia::media::download::Downloader;
use xmedia::media::graphics::fixed_picker;
use xmedia::media::pipeline::{ImagePipeline, PipelineConfig};
use xmedia::msg::{Msg, RequestId};
use xmedia::provider::{AnyProvider, Provider};

struct Harness {
    app: App,
    layer: ImageLayer,
    term: Terminal<TestBackend>,
    image_area: Option<Rect>,
    drawn: xmedia::ui::Drawn,
}

impl Harness {
    fn draw(&mut self) {
        let now = chrono::Utc::now();
        let (app, layer) = (&self.app, &self.layer);
        let mut drawn = xmedia::ui::Drawn::default();
        self.term
            .draw(|f| {
                drawn = xmedia::ui::draw(f, app, now);
                if let Some(a) = drawn.image_area {
                    layer.render(f, app, a);
                }
                layer.render_header(f, app, drawn.header);
            })
            .expect("draw");
        self.image_area = drawn.image_area;
        self.drawn = drawn;
        self.layer.sync(&self.app, &drawn);
    }

    /// Waits for pictures until the shown one is on screen (a liveness limit, not a speed one).
    async fn settle(&mut self) {
        for _ in 0..50 {
            self.draw();
            if !self.area_text().contains("loading") {
                return;
            }
            let ev = tokio::time::timeout(Duration::from_secs(10), self.layer.next_event())
                .await
                .expect("a picture within 10 s");
            self.layer.on_event(ev, &self.app);
        }
        panic!("the shown picture never arrived");
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
        self.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        self.draw();
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
    let server = demo::start(DemoOptions::default())
        .await
        .expect("demo server");
    let http = HttpClient::new(&HttpConfig::default());
    let provider = AnyProvider::new(server.provider_config(kind).expect("config"), http.clone());
    let user = match kind {
        // The X API pages by user id (the app resolves the handle first).
        ProviderKind::Xapi => xmedia::domain::UserRef::id(demo::DEMO_USER_ID),
        _ => xmedia::domain::UserRef::handle(demo::DEMO_HANDLE),
    };
    let page = provider.fetch_page(&user, None).await.expect("first page");
    let mut app = App::new(kind, config);
    app.update(Msg::Resized(140, 42));
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page,
    });
    let pipeline = ImagePipeline::new(
        Downloader::new(http.reqwest().clone(), &Default::default()),
        fixed_picker(ProtocolType::Halfblocks, (10, 20)),
        PipelineConfig::default(),
    );
    let h = Harness {
        app,
        layer: ImageLayer::new(pipeline),
        term: Terminal::new(TestBackend::new(140, 42)).expect("terminal"),
        image_area: None,
        drawn: Default::default(),
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
    for _ in 0..20 {
        if !h.layer_busy() {
            break;
        }
        let ev = tokio::time::timeout(Duration::from_secs(10), h.layer.next_event())
            .await
            .expect("prefetch finishes");
        h.layer.on_event(ev, &h.app);
        h.draw();
    }
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
    for _ in 0..50 {
        if half_blocks(&h.rect_text(avatar)) > 0 && half_blocks(&h.rect_text(badge)) > 0 {
            break;
        }
        let ev = tokio::time::timeout(Duration::from_secs(10), h.layer.next_event())
            .await
            .expect("header pictures arrive");
        h.layer.on_event(ev, &h.app);
        h.draw();
    }
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
