//! RELIABILITY.md group C (HTTP client faults) cases that no provider test covered: timeouts,
//! rate-limit waits through the real retry paths (`xmedia dump` and the TUI pager), redirects,
//! secrets in URLs, TLS and proxies. Every server is real and on 127.0.0.1: `ScriptedServer` for
//! HTTP-level answers, `RawServer` for faults below HTTP. Waits run on tokio's paused clock or
//! under short configured timeouts; no test asserts how long anything took on the wall clock.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};
use xmedia::app::{App, AppConfig, PagerState};
use xmedia::domain::{ProviderKind, UserRef};
use xmedia::dump::{DumpOptions, run};
use xmedia::effect::Effect;
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig, redirect_refusal};
use xmedia::msg::{Msg, RequestId};
use xmedia::provider::{AnyProvider, ProviderConfig};
use xmedia::retry::{Backoff, RATE_LIMIT_FALLBACK};
use xmedia::secret::Secret;
use xmedia::source::Source;
use xmedia::testing::{RawReply, RawServer, Reply, ScriptedServer};

const SENTINEL: &str = "SENTINEL-KEY-c0ffee";
const USERMEDIA: &str = "/v1/twitter/usermedia";
/// Generous: only there so a broken timeout fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(20);

fn keyapi_at(base: &str, kind: ProviderKind, http: &HttpClient) -> AnyProvider {
    AnyProvider::new(
        ProviderConfig {
            kind,
            base_url: base.parse().expect("base url"),
            key: Secret::new(SENTINEL).expect("key"),
            page_size: 20,
            include_retweets: false,
        },
        http.clone(),
    )
}

fn source(server: &ScriptedServer, config: &HttpConfig) -> Source {
    let http = HttpClient::new(config);
    let p = keyapi_at(&server.base_url(), ProviderKind::Keyapi, &http);
    Source::new(p, vec![], http, UserRef::handle("t"))
}

/// A minimal KeyAPI page with `n` photo tweets starting at id `first`.
fn keyapi_page(first: u64, n: u64, next: Option<&str>) -> String {
    let timeline: Vec<Value> = (0..n)
        .map(|i| {
            let id = first - i;
            json!({
                "tweet_id": id.to_string(),
                "created_at": "Sat May 09 18:35:02 +0000 2026",
                "text": format!("tweet {id}"),
                "favorites": 5,
                "media": {"photo": [{"media_url_https": format!("https://pbs.twimg.com/media/p{id}.jpg"), "id": format!("9{id}")}]},
                "author": {"rest_id": "42", "name": "T", "screen_name": "t"}
            })
        })
        .collect();
    json!({"code": 0, "message": "success", "data": {
        "timeline": timeline, "next_cursor": next, "status": "ok",
        "user": {"rest_id": "42", "name": "T", "sub_count": 10, "friends": 2, "media_count": 7}
    }})
    .to_string()
}

fn too_many() -> Reply {
    Reply::json(
        429,
        r#"{"code":429,"data":null,"message":"Too many requests"}"#,
    )
}

struct Dumped {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn dump(source: &Source, backoff: Backoff) -> Dumped {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let opts = DumpOptions {
        max_pages: None,
        backoff,
    };
    let status = run(source, &opts, &mut out, &mut err).await;
    let d = Dumped {
        status,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    };
    assert!(
        !format!("{}{}", d.stdout, d.stderr).contains(SENTINEL),
        "key leaked: {}",
        d.stderr
    );
    d
}

fn tweet_lines(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.contains(r#""type":"tweet""#))
        .count()
}

// ---------------------------------------------------------------------------------------------
// Timeouts

fn short(connect_ms: u64, read_ms: u64, total_ms: u64) -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_millis(connect_ms),
        read_timeout: Duration::from_millis(read_ms),
        total_timeout: Duration::from_millis(total_ms),
    }
}

async fn get(http: &HttpClient, url: &str) -> Result<xmedia::http::Response, ProviderError> {
    tokio::time::timeout(
        DEADLINE,
        http.send(
            ProviderKind::Keyapi,
            http.reqwest().get(url).header("authorization", "Bearer x"),
        ),
    )
    .await
    .expect("the client's own timeout fires long before the test deadline")
}

#[tokio::test]
async fn c1_server_that_never_answers_hits_the_total_timeout() {
    let server = RawServer::start(RawReply::Silent).await.expect("server");
    // read timeout longer than the total: only the total deadline can end this request.
    let http = HttpClient::new(&short(2_000, 60_000, 300));
    let e = get(&http, &server.url(USERMEDIA))
        .await
        .expect_err("timeout");
    assert_eq!(
        e,
        ProviderError::Timeout {
            provider: ProviderKind::Keyapi
        }
    );
    assert_eq!(e.to_string(), "keyapi: request timed out; try again");
    assert!(e.is_retryable());
    assert_eq!(server.heads().len(), 1, "the request did arrive");
}

/// A listener whose accept queue is full drops further SYNs: to the client that is exactly a
/// blackholed address, without leaving the machine.
#[tokio::test]
async fn c2_blackholed_connect_fails_at_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    // Fill the queue (never accepting) until a connect attempt hangs.
    let held = tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        for _ in 0..64 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => held.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Some(held),
                Err(e) => panic!("unexpected connect error {e}"),
            }
        }
        None
    })
    .await
    .expect("join")
    .expect("the accept queue filled up");

    // Read and total timeouts far beyond the test deadline: only the connect timeout can fire.
    let http = HttpClient::new(&short(300, 600_000, 600_000));
    let url = format!("http://{addr}{USERMEDIA}");
    let e = get(&http, &url).await.expect_err("blackholed");
    assert_eq!(
        e,
        ProviderError::Timeout {
            provider: ProviderKind::Keyapi
        }
    );
    // The same through reqwest directly: a connect error, and a timeout.
    let raw = tokio::time::timeout(DEADLINE, http.reqwest().get(&url).send())
        .await
        .expect("deadline")
        .expect_err("blackholed");
    assert!(raw.is_connect() && raw.is_timeout(), "{raw:?}");
    drop(held);
    drop(listener);
}

#[tokio::test]
async fn c3_dripping_body_is_cut_by_the_total_deadline() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n";
    let server = RawServer::start(RawReply::Drip {
        head: head.to_vec(),
        body: vec![b' '; 4000],
        every: Duration::from_millis(40),
    })
    .await
    .expect("server");
    // A byte every 40 ms never trips a 2 s read timeout; the 800 ms total does.
    let http = HttpClient::new(&short(2_000, 2_000, 800));
    let e = get(&http, &server.url(USERMEDIA)).await.expect_err("drip");
    assert_eq!(
        e,
        ProviderError::Timeout {
            provider: ProviderKind::Keyapi
        }
    );
    assert!(
        server.body_bytes_sent() > 0 && server.body_bytes_sent() < 4000,
        "cut while trickling: {} bytes",
        server.body_bytes_sent()
    );
}

// ---------------------------------------------------------------------------------------------
// Rate limits

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-10T12:00:00Z")
        .expect("date")
        .with_timezone(&Utc)
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn new_app() -> App {
    let mut app = App::new(
        ProviderKind::Keyapi,
        AppConfig {
            user_label: "@t".into(),
            ..AppConfig::default()
        },
    );
    app.update(Msg::Resized(140, 24));
    app.update(Msg::Tick(t0()));
    app
}

fn fetch_req(effects: &[Effect]) -> RequestId {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::FetchPage { req, .. } => Some(*req),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no fetch in {effects:?}"))
}

fn scheduled(effects: &[Effect]) -> Option<(RequestId, Duration)> {
    effects.iter().find_map(|e| match e {
        Effect::ScheduleRetry { req, after } => Some((*req, *after)),
        _ => None,
    })
}

/// The bottom row of the screen as drawn at `now`.
fn status_line(app: &App, now: DateTime<Utc>) -> String {
    let mut term = Terminal::new(TestBackend::new(140, 24)).expect("terminal");
    term.draw(|f| {
        xmedia::ui::draw(f, app, now);
    })
    .expect("draw");
    let buf = term.backend().buffer();
    (0..buf.area.width)
        .map(|x| buf[(x, buf.area.height - 1)].symbol().to_string())
        .collect()
}

/// Runs the app's fetch the way the runtime does and feeds the answer back.
async fn answer(app: &mut App, source: &Source, req: RequestId) -> Vec<Effect> {
    match source.fetch(None).await {
        Ok(page) => app.update(Msg::PageLoaded { req, page }),
        Err(error) => app.update(Msg::PageFailed { req, error }),
    }
}

// RELIABILITY C4 (TUI): one retry after the 7 s the API asked for, a live countdown in the
// status bar meanwhile, and the page when it comes.
#[tokio::test]
async fn c4_retry_after_7_is_one_retry_with_a_countdown_in_the_status_bar() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(USERMEDIA, too_many().header("retry-after", "7"));
    server.push(USERMEDIA, Reply::json(200, keyapi_page(50, 2, None)));
    let source = source(&server, &HttpConfig::default());
    let mut app = new_app();

    let req = fetch_req(&app.update(Msg::Started));
    let (retry, after) = scheduled(&answer(&mut app, &source, req).await).expect("retry");
    assert!(
        after >= Duration::from_secs(7) && after < Duration::from_millis(7_500),
        "{after:?}"
    );
    let line = status_line(&app, t0());
    assert!(
        line.contains("retrying in 7s · r now · rate limited"),
        "{line}"
    );
    app.update(Msg::Tick(t0() + chrono::Duration::seconds(3)));
    let line = status_line(&app, t0() + chrono::Duration::seconds(3));
    assert!(line.contains("retrying in 4s"), "{line}");
    assert_eq!(server.requests().len(), 1, "nothing sent during the wait");

    let effects = app.update(Msg::RetryDue { req: retry });
    assert_eq!(fetch_req(&effects), retry);
    assert!(scheduled(&answer(&mut app, &source, retry).await).is_none());
    assert_eq!(app.tweets().len(), 2);
    assert_eq!(server.requests().len(), 2, "exactly one retry");
}

// RELIABILITY C4 (dump): the wait is the API's 7 s on tokio's paused clock, then one retry.
#[tokio::test(start_paused = true)]
async fn c4_dump_waits_the_retry_after_on_the_paused_clock() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(USERMEDIA, too_many().header("retry-after", "7"));
    server.push(USERMEDIA, Reply::json(200, keyapi_page(50, 2, None)));
    let source = source(&server, &HttpConfig::default());
    let start = tokio::time::Instant::now();
    let d = dump(&source, Backoff::default()).await;
    let waited = start.elapsed();
    assert_eq!(d.status, 0, "{}", d.stderr);
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "virtual wait {waited:?}"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(tweet_lines(&d.stdout), 2);
    // 7 s from Retry-After plus up to 0.5 s of spread.
    assert!(d.stderr.contains("retrying in 7."), "{}", d.stderr);
    assert!(d.stderr.contains("s (1/4)"), "{}", d.stderr);
    // The wait is said once, not also as the error's own "retry in 7s".
    assert!(!d.stderr.contains("retry in 7s"), "{}", d.stderr);
    assert!(d.stderr.contains(": rate limited"), "{}", d.stderr);
}

/// The error a real 429 with these headers becomes.
async fn limited_by(headers: &[(&str, &str)]) -> ProviderError {
    let server = ScriptedServer::start().await.expect("server");
    let mut reply = too_many();
    for (k, v) in headers {
        reply = reply.header(k, v);
    }
    server.push(USERMEDIA, reply);
    let e = source(&server, &HttpConfig::default())
        .fetch(None)
        .await
        .expect_err("429");
    assert!(matches!(e, ProviderError::RateLimited { .. }), "{e:?}");
    e
}

fn after(e: &ProviderError) -> Option<Duration> {
    match e {
        ProviderError::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    }
}

/// What the TUI pager schedules for `e` (first failure).
fn pager_wait(e: ProviderError) -> Duration {
    let mut app = new_app();
    let req = fetch_req(&app.update(Msg::Started));
    scheduled(&app.update(Msg::PageFailed { req, error: e }))
        .expect("a rate limit is always retried")
        .1
}

#[tokio::test]
async fn c5_retry_after_as_http_date_and_as_garbage() {
    let at = Utc::now() + chrono::Duration::seconds(30);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let e = limited_by(&[("retry-after", &date)]).await;
    let secs = after(&e).expect("date parsed").as_secs();
    assert!((25..=31).contains(&secs), "{secs}s from {date}");

    // Garbage: no hint, so the fallback minute in both retry paths; never a quick retry.
    let e = limited_by(&[("retry-after", "soon")]).await;
    assert_eq!(after(&e), None);
    assert_eq!(
        Backoff::default().delay(0, &e, 0.0, Utc::now()),
        Some(RATE_LIMIT_FALLBACK)
    );
    let wait = pager_wait(e);
    assert!(wait >= Duration::from_secs(60), "{wait:?}");

    // Garbage Retry-After next to a usable reset header: the reset wins.
    let reset = (Utc::now().timestamp() + 90).to_string();
    let e = limited_by(&[("retry-after", "soon"), ("x-rate-limit-reset", &reset)]).await;
    let secs = after(&e).expect("reset used").as_secs();
    assert!((85..=91).contains(&secs), "{secs}");
}

#[tokio::test]
async fn c6_rate_limit_reset_is_clamped_and_never_a_hot_loop() {
    let now = Utc::now().timestamp();
    let reset = |d: i64| (now + d).to_string();
    // now + 120 s
    let secs = after(&limited_by(&[("x-rate-limit-reset", &reset(120))]).await)
        .expect("reset")
        .as_secs();
    assert!((115..=121).contains(&secs), "{secs}");
    // in the past: the short minimum, not zero
    let e = limited_by(&[("x-rate-limit-reset", &reset(-3600))]).await;
    assert_eq!(after(&e), Some(Duration::from_secs(1)));
    assert!(pager_wait(e) >= Duration::from_secs(1));
    // ten days away: clamped to 15 minutes
    let e = limited_by(&[("x-rate-limit-reset", &reset(10 * 86_400))]).await;
    assert_eq!(after(&e), Some(xmedia::http::MAX_RETRY_AFTER));
    let wait = pager_wait(e);
    assert!(
        wait >= Duration::from_secs(900) && wait < Duration::from_secs(901),
        "{wait:?}"
    );
    // missing, and non-numeric: the fallback minute
    for headers in [vec![], vec![("x-rate-limit-reset", "tomorrow")]] {
        let e = limited_by(&headers).await;
        assert_eq!(after(&e), None, "{headers:?}");
        assert_eq!(
            Backoff::default().delay(0, &e, 0.0, Utc::now()),
            Some(RATE_LIMIT_FALLBACK)
        );
        assert!(pager_wait(e) >= RATE_LIMIT_FALLBACK);
    }
}

// RELIABILITY C7 (TUI): bounded attempts, then the reset time and how to retry; `q` quits at any
// point (the wait is a timer in the runtime, not a sleep in the update loop).
#[tokio::test]
async fn c7_rate_limited_forever_stops_and_says_when_it_resets() {
    let server = ScriptedServer::start().await.expect("server");
    let reset_at = Utc::now() + chrono::Duration::seconds(600);
    let reset = reset_at.timestamp().to_string();
    for _ in 0..10 {
        server.push(USERMEDIA, too_many().header("x-rate-limit-reset", &reset));
    }
    let source = source(&server, &HttpConfig::default());
    let mut app = new_app();
    let mut req = fetch_req(&app.update(Msg::Started));
    let mut retries = 0;
    while let Some((next, _)) = scheduled(&answer(&mut app, &source, req).await) {
        retries += 1;
        assert!(retries <= 10, "unbounded retries");
        req = fetch_req(&app.update(Msg::RetryDue { req: next }));
    }
    assert_eq!(retries, app.config().max_retries);
    assert_eq!(server.requests().len() as u32, 1 + app.config().max_retries);
    assert!(matches!(
        app.pager(),
        PagerState::Failed { retry: None, .. }
    ));
    let hh_mm = xmedia::error::local_hh_mm(
        DateTime::from_timestamp(reset_at.timestamp(), 0).expect("time"),
    );
    let line = status_line(&app, t0());
    assert!(
        line.contains(&format!("r to retry · rate limited until {hh_mm}")),
        "{line}"
    );
    let effects = app.update(key('q'));
    assert_eq!(effects, vec![Effect::Quit]);
}

#[tokio::test]
async fn c7_q_quits_while_a_rate_limit_wait_is_pending() {
    let e = limited_by(&[("retry-after", "900")]).await;
    let mut app = new_app();
    let req = fetch_req(&app.update(Msg::Started));
    let (_, wait) = scheduled(&app.update(Msg::PageFailed { req, error: e })).expect("retry");
    assert!(wait >= Duration::from_secs(900));
    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
    assert!(app.should_quit());
}

// RELIABILITY C7 (dump): bounded attempts, exit 4, and the reset time in the message.
#[tokio::test(start_paused = true)]
async fn c7_dump_rate_limited_forever_exits_4_with_the_reset_time() {
    let server = ScriptedServer::start().await.expect("server");
    let reset_at = Utc::now() + chrono::Duration::seconds(300);
    for _ in 0..10 {
        server.push(
            USERMEDIA,
            too_many()
                .header("retry-after", "20")
                .header("x-rate-limit-reset", &reset_at.timestamp().to_string()),
        );
    }
    let source = source(&server, &HttpConfig::default());
    let d = dump(&source, Backoff::default()).await;
    assert_eq!(d.status, 4, "{}", d.stderr);
    assert_eq!(server.requests().len(), 5, "one try and four retries");
    let hh_mm = xmedia::error::local_hh_mm(
        DateTime::from_timestamp(reset_at.timestamp(), 0).expect("time"),
    );
    assert!(
        d.stderr.contains(&format!(
            "rate limited; retry in 20s (the limit resets at {hh_mm})"
        )),
        "{}",
        d.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Server errors and errors that must not be retried

#[tokio::test(start_paused = true)]
async fn c8_three_5xx_then_200_is_retried_with_backoff_and_the_items_appear() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(USERMEDIA, Reply::text(500, "oops"));
    server.push(
        USERMEDIA,
        Reply::text(502, "<html>Bad Gateway</html>").header("content-type", "text/html"),
    );
    server.push(USERMEDIA, Reply::text(503, ""));
    server.push(USERMEDIA, Reply::json(200, keyapi_page(50, 3, None)));
    let source = source(&server, &HttpConfig::default());
    let start = tokio::time::Instant::now();
    let d = dump(&source, Backoff::default()).await;
    let waited = start.elapsed();
    assert_eq!(d.status, 0, "{}", d.stderr);
    assert_eq!(server.requests().len(), 4, "three retries");
    assert_eq!(tweet_lines(&d.stdout), 3);
    // 1 s, 2 s, 4 s, each ±25 % jitter (virtual time).
    assert!(
        waited >= Duration::from_millis(5_250) && waited <= Duration::from_millis(8_750),
        "{waited:?}"
    );
    for (n, status) in [(1, 500), (2, 502), (3, 503)] {
        assert!(
            d.stderr.contains(&format!("(HTTP {status})"))
                && d.stderr.contains(&format!("({n}/4)")),
            "{}",
            d.stderr
        );
    }
}

// RELIABILITY C9 C10: never retried, through the real retry loop: exactly one request each.
#[tokio::test(start_paused = true)]
async fn c9_c10_auth_credit_forbidden_and_validation_errors_are_sent_once() {
    let doc = |code: u16, msg: &str| format!(r#"{{"code":{code},"data":null,"message":"{msg}"}}"#);
    let keyapi_cases = [
        (
            401,
            doc(401, "Invalid API key"),
            3,
            "check the key in XMEDIA_KEYAPI_KEY",
        ),
        (
            402,
            doc(402, "apiKey quota is not enough"),
            3,
            "out of credits",
        ),
        (
            403,
            doc(403, "Forbidden"),
            3,
            "check the key in XMEDIA_KEYAPI_KEY",
        ),
    ];
    for (status, body, exit, says) in keyapi_cases {
        let server = ScriptedServer::start().await.expect("server");
        for _ in 0..3 {
            server.push(USERMEDIA, Reply::json(status, body.clone()));
        }
        let d = dump(&source(&server, &HttpConfig::default()), Backoff::default()).await;
        assert_eq!(d.status, exit, "{status}: {}", d.stderr);
        assert_eq!(server.requests().len(), 1, "{status} must not be retried");
        assert!(
            d.stderr.contains("keyapi") && d.stderr.contains(says),
            "{}",
            d.stderr
        );
    }

    // agntdata 422 VALIDATION_ERROR: the field errors are shown, sanitized; one request.
    let server = ScriptedServer::start().await.expect("server");
    let body = r#"{"success":false,"error":{"code":"VALIDATION_ERROR","message":"Invalid body","details":[{"loc":["user_id"],"msg":"must be \u001b[31mpositive","type":"x"}]}}"#;
    for _ in 0..3 {
        server.push("/user/medias", Reply::json(422, body));
    }
    let http = HttpClient::new(&HttpConfig::default());
    let p = keyapi_at(&server.base_url(), ProviderKind::Agntdata, &http);
    let source = Source::new(p, vec![], http, UserRef::id("44196397"));
    let d = dump(&source, Backoff::default()).await;
    assert_eq!(d.status, 5, "{}", d.stderr);
    assert_eq!(server.requests().len(), 1, "422 must not be retried");
    assert!(
        d.stderr.contains("Invalid body: user_id: must be"),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains('\x1b'), "sanitized: {:?}", d.stderr);
}

// ---------------------------------------------------------------------------------------------
// Bodies

// RELIABILITY C13: an HTML error page is quoted sanitized and cut to one short line.
#[tokio::test]
async fn c13_html_503_is_not_dumped_raw() {
    let server = ScriptedServer::start().await.expect("server");
    let page = format!(
        "<!DOCTYPE html><html><head><title>503</title></head><body>\x1b]52;c;cHduZWQ=\x07{}</body></html>",
        "<p>Service Unavailable</p>\n".repeat(200)
    );
    server.push(
        "/2/users/42/tweets",
        Reply::text(503, page).header("content-type", "text/html"),
    );
    let http = HttpClient::new(&HttpConfig::default());
    let xapi = keyapi_at(&server.base_url(), ProviderKind::Xapi, &http);
    let e = Source::new(xapi, vec![], http, UserRef::id("42"))
        .fetch(None)
        .await
        .expect_err("503");
    assert!(
        matches!(
            e,
            ProviderError::Upstream {
                status: Some(503),
                ..
            }
        ),
        "{e:?}"
    );
    let shown = e.to_string();
    assert!(
        shown.chars().count() < 320,
        "{} chars: {shown}",
        shown.chars().count()
    );
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\n'),
        "{shown:?}"
    );
}

#[tokio::test]
async fn c14_deeply_nested_and_oversized_json_are_clean_errors() {
    let server = ScriptedServer::start().await.expect("server");
    let deep = format!(
        r#"{{"code":0,"message":"success","data":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    server.push(USERMEDIA, Reply::json(200, deep.clone()));
    server.push("/2/users/42/tweets", Reply::json(200, deep));
    let e = source(&server, &HttpConfig::default())
        .fetch(None)
        .await
        .expect_err("too deep");
    // A clean error, no stack overflow. (KeyAPI words every parse failure as "got text".)
    assert!(matches!(e, ProviderError::BadResponse { .. }), "{e:?}");
    let http = HttpClient::new(&HttpConfig::default());
    let xapi = keyapi_at(&server.base_url(), ProviderKind::Xapi, &http);
    let e = Source::new(xapi, vec![], http, UserRef::id("42"))
        .fetch(None)
        .await
        .expect_err("too deep");
    assert!(
        matches!(&e, ProviderError::BadResponse { detail, .. } if detail.contains("not the expected JSON")),
        "{e:?}"
    );

    // 50 MB, declared: refused from the header, before reading the body.
    let raw = RawServer::start(RawReply::Bytes(RawReply::http(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", "52428800"),
        ],
        b"{\"code\":0",
    )))
    .await
    .expect("server");
    let http = HttpClient::new(&HttpConfig::default());
    let e = get(&http, &raw.url(USERMEDIA)).await.expect_err("declared");
    assert_eq!(
        e.to_string(),
        "keyapi: unexpected response (response larger than 16 MiB)"
    );

    // Undeclared and endless: cut at the cap while streaming.
    let raw = RawServer::start(RawReply::Endless {
        head: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
            .to_vec(),
        chunk: vec![b' '; 64 * 1024],
    })
    .await
    .expect("server");
    let e = get(&http, &raw.url(USERMEDIA)).await.expect_err("endless");
    assert_eq!(
        e.to_string(),
        "keyapi: unexpected response (response larger than 16 MiB)"
    );
}

#[tokio::test]
async fn c15_ids_beyond_2_53_and_mixed_number_string_ids_are_exact() {
    let server = ScriptedServer::start().await.expect("server");
    // Written by hand so the numbers reach the parser exactly as an API would send them.
    let body = r#"{"code":0,"message":"success","data":{"status":"ok","next_cursor":null,
      "user":{"rest_id":1558553189766631429,"name":"T","sub_count":1},
      "timeline":[
        {"tweet_id":1558553189766631429,"created_at":"Sat May 09 18:35:02 +0000 2026","text":"a",
         "media":{"photo":[{"media_url_https":"https://pbs.twimg.com/media/a.jpg","id":1558552952549277697}]},
         "author":{"rest_id":9007199254740993,"name":"A","screen_name":"a"}},
        {"tweet_id":"1558553189766631430","created_at":"Sat May 09 18:35:01 +0000 2026","text":"b",
         "media":{"photo":[{"media_url_https":"https://pbs.twimg.com/media/b.jpg","id":"7"}]},
         "author":{"rest_id":"42","name":"B","screen_name":"b"}}]}}"#;
    server.push(USERMEDIA, Reply::json(200, body));
    let page = source(&server, &HttpConfig::default())
        .fetch(None)
        .await
        .expect("page");
    let ids: Vec<&str> = page.tweets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1558553189766631429", "1558553189766631430"]);
    assert_eq!(
        page.profile.and_then(|p| p.id).as_deref(),
        Some("1558553189766631429")
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[tokio::test]
async fn c16_redirect_to_another_port_is_refused_and_the_key_never_leaves() {
    let api = ScriptedServer::start().await.expect("api");
    let other = ScriptedServer::start().await.expect("other");
    let elsewhere = format!("{}{USERMEDIA}", other.base_url());
    api.push(
        USERMEDIA,
        Reply::text(302, "").header("location", &elsewhere),
    );
    other.push(USERMEDIA, Reply::json(200, keyapi_page(50, 1, None)));
    let e = source(&api, &HttpConfig::default())
        .fetch(None)
        .await
        .expect_err("refused");
    assert!(
        e.to_string()
            .contains("redirected to another server; refused"),
        "{e}"
    );
    assert!(
        !e.is_retryable(),
        "a refused redirect would be refused again"
    );
    assert_eq!(api.requests().len(), 1);
    assert!(other.requests().is_empty(), "the other server saw nothing");

    // Pictures may be redirected across hosts, but an Authorization header never follows.
    let http = HttpClient::new(&HttpConfig::default());
    api.push(
        "/media/a.jpg",
        Reply::text(302, "").header("location", &elsewhere),
    );
    let resp = http
        .media_client()
        .get(format!("{}/media/a.jpg", api.base_url()))
        .header("authorization", format!("Bearer {SENTINEL}"))
        .send()
        .await
        .expect("followed");
    assert_eq!(resp.status().as_u16(), 200);
    let seen = other.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None);
}

#[test]
fn c17_https_to_http_is_refused_even_on_the_same_host_and_port() {
    let url = |s: &str| s.parse::<url::Url>().expect("url");
    for same_origin_only in [true, false] {
        let why = redirect_refusal(
            &url("https://api.example.com:8443/a"),
            &url("http://api.example.com:8443/a"),
            1,
            same_origin_only,
        )
        .expect("refused");
        assert!(why.contains("https to plain http"), "{why}");
    }
    // Not refused: same origin, and (for pictures) another https host.
    assert_eq!(
        redirect_refusal(
            &url("https://api.example.com/a"),
            &url("https://api.example.com/b"),
            1,
            true
        ),
        None
    );
    assert_eq!(
        redirect_refusal(
            &url("https://pbs.twimg.com/a"),
            &url("https://cdn.example.com/b"),
            1,
            false
        ),
        None
    );
    assert!(
        redirect_refusal(
            &url("https://api.example.com/a"),
            &url("https://evil.example.com/b"),
            1,
            true
        )
        .is_some()
    );
}

#[tokio::test]
async fn c18_redirect_loop_stops_after_a_bounded_number_of_hops() {
    let server = ScriptedServer::start().await.expect("server");
    for _ in 0..20 {
        server.push(
            USERMEDIA,
            Reply::text(302, "").header("location", USERMEDIA),
        );
    }
    let e = source(&server, &HttpConfig::default())
        .fetch(None)
        .await
        .expect_err("loop");
    assert_eq!(
        e.to_string(),
        "keyapi: unexpected response (more than 5 redirects)"
    );
    let n = server.requests().len();
    assert_eq!(n, 6, "the first request and five redirects");
}

// ---------------------------------------------------------------------------------------------
// Secrets in URLs, TLS, proxies

#[tokio::test]
async fn c19_a_key_in_the_query_never_reaches_the_error_text() {
    let http = HttpClient::new(&short(2_000, 60_000, 300));
    let silent = RawServer::start(RawReply::Silent).await.expect("server");
    let reset = RawServer::start(RawReply::Reset(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nab".to_vec(),
    ))
    .await
    .expect("server");
    let looping = ScriptedServer::start().await.expect("server");
    let q = format!("?api_key={SENTINEL}&screenname=t");
    for _ in 0..10 {
        looping.push(
            USERMEDIA,
            Reply::text(302, "").header("location", &format!("{USERMEDIA}{q}")),
        );
    }
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let urls = [
        silent.url(&format!("{USERMEDIA}{q}")),
        reset.url(&format!("{USERMEDIA}{q}")),
        format!("{}{USERMEDIA}{q}", looping.base_url()),
        format!("http://{closed}{USERMEDIA}{q}"),
    ];
    for url in &urls {
        let e = get(&http, url).await.expect_err("fails");
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(SENTINEL), "{shown}");
        assert!(!shown.contains("api_key"), "{shown}");
    }
    // The picture downloader too.
    let d =
        xmedia::media::download::Downloader::new(http.media_client().clone(), &Default::default());
    for url in &urls {
        let e = tokio::time::timeout(DEADLINE, d.fetch(url))
            .await
            .expect("deadline")
            .expect_err("fails");
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(SENTINEL), "{shown}");
    }
}

/// An HTTPS server on 127.0.0.1 with a self-signed certificate (tests/fixtures/tls).
async fn tls_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio_rustls::rustls;
    let dir = format!("{}/tests/fixtures/tls", env!("CARGO_MANIFEST_DIR"));
    let cert = std::fs::read(format!("{dir}/self_signed_cert.der")).expect("cert");
    let key = std::fs::read(format!("{dir}/self_signed_key.pk8.der")).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.into()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((sock, _)) = listener.accept().await {
            if let Ok(mut tls) = acceptor.accept(sock).await {
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
            }
        }
    });
    (addr, task)
}

#[tokio::test]
async fn c20_self_signed_certificate_is_a_hard_failure() {
    let (addr, task) = tls_server().await;
    let http = HttpClient::new(&HttpConfig::default());
    let e = get(&http, &format!("https://{addr}{USERMEDIA}"))
        .await
        .expect_err("untrusted");
    match &e {
        ProviderError::Network { message, .. } => {
            assert!(message.contains("certificate"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let resp = http
        .media_client()
        .get(format!("https://localhost:{}/media/a.jpg", addr.port()))
        .send()
        .await;
    assert!(resp.is_err(), "pictures are not fetched insecurely either");
    task.abort();
}

const KEY_VAR: &str = "XMEDIA_KEYAPI_KEY";

fn xmedia(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmedia"));
    cmd.args(args)
        .env_remove("XMEDIA_AGNTDATA_KEY")
        .env_remove("XMEDIA_XAPI_TOKEN")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env(KEY_VAR, SENTINEL)
        .env("XMEDIA_CONFIG", dir.path().join("none.toml"))
        .env("XMEDIA_LOG_FILE", dir.path().join("xmedia.log"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run xmedia")
}

// RELIABILITY C21: the real binary with every proxy variable pointing at a server that would
// record (and refuse) anything sent through it: loopback requests go straight to the API.
#[tokio::test]
async fn c21_proxy_variables_do_not_affect_loopback_requests() {
    let proxy = RawServer::start(RawReply::Bytes(
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_vec(),
    ))
    .await
    .expect("proxy");
    let proxy_url = format!("http://{}", proxy.addr());
    let api = ScriptedServer::start().await.expect("api");
    api.push(USERMEDIA, Reply::json(200, keyapi_page(50, 2, None)));
    let base = api.base_url();
    let out = tokio::task::spawn_blocking(move || {
        let p = proxy_url.as_str();
        xmedia(
            &["dump", "@t", "--provider", "keyapi", "--base-url", &base],
            &[
                ("HTTP_PROXY", p),
                ("HTTPS_PROXY", p),
                ("ALL_PROXY", p),
                ("http_proxy", p),
                ("all_proxy", p),
            ],
        )
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(SENTINEL));
    assert_eq!(api.requests().len(), 1);
    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
}

// RELIABILITY C21: in production the proxy is honoured for real hosts (the proxy here refuses
// the tunnel, so nothing leaves the machine), and NO_PROXY is respected.
#[tokio::test]
async fn c21_proxy_is_used_for_real_hosts() {
    let proxy = RawServer::start(RawReply::Bytes(
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_vec(),
    ))
    .await
    .expect("proxy");
    let proxy_url = format!("http://{}", proxy.addr());
    let env = |no_proxy: &'static str| {
        let proxy_url = proxy_url.clone();
        move |name: &str| match name {
            "https_proxy" => Some(proxy_url.clone()),
            "NO_PROXY" if !no_proxy.is_empty() => Some(no_proxy.to_string()),
            _ => None,
        }
    };
    let http = HttpClient::with_env(&HttpConfig::default(), &env(""));
    let url = format!("https://api.keyapi.invalid{USERMEDIA}?screenname=t");
    let e = get(&http, &url).await.expect_err("tunnel refused");
    assert!(matches!(e, ProviderError::Network { .. }), "{e:?}");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("CONNECT api.keyapi.invalid:443 "),
        "{heads:?}"
    );
    assert!(
        !heads[0].to_ascii_lowercase().contains("authorization"),
        "the key stays inside the tunnel: {heads:?}"
    );

    // Named in NO_PROXY: not sent to the proxy (it fails resolving the .invalid name instead).
    let http = HttpClient::with_env(&HttpConfig::default(), &env("example.org,.invalid"));
    let _ = get(&http, &url).await.expect_err("no such host");
    assert_eq!(proxy.heads().len(), 1, "NO_PROXY honoured");
}
