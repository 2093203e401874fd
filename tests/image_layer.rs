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
}

impl Harness {
    fn draw(&mut self) {
        let now = chrono::Utc::now();
        let (app, layer) = (&self.app, &self.layer);
        let mut area = None;
        self.term
            .draw(|f| {
                let drawn = xmedia::ui::draw(f, app, now);
                if let Some(a) = drawn.image_area {
                    layer.render(f, app, a);
                }
                area = drawn.image_area;
            })
            .expect("draw");
        self.image_area = area;
        self.layer.sync(&self.app, area);
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
        let area = self.image_area.expect("an image area");
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

    fn key(&mut self, c: char) {
        self.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        self.draw();
    }
}

async fn harness() -> (Harness, demo::DemoServer) {
    let server = demo::start(DemoOptions {
        port: 0,
        latency: Duration::ZERO,
        faults: Default::default(),
    })
    .await
    .expect("demo server");
    let http = HttpClient::new(&HttpConfig::default());
    let provider = AnyProvider::new(
        server
            .provider_config(ProviderKind::Keyapi)
            .expect("config"),
        http.clone(),
    );
    let page = provider
        .fetch_page(&xmedia::domain::UserRef::handle(demo::DEMO_HANDLE), None)
        .await
        .expect("first page");
    let mut app = App::new(ProviderKind::Keyapi, AppConfig::default());
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
