//! The thin async loop around the pure `App`: turn terminal events, task results and ticks into
//! `Msg`s, run the `Effect`s `update` asks for as tokio tasks, and draw once per wake when
//! something changed. Idle means no wake-ups, no redraws, no bytes to the terminal.
//!
//! ```text
//!  terminal events ─┐  (biased: input first)
//!  task results ────┼─> Msg ─> App::update ─> Vec<Effect> ─> spawn tasks ─> Msg (back in)
//!  tick (if busy) ──┘                 │
//!                                     └─> dirty? ─> ui::draw (once per wake)
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::app::App;
use crate::effect::Effect;
use crate::image_layer::ImageLayer;
use crate::late_answers::LateAnswers;
use crate::media::pipeline::ImageEvent;
use crate::msg::Msg;
use crate::source::Source;

/// What the effect executor needs from the outside world.
pub struct Deps {
    pub source: Source,
    /// A command to open URLs with instead of the system opener (config `opener`).
    pub opener: Option<String>,
    /// The preview's picture layer; `None` draws text only.
    pub images: Option<ImageLayer>,
    /// When the process started, to log the time to the first frame and to the first frame
    /// with tweets (`XMEDIA_TRACE_STARTUP=1`); `None` logs nothing.
    pub trace_startup: Option<Instant>,
    /// Input that arrived before the event stream started (keys typed during the graphics
    /// query), handled right after the first size and tick.
    pub typed_ahead: Vec<Msg>,
}

/// Runs until the app quits, the input stream ends, or SIGTERM/SIGINT/SIGHUP arrives.
pub async fn run<B>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut deps: Deps,
) -> std::io::Result<()>
where
    B: Backend<Error = std::io::Error> + Write,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut events = EventStream::new();
    let mut sigterm = terminate_signal();
    let mut picture_changed = false;
    let mut first_frame = true;

    let size = terminal.size()?;
    let mut pending = vec![Msg::Resized(size.width, size.height), Msg::Tick(Utc::now())];
    pending.append(&mut deps.typed_ahead);
    let effects = app.start();
    execute(effects, app, &deps, &tx, terminal);
    let mut startup = StartupTrace::new(deps.trace_startup);
    let mut late_answers = LateAnswers::default();

    loop {
        let mut retry_pictures = false;
        for msg in pending.drain(..) {
            let effects = app.update(msg);
            retry_pictures |= effects.contains(&Effect::RetryPictures);
            execute(effects, app, &deps, &tx, terminal);
        }
        // Drain everything else that is already waiting before drawing once.
        while let Ok(msg) = rx.try_recv() {
            let effects = app.update(msg);
            retry_pictures |= effects.contains(&Effect::RetryPictures);
            execute(effects, app, &deps, &tx, terminal);
        }
        if app.should_quit() {
            break;
        }
        if let Some(layer) = deps.images.as_mut() {
            if retry_pictures {
                layer.retry_failed();
            }
            picture_changed |= layer.drain(app);
            let failed = layer.shown_failed(app);
            if failed != app.picture_failed() {
                app.update(Msg::PictureFailed(failed));
            }
            let (avatar, badge) = layer.header_failed(app);
            if (avatar, badge) != app.header_pictures_failed() {
                app.update(Msg::HeaderPicturesFailed { avatar, badge });
            }
        }
        if app.take_dirty() || std::mem::take(&mut picture_changed) {
            let now = Utc::now();
            let mut drawn = crate::ui::Drawn::default();
            let images = deps.images.as_ref();
            terminal.draw(|f| {
                drawn = crate::ui::draw(f, app, now);
                if let Some(layer) = images {
                    if let Some(area) = drawn.image_area {
                        layer.render(f, app, area);
                    }
                    layer.render_header(f, app, drawn.header);
                }
            })?;
            if let Some(layer) = deps.images.as_mut() {
                layer.sync(app, &drawn);
                if let Some(commands) = layer.after_draw() {
                    write_now(terminal, &commands)?;
                }
            }
            startup.drawn(app);
            if std::mem::take(&mut first_frame) {
                test_panic_after_first_frame();
            }
        } else if let Some(commands) = deps.images.as_mut().and_then(|l| l.released()) {
            write_now(terminal, &commands)?;
        }
        let tick = app.tick_interval();
        let held_back = deps
            .images
            .as_ref()
            .and_then(ImageLayer::wake_at)
            .map(|due| due.saturating_duration_since(Instant::now()));
        let msg = tokio::select! {
            biased;
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if !late_answers.is_typed(&k, Instant::now()) => {
                    tracing::debug!(
                        dropped = late_answers.dropped(),
                        "a terminal answer arrived late; its bytes are not keys"
                    );
                    continue;
                }
                Some(Ok(ev)) => match to_msg(ev) {
                    Some(m) => m,
                    None => continue,
                },
                // The terminal went away: nothing more to read or draw.
                Some(Err(_)) | None => break,
            },
            Some(msg) = rx.recv() => msg,
            ev = next_picture(deps.images.as_mut()) => {
                if let Some(layer) = deps.images.as_mut() {
                    picture_changed |= layer.on_event(ev, app);
                }
                continue;
            }
            _ = sleep_or_never(held_back) => {
                // A picture held back while a key was held is due now.
                picture_changed = true;
                continue;
            }
            _ = sleep_or_never(tick) => Msg::Tick(Utc::now()),
            _ = sigterm.recv() => break,
        };
        pending.push(msg);
    }
    if let Some(commands) = deps.images.as_mut().and_then(ImageLayer::before_exit) {
        write_now(terminal, &commands)?;
    }
    Ok(())
}

/// Writes escape sequences that are not part of a frame (picture deletions) straight away.
fn write_now<B: Backend + Write>(
    terminal: &mut Terminal<B>,
    commands: &str,
) -> std::io::Result<()> {
    let out = terminal.backend_mut();
    out.write_all(commands.as_bytes())?;
    Write::flush(out)
}

/// Logs how long after process start the first frame, and the first frame with tweets, were
/// written to the terminal.
struct StartupTrace {
    started: Option<Instant>,
    first_frame: bool,
}

impl StartupTrace {
    fn new(started: Option<Instant>) -> Self {
        Self {
            started,
            first_frame: false,
        }
    }

    fn drawn(&mut self, app: &App) {
        let Some(started) = self.started else { return };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if !self.first_frame {
            self.first_frame = true;
            tracing::info!("startup: first frame after {ms:.2} ms");
        }
        if !app.tweets().is_empty() {
            tracing::info!("startup: first frame with tweets after {ms:.2} ms");
            self.started = None;
        }
    }
}

fn to_msg(ev: Event) -> Option<Msg> {
    match ev {
        // Press and repeat move the selection; release would move it twice.
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Resize(w, h) => Some(Msg::Resized(w, h)),
        _ => None,
    }
}

async fn next_picture(layer: Option<&mut ImageLayer>) -> ImageEvent {
    match layer {
        Some(l) => l.next_event().await,
        None => std::future::pending().await,
    }
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// SIGTERM, SIGINT and SIGHUP on unix (a stream that never fires elsewhere): any of them ends
/// the loop so the caller restores the terminal before the process exits. In raw mode ctrl-c
/// arrives as a key, not SIGINT; the signal comes from `kill` or a closing terminal.
fn terminate_signal() -> SignalStream {
    SignalStream::new()
}

struct SignalStream {
    #[cfg(unix)]
    inner: Vec<tokio::signal::unix::Signal>,
}

impl SignalStream {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let inner = [
                SignalKind::terminate(),
                SignalKind::interrupt(),
                SignalKind::hangup(),
            ]
            .into_iter()
            .filter_map(|k| signal(k).ok())
            .collect();
            Self { inner }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if !self.inner.is_empty() {
            let any = self.inner.iter_mut().map(|s| Box::pin(s.recv()));
            futures::future::select_all(any).await;
            return;
        }
        std::future::pending::<()>().await
    }
}

/// Test-only crash switch, for the tests that check a panic leaves the terminal restored:
/// `XMEDIA_TEST_PANIC=main` panics on the UI thread after the first frame, `task` in a tokio
/// task, `thread` on a blocking-pool thread (where picture decoding runs). Unset in normal use.
fn test_panic_after_first_frame() {
    let Some(kind) = std::env::var_os("XMEDIA_TEST_PANIC") else {
        return;
    };
    match kind.to_str() {
        Some("main") => panic!("XMEDIA_TEST_PANIC=main: forced panic on the UI thread"),
        Some("task") => {
            tokio::spawn(async { panic!("XMEDIA_TEST_PANIC=task: forced panic in a task") });
        }
        Some("thread") => {
            tokio::task::spawn_blocking(|| {
                panic!("XMEDIA_TEST_PANIC=thread: forced panic on a blocking thread")
            });
        }
        _ => {}
    }
}

fn execute<B>(
    effects: Vec<Effect>,
    app: &mut App,
    deps: &Deps,
    tx: &mpsc::UnboundedSender<Msg>,
    terminal: &mut Terminal<B>,
) where
    B: Backend<Error = std::io::Error> + Write,
{
    let _ = app;
    for effect in effects {
        match effect {
            Effect::FetchPage { req, cursor } => {
                let source = deps.source.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let result = source.fetch(cursor.as_ref()).await;
                    let _ = tx.send(Msg::RequestsSpent(source.requests_sent()));
                    let _ = tx.send(match result {
                        Ok(page) => Msg::PageLoaded { req, page },
                        Err(error) => Msg::PageFailed { req, error },
                    });
                });
            }
            Effect::ScheduleRetry { req, after } => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Msg::RetryDue { req });
                });
            }
            Effect::OpenUrl(url) => {
                let tx = tx.clone();
                let opener = deps.opener.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::opener::open_url(&url, opener.as_deref()) {
                        let _ = tx.send(Msg::OpenFailed(e));
                    }
                });
            }
            Effect::Play { url, command } => {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::opener::play(&url, &command) {
                        let _ = tx.send(Msg::OpenFailed(e));
                    }
                });
            }
            Effect::CopyToClipboard(text) => {
                let seq = crate::effect::osc52_sequence(&text);
                let backend = terminal.backend_mut();
                if let Err(e) = backend
                    .write_all(seq.as_bytes())
                    .and_then(|()| Write::flush(backend))
                {
                    let _ = tx.send(Msg::CopyFailed(e.to_string()));
                }
            }
            // The loop hands this to the image layer, which it owns mutably.
            Effect::RetryPictures | Effect::Quit => {}
        }
    }
}
