//! RELIABILITY group D: pagination and data shape. Scripted page sequences served by a real
//! loopback server, fetched by the real X API provider through a `Source`, and paged by the real
//! `App` (as the runtime would drive it), by the `Pager` on its own (for the stop reason), and by
//! `xmedia dump`'s loop. Each test asserts the number of requests, the final item list and why
//! paging stopped.

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};
use xmedia::app::pager::{EndReason, MAX_EMPTY_PAGES, MAX_PAGES, Pager};
use xmedia::app::{App, AppConfig, PagerState, Timeline};
use xmedia::domain::{MediaKind, ProviderKind, UserRef};
use xmedia::dump::{self, DumpOptions};
use xmedia::effect::Effect;
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::msg::Msg;
use xmedia::provider::{AnyProvider, ProviderConfig};
use xmedia::retry::Backoff;
use xmedia::secret::Secret;
use xmedia::source::Source;
use xmedia::testing::{Recorded, Reply, ScriptedServer};

const TWEETS: &str = "/2/users/42/tweets";

/// One X API photo tweet.
fn tweet(id: &str) -> Value {
    json!({
        "id": id, "text": format!("tweet {id}"), "author_id": "42",
        "attachments": {"media_keys": [format!("3_{id}")]}
    })
}

/// An X API page of photo tweets; `next` is the `next_token` (JSON `null` when `None`).
fn page(ids: &[&str], next: Option<&str>) -> Reply {
    let media: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"media_key": format!("3_{id}"), "type": "photo",
                   "url": format!("https://pbs.twimg.com/media/{id}.jpg")})
        })
        .collect();
    Reply::json(
        200,
        json!({
            "data": ids.iter().map(|id| tweet(id)).collect::<Vec<_>>(),
            "includes": {"media": media, "users": [{"id": "42", "username": "t", "name": "T"}]},
            "meta": {"result_count": ids.len(), "next_token": next}
        })
        .to_string(),
    )
}

fn empty(next: Option<&str>) -> Reply {
    Reply::json(
        200,
        json!({"meta": {"result_count": 0, "next_token": next}}).to_string(),
    )
}

async fn serve(script: Vec<Reply>) -> ScriptedServer {
    let server = ScriptedServer::start().await.expect("server");
    for r in script {
        server.push(TWEETS, r);
    }
    server
}

fn source(server: &ScriptedServer) -> Source {
    let http = HttpClient::new(&HttpConfig::default());
    let provider = AnyProvider::new(
        ProviderConfig {
            kind: ProviderKind::Xapi,
            base_url: url::Url::parse(&server.base_url()).expect("url"),
            key: Secret::new("paging-key").expect("key"),
            page_size: 100,
            include_retweets: false,
        },
        http.clone(),
    );
    Source::new(provider, vec![], http, UserRef::id("42"))
}

fn tokens(requests: &[Recorded]) -> Vec<Option<String>> {
    requests
        .iter()
        .map(|r| r.query_param("pagination_token"))
        .collect()
}

fn app() -> App {
    // Always close enough to the end to want the next page: the user holds `j` forever.
    let config = AppConfig {
        prefetch_threshold: usize::MAX,
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Xapi, config);
    app.update(Msg::Resized(120, 40));
    app.update(Msg::Tick(common::now()));
    app
}

/// Runs effects the way the runtime does (fetches through `source`, retries at once instead of
/// after their delay) until the app asks for nothing more.
async fn drive(app: &mut App, source: &Source, first: Vec<Effect>) {
    let mut queue: VecDeque<Effect> = first.into();
    let mut steps = 0;
    while let Some(effect) = queue.pop_front() {
        steps += 1;
        assert!(steps < 5_000, "paging never stopped");
        let more = match effect {
            Effect::FetchPage { req, cursor } => match source.fetch(cursor.as_ref()).await {
                Ok(page) => app.update(Msg::PageLoaded { req, page }),
                Err(error) => app.update(Msg::PageFailed { req, error }),
            },
            Effect::ScheduleRetry { req, .. } => app.update(Msg::RetryDue { req }),
            _ => Vec::new(),
        };
        queue.extend(more);
    }
}

/// The app after paging through `script` on its own.
async fn app_walk(script: Vec<Reply>) -> (App, ScriptedServer) {
    let server = serve(script).await;
    let source = source(&server);
    let mut app = app();
    let first = app.update(Msg::Started);
    drive(&mut app, &source, first).await;
    (app, server)
}

fn ids(app: &App) -> Vec<&str> {
    app.tweets().iter().map(|t| t.id.as_str()).collect()
}

/// The pager alone (with a timeline for the dedupe count), for the stop reason.
async fn pager_walk(script: Vec<Reply>, pager: Pager) -> (Pager, Timeline, ScriptedServer) {
    let server = serve(script).await;
    let source = source(&server);
    let mut pager = pager;
    let mut timeline = Timeline::default();
    let mut next = pager.start();
    let mut steps = 0;
    while let Some(Effect::FetchPage { req, cursor }) = next {
        steps += 1;
        assert!(steps < 5_000, "paging never stopped");
        let page = source.fetch(cursor.as_ref()).await.expect("page");
        pager.accept(req).expect("current request");
        let added = timeline.merge(page.tweets);
        pager.finish(page.next_cursor, added);
        next = pager.fetch_next();
    }
    (pager, timeline, server)
}

/// `xmedia dump --all` over `script`: (exit status, tweet ids printed, stderr).
async fn dump_walk(script: Vec<Reply>) -> (i32, Vec<String>, String, ScriptedServer) {
    let server = serve(script).await;
    let source = source(&server);
    let opts = DumpOptions {
        max_pages: None,
        backoff: Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(1),
            max_retries: 2,
        },
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = dump::run(&source, &opts, &mut out, &mut err).await;
    let ids = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|v| v["type"] == "tweet")
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect();
    (
        status,
        ids,
        String::from_utf8_lossy(&err).into_owned(),
        server,
    )
}

fn extra_pages(n: usize) -> Vec<Reply> {
    (0..n)
        .map(|i| page(&[&format!("{}", 900 + i)], Some(&format!("more{i}"))))
        .collect()
}

// ---- D1: the same cursor handed back, with items ----

fn d1_script() -> Vec<Reply> {
    let mut s = vec![page(&["10", "9"], Some("A")), page(&["8", "7"], Some("A"))];
    // What a looping client would go on to fetch.
    s.extend(extra_pages(5));
    s
}

#[tokio::test]
async fn d1_a_cursor_handed_back_stops_after_one_extra_request() {
    let (app, server) = app_walk(d1_script()).await;
    assert_eq!(server.requests().len(), 2);
    assert_eq!(tokens(&server.requests()), [None, Some("A".into())]);
    assert_eq!(ids(&app), ["10", "9", "8", "7"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);

    let (status, ids, err, server) = dump_walk(d1_script()).await;
    assert_eq!((status, server.requests().len()), (0, 2), "{err}");
    assert_eq!(ids, ["10", "9", "8", "7"]);
}

#[test]
fn d1_the_pager_alone_stops_on_a_repeated_cursor() {
    // The provider already drops a token equal to the one it was given; the pager does not rely
    // on that.
    let mut p = Pager::new(0, 1);
    let Some(Effect::FetchPage { req, .. }) = p.start() else {
        panic!("first page")
    };
    p.accept(req).expect("current");
    p.finish(Some(xmedia::domain::Cursor("A".into())), 2);
    let Some(Effect::FetchPage { req, cursor }) = p.fetch_next() else {
        panic!("second page")
    };
    assert_eq!(cursor, Some(xmedia::domain::Cursor("A".into())));
    p.accept(req).expect("current");
    p.finish(Some(xmedia::domain::Cursor("A".into())), 2);
    assert_eq!(p.state(), &PagerState::Exhausted);
    assert_eq!(p.end_reason(), Some(EndReason::RepeatedCursor));
    assert_eq!(p.fetch_next(), None);
}

// ---- D2: the same cursor with an empty page ----

#[tokio::test]
async fn d2_the_same_cursor_with_an_empty_page_is_the_end() {
    let mut script = vec![page(&["10"], Some("A")), empty(Some("A"))];
    script.extend(extra_pages(5));
    let (app, server) = app_walk(script).await;
    assert_eq!(tokens(&server.requests()), [None, Some("A".into())]);
    assert_eq!(ids(&app), ["10"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);
}

// ---- D3: empty pages with fresh cursors, forever ----

fn endless_empty() -> Vec<Reply> {
    let mut s = vec![page(&["10", "9"], Some("e0"))];
    s.extend((1..50).map(|i| empty(Some(&format!("e{i}")))));
    s
}

#[tokio::test]
async fn d3_endless_empty_pages_stop_after_max_empty_pages() {
    let bound = 1 + MAX_EMPTY_PAGES as usize;
    let (app, server) = app_walk(endless_empty()).await;
    assert_eq!(server.requests().len(), bound);
    assert_eq!(ids(&app), ["10", "9"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);

    let (pager, _, server) = pager_walk(endless_empty(), Pager::new(0, 1)).await;
    assert_eq!(server.requests().len(), bound);
    assert_eq!(pager.end_reason(), Some(EndReason::EmptyPages));

    let (status, ids, err, server) = dump_walk(endless_empty()).await;
    assert_eq!((status, server.requests().len()), (0, bound), "{err}");
    assert_eq!(ids, ["10", "9"]);
    assert!(err.contains("empty pages in a row"), "{err}");
}

// ---- D4: a cursor cycle A → B → A ----

fn cycle() -> Vec<Reply> {
    let mut s = vec![
        page(&["10"], Some("A")),
        page(&["9"], Some("B")),
        page(&["8"], Some("A")),
    ];
    s.extend(extra_pages(5));
    s
}

#[tokio::test]
async fn d4_a_cursor_cycle_is_detected_and_stops() {
    let (app, server) = app_walk(cycle()).await;
    assert_eq!(
        tokens(&server.requests()),
        [None, Some("A".into()), Some("B".into())]
    );
    assert_eq!(ids(&app), ["10", "9", "8"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);

    let (pager, _, server) = pager_walk(cycle(), Pager::new(0, 1)).await;
    assert_eq!(server.requests().len(), 3);
    assert_eq!(pager.end_reason(), Some(EndReason::RepeatedCursor));

    let (status, ids, err, server) = dump_walk(cycle()).await;
    assert_eq!((status, server.requests().len()), (0, 3), "{err}");
    assert_eq!(ids, ["10", "9", "8"]);
    assert!(err.contains("repeated a cursor"), "{err}");
}

// ---- D5: an empty or null next_token ----

#[tokio::test]
async fn d5_empty_or_null_next_token_is_the_end() {
    for last in [
        page(&["10"], Some("")),
        page(&["10"], None),
        Reply::json(
            200,
            json!({"data": [tweet("10")],
                   "includes": {"media": [{"media_key": "3_10", "type": "photo", "url": "https://pbs.twimg.com/media/10.jpg"}]},
                   "meta": {"result_count": 1}})
            .to_string(),
        ),
    ] {
        let mut script = vec![last];
        script.extend(extra_pages(3));
        let (pager, timeline, server) = pager_walk(script, Pager::new(0, 1)).await;
        assert_eq!(server.requests().len(), 1);
        assert_eq!(timeline.len(), 1);
        assert_eq!(pager.end_reason(), Some(EndReason::NoCursor));
    }
}

// ---- D6: duplicates across pages; a pinned tweet on every page ----

fn pinned_every_page() -> Vec<Reply> {
    vec![
        page(&["1", "10", "9"], Some("c1")),
        page(&["1", "9", "8"], Some("c2")),
        page(&["1", "7"], None),
    ]
}

#[tokio::test]
async fn d6_each_tweet_is_shown_once() {
    let (app, server) = app_walk(pinned_every_page()).await;
    assert_eq!(server.requests().len(), 3);
    assert_eq!(ids(&app), ["1", "10", "9", "8", "7"]);

    let (status, ids, err, _) = dump_walk(pinned_every_page()).await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(ids, ["1", "10", "9", "8", "7"]);
}

/// Only the pinned tweet, with a fresh cursor each time: pages of nothing new count as empty.
fn only_the_pinned_tweet() -> Vec<Reply> {
    let mut s = vec![page(&["1", "10"], Some("p0"))];
    s.extend((1..50).map(|i| page(&["1"], Some(&format!("p{i}")))));
    s
}

#[tokio::test]
async fn d6_pages_of_only_known_tweets_count_as_empty() {
    let bound = 1 + MAX_EMPTY_PAGES as usize;
    let (app, server) = app_walk(only_the_pinned_tweet()).await;
    assert_eq!(server.requests().len(), bound);
    assert_eq!(ids(&app), ["1", "10"]);

    // `dump` used to count only pages with no tweets at all, and walked all 50.
    let (status, ids, err, server) = dump_walk(only_the_pinned_tweet()).await;
    assert_eq!((status, server.requests().len()), (0, bound), "{err}");
    assert_eq!(ids, ["1", "10"]);
}

// ---- D7: a page without `data` ----

#[tokio::test]
async fn d7_a_page_without_data_is_empty_not_an_error() {
    let script = vec![
        page(&["10"], Some("c1")),
        Reply::json(200, r#"{"meta":{"result_count":0}}"#),
    ];
    let (app, server) = app_walk(script).await;
    assert_eq!(server.requests().len(), 2);
    assert_eq!(ids(&app), ["10"]);
    assert_eq!(
        app.pager(),
        &PagerState::Exhausted,
        "the end, not a failure"
    );
}

// ---- D8: an invalid pagination token on page 5 ----

fn invalid_token() -> Reply {
    Reply::json(
        400,
        json!({
            "errors": [{"parameters": {"pagination_token": ["c4"]},
                        "message": "The `pagination_token` query parameter value [c4] is not a valid token"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })
        .to_string(),
    )
}

#[tokio::test]
async fn d8_an_invalid_token_keeps_pages_one_to_four_and_r_reloads_from_the_top() {
    let server = serve(vec![
        page(&["10", "9"], Some("c1")),
        page(&["8", "7"], Some("c2")),
        page(&["6", "5"], Some("c3")),
        page(&["4", "3"], Some("c4")),
        invalid_token(),
        page(&["11", "10", "9"], None),
    ])
    .await;
    let source = source(&server);
    let mut app = app();
    let first = app.update(Msg::Started);
    drive(&mut app, &source, first).await;
    assert_eq!(
        server.requests().len(),
        5,
        "a 400 is not retried on its own"
    );
    assert_eq!(ids(&app), ["10", "9", "8", "7", "6", "5", "4", "3"]);
    match app.pager() {
        PagerState::Failed {
            error: ProviderError::InvalidRequest { message, .. },
            retry: None,
            ..
        } => assert!(message.contains("not a valid token"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Repeating the rejected token would fail again: `r` starts over from the first page.
    let effects = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::NONE,
    )));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchPage { cursor: None, .. })),
        "{effects:?}"
    );
    drive(&mut app, &source, effects).await;
    assert_eq!(tokens(&server.requests())[5], None);
    assert_eq!(ids(&app), ["11", "10", "9"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);
}

// ---- D9: a failure on page 3 ----

fn failing_page_three() -> Vec<Reply> {
    vec![
        page(&["10", "9"], Some("c1")),
        page(&["8", "7"], Some("c2")),
        Reply::json(503, r#"{"title":"Service Unavailable"}"#),
        page(&["6", "5"], None),
    ]
}

#[tokio::test]
async fn d9_a_failed_page_is_retried_from_its_own_cursor() {
    let (app, server) = app_walk(failing_page_three()).await;
    assert_eq!(
        tokens(&server.requests()),
        [
            None,
            Some("c1".into()),
            Some("c2".into()),
            Some("c2".into())
        ]
    );
    assert_eq!(ids(&app), ["10", "9", "8", "7", "6", "5"]);
    assert_eq!(app.pager(), &PagerState::Exhausted);

    let (status, ids, err, server) = dump_walk(failing_page_three()).await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(tokens(&server.requests())[3], Some("c2".into()));
    assert_eq!(ids, ["10", "9", "8", "7", "6", "5"]);
}

#[tokio::test]
async fn d9_pages_before_a_lasting_failure_stay() {
    let mut script = vec![page(&["10", "9"], Some("c1")), page(&["8"], Some("c2"))];
    script.extend((0..10).map(|_| Reply::json(503, r#"{"title":"Service Unavailable"}"#)));
    let (app, server) = app_walk(script).await;
    // One try and the configured retries, then it waits for the user.
    let retries = AppConfig::default().max_retries as usize;
    assert_eq!(server.requests().len(), 2 + 1 + retries);
    assert!(
        tokens(&server.requests())[2..]
            .iter()
            .all(|t| t.as_deref() == Some("c2"))
    );
    assert_eq!(ids(&app), ["10", "9", "8"]);
    assert!(matches!(
        app.pager(),
        PagerState::Failed { retry: None, .. }
    ));
}

// ---- D10: page and tweet caps ----

fn endless(n: usize) -> Vec<Reply> {
    (0..n)
        .map(|i| page(&[&format!("{}", 100_000 + i)], Some(&format!("n{i}"))))
        .collect()
}

#[tokio::test]
async fn d10_the_pager_stops_at_its_page_and_tweet_caps() {
    let (pager, timeline, server) =
        pager_walk(endless(40), Pager::new(0, 1).with_caps(7, 1_000)).await;
    assert_eq!(server.requests().len(), 7);
    assert_eq!(timeline.len(), 7);
    assert_eq!(pager.end_reason(), Some(EndReason::Capped));

    let (pager, timeline, server) =
        pager_walk(endless(40), Pager::new(0, 1).with_caps(1_000, 5)).await;
    assert_eq!(server.requests().len(), 5);
    assert_eq!(timeline.len(), 5);
    assert_eq!(pager.end_reason(), Some(EndReason::Capped));
}

#[tokio::test]
async fn d10_an_endless_timeline_stops_at_max_pages_with_a_message() {
    let cap = MAX_PAGES as usize;
    let (app, server) = app_walk(endless(cap + 20)).await;
    assert_eq!(server.requests().len(), cap);
    assert_eq!(app.tweets().len(), cap);
    assert_eq!(app.pager(), &PagerState::Exhausted);
    let notice = app.notice().expect("the user is told").text.clone();
    assert!(notice.contains("no more available"), "{notice}");
    assert!(notice.contains(&format!("{cap} pages")), "{notice}");

    let (status, ids, err, server) = dump_walk(endless(cap + 20)).await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(server.requests().len(), cap);
    assert_eq!(ids.len(), cap);
    assert!(err.contains("no more available"), "{err}");
}

// ---- D11: unknown and incomplete media ----

#[tokio::test]
async fn d11_odd_media_do_not_fail_the_page() {
    let body = json!({
        "data": [
            {"id": "30", "text": "mixed", "author_id": "42",
             "attachments": {"media_keys": ["audio", "nourl", "preview", "missing"]}},
            {"id": "29", "text": "only audio", "author_id": "42",
             "attachments": {"media_keys": ["audio"]}},
            {"id": "28", "text": "fine", "author_id": "42",
             "attachments": {"media_keys": ["ok"]}}
        ],
        "includes": {"media": [
            {"media_key": "audio", "type": "audio", "url": "https://x.example/a.mp3"},
            {"media_key": "nourl", "type": "photo"},
            {"media_key": "preview", "type": "video", "preview_image_url": "https://pbs.twimg.com/p.jpg"},
            {"media_key": "ok", "type": "photo", "url": "https://pbs.twimg.com/media/ok.jpg"},
            {"type": "photo", "url": "https://pbs.twimg.com/media/keyless.jpg"}
        ]},
        "meta": {"result_count": 3}
    })
    .to_string();
    let (mut app, server) = app_walk(vec![Reply::json(200, body)]).await;
    assert_eq!(server.requests().len(), 1);
    // Every tweet stays, the one with only audio too: unknown media is a placeholder, not a loss.
    assert_eq!(ids(&app), ["30", "29", "28"]);
    let mixed = &app.tweets()[0].media;
    let kinds: Vec<(MediaKind, Option<&str>, Option<&str>)> = mixed
        .iter()
        .map(|m| (m.kind, m.url.as_deref(), m.type_name.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            // The audio's `url` is the sound file, not a picture: no preview URL.
            (MediaKind::Other, None, Some("audio")),
            (MediaKind::Photo, None, None),
            (MediaKind::Video, Some("https://pbs.twimg.com/p.jpg"), None)
        ]
    );
    assert_eq!(mixed[2].video_url, None);
    let o = || Msg::Key(KeyEvent::new(KeyCode::Char('O'), KeyModifiers::NONE));
    // The placeholder names the unknown type and what works instead; the list marks it.
    let screen = draw(&app, 140, 40);
    assert!(
        screen.contains("[ audio · no preview · o opens the tweet ]"),
        "{screen}"
    );
    assert!(screen.contains("□ audio"), "{screen}");
    assert!(screen.contains("1. audio"), "{screen}");
    // `O` explains instead of opening an MP3 as a picture.
    assert!(app.update(o()).is_empty());
    let notice = app.notice().expect("notice").text.clone();
    assert_eq!(
        notice,
        "xmedia cannot open this kind of media · o opens the tweet"
    );
    // Opening the URL-less photo (second media) explains itself too.
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('l'),
        KeyModifiers::NONE,
    )));
    assert!(app.update(o()).is_empty());
    let notice = app.notice().expect("notice").text.clone();
    assert_eq!(notice, "this photo has no URL");
    let screen = draw(&app, 140, 40);
    assert!(
        screen.contains("photo · no picture URL · o opens the tweet"),
        "{screen}"
    );
    // The only-audio tweet is listed and previewable (as its placeholder).
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('j'),
        KeyModifiers::NONE,
    )));
    assert_eq!(app.selected_tweet().map(|t| t.id.as_str()), Some("29"));
    let screen = draw(&app, 140, 40);
    assert!(screen.contains("[ audio · no preview"), "{screen}");
}

/// The screen as text, one line a row.
fn draw(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| {
        xmedia::ui::draw(f, app, common::now());
    })
    .expect("draw");
    let buf = term.backend().buffer();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- D12: entities, UTF-16 offsets, indices past the end ----

#[tokio::test]
async fn d12_entities_and_utf16_offsets_never_slice_mid_character() {
    // Two emoji (2 UTF-16 units, 4 bytes each) before the link: the API's UTF-16 offsets are
    // wrong as byte or char offsets. One entity points past the end of the text.
    let text = "🎉🎉 Tom &amp; Jerry &lt;3 https://t.co/Link1 https://t.co/MeDiA";
    let body = json!({
        "data": [{
            "id": "40", "text": text, "author_id": "42",
            "attachments": {"media_keys": ["m"]},
            "entities": {"urls": [
                {"start": 25, "end": 48, "url": "https://t.co/Link1",
                 "expanded_url": "https://example.com/page", "display_url": "example.com/page"},
                {"start": 49, "end": 72, "url": "https://t.co/MeDiA",
                 "display_url": "pic.x.com/MeDiA", "media_key": "m"},
                {"start": 5000, "end": 9999, "url": "https://t.co/Gone",
                 "expanded_url": "https://gone.example/"},
                {"start": 3, "end": 1, "url": "", "expanded_url": "https://inverted.example/"}
            ]}
        }],
        "includes": {"media": [{"media_key": "m", "type": "photo", "url": "https://pbs.twimg.com/media/m.jpg"}]},
        "meta": {"result_count": 1}
    })
    .to_string();
    let (app, _server) = app_walk(vec![Reply::json(200, body)]).await;
    assert_eq!(
        app.tweets()[0].text,
        "🎉🎉 Tom & Jerry <3 https://example.com/page"
    );
    let mut term = Terminal::new(TestBackend::new(60, 20)).expect("terminal");
    term.draw(|f| {
        xmedia::ui::draw(f, &app, common::now());
    })
    .expect("draw");
}

#[test]
fn d12_display_text_survives_hostile_entities() {
    use xmedia::provider::normalize::{LinkEntity, decode_entities, display_text};
    for raw in [
        "&",
        "&amp",
        "&#",
        "&#x;",
        "&#xD800;",
        "&#99999999999;",
        "&#1114112;",
        "é&é;x",
        "🎉&🎉;",
        "&amp;amp;",
        "a&lt;&gt;&quot;&#39;&#x1F389;",
    ] {
        let _ = decode_entities(raw);
        let _ = display_text(
            raw,
            &[LinkEntity {
                short: "é".into(),
                expanded: Some("🎉".into()),
            }],
            &["&".into(), String::new()],
        );
    }
    assert_eq!(
        decode_entities("&amp;amp;"),
        "&amp;",
        "decoded once, not twice"
    );
    assert_eq!(decode_entities("&#x1F389; &#xD800;"), "🎉 &#xD800;");
}

// ---- D13: metrics missing, negative, beyond u32 ----

#[tokio::test]
async fn d13_odd_metrics_are_left_out_or_clamped() {
    let body = json!({
        "data": [{
            "id": "50", "text": "metrics", "author_id": "42",
            "attachments": {"media_keys": ["m"]},
            "public_metrics": {
                "retweet_count": -5,
                "reply_count": 5_000_000_000u64,
                "quote_count": 1e30,
                "bookmark_count": "12,345",
                "impression_count": "lots"
            }
        }],
        "includes": {"media": [{"media_key": "m", "type": "photo", "url": "https://pbs.twimg.com/media/m.jpg"}]},
        "meta": {"result_count": 1}
    })
    .to_string();
    let (app, _server) = app_walk(vec![Reply::json(200, body)]).await;
    let m = app.tweets()[0].metrics;
    assert_eq!(m.likes, None, "missing");
    assert_eq!(m.retweets, None, "negative");
    assert_eq!(m.replies, Some(5_000_000_000), "beyond u32, kept");
    assert_eq!(m.quotes, Some(u64::MAX), "beyond u64, clamped");
    assert_eq!(m.bookmarks, Some(12_345));
    assert_eq!(m.views, None, "not a number");
    assert_eq!(
        xmedia::ui::timeline::metrics_compact(&m),
        ["↩ 5.0B", "❝ 18446744073.7B", "⚑ 12.3K"]
    );
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    term.draw(|f| {
        xmedia::ui::draw(f, &app, common::now());
    })
    .expect("draw");
}

// ---- ids beyond 2^53 ----

#[tokio::test]
async fn ids_beyond_2_53_stay_exact_as_strings_and_numbers() {
    let body = json!({
        "data": [
            {"id": "1900000000000000001", "text": "a", "author_id": "42",
             "attachments": {"media_keys": ["m"]}},
            {"id": 1900000000000000003u64, "text": "b", "author_id": 42,
             "attachments": {"media_keys": ["m"]}}
        ],
        "includes": {"media": [{"media_key": "m", "type": "photo", "url": "https://pbs.twimg.com/media/m.jpg"}]},
        "meta": {"result_count": 2}
    })
    .to_string();
    let (app, _server) = app_walk(vec![Reply::json(200, body)]).await;
    assert_eq!(ids(&app), ["1900000000000000001", "1900000000000000003"]);
}
