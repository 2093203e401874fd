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

/// Accepts bytes that start like a picture; otherwise says what they look like instead, quoting
/// the content type the server claimed.
pub fn check_picture(bytes: &[u8], content_type: Option<&str>) -> Result<Sniffed, MediaError> {
    if let Some(kind) = sniff(bytes) {
        return Ok(kind);
    }
    let claimed = content_type
        .map(|c| format!(" (served as {})", crate::http::snippet(c)))
        .unwrap_or_default();
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let trimmed = head.trim_start();
    let what = if bytes.is_empty() {
        format!("the server sent an empty body{claimed}")
    } else if trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html") {
        format!("the server sent an HTML page instead of an image{claimed}")
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
        format!("the server sent JSON instead of an image{claimed}")
    } else if trimmed.starts_with('<') {
        format!("the server sent markup instead of an image{claimed}")
    } else {
        format!("unknown file format{claimed}")
    };
    Err(MediaError::NotAnImage { what })
}
