//! The demo server's fault switches over real HTTP on 127.0.0.1 (each switch does what it says),
//! and the real app surviving them: the `xmedia` binary dumping through rate limits, hostile text
//! and broken pages, and the app's own HTTP client, provider parsers and picture downloader meeting
//! stalls, drips and hostile pictures.

mod support {
    pub mod pty;
}

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use xmedia::demo::faults::{HOSTILE_PAYLOADS, HostileImage, OVERSIZE_BYTES};
use xmedia::demo::{self, DEMO_HANDLE, DEMO_USER_ID, DemoOptions, DemoServer, Faults};
use xmedia::domain::{ProviderKind, UserRef};
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::media::MediaError;
use xmedia::media::decode::{DecodeLimits, decode_to_fit};
use xmedia::media::download::{DownloadConfig, Downloader};
use xmedia::provider::AnyProvider;
use xmedia::source::Source;

const KEY: &str = "Bearer demo-key";

async fn server(specs: &[&str]) -> DemoServer {
    let faults = Faults::parse(specs).expect("valid fault specs");
    demo::start(DemoOptions {
        faults,
        ..DemoOptions::default()
    })
    .await
    .expect("start demo server")
}

/// The first-page URL (and, for agntdata, the POST body) of `kind`.
fn first_page(s: &DemoServer, kind: ProviderKind) -> (String, Option<Value>) {
    let base = s.base_url();
    match kind {
        ProviderKind::Keyapi => (
            format!("{base}/v1/twitter/usermedia?screenname={DEMO_HANDLE}"),
            None,
        ),
        ProviderKind::Agntdata => (
            format!("{base}/user/medias"),
            Some(serde_json::json!({"user_id": DEMO_USER_ID})),
        ),
        ProviderKind::Xapi => (format!("{base}/2/users/{DEMO_USER_ID}/tweets"), None),
    }
}

async fn send(url: &str, body: Option<&Value>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let req = match body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    req.header("authorization", KEY).send().await.expect("send")
}

/// Status, headers and body text of one request.
async fn fetch(url: &str, body: Option<&Value>) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = send(url, body).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

/// The KeyAPI pages' URLs, in order, walked on a server without faults.
async fn keyapi_page_urls(s: &DemoServer) -> Vec<String> {
    let clean = server(&[]).await;
    let mut urls = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/twitter/usermedia?screenname={DEMO_HANDLE}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, _, text) = fetch(&format!("{}{url}", clean.base_url()), None).await;
        assert_eq!(status, 200, "{text}");
        urls.push(format!("{}{url}", s.base_url()));
        let v: Value = serde_json::from_str(&text).expect("page JSON");
        match v["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(urls.len() < 10, "cursor loop");
    }
    urls
}

fn source(s: &DemoServer, kind: ProviderKind, http: HttpConfig) -> Source {
    let http = HttpClient::new(&http);
    let pc = s.provider_config(kind).expect("provider config");
    let user = UserRef {
        handle: Some(DEMO_HANDLE.to_string()),
        id: Some(DEMO_USER_ID.to_string()),
    };
    Source::new(AnyProvider::new(pc, http.clone()), vec![], http, user)
}

// ---------------------------------------------------------------- statuses

// RELIABILITY C4
#[tokio::test]
async fn c4_status_429_429_200_comes_with_retry_after_in_each_apis_error_shape() {
    for kind in ProviderKind::ALL {
        let s = server(&["status=429,429,200", "retry-after=3"]).await;
        if kind == ProviderKind::Xapi {
            // The user lookup is not a page request: it does not use up the sequence.
            let (status, _, text) = fetch(
                &format!("{}/2/users/by/username/{DEMO_HANDLE}", s.base_url()),
                None,
            )
            .await;
            assert_eq!(status, 200, "{text}");
        }
        let (url, body) = first_page(&s, kind);
        for round in 0..2 {
            let (status, headers, text) = fetch(&url, body.as_ref()).await;
            assert_eq!(status, 429, "{kind} round {round}: {text}");
            assert_eq!(
                headers.get("retry-after").and_then(|v| v.to_str().ok()),
                Some("3"),
                "{kind}"
            );
            let v: Value = serde_json::from_str(&text).expect("error body is JSON");
            match kind {
                ProviderKind::Keyapi => {
                    assert_eq!(v["code"], 429);
                    assert!(v["data"].is_null());
                    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
                }
                ProviderKind::Agntdata => {
                    assert_eq!(v["error"]["code"], "RATE_LIMITED");
                    assert!(v["error"]["message"].is_string());
                }
                ProviderKind::Xapi => {
                    assert_eq!(v["status"], 429);
                    assert_eq!(v["title"], "Too Many Requests");
                    assert!(headers.contains_key("x-rate-limit-reset"));
                }
            }
        }
        for _ in 0..2 {
            let (status, _, text) = fetch(&url, body.as_ref()).await;
            assert_eq!(status, 200, "{kind}: {text}");
            assert!(serde_json::from_str::<Value>(&text).is_ok());
        }
        assert_eq!(s.page_requests(), 4);
    }
}

// RELIABILITY C4
#[tokio::test]
async fn c4_the_apps_parsers_read_the_faked_429_as_a_rate_limit_with_its_wait() {
    for kind in ProviderKind::ALL {
        let s = server(&["status=429,200", "retry-after=7"]).await;
        let src = source(&s, kind, HttpConfig::default());
        match src.fetch(None).await {
            Err(ProviderError::RateLimited { retry_after, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{kind}");
            }
            other => panic!("{kind}: expected a rate limit, got {other:?}"),
        }
        let page = src.fetch(None).await.expect("second try gets through");
        assert!(!page.tweets.is_empty(), "{kind}");
    }
}

// RELIABILITY C8, C13
#[tokio::test]
async fn c13_gateway_statuses_are_html_and_others_are_json_and_parse_as_upstream_errors() {
    let s = server(&["status=502,503,500,200"]).await;
    let (url, _) = first_page(&s, ProviderKind::Xapi);
    let (status, headers, text) = fetch(&url, None).await;
    assert_eq!(status, 502);
    assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let src = source(&s, ProviderKind::Xapi, HttpConfig::default());
    for expected in [503, 500] {
        match src.fetch(None).await {
            Err(e @ ProviderError::Upstream { .. }) => {
                assert!(e.is_retryable(), "{e}");
                assert!(e.to_string().contains(&expected.to_string()), "{e}");
            }
            other => panic!("expected HTTP {expected} upstream error, got {other:?}"),
        }
    }
    assert!(src.fetch(None).await.is_ok());
}

// RELIABILITY D8, D9
#[tokio::test]
async fn d9_page_status_fails_the_first_requests_for_that_page_only() {
    let s = server(&["page-status=2:500,503"]).await;
    let urls = keyapi_page_urls(&s).await;
    assert!(urls.len() >= 3);
    let (status, _, _) = fetch(&urls[0], None).await;
    assert_eq!(status, 200);
    let (status, _, _) = fetch(&urls[1], None).await;
    assert_eq!(status, 500);
    let (status, headers, _) = fetch(&urls[1], None).await;
    assert_eq!(status, 503);
    assert!(headers.contains_key("retry-after"));
    let (status, _, _) = fetch(&urls[1], None).await;
    assert_eq!(status, 200, "the third request for page 2 gets through");
    let (status, _, _) = fetch(&urls[2], None).await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------- broken bodies

// RELIABILITY C14
#[tokio::test]
async fn c14_truncated_page_json_fails_to_parse_with_an_early_end() {
    let s = server(&["truncate"]).await;
    let clean = server(&[]).await;
    for kind in ProviderKind::ALL {
        let (url, body) = first_page(&s, kind);
        let (status, _, text) = fetch(&url, body.as_ref()).await;
        assert_eq!(status, 200);
        let (clean_url, _) = first_page(&clean, kind);
        let (_, _, full) = fetch(&clean_url, body.as_ref()).await;
        let full = full.replace(&clean.base_url(), &s.base_url());
        assert_eq!(text.len(), full.len() / 2, "{kind}: cut in half");
        assert!(full.starts_with(&text));
        let e = serde_json::from_str::<Value>(&text).expect_err("truncated JSON must not parse");
        assert!(e.is_eof(), "{kind}: {e}");
    }
}

// RELIABILITY C14
#[tokio::test]
async fn c14_malformed_page_json_fails_to_parse_and_the_provider_says_bad_response() {
    let s = server(&["malformed=1"]).await;
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let (status, _, text) = fetch(&url, None).await;
    assert_eq!(status, 200);
    let e = serde_json::from_str::<Value>(&text).expect_err("malformed JSON must not parse");
    assert!(!e.is_eof(), "malformed, not merely cut: {e}");
    // Only the first request for page 1: the provider's retry gets the page.
    let s = server(&["malformed=1"]).await;
    let src = source(&s, ProviderKind::Keyapi, HttpConfig::default());
    let err = src.fetch(None).await.expect_err("malformed page");
    assert!(
        matches!(err, ProviderError::BadResponse { .. }),
        "expected a bad-response error, got {err:?}"
    );
    assert!(src.fetch(None).await.is_ok());
}

// ---------------------------------------------------------------- hostile text

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

// RELIABILITY A1, A2, A4, A6, A8, A9, A10, A11, A12, A13, A15
#[tokio::test]
async fn a1_hostile_text_puts_every_escape_payload_into_text_names_and_errors() {
    let s = server(&["hostile-text", "status=429,200"]).await;
    let (url, _) = first_page(&s, ProviderKind::Xapi);
    // The error message carries a payload too (A15).
    let (status, _, text) = fetch(&url, None).await;
    assert_eq!(status, 429);
    assert!(
        text.contains("\\u001b") || text.contains('\u{9b}'),
        "{text}"
    );
    let (status, _, raw) = fetch(&url, None).await;
    assert_eq!(status, 200);
    // JSON escapes C0 controls, so ESC travels as \u001b; C1 and bidi go raw.
    assert!(raw.contains("\\u001b"), "no ESC in the body");
    let v: Value = serde_json::from_str(&raw).expect("still valid JSON");
    let mut all = Vec::new();
    strings(&v, &mut all);
    let joined = all.join("\n");
    for p in HOSTILE_PAYLOADS {
        assert!(joined.contains(p), "payload {p:?} missing from the page");
    }
    // Text fields only: ids, URLs and media types are untouched.
    for t in v["data"].as_array().expect("tweets") {
        assert!(t["text"].as_str().is_some_and(|s| s.contains(' ')));
        let id = t["id"].as_str().expect("id");
        assert!(id.chars().all(|c| c.is_ascii_digit()), "{id:?}");
    }
    for m in v["includes"]["media"].as_array().expect("media") {
        assert!(matches!(
            m["type"].as_str(),
            Some("photo" | "video" | "animated_gif")
        ));
    }
    // The X user lookup (the profile) is poisoned as well.
    let lookup = |base: String| async move {
        let (_, _, text) = fetch(&format!("{base}/2/users/by/username/{DEMO_HANDLE}"), None).await;
        let v: Value = serde_json::from_str(&text).expect("user JSON");
        v["data"]["name"].as_str().expect("name").to_string()
    };
    let clean = server(&[]).await;
    let (poisoned, name) = (lookup(s.base_url()).await, lookup(clean.base_url()).await);
    assert!(
        poisoned.starts_with(&format!("{name} ")) && poisoned.len() > name.len() + 1,
        "{poisoned:?}"
    );
}

// RELIABILITY A1, A15
#[tokio::test]
async fn a15_the_apps_parsed_tweets_and_errors_carry_no_escape_from_hostile_text() {
    for kind in ProviderKind::ALL {
        let s = server(&["hostile-text", "status=429,200"]).await;
        let src = source(&s, kind, HttpConfig::default());
        let err = src.fetch(None).await.expect_err("429 first").to_string();
        assert!(
            !err.chars().any(|c| c.is_control() || c == '\u{202E}'),
            "{kind}: {err:?}"
        );
        let page = src.fetch(None).await.expect("page");
        assert!(!page.tweets.is_empty());
        for t in &page.tweets {
            assert!(
                !t.text.contains('\x1b') && !t.text.contains('\u{9b}') && !t.text.contains('\r'),
                "{kind}: {:?}",
                t.text
            );
        }
    }
}

// ---------------------------------------------------------------- slow and silent servers

// RELIABILITY C3
#[tokio::test]
async fn c3_drip_delivers_the_whole_body_in_several_pieces() {
    let s = server(&["api-drip=100000"]).await;
    let clean = server(&[]).await;
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let (clean_url, _) = first_page(&clean, ProviderKind::Keyapi);
    let (_, _, full) = fetch(&clean_url, None).await;
    let full = full.replace(&clean.base_url(), &s.base_url());
    let resp = send(&url, None).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.content_length(), Some(full.len() as u64));
    let mut pieces = 0;
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        pieces += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(pieces >= 2, "{pieces} piece(s)");
    assert_eq!(String::from_utf8(body).expect("utf-8"), full);
}

// RELIABILITY C3
#[tokio::test]
async fn c3_a_drip_slower_than_the_apps_deadline_ends_in_a_timeout_error() {
    let s = server(&["api-drip=50"]).await;
    let http = HttpConfig {
        total_timeout: Duration::from_millis(800),
        ..HttpConfig::default()
    };
    let err = source(&s, ProviderKind::Xapi, http)
        .fetch(None)
        .await
        .expect_err("the body cannot arrive in time");
    assert!(
        matches!(err, ProviderError::Timeout { .. }),
        "expected a timeout, got {err:?}"
    );
    assert!(err.is_retryable());
}

// RELIABILITY C1
#[tokio::test]
async fn c1_stall_never_answers_and_the_clients_timeout_fires() {
    let s = server(&["stall"]).await;
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let err = client
        .get(&url)
        .header("authorization", KEY)
        .send()
        .await
        .expect_err("no headers ever");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(s.page_requests(), 1, "the request did reach the server");
}

// RELIABILITY C1, D9
#[tokio::test]
async fn c1_stall_on_one_page_times_out_once_then_the_retry_gets_it() {
    let s = server(&["stall=1"]).await;
    let http = HttpConfig {
        total_timeout: Duration::from_millis(800),
        ..HttpConfig::default()
    };
    let src = source(&s, ProviderKind::Agntdata, http);
    let err = src.fetch(None).await.expect_err("stalled");
    assert!(matches!(err, ProviderError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    let page = src.fetch(None).await.expect("second request answered");
    assert!(!page.tweets.is_empty());
}

#[tokio::test]
async fn latency_and_image_latency_delay_the_right_answers() {
    // Not a timing assertion: the delay makes a short client deadline fire, or not.
    let s = server(&["image-latency=30000"]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(2000))
        .build()
        .expect("client");
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let page = client
        .get(&url)
        .header("authorization", KEY)
        .send()
        .await
        .expect("API pages are not delayed");
    assert_eq!(page.status().as_u16(), 200);
    let text = page.text().await.expect("body");
    let pic = picture_urls(&text).into_iter().next().expect("a picture");
    let err = client.get(&pic).send().await.expect_err("picture delayed");
    assert!(err.is_timeout(), "{err}");
    let s = server(&["latency=30000"]).await;
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let err = client
        .get(&url)
        .header("authorization", KEY)
        .send()
        .await
        .expect_err("API delayed");
    assert!(err.is_timeout(), "{err}");
}

// ---------------------------------------------------------------- data shape

// RELIABILITY D3, D7
#[tokio::test]
async fn d7_empty_pages_have_no_tweets_but_still_a_cursor() {
    let s = server(&["empty-pages"]).await;
    let (url, body) = first_page(&s, ProviderKind::Xapi);
    let (_, _, text) = fetch(&url, body.as_ref()).await;
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert!(v.get("data").is_none(), "{text}");
    assert_eq!(v["meta"]["result_count"], 0);
    assert!(v["meta"]["next_token"].is_string());
    for kind in ProviderKind::ALL {
        let page = source(&s, kind, HttpConfig::default())
            .fetch(None)
            .await
            .expect("an empty page is not an error");
        assert!(page.tweets.is_empty(), "{kind}");
        // agntdata's provider ends the timeline at an empty page (each request costs credits);
        // the others hand the cursor on and leave the stopping to the pager.
        assert_eq!(
            page.next_cursor.is_some(),
            kind != ProviderKind::Agntdata,
            "{kind}"
        );
    }
}

// RELIABILITY D1
#[tokio::test]
async fn d1_repeat_cursor_pages_hand_back_the_cursor_they_were_asked_with() {
    let s = server(&["repeat-cursor"]).await;
    let urls = keyapi_page_urls(&s).await;
    let (_, _, text) = fetch(&urls[1], None).await;
    let v: Value = serde_json::from_str(&text).expect("page 2");
    let asked = urls[1].split("cursor=").nth(1).expect("cursor in the URL");
    assert_eq!(v["data"]["next_cursor"], asked);
    for kind in ProviderKind::ALL {
        let src = source(&s, kind, HttpConfig::default());
        let first = src.fetch(None).await.expect("page 1");
        let c = first.next_cursor.expect("page 1 has a cursor");
        let second = src.fetch(Some(&c)).await.expect("page 2");
        assert!(!second.tweets.is_empty());
        // Either the provider sees the repeat and ends the timeline, or it hands the cursor on
        // and the pager's seen-cursor set stops (the dump test below checks that path).
        assert!(
            second.next_cursor.is_none() || second.next_cursor.as_ref() == Some(&c),
            "{kind}: {:?}",
            second.next_cursor
        );
    }
}

// ---------------------------------------------------------------- hostile pictures

fn picture_urls(page_json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(page_json).expect("page JSON");
    let mut all = Vec::new();
    strings(&v, &mut all);
    let mut urls: Vec<String> = all
        .into_iter()
        .filter(|s| s.starts_with("http://127.0.0.1") && s.contains(".jpg"))
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// A URL for every hostile kind, from the demo's own pictures (the manifest lists them all).
fn one_url_per_kind(s: &DemoServer) -> HashMap<&'static str, String> {
    let manifest = demo::ASSETS
        .get_file("manifest.json")
        .expect("manifest.json");
    let manifest: Value = serde_json::from_slice(manifest.contents()).expect("manifest JSON");
    let mut by_kind = HashMap::new();
    for img in manifest["images"].as_array().expect("images") {
        let path = img["path"].as_str().expect("path");
        by_kind
            .entry(HostileImage::for_path(path).name())
            .or_insert_with(|| format!("{}/{path}", s.base_url()));
    }
    by_kind
}

fn sof_dimensions(b: &[u8]) -> Option<(u16, u16)> {
    let i = demo::faults::sof_offset(b)?;
    let h = u16::from_be_bytes([*b.get(i + 5)?, *b.get(i + 6)?]);
    let w = u16::from_be_bytes([*b.get(i + 7)?, *b.get(i + 8)?]);
    Some((w, h))
}

// RELIABILITY B1, B4, B6, B7, B11
#[tokio::test]
async fn b7_hostile_images_are_what_they_claim() {
    let s = server(&["hostile-images"]).await;
    let clean = server(&[]).await;
    let urls = one_url_per_kind(&s);
    let missing: Vec<_> = HostileImage::ALL
        .iter()
        .map(|k| k.name())
        .filter(|n| !urls.contains_key(n))
        .collect();
    assert!(missing.is_empty(), "no demo picture gets {missing:?}");
    let client = reqwest::Client::new();
    for (name, url) in &urls {
        let resp = client.get(url).send().await.expect("send");
        let status = resp.status().as_u16();
        let claimed = resp
            .headers()
            .get("x-xmedia-fault")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert_eq!(claimed.as_deref(), Some(*name));
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let length = resp.content_length();
        if name.starts_with("oversize") {
            // Read only the start: the point is the size, checked with the app's downloader below.
            assert_eq!(status, 200);
            let expect = (*name == "oversize").then_some(OVERSIZE_BYTES as u64);
            assert_eq!(length, expect, "{name}");
            continue;
        }
        let body = resp.bytes().await.expect("body").to_vec();
        let real = client
            .get(url.replace(&s.base_url(), &clean.base_url()))
            .send()
            .await
            .expect("clean")
            .bytes()
            .await
            .expect("clean body")
            .to_vec();
        match *name {
            "html-page" => {
                assert_eq!((status, ctype.as_str()), (200, "image/jpeg"));
                assert!(body.starts_with(b"<!DOCTYPE html>"));
            }
            "half-jpeg" => {
                assert_eq!(body.len(), real.len() / 2);
                assert!(real.starts_with(&body) && body.starts_with(&[0xFF, 0xD8]));
            }
            "empty-jpeg" => assert_eq!(body, [0xFF, 0xD8, 0xFF, 0xD9]),
            "huge-dimensions" => {
                assert_eq!(sof_dimensions(&body), Some((65500, 65500)));
                assert!(body.len() < 1000);
            }
            "zero-size" => assert_eq!(sof_dimensions(&body), Some((0, 0))),
            "garbage" => {
                assert_eq!(ctype, "image/jpeg");
                assert!(image::guess_format(&body).is_err());
            }
            "extreme-aspect" => {
                let img = image::load_from_memory(&body).expect("a real PNG");
                assert_eq!((img.width(), img.height()), (1, 4000));
            }
            "not-found" => assert_eq!(status, 404),
            "normal" => assert_eq!(body, real),
            other => panic!("unchecked kind {other}"),
        }
    }
    // The app's own downloader: every hostile picture is refused with the right reason.
    let dl = Downloader::new(reqwest::Client::new(), &DownloadConfig::default());
    assert!(DownloadConfig::default().max_bytes < OVERSIZE_BYTES);
    for (name, url) in &urls {
        let r = dl.fetch(url).await;
        match *name {
            "html-page" | "garbage" => assert!(
                matches!(r, Err(MediaError::NotAnImage { .. })),
                "{name}: {r:?}"
            ),
            "oversize" | "oversize-chunked" => assert!(
                matches!(r, Err(MediaError::TooLarge { .. })),
                "{name}: {r:?}"
            ),
            "not-found" => assert!(
                matches!(r, Err(MediaError::Http { status: 404 })),
                "{name}: {r:?}"
            ),
            // These download fine; decoding (the app's own function) is what refuses them.
            _ => {
                let bytes = r.unwrap_or_else(|e| panic!("{name}: {e}"));
                let fitted = decode_to_fit(&bytes, (80, 40), &DecodeLimits::default(), &|| false);
                match (*name, fitted) {
                    ("huge-dimensions", Err(MediaError::TooManyPixels { width, height, .. })) => {
                        assert_eq!((width, height), (65500, 65500));
                    }
                    ("extreme-aspect", Err(e)) => {
                        assert!(e.to_string().contains("1x4000"), "{e}")
                    }
                    ("half-jpeg" | "empty-jpeg" | "zero-size", Err(MediaError::Decode(_))) => {}
                    ("zero-size", Err(MediaError::Empty { .. })) => {}
                    ("normal", Ok(f)) => assert!(f.original.0 > 0),
                    (name, other) => panic!("{name}: unexpected decode result {other:?}"),
                }
            }
        }
    }
}

// RELIABILITY C3
#[tokio::test]
async fn image_drip_sends_pictures_slowly_but_completely() {
    let s = server(&["image-drip=200000"]).await;
    let clean = server(&[]).await;
    let (url, _) = first_page(&s, ProviderKind::Keyapi);
    let (_, _, text) = fetch(&url, None).await;
    let pic = picture_urls(&text).into_iter().next().expect("a picture");
    let real = reqwest::get(pic.replace(&s.base_url(), &clean.base_url()))
        .await
        .expect("clean")
        .bytes()
        .await
        .expect("clean body");
    let resp = reqwest::get(&pic).await.expect("send");
    let mut pieces = 0;
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(c) = stream.next().await {
        pieces += 1;
        body.extend_from_slice(&c.expect("chunk"));
    }
    assert_eq!(body, real.to_vec());
    assert!(real.len() <= 20_000 || pieces >= 2, "{pieces} piece(s)");
}

// ---------------------------------------------------------------- the real binary

/// Runs `xmedia` with no keys and no config, killing it if it runs past a generous deadline.
fn xmedia(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmedia"));
    cmd.args(args)
        .env_remove("XMEDIA_KEYAPI_KEY")
        .env_remove("XMEDIA_AGNTDATA_KEY")
        .env_remove("XMEDIA_XAPI_TOKEN")
        .env_remove(demo::faults::ENV_VAR)
        .env("XMEDIA_CONFIG", dir.path().join("none.toml"))
        .env("XMEDIA_LOG_FILE", dir.path().join("xmedia.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run xmedia");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("xmedia {args:?} still running after 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

fn tweet_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("stdout lines are JSON"))
        .filter(|l| l["type"] == "tweet")
        .collect()
}

// RELIABILITY C4
#[test]
fn c4_dump_waits_out_a_429_and_prints_the_tweets() {
    let out = xmedia(
        &[
            "dump",
            "--demo",
            "--provider",
            "xapi",
            "--fault",
            "status=429,200",
            "--fault",
            "retry-after=1",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("demo faults on: status=429,200"), "{err}");
    assert!(err.contains("rate limited"), "{err}");
    assert!(err.contains("retrying in 1."), "{err}");
    assert!(err.contains("s (1/"), "{err}");
    assert_eq!(tweet_lines(&out).len(), 20, "{err}");
}

// RELIABILITY A1, A2, A8, A12, A15, A17
#[test]
fn a17_dump_output_under_hostile_text_has_no_escape_or_control_characters() {
    let out = xmedia(
        &["dump", "--demo", "--all"],
        &[(
            demo::faults::ENV_VAR,
            "hostile-text; status=503,200,retry-after=1",
        )],
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("upstream failure"), "{err}");
    let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8");
    for (what, text) in [("stdout", stdout.as_str()), ("stderr", err.as_str())] {
        assert!(!text.contains('\x1b'), "raw ESC on {what}");
        assert!(!text.contains("\\u001b"), "escaped ESC on {what}");
        assert!(
            !text.chars().any(|c| (c.is_control() && c != '\n')
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "control or bidi character on {what}"
        );
    }
    assert_eq!(tweet_lines(&out).len(), 72);
}

/// `xmedia dump --demo --all [--provider P] --fault F`: exit code, stderr, tweets printed.
fn dump_all_with_fault(provider: Option<&str>, fault: &str) -> (Option<i32>, String, usize) {
    let mut args = vec!["dump", "--demo", "--all"];
    if let Some(p) = provider {
        args.extend(["--provider", p]);
    }
    args.extend(["--fault", fault]);
    let out = xmedia(&args, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err, tweet_lines(&out).len())
}

// RELIABILITY D8
#[test]
fn d8_dump_keeps_the_pages_before_a_failing_page() {
    let (code, err, tweets) = dump_all_with_fault(Some("keyapi"), "page-status=3:401");
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("kept the 40 tweets"), "{err}");
    assert_eq!(tweets, 40);

    let (code, err, tweets) = dump_all_with_fault(None, "truncate=2");
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("truncated JSON"), "{err}");
    assert_eq!(tweets, 20);
}

// RELIABILITY D1, D3
#[test]
fn d3_dump_stops_on_empty_pages_and_on_a_repeated_cursor() {
    let (code, err, tweets) = dump_all_with_fault(None, "empty-pages");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("empty pages in a row"), "{err}");
    assert_eq!(tweets, 0);

    let (code, err, tweets) = dump_all_with_fault(Some("keyapi"), "repeat-cursor");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("repeated a cursor"), "{err}");
    assert!(err.contains("from 2 pages, 2 requests"), "{err}");
    assert_eq!(tweets, 40);
}

#[test]
fn a_bad_fault_spec_is_a_usage_error_listing_the_valid_ones() {
    let out = xmedia(&["dump", "--demo", "--fault", "429"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("valid faults") && err.contains("hostile-images"),
        "{err}"
    );

    let out = xmedia(
        &["dump", "--demo"],
        &[(demo::faults::ENV_VAR, "stall=soon")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(demo::faults::ENV_VAR), "{err}");
    assert!(err.contains("not a page number"), "{err}");

    let out = xmedia(&["dump", "--fault", "stall"], &[]);
    assert_eq!(out.status.code(), Some(2), "--fault needs --demo");

    let out = xmedia(&["demo-server", "--fault", "truncate=0"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------- the real browser

/// The newest demo tweet's first words, as `dump` prints it.
fn first_tweet_words() -> String {
    let out = xmedia(&["dump", "--demo"], &[]);
    let first = tweet_lines(&out).into_iter().next().expect("a tweet");
    first["text"]
        .as_str()
        .expect("text")
        .chars()
        .take(16)
        .collect()
}

fn browse(faults: &[&str], dir: &tempfile::TempDir) -> support::pty::PtyApp {
    let mut args = vec!["--demo", "--graphics", "halfblocks"];
    for f in faults {
        args.extend(["--fault", f]);
    }
    let config = dir.path().join("none.toml");
    let log = dir.path().join("xmedia.log");
    support::pty::PtyApp::spawn(
        &args,
        &[
            ("XMEDIA_CONFIG", config.to_str().expect("utf-8 path")),
            ("XMEDIA_LOG_FILE", log.to_str().expect("utf-8 path")),
        ],
        140,
        42,
    )
}

const PTY_LIMIT: Duration = Duration::from_secs(30);

// RELIABILITY C4, C7
#[test]
fn c4_the_browser_shows_the_rate_limit_countdown_then_the_tweets() {
    let words = first_tweet_words();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = browse(&["status=429,429,200", "retry-after=1"], &dir);
    let screen = app.wait_text("rate limited", PTY_LIMIT);
    assert!(screen.contains("retry"), "{screen}");
    app.wait_text(&words, PTY_LIMIT);
    app.send(b"q");
    assert_eq!(app.wait_exit(PTY_LIMIT), Some(0));
    assert!(app.terminal_restored());
}

// RELIABILITY A1, A2, A4, A6, A8, A9, A12
#[test]
fn a2_the_browser_under_hostile_text_sends_no_payload_to_the_terminal() {
    let words = first_tweet_words();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = browse(&["hostile-text"], &dir);
    app.wait_text(&words, PTY_LIMIT);
    // The OSC 8 payload's visible text, shown as plain text: the payloads were drawn.
    app.wait_text("click", PTY_LIMIT);
    // Page through everything so every payload has been on screen.
    for _ in 0..80 {
        app.send(b"j");
        std::thread::sleep(Duration::from_millis(10));
    }
    app.wait_text("│ end ", PTY_LIMIT);
    app.send(b"q");
    assert_eq!(app.wait_exit(PTY_LIMIT), Some(0));
    let raw = app.raw();
    let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    for (what, needle) in [
        ("OSC 52", b"]52;".as_slice()),
        ("title or OSC 8 payload", b"evil".as_slice()),
        ("DCS", b"\x1bP+q544e".as_slice()),
        ("kitty delete", b"\x1b_Ga=d".as_slice()),
        ("C1 CSI", "\u{9b}".as_bytes()),
        ("RLO", "\u{202E}".as_bytes()),
        ("BEL run", b"\x08\x08\x07".as_slice()),
    ] {
        assert!(!has(needle), "{what} reached the terminal");
    }
    assert!(app.terminal_restored());
}
