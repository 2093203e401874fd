//! Side effects [`crate::app::App::update`] asks the runtime to perform. Values, not actions:
//! tests assert on them, the runtime executes them.

use std::time::Duration;

use url::{Host, Url};

use crate::domain::Cursor;
use crate::msg::RequestId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Fetch one page (`cursor: None` = the first page) and answer with `Msg::PageLoaded` or
    /// `Msg::PageFailed` carrying the same `req`.
    FetchPage {
        req: RequestId,
        cursor: Option<Cursor>,
    },
    /// Send `Msg::RetryDue { req }` after `after`.
    ScheduleRetry {
        req: RequestId,
        after: Duration,
    },
    /// Open in the browser. Always an http(s) URL that passed [`validate_open_url`].
    OpenUrl(String),
    /// Run the configured player `command` with `url` (validated like `OpenUrl`) as its last
    /// argument, without waiting for it.
    Play {
        url: String,
        command: String,
    },
    /// Fetch the pictures that failed again (the image layer's business; no API request).
    RetryPictures,
    /// Put on the clipboard (OSC 52: see [`osc52_sequence`]).
    CopyToClipboard(String),
    Quit,
}

/// The longest URL we hand to a browser.
pub const MAX_URL_LEN: usize = 2048;

/// Checks a URL before it reaches the OS opener: https anywhere, http only for localhost (the demo
/// server), no userinfo, no control or bidi characters, at most [`MAX_URL_LEN`] bytes. The error
/// says what was wrong, for a notice.
pub fn validate_open_url(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("link too long ({} bytes)", raw.len()));
    }
    if raw.chars().any(is_forbidden_char) {
        return Err("link contains control characters".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("not a valid link ({e})"))?;
    let local = matches!(url.host(), Some(Host::Domain("localhost")))
        || matches!(url.host(), Some(Host::Ipv4(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        other => return Err(format!("refusing to open a {other}: link")),
    }
    match url.host() {
        None => return Err("link has no host".into()),
        // After IDNA a real host name is letters, digits, `-` and `.`; `&`, `$(`, quotes and the
        // like only appear there to trick a shell or a launcher.
        Some(Host::Domain(d))
            if !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            return Err("link has a host name with characters no host has".into());
        }
        Some(_) => {}
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("refusing to open a link with a user name or password".into());
    }
    // Percent-encoding can triple the length; the limit is on what the browser gets.
    let out = url.to_string();
    if out.len() > MAX_URL_LEN {
        return Err(format!("link too long ({} bytes once encoded)", out.len()));
    }
    Ok(out)
}

fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The OSC 52 escape sequence that asks the terminal to put `text` on the system clipboard.
pub fn osc52_sequence(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_local_http() {
        assert!(validate_open_url("https://x.com/nasa/status/1").is_ok());
        assert!(validate_open_url("http://127.0.0.1:8080/media/a.jpg").is_ok());
        assert!(validate_open_url("http://localhost/a").is_ok());
    }

    // RELIABILITY E1 E2 E6 E7
    #[test]
    fn rejects_dangerous_links() {
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://example.com/",
            "https://user:pw@x.com/",
            "https://user@x.com/",
            "https://x.com/\u{7}",
            "https://x.com/a\nb",
            "https://x.com/\u{202E}moc",
            "https://x.com/a\u{2066}b",
            "https://x.com/a\u{061C}b",
            "data:text/html,hi",
        ] {
            assert!(validate_open_url(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("https://x.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(validate_open_url(&long).is_err());
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(osc52_sequence("hi"), "\x1b]52;c;aGk=\x07");
    }
}
