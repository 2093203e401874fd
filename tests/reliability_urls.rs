//! RELIABILITY group E: opening URLs. The validator on every hostile input of the checklist, the
//! app turning rejected links into a notice (and no `OpenUrl` effect, so the runtime never calls
//! a launcher), a fake launcher recording the exact argv it gets, and the real binary in a
//! pseudo-terminal with a launcher that does not exist.

mod common;
mod support {
    pub mod pty;
}

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use xmedia::app::{App, AppConfig, NoticeLevel};
use xmedia::domain::{Media, MediaKind, Page, ProviderKind, UserRef};
use xmedia::effect::{Effect, MAX_URL_LEN, validate_open_url};
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::msg::Msg;
use xmedia::provider::{AnyProvider, Provider, ProviderConfig};
use xmedia::secret::Secret;
use xmedia::testing::{Reply, ScriptedServer};

const LIMIT: Duration = Duration::from_secs(20);

fn rejected(inputs: &[&str], why: &str) {
    for raw in inputs {
        match validate_open_url(raw) {
            Ok(u) => panic!("{raw:?} was accepted as {u:?}"),
            Err(e) => assert!(
                e.contains(why),
                "{raw:?}: expected a reason containing {why:?}, got {e:?}"
            ),
        }
    }
}

#[test]
fn e1_script_and_data_schemes_are_refused() {
    rejected(
        &[
            "javascript:alert(1)",
            "JavaScript:alert(document.cookie)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD4=",
        ],
        "refusing to open",
    );
}

#[test]
fn e2_file_urls_are_refused_local_and_remote() {
    rejected(
        &[
            "file:///etc/passwd",
            "file://attacker/share/x",
            "FILE://attacker.example/share/x",
        ],
        "refusing to open a file: link",
    );
}

#[test]
fn e3_custom_scheme_handlers_are_refused() {
    rejected(
        &[
            "ms-settings:",
            "ms-settings:network",
            "vscode://vscode.git/clone?url=https://evil.example",
            "steam://run/123",
            "ftp://x.com/a",
            "smb://attacker/share",
        ],
        "refusing to open",
    );
    // Plain http only on loopback (the demo server).
    rejected(&["http://x.com/nasa"], "refusing to open a http: link");
    assert!(validate_open_url("http://127.0.0.1:8080/media/a.jpg").is_ok());
}

#[test]
fn e4_argument_like_strings_are_not_urls() {
    rejected(
        &["--load-modules=/tmp/evil.so", "-aCalculator", "-", "--"],
        "not a valid link",
    );
}

#[test]
fn e5_shell_metacharacters_in_the_host_are_refused() {
    for raw in [
        "https://x.com&calc.exe",
        "https://x.com\"&calc&\"",
        "https://$(calc.exe)",
        "https://x.com;calc",
        "https://`id`.example/",
        "https://x.com|calc/",
    ] {
        assert!(
            validate_open_url(raw).is_err(),
            "{raw:?} accepted: {:?}",
            validate_open_url(raw)
        );
    }
}

#[test]
fn e6_control_bidi_and_overlong_links_are_refused() {
    rejected(
        &[
            "https://x.com/a\nb",
            "https://x.com/a\r\nb",
            "https://x.com/\x1b[2J",
            "https://x.com/\u{9b}2J",
            "https://x.com/\u{202E}gpj.exe",
            "https://x.com/a\u{2066}b\u{2069}",
            "https://x.com/a\u{200B}b",
            "https://x.com/a b",
            "https://x.com/a\tb",
        ],
        "control characters",
    );
    let at_cap = format!(
        "https://x.com/{}",
        "a".repeat(MAX_URL_LEN - "https://x.com/".len())
    );
    assert_eq!(at_cap.len(), MAX_URL_LEN);
    assert!(validate_open_url(&at_cap).is_ok(), "exactly at the cap");
    let over = format!("{at_cap}a");
    rejected(&[&over], "too long");
}

#[test]
fn e7_userinfo_is_refused_and_idn_hosts_become_punycode() {
    rejected(
        &[
            "https://twitter.com@evil.example/",
            "https://user:pw@x.com/",
            "https://:pw@x.com/",
        ],
        "user name or password",
    );
    // Cyrillic "а" in "аpple.com": what is handed over (and shown) is the ASCII form.
    let shown = validate_open_url("https://\u{430}pple.com/login").expect("an IDN host is a host");
    assert_eq!(shown, "https://xn--pple-43d.com/login");
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// An app in a 120×40 terminal that asked for its first page and got `page`.
fn app_showing(page: Page) -> App {
    let mut app = App::new(ProviderKind::Xapi, AppConfig::default());
    app.update(Msg::Resized(120, 40));
    app.update(Msg::Tick(common::now()));
    let req = app
        .update(Msg::Started)
        .into_iter()
        .find_map(|e| match e {
            Effect::FetchPage { req, .. } => Some(req),
            _ => None,
        })
        .expect("first page asked for");
    app.update(Msg::PageLoaded { req, page });
    app
}

/// An app showing one tweet whose video plays from `video_url`.
fn app_with_video(video_url: &str) -> App {
    let mut tweet = common::numbered(1);
    tweet.media = vec![Media {
        kind: MediaKind::Video,
        url: Some("https://pbs.twimg.com/v/poster.jpg".into()),
        width: None,
        height: None,
        alt_text: None,
        duration_ms: None,
        variants: vec![],
        video_url: Some(video_url.into()),
        type_name: None,
    }];
    app_showing(Page {
        tweets: vec![tweet],
        next_cursor: None,
        profile: None,
        warnings: vec![],
    })
}

#[test]
fn e4_e5_e6_rejected_links_reach_no_launcher_and_are_explained() {
    for bad in [
        "--load-modules=/tmp/evil.so",
        "-aCalculator",
        "https://x.com&calc.exe",
        "https://$(calc.exe)",
        "javascript:alert(1)",
        "file://attacker/share/x",
        "https://x.com/\u{202E}4pm.exe",
    ] {
        let mut app = app_with_video(bad);
        let effects = app.update(key(KeyCode::Char('O')));
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::OpenUrl(_))),
            "{bad:?} would reach the launcher: {effects:?}"
        );
        let notice = app.notice().expect("the refusal is explained");
        assert_eq!(notice.level, NoticeLevel::Error);
        assert!(notice.text.starts_with("not opening link: "), "{notice:?}");
        assert!(
            !notice.text.contains('\u{202E}'),
            "the notice must not carry the bidi override: {notice:?}"
        );
    }
}

#[test]
fn e7_the_notice_on_opening_names_the_punycode_host() {
    let mut app = app_with_video("https://v\u{ed}deo.example/a.mp4");
    let effects = app.update(key(KeyCode::Char('O')));
    let opened: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::OpenUrl(_)))
        .collect();
    assert_eq!(
        opened,
        [&Effect::OpenUrl(
            "https://xn--vdeo-vpa.example/a.mp4".into()
        )]
    );
    let notice = app.notice().expect("a notice says what was opened");
    assert!(
        notice.text.contains("xn--vdeo-vpa.example"),
        "{:?}",
        notice.text
    );
    assert!(!notice.text.contains('\u{ed}'), "{:?}", notice.text);
}

/// A launcher script that appends its argument count and each argument, one per line.
fn recording_launcher(dir: &Path) -> (String, std::path::PathBuf) {
    let script = dir.join("launcher.sh");
    let record = dir.join("argv.txt");
    support::pty::write_script(
        &script,
        &format!(
            "{{ echo \"argc=$#\"; for a in \"$@\"; do printf 'arg=%s\\n' \"$a\"; done; }} >> {}\n",
            record.display()
        ),
    );
    (script.display().to_string(), record)
}

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && s.lines().count() >= 2
        {
            return s;
        }
        assert!(start.elapsed() < LIMIT, "the launcher never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn e5_an_accepted_link_reaches_the_launcher_as_one_plain_argument() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (launcher, record) = recording_launcher(dir.path());
    // Shell metacharacters where a URL may carry them (query, path): passed as data, not parsed.
    let raw = "https://x.com/search?q=a&b=$(id)&c=`id`;calc";
    let url = validate_open_url(raw).expect("query characters are allowed");
    xmedia::opener::open_url(&url, Some(&launcher)).expect("launcher runs");
    let got = wait_for_file(&record);
    assert_eq!(got, format!("argc=1\narg={url}\n"));
    assert!(
        !dir.path().join("id").exists(),
        "nothing was interpreted by a shell"
    );
}

#[test]
fn e9_a_missing_launcher_is_an_error_message() {
    let e = xmedia::opener::open_url(
        "https://x.com/a/status/1",
        Some("/nonexistent/xdg-open-xyz"),
    )
    .expect_err("no such program");
    assert!(e.contains("could not run opener"), "{e}");
}

#[test]
fn e9_missing_launcher_in_the_real_binary_is_a_status_message_and_the_app_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("none.toml").display().to_string();
    let log = dir.path().join("log").display().to_string();
    let mut app = support::pty::PtyApp::spawn(
        &["--demo"],
        &[
            ("XMEDIA_OPENER", "/nonexistent/xdg-open-xyz"),
            ("XMEDIA_CONFIG", config.as_str()),
            ("XMEDIA_LOG_FILE", log.as_str()),
        ],
        140,
        40,
    );
    app.wait_text("@xmedia_demo", LIMIT);
    // The profile (and its media count) can arrive before the tweets: wait for the list.
    app.wait_text("Tweet 1 of", LIMIT);
    app.send(b"o");
    app.wait_text("could not open", LIMIT);
    // Still responsive: the help overlay opens and closes, and q quits cleanly.
    app.send(b"?");
    app.wait_for("help", LIMIT, |s| s.to_lowercase().contains("help"));
    app.send(b"?");
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "exits normally");
    assert!(app.terminal_restored());
    assert!(
        app.raw().windows(8).any(|w| w == b"\x1b[?1049l"),
        "left the alternate screen"
    );
}

/// An X API page with one photo tweet whose text carries a `t.co` link displayed as one host but
/// expanding to another.
fn xapi_spoofed_link_page() -> String {
    json!({
        "data": [{
            "id": "1900000000000000001",
            "text": "Official store: https://t.co/AbCd https://t.co/MeDiA",
            "author_id": "42",
            "attachments": {"media_keys": ["3_1"]},
            "entities": {"urls": [
                {"start": 16, "end": 33, "url": "https://t.co/AbCd",
                 "expanded_url": "https://evil.example/login", "display_url": "apple.com/store"},
                {"start": 34, "end": 51, "url": "https://t.co/MeDiA",
                 "expanded_url": "https://x.com/t/status/1900000000000000001/photo/1",
                 "display_url": "pic.x.com/MeDiA", "media_key": "3_1"}
            ]}
        }],
        "includes": {
            "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"}],
            "users": [{"id": "42", "username": "t", "name": "T"}]
        },
        "meta": {"result_count": 1}
    })
    .to_string()
}

#[tokio::test]
async fn e8_a_tco_link_shows_its_real_target_host_and_o_opens_the_tweet() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        "/2/users/42/tweets",
        Reply::json(200, xapi_spoofed_link_page()),
    );
    let http = HttpClient::new(&HttpConfig::default());
    let provider = AnyProvider::new(
        ProviderConfig {
            kind: ProviderKind::Xapi,
            base_url: url::Url::parse(&server.base_url()).expect("url"),
            key: Secret::new("k-e8").expect("key"),
            page_size: 100,
            include_retweets: false,
        },
        http,
    );
    let page = provider
        .fetch_page(&UserRef::id("42"), None)
        .await
        .expect("page");
    let text = &page.tweets[0].text;
    assert!(text.contains("https://evil.example/login"), "{text}");
    assert!(
        !text.contains("apple.com"),
        "the spoofed label is not shown: {text}"
    );

    let mut app = app_showing(page);
    let effects = app.update(key(KeyCode::Char('o')));
    let want = "https://x.com/t/status/1900000000000000001";
    assert!(
        effects.contains(&Effect::OpenUrl(want.into())),
        "{effects:?}"
    );
    let notice = app.notice().expect("notice").text.clone();
    assert_eq!(notice, format!("opened {want}"));
}
