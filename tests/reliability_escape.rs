//! RELIABILITY group A: hostile text never reaches the terminal as control sequences.
//!
//! Each payload of RELIABILITY.md §10 goes through the boundary the app uses (the providers'
//! `sanitize_page`, or a real provider talking to a scripted loopback server), then whole frames
//! are drawn through ratatui's *crossterm* backend into a byte buffer. The bytes are read back by a
//! `vt100` terminal emulator whose callbacks record every side effect a terminal could perform
//! (title, clipboard, bell, unhandled sequences), and scanned against the short list of sequences
//! the app itself writes (cursor moves, colours, cursor visibility).

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{fixture_page, now};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::json;
use xmedia::app::App;
use xmedia::domain::{Page, ProviderKind, UserRef};
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::msg::{Msg, RequestId};
use xmedia::provider::{AnyProvider, Provider, ProviderConfig, sanitize_page};
use xmedia::secret::Secret;
use xmedia::testing::{Reply, ScriptedServer};

/// (case, payload, what must still be visible once the payload is drawn between `<` and `>`).
const CASES: &[(&str, &str, &str)] = &[
    ("A1", "hi\x1b[2J\x1b[Hpwned", "<hipwned>"),
    ("A2", "copy\x1b]52;c;cHduZWQ=\x07me", "<copyme>"),
    ("A3", "paste\x1b]52;c;?\x1b\\me", "<pasteme>"),
    ("A4", "ti\x1b]0;evil\x07\x1b]2;evil\x1b\\tle", "<title>"),
    ("A5", "rep\x1b[21t\x1b[6nort", "<report>"),
    (
        "A6",
        "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
        "<click>",
    ),
    ("A8", "c\u{9b}2Jo\u{9d}0;x\u{9c}ne", "<cone>"),
    ("A9", "d\x1bP+q544e\x1b\\c\x1b_Ga=d\x1b\\s", "<dcs>"),
    ("A11", "safe\rEVIL\x08\x08\x07", "<safeEVIL>"),
    (
        "A12",
        "abc\u{202E}gpj.exe\u{2066}x\u{2069}",
        "<abcgpj.exex>",
    ),
    ("A13", "p\u{200B}a\u{2060}y\u{FEFF}pal", "<paypal>"),
];

/// Everything a terminal could do on its own that a frame must never trigger.
#[derive(Debug, Default)]
struct Recorder {
    events: Vec<String>,
}

impl vt100::Callbacks for Recorder {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.events.push("bell".into());
    }
    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.events.push("visual bell".into());
    }
    fn resize(&mut self, _: &mut vt100::Screen, request: (u16, u16)) {
        self.events.push(format!("resize {request:?}"));
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.events
            .push(format!("icon name {:?}", String::from_utf8_lossy(name)));
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.events
            .push(format!("title {:?}", String::from_utf8_lossy(title)));
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        self.events.push(format!(
            "clipboard write {:?}",
            String::from_utf8_lossy(data)
        ));
    }
    fn paste_from_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8]) {
        self.events.push("clipboard read".into());
    }
    fn unhandled_char(&mut self, _: &mut vt100::Screen, c: char) {
        self.events.push(format!("unhandled char {c:?}"));
    }
    fn unhandled_control(&mut self, _: &mut vt100::Screen, b: u8) {
        self.events.push(format!("unhandled control {b:#x}"));
    }
    fn unhandled_escape(&mut self, _: &mut vt100::Screen, i1: Option<u8>, i2: Option<u8>, b: u8) {
        self.events.push(format!(
            "unhandled escape {i1:?} {i2:?} {:?}",
            char::from(b)
        ));
    }
    fn unhandled_csi(
        &mut self,
        _: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        // `CSI 59 m` (default underline colour), which crossterm writes with every style
        // change, is an SGR vt100 does not model; SGR parameters are checked byte-wise instead.
        if c == 'm' && i1.is_none() && i2.is_none() {
            return;
        }
        self.events
            .push(format!("unhandled csi {i1:?} {i2:?} {params:?} {c:?}"));
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        self.events.push(format!("unhandled osc {params:?}"));
    }
}

/// The only escape sequences a frame may contain: cursor position (`CSI r;c H`), colours and
/// attributes (`CSI … m`), and cursor visibility (`CSI ?25l` / `CSI ?25h`). Also no C0/C1
/// control byte outside those sequences. Returns the first offender.
fn foreign_sequence(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\x1b' {
            if chars.get(i + 1) != Some(&'[') {
                let end = (i + 8).min(chars.len());
                return Some(format!("{:?}", chars[i..end].iter().collect::<String>()));
            }
            let mut j = i + 2;
            while j < chars.len() && ('\x20'..='\x3f').contains(&chars[j]) {
                j += 1;
            }
            let Some(&fin) = chars.get(j) else {
                return Some("unterminated CSI".into());
            };
            let params: String = chars[i + 2..j].iter().collect();
            let ok = match fin {
                'H' | 'm' => params.chars().all(|p| p.is_ascii_digit() || p == ';'),
                'l' | 'h' => params == "?25",
                _ => false,
            };
            if !ok {
                return Some(format!("CSI {params:?} {fin:?}"));
            }
            i = j + 1;
            continue;
        }
        if c.is_control() || c == '\u{fffd}' {
            return Some(format!("control {c:?} at char {i}"));
        }
        i += 1;
    }
    None
}

struct Frame {
    bytes: Vec<u8>,
    screen: String,
    events: Vec<String>,
}

/// The byte sink under the crossterm backend (the backend's own accessor is unstable API).
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draws one whole frame of `app` through the crossterm backend and reads it back.
fn frame(app: &App, w: u16, h: u16) -> Frame {
    let sink = Sink::default();
    let backend = CrosstermBackend::new(sink.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .expect("terminal over a byte buffer");
    term.draw(|f| {
        xmedia::ui::draw(f, app, now());
    })
    .expect("draw");
    let bytes = sink.0.lock().expect("sink").clone();
    let mut parser = vt100::Parser::new_with_callbacks(h, w, 0, Recorder::default());
    parser.process(&bytes);
    Frame {
        screen: parser.screen().contents(),
        events: std::mem::take(&mut parser.callbacks_mut().events),
        bytes,
    }
}

fn assert_clean(what: &str, f: &Frame) {
    assert!(
        f.events.is_empty(),
        "{what}: the terminal saw {:?}\nscreen:\n{}",
        f.events,
        f.screen
    );
    if let Some(bad) = foreign_sequence(&f.bytes) {
        panic!(
            "{what}: foreign sequence {bad} in the frame\nscreen:\n{}",
            f.screen
        );
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// The fixture account with `payload` in every text field a pane draws: profile name, handle,
/// bio and location; the first tweet's text, author, alt text; the quoted tweet; page warnings.
fn hostile_page(payload: &str) -> Page {
    let wrap = |s: &str| format!("<{s}>");
    let mut page = fixture_page(None);
    let p = page.profile.as_mut().expect("fixture profile");
    p.name = Some(wrap(payload));
    p.bio = Some(format!("bio {}", wrap(payload)));
    p.location = Some(wrap(payload));
    p.verified_type = Some(payload.to_string());
    let t = &mut page.tweets[0];
    t.text = format!("{} after", wrap(payload));
    t.author.name = Some(wrap(payload));
    t.media[0].alt_text = Some(wrap(payload));
    let q = page.tweets[3].quoted.as_mut().expect("fixture quote");
    q.text = wrap(payload);
    q.author.name = Some(wrap(payload));
    page.warnings = vec![wrap(payload)];
    page
}

/// Every pane in several layouts: wide with preview, stacked narrow, the quoted tweet selected,
/// the help overlay on top, and a refresh that failed with `error` in the status bar.
fn check_all_frames(case: &str, page: Page, visible: &str, error: Option<ProviderError>) {
    let (w, h) = (200, 50);
    let mut app = common::app_with(page.clone(), w, h);
    let wide = frame(&app, w, h);
    assert_clean(&format!("{case} wide"), &wide);
    assert!(
        wide.screen.contains(visible),
        "{case}: {visible:?} must stay visible\n{}",
        wide.screen
    );
    let stacked = frame(&common::app_with(page, 80, 60), 80, 60);
    assert_clean(&format!("{case} stacked"), &stacked);
    for _ in 0..3 {
        app.update(key('j'));
    }
    let quote = frame(&app, w, h);
    assert_clean(&format!("{case} quote selected"), &quote);
    assert!(
        quote.screen.contains(visible),
        "{case}: quote\n{}",
        quote.screen
    );
    app.update(key('?'));
    assert_clean(&format!("{case} help"), &frame(&app, w, h));
    app.update(key('?'));
    if let Some(error) = error {
        app.update(key('r'));
        app.update(Msg::PageFailed {
            req: RequestId(2),
            error,
        });
        let failed = frame(&app, w, h);
        assert_clean(&format!("{case} error in status bar"), &failed);
        assert!(
            failed.screen.contains(visible),
            "{case}: the error text stays readable\n{}",
            failed.screen
        );
    }
}

/// A14 and the payloads of §10 through `sanitize_page`, the function `AnyProvider` applies to
/// every page it returns (see `a15_*` for the same path through real providers).
fn run_case(case: &str) {
    let &(_, payload, visible) = CASES
        .iter()
        .find(|(c, _, _)| *c == case)
        .expect("known case");
    let page = sanitize_page(hostile_page(payload));
    // The data itself is clean, not only the frame (ratatui happens to drop some zero-width
    // controls on its own; the sanitizer must not rely on that).
    for field in page_texts(&page) {
        assert_no_invisible(case, &field);
    }
    let error = ProviderError::Upstream {
        provider: ProviderKind::Keyapi,
        status: Some(500),
        message: xmedia::http::snippet(&format!("<{payload}>")),
    };
    check_all_frames(case, page, visible, Some(error));
}

#[test]
fn a1_csi_clear_screen_never_reaches_terminal() {
    run_case("A1");
}

#[test]
fn a2_osc52_clipboard_write_never_fires() {
    run_case("A2");
}

#[test]
fn a3_osc52_clipboard_read_never_fires() {
    run_case("A3");
}

#[test]
fn a4_title_set_with_bel_and_st_is_stripped() {
    run_case("A4");
}

#[test]
fn a5_title_and_cursor_reports_are_stripped() {
    run_case("A5");
}

#[test]
fn a6_osc8_link_spoof_is_stripped() {
    run_case("A6");
    let page = sanitize_page(hostile_page(CASES[5].1));
    let f = frame(&common::app_with(page, 200, 50), 200, 50);
    assert!(!f.screen.contains("evil.example"), "{}", f.screen);
    assert!(!String::from_utf8_lossy(&f.bytes).contains("evil.example"));
}

#[test]
fn a8_c1_controls_as_utf8_are_stripped() {
    run_case("A8");
}

#[test]
fn a9_dcs_and_apc_kitty_delete_are_stripped() {
    run_case("A9");
}

#[test]
fn a11_carriage_return_backspace_and_bell_are_stripped() {
    run_case("A11");
    // A thousand bells in one field: still no bell.
    let page = sanitize_page(hostile_page(&format!("bell{}s", "\x07".repeat(1000))));
    check_all_frames("A11 bells", page, "<bells>", None);
}

#[test]
fn a12_bidi_overrides_and_isolates_are_stripped_everywhere() {
    run_case("A12");
    let page = sanitize_page(hostile_page(CASES[9].1));
    let f = frame(&common::app_with(page, 200, 50), 200, 50);
    for bidi in ['\u{202e}', '\u{2066}', '\u{2069}'] {
        assert!(!f.screen.contains(bidi), "{bidi:?} on screen");
        assert!(
            !String::from_utf8_lossy(&f.bytes).contains(bidi),
            "{bidi:?} in bytes"
        );
    }
}

#[test]
fn a13_zero_width_removed_but_zwj_family_kept() {
    run_case("A13");
    let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let page = sanitize_page(hostile_page(&format!("fam{family}ily")));
    let t = &page.tweets[0].text;
    assert!(t.contains(family), "ZWJ sequence kept: {t:?}");
    let f = frame(&common::app_with(page, 200, 50), 200, 50);
    assert_clean("A13 family", &f);
    assert!(
        String::from_utf8_lossy(&f.bytes).contains(family),
        "the family is written as one sequence"
    );
    // The border right of the list still sits in its column on every row (cell budget kept).
    let (w, h) = (200, 50);
    let app = common::app_with(sanitize_page(hostile_page(family)), w, h);
    let f = frame(&app, w, h);
    let mut parser = vt100::Parser::new(h, w, 0);
    parser.process(&f.bytes);
    let list_right = (0..w)
        .rev()
        .find(|&c| {
            parser
                .screen()
                .cell(4, c)
                .is_some_and(|cell| cell.contents() == "│")
        })
        .expect("a border on row 4");
    for row in 4..h - 2 {
        let cell = parser.screen().cell(row, list_right).expect("cell");
        assert_eq!(cell.contents(), "│", "row {row} border moved\n{}", f.screen);
    }
}

#[test]
fn a10_unterminated_osc_is_cut_and_following_fields_render() {
    let page = sanitize_page(hostile_page("tail \x1b]0;never-terminated"));
    // The payload ends the field; what follows it in the same pane must still be drawn.
    assert_eq!(page.tweets[0].text, "<tail ");
    let mut app = common::app_with(page, 200, 50);
    let f = frame(&app, 200, 50);
    assert_clean("A10", &f);
    assert!(f.screen.contains("<tail"), "{}", f.screen);
    assert!(!f.screen.contains("never-terminated"), "{}", f.screen);
    // Fields after the text in the preview: the link and the second tweet in the list.
    assert!(
        f.screen.contains("x.com/orbitlab/status/1001"),
        "{}",
        f.screen
    );
    assert!(f.screen.contains("Liftoff!"), "{}", f.screen);
    app.update(key('?'));
    assert_clean("A10 help", &frame(&app, 200, 50));
}

#[test]
fn a14_tab_becomes_space_and_newline_splits_lines() {
    let page = sanitize_page(hostile_page("col1\tcol2\nsecond line"));
    assert_eq!(page.tweets[0].text, "<col1 col2\nsecond line> after");
    let f = frame(&common::app_with(page, 200, 50), 200, 50);
    assert_clean("A14", &f);
    let lines: Vec<&str> = f.screen.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("<col1 col2") && !l.contains("second"))
        .unwrap_or_else(|| panic!("preview line with the tab as a space\n{}", f.screen));
    assert!(
        lines[first + 1..]
            .iter()
            .any(|l| l.contains("second line>")),
        "the newline starts a new line\n{}",
        f.screen
    );
}

// ---------------------------------------------------------------------------------------------
// Through real providers (the boundary itself) and API error messages.

async fn provider(server: &ScriptedServer, kind: ProviderKind) -> AnyProvider {
    AnyProvider::new(
        ProviderConfig {
            kind,
            base_url: server.base_url().parse().expect("url"),
            key: Secret::new("test-key").expect("key"),
            page_size: 20,
            include_retweets: false,
        },
        HttpClient::new(&HttpConfig::default()),
    )
}

const X_TWEETS: &str = "/2/users/42/tweets";

/// An X API v2 page with `payload` in the text, the author, the alt text and the media type.
fn x_page(payload: &str) -> String {
    json!({
        "data": [{
            "id": "1001", "text": format!("<{payload}> after"), "author_id": "42",
            "created_at": "2026-11-23T09:00:00.000Z",
            "attachments": {"media_keys": ["3_1", "3_2"]},
        }],
        "includes": {
            "media": [
                {"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/A.jpg",
                 "alt_text": format!("<{payload}>")},
                {"media_key": "3_2", "type": format!("\x1b]52;c;cHduZWQ=\x07{payload}"),
                 "url": "https://pbs.twimg.com/media/B.jpg"},
            ],
            "users": [{"id": "42", "username": "orbitlab", "name": format!("<{payload}>"),
                       "description": format!("<{payload}>")}],
        },
        "meta": {"result_count": 1},
    })
    .to_string()
}

/// Every text field the panes draw.
fn page_texts(page: &Page) -> Vec<String> {
    let mut out = page.warnings.clone();
    if let Some(p) = &page.profile {
        out.extend(
            [
                p.name.clone(),
                p.bio.clone(),
                p.location.clone(),
                p.verified_type.clone(),
            ]
            .into_iter()
            .flatten(),
        );
        out.push(p.handle.clone());
    }
    let mut tweets: Vec<&xmedia::domain::Tweet> = page.tweets.iter().collect();
    tweets.extend(page.tweets.iter().filter_map(|t| t.quoted.as_deref()));
    for t in tweets {
        out.push(t.text.clone());
        out.extend(t.author.name.clone());
        out.extend(t.media.iter().filter_map(|m| m.alt_text.clone()));
    }
    out
}

/// No controls, bidi controls or lone zero-width characters.
fn assert_no_invisible(what: &str, s: &str) {
    assert_no_controls(what, s);
    assert!(
        !s.chars().any(|c| matches!(
            c,
            '\u{200b}' | '\u{2060}' | '\u{feff}' | '\u{200e}' | '\u{200f}'
        )),
        "{what}: {s:?}"
    );
}

fn assert_no_controls(what: &str, s: &str) {
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n'
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)),
        "{what}: {s:?}"
    );
}

#[tokio::test]
async fn a15_a16_xapi_page_and_unknown_media_type_are_sanitized_by_the_provider() {
    for &(case, payload, visible) in CASES {
        let server = ScriptedServer::start().await.expect("server");
        server.push(X_TWEETS, Reply::json(200, x_page(payload)));
        let p = provider(&server, ProviderKind::Xapi).await;
        // A16: an unknown media `type` carrying an escape does not fail the page.
        let page = p
            .fetch_page(&UserRef::id("42"), None)
            .await
            .unwrap_or_else(|e| panic!("{case}: page with an unknown media type: {e}"));
        let dump = format!("{page:?}");
        assert!(!dump.contains("cHduZWQ"), "{case}: {dump}");
        assert_no_controls(case, &page.tweets[0].text);
        check_all_frames(case, page, visible, None);
    }
}

/// The three providers' error bodies, each quoting `payload` where its API puts a message.
fn error_replies(payload: &str) -> Vec<(ProviderKind, &'static str, UserRef, Reply)> {
    vec![
        (
            ProviderKind::Keyapi,
            "/v1/twitter/usermedia",
            UserRef::handle("orbitlab"),
            Reply::json(
                200,
                json!({"code": 1001, "message": format!("<{payload}>"), "data": null}).to_string(),
            ),
        ),
        (
            ProviderKind::Keyapi,
            "/v1/twitter/usermedia",
            UserRef::handle("orbitlab"),
            Reply::json(
                401,
                json!({"code": 401, "message": format!("<{payload}>"), "data": null}).to_string(),
            ),
        ),
        (
            ProviderKind::Agntdata,
            "/user/medias",
            UserRef::id("42"),
            Reply::json(
                422,
                json!({"success": false, "error": {"code": "VALIDATION_ERROR",
                       "message": format!("<{payload}>")}})
                .to_string(),
            ),
        ),
        (
            ProviderKind::Agntdata,
            "/user/medias",
            UserRef::id("42"),
            Reply::json(
                500,
                json!({"success": false, "error": {"code": "X", "message": format!("<{payload}>")}})
                    .to_string(),
            ),
        ),
        (
            ProviderKind::Xapi,
            X_TWEETS,
            UserRef::id("42"),
            Reply::json(
                403,
                json!({"title": "Forbidden", "detail": format!("<{payload}>"),
                       "type": "about:blank", "status": 403})
                .to_string(),
            ),
        ),
        (
            ProviderKind::Xapi,
            X_TWEETS,
            UserRef::id("42"),
            Reply::json(
                400,
                json!({"errors": [{"message": format!("<{payload}>")}],
                       "title": "Invalid Request", "detail": format!("<{payload}>")})
                .to_string(),
            ),
        ),
        // Not JSON at all: the body itself is quoted in the message.
        (
            ProviderKind::Xapi,
            X_TWEETS,
            UserRef::id("42"),
            Reply::text(502, format!("<{payload}>")),
        ),
    ]
}

#[tokio::test]
async fn a15_api_error_messages_are_sanitized_like_tweet_text() {
    for &(case, payload, visible) in CASES {
        for (kind, path, user, reply) in error_replies(payload) {
            let server = ScriptedServer::start().await.expect("server");
            let status = reply.status;
            server.push(path, reply);
            let p = provider(&server, kind).await;
            let error = p
                .fetch_page(&user, None)
                .await
                .expect_err("an error body is an error");
            let what = format!("{case} {kind} HTTP {status}");
            assert_no_controls(&what, &error.to_string());
            assert!(
                error.to_string().contains(visible),
                "{what}: the message still quotes the API: {error}"
            );
            check_all_frames(
                &what,
                sanitize_page(fixture_page(None)),
                "Orbital Lab",
                Some(error),
            );
        }
    }
}

#[tokio::test]
async fn a16_wrong_shapes_quote_no_raw_escapes() {
    // serde names what it did not expect; none of that text may carry the payload raw.
    let payload = "\x1b]52;c;cHduZWQ=\x07\x1b[2J";
    let bodies = [
        (
            ProviderKind::Xapi,
            X_TWEETS,
            UserRef::id("42"),
            json!({"data": payload}).to_string(),
        ),
        (
            ProviderKind::Agntdata,
            "/user/medias",
            UserRef::id("42"),
            json!({"success": true, "data": payload}).to_string(),
        ),
        (
            ProviderKind::Keyapi,
            "/v1/twitter/usermedia",
            UserRef::handle("orbitlab"),
            json!({"code": 0, "message": "success", "data": {"timeline": payload}}).to_string(),
        ),
        (
            ProviderKind::Keyapi,
            "/v1/twitter/usermedia",
            UserRef::handle("orbitlab"),
            json!({"code": payload, "message": payload, "data": null}).to_string(),
        ),
    ];
    for (kind, path, user, body) in bodies {
        let server = ScriptedServer::start().await.expect("server");
        server.push(path, Reply::json(200, body.clone()));
        let p = provider(&server, kind).await;
        match p.fetch_page(&user, None).await {
            Ok(page) => {
                let dump = format!("{page:?}");
                assert!(!dump.contains('\x1b'), "{kind}: {dump}");
            }
            Err(e) => {
                assert_no_controls(&format!("{kind} {body}"), &e.to_string());
                check_all_frames(
                    "A16",
                    sanitize_page(fixture_page(None)),
                    "Orbital Lab",
                    Some(e),
                );
            }
        }
    }
}

/// A7: xmedia writes no OSC 8 links at all. Its one escape sequence carrying data is the OSC 52
/// clipboard write for `y`, whose payload is base64: a URL with BEL or ST inside cannot end it
/// early or smuggle a second sequence.
#[test]
fn a7_own_osc52_copy_cannot_be_terminated_early() {
    let url = "https://x.com/a\x07\x1b\\\x1b]0;evil\x07/status/1";
    let seq = xmedia::effect::osc52_sequence(url);
    assert_eq!(seq.matches('\x07').count(), 1, "{seq:?}");
    assert!(seq.ends_with('\x07'));
    assert_eq!(seq.matches('\x1b').count(), 1, "{seq:?}");
    let mut parser = vt100::Parser::new_with_callbacks(5, 40, 0, Recorder::default());
    parser.process(seq.as_bytes());
    let events = &parser.callbacks().events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].starts_with("clipboard write"), "{events:?}");
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui.rs"))
        .expect("read ui.rs");
    assert!(!src.contains("]8;"), "the UI writes no OSC 8 links");
}

// ---------------------------------------------------------------------------------------------
// A17: what the binary prints outside the UI.

fn dump_with(server: &ScriptedServer, extra_env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmedia"));
    cmd.args([
        "dump",
        "--provider",
        "xapi",
        "--base-url",
        &server.base_url(),
        "--user-id",
        "42",
    ])
    .env("XMEDIA_CONFIG", dir.path().join("none.toml"))
    .env("XMEDIA_LOG_FILE", dir.path().join("log"))
    .env("XMEDIA_XAPI_TOKEN", "test-token")
    .env_remove("XMEDIA_KEYAPI_KEY")
    .env_remove("XMEDIA_AGNTDATA_KEY");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run xmedia dump")
}

fn assert_bytes_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert_no_controls(what, &text);
    let mut parser = vt100::Parser::new_with_callbacks(50, 200, 1000, Recorder::default());
    // A terminal sees `\n` as a line feed only; add the carriage return a cooked tty would.
    parser.process(text.replace('\n', "\r\n").as_bytes());
    assert!(
        parser.callbacks().events.is_empty(),
        "{what}: {:?}",
        parser.callbacks().events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a17_dump_output_and_error_lines_after_exit_are_sanitized() {
    let payload: String = CASES.iter().map(|(_, p, _)| *p).collect();
    // A page whose every field carries every payload: stdout (JSON lines) must be clean.
    let server = ScriptedServer::start().await.expect("server");
    server.push(X_TWEETS, Reply::json(200, x_page(&payload)));
    let out = tokio::task::block_in_place(|| dump_with(&server, &[]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
    assert!(!out.stdout.contains(&0x1b), "no ESC byte in the JSON lines");
    assert_bytes_clean("dump stdout", &out.stdout);
    assert_bytes_clean("dump stderr", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stdout).contains("<hipwnedcopyme"));

    // An error quoting the payload is printed on stderr after the run.
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        X_TWEETS,
        Reply::json(
            403,
            json!({"title": "Forbidden", "detail": format!("<{payload}>"), "status": 403})
                .to_string(),
        ),
    );
    let out = tokio::task::block_in_place(|| dump_with(&server, &[]));
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<hipwned"), "the error is printed: {err}");
    assert_bytes_clean("dump error stderr", &out.stderr);
}
