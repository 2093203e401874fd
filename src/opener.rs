//! Handing URLs to the outside world: the browser (or a configured command) and the clipboard.
//!
//! Both are side effects run by the runtime, never by `App::update`; the URL has already been
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

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard. Works over SSH and
/// inside tmux (with `set-clipboard on`), where no local clipboard tool could.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn missing_opener_is_an_error_not_a_panic() {
        let e = open_url("https://x.com/a/status/1", Some("/nonexistent/opener-xyz"))
            .expect_err("missing program");
        assert!(e.contains("could not run opener"), "{e}");
    }
}
