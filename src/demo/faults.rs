//! Faults the demo server injects on demand, so anyone can watch the app survive a slow, flaky or
//! hostile API without an account or a network: `xmedia --demo --fault status=429,429,200`.
//!
//! A fault list is a set of switches (see [`SWITCHES`] and `docs/FAULTS.md`), given as repeated
//! `--fault SPEC` options and/or the `XMEDIA_DEMO_FAULTS` variable. Switches are separated by `;`,
//! whitespace or `,`; a comma followed by a bare number continues the previous switch's list, so
//! `status=429,429,200,hostile-text` is two switches.
//!
//! "Page requests" are the timeline routes of the three APIs (KeyAPI `usermedia`, agntdata
//! `medias`, X `users/{id}/tweets`); the X user lookup is not one. Page numbers count from 1 in
//! the demo's own order, whichever cursor asked for them. A switch aimed at one page (`stall=3`,
//! `truncate=2`, `page-status=3:500`) hits the first request(s) for that page only, so a retry
//! gets through; the same switch without a page hits every page request, for good.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::ProviderKind;

/// The environment variable read by `xmedia demo-server` and `xmedia --demo`.
pub const ENV_VAR: &str = "XMEDIA_DEMO_FAULTS";

/// The retry-after default, in seconds.
pub const DEFAULT_RETRY_AFTER: u64 = 2;

/// Largest picture the app accepts (`DownloadConfig::default().max_bytes`, 20 MiB) plus 5 MiB:
/// what the `oversize` hostile pictures send.
pub const OVERSIZE_BYTES: usize = 25 * 1024 * 1024;

/// Every switch, as the error message for a bad spec lists them.
pub const SWITCHES: &[(&str, &str)] = &[
    ("latency=MS", "delay every answer (API and pictures)"),
    ("image-latency=MS", "delay picture answers only"),
    (
        "status=CODE,CODE,…",
        "answer successive page requests with these statuses (200 = normal), then normally",
    ),
    (
        "page-status=N:CODE,…",
        "answer the first requests for page N with these statuses",
    ),
    (
        "retry-after=SECS",
        "Retry-After sent with 429 and 503 (default 2)",
    ),
    ("drip=BYTES_PER_SEC", "send API and picture bodies slowly"),
    ("api-drip=BYTES_PER_SEC", "send API bodies slowly"),
    ("image-drip=BYTES_PER_SEC", "send picture bodies slowly"),
    (
        "stall[=N]",
        "accept page requests (or the first for page N) and never answer",
    ),
    ("truncate[=N]", "cut page JSON in half"),
    ("malformed[=N]", "break page JSON in the middle"),
    (
        "empty-pages[=N]",
        "pages come without tweets (cursors still advance)",
    ),
    (
        "repeat-cursor",
        "pages hand back the cursor they were asked with",
    ),
    (
        "hostile-text",
        "terminal escape payloads in tweet text, names, alt text, error messages",
    ),
    (
        "hostile-images",
        "pictures replaced by HTML, truncated, bomb, garbage, oversized or missing files",
    ),
];

/// Which page requests a switch hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Off,
    /// Every page request, for good.
    Every,
    /// The first request for this page (1-based) only.
    Page(u32),
}

impl Scope {
    fn hits(self, page: u32, attempt: usize) -> bool {
        match self {
            Scope::Off => false,
            Scope::Every => true,
            Scope::Page(p) => p == page && attempt == 0,
        }
    }

    fn describe(self, name: &str) -> Option<String> {
        match self {
            Scope::Off => None,
            Scope::Every => Some(format!("{name} (every page)")),
            Scope::Page(p) => Some(format!("{name}={p} (first request for page {p})")),
        }
    }
}

/// The faults a demo server injects. `Faults::default()` injects none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    pub latency: Duration,
    pub image_latency: Duration,
    /// Statuses for successive page requests; 200 answers normally.
    pub statuses: Vec<u16>,
    /// Page number → statuses for its successive requests.
    pub page_statuses: BTreeMap<u32, Vec<u16>>,
    /// Seconds, sent as `Retry-After` with 429 and 503.
    pub retry_after: u64,
    /// Bytes per second for API bodies.
    pub api_drip: Option<u32>,
    /// Bytes per second for picture bodies.
    pub image_drip: Option<u32>,
    pub stall: Scope,
    pub truncate: Scope,
    pub malformed: Scope,
    pub empty_pages: Scope,
    pub repeat_cursor: bool,
    pub hostile_text: bool,
    pub hostile_images: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            image_latency: Duration::ZERO,
            statuses: Vec::new(),
            page_statuses: BTreeMap::new(),
            retry_after: DEFAULT_RETRY_AFTER,
            api_drip: None,
            image_drip: None,
            stall: Scope::Off,
            truncate: Scope::Off,
            malformed: Scope::Off,
            empty_pages: Scope::Off,
            repeat_cursor: false,
            hostile_text: false,
            hostile_images: false,
        }
    }
}

/// A spec that does not parse; the message lists the valid switches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}\nvalid faults:\n{}", valid_list())]
pub struct FaultError {
    pub problem: String,
}

fn valid_list() -> String {
    SWITCHES
        .iter()
        .map(|(s, what)| format!("  {s:<26} {what}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn bad(problem: String) -> FaultError {
    FaultError { problem }
}

/// Splits a fault list into single switches (see the module docs for the separators).
fn split_specs(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in list.split(|c: char| c == ';' || c.is_whitespace()) {
        for piece in part.split(',') {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let continues = piece.chars().next().is_some_and(|c| c.is_ascii_digit());
            match out.last_mut() {
                Some(prev) if continues && prev.contains('=') => {
                    prev.push(',');
                    prev.push_str(piece);
                }
                _ => out.push(piece.to_string()),
            }
        }
    }
    out
}

fn number<T: std::str::FromStr>(name: &str, value: &str, what: &str) -> Result<T, FaultError> {
    value.trim().parse().map_err(|_| {
        bad(format!(
            "fault `{name}`: {value:?} is not {what} (e.g. {name}={})",
            example(name)
        ))
    })
}

fn example(name: &str) -> &'static str {
    match name {
        "latency" | "image-latency" => "1500",
        "retry-after" => "5",
        "drip" | "api-drip" | "image-drip" => "2000",
        "status" => "429,429,200",
        "page-status" => "3:500",
        _ => "2",
    }
}

fn statuses(name: &str, value: &str) -> Result<Vec<u16>, FaultError> {
    let codes = value
        .split(',')
        .map(|c| {
            let code: u16 = number(name, c, "an HTTP status")?;
            if code == 200 || (400..=599).contains(&code) {
                Ok(code)
            } else {
                Err(bad(format!(
                    "fault `{name}`: status {code} is not 200 or an error status (400-599)"
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if codes.is_empty() {
        return Err(bad(format!("fault `{name}` needs at least one status")));
    }
    Ok(codes)
}

fn page_number(name: &str, value: &str) -> Result<u32, FaultError> {
    let n: u32 = number(name, value, "a page number")?;
    if n == 0 {
        return Err(bad(format!("fault `{name}`: pages count from 1")));
    }
    Ok(n)
}

fn scope(name: &str, value: Option<&str>) -> Result<Scope, FaultError> {
    match value {
        None => Ok(Scope::Every),
        Some(v) => Ok(Scope::Page(page_number(name, v)?)),
    }
}

fn rate(name: &str, value: &str) -> Result<u32, FaultError> {
    let n: u32 = number(name, value, "a number of bytes per second")?;
    if n == 0 {
        return Err(bad(format!(
            "fault `{name}`: 0 bytes per second never ends"
        )));
    }
    Ok(n)
}

fn flag(name: &str, value: Option<&str>) -> Result<bool, FaultError> {
    match value {
        None => Ok(true),
        Some(v) => Err(bad(format!("fault `{name}` takes no value (got {v:?})"))),
    }
}

fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, FaultError> {
    value.ok_or_else(|| {
        bad(format!(
            "fault `{name}` needs a value, e.g. {name}={}",
            example(name)
        ))
    })
}

impl Faults {
    /// Parses one or more switches (`status=429,200;hostile-text`) on top of `self`.
    pub fn apply(&mut self, list: &str) -> Result<(), FaultError> {
        for spec in split_specs(list) {
            self.apply_one(&spec)?;
        }
        Ok(())
    }

    /// Parses fault lists (each as [`Faults::apply`] takes them) into a fresh set.
    pub fn parse<S: AsRef<str>>(lists: &[S]) -> Result<Faults, FaultError> {
        let mut f = Faults::default();
        for l in lists {
            f.apply(l.as_ref())?;
        }
        Ok(f)
    }

    fn apply_one(&mut self, spec: &str) -> Result<(), FaultError> {
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        let name = name.to_ascii_lowercase();
        let n = name.as_str();
        match n {
            "latency" => {
                self.latency = Duration::from_millis(number(n, required(n, value)?, "a number")?)
            }
            "image-latency" => {
                self.image_latency =
                    Duration::from_millis(number(n, required(n, value)?, "a number")?)
            }
            "status" => self.statuses = statuses(n, required(n, value)?)?,
            "page-status" => {
                let v = required(n, value)?;
                let (page, codes) = v.split_once(':').ok_or_else(|| {
                    bad(format!(
                        "fault `page-status` wants PAGE:CODES, e.g. page-status=3:500 (got {v:?})"
                    ))
                })?;
                let page = page_number(n, page)?;
                self.page_statuses.insert(page, statuses(n, codes)?);
            }
            "retry-after" => self.retry_after = number(n, required(n, value)?, "a number")?,
            "drip" => {
                let r = rate(n, required(n, value)?)?;
                self.api_drip = Some(r);
                self.image_drip = Some(r);
            }
            "api-drip" => self.api_drip = Some(rate(n, required(n, value)?)?),
            "image-drip" => self.image_drip = Some(rate(n, required(n, value)?)?),
            "stall" => self.stall = scope(n, value)?,
            "truncate" => self.truncate = scope(n, value)?,
            "malformed" => self.malformed = scope(n, value)?,
            "empty-pages" => self.empty_pages = scope(n, value)?,
            "repeat-cursor" => self.repeat_cursor = flag(n, value)?,
            "hostile-text" => self.hostile_text = flag(n, value)?,
            "hostile-images" => self.hostile_images = flag(n, value)?,
            "" => return Err(bad("empty fault name".into())),
            other => {
                return Err(bad(format!(
                    "unknown fault {:?}",
                    crate::http::snippet(other)
                )));
            }
        }
        Ok(())
    }

    /// Whether any fault is on.
    pub fn is_active(&self) -> bool {
        !self.describe().is_empty()
    }

    /// One line per active fault, for the startup banner.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.latency.is_zero() {
            out.push(format!("latency={} ms", self.latency.as_millis()));
        }
        if !self.image_latency.is_zero() {
            out.push(format!(
                "image-latency={} ms",
                self.image_latency.as_millis()
            ));
        }
        let codes = |c: &[u16]| c.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
        if !self.statuses.is_empty() {
            out.push(format!(
                "status={} (successive page requests, then normal)",
                codes(&self.statuses)
            ));
        }
        for (page, c) in &self.page_statuses {
            out.push(format!(
                "page-status={page}:{} (requests for page {page})",
                codes(c)
            ));
        }
        let any_status = self
            .statuses
            .iter()
            .chain(self.page_statuses.values().flatten())
            .any(|c| matches!(c, 429 | 503));
        if any_status || self.retry_after != DEFAULT_RETRY_AFTER {
            out.push(format!("retry-after={} s", self.retry_after));
        }
        match (self.api_drip, self.image_drip) {
            (Some(a), Some(i)) if a == i => out.push(format!("drip={a} bytes/s")),
            (a, i) => {
                if let Some(a) = a {
                    out.push(format!("api-drip={a} bytes/s"));
                }
                if let Some(i) = i {
                    out.push(format!("image-drip={i} bytes/s"));
                }
            }
        }
        for (scope, name) in [
            (self.stall, "stall"),
            (self.truncate, "truncate"),
            (self.malformed, "malformed"),
            (self.empty_pages, "empty-pages"),
        ] {
            out.extend(scope.describe(name));
        }
        for (on, name) in [
            (self.repeat_cursor, "repeat-cursor"),
            (self.hostile_text, "hostile-text"),
            (self.hostile_images, "hostile-images"),
        ] {
            if on {
                out.push(name.to_string());
            }
        }
        out
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.describe();
        if d.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&d.join("; "))
        }
    }
}

/// The faults for a run: `latency_ms` (the older `--latency-ms` option), then the
/// [`ENV_VAR`] value, then the `--fault` options, later switches overriding earlier ones. The
/// error names where the bad spec came from.
pub fn from_sources(
    latency_ms: Option<u64>,
    env_value: Option<&str>,
    cli: &[String],
) -> Result<Faults, String> {
    let mut f = Faults::default();
    if let Some(ms) = latency_ms {
        f.latency = Duration::from_millis(ms);
    }
    if let Some(v) = env_value {
        f.apply(v).map_err(|e| format!("{ENV_VAR}: {e}"))?;
    }
    for spec in cli {
        f.apply(spec).map_err(|e| format!("--fault: {e}"))?;
    }
    Ok(f)
}

/// For clap: checks one `--fault` value, keeping the text.
pub fn validate_spec(s: &str) -> Result<String, String> {
    Faults::parse(&[s])
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- payloads

/// The terminal-escape payloads of RELIABILITY.md §10, in rotation.
pub const HOSTILE_PAYLOADS: &[&str] = &[
    "a\x1b[2J\x1b[Hb",
    "\x1b]52;c;cHduZWQ=\x07",
    "\x1b]52;c;?\x1b\\",
    "\x1b]0;evil\x07\x1b]2;evil\x1b\\",
    "\x1b[21t\x1b[6n",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\u{9b}2J\u{9d}0;x\u{9c}",
    "\x1bP+q544e\x1b\\\x1b_Ga=d\x1b\\",
    "safe\rEVIL\x08\x08\x07",
    "abc\u{202E}gpj.exe\u{2066}x\u{2069}",
    "p\u{200B}a\u{2060}y\u{FEFF}pal",
    "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
    // Last: an unterminated OSC swallows whatever follows it in the same string.
    "tail \x1b]0;never-terminated",
];

/// String fields that get a payload appended: tweet text, names, bios, places, alt text, and the
/// error fields of the three APIs.
const HOSTILE_KEYS: &[&str] = &[
    "text",
    "full_text",
    "name",
    "description",
    "desc",
    "location",
    "alt_text",
    "ext_alt_text",
    "message",
    "detail",
    "title",
];

/// Appends payloads (in rotation from `*next`) to the hostile-text fields of `v`.
fn poison(v: &mut Value, next: &mut usize) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match child {
                    Value::String(s) if HOSTILE_KEYS.contains(&k.as_str()) => {
                        let p = HOSTILE_PAYLOADS[*next % HOSTILE_PAYLOADS.len()];
                        *next += 1;
                        s.push(' ');
                        s.push_str(p);
                    }
                    _ => poison(child, next),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| poison(i, next)),
        _ => {}
    }
}

// ---------------------------------------------------------------- runtime

/// The faults plus what they need to remember while the server runs.
#[derive(Debug)]
pub struct FaultState {
    faults: Faults,
    page_requests: AtomicUsize,
    per_page: Mutex<HashMap<(ProviderKind, u32), usize>>,
    payloads: AtomicUsize,
}

/// A page request, as the handler resolved it.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub kind: ProviderKind,
    /// 1-based.
    pub page: u32,
    /// The cursor the request carried (`None` for the first page).
    pub cursor: Option<&'a str>,
}

fn json_response(status: StatusCode, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn reason(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        FaultState {
            faults,
            page_requests: AtomicUsize::new(0),
            per_page: Mutex::new(HashMap::new()),
            payloads: AtomicUsize::new(0),
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Page requests seen so far (answered, failed or stalled).
    pub fn page_requests(&self) -> usize {
        self.page_requests.load(Ordering::Relaxed)
    }

    fn poison_json(&self, body: &[u8]) -> Option<Bytes> {
        let mut v: Value = serde_json::from_slice(body).ok()?;
        let mut next = self.payloads.load(Ordering::Relaxed);
        poison(&mut v, &mut next);
        self.payloads.store(next, Ordering::Relaxed);
        serde_json::to_vec(&v).ok().map(Bytes::from)
    }

    /// A JSON answer that is not a page (the X user lookup, the server's own errors): only
    /// `hostile-text` touches it.
    pub fn json(&self, status: StatusCode, body: Bytes) -> Response {
        let body = if self.faults.hostile_text {
            self.poison_json(&body).unwrap_or(body)
        } else {
            body
        };
        json_response(status, Body::from(body))
    }

    /// Answers a timeline page whose normal JSON is `body`, with whatever faults hit it.
    pub async fn page(&self, req: PageRequest<'_>, body: Bytes) -> Response {
        let f = &self.faults;
        let nth = self.page_requests.fetch_add(1, Ordering::Relaxed);
        let attempt = {
            let mut map = self.per_page.lock().unwrap_or_else(|p| p.into_inner());
            let n = map.entry((req.kind, req.page)).or_insert(0);
            *n += 1;
            *n - 1
        };
        let status = f
            .statuses
            .get(nth)
            .copied()
            .filter(|c| *c != 200)
            .or_else(|| {
                f.page_statuses
                    .get(&req.page)
                    .and_then(|seq| seq.get(attempt).copied())
                    .filter(|c| *c != 200)
            });
        if let Some(code) = status {
            return self.error(req.kind, code);
        }
        if f.stall.hits(req.page, attempt) {
            tracing::debug!("demo fault: stalling page {} for good", req.page);
            std::future::pending::<()>().await;
        }
        let mut body = body;
        if f.empty_pages.hits(req.page, attempt) || f.repeat_cursor {
            body = reshape(
                &body,
                req.kind,
                f.empty_pages.hits(req.page, attempt),
                f.repeat_cursor.then_some(req.cursor).flatten(),
            )
            .unwrap_or(body);
        }
        if f.hostile_text {
            body = self.poison_json(&body).unwrap_or(body);
        }
        if f.truncate.hits(req.page, attempt) {
            body = body.slice(..body.len() / 2);
        } else if f.malformed.hits(req.page, attempt) {
            body = break_json(&body);
        }
        match f.api_drip {
            Some(rate) => {
                let len = body.len();
                let mut r = json_response(StatusCode::OK, drip_body(body, rate));
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                r
            }
            None => json_response(StatusCode::OK, Body::from(body)),
        }
    }

    /// An error answer in the API's own shape, with `Retry-After` on 429 and 503.
    fn error(&self, kind: ProviderKind, code: u16) -> Response {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = if matches!(code, 502 | 504) {
            // Gateways answer with their own HTML page, whatever the API behind them speaks.
            let title = format!("{code} {}", reason(code));
            let mut r = (
                status,
                format!(
                    "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><center><h1>{title}</h1></center><hr><center>nginx</center></body></html>\n"
                ),
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        } else {
            let body = error_body(kind, code);
            self.json(status, Bytes::from(body.to_string()))
        };
        let h = resp.headers_mut();
        if matches!(code, 429 | 503) {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(self.faults.retry_after),
            );
        }
        if kind == ProviderKind::Xapi && code == 429 {
            let reset = chrono::Utc::now().timestamp() + self.faults.retry_after as i64;
            h.insert("x-rate-limit-limit", HeaderValue::from(1500u32));
            h.insert("x-rate-limit-remaining", HeaderValue::from(0u32));
            h.insert("x-rate-limit-reset", HeaderValue::from(reset));
        }
        resp
    }

    /// Extra wait before a picture answer.
    pub fn image_latency(&self) -> Duration {
        self.faults.image_latency
    }

    /// Answers a picture request whose normal answer is `bytes` of `content_type`.
    pub fn picture(&self, path: &str, content_type: &'static str, bytes: Bytes) -> Response {
        let kind = self
            .faults
            .hostile_images
            .then(|| HostileImage::for_path(path));
        let answer = match kind {
            Some(k) => k.replacement(content_type, bytes),
            None => Replacement::Full {
                status: StatusCode::OK,
                content_type,
                bytes,
            },
        };
        let mut resp = match answer {
            Replacement::Full {
                status,
                content_type,
                bytes,
            } => {
                let len = bytes.len();
                let body = match self.faults.image_drip {
                    Some(rate) => drip_body(bytes, rate),
                    None => Body::from(bytes),
                };
                let mut r = Response::new(body);
                *r.status_mut() = status;
                let h = r.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                if status == StatusCode::OK {
                    h.insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("max-age=604800"),
                    );
                }
                r
            }
            Replacement::Oversize { declared } => {
                let mut r = Response::new(oversize_body());
                let h = r.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
                if declared {
                    h.insert(header::CONTENT_LENGTH, HeaderValue::from(OVERSIZE_BYTES));
                }
                r
            }
        };
        if let Some(k) = kind {
            resp.headers_mut()
                .insert("x-xmedia-fault", HeaderValue::from_static(k.name()));
        }
        resp
    }
}

/// What a picture request is answered with.
enum Replacement {
    Full {
        status: StatusCode,
        content_type: &'static str,
        bytes: Bytes,
    },
    /// [`OVERSIZE_BYTES`], streamed; `declared`: with a `Content-Length`.
    Oversize { declared: bool },
}

fn error_body(kind: ProviderKind, code: u16) -> Value {
    let message = match code {
        429 => "Rate limit exceeded. Please retry later.",
        401 => "Invalid API key",
        402 => "Insufficient credits",
        403 => "Forbidden",
        404 => "Not found",
        500 => "Internal server error",
        503 => "Service temporarily unavailable",
        _ => reason(code),
    };
    match kind {
        ProviderKind::Keyapi => json!({"code": code, "message": message, "data": null}),
        ProviderKind::Agntdata => {
            let c = match code {
                401 => "UNAUTHORIZED",
                402 => "INSUFFICIENT_CREDITS",
                403 => "FORBIDDEN",
                404 => "NOT_FOUND",
                429 => "RATE_LIMITED",
                503 => "SERVICE_UNAVAILABLE",
                400..=499 => "BAD_REQUEST",
                _ => "INTERNAL_ERROR",
            };
            json!({"success": false, "error": {"code": c, "message": message}})
        }
        ProviderKind::Xapi => json!({
            "title": reason(code),
            "detail": message,
            "type": "about:blank",
            "status": code,
        }),
    }
}

/// Empties a page's tweets and/or makes it hand back `repeat` as its next cursor.
fn reshape(body: &[u8], kind: ProviderKind, empty: bool, repeat: Option<&str>) -> Option<Bytes> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    match kind {
        ProviderKind::Keyapi => {
            let data = v.get_mut("data")?;
            if empty {
                data["timeline"] = json!([]);
            }
            if let Some(c) = repeat
                && !data["next_cursor"].is_null()
            {
                data["next_cursor"] = json!(c);
            }
        }
        ProviderKind::Agntdata => {
            if empty {
                v["results"] = json!([]);
            }
            if let Some(c) = repeat
                && !v["continuation_token"].is_null()
            {
                v["continuation_token"] = json!(c);
            }
        }
        ProviderKind::Xapi => {
            let obj = v.as_object_mut()?;
            if empty {
                obj.remove("data");
                obj.remove("includes");
                if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
                    meta.remove("newest_id");
                    meta.remove("oldest_id");
                    meta.insert("result_count".into(), json!(0));
                }
            }
            if let Some(c) = repeat
                && let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut)
                && meta.contains_key("next_token")
            {
                meta.insert("next_token".into(), json!(c));
            }
        }
    }
    serde_json::to_vec(&v).ok().map(Bytes::from)
}

/// `body` with a fragment spliced into the middle that no JSON parser accepts, wherever it lands
/// (inside a string, between tokens, after a backslash: a quote then a raw NUL byte).
fn break_json(body: &[u8]) -> Bytes {
    let mid = body.len() / 2;
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(&body[..mid]);
    out.extend_from_slice(b"\"<<malformed>>\x00");
    out.extend_from_slice(&body[mid..]);
    Bytes::from(out)
}

/// Sends `bytes` in ten slices a second at `rate` bytes per second (at least one byte a slice).
fn drip_body(bytes: Bytes, rate: u32) -> Body {
    let chunk = (rate as usize / 10).max(1);
    let stream = futures::stream::unfold((bytes, true), move |(rest, first)| async move {
        if rest.is_empty() {
            return None;
        }
        if !first {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut rest = rest;
        let head = rest.split_to(chunk.min(rest.len()));
        Some((Ok::<_, std::io::Error>(head), (rest, false)))
    });
    Body::from_stream(stream)
}

// ---------------------------------------------------------------- hostile pictures

/// What a picture is replaced by under `hostile-images`; each picture path gets one, stably.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileImage {
    /// A CDN's HTML error page, status 200, served as `image/jpeg`.
    HtmlPage,
    /// The real picture, cut at half its length.
    HalfJpeg,
    /// `FF D8 FF D9`: a JPEG with nothing in it.
    EmptyJpeg,
    /// A JPEG header declaring 65500×65500 pixels (a decompression bomb), no data.
    HugeDimensions,
    /// A JPEG header declaring 0×0 pixels.
    ZeroSize,
    /// 4 KiB of noise served as `image/jpeg`.
    Garbage,
    /// A real 1×4000 PNG (extreme aspect ratio).
    ExtremeAspect,
    /// 25 MiB (over the app's 20 MiB cap) with a `Content-Length` saying so.
    Oversize,
    /// The same 25 MiB, chunked, with no `Content-Length`: only counting catches it.
    OversizeChunked,
    /// 404 with a short text body.
    NotFound,
    /// The real picture, so there is something to compare with.
    Normal,
}

impl HostileImage {
    pub const ALL: [HostileImage; 11] = [
        HostileImage::HtmlPage,
        HostileImage::HalfJpeg,
        HostileImage::EmptyJpeg,
        HostileImage::HugeDimensions,
        HostileImage::ZeroSize,
        HostileImage::Garbage,
        HostileImage::ExtremeAspect,
        HostileImage::Oversize,
        HostileImage::OversizeChunked,
        HostileImage::NotFound,
        HostileImage::Normal,
    ];

    /// The name sent in the `X-Xmedia-Fault` header.
    pub fn name(self) -> &'static str {
        match self {
            HostileImage::HtmlPage => "html-page",
            HostileImage::HalfJpeg => "half-jpeg",
            HostileImage::EmptyJpeg => "empty-jpeg",
            HostileImage::HugeDimensions => "huge-dimensions",
            HostileImage::ZeroSize => "zero-size",
            HostileImage::Garbage => "garbage",
            HostileImage::ExtremeAspect => "extreme-aspect",
            HostileImage::Oversize => "oversize",
            HostileImage::OversizeChunked => "oversize-chunked",
            HostileImage::NotFound => "not-found",
            HostileImage::Normal => "normal",
        }
    }

    /// The replacement for a picture path (query ignored, so every size of a picture agrees).
    pub fn for_path(path: &str) -> HostileImage {
        let path = path
            .split('?')
            .next()
            .unwrap_or(path)
            .trim_start_matches('/');
        let h = super::fnv1a64(path.as_bytes());
        Self::ALL[(h % Self::ALL.len() as u64) as usize]
    }

    fn replacement(self, content_type: &'static str, real: Bytes) -> Replacement {
        let ok = |content_type: &'static str, bytes: Bytes| Replacement::Full {
            status: StatusCode::OK,
            content_type,
            bytes,
        };
        let jpeg = |bytes: Bytes| ok("image/jpeg", bytes);
        match self {
            HostileImage::HtmlPage => jpeg(Bytes::from_static(
                b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n\
                  <body><h1>Service Unavailable</h1><p>The image could not be served. \
                  Reference #18.5ac2d417</p></body></html>\n",
            )),
            HostileImage::HalfJpeg => ok(content_type, real.slice(..real.len() / 2)),
            HostileImage::EmptyJpeg => jpeg(Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xD9])),
            HostileImage::HugeDimensions => jpeg(jpeg_header(65500, 65500)),
            HostileImage::ZeroSize => jpeg(jpeg_header(0, 0)),
            HostileImage::Garbage => jpeg(garbage()),
            HostileImage::ExtremeAspect => ok("image/png", extreme_png()),
            HostileImage::Oversize => Replacement::Oversize { declared: true },
            HostileImage::OversizeChunked => Replacement::Oversize { declared: false },
            HostileImage::NotFound => Replacement::Full {
                status: StatusCode::NOT_FOUND,
                content_type: "text/plain; charset=utf-8",
                bytes: Bytes::from_static(b"Not found\n"),
            },
            HostileImage::Normal => ok(content_type, real),
        }
    }
}

/// A complete little JPEG (quantisation and Huffman tables, scan, end marker: about 300 bytes)
/// whose frame header declares `width`×`height`: what a decompression bomb looks like to a
/// decoder, which reads the size before any pixel.
pub fn jpeg_header(width: u16, height: u16) -> Bytes {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let img = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([((x + y) * 16) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        match image::DynamicImage::ImageLuma8(img).write_to(&mut out, image::ImageFormat::Jpeg) {
            Ok(()) => out.into_inner(),
            Err(_) => Vec::new(),
        }
    });
    let mut b = base.clone();
    if let Some(sof) = sof_offset(&b)
        && b.len() > sof + 9
    {
        b[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        b[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    }
    Bytes::from(b)
}

/// Where the baseline frame header (`FF C0`) starts, walking the marker segments.
pub fn sof_offset(b: &[u8]) -> Option<usize> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xC0 {
            return Some(i);
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        i += 2 + len;
    }
    None
}

fn garbage() -> Bytes {
    // A fixed xorshift stream: the same noise every run, starting with no known magic number.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(4096);
    while out.len() < 4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out[0] = b'G';
    Bytes::from(out)
}

fn extreme_png() -> Bytes {
    static PNG: OnceLock<Bytes> = OnceLock::new();
    PNG.get_or_init(|| {
        let img = image::GrayImage::from_fn(1, 4000, |_, y| image::Luma([(y % 256) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        match image::DynamicImage::ImageLuma8(img).write_to(&mut out, image::ImageFormat::Png) {
            Ok(()) => Bytes::from(out.into_inner()),
            Err(_) => Bytes::new(),
        }
    })
    .clone()
}

/// A JPEG start followed by zeros, [`OVERSIZE_BYTES`] in all, streamed in 64 KiB pieces.
fn oversize_body() -> Body {
    const PIECE: usize = 64 * 1024;
    let zeros = Bytes::from(vec![0u8; PIECE]);
    let mut first = vec![0u8; PIECE];
    first[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    let first = Bytes::from(first);
    let pieces = OVERSIZE_BYTES / PIECE;
    let stream =
        futures::stream::iter((0..pieces).map(move |i| {
            Ok::<_, std::io::Error>(if i == 0 { first.clone() } else { zeros.clone() })
        }));
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_switch() {
        let f = Faults::parse(&[
            "latency=150;image-latency=900",
            "status=429,429,200 page-status=3:500,503",
            "retry-after=7,api-drip=4000",
            "image-drip=100",
            "stall=2",
            "truncate",
            "malformed=4",
            "empty-pages=2",
            "repeat-cursor,hostile-text,hostile-images",
        ])
        .expect("valid");
        assert_eq!(f.latency, Duration::from_millis(150));
        assert_eq!(f.image_latency, Duration::from_millis(900));
        assert_eq!(f.statuses, vec![429, 429, 200]);
        assert_eq!(f.page_statuses.get(&3), Some(&vec![500, 503]));
        assert_eq!(f.retry_after, 7);
        assert_eq!(f.api_drip, Some(4000));
        assert_eq!(f.image_drip, Some(100));
        assert_eq!(f.stall, Scope::Page(2));
        assert_eq!(f.truncate, Scope::Every);
        assert_eq!(f.malformed, Scope::Page(4));
        assert_eq!(f.empty_pages, Scope::Page(2));
        assert!(f.repeat_cursor && f.hostile_text && f.hostile_images);
        assert!(f.is_active());
    }

    #[test]
    fn drip_sets_both_and_describe_lists_everything_on() {
        let f = Faults::parse(&["drip=500", "status=429,200"]).expect("valid");
        assert_eq!((f.api_drip, f.image_drip), (Some(500), Some(500)));
        let d = f.describe();
        assert!(d.iter().any(|l| l.starts_with("drip=500")), "{d:?}");
        assert!(d.iter().any(|l| l.starts_with("status=429,200")), "{d:?}");
        assert!(d.iter().any(|l| l == "retry-after=2 s"), "{d:?}");
        assert_eq!(Faults::default().describe(), Vec::<String>::new());
        assert_eq!(Faults::default().to_string(), "none");
        assert!(!Faults::parse::<&str>(&[]).expect("empty").is_active());
    }

    #[test]
    fn bad_specs_say_what_is_wrong_and_list_the_valid_ones() {
        for (spec, expect) in [
            ("latnecy=5", "unknown fault \"latnecy\""),
            ("latency", "needs a value"),
            ("latency=fast", "is not a number"),
            ("status=299", "not 200 or an error status"),
            ("status=42x", "is not an HTTP status"),
            ("page-status=500", "PAGE:CODES"),
            ("page-status=0:500", "count from 1"),
            ("stall=first", "is not a page number"),
            ("drip=0", "never ends"),
            ("hostile-text=yes", "takes no value"),
        ] {
            let e = Faults::parse(&[spec]).expect_err(spec).to_string();
            assert!(e.contains(expect), "{spec}: {e}");
            assert!(
                e.contains("valid faults:") && e.contains("hostile-images"),
                "{e}"
            );
        }
        assert!(validate_spec("status=429").is_ok());
        assert!(validate_spec("nope").is_err());
    }

    #[test]
    fn numbers_after_a_comma_continue_the_previous_list() {
        assert_eq!(
            split_specs("status=429,429,200,hostile-text; page-status=2:500,503 stall"),
            vec![
                "status=429,429,200",
                "hostile-text",
                "page-status=2:500,503",
                "stall"
            ]
        );
    }

    #[test]
    fn scopes_hit_every_request_or_the_first_for_one_page() {
        assert!(Scope::Every.hits(3, 5));
        assert!(Scope::Page(3).hits(3, 0));
        assert!(!Scope::Page(3).hits(3, 1));
        assert!(!Scope::Page(3).hits(2, 0));
        assert!(!Scope::Off.hits(1, 0));
    }

    #[test]
    fn malformed_json_never_parses_wherever_the_fragment_lands() {
        let doc = br#"{"a":"x\"y","b":[1,2,{"c":null}],"d":"\\"}"#;
        for cut in 0..doc.len() {
            let mut out = doc[..cut].to_vec();
            out.extend_from_slice(b"\"<<malformed>>\x00");
            out.extend_from_slice(&doc[cut..]);
            assert!(serde_json::from_slice::<Value>(&out).is_err(), "cut {cut}");
        }
        assert!(serde_json::from_slice::<Value>(&break_json(doc)).is_err());
    }

    #[test]
    fn poison_reaches_text_fields_only() {
        let mut v = json!({"id": "1", "text": "hi", "user": {"name": "n", "url": "https://x"},
                           "media": [{"alt_text": "alt", "type": "photo"}]});
        let mut next = 0;
        poison(&mut v, &mut next);
        assert_eq!(next, 3);
        assert!(
            v["text"]
                .as_str()
                .is_some_and(|s| s.starts_with("hi ") && s.contains('\x1b'))
        );
        assert_eq!(v["id"], "1");
        assert_eq!(v["user"]["url"], "https://x");
        assert_eq!(v["media"][0]["type"], "photo");
        assert_ne!(v["media"][0]["alt_text"], "alt");
    }

    #[test]
    fn jpeg_header_declares_the_size() {
        let h = jpeg_header(65500, 300);
        assert!(h.len() > 100 && h.len() < 1000, "{}", h.len());
        assert!(h.ends_with(&[0xFF, 0xD9]));
        let dims = image::ImageReader::new(std::io::Cursor::new(h.to_vec()))
            .with_guessed_format()
            .expect("reader")
            .into_dimensions()
            .expect("dimensions");
        assert_eq!(dims, (65500, 300));
    }

    #[test]
    fn hostile_pictures_are_stable_per_path_and_all_kinds_occur() {
        let a = HostileImage::for_path("/media/abc.jpg?name=small");
        assert_eq!(a, HostileImage::for_path("media/abc.jpg?name=large"));
        let seen: std::collections::HashSet<_> = (0..500)
            .map(|i| HostileImage::for_path(&format!("media/{i}.jpg")))
            .map(HostileImage::name)
            .collect();
        assert_eq!(seen.len(), HostileImage::ALL.len());
    }
}
