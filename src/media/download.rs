//! Picture downloads: a few at a time over one keep-alive client, streamed under a byte cap, and
//! checked to be a picture before anyone tries to decode them. Cancelling is dropping the future
//! (the pipeline aborts the task): the connection is closed and the permit returned.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::Semaphore;

use super::MediaError;

#[derive(Debug, Clone)]
pub struct DownloadConfig {
    /// Downloads in flight at once: enough to keep ~12 prefetched pictures moving while a key is
    /// held (on HTTP/2 these are streams on one connection to the CDN).
    pub concurrency: usize,
    /// Largest picture accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            max_bytes: 20 * 1024 * 1024,
        }
    }
}

/// Cheap to clone; clones share the client's connection pool and the concurrency limit.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    max_bytes: usize,
}

/// The picture formats the decoder knows, by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Downloader {
    /// `client` should be the app's shared one (`HttpClient::media_client()`), for keep-alive.
    pub fn new(client: reqwest::Client, config: &DownloadConfig) -> Self {
        Self {
            client,
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            max_bytes: config.max_bytes,
        }
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Downloads `url`, waiting for a free slot first (slots are handed out in request order).
    pub async fn fetch(&self, url: &str) -> Result<Bytes, MediaError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| MediaError::Cancelled)?;
        let resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "image/*")
            .send()
            .await
            .map_err(|e| network(&e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(MediaError::Http { status });
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(MediaError::TooLarge {
                limit: self.max_bytes,
            });
        }
        let mut body: Vec<u8> = Vec::new();
        let mut checked = false;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| network(&e))?;
            if body.len() + chunk.len() > self.max_bytes {
                return Err(MediaError::TooLarge {
                    limit: self.max_bytes,
                });
            }
            body.extend_from_slice(&chunk);
            // Fail early on an error page rather than reading all of it.
            if !checked && body.len() >= 16 {
                check_picture(&body, content_type.as_deref())?;
                checked = true;
            }
        }
        check_picture(&body, content_type.as_deref())?;
        Ok(Bytes::from(body))
    }
}

fn network(e: &reqwest::Error) -> MediaError {
    if e.is_timeout() {
        return MediaError::Network("timed out".into());
    }
    let mut cause = String::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    if cause.is_empty() {
        MediaError::Network(what.into())
    } else {
        MediaError::Network(format!("{what}: {}", crate::http::snippet(&cause)))
    }
}

/// The format named by the first bytes, if it is one we decode.
pub fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Sniffed::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Sniffed::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Sniffed::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Sniffed::Webp)
    } else {
        None
    }
}

/// Accepts downloaded bytes that start like a picture; otherwise says what the server sent
/// instead, quoting the content type it claimed.
pub fn check_picture(bytes: &[u8], content_type: Option<&str>) -> Result<Sniffed, MediaError> {
    if let Some(kind) = sniff(bytes) {
        return Ok(kind);
    }
    let claimed = content_type
        .map(|c| format!(" (served as {})", crate::http::snippet(c)))
        .unwrap_or_default();
    let what = match looks_like(bytes) {
        _ if bytes.is_empty() => format!("the server sent an empty body{claimed}"),
        Some(looks) => format!(
            "the server sent {} instead of an image{claimed}",
            looks.noun()
        ),
        None => format!("unknown file format{claimed}"),
    };
    Err(MediaError::NotAnImage { what })
}

/// [`check_picture`] for bytes of unknown origin (a local file for `xmedia render`): says what
/// they look like without blaming a server.
pub fn check_bytes(bytes: &[u8]) -> Result<Sniffed, MediaError> {
    if let Some(kind) = sniff(bytes) {
        return Ok(kind);
    }
    let what = match looks_like(bytes) {
        _ if bytes.is_empty() => "it is empty".to_string(),
        Some(looks) => format!("it is {}", looks.noun()),
        None => "unknown file format".to_string(),
    };
    Err(MediaError::NotAnImage { what })
}

/// What bytes that are not a picture (nor empty) look like, if anything recognisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Looks {
    Html,
    Json,
    Markup,
    Text,
}

impl Looks {
    fn noun(self) -> &'static str {
        match self {
            Looks::Html => "an HTML page",
            Looks::Json => "JSON",
            Looks::Markup => "markup",
            Looks::Text => "text",
        }
    }
}

/// UTF-8 (a character cut at the end allowed) without control characters other than line
/// breaks and tabs.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn looks_like(bytes: &[u8]) -> Option<Looks> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let trimmed = head.trim_start();
    let mut after_bracket = trimmed.chars().skip(1).skip_while(|c| c.is_whitespace());
    let json_array = trimmed.starts_with('[')
        && after_bracket
            .next()
            .is_none_or(|c| matches!(c, '{' | '[' | ']' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n'));
    if trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html") {
        Some(Looks::Html)
    } else if trimmed.starts_with('{') || json_array {
        Some(Looks::Json)
    } else if trimmed.starts_with('<') {
        Some(Looks::Markup)
    } else if is_text(&bytes[..bytes.len().min(512)]) {
        Some(Looks::Text)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(r: Result<Sniffed, MediaError>) -> String {
        match r {
            Err(MediaError::NotAnImage { what }) => what,
            other => panic!("not refused: {other:?}"),
        }
    }

    /// A local file is described without blaming a server; a TOML file (which starts with `[`
    /// too) is text, not JSON.
    #[test]
    fn bytes_that_are_not_a_picture_are_named_for_what_they_are() {
        let cases: [(&[u8], &str); 8] = [
            (b"", "it is empty"),
            (b"[package]\nname = \"xmedia\"\n", "it is text"),
            (b"  [ {\"a\": 1} ]", "it is JSON"),
            (b"[]", "it is JSON"),
            (b"{\"errors\": []}", "it is JSON"),
            (b"<!DOCTYPE html><html>", "it is an HTML page"),
            (
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                "it is markup",
            ),
            (b"II*\0\x08\0\0\0", "unknown file format"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(what(check_bytes(bytes)), expected, "{bytes:?}");
        }
        // A character cut by the 512-byte look is still text.
        let mut long = "é".repeat(300).into_bytes();
        long.push(b'\n');
        assert_eq!(what(check_bytes(&long)), "it is text");
        assert!(check_bytes(b"\xFF\xD8\xFF\xE0").is_ok());
    }

    #[test]
    fn a_server_answer_that_is_not_a_picture_says_what_the_server_sent() {
        assert_eq!(
            what(check_picture(b"{\"error\":\"gone\"}", Some("image/jpeg"))),
            "the server sent JSON instead of an image (served as image/jpeg)"
        );
        assert_eq!(
            what(check_picture(b"", None)),
            "the server sent an empty body"
        );
        assert_eq!(
            what(check_picture(b"Not Found\n", Some("text/plain"))),
            "the server sent text instead of an image (served as text/plain)"
        );
        assert_eq!(
            what(check_picture(&[0x00, 0x01, 0x02, 0xFE], None)),
            "unknown file format"
        );
    }
}
