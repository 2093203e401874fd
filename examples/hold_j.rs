//! Holding `j` through the demo while pictures are slow: how often is the selected picture
//! already on screen at the first frame after the selection moves, and how long does each key
//! take the app while pictures are in flight? A measurement (issue 4, "Speed goals"), not a test.
//!
//! ```sh
//! cargo run --release --example hold_j                        # sixel, 300 ms, a key every 33 ms
//! cargo run --release --example hold_j -- --graphics halfblocks --latency-ms 300 --interval-ms 33
//! cargo run --release --example hold_j -- --encode-ahead 12 --settle-ms 30 --downloads 4
//! cargo run --release --example hold_j -- --cold-server   # demo makes each size on request
//! ```
//!
//! The demo server runs in-process with the `image-latency=MS` fault (every picture answer waits
//! that long). The app, the picture layer and the pipeline are wired as `runtime::run` wires them:
//! between keys, finished pictures are taken as they arrive (redrawing when the shown one
//! changes); on a key, `App::update`, then one frame (`ui::draw` + `ImageLayer::render` on a
//! 140×42 `TestBackend`) and `ImageLayer::sync`. Before holding `j` it waits on the first tweet
//! until its picture is shown and 2 s have passed (a user reading it), then presses `j` every
//! `--interval-ms` until the last tweet (loading further pages as the app asks).
//!
//! A selection counts as a hit when its picture was in the layer at the first frame drawn after
//! the key (ready to draw: while the key is held the layer draws it once the keys pause for
//! `ImageLayer::HOLD_BACK`, so no picture bytes go out per step); tweets without a previewable
//! picture are not counted. The layer's prefetch depth
//! (`PrefetchDepth`: how many tweets ahead it fetches, from the key rate and the picture latency
//! it observed) is sampled after every key and summarised at the end.
//!
//! The demo server prepares its picture sizes at start (`DemoOptions::prepare_pictures`, as
//! `xmedia --demo` does) and the hold starts once they are ready, so only the fault's latency
//! and the app's own work are measured; `--cold-server` leaves the sizes to be made on request.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_image::picker::ProtocolType;
use tokio::sync::mpsc;
use xmedia::app::{App, AppConfig, PagerState};
use xmedia::demo::faults::Faults;
use xmedia::demo::{self, DemoOptions};
use xmedia::domain::{ProviderKind, UserRef};
use xmedia::effect::Effect;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::image_layer::ImageLayer;
use xmedia::media::download::{DownloadConfig, Downloader};
use xmedia::media::graphics::fixed_picker;
use xmedia::media::pipeline::{ImagePipeline, PipelineConfig};
use xmedia::msg::Msg;
use xmedia::provider::{AnyProvider, Provider};

struct Opts {
    protocol: ProtocolType,
    latency_ms: u64,
    interval_ms: u64,
    encode_ahead: Option<usize>,
    settle_ms: Option<u64>,
    downloads: Option<usize>,
    cold_server: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        protocol: ProtocolType::Sixel,
        latency_ms: 300,
        interval_ms: 33,
        encode_ahead: None,
        settle_ms: None,
        downloads: None,
        cold_server: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().expect("a value after the option").clone();
        let num = |s: String| s.parse::<u64>().expect("a number");
        match a.as_str() {
            "--graphics" => {
                o.protocol = match val().as_str() {
                    "sixel" => ProtocolType::Sixel,
                    "kitty" => ProtocolType::Kitty,
                    "iterm2" => ProtocolType::Iterm2,
                    "halfblocks" => ProtocolType::Halfblocks,
                    other => panic!("unknown protocol {other}"),
                }
            }
            "--latency-ms" => o.latency_ms = num(val()),
            "--interval-ms" => o.interval_ms = num(val()),
            "--encode-ahead" => o.encode_ahead = Some(num(val()) as usize),
            "--settle-ms" => o.settle_ms = Some(num(val())),
            "--downloads" => o.downloads = Some(num(val()) as usize),
            "--cold-server" => o.cold_server = true,
            other => panic!("unknown option {other}"),
        }
    }
    o
}

fn key_j() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE))
}

struct Sim {
    app: App,
    layer: ImageLayer,
    term: Terminal<TestBackend>,
    provider: AnyProvider,
    user: UserRef,
    pages_tx: mpsc::UnboundedSender<Msg>,
    pages_rx: mpsc::UnboundedReceiver<Msg>,
    /// The picture area of each frame drawn after a key (its size decides the encoded box).
    areas: Vec<ratatui::layout::Rect>,
    last_area: Option<ratatui::layout::Rect>,
}

impl Sim {
    /// Runs effects the way the runtime does (only page fetches matter here).
    fn execute(&self, effects: Vec<Effect>) {
        for e in effects {
            if let Effect::FetchPage { req, cursor } = e {
                let provider = self.provider.clone();
                let user = self.user.clone();
                let tx = self.pages_tx.clone();
                tokio::spawn(async move {
                    let msg = match provider.fetch_page(&user, cursor.as_ref()).await {
                        Ok(page) => Msg::PageLoaded { req, page },
                        Err(error) => Msg::PageFailed { req, error },
                    };
                    let _ = tx.send(msg);
                });
            }
        }
    }

    fn update(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.execute(effects);
    }

    /// One frame as `runtime::run` draws it, then `sync`.
    fn draw(&mut self) {
        let now = chrono::Utc::now();
        let mut drawn = xmedia::ui::Drawn::default();
        let (app, layer) = (&self.app, &self.layer);
        self.term
            .draw(|f| {
                drawn = xmedia::ui::draw(f, app, now);
                if let Some(area) = drawn.image_area {
                    layer.render(f, app, area);
                }
                layer.render_header(f, app, drawn.header);
            })
            .expect("draw");
        self.layer.sync(&self.app, &drawn);
        self.last_area = drawn.image_area;
    }

    /// Handles pages and pictures as they arrive until `deadline`, drawing when needed.
    async fn idle_until(&mut self, deadline: tokio::time::Instant) {
        loop {
            let mut redraw = false;
            while let Ok(msg) = self.pages_rx.try_recv() {
                self.update(msg);
            }
            redraw |= self.layer.drain(&self.app);
            if self.app.take_dirty() || redraw {
                self.draw();
            }
            tokio::select! {
                biased;
                Some(msg) = self.pages_rx.recv() => self.update(msg),
                ev = self.layer.next_event() => {
                    if self.layer.on_event(ev, &self.app) {
                        self.draw();
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    /// Whether the selected tweet shows a picture (not a tweet without media, not one hidden
    /// behind the sensitive-media notice).
    fn has_picture(&self) -> bool {
        self.app.selected_media().is_some()
            && !self
                .app
                .selected_tweet()
                .is_some_and(|t| self.app.media_hidden(t))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main]
async fn main() {
    let o = opts();
    let faults = Faults::parse(&[format!("image-latency={}", o.latency_ms)]).expect("fault spec");
    let server = demo::start(DemoOptions {
        faults,
        prepare_pictures: !o.cold_server,
        ..DemoOptions::default()
    })
    .await
    .expect("demo server");
    let http = HttpClient::new(&HttpConfig::default());
    let kind = ProviderKind::Keyapi;
    let provider = AnyProvider::new(server.provider_config(kind).expect("config"), http.clone());
    let mut download = DownloadConfig::default();
    if let Some(n) = o.downloads {
        download.concurrency = n;
    }
    let mut config = PipelineConfig::default();
    if let Some(n) = o.encode_ahead {
        config.encode_ahead = n;
    }
    if let Some(ms) = o.settle_ms {
        config.settle = Duration::from_millis(ms);
    }
    println!(
        "hold_j: {:?}, image latency {} ms, a key every {} ms, encode_ahead {}, settle {} ms, \
         downloads at once {}",
        o.protocol,
        o.latency_ms,
        o.interval_ms,
        config.encode_ahead,
        config.settle.as_millis(),
        download.concurrency
    );
    let pipeline = ImagePipeline::new(
        Downloader::new(http.media_client().clone(), &download),
        fixed_picker(o.protocol, (10, 20)),
        config,
    );
    let (pages_tx, pages_rx) = mpsc::unbounded_channel();
    let mut sim = Sim {
        app: App::new(kind, AppConfig::default()),
        layer: ImageLayer::new(pipeline),
        term: Terminal::new(TestBackend::new(140, 42)).expect("terminal"),
        provider,
        user: UserRef::handle(demo::DEMO_HANDLE),
        pages_tx,
        pages_rx,
        areas: Vec::new(),
        last_area: None,
    };
    sim.update(Msg::Resized(140, 42));
    sim.update(Msg::Tick(chrono::Utc::now()));
    sim.update(Msg::Started);

    // The demo server makes its picture sizes in the background at start (decode, resize,
    // encode: CPU on this same machine, which pbs.twimg.com does not cost the client). Wait for
    // that, so only the fault's latency and the app's own work are measured.
    if !o.cold_server {
        let started = Instant::now();
        loop {
            let (ready, total) = server.pictures_prepared();
            if ready == total {
                println!(
                    "demo server prepared {total} picture sizes in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "still preparing"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // The user reads the first tweet: its picture shows, the neighbours are fetched.
    let start = tokio::time::Instant::now();
    loop {
        sim.idle_until(tokio::time::Instant::now() + Duration::from_millis(20))
            .await;
        let ready = !sim.app.tweets().is_empty() && !sim.layer.is_pending(&sim.app);
        if ready && start.elapsed() >= Duration::from_secs(2) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the first picture never arrived"
        );
    }

    let interval = Duration::from_millis(o.interval_ms);
    let mut key_times = Vec::new();
    let mut counted = 0usize;
    let mut hits = 0usize;
    let mut misses = Vec::new();
    let mut depths = Vec::new();
    let mut next = tokio::time::Instant::now();
    let held = Instant::now();
    loop {
        sim.idle_until(next).await;
        next += interval;
        let before = sim.app.selected();
        let t = Instant::now();
        sim.update(key_j());
        if sim.app.take_dirty() {
            sim.draw();
        }
        key_times.push(t.elapsed());
        depths.push(sim.layer.depth().ahead(Instant::now()));
        if sim.app.selected() == before {
            // At the end of what is loaded: wait for a next page, or stop at the very end.
            if matches!(sim.app.pager(), PagerState::Exhausted) {
                key_times.pop();
                break;
            }
            continue;
        }
        if sim.has_picture() {
            sim.areas.extend(sim.last_area);
            counted += 1;
            if sim.layer.is_pending(&sim.app) {
                misses.push(sim.app.selected());
            } else {
                hits += 1;
            }
        }
    }
    let held_for = held.elapsed();
    key_times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "held j for {:.2} s: {} keys, {} tweets, {} selections with a picture",
        held_for.as_secs_f64(),
        key_times.len(),
        sim.app.tweets().len(),
        counted
    );
    println!(
        "picture on screen at the first frame: {hits}/{counted} = {:.1} %",
        100.0 * hits as f64 / counted.max(1) as f64
    );
    println!("missed at selections: {misses:?}");
    let mut sizes: Vec<(u16, u16)> = sim.areas.iter().map(|a| (a.width, a.height)).collect();
    sizes.sort();
    sizes.dedup();
    println!(
        "picture areas (cells) seen at those selections: {} different: {sizes:?}",
        sizes.len()
    );
    println!(
        "app time per key (update + draw + render + sync): p50 {:.0} µs, p95 {:.0} µs, \
         p99 {:.0} µs, max {:.0} µs",
        us(percentile(&key_times, 0.50)),
        us(percentile(&key_times, 0.95)),
        us(percentile(&key_times, 0.99)),
        us(percentile(&key_times, 1.0)),
    );
    depths.sort_unstable();
    let depth = sim.layer.depth();
    println!(
        "prefetch depth ahead over the keys: min {}, p50 {}, max {}; learnt picture latency \
         {:.0} ms, key interval {}",
        depths.first().copied().unwrap_or(0),
        depths.get(depths.len() / 2).copied().unwrap_or(0),
        depths.last().copied().unwrap_or(0),
        depth.latency().as_secs_f64() * 1e3,
        depth.interval().map_or("calm".to_string(), |d| format!(
            "{:.1} ms",
            d.as_secs_f64() * 1e3
        )),
    );
    println!("demo server answered {} requests", server.requests_served());
}
