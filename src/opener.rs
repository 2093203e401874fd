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
        Some(cmd) => {
            let mut parts = cmd.split_whitespace();
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
                .map_err(|e| format!("could not run opener {program:?}: {e}"))
        }
        None => open::that_detached(url).map_err(|e| {
            format!("could not open a browser ({e}); set XMEDIA_OPENER or install xdg-open")
        }),
    }
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
}
