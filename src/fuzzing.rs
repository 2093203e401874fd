//! The fuzz targets' bodies and the properties they check, shared by `fuzz/` (libFuzzer, nightly)
//! and `tests/fuzz_corpora.rs` (every kept input, on stable, in `cargo test`) so the two cannot
//! drift. Each check calls the code the app runs — the providers' `parse_page` followed by
//! [`provider::sanitize_page`], the sanitizer, [`effect::validate_open_url`], and
//! [`decode_to_fit`] with the app's [`DecodeLimits`] — and panics when a property does not hold.
//! Not part of the app: hidden from the docs.
//!
//! # Input format of the page targets
//!
//! `[status byte] [header byte] [header value: n bytes] [body]`. A status byte below `0x80` means
//! HTTP 200 (so most mutations stay on the success path); others pick from [`STATUSES`]. A header
//! byte `n > 0` takes the next `n` bytes as a `retry-after` (odd `n`) or `x-rate-limit-reset`
//! (even `n`) value when they make a valid header value. The rest is the body. A recorded JSON
//! answer becomes a seed by prefixing it with two zero bytes.

use std::sync::OnceLock;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use url::{Host, Url};

use crate::domain::{Cursor, Page, Profile, ProviderKind, Tweet, UserRef};
use crate::effect::{self, MAX_URL_LEN};
use crate::error::ProviderError;
use crate::http::{HttpClient, HttpConfig, Response};
use crate::media::decode::{
    DecodeLimits, bounded_box, check_dimensions, decode_to_fit, fit_within, probe,
};
use crate::provider::{self, ProviderConfig, agntdata::Agntdata, keyapi::KeyApi, xapi::XApi};
use crate::sanitize;
use crate::secret::Secret;

/// The fuzz targets, by the name of their corpus directory under `fuzz/corpus/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    KeyapiPage,
    AgntdataPage,
    XapiPage,
    Sanitize,
    OpenUrl,
    ImageDecode,
}

impl Target {
    pub const ALL: [Target; 6] = [
        Self::KeyapiPage,
        Self::AgntdataPage,
        Self::XapiPage,
        Self::Sanitize,
        Self::OpenUrl,
        Self::ImageDecode,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::KeyapiPage => "keyapi_page",
            Self::AgntdataPage => "agntdata_page",
            Self::XapiPage => "xapi_page",
            Self::Sanitize => "sanitize",
            Self::OpenUrl => "open_url",
            Self::ImageDecode => "image_decode",
        }
    }

    /// Runs one input through the target; panics when a property fails.
    pub fn run(self, data: &[u8]) {
        match self {
            Self::KeyapiPage => keyapi_page(data),
            Self::AgntdataPage => agntdata_page(data),
            Self::XapiPage => xapi_page(data),
            Self::Sanitize => sanitize_input(data),
            Self::OpenUrl => open_url(data),
            Self::ImageDecode => image_decode(data),
        }
    }
}

/// The key the fuzzed providers are configured with. Whatever the body says, it must never come
/// back in a page or an error message.
pub const FUZZ_KEY: &str = "fuzzKEY-7f3a91c2e5";

/// The statuses a status byte `>= 0x80` picks from.
pub const STATUSES: [u16; 20] = [
    200, 201, 204, 206, 301, 304, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503, 504, 299,
    600,
];

/// The account the page targets ask for (the demo account, so recorded demo pages match it).
pub const USER_HANDLE: &str = "xmedia_demo";
pub const USER_ID: &str = "1700000000000000001";

/// Builds the HTTP answer a page target parses (see the module docs for the layout).
pub fn http_response(data: &[u8]) -> Response {
    let status = match data.first() {
        None => 200,
        Some(&b) if b < 0x80 => 200,
        Some(&b) => STATUSES[usize::from(b) % STATUSES.len()],
    };
    let rest = data.get(1..).unwrap_or_default();
    let (header_len, rest) = match rest.split_first() {
        Some((&n, rest)) => (usize::from(n).min(rest.len()), rest),
        None => (0, rest),
    };
    let (value, body) = rest.split_at(header_len);
    let mut headers = HeaderMap::new();
    if header_len > 0
        && let Ok(v) = HeaderValue::from_bytes(value)
    {
        let name = if header_len % 2 == 1 {
            "retry-after"
        } else {
            "x-rate-limit-reset"
        };
        headers.insert(name, v);
    }
    Response {
        status,
        headers,
        body: Bytes::copy_from_slice(body),
    }
}

/// The seed form of a recorded body: HTTP 200, no headers.
pub fn page_seed(body: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(body);
    v
}

fn config(kind: ProviderKind) -> ProviderConfig {
    ProviderConfig {
        kind,
        base_url: Url::parse(ProviderConfig::default_base_url(kind))
            .expect("the default base URLs parse"),
        key: Secret::new(FUZZ_KEY).expect("the fuzz key is not empty"),
        page_size: 100,
        include_retweets: false,
    }
}

fn http() -> HttpClient {
    // Never sends anything: the targets only parse. Shared so each input does not build a client.
    static CLIENT: OnceLock<HttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| HttpClient::new(&HttpConfig::default()))
        .clone()
}

fn user() -> UserRef {
    UserRef {
        handle: Some(USER_HANDLE.into()),
        id: Some(USER_ID.into()),
    }
}

/// What the app makes of one answer of `kind`'s page endpoint for the demo account: the
/// provider's `parse_page`, then [`provider::sanitize_page`] (or `ProviderError::cleaned` for an
/// error) as `AnyProvider::fetch_page` applies them. `sent` is the cursor the request carried.
pub fn parse_page(
    kind: ProviderKind,
    resp: &Response,
    sent: Option<&Cursor>,
) -> Result<Page, ProviderError> {
    static KEYAPI: OnceLock<KeyApi> = OnceLock::new();
    static AGNTDATA: OnceLock<Agntdata> = OnceLock::new();
    static XAPI: OnceLock<XApi> = OnceLock::new();
    let page = match kind {
        ProviderKind::Keyapi => KEYAPI
            .get_or_init(|| KeyApi::new(config(kind), http()))
            .parse_page(resp, USER_HANDLE),
        ProviderKind::Agntdata => AGNTDATA
            .get_or_init(|| Agntdata::new(config(kind), http()))
            .parse_page(resp, &user(), sent),
        ProviderKind::Xapi => XAPI
            .get_or_init(|| XApi::new(config(kind), http()))
            .parse_page(resp, USER_ID, &user(), sent),
    };
    page.map(provider::sanitize_page)
        .map_err(|e| e.cleaned(&config(kind).key))
}

/// KeyAPI's page target (KeyAPI requests carry no cursor the parser looks at).
pub fn keyapi_page(data: &[u8]) {
    check_provider(ProviderKind::Keyapi, data, None);
}

/// agntdata's page target. The sent cursor is the body's own token when the status byte is odd,
/// so the "same token again" end of timeline is reached too.
pub fn agntdata_page(data: &[u8]) {
    check_provider(ProviderKind::Agntdata, data, Some("continuation_token"));
}

/// X API v2's page target, with the same trick for `next_token`.
pub fn xapi_page(data: &[u8]) {
    check_provider(ProviderKind::Xapi, data, Some("next_token"));
}

fn check_provider(kind: ProviderKind, data: &[u8], cursor_field: Option<&str>) {
    let resp = http_response(data);
    let sent = cursor_field.and_then(|f| sent_cursor(data, &resp, f));
    let result = parse_page(kind, &resp, sent.as_ref());
    check_page_result(&resp, result, sent.as_ref());
}

/// When the status byte is odd, the cursor "sent" for this page is the one the body hands back
/// (found without parsing: the string after `"field":"`), as if the API repeated itself.
fn sent_cursor(data: &[u8], resp: &Response, field: &str) -> Option<Cursor> {
    if data.first().is_none_or(|b| b % 2 == 0) {
        return None;
    }
    let body = String::from_utf8_lossy(&resp.body);
    let needle = format!("\"{field}\":\"");
    let start = body.find(&needle)? + needle.len();
    let len = body[start..].find('"')?;
    Some(Cursor(body[start..start + len].to_string()))
}

/// The properties of what [`parse_page`] made of an answer.
fn check_page_result(resp: &Response, result: Result<Page, ProviderError>, sent: Option<&Cursor>) {
    match result {
        Ok(page) => {
            assert!(
                (200..300).contains(&resp.status),
                "HTTP {} became a page",
                resp.status
            );
            check_page(&page, sent);
        }
        Err(e) => check_message(&e.to_string()),
    }
}

/// Every string of a sanitized page is clean and stays the same when sanitized again; warnings
/// never carry the key; every tweet
/// kept has media of its own or its quoted tweet has; a next cursor is never empty nor the one
/// just sent (which would make the walk loop).
pub fn check_page(page: &Page, sent: Option<&Cursor>) {
    if let Some(p) = &page.profile {
        check_profile(p);
    }
    for t in &page.tweets {
        check_tweet(t);
        assert!(
            !t.media.is_empty() || t.quoted.as_ref().is_some_and(|q| !q.media.is_empty()),
            "tweet {:?} has no media and no quoted media",
            t.id
        );
    }
    for w in &page.warnings {
        // Warnings quote what the API said about our request, like error messages do.
        check_message(w);
        check_line(w);
    }
    if let Some(c) = &page.next_cursor {
        assert!(!c.0.trim().is_empty(), "empty next cursor {c:?}");
        assert!(Some(c) != sent, "next cursor {c:?} is the one just sent");
    }
}

fn check_profile(p: &Profile) {
    check_line(&p.handle);
    let lines = [
        &p.id,
        &p.name,
        &p.verified_type,
        &p.avatar_url,
        &p.banner_url,
        &p.location,
    ];
    lines.into_iter().flatten().for_each(|s| check_line(s));
    if let Some(a) = &p.affiliate {
        [&a.label, &a.badge_url, &a.url]
            .into_iter()
            .flatten()
            .for_each(|s| check_line(s));
    }
    if let Some(bio) = &p.bio {
        check_text(bio);
    }
}

fn check_tweet(t: &Tweet) {
    check_text(&t.text);
    check_line(&t.id);
    check_line(&t.url);
    let lines = [
        &t.lang,
        &t.reply_to,
        &t.author.id,
        &t.author.handle,
        &t.author.name,
    ];
    lines.into_iter().flatten().for_each(|s| check_line(s));
    for m in &t.media {
        [&m.url, &m.video_url]
            .into_iter()
            .flatten()
            .for_each(|s| check_line(s));
        if let Some(alt) = &m.alt_text {
            check_text(alt);
        }
        for v in &m.variants {
            check_line(&v.url);
            if let Some(ct) = &v.content_type {
                check_line(ct);
            }
        }
    }
    if let Some(q) = &t.quoted {
        check_tweet(q);
    }
}

/// Characters that must never reach the terminal from data: every control character (C0, DEL,
/// C1) and the bidi formatting characters (marks, embeddings, overrides, isolates).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn assert_clean(s: &str, newlines: bool) {
    if let Some(c) = s
        .chars()
        .find(|&c| is_unsafe(c) && !(newlines && c == '\n'))
    {
        panic!("unsafe character {c:?} in {s:?}");
    }
}

/// Multi-line text (tweet text, bio, alt text): clean, and already what the sanitizer makes of it.
pub fn check_text(s: &str) {
    assert_clean(s, true);
    assert_eq!(sanitize::text(s), s, "sanitizing again changed the text");
}

/// Single-line text: clean, no newline, and already what the sanitizer makes of it.
pub fn check_line(s: &str) {
    assert_clean(s, false);
    assert_eq!(sanitize::line(s), s, "sanitizing again changed the line");
}

/// An error message or warning shown in the status bar: one clean line without the key. (Tweet
/// data is not searched for the key: a body that puts it in a media URL is the API's data, not
/// a message about our request.)
pub fn check_message(s: &str) {
    assert_clean(s, false);
    assert!(!s.contains(FUZZ_KEY), "the key leaked into {s:?}");
}

/// The sanitizer: output is clean and idempotent, `line` has no newline, and nothing is invented
/// (the output is a subsequence of the input, a tab counting as the space it becomes).
pub fn sanitize_input(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let t = sanitize::text(&s);
    assert_clean_text(&t);
    assert_eq!(sanitize::text(&t), t, "sanitize::text is not idempotent");
    assert_subsequence(&t, &s);
    let l = sanitize::line(&s);
    assert_clean_text(&l);
    assert!(!l.contains('\n'), "sanitize::line kept a newline: {l:?}");
    assert_eq!(sanitize::line(&l), l, "sanitize::line is not idempotent");
    assert_subsequence(&l, &s);
}

fn assert_clean_text(s: &str) {
    if let Some(c) = s.chars().find(|&c| is_unsafe(c) && c != '\n') {
        panic!("unsafe character {c:?} in {s:?}");
    }
}

fn assert_subsequence(out: &str, input: &str) {
    let mut rest = input.chars().map(|c| if c == '\t' { ' ' } else { c });
    for c in out.chars() {
        // `line` joins lines with a space that may stand for the newline it replaced.
        assert!(
            rest.any(|i| i == c || (c == ' ' && i == '\n')),
            "{c:?} in {out:?} is not from the input {input:?}"
        );
    }
}

/// The URL validator: an accepted link is https (or http to a loopback host), has a host, no user
/// name or password, no unsafe or blank character, fits [`MAX_URL_LEN`], and is accepted again
/// unchanged. A refusal says why in one clean line.
pub fn open_url(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    match effect::validate_open_url(&raw) {
        Ok(u) => {
            assert!(u.len() <= MAX_URL_LEN, "accepted a {}-byte link", u.len());
            assert!(
                !u.chars().any(|c| is_unsafe(c) || c.is_whitespace()),
                "accepted {u:?} with an unsafe or blank character"
            );
            let url =
                Url::parse(&u).unwrap_or_else(|e| panic!("accepted {u:?} does not parse: {e}"));
            let loopback = match url.host() {
                Some(Host::Domain(d)) => d == "localhost",
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(_)) | None => false,
            };
            assert!(
                url.scheme() == "https" || (url.scheme() == "http" && loopback),
                "accepted {u:?}"
            );
            assert!(url.host().is_some(), "accepted {u:?} without a host");
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "accepted {u:?} with userinfo"
            );
            assert_eq!(
                effect::validate_open_url(&u).as_deref(),
                Ok(u.as_str()),
                "the accepted link does not validate to itself"
            );
        }
        Err(msg) => check_message(&msg),
    }
}

/// The pane box the image target decodes into (the app's pane at 50x25 cells of 8x12 pixels),
/// and an odd small one, picked by the input's length.
pub const IMAGE_BOXES: [(u32, u32); 2] = [(400, 300), (37, 5)];

/// The picture path: `probe`, then `decode_to_fit` with the app's limits (which resizes with
/// `resize_exact`). A decoded picture fits the box exactly as `fit_within` says, its declared size
/// passed the limits and is what `probe` read; errors are clean lines.
pub fn image_decode(data: &[u8]) {
    let target = IMAGE_BOXES[data.len() % IMAGE_BOXES.len()];
    let limits = DecodeLimits::default();
    let probed = probe(data);
    if let Err(e) = &probed {
        check_message(&e.to_string());
    }
    match decode_to_fit(data, target, &limits, &|| false) {
        Ok(f) => {
            let got = (f.image.width(), f.image.height());
            assert!(
                got.0 >= 1 && got.1 >= 1 && got.0 <= target.0 && got.1 <= target.1,
                "{got:?} does not fit {target:?}"
            );
            assert_eq!(
                got,
                fit_within(f.original, bounded_box(target, &limits)),
                "not the fitted size"
            );
            assert!(
                check_dimensions(f.original.0, f.original.1, &limits).is_ok(),
                "decoded a {:?} picture over the limits",
                f.original
            );
            assert_eq!(probed.ok(), Some(f.original), "probe disagrees with decode");
            // A picture already at the fitted size is handed on as decoded (16-bit stays 16-bit).
            let bytes = f.image.as_bytes().len() as u64;
            let per_pixel = u64::from(f.image.color().bytes_per_pixel());
            assert_eq!(
                bytes,
                u64::from(got.0) * u64::from(got.1) * per_pixel,
                "pixel buffer size for {got:?} {:?}",
                f.image.color()
            );
        }
        Err(e) => check_message(&e.to_string()),
    }
}
