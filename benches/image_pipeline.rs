//! The preview pipeline's CPU cost: decode + fit a JPEG to a pane, then encode it for each
//! protocol. `cargo bench --bench image_pipeline -- --warm-up-time 1 --measurement-time 3`
//!
//! Also (issue 4, "Speed goals"; see docs/PERFORMANCE.md):
//! - `vs_ratatui_image`: xmedia's path (`render_cmd::render_protocol`: reduced-size decode, SIMD
//!   resize to the box, encode) against ratatui-image's own default path (decode the whole
//!   picture, `Picker::new_protocol` with `Resize::Fit`) for the same bytes and 80×40 cells.
//! - `selection_cached`: one key press that moves the selection to a tweet whose picture is
//!   already encoded: `App::update` + `ui::draw` + `ImageLayer::render` + `sync`, on ratatui's
//!   `TestBackend` and on a `CrosstermBackend` writing to `io::sink()` (the escape sequences,
//!   sixel bytes or kitty placeholders included, are produced; only the terminal is missing).
//! - after criterion, `p95/…` lines: decode + fit + encode of a 1200×900 JPEG into an 800×600
//!   box, timed one by one (N = 100), p50/p95/max.
//!
//! With `XMEDIA_BENCH_PICTURES=DIR` the JPEGs are `DIR/landscape_1200x900.jpg` and
//! `DIR/landscape_4000x3000.jpg` (`cargo run --release --example bench_pictures -- DIR`, as
//! `benches/pictures.sh` does); otherwise a noisy gradient is generated here.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use ratatui_image::Resize;
use ratatui_image::picker::ProtocolType;
use xmedia::app::{App, AppConfig};
use xmedia::demo::{self, DemoOptions};
use xmedia::domain::{ProviderKind, UserRef};
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::image_layer::ImageLayer;
use xmedia::media::decode::{DecodeLimits, decode_to_fit};
use xmedia::media::download::Downloader;
use xmedia::media::encode::{encode, pixel_box};
use xmedia::media::graphics::fixed_picker;
use xmedia::media::pipeline::{ImagePipeline, PipelineConfig};
use xmedia::msg::{Msg, RequestId};
use xmedia::provider::{AnyProvider, Provider};
use xmedia::render_cmd::render_protocol;
use xmedia::ui;

/// Photo-like: smooth gradients plus fine noise, so the JPEG is neither trivial nor random.
fn photo_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(42);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let n = rng.u8(0..24);
        Rgb([
            ((x * 200 / w) as u8).saturating_add(n),
            ((y * 200 / h) as u8).saturating_add(n),
            (((x + y) * 120 / (w + h)) as u8).saturating_add(n),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

fn never() -> bool {
    false
}

/// The benchmark's JPEG of `w`×`h`: the landscape file when `XMEDIA_BENCH_PICTURES` names a
/// directory holding it, else the generated gradient.
fn picture(w: u32, h: u32) -> Vec<u8> {
    if let Some(dir) = std::env::var_os("XMEDIA_BENCH_PICTURES") {
        let path = std::path::Path::new(&dir).join(format!("landscape_{w}x{h}.jpg"));
        if let Ok(b) = std::fs::read(&path) {
            return b;
        }
        eprintln!("{} not found; using the generated gradient", path.display());
    }
    photo_jpeg(w, h)
}

fn bench(c: &mut Criterion) {
    let medium = picture(1200, 900);
    let huge = picture(4000, 3000);
    let limits = DecodeLimits::default();
    // 80x30 cells of 10x20 px: an 800x600 pixel box.
    let cells = Size::new(80, 30);

    let mut g = c.benchmark_group("decode_fit");
    g.sample_size(20);
    g.bench_function("jpeg_1200x900_to_800x600", |b| {
        b.iter(|| decode_to_fit(black_box(&medium), (800, 600), &limits, &never).expect("ok"))
    });
    g.bench_function("jpeg_4000x3000_to_800x600", |b| {
        b.iter(|| decode_to_fit(black_box(&huge), (800, 600), &limits, &never).expect("ok"))
    });
    // Reference: the same picture decoded whole (no DCT scaling), then resized.
    g.bench_function("jpeg_4000x3000_to_800x600_full_decode", |b| {
        b.iter(|| {
            let full = image::load_from_memory(black_box(&huge)).expect("ok");
            xmedia::media::decode::resize_exact(full, (800, 600)).expect("ok")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("encode_800x600");
    g.sample_size(20);
    for (name, proto) in [
        ("kitty", ProtocolType::Kitty),
        ("sixel", ProtocolType::Sixel),
        ("iterm2", ProtocolType::Iterm2),
        ("halfblocks", ProtocolType::Halfblocks),
    ] {
        let picker = fixed_picker(proto, (10, 20));
        let fitted = decode_to_fit(&medium, pixel_box(&picker, cells), &limits, &never)
            .expect("ok")
            .image;
        g.bench_function(name, |b| {
            b.iter(|| encode(&picker, black_box(fitted.clone()), cells).expect("ok"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("jpeg_1200x900_end_to_end");
    g.sample_size(20);
    for (name, proto) in [
        ("kitty", ProtocolType::Kitty),
        ("sixel", ProtocolType::Sixel),
        ("halfblocks", ProtocolType::Halfblocks),
    ] {
        let picker = fixed_picker(proto, (10, 20));
        g.bench_function(name, |b| {
            b.iter(|| {
                let fitted = decode_to_fit(
                    black_box(&medium),
                    pixel_box(&picker, cells),
                    &limits,
                    &never,
                )
                .expect("ok");
                encode(&picker, fitted.image, cells).expect("ok")
            })
        });
    }
    g.finish();
}

/// xmedia's path against ratatui-image's default one, bytes to protocol, 80×40 cells of 10×20.
fn vs_ratatui_image(c: &mut Criterion) {
    let cells = Size::new(80, 40);
    let mut g = c.benchmark_group("vs_ratatui_image");
    g.sample_size(10);
    for (label, jpeg) in [
        ("1200x900", picture(1200, 900)),
        ("4000x3000", picture(4000, 3000)),
    ] {
        for (name, proto) in [
            ("sixel", ProtocolType::Sixel),
            ("kitty", ProtocolType::Kitty),
        ] {
            let picker = fixed_picker(proto, (10, 20));
            g.bench_function(format!("xmedia/{name}/{label}"), |b| {
                b.iter(|| render_protocol(black_box(&jpeg), &picker, cells).expect("ok"))
            });
            g.bench_function(format!("ratatui_image_default/{name}/{label}"), |b| {
                b.iter(|| {
                    let full = image::load_from_memory(black_box(&jpeg)).expect("ok");
                    picker
                        .new_protocol(full, cells, Resize::Fit(None))
                        .expect("ok")
                })
            });
        }
    }
    g.finish();
}

// ---- selection → picture on screen when the picture is already encoded ----

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// The demo in a 140×42 app with a sixel picture layer, settled on two neighbouring tweets with
/// photos so that both pictures are encoded and held by the layer; `j` and `k` step between them.
struct CachedSelection<B: Backend> {
    app: App,
    layer: ImageLayer,
    term: Terminal<B>,
    /// The first of the two tweets.
    first: usize,
    /// The layer's clock: a second between presses, so each is a single press (a held key's
    /// presses would have their pictures held back, `ImageLayer::HOLD_BACK`).
    clock: Instant,
    _server: demo::DemoServer,
}

impl<B: Backend> CachedSelection<B> {
    fn new(rt: &tokio::runtime::Runtime, backend: B, protocol: ProtocolType) -> Self {
        let _guard = rt.enter();
        let server = rt
            .block_on(demo::start(DemoOptions::default()))
            .expect("demo server");
        let http = HttpClient::new(&HttpConfig::default());
        let provider = AnyProvider::new(
            server
                .provider_config(ProviderKind::Keyapi)
                .expect("config"),
            http.clone(),
        );
        let page = rt
            .block_on(provider.fetch_page(&UserRef::handle(demo::DEMO_HANDLE), None))
            .expect("first page");
        let mut app = App::new(ProviderKind::Keyapi, AppConfig::default());
        app.update(Msg::Resized(140, 42));
        app.update(Msg::Started);
        app.update(Msg::PageLoaded {
            req: RequestId(1),
            page,
        });
        let pipeline = ImagePipeline::new(
            Downloader::new(http.media_client().clone(), &Default::default()),
            fixed_picker(protocol, (10, 20)),
            PipelineConfig::default(),
        );
        let viewport = Viewport::Fixed(Rect::new(0, 0, 140, 42));
        let term = Terminal::with_options(backend, TerminalOptions { viewport }).expect("term");
        let mut s = Self {
            app,
            layer: ImageLayer::new(pipeline),
            term,
            first: 0,
            clock: Instant::now(),
            _server: server,
        };
        // Two neighbouring tweets that both show a picture.
        let tweets = s.app.tweets();
        let shows = |t: &xmedia::domain::Tweet| !xmedia::app::previewable_media(t).is_empty();
        let first = (0..tweets.len().saturating_sub(1))
            .find(|&i| {
                shows(&tweets[i])
                    && shows(&tweets[i + 1])
                    && !s.app.media_hidden(&tweets[i])
                    && !s.app.media_hidden(&tweets[i + 1])
            })
            .expect("two neighbouring tweets with pictures");
        s.first = first;
        for _ in 0..first {
            s.app.update(key('j'));
        }
        for k in ['j', 'k', 'j', 'k'] {
            s.settle(rt);
            s.app.update(key(k));
        }
        s.settle(rt);
        s
    }

    fn draw(&mut self) {
        let now = chrono::Utc::now();
        let mut drawn = ui::Drawn::default();
        self.clock += std::time::Duration::from_secs(1);
        let (app, layer, clock) = (&self.app, &self.layer, self.clock);
        self.term
            .draw(|f| {
                drawn = ui::draw(f, app, now);
                if let Some(area) = drawn.image_area {
                    layer.render_at(f, app, area, clock);
                }
                layer.render_header(f, app, drawn.header);
            })
            .expect("draw");
        self.layer.sync_at(&self.app, &drawn, clock);
    }

    /// Draws and takes pictures until the selected one is shown.
    fn settle(&mut self, rt: &tokio::runtime::Runtime) {
        for _ in 0..100 {
            self.layer.drain(&self.app);
            self.draw();
            if !self.layer.is_pending(&self.app) {
                return;
            }
            let ev = rt
                .block_on(tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    self.layer.next_event(),
                ))
                .expect("a picture within 10 s");
            self.layer.on_event(ev, &self.app);
        }
        panic!("the selected picture never arrived");
    }

    /// One key press as the runtime handles it: update, then a frame and `sync`. Moves to the
    /// other of the two tweets. Panics if the picture was not in the layer already (the premise
    /// of this benchmark).
    fn press(&mut self) {
        let c = if self.app.selected() == self.first {
            'j'
        } else {
            'k'
        };
        self.app.update(key(c));
        if self.app.take_dirty() {
            self.draw();
        }
        assert!(!self.layer.is_pending(&self.app), "the picture was cached");
    }
}

/// Times `press` alone; the finished (cache-hit) jobs of the previous press are taken outside
/// the timing.
fn bench_presses<B: Backend>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    rt: &tokio::runtime::Runtime,
    state: &mut CachedSelection<B>,
) {
    g.bench_function(name, |b| {
        let _guard = rt.enter();
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                state.layer.drain(&state.app);
                let t = Instant::now();
                state.press();
                total += t.elapsed();
            }
            total
        })
    });
}

fn selection_cached(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("selection_cached");
    let mut test = CachedSelection::new(&rt, TestBackend::new(140, 42), ProtocolType::Sixel);
    bench_presses(&mut g, "sixel/test_backend", &rt, &mut test);
    drop(test);
    for (name, protocol) in [
        ("sixel/crossterm_sink", ProtocolType::Sixel),
        // Kitty pictures are transmitted the first time they are drawn; these presses go back
        // and forth between two already sent, so each frame draws their placeholders.
        ("kitty/crossterm_sink", ProtocolType::Kitty),
    ] {
        let sink = CrosstermBackend::new(std::io::sink());
        let mut cross = CachedSelection::new(&rt, sink, protocol);
        bench_presses(&mut g, name, &rt, &mut cross);
    }
    g.finish();
}

criterion_group!(benches, bench, vs_ratatui_image, selection_cached);

// ---- p95 of decode + fit + encode, 1200x900 JPEG into an 800x600 box ----

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn p95(iterations: usize) {
    let medium = picture(1200, 900);
    let limits = DecodeLimits::default();
    let cells = Size::new(80, 30);
    for (name, proto) in [
        ("kitty", ProtocolType::Kitty),
        ("sixel", ProtocolType::Sixel),
    ] {
        let picker = fixed_picker(proto, (10, 20));
        let once = || {
            let t = Instant::now();
            let fitted = decode_to_fit(
                black_box(&medium),
                pixel_box(&picker, cells),
                &limits,
                &never,
            )
            .expect("ok");
            black_box(encode(&picker, fitted.image, cells).expect("ok"));
            t.elapsed()
        };
        for _ in 0..iterations / 10 {
            once();
        }
        let mut samples: Vec<Duration> = (0..iterations).map(|_| once()).collect();
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "p95/jpeg_1200x900_to_800x600/{name:<6} N={:<4} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
            samples.len(),
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.95)),
            ms(percentile(&samples, 1.0)),
        );
    }
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let listing = std::env::args().any(|a| a == "--list");
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !listing {
        p95(if bench_mode { 100 } else { 2 });
    }
}
