//! Frame time and key-to-frame latency of the browser, drawn into ratatui's `TestBackend`.
//!
//! ```text
//! cargo bench --bench frame -- --warm-up-time 1 --measurement-time 3   # everything
//! cargo bench --bench frame -- p99                                      # percentiles only
//! ```
//!
//! Criterion reports means and medians; after its groups this file times N single frames with
//! `Instant` and prints p50/p90/p99/max, since the goals are stated as percentiles. Under
//! `cargo test --benches` (no `--bench` flag) everything runs once, as a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use xmedia::app::{App, AppConfig};
use xmedia::domain::{
    Author, Cursor, Media, MediaKind, Metrics, Page, Profile, ProviderKind, Tweet, Variant,
};
use xmedia::effect::Effect;
use xmedia::msg::Msg;
use xmedia::ui;

// ---- a compact generator of realistic tweets ----

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// Sentences of the lengths and scripts a media account posts; mixed per tweet.
const PHRASES: [&str; 8] = [
    "Static fire complete. All 33 engines ran for the full duration",
    "and the pad looks great — next stop, launch day!",
    "打ち上げ成功！🚀 ロケットは無事に軌道に到達しました",
    "Look at this 👇 absolutely stunning work from our friends",
    "Sunrise over the launch complex, shot on the long lens 📸",
    "새로운 심우주 이미지: 모래알만 한 하늘에 수천 개의 은하",
    "Thread 🧵 on how the fairing separates, with slow-motion video",
    "Merci à toute l'équipe — quelle journée incroyable ✨",
];

fn photo(i: usize, k: usize) -> Media {
    Media {
        kind: MediaKind::Photo,
        url: Some(format!("https://pbs.twimg.com/media/F{i:07}x{k}.jpg")),
        width: Some(4096),
        height: Some(2731),
        alt_text: i
            .is_multiple_of(3)
            .then(|| "The booster on the pad, venting at dusk".to_string()),
        duration_ms: None,
        variants: vec![],
        video_url: None,
        type_name: None,
    }
}

fn video(i: usize, kind: MediaKind) -> Media {
    let variant = |bitrate: u64| Variant {
        bitrate: Some(bitrate),
        content_type: Some("video/mp4".into()),
        url: format!("https://video.twimg.com/v/{i}/{bitrate}.mp4"),
    };
    Media {
        kind,
        url: Some(format!(
            "https://pbs.twimg.com/ext_tw_video_thumb/{i}/img.jpg"
        )),
        width: Some(1920),
        height: Some(1080),
        alt_text: None,
        duration_ms: (kind == MediaKind::Video).then_some(5_000 + (i as u64 * 7_919) % 600_000),
        variants: vec![variant(832_000), variant(2_176_000)],
        video_url: None,
        type_name: None,
    }
}

fn author(handle: &str) -> Author {
    Author {
        id: Some(format!("{}", handle.len() * 1_000_003)),
        handle: Some(handle.into()),
        name: Some(handle.to_uppercase()),
    }
}

/// Tweet `i` of a synthetic account, newest first: 1–3 phrases of text, a media mix (photos,
/// photo pairs, videos, GIFs), metrics from tiny to huge with some unknown, a reply or retweet
/// now and then, and a quoted tweet every 10th.
fn tweet(i: usize) -> Tweet {
    let id = (1_800_000_000_000_000_000u64 - i as u64 * 1_000).to_string();
    let n_phrases = 1 + i % 3;
    let text = (0..n_phrases)
        .map(|k| PHRASES[(i * 5 + k * 3) % PHRASES.len()])
        .collect::<Vec<_>>()
        .join(" ");
    let media = match i % 7 {
        0..=2 => vec![photo(i, 0)],
        3 => vec![photo(i, 0), photo(i, 1), photo(i, 2)],
        4 | 5 => vec![video(i, MediaKind::Video)],
        _ => vec![video(i, MediaKind::Gif)],
    };
    let scale = 10u64.pow((i % 7) as u32);
    let metrics = Metrics {
        likes: Some(scale * 3 + i as u64 % 997),
        retweets: Some(scale / 4),
        replies: Some(scale / 40),
        quotes: i.is_multiple_of(2).then_some(scale / 90),
        bookmarks: i.is_multiple_of(4).then_some(scale / 10),
        views: (!i.is_multiple_of(5)).then_some(scale * 150),
    };
    let quoted = (i % 10 == 9).then(|| {
        let mut q = tweet_base(
            format!("9{id}"),
            "esa",
            i + 30 * 24,
            PHRASES[(i + 5) % PHRASES.len()].to_string(),
        );
        q.media = vec![photo(i + 1_000_000, 0)];
        Box::new(q)
    });
    let mut t = tweet_base(id, "orbitlab", i, text);
    t.metrics = metrics;
    t.media = media;
    t.quoted = quoted;
    t.reply_to = (i % 13 == 4).then(|| "998877".to_string());
    if i % 17 == 8 {
        t.is_retweet = true;
        t.text = format!("RT @esa: {}", t.text);
    }
    t
}

fn tweet_base(id: String, handle: &str, hours_ago: usize, text: String) -> Tweet {
    Tweet {
        url: Tweet::canonical_url(Some(handle), &id),
        id,
        created_at: Some(now() - chrono::Duration::hours(hours_ago as i64)),
        text,
        lang: Some("en".into()),
        author: author(handle),
        metrics: Metrics::default(),
        media: vec![],
        quoted: None,
        reply_to: None,
        is_retweet: false,
        sensitive: None,
    }
}

fn profile(media_count: u64) -> Profile {
    Profile {
        id: Some("11348282".into()),
        handle: "orbitlab".into(),
        name: Some("Orbital Lab".into()),
        followers: Some(239_912_345),
        following: Some(1_234),
        tweets: Some(98_231),
        media_count: Some(media_count),
        verified: Some(true),
        bio: Some("Exploring the universe one launch at a time. Photos, video and data.".into()),
        location: Some("Cape Canaveral, FL".into()),
        ..Profile::default()
    }
}

// ---- the app in the state a user would be in ----

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// An app at `w`×`h` with `n` tweets loaded (more pages to come) and the selection in the middle.
fn loaded_app(n: usize, w: u16, h: u16) -> App {
    let config = AppConfig {
        user_label: "@orbitlab".into(),
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Xapi, config);
    app.update(Msg::Resized(w, h));
    app.update(Msg::Tick(now()));
    let req = app
        .update(Msg::Started)
        .into_iter()
        .find_map(|e| match e {
            Effect::FetchPage { req, .. } => Some(req),
            _ => None,
        })
        .expect("the first page is requested");
    let page = Page {
        tweets: (0..n).map(tweet).collect(),
        next_cursor: Some(Cursor("more".into())),
        profile: Some(profile(n as u64 * 2)),
        warnings: vec![],
    };
    app.update(Msg::PageLoaded { req, page });
    app.update(Msg::RequestsSpent(1));
    for _ in 0..n / 2 {
        app.update(key('j'));
    }
    assert_eq!(app.tweets().len(), n);
    assert_eq!(app.selected(), n / 2);
    app
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).expect("test terminal")
}

/// One frame as the runtime draws it: the view into ratatui's buffer, diffed and flushed to the
/// backend.
fn frame(term: &mut Terminal<TestBackend>, app: &App) {
    term.draw(|f| {
        black_box(ui::draw(f, app, now()));
    })
    .expect("draw");
}

/// One key press as the runtime handles it: `update`, then a frame if it changed anything. Moves
/// down with `j`; near the end of the loaded tweets (where a prefetch would start) it first jumps
/// back to the middle with `g` + `j`s, outside the timed part.
struct KeyLoop {
    app: App,
    term: Terminal<TestBackend>,
}

impl KeyLoop {
    fn new(n: usize, w: u16, h: u16) -> KeyLoop {
        let app = loaded_app(n, w, h);
        let mut term = terminal(w, h);
        frame(&mut term, &app);
        KeyLoop { app, term }
    }

    fn rewind_if_near_end(&mut self) {
        let n = self.app.tweets().len();
        if self.app.selected() + 200 >= n {
            self.app.update(key('g'));
            for _ in 0..n / 2 {
                self.app.update(key('j'));
            }
            self.app.take_dirty();
            frame(&mut self.term, &self.app);
        }
    }

    /// Presses `j` and draws; returns the time from the key to the finished frame.
    fn press(&mut self) -> Duration {
        self.rewind_if_near_end();
        let start = Instant::now();
        let effects = self.app.update(key('j'));
        if self.app.take_dirty() {
            frame(&mut self.term, &self.app);
        }
        let elapsed = start.elapsed();
        assert!(effects.is_empty(), "no prefetch in the middle of the list");
        elapsed
    }
}

// ---- criterion ----

fn frame_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        for n in [1_000usize, 100_000] {
            let app = loaded_app(n, w, h);
            let mut term = terminal(w, h);
            group.bench_function(BenchmarkId::new(format!("{w}x{h}"), n), |b| {
                b.iter(|| frame(&mut term, &app));
            });
        }
    }
    group.finish();
}

fn key_to_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("key_to_frame");
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut keys = KeyLoop::new(100_000, w, h);
        group.bench_function(BenchmarkId::new(format!("{w}x{h}"), 100_000), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| keys.press()).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, frame_time, key_to_frame);

// ---- percentiles ----

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "p99/{name:<28} N={:<5} p50 {:>8.1} µs   p90 {:>8.1} µs   p99 {:>8.1} µs   max {:>8.1} µs",
        samples.len(),
        us(percentile(&samples, 0.50)),
        us(percentile(&samples, 0.90)),
        us(percentile(&samples, 0.99)),
        us(percentile(&samples, 1.0)),
    );
}

/// N single frames / key presses timed one by one, after a short warm-up.
fn percentiles(iterations: usize) {
    let warm_up = iterations / 10;
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        for n in [1_000usize, 100_000] {
            let app = loaded_app(n, w, h);
            let mut term = terminal(w, h);
            let mut timed = |_| {
                let start = Instant::now();
                frame(&mut term, &app);
                start.elapsed()
            };
            for i in 0..warm_up {
                let _ = timed(i);
            }
            report(
                &format!("frame/{w}x{h}/{n}"),
                (0..iterations).map(timed).collect(),
            );
        }
        let mut keys = KeyLoop::new(100_000, w, h);
        for _ in 0..warm_up {
            let _ = keys.press();
        }
        report(
            &format!("key_to_frame/{w}x{h}/100000"),
            (0..iterations).map(|_| keys.press()).collect(),
        );
    }
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let listing = std::env::args().any(|a| a == "--list");
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !listing {
        percentiles(if bench_mode { 2_000 } else { 3 });
    }
}
