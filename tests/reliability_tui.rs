//! RELIABILITY group G: the terminal UI under resize storms, panics, signals, silent terminals,
//! missing TTYs, wide and hostile text. The real binary runs in a pseudo-terminal read back by a
//! vt100 emulator (`tests/support/pty.rs`); layout cases draw into ratatui's `TestBackend`.

mod common;
mod support {
    pub mod pty;
}

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture_page, now};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use support::pty::PtyApp;
use xmedia::app::App;
use xmedia::msg::Msg;
use xmedia::testing::{Reply, ScriptedServer};

/// A liveness bound (the tests never assert speed).
const LIMIT: Duration = Duration::from_secs(20);
/// How long a signal or ctrl-c may take to give the terminal back before the test fails.
const EXIT_LIMIT: Duration = Duration::from_secs(5);

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn spawn(&self, args: &[&str], extra: &[(&str, &str)], cols: u16, rows: u16) -> PtyApp {
        let config = self.path("none.toml");
        let log = self.path("xmedia.log");
        let mut env = vec![
            ("XMEDIA_CONFIG", config.as_str()),
            ("XMEDIA_LOG_FILE", log.as_str()),
        ];
        env.extend_from_slice(extra);
        PtyApp::spawn(args, &env, cols, rows)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn assert_restored(app: &PtyApp, what: &str) {
    assert!(app.terminal_restored(), "{what}: terminal not restored");
    let raw = app.raw();
    assert!(contains(&raw, b"\x1b[?1049l"), "{what}: alt screen left");
    assert!(contains(&raw, b"\x1b[?25h"), "{what}: cursor shown");
    #[cfg(unix)]
    assert_eq!(app.raw_mode(), Some(false), "{what}: raw mode off");
}

// ---------------------------------------------------------------------------------------------
// G2: resize storm

#[test]
fn g2_resize_storm_while_pictures_decode() {
    let env = Env::new();
    let mut app = env.spawn(
        &[
            "--demo",
            "--demo-latency-ms",
            "50",
            "--graphics",
            "halfblocks",
        ],
        &[],
        140,
        40,
    );
    app.wait_text("@xmedia_demo", LIMIT);
    // A deterministic walk over sizes, tiny ones included, with selection moves so pictures keep
    // being requested, decoded and dropped while the size changes under them.
    let mut seed: u32 = 12345;
    for i in 0..100u32 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let cols = 2 + u16::try_from((seed >> 8) % 200).expect("small");
        let rows = 1 + u16::try_from((seed >> 16) % 60).expect("small");
        app.resize(cols, rows);
        if i % 3 == 0 {
            app.send(b"j");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (cols, rows) = (120u16, 35u16);
    app.resize(cols, rows);
    assert!(!app.exited(), "alive after the storm");
    // The final frame is laid out for the final size: header at the top, status bar on the
    // last row, the list's border on the left edge.
    let screen = app.wait_for("a frame for 120×35", LIMIT, |s| {
        let lines: Vec<&str> = s.lines().collect();
        lines.len() == usize::from(rows)
            && lines[0].contains("@xmedia_demo")
            && lines[usize::from(rows) - 1].contains("help")
    });
    assert_eq!(app.size(), (rows, cols));
    assert!(!screen.contains("panicked"), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines.iter().all(|l| l.chars().count() <= usize::from(cols)),
        "{screen}"
    );
    app.send(b"q");
    let code = app.wait_exit(LIMIT);
    assert_eq!(
        code,
        Some(0),
        "quits cleanly after the storm; log:\n{}\nscreen:\n{}",
        std::fs::read_to_string(env.path("xmedia.log"))
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n"),
        app.screen()
    );
    assert_restored(&app, "after the storm");
}

/// G2: a key typed at the moment the window is resized reaches the app at once. crossterm's
/// default (mio, edge-triggered) input source drops the terminal's readiness when a resize
/// signal is handled from the same wake-up, so such a key waited for the *next* key (seen as
/// a `q` that did not quit until pressed twice). Each round resizes and types `j` together,
/// then waits for that one move to show, typing nothing else.
#[test]
fn g2_keys_typed_during_a_resize_are_not_held_back() {
    let env = Env::new();
    let mut app = env.spawn(&["--demo", "--graphics", "halfblocks"], &[], 120, 35);
    app.wait_text("Tweet 1 of", LIMIT);
    let patience = Duration::from_secs(3);
    for round in 1..=40u16 {
        app.resize(120 + round % 2, 35);
        app.send(b"j");
        let want = format!("Tweet {} of", round + 1);
        let start = Instant::now();
        while !app.screen().contains(&want) {
            assert!(
                start.elapsed() < patience,
                "round {round}: the `j` typed with a resize was held back; screen:\n{}",
                app.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "one q quits");
}

// ---------------------------------------------------------------------------------------------
// G3, G4, B14: panics

fn forced_panic(kind: &str) {
    let env = Env::new();
    let mut app = env.spawn(
        &["--demo", "--graphics", "halfblocks"],
        // No backtrace, so the report fits the 35 rows the emulator keeps.
        &[("XMEDIA_TEST_PANIC", kind), ("RUST_BACKTRACE", "0")],
        120,
        35,
    );
    let code = app.wait_exit(LIMIT);
    assert!(
        matches!(code, Some(c) if c != 0),
        "{kind}: exits non-zero, got {code:?}"
    );
    assert_restored(&app, kind);
    let screen = app.screen();
    assert!(
        screen.contains(&format!("XMEDIA_TEST_PANIC={kind}")),
        "{kind}: the panic message is readable on the normal screen\n{screen}"
    );
    assert!(screen.contains("xmedia crashed"), "{screen}");
    // Nothing was drawn after the restore: the alt screen was not re-entered.
    let raw = app.raw();
    let left = raw
        .windows(8)
        .rposition(|w| w == b"\x1b[?1049l")
        .expect("left the alt screen");
    assert!(
        !contains(&raw[left..], b"\x1b[?1049h"),
        "{kind}: re-entered the alt screen after restoring"
    );
}

#[test]
fn g3_panic_on_the_main_thread_restores_the_terminal() {
    forced_panic("main");
}

#[test]
fn g4_b14_panic_in_a_background_task_restores_and_exits() {
    forced_panic("task");
}

#[test]
fn g4_b14_panic_on_a_blocking_decoder_thread_restores_and_exits() {
    forced_panic("thread");
}

// RELIABILITY B5 B14: a decoder that panics on a hostile picture (as zune-jpeg and jpeg-decoder
// have, on fuzzed progressive JPEGs) fails that picture only: the app keeps running, says what
// happened in the preview pane, and still quits cleanly.
#[test]
fn b5_a_panicking_decoder_fails_the_picture_not_the_app() {
    let env = Env::new();
    let mut app = env.spawn(
        &["--demo", "--graphics", "halfblocks"],
        &[("XMEDIA_TEST_PANIC", "decoder"), ("RUST_BACKTRACE", "0")],
        120,
        40,
    );
    let screen = app.wait_text("Tweet 1 of", LIMIT);
    assert!(screen.contains("@"), "{screen}");
    let screen = app.wait_for("the crash reported in the pane", LIMIT, |s| {
        s.contains("image unavailable") && s.contains("decoder crash")
    });
    assert!(!screen.contains("xmedia crashed"), "{screen}");
    // Still alive and responsive: the next tweet's picture fails the same way, in the pane.
    app.send(b"j");
    app.wait_text("Tweet 2 of", LIMIT);
    let screen = app.wait_for("the second picture's failure", LIMIT, |s| {
        s.contains("Tweet 2 of") && s.contains("decoder crash")
    });
    // Nothing from the panic was printed over the UI.
    assert!(!screen.contains("panicked at"), "{screen}");
    assert!(!contains(&app.raw(), b"panicked at"));
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    assert_restored(&app, "after a contained decoder panic");
}

// ---------------------------------------------------------------------------------------------
// G5: no TTY

#[test]
fn g5_stdout_or_stdin_not_a_tty_is_a_clear_error() {
    let env = Env::new();
    for (what, stdin_null) in [("stdout to a file", false), ("stdin from a pipe", true)] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmedia"));
        cmd.arg("--demo")
            .env("XMEDIA_CONFIG", env.path("none.toml"))
            .env("XMEDIA_LOG_FILE", env.path("log"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.stdin(if stdin_null {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let out = cmd.output().expect("run xmedia");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("interactive terminal"), "{what}: {err}");
        assert!(
            err.contains("xmedia dump"),
            "{what}: says what to use: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(
            !out.stdout.contains(&0x1b),
            "{what}: no escape sequences written to the pipe"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// G6, G7: a terminal that never answers (the pty here answers nothing)

#[test]
fn g6_keys_typed_during_the_graphics_query_are_replayed() {
    let env = Env::new();
    let mut app = env.spawn(&["--demo"], &[], 120, 35);
    // Typed at once: it reaches stdin while the app still waits (up to 200 ms) for the silent
    // terminal's answer, and the query reads it. It must still count.
    app.send(b"q");
    assert_eq!(
        app.wait_exit(LIMIT),
        Some(0),
        "the q typed during the query quits; screen:\n{}",
        app.screen()
    );
    assert_restored(&app, "after a typed-ahead q");
}

// RELIABILITY G6
#[test]
fn g6_answers_arriving_after_the_graphics_query_gave_up_are_not_keys() {
    let env = Env::new();
    // An opener that leaves a mark if anything is ever opened.
    let opened = env.path("opened");
    let opener = env.path("opener.sh");
    support::pty::write_script(std::path::Path::new(&opener), &format!("touch {opened}\n"));
    // Graphics `auto`: the query goes out, the pseudo-terminal stays silent, the app gives up.
    let mut app = env.spawn(&["--demo"], &[("XMEDIA_OPENER", opener.as_str())], 120, 35);
    app.wait_text("Tweet 1 of", LIMIT);
    // Then a slow terminal's answers come in after all: XTVERSION (DCS, holds `k`), kitty's
    // graphics answer (APC, holds `G` and `O`), a colour report (OSC ended by BEL), cell size,
    // device attributes and status (CSI). Read as keys they would jump to the end (`G`) and try
    // to open the media (`O`).
    app.send(
        b"\x1bP>|kitty(0.26.5)\x1b\\\x1b_Gi=31;OK\x1b\\\x1b]11;rgb:0000/0000/0000\x07\
          \x1b[6;20;10t\x1b[?62;c\x1b[0n",
    );
    // The next real key still works, from where the user was.
    app.send(b"j");
    app.wait_for("the j after the answers", LIMIT, |s| {
        s.contains("Tweet 2 of")
    });
    std::thread::sleep(Duration::from_millis(300));
    let screen = app.screen();
    assert!(
        screen.contains("Tweet 2 of") && !screen.contains("opened "),
        "the answers moved and opened nothing:\n{screen}"
    );
    assert!(
        !std::path::Path::new(&opened).exists(),
        "the opener ran:\n{screen}"
    );
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "one q quits");
}

// RELIABILITY G6
#[test]
fn g6_a_silent_kitty_is_told_why_pictures_are_half_blocks() {
    let env = Env::new();
    // kitty's window id says pictures could work, but the pseudo-terminal never answers.
    let mut app = env.spawn(&["--demo"], &[("KITTY_WINDOW_ID", "1")], 140, 35);
    // Read from everything the app wrote, not the current screen: the notice lasts 3 s, and a
    // busy test machine's emulator can fall further behind than that.
    app.wait_written(b"graphics query unanswered: try --graphics kitty", LIMIT);
    // The notice comes with the first frame, which can be before the first page has arrived: a
    // `j` then has nothing to move to.
    app.wait_text("Tweet 1 of", LIMIT);
    app.send(b"j");
    app.wait_text("Tweet 2 of", LIMIT);
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "one q quits");
}

// RELIABILITY G6 G7
#[test]
fn g6_g7_silent_terminal_first_frame_keys_and_raw_mode() {
    let env = Env::new();
    let started = Instant::now();
    // Graphics `auto`: the capability query goes out and is never answered.
    let mut app = env.spawn(&["--demo"], &[], 120, 35);
    app.wait_text("@xmedia_demo", LIMIT);
    eprintln!(
        "G6: first frame with the profile after {:?} (silent terminal)",
        started.elapsed()
    );
    // Startup asks the terminal nothing it would wait on besides the bounded graphics query:
    // no cursor-position request (ESC[6n), which costs crossterm's 2 s timeout when unanswered.
    assert!(
        !contains(&app.raw(), b"\x1b[6n"),
        "no cursor position query"
    );
    // G7: still raw after the query; ctrl-L is not echoed.
    #[cfg(unix)]
    assert_eq!(app.raw_mode(), Some(true), "raw mode after the query");
    app.send(b"\x0c");
    // The first key after the query is not eaten.
    app.send(b"?");
    let help = app.wait_for("the help overlay", LIMIT, |s| {
        s.to_lowercase().contains("keys") || s.to_lowercase().contains("help")
    });
    assert!(!help.contains("^L"), "{help}");
    // q closes the help first, then quits.
    app.send(b"q");
    app.wait_for("the help closed", LIMIT, |s| !s.contains("to close"));
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "quits with q");
    assert_restored(&app, "after q");
}

// ---------------------------------------------------------------------------------------------
// G10: logs go to the file

#[test]
fn g10_logging_goes_to_a_file_not_the_screen() {
    let env = Env::new();
    let mut app = env.spawn(
        &["--demo", "--graphics", "halfblocks"],
        &[("XMEDIA_LOG", "debug")],
        120,
        35,
    );
    app.wait_text("@xmedia_demo", LIMIT);
    app.send(b"jjj");
    std::thread::sleep(Duration::from_millis(300));
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    let log = std::fs::read_to_string(env.path("xmedia.log")).expect("log file written");
    assert!(log.contains("DEBUG") || log.contains("INFO"), "{log}");
    let raw = String::from_utf8_lossy(&app.raw()).to_string();
    assert!(
        !raw.contains(" INFO ") && !raw.contains(" DEBUG ") && !raw.contains("graphics:"),
        "log lines reached the terminal"
    );
}

// ---------------------------------------------------------------------------------------------
// G11: SIGTERM / ctrl-c while waiting

const X_TWEETS: &str = "/2/users/42/tweets";

fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The browser pointed at a scripted X API on loopback.
fn spawn_xapi(env: &Env, server: &ScriptedServer) -> PtyApp {
    let base = server.base_url();
    env.spawn(
        &[
            "--provider",
            "xapi",
            "--base-url",
            &base,
            "--user-id",
            "42",
            "--graphics",
            "halfblocks",
        ],
        &[("XMEDIA_XAPI_TOKEN", "test-token")],
        120,
        35,
    )
}

/// Stops the app with `how` and checks it gives the terminal back. Returns the time it took.
fn stop(app: &mut PtyApp, how: &str) -> Duration {
    let t = Instant::now();
    match how {
        "ctrl-c" => app.send(b"\x03"),
        #[cfg(unix)]
        "SIGTERM" => app.signal(libc::SIGTERM),
        #[cfg(unix)]
        "SIGINT" => app.signal(libc::SIGINT),
        #[cfg(unix)]
        "SIGHUP" => app.signal(libc::SIGHUP),
        other => panic!("unknown stop {other}"),
    }
    let code = app.wait_exit(EXIT_LIMIT);
    let took = t.elapsed();
    assert!(code.is_some(), "{how}: still running after {EXIT_LIMIT:?}");
    assert_restored(app, how);
    took
}

#[test]
fn g11_signals_and_ctrl_c_during_a_rate_limit_wait() {
    let rt = server_runtime();
    for how in ["SIGTERM", "ctrl-c", "SIGINT", "SIGHUP"] {
        let server = rt.block_on(ScriptedServer::start()).expect("server");
        for _ in 0..3 {
            server.push(
                X_TWEETS,
                Reply::json(429, r#"{"title":"Too Many Requests","status":429}"#)
                    .header("retry-after", "60"),
            );
        }
        let env = Env::new();
        let mut app = spawn_xapi(&env, &server);
        app.wait_for("the rate-limit wait", LIMIT, |s| {
            s.contains("rate limited") && s.contains("retrying in")
        });
        let took = stop(&mut app, how);
        eprintln!("G11: {how} during a rate-limit wait: exited after {took:?}");
    }
}

#[test]
fn g11_signals_and_ctrl_c_during_a_stalled_download() {
    let rt = server_runtime();
    for how in ["SIGTERM", "ctrl-c"] {
        let server = rt.block_on(ScriptedServer::start()).expect("server");
        let base = server.base_url();
        let page = json!({
            "data": [{"id": "1001", "text": "Stalled picture here", "author_id": "42",
                      "attachments": {"media_keys": ["3_1"]}}],
            "includes": {
                "media": [{"media_key": "3_1", "type": "photo", "url": format!("{base}/media/A.jpg"),
                           "width": 800, "height": 600}],
                "users": [{"id": "42", "username": "orbitlab", "name": "Orbital Lab"}],
            },
            "meta": {"result_count": 1},
        });
        server.push(X_TWEETS, Reply::json(200, page.to_string()));
        for _ in 0..4 {
            server.push(
                "/media/A.jpg",
                Reply::text(200, "never").delayed(Duration::from_secs(120)),
            );
        }
        let env = Env::new();
        let mut app = spawn_xapi(&env, &server);
        app.wait_text("Stalled picture here", LIMIT);
        // The picture request reached the server and hangs there.
        let start = Instant::now();
        while !server.requests().iter().any(|r| r.path == "/media/A.jpg") {
            assert!(start.elapsed() < LIMIT, "the picture was never requested");
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = stop(&mut app, how);
        eprintln!("G11: {how} during a stalled download: exited after {took:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// G12: pictures under tmux fall back to half-blocks; no graphics escapes in the text

#[test]
fn g12_tmux_without_passthrough_draws_halfblocks_and_no_graphics_escapes() {
    let env = Env::new();
    let mut app = env.spawn(&["--demo"], &[("TMUX", "/tmp/tmux-0/default,1,0")], 140, 40);
    app.wait_text("@xmedia_demo", LIMIT);
    let screen = app.wait_for("a half-block picture", LIMIT, |s| {
        s.contains('▀') || s.contains('▄')
    });
    let raw = app.raw();
    // The start-up capability query (wrapped for tmux) carries a kitty APC itself; nothing of
    // the kind may follow it.
    let query = ratatui_image::picker::cap_parser::Parser::query(
        true,
        ratatui_image::picker::cap_parser::QueryStdioOptions::default(),
    );
    let at = raw
        .windows(query.len())
        .position(|w| w == query.as_bytes())
        .expect("the tmux-wrapped graphics query went out");
    let tail = &raw[at + query.len()..];
    for (name, seq) in [
        ("kitty APC", &b"\x1b_G"[..]),
        ("sixel DCS", &b"\x1bPq"[..]),
        ("tmux passthrough", &b"\x1bPtmux"[..]),
        ("iTerm2 OSC 1337", &b"\x1b]1337"[..]),
    ] {
        assert!(!contains(tail, seq), "{name} written after the query");
    }
    assert!(!screen.contains("Ga="), "{screen}");
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    assert_restored(&app, "G12");
}

// ---------------------------------------------------------------------------------------------
// G8, G9: wide characters and endless words stay inside their panes

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| {
        xmedia::ui::draw(f, app, now());
    })
    .expect("draw");
    term
}

/// Every row between the panes' top and bottom borders has a vertical border under each pane
/// corner of the top row: nothing wide pushed a border out of place or overwrote it.
fn assert_borders_in_place(term: &Terminal<TestBackend>, what: &str) {
    let buf = term.backend().buffer();
    let (w, h) = (buf.area.width, buf.area.height);
    let top = (0..h)
        .find(|&y| buf[(0, y)].symbol() == "┌")
        .expect("a pane's top-left corner");
    let bottom = (top + 1..h)
        .find(|&y| buf[(0, y)].symbol() == "└")
        .expect("its bottom-left corner");
    let corners: Vec<u16> = (0..w)
        .filter(|&x| matches!(buf[(x, top)].symbol(), "┌" | "┐"))
        .collect();
    assert!(
        corners.len() >= 2,
        "{what}: corners {corners:?}\n{}",
        term.backend()
    );
    for row in top + 1..bottom {
        for &x in &corners {
            assert_eq!(
                buf[(x, row)].symbol(),
                "│",
                "{what}: border at column {x}, row {row}\n{}",
                term.backend()
            );
        }
    }
}

const WIDE: &str = "東京タワー 한국어 \u{1112}\u{1161}\u{11ab}\u{1100}\u{1173}\u{11af} ♻\u{fe0f} 👍\u{1f3fd} \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} 🥲\u{1f3fb} 🇯🇵";

#[test]
fn g8_cjk_nfd_hangul_emoji_modifiers_and_zwj_next_to_borders() {
    let mut page = fixture_page(None);
    let p = page.profile.as_mut().expect("profile");
    p.name = Some(format!("名前{WIDE}"));
    p.bio = Some(WIDE.repeat(4));
    for (i, t) in page.tweets.iter_mut().enumerate() {
        // Every alignment against the border: shift the wide text by one column per tweet.
        t.text = format!("{}{}", "x".repeat(i), WIDE.repeat(6));
        t.author.name = Some(WIDE.into());
    }
    let page = xmedia::provider::sanitize_page(page);
    for (w, h) in [(120, 34), (121, 34), (80, 40), (101, 30)] {
        let mut app = common::app_with(page.clone(), w, h);
        for i in 0..page.tweets.len() {
            let term = draw(&app, w, h);
            assert_borders_in_place(&term, &format!("{w}x{h} selected {i}"));
            app.update(Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('j'),
                crossterm::event::KeyModifiers::NONE,
            )));
        }
    }
    let app = common::app_with(page, 120, 34);
    insta::assert_snapshot!("g8_wide_text", draw(&app, 120, 34).backend());
}

#[test]
fn g9_a_five_thousand_character_word_stays_in_its_pane() {
    let word: String = "w".repeat(4990) + "ENDMARK";
    let url = format!("https://example.com/{}", "p".repeat(5000));
    let mut page = fixture_page(None);
    page.tweets[0].text = format!("{word} {url}");
    page.tweets[0].media[0].alt_text = Some(word.clone());
    page.profile.as_mut().expect("profile").bio = Some(word.clone());
    page.profile.as_mut().expect("profile").name = Some(word.clone());
    for (w, h) in [(120, 34), (80, 40), (200, 60)] {
        let app = common::app_with(page.clone(), w, h);
        let term = draw(&app, w, h);
        assert_borders_in_place(&term, &format!("{w}x{h}"));
        // The preview wraps the word onto many lines, all inside the pane.
        let buf = term.backend().buffer();
        let rows_with_w = (0..h)
            .filter(|&y| (0..w).any(|x| buf[(x, y)].symbol() == "w"))
            .count();
        assert!(rows_with_w > 3, "{w}x{h}: wrapped\n{}", term.backend());
    }
}

// ---------------------------------------------------------------------------------------------
// G1: the sizes the property test in ui_snapshots.rs does not reach

#[test]
fn g1_extreme_sizes_draw_without_panicking() {
    for (w, h) in [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 80),
        (80, 1),
        (65535, 1),
        (1, 65535),
    ] {
        let mut app = common::app_with(fixture_page(Some("c1")), w, h);
        app.update(Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('?'),
            crossterm::event::KeyModifiers::NONE,
        )));
        let term = draw(&app, w, h);
        let text: String = term
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        // Below 40×10 the notice replaces the panes, wherever it has room to be read.
        if w >= 20 {
            assert!(text.contains("Terminal too small"), "{w}x{h}: {text:.200}");
        }
    }
}
