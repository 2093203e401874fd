//! The real binary in a pseudo-terminal against the bundled demo server: what a user sees and
//! does, read back through a vt100 emulator.

mod support {
    pub mod pty;
}

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::pty::PtyApp;
use xmedia::ui::format::compact;

const LIMIT: Duration = Duration::from_secs(20);

/// The demo account as `dump` sees it, to know what the screen must show.
fn demo_dump() -> (Value, Vec<Value>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_xmedia"))
        .args(["dump", "--demo", "--all"])
        .env("XMEDIA_CONFIG", dir.path().join("none.toml"))
        .env("XMEDIA_LOG_FILE", dir.path().join("log"))
        .output()
        .expect("dump");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let profile = lines[0].clone();
    (profile, lines[1..].to_vec())
}

fn spawn(extra: &[&str], dir: &tempfile::TempDir) -> PtyApp {
    let opener = dir.path().join("opener.sh");
    let opened = dir.path().join("opened.txt");
    support::pty::write_script(
        &opener,
        &format!("printf '%s\\n' \"$1\" >> {}\n", opened.display()),
    );
    let config = dir.path().join("none.toml");
    let log = dir.path().join("log");
    let opener_s = opener.display().to_string();
    let config_s = config.display().to_string();
    let log_s = log.display().to_string();
    PtyApp::spawn(
        extra,
        &[
            ("XMEDIA_OPENER", opener_s.as_str()),
            ("XMEDIA_CONFIG", config_s.as_str()),
            ("XMEDIA_LOG_FILE", log_s.as_str()),
        ],
        140,
        40,
    )
}

fn opened(dir: &tempfile::TempDir) -> Vec<String> {
    std::fs::read_to_string(dir.path().join("opened.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn browse_the_demo_page_through_help_open_and_quit() {
    let (profile, tweets) = demo_dump();
    let dir = tempfile::tempdir().expect("tempdir");
    // 150 ms per answer: paging must happen in the background while keys keep coming.
    let mut app = spawn(&["--demo", "--demo-latency-ms", "150"], &dir);

    // Header: name, handle and the big numbers, formatted as the header formats them.
    let name = profile["name"].as_str().expect("name");
    let screen = app.wait_text(name, LIMIT);
    assert!(screen.contains("@xmedia_demo"), "{screen}");
    let followers = compact(profile["followers"].as_u64().expect("followers"));
    app.wait_text(&followers, LIMIT);
    // The first rows of the list: the newest tweets' text.
    let first_words: String = tweets[0]["text"]
        .as_str()
        .expect("text")
        .chars()
        .take(12)
        .collect();
    app.wait_text(&first_words, LIMIT);
    assert!(
        app.screen().contains("demo"),
        "the status bar says it is the demo"
    );

    // Hold `j` past page one: pages two and three arrive without the user stopping.
    for _ in 0..tweets.len() {
        app.send(b"j");
        std::thread::sleep(Duration::from_millis(15));
    }
    let total = tweets.len().to_string();
    app.wait_for("every page loaded", LIMIT, |s| {
        s.contains(&format!("{total} / ")) || s.contains(&format!("{total} media"))
    });
    // The oldest tweet is reached by holding on. On a loaded machine the last page can land
    // after the held keys ran out (keys past the loaded end do nothing, as in any list), so a
    // few more presses may be needed; the paging itself happened while the keys came.
    let last_words: String = tweets[tweets.len() - 1]["text"]
        .as_str()
        .expect("text")
        .chars()
        .take(12)
        .collect();
    for _ in 0..tweets.len() {
        if app.screen().contains(&last_words) {
            break;
        }
        app.send(b"j");
        std::thread::sleep(Duration::from_millis(30));
    }
    app.wait_text(&last_words, LIMIT);

    // Help overlay lists real bindings, and closes again.
    app.send(b"?");
    let help = app.wait_text("open", LIMIT);
    assert!(help.to_lowercase().contains("help"), "{help}");
    app.send(b"?");

    // `g` back to the top, `o` opens exactly that tweet's URL.
    app.send(b"g");
    std::thread::sleep(Duration::from_millis(200));
    app.send(b"o");
    let want = tweets[0]["url"].as_str().expect("url").to_string();
    let start = std::time::Instant::now();
    while opened(&dir).is_empty() && start.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(opened(&dir), vec![want]);

    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0), "quits cleanly");
    assert!(app.terminal_restored(), "terminal restored after q");
    let raw = app.raw();
    assert!(
        raw.windows(8).any(|w| w == b"\x1b[?1049l"),
        "left the alternate screen"
    );
}

// RELIABILITY G6 (graphics query unanswered; the first key, ctrl-c, is not eaten)
#[test]
fn no_arguments_and_no_key_opens_the_demo_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = spawn(&[], &dir);
    let screen = app.wait_text("@xmedia_demo", LIMIT);
    assert!(screen.contains("demo"), "{screen}");
    app.wait_text("no API key", LIMIT);
    app.send(b"\x03"); // ctrl-c
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    assert!(app.terminal_restored());
}

// RELIABILITY G1 (real binary, 20×5 pty)
#[test]
fn tiny_terminal_shows_a_notice_instead_of_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("none.toml").display().to_string();
    let log = dir.path().join("log").display().to_string();
    let mut app = PtyApp::spawn(
        &["--demo"],
        &[
            ("XMEDIA_CONFIG", config.as_str()),
            ("XMEDIA_LOG_FILE", log.as_str()),
        ],
        20,
        5,
    );
    app.wait_for("a too-small notice", LIMIT, |s| {
        s.to_lowercase().contains("small")
    });
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    assert!(app.terminal_restored());
}

/// `O` on a video with `player` configured (here via `XMEDIA_PLAYER`) runs the player with the
/// best MP4's URL; photos still go to the browser.
#[test]
fn open_media_runs_the_configured_player_for_videos() {
    let (_, tweets) = demo_dump();
    let video_row = tweets
        .iter()
        .position(|t| t["media"][0]["kind"] == "video")
        .expect("the demo has a video");
    let want = tweets[video_row]["media"][0]["video_url"]
        .as_str()
        .expect("video url")
        .to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let player = dir.path().join("player.sh");
    let played = dir.path().join("played.txt");
    support::pty::write_script(
        &player,
        &format!("printf '%s %s\\n' \"$1\" \"$2\" >> {}\n", played.display()),
    );
    let player_cmd = format!("{} --loop", player.display());
    let config = dir.path().join("none.toml").display().to_string();
    let log = dir.path().join("log").display().to_string();
    let mut app = PtyApp::spawn(
        &["--demo", "--graphics", "halfblocks"],
        &[
            ("XMEDIA_PLAYER", player_cmd.as_str()),
            ("XMEDIA_OPENER", "/nonexistent/never-called"),
            ("XMEDIA_CONFIG", config.as_str()),
            ("XMEDIA_LOG_FILE", log.as_str()),
        ],
        140,
        40,
    );
    // The profile can arrive before the tweets: wait for the list itself.
    app.wait_text("Tweet 1 of", LIMIT);
    for _ in 0..video_row {
        app.send(b"j");
    }
    app.wait_text(&format!("Tweet {} of", video_row + 1), LIMIT);
    app.send(b"O");
    let read = || std::fs::read_to_string(&played).unwrap_or_default();
    let start = std::time::Instant::now();
    while read().is_empty() && start.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The configured arguments first, then the URL (each run's demo server has its own port).
    let path = |u: &str| u.splitn(4, '/').nth(3).map(str::to_string);
    let got = read();
    let (args, url) = got.trim().split_once(' ').expect("two arguments");
    assert_eq!(args, "--loop");
    assert_eq!(path(url), path(&want), "{url} vs {want}");
    app.wait_text("playing in", LIMIT);
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
}

/// `--graphics kitty-direct` (what an older kitty gets): the real binary transmits pictures with
/// placements at the cursor, deletes them when the help overlay covers the pane, and takes
/// the rest off the screen when it exits. The emulator here ignores kitty's APC commands, so
/// the bytes written are what is checked.
#[test]
fn kitty_direct_places_pictures_and_deletes_them_when_covered_and_at_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = spawn(&["--demo", "--graphics", "kitty-direct"], &dir);
    app.wait_text("Tweet 1 of", LIMIT);
    let placed = |raw: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(raw);
        text.split("\x1b_Ga=T,f=24,q=2,C=1,i=")
            .skip(1)
            .filter_map(|r| r.split(',').next().map(str::to_string))
            .collect()
    };
    let start = std::time::Instant::now();
    while placed(&app.raw()).len() < 3 {
        assert!(
            start.elapsed() < LIMIT,
            "preview, avatar and badge placed; got {:?}",
            placed(&app.raw())
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let ids = placed(&app.raw());
    let deletes = |raw: &[u8]| {
        String::from_utf8_lossy(raw)
            .matches("\x1b_Ga=d,d=I,i=")
            .count()
    };
    assert_eq!(deletes(&app.raw()), 0, "nothing deleted yet");
    app.send(b"?");
    app.wait_text("Keys", LIMIT);
    let start = std::time::Instant::now();
    while deletes(&app.raw()) < ids.len() {
        assert!(start.elapsed() < LIMIT, "every picture deleted under help");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let raw = String::from_utf8_lossy(&app.raw()).to_string();
    for id in &ids {
        assert!(
            raw.contains(&format!("\x1b_Ga=d,d=I,i={id},q=2\x1b\\")),
            "picture {id} deleted"
        );
    }
    app.send(b"?");
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    assert!(app.terminal_restored());
    let raw = String::from_utf8_lossy(&app.raw()).to_string();
    let last_place = raw.rfind("\x1b_Ga=T").expect("placed");
    let last_delete = raw.rfind("\x1b_Ga=d").expect("deleted");
    assert!(last_delete > last_place, "the exit takes the pictures off");
    assert!(
        last_delete < raw.rfind("\x1b[?1049l").expect("alt screen left"),
        "before leaving the alternate screen"
    );
}

/// Kitty keeps every image it was sent until its storage quota (hundreds of megabytes) pushes
/// old ones out. The app frees those it let go of (here a cache too small to keep pictures, so
/// moving on drops them), and at the exit all it sent.
#[test]
fn kitty_pictures_the_app_lets_go_of_are_freed_in_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("none.toml"), "cache_mb = 1\n").expect("config");
    let mut app = spawn(&["--demo", "--graphics", "kitty"], &dir);
    app.wait_text("Tweet 1 of", LIMIT);
    let ids_after = |raw: &[u8], prefix: &str| -> Vec<String> {
        String::from_utf8_lossy(raw)
            .split(prefix)
            .skip(1)
            .filter_map(|r| r.split(',').next().map(str::to_string))
            .collect()
    };
    let sent = |raw: &[u8]| ids_after(raw, "\x1b_Gq=2,i=");
    let freed = |raw: &[u8]| ids_after(raw, "\x1b_Ga=d,d=I,i=");
    let start = std::time::Instant::now();
    while sent(&app.raw()).is_empty() {
        assert!(start.elapsed() < LIMIT, "a kitty picture was sent");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Step from tweet to tweet, each time letting its picture arrive and be drawn (a picture
    // never drawn was never sent, and is rightly not freed), until one left behind is freed.
    let start = std::time::Instant::now();
    let mut presses = 0;
    while freed(&app.raw()).is_empty() {
        assert!(start.elapsed() < 3 * LIMIT, "a picture let go of was freed");
        let before = sent(&app.raw()).len();
        let step = std::time::Instant::now();
        while sent(&app.raw()).len() == before && step.elapsed() < std::time::Duration::from_secs(3)
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if presses < 40 {
            app.send(b"j");
            presses += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let raw = app.raw();
    let (sent_before, freed_before) = (sent(&raw), freed(&raw));
    for id in &freed_before {
        assert!(sent_before.contains(id), "{id} freed but never sent");
    }
    app.send(b"q");
    assert_eq!(app.wait_exit(LIMIT), Some(0));
    let raw = app.raw();
    let freed_all = freed(&raw);
    for id in sent(&raw) {
        assert!(
            freed_all.contains(&id),
            "{id} sent and not freed at the exit"
        );
    }
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.rfind("\x1b_Ga=d").expect("freed")
            < text.rfind("\x1b[?1049l").expect("alt screen left"),
        "freed before leaving the alternate screen"
    );
}
