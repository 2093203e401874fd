//! Handing URLs to the outside world: the browser, or a configured command.
//!
//! A side effect run by the runtime, never by `App::update`; the URL has already been
//! validated when the effect was made.

use std::process::{Command, Stdio};

/// `XMEDIA_OPENER` (or the config's `opener`) replaces the system opener: the command is run with
/// the URL as its last argument. Tests use it to see exactly which URL was handed over.
pub const OPENER_ENV: &str = "XMEDIA_OPENER";

/// Opens `url` without waiting for the browser. Errors are readable and never panic, including a
/// missing `xdg-open`.
pub fn open_url(url: &str, opener: Option<&str>) -> Result<(), String> {
    let custom = opener
        .map(str::to_string)
        .or_else(|| std::env::var(OPENER_ENV).ok())
        .filter(|s| !s.trim().is_empty());
    match custom {
        Some(cmd) => spawn_with_url(&cmd, url).map_err(|e| format!("could not run opener {e}")),
        None => open::that_detached(url).map_err(|e| {
            format!("could not open a browser ({e}); set XMEDIA_OPENER or install xdg-open")
        }),
    }
}

/// Plays a video: runs the configured `player` command (`mpv`, `vlc --loop`) with the URL as its
/// last argument, detached, its output discarded so it cannot draw over the browser.
pub fn play(url: &str, command: &str) -> Result<(), String> {
    spawn_with_url(command, url)
        .map_err(|e| format!("could not run player {e}; check `player` in the config file"))
}

/// Runs `command` (split on whitespace, no shell) with `url` appended; never waits for it. The
/// error names the program.
fn spawn_with_url(command: &str, url: &str) -> Result<(), String> {
    let mut parts = command.split_whitespace();
    let program = parts.next().unwrap_or_default();
    Command::new(program)
        .args(parts)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|mut child| {
            // Reap it in the background so no zombie is left behind.
            std::thread::spawn(move || child.wait());
        })
        .map_err(|e| format!("{program:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RELIABILITY E9
    #[test]
    fn missing_opener_is_an_error_not_a_panic() {
        let e = open_url("https://x.com/a/status/1", Some("/nonexistent/opener-xyz"))
            .expect_err("missing program");
        assert!(e.contains("could not run opener"), "{e}");
    }

    #[test]
    fn missing_player_names_the_program_and_the_setting() {
        let e = play(
            "https://video.twimg.com/v.mp4",
            "/nonexistent/player-xyz --loop",
        )
        .expect_err("missing program");
        assert!(e.contains("player-xyz") && e.contains("`player`"), "{e}");
    }
}
