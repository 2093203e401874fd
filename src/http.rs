//! The one HTTP client every provider uses: timeouts, a response size cap, a request counter, and
//! the status/header handling the three APIs share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use reqwest::header::HeaderMap;

use crate::domain::ProviderKind;
use crate::error::ProviderError;
use crate::sanitize;

/// Largest API response body accepted. The biggest real page in the corpus is ~400 KB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Rate-limit waits the API asks for are clamped to this, so a bogus header cannot park the app.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Longest wait for the next chunk of a response.
    pub read_timeout: Duration,
    /// Longest a whole request may take.
    pub total_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            total_timeout: Duration::from_secs(45),
        }
    }
}

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// A cheaply clonable client. Clones share the connection pool and the request counter.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// For pictures: the same timeouts, but redirects to another host are followed (a picture
    /// request carries no credentials).
    media: reqwest::Client,
    requests: Arc<AtomicU64>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A short, sanitized excerpt of the body for error messages.
    pub fn snippet(&self) -> String {
        snippet(&String::from_utf8_lossy(&self.body))
    }
}

impl HttpClient {
    /// Proxies come from the environment (see [`env_proxies`]).
    pub fn new(config: &HttpConfig) -> Self {
        Self::with_env(config, &|name| std::env::var(name).ok())
    }

    /// Like [`HttpClient::new`], reading proxy variables through `var` instead of the process
    /// environment (tests set them without touching the process's).
    pub fn with_env(config: &HttpConfig, var: &dyn Fn(&str) -> Option<String>) -> Self {
        let build = |same_origin_only: bool| {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("xmedia/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(config.connect_timeout)
                .read_timeout(config.read_timeout)
                .timeout(config.total_timeout)
                .redirect(redirect_policy(same_origin_only))
                .pool_idle_timeout(Duration::from_secs(90))
                .no_proxy();
            for p in env_proxies(var) {
                b = b.proxy(p);
            }
            b.build().unwrap_or_else(|_| reqwest::Client::new())
        };
        Self {
            inner: build(true),
            media: build(false),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The client for API requests. It follows redirects only within the same origin (scheme,
    /// host and port), so a key header can never be carried to another server.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The client for picture downloads: redirects to another host are followed, never from
    /// https to http.
    pub fn media_client(&self) -> &reqwest::Client {
        &self.media
    }

    /// How many requests were sent through this client (and its clones) so far.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends the request and reads the body under [`MAX_BODY_BYTES`]. Transport failures become
    /// `Network`/`Timeout`; HTTP statuses are left to the caller, which knows its API's bodies.
    pub async fn send(
        &self,
        provider: ProviderKind,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, ProviderError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = request
            .send()
            .await
            .map_err(|e| transport_error(provider, &e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(len) = resp.content_length()
            && len as usize > MAX_BODY_BYTES
        {
            return Err(too_big(provider));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport_error(provider, &e))?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_big(provider));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body: Bytes::from(body),
        })
    }
}

/// Follows at most [`MAX_REDIRECTS`] hops, never from https to http, and, when
/// `same_origin_only`, never to another scheme, host or port.
fn redirect_policy(same_origin_only: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let refused = attempt.previous().last().and_then(|prev| {
            redirect_refusal(
                prev,
                attempt.url(),
                attempt.previous().len(),
                same_origin_only,
            )
        });
        match refused {
            Some(why) => attempt.error(why),
            None => attempt.follow(),
        }
    })
}

/// Why a redirect from `prev` to `next` is not followed, if it is not. `hops` counts the requests
/// sent so far in this chain.
pub fn redirect_refusal(
    prev: &url::Url,
    next: &url::Url,
    hops: usize,
    same_origin_only: bool,
) -> Option<String> {
    if hops > MAX_REDIRECTS {
        Some(format!("more than {MAX_REDIRECTS} redirects"))
    } else if prev.scheme() == "https" && next.scheme() != "https" {
        Some("redirected from https to plain http; refused".into())
    } else if same_origin_only && prev.origin() != next.origin() {
        Some("redirected to another server; refused so the key is not sent there".into())
    } else {
        None
    }
}

/// The proxies named by `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (either case), honouring
/// `NO_PROXY`, and never used for loopback (the demo server, tests). `var` reads the environment.
pub fn env_proxies(var: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    let get = |upper: &str| {
        var(upper)
            .or_else(|| var(&upper.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let mut bypass = get("NO_PROXY").unwrap_or_default();
    bypass.push_str(",localhost,127.0.0.0/8,::1");
    let no_proxy = reqwest::NoProxy::from_string(&bypass);
    let all = get("ALL_PROXY");
    let mut out = Vec::new();
    if let Some(url) = get("HTTPS_PROXY").or_else(|| all.clone())
        && let Ok(p) = reqwest::Proxy::https(url.trim())
    {
        out.push(p.no_proxy(no_proxy.clone()));
    }
    if let Some(url) = get("HTTP_PROXY").or(all)
        && let Ok(p) = reqwest::Proxy::http(url.trim())
    {
        out.push(p.no_proxy(no_proxy));
    }
    out
}

fn too_big(provider: ProviderKind) -> ProviderError {
    ProviderError::BadResponse {
        provider,
        detail: format!("response larger than {} MiB", MAX_BODY_BYTES >> 20),
    }
}

/// Maps a reqwest error without its URL (which could carry a query the user considers private)
/// and without any header.
pub fn transport_error(provider: ProviderKind, e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        return ProviderError::Timeout { provider };
    }
    let cause = innermost_cause(e);
    if e.is_redirect() {
        // Refused by our policy: trying again would be refused again.
        return ProviderError::BadResponse {
            provider,
            detail: snippet(&cause),
        };
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the response"
    } else {
        "request failed"
    };
    let message = if cause.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {}", snippet(&cause))
    };
    ProviderError::Network { provider, message }
}

/// The last error in `e`'s source chain: it says why (DNS, refused, TLS, our redirect policy)
/// and, unlike `e` itself, never quotes the URL (whose query could hold something private).
fn innermost_cause(e: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    cause
}

/// Sanitized, single-line, at most 200 characters.
pub fn snippet(s: &str) -> String {
    let line = sanitize::line(s.trim());
    if line.chars().count() > 200 {
        let mut t: String = line.chars().take(199).collect();
        t.push('…');
        t
    } else {
        line
    }
}

/// How long a rate-limited client should wait, from `Retry-After` (seconds or HTTP date) or
/// `x-rate-limit-reset` (epoch seconds), clamped to `[1s, MAX_RETRY_AFTER]`.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // A `Retry-After` that is neither seconds nor a date ("soon") falls back to the reset time.
    let secs = header("retry-after")
        .and_then(|v| {
            v.parse::<i64>().ok().or_else(|| {
                DateTime::parse_from_rfc2822(v)
                    .ok()
                    .map(|t| (t.with_timezone(&Utc) - now).num_seconds())
            })
        })
        .or_else(|| reset_at(headers).map(|t| (t - now).num_seconds()))?;
    let clamped = secs.clamp(1, MAX_RETRY_AFTER.as_secs() as i64);
    Some(Duration::from_secs(clamped as u64))
}

/// The absolute time from `x-rate-limit-reset`, when present and plausible.
pub fn reset_at(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let v = headers.get("x-rate-limit-reset")?.to_str().ok()?;
    DateTime::from_timestamp(v.trim().parse::<i64>().ok()?, 0)
}

/// A `RateLimited` error built from a 429's headers.
pub fn rate_limited(provider: ProviderKind, headers: &HeaderMap) -> ProviderError {
    ProviderError::RateLimited {
        provider,
        retry_after: retry_after(headers, Utc::now()),
        reset_at: reset_at(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("valid header"));
        }
        h
    }

    #[test]
    fn retry_after_seconds_date_and_reset_are_clamped() {
        let now = DateTime::parse_from_rfc3339("2020-06-26T15:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let h = headers(&[("retry-after", "30")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let h = headers(&[("retry-after", "Fri, 26 Jun 2020 15:01:00 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        let h = headers(&[("x-rate-limit-reset", "1593183610")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        // In the past: wait the minimum, never zero (no hot loop).
        let h = headers(&[("retry-after", "-5")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(1)));
        // Absurd: clamped.
        let h = headers(&[("retry-after", "99999999")]);
        assert_eq!(retry_after(&h, now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        let h = headers(&[
            ("retry-after", "soon"),
            ("x-rate-limit-reset", "1593183720"),
        ]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
    }

    #[test]
    fn snippet_is_capped_and_clean() {
        let s = snippet(&format!("bad\x1b[2J{}", "x".repeat(500)));
        assert!(!s.contains('\x1b'));
        assert_eq!(s.chars().count(), 200);
    }
}
