//! The KeyAPI adapter against a scripted loopback server: real documented/recorded payloads,
//! the exact request it sends, a multi-page walk, and every documented error shape.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use xmedia::domain::{Cursor, MediaKind, Page, ProviderKind, UserRef};
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::provider::{AnyProvider, Provider, ProviderConfig};
use xmedia::secret::Secret;
use xmedia::testing::{Reply, ScriptedServer};

const PATH: &str = "/v1/twitter/usermedia";
const SENTINEL: &str = "SENTINEL-KEY-123";

fn provider_with_key(server: &ScriptedServer, key: &str) -> AnyProvider {
    AnyProvider::new(
        ProviderConfig {
            kind: ProviderKind::Keyapi,
            base_url: server.base_url().parse().expect("base url"),
            key: Secret::new(key).expect("non-empty key"),
            page_size: 20,
            include_retweets: false,
        },
        HttpClient::new(&HttpConfig::default()),
    )
}

fn provider(server: &ScriptedServer) -> AnyProvider {
    provider_with_key(server, "test-key")
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/keyapi/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("fixture exists")
}

/// Wraps a bare twitter-api45 payload in KeyAPI's success envelope.
fn wrap(inner: &str) -> String {
    format!(r#"{{"code":0,"message":"success","data":{inner}}}"#)
}

fn date(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

async fn fetch_with(reply: Reply, handle: &str) -> Page {
    let server = ScriptedServer::start().await.expect("server");
    server.push(PATH, reply);
    provider(&server)
        .fetch_page(&UserRef::handle(handle), None)
        .await
        .expect("page parses")
}

#[tokio::test]
async fn doc_example_parses_with_real_values() {
    let page = fetch_with(Reply::json(200, fixture("doc_example.json")), "elonmusk").await;
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "DAABCgABHILeT3t___0KAAIcd0meptogfQgAAwAAAAIAAA".into()
        ))
    );
    assert_eq!(page.tweets.len(), 3);

    let t = &page.tweets[0];
    assert_eq!(t.id, "2053181971644416080");
    assert_eq!(t.url, "https://x.com/elonmusk/status/2053181971644416080");
    assert_eq!(t.created_at, Some(date("2026-05-09T18:35:02Z")));
    assert_eq!(t.lang.as_deref(), Some("en"));
    assert_eq!(t.author.id.as_deref(), Some("44196397"));
    assert_eq!(t.author.handle.as_deref(), Some("elonmusk"));
    assert_eq!(t.author.name.as_deref(), Some("Elon Musk"));
    assert_eq!(t.metrics.likes, Some(212_590));
    assert_eq!(t.metrics.retweets, Some(18_438));
    assert_eq!(t.metrics.replies, Some(6_196));
    assert_eq!(t.metrics.quotes, Some(1_065));
    assert_eq!(t.metrics.bookmarks, Some(16_532));
    assert_eq!(
        t.metrics.views,
        Some(39_841_529),
        "views arrive as a string"
    );
    // The trailing media link is gone, the rest of the text is intact.
    assert!(
        t.text
            .starts_with("The human-perceived RGB is image 1 and the Tesla AI")
    );
    assert!(t.text.ends_with("through extreme glare."), "{:?}", t.text);
    assert!(!t.text.contains("t.co"));
    assert_eq!(t.media.len(), 2);
    assert_eq!(t.media[0].kind, MediaKind::Photo);
    assert_eq!(
        t.media[0].url.as_deref(),
        Some("https://pbs.twimg.com/media/HH5eH0kbYAE6TjX.jpg")
    );
    assert_eq!(
        t.media[1].url.as_deref(),
        Some("https://pbs.twimg.com/media/HH5eH0pbAAABYsv.jpg")
    );
    // Not in the payload: unknown, not zero.
    assert_eq!(t.media[0].width, None);
    assert_eq!(t.media[0].height, None);
    assert_eq!(t.media[0].duration_ms, None);
    assert!(t.media[0].variants.is_empty());
    assert_eq!(t.media[0].video_url, None);
    assert_eq!(t.reply_to, None);
    assert_eq!(t.sensitive, None);
    assert!(!t.is_retweet);
    assert!(t.quoted.is_none());

    let reply = &page.tweets[1];
    assert_eq!(reply.reply_to.as_deref(), Some("2052864667836649722"));
    assert_eq!(reply.lang.as_deref(), Some("zxx"));
    assert_eq!(reply.text, "", "a media-only tweet has no display text");
    assert_eq!(reply.metrics.views, Some(1_535_717));

    let quoting = &page.tweets[2];
    assert_eq!(quoting.text, "Rivers of Blood");
    assert_eq!(quoting.media.len(), 1);
    let q = quoting.quoted.as_ref().expect("quoted tweet");
    assert_eq!(q.id, "2051058601553207610");
    assert_eq!(q.url, "https://x.com/GadSaad/status/2051058601553207610");
    assert_eq!(q.author.id.as_deref(), Some("116579971"));
    assert_eq!(q.author.name.as_deref(), Some("Gad Saad"));
    assert!(q.text.contains("Noble Savage canard"));
    assert!(q.media.is_empty(), "`media: []` is no media");
    assert_eq!(q.metrics.views, Some(18_481_039));
    assert_eq!(q.metrics.bookmarks, Some(523));
    assert_eq!(q.created_at, Some(date("2026-05-03T21:57:32Z")));

    let p = page.profile.expect("profile");
    assert_eq!(p.id.as_deref(), Some("44196397"));
    assert_eq!(p.handle, "elonmusk");
    assert_eq!(p.name.as_deref(), Some("Elon Musk"));
    assert_eq!(p.followers, Some(239_955_338));
    assert_eq!(p.following, Some(1_325));
    assert_eq!(p.tweets, Some(102_416));
    assert_eq!(p.media_count, Some(4_487));
    assert_eq!(p.verified, Some(true));
    assert_eq!(p.verified_type.as_deref(), Some("blue"));
    let a = p.affiliate.expect("affiliate badge");
    assert_eq!(a.label.as_deref(), Some("X"));
    assert_eq!(a.url.as_deref(), Some("https://twitter.com/X"));
    assert_eq!(
        a.badge_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1955359038532653056/OSHY3ewP_bigger.jpg")
    );
    assert_eq!(
        p.avatar_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/2053244804520427520/m8mdWZCG_normal.jpg")
    );
    assert_eq!(
        p.banner_url.as_deref(),
        Some("https://pbs.twimg.com/profile_banners/44196397/1774145451")
    );
    assert_eq!(p.bio.as_deref(), Some("https://t.co/dDtDyVssfm"));
    assert_eq!(p.location, None, "empty location is unset");
    assert_eq!(p.protected, Some(false));
    assert_eq!(p.created_at, Some(date("2009-06-02T20:12:29Z")));
}

#[tokio::test]
async fn usermedia_corpus_parses_gif_photo_quote_and_empty_affiliates() {
    let body = wrap(&fixture("usermedia_full_synthesized.json"));
    let page = fetch_with(Reply::json(200, body), "levelsio").await;
    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "DAABCgABHAemPcs___0KAAIcBWnGmlpxaAgAAwAAAAIAAA".into()
        ))
    );
    // The synthesized file repeats the same tweet (and each media item) twice.
    assert_eq!(page.tweets.len(), 1, "duplicate tweet ids are dropped");
    let t = &page.tweets[0];
    assert_eq!(t.id, "2019604620893434151");
    assert_eq!(t.url, "https://x.com/levelsio/status/2019604620893434151");
    assert_eq!(t.text, "@CloudR907 You're trolling right");
    assert_eq!(t.reply_to.as_deref(), Some("2019602809965146633"));
    assert_eq!(t.metrics.views, Some(1_393));
    assert_eq!(t.metrics.likes, Some(8));
    assert_eq!(t.metrics.bookmarks, Some(0), "a reported zero stays zero");
    assert_eq!(t.author.name.as_deref(), Some("@levelsio"));

    assert_eq!(
        t.media.len(),
        2,
        "one photo and one GIF after de-duplication"
    );
    let photo = &t.media[0];
    assert_eq!(photo.kind, MediaKind::Photo);
    assert_eq!(
        photo.url.as_deref(),
        Some("https://pbs.twimg.com/media/HAcTsmVXsAAG-_1.jpg")
    );
    let gif = &t.media[1];
    assert_eq!(
        gif.kind,
        MediaKind::Gif,
        "bitrate-0 tweet_video MP4 is a GIF"
    );
    assert_eq!(
        gif.url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video_thumb/HAbTz8TWgAAfa-o.jpg")
    );
    assert_eq!(gif.variants.len(), 2);
    assert_eq!(gif.variants[0].bitrate, Some(0));
    assert_eq!(gif.variants[0].content_type.as_deref(), Some("video/mp4"));
    assert_eq!(
        gif.video_url.as_deref(),
        Some("https://video.twimg.com/tweet_video/HAbTz8TWgAAfa-o.mp4")
    );
    assert_eq!((gif.width, gif.height), (Some(498), Some(304)));
    assert_eq!(gif.duration_ms, None, "`duration: null` stays unknown");

    let q = t.quoted.as_ref().expect("quoted");
    assert_eq!(q.id, "2019440554736513150");
    assert_eq!(q.metrics.views, Some(347_701));
    assert_eq!(q.media.len(), 1);
    assert_eq!(
        q.media[0].url.as_deref(),
        Some("https://pbs.twimg.com/media/HAZ-exJWoAAsDoq.jpg")
    );

    let p = page.profile.expect("profile");
    assert_eq!(p.id.as_deref(), Some("1577241403"));
    assert_eq!(p.handle, "levelsio");
    assert_eq!(p.affiliate, None, "`affiliates: []` means none");
    assert_eq!(p.protected, None, "`protected: null` stays unknown");
    assert_eq!(p.followers, Some(816_081));
    assert_eq!(p.following, Some(2_689));
    assert_eq!(p.tweets, Some(168_924));
    assert_eq!(p.media_count, Some(18_324));
    assert_eq!(p.location.as_deref(), Some("📕 My book $6K/m  👉"));
    assert!(p.bio.as_deref().is_some_and(|b| b.contains("@euacc")));
    assert_eq!(p.created_at, Some(date("2013-07-08T09:31:59Z")));
}

#[tokio::test]
async fn timeline_corpus_parses_video_retweet_and_affiliate_object() {
    let body = wrap(&fixture("timeline_full_synthesized.json"));
    let page = fetch_with(Reply::json(200, body), "elonmusk").await;
    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "DAABCgABGcqaFgd__-gKAAIZyhbkCxZRqQgAAwAAAAIAAA".into()
        ))
    );
    assert_eq!(page.tweets.len(), 1);
    let t = &page.tweets[0];
    assert_eq!(t.id, "1858398528214630863");
    assert!(t.is_retweet);
    assert_eq!(
        t.text,
        "RT @DefiyantlyFree: Pete Hegseth on the corruption in government schools."
    );
    assert_eq!(t.metrics.views, Some(102));
    assert_eq!(t.metrics.retweets, Some(1_666));

    let photo = t
        .media
        .iter()
        .find(|m| m.kind == MediaKind::Photo)
        .expect("photo");
    assert_eq!(
        photo.url.as_deref(),
        Some("https://pbs.twimg.com/media/GcpVVz3XEAAy5XF.jpg")
    );
    assert_eq!((photo.width, photo.height), (Some(930), Some(715)));
    let video = t
        .media
        .iter()
        .find(|m| m.kind == MediaKind::Video)
        .expect("video");
    assert_eq!(
        video.url.as_deref(),
        Some(
            "https://pbs.twimg.com/amplify_video_thumb/1858298285095587840/img/JE2gaoQom3PGl1Pj.jpg"
        )
    );
    assert_eq!(video.variants.len(), 2);
    assert_eq!(
        video.variants[0].content_type.as_deref(),
        Some("application/x-mpegURL")
    );
    assert_eq!(video.video_url, None, "HLS only: no MP4 to play");
    assert_eq!((video.width, video.height), (Some(576), Some(1024)));

    let q = t.quoted.as_ref().expect("quoted");
    assert_eq!(
        q.url,
        "https://x.com/newstart_2024/status/1858081283621941457"
    );
    assert_eq!(q.media.len(), 2);
    assert!(
        q.media
            .iter()
            .any(|m| m.kind == MediaKind::Video && m.width == Some(1280))
    );

    let p = page.profile.expect("profile");
    assert_eq!(p.handle, "elonmusk");
    assert_eq!(p.followers, Some(205_113_140));
    let a = p.affiliate.expect("affiliate object");
    assert_eq!(a.label.as_deref(), Some("X"));
    assert_eq!(a.url.as_deref(), Some("https://twitter.com/X"));
    assert_eq!(
        a.badge_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1683899100922511378/5lY42eHs_bigger.jpg")
    );
}

#[tokio::test]
async fn request_has_path_query_and_bearer_header() {
    let server = ScriptedServer::start().await.expect("server");
    let empty = wrap(r#"{"timeline":[],"next_cursor":"","status":"ok"}"#);
    server.push(PATH, Reply::json(200, empty.clone()));
    server.push(PATH, Reply::json(200, empty));
    let p = provider(&server);
    assert!(!p.needs_user_id());
    assert_eq!(p.lookup_user("elonmusk").await.expect("lookup"), None);

    let user = UserRef {
        handle: Some("elonmusk".into()),
        id: Some("44196397".into()),
    };
    let cursor = Cursor("DAAB+/=&x".into());
    p.fetch_page(&user, Some(&cursor)).await.expect("page");
    p.fetch_page(&UserRef::handle("@nasa"), None)
        .await
        .expect("page");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "lookup_user sends nothing");
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, PATH);
    assert_eq!(r.query_param("screenname").as_deref(), Some("elonmusk"));
    assert_eq!(r.query_param("rest_id").as_deref(), Some("44196397"));
    assert_eq!(r.query_param("cursor").as_deref(), Some("DAAB+/=&x"));
    assert_eq!(r.header("authorization"), Some("Bearer test-key"));

    let r = &reqs[1];
    assert_eq!(r.query_param("screenname").as_deref(), Some("nasa"));
    assert_eq!(r.query_param("rest_id"), None);
    assert_eq!(r.query_param("cursor"), None);
    assert_eq!(r.header("authorization"), Some("Bearer test-key"));
}

#[tokio::test]
async fn base_path_is_kept() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        "/proxy/v1/twitter/usermedia",
        Reply::json(200, wrap(r#"{"timeline":[]}"#)),
    );
    let p = AnyProvider::new(
        ProviderConfig {
            kind: ProviderKind::Keyapi,
            base_url: format!("{}/proxy", server.base_url()).parse().expect("url"),
            key: Secret::new("test-key").expect("key"),
            page_size: 20,
            include_retweets: false,
        },
        HttpClient::new(&HttpConfig::default()),
    );
    let page = p
        .fetch_page(&UserRef::handle("nasa"), None)
        .await
        .expect("page");
    assert!(page.tweets.is_empty());
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.profile, None);
}

fn photo_tweet(id: &str, n: usize) -> serde_json::Value {
    json!({
        "tweet_id": id,
        "created_at": "Mon Nov 18 06:35:11 +0000 2024",
        "text": format!("pic {n} https://t.co/abc{n}"),
        "views": format!("{}", n * 100),
        "favorites": n,
        "author": {"rest_id": "11348282", "screen_name": "NASA", "name": "NASA"},
        "media": {"photo": [{
            "media_url_https": format!("https://pbs.twimg.com/media/P{n}.jpg?format=jpg&name=small"),
            "id": format!("9{n}"),
            "ext_alt_text": format!("alt {n}")
        }]}
    })
}

fn page_body(tweets: Vec<serde_json::Value>, next: Option<&str>) -> String {
    let mut data = json!({
        "timeline": tweets,
        "status": "ok",
        "user": {"rest_id": 11348282u64, "name": "NASA", "sub_count": "89,000,000",
                 "friends": 180, "blue_verified": false, "verification_type": "Government",
                 "affiliates": [], "protected": false}
    });
    if let Some(n) = next {
        data["next_cursor"] = json!(n);
    }
    json!({"code": 0, "message": "success", "data": data}).to_string()
}

#[tokio::test]
async fn walks_three_pages_to_the_end() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        PATH,
        Reply::json(
            200,
            page_body(
                vec![photo_tweet("101", 1), photo_tweet("102", 2)],
                Some("c1"),
            ),
        ),
    );
    let text_only = json!({"tweet_id": "200", "text": "no media here", "media": []});
    let quote_only = json!({
        "tweet_id": 201, "text": "look at this", "media": {},
        "author": {"rest_id": "11348282", "screen_name": "NASA"},
        "quoted": {"tweet_id": "300", "text": "orig https://t.co/q",
                   "author": {"screen_name": "ESA"},
                   "media": {"video": [{
                       "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/a.jpg",
                       "duration": 30000,
                       "variants": [
                           {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/ext_tw_video/1/pl/a.m3u8"},
                           {"bitrate": 256000, "content_type": "video/mp4", "url": "https://video.twimg.com/ext_tw_video/1/vid/256.mp4"},
                           {"bitrate": 2176000, "content_type": "video/mp4", "url": "https://video.twimg.com/ext_tw_video/1/vid/2176.mp4"},
                           {"bitrate": 832000, "content_type": "video/mp4", "url": "https://video.twimg.com/ext_tw_video/1/vid/832.mp4"}
                       ]}]}}
    });
    let odd_media = json!({
        "tweet_id": "202", "text": "odd",
        "media": {"audio": [{"id": "1"}], "photo": [{"id": "5", "type": "hologram",
                  "media_url_https": "https://x/y.jpg"}, "garbage"]}
    });
    server.push(
        PATH,
        Reply::json(
            200,
            page_body(
                vec![
                    text_only,
                    quote_only,
                    odd_media,
                    json!("not a tweet"),
                    photo_tweet("103", 3),
                ],
                Some("c2"),
            ),
        ),
    );
    server.push(
        PATH,
        Reply::json(200, page_body(vec![photo_tweet("104", 4)], Some(""))),
    );

    let p = provider(&server);
    let user = UserRef::handle("NASA");
    let mut cursor: Option<Cursor> = None;
    let mut pages = Vec::new();
    loop {
        let page = p.fetch_page(&user, cursor.as_ref()).await.expect("page");
        cursor = page.next_cursor.clone();
        pages.push(page);
        if cursor.is_none() {
            break;
        }
        assert!(pages.len() < 10, "walk must end");
    }
    assert_eq!(pages.len(), 3);
    let ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.tweets.iter().map(|t| t.id.as_str()))
        .collect();
    assert_eq!(ids, ["101", "102", "201", "202", "103", "104"]);
    assert_eq!(
        pages[2].next_cursor, None,
        "empty next_cursor ends the walk"
    );

    let sent: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.query_param("cursor"))
        .collect();
    assert_eq!(sent, [None, Some("c1".into()), Some("c2".into())]);

    let first = &pages[0].tweets[0];
    assert_eq!(first.text, "pic 1");
    assert_eq!(first.metrics.views, Some(100));
    assert_eq!(first.metrics.replies, None, "absent counts stay unknown");
    assert_eq!(
        first.media[0].url.as_deref(),
        Some("https://pbs.twimg.com/media/P1.jpg?format=jpg"),
        "name= size parameter removed"
    );
    assert_eq!(first.media[0].alt_text.as_deref(), Some("alt 1"));

    let quote = &pages[1].tweets[0];
    assert_eq!(quote.id, "201");
    assert!(quote.media.is_empty());
    assert_eq!(quote.text, "look at this");
    let q = quote.quoted.as_ref().expect("quoted");
    assert_eq!(q.url, "https://x.com/ESA/status/300");
    assert_eq!(q.media[0].kind, MediaKind::Video);
    assert_eq!(q.media[0].duration_ms, Some(30_000));
    assert_eq!(
        q.media[0].video_url.as_deref(),
        Some("https://video.twimg.com/ext_tw_video/1/vid/2176.mp4")
    );
    assert_eq!(q.media[0].variants.len(), 4);
    assert_eq!(q.text, "orig", "quoted media link dropped");

    // Tweet 202 has only odd media (an unknown group, an unknown type, a string): the two
    // readable ones are placeholders named after their type (D11), and the page did not fail.
    let odd = &pages[1].tweets[1];
    assert_eq!(odd.id, "202");
    let kinds: Vec<(MediaKind, Option<&str>, Option<&str>)> = odd
        .media
        .iter()
        .map(|m| (m.kind, m.type_name.as_deref(), m.url.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Other, Some("hologram"), Some("https://x/y.jpg")),
            (MediaKind::Other, Some("audio"), None)
        ]
    );
    // The string timeline item is reported.
    assert!(
        pages[1]
            .warnings
            .iter()
            .any(|w| w.contains("skipped 1 timeline item")),
        "{:?}",
        pages[1].warnings
    );

    let prof = pages[0].profile.as_ref().expect("profile");
    assert_eq!(prof.id.as_deref(), Some("11348282"), "numeric id accepted");
    assert_eq!(prof.handle, "NASA");
    assert_eq!(prof.followers, Some(89_000_000));
    assert_eq!(prof.verified, Some(false));
    assert_eq!(prof.verified_type.as_deref(), Some("government"));
    assert_eq!(prof.affiliate, None);
    assert_eq!(prof.tweets, None);
}

#[tokio::test]
async fn envelope_without_code_is_accepted_leniently() {
    let page = fetch_with(
        Reply::json(200, fixture("usermedia_full_synthesized.json")),
        "levelsio",
    )
    .await;
    assert_eq!(page.tweets.len(), 1, "bare twitter-api45 body");
    let body = format!(
        r#"{{"data":{}}}"#,
        fixture("usermedia_full_synthesized.json")
    );
    let page = fetch_with(Reply::json(200, body), "levelsio").await;
    assert_eq!(page.tweets.len(), 1, "data without code");
}

#[tokio::test]
async fn missing_author_falls_back_to_the_profile() {
    let body = json!({"code": 0, "message": "success", "data": {
        "timeline": [{"tweet_id": "7", "text": "x https://t.co/m", "author": {},
                      "media": {"photo": [{"media_url_https": "https://pbs.twimg.com/media/A.jpg"}]}}],
        "user": {"rest_id": "1", "profile": "someone", "name": "Some One"}
    }});
    let page = fetch_with(Reply::json(200, body.to_string()), "SomeOne").await;
    let t = &page.tweets[0];
    assert_eq!(t.author.handle.as_deref(), Some("someone"));
    assert_eq!(t.author.id.as_deref(), Some("1"));
    assert_eq!(t.url, "https://x.com/someone/status/7");
    assert_eq!(t.text, "x");
}

/// What an error case must produce.
enum Want {
    Invalid,
    Unauthorized,
    Quota,
    Rate(Option<u64>),
    Upstream(Option<u16>),
    NotFound,
    Protected,
    Bad(&'static str),
}

fn check(label: &str, e: &ProviderError, want: &Want) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("SENTINEL"), "{label}: key leaked: {shown}");
    assert_eq!(e.provider(), ProviderKind::Keyapi, "{label}");
    let ok = match (want, e) {
        (Want::Invalid, ProviderError::InvalidRequest { .. })
        | (Want::Unauthorized, ProviderError::Unauthorized { .. })
        | (Want::Quota, ProviderError::QuotaExhausted { .. })
        | (Want::NotFound, ProviderError::NotFound { .. })
        | (Want::Protected, ProviderError::Protected { .. }) => true,
        (Want::Rate(secs), ProviderError::RateLimited { retry_after, .. }) => {
            *retry_after == secs.map(Duration::from_secs)
        }
        (Want::Upstream(s), ProviderError::Upstream { status, .. }) => status == s,
        (Want::Bad(needle), ProviderError::BadResponse { detail, .. }) => detail.contains(needle),
        _ => false,
    };
    assert!(ok, "{label}: unexpected {e:?}");
}

// RELIABILITY F9 C4 C9 C11 C13 C14 C19
#[tokio::test]
async fn errors_map_to_typed_variants_without_the_key() {
    let doc = |code: u16, msg: &str| format!(r#"{{"code":{code},"data":null,"message":"{msg}"}}"#);
    let cases: Vec<(&str, Reply, Want)> = vec![
        (
            "400 documented",
            Reply::json(400, doc(400, "Missing required parameter")),
            Want::Invalid,
        ),
        (
            "401 documented",
            Reply::json(401, doc(401, "apiKey is null")),
            Want::Unauthorized,
        ),
        (
            "402 documented",
            Reply::json(402, doc(402, "apiKey quota is not enough")),
            Want::Quota,
        ),
        (
            "429 documented + Retry-After",
            Reply::json(429, doc(429, "qps limit exceeded")).header("Retry-After", "7"),
            Want::Rate(Some(7)),
        ),
        (
            "500 documented",
            Reply::json(500, doc(500, "Internal server error")),
            Want::Upstream(Some(500)),
        ),
        (
            "403 forbidden",
            Reply::json(403, doc(403, "Forbidden")),
            Want::Unauthorized,
        ),
        (
            "403 protected",
            Reply::json(403, doc(403, "User is protected")),
            Want::Protected,
        ),
        (
            "404",
            Reply::json(404, doc(404, "Not Found")),
            Want::NotFound,
        ),
        ("503 empty", Reply::text(503, ""), Want::Upstream(Some(503))),
        ("401 empty", Reply::text(401, ""), Want::Unauthorized),
        (
            "502 html",
            Reply::text(502, "<html><body>Bad Gateway</body></html>")
                .header("content-type", "text/html"),
            Want::Upstream(Some(502)),
        ),
        (
            "code 400 on 200",
            Reply::json(200, doc(400, "Missing required parameter")),
            Want::Invalid,
        ),
        (
            "code 401 on 200",
            Reply::json(200, doc(401, "apiKey is null")),
            Want::Unauthorized,
        ),
        (
            "code 402 on 200",
            Reply::json(200, doc(402, "apiKey quota is not enough")),
            Want::Quota,
        ),
        (
            "code 429 on 200",
            Reply::json(200, doc(429, "qps limit exceeded")).header("retry-after", "3"),
            Want::Rate(Some(3)),
        ),
        (
            "code 500 on 200",
            Reply::json(200, doc(500, "Internal server error")),
            Want::Upstream(Some(500)),
        ),
        (
            "string code on 200",
            Reply::json(200, r#"{"code":"402","message":"no credits","data":null}"#),
            Want::Quota,
        ),
        (
            "unknown code on 200",
            Reply::json(200, r#"{"code":1001,"message":"busy","data":null}"#),
            Want::Upstream(None),
        ),
        (
            "key echoed by the API",
            Reply::json(401, doc(401, "invalid apiKey SENTINEL-KEY-123")),
            Want::Unauthorized,
        ),
        (
            "malformed JSON",
            Reply::json(200, r#"{"code":0,"message":"success","data":{"timeline":["#),
            Want::Bad("expected JSON"),
        ),
        (
            "HTML on 200",
            Reply::text(200, "<!DOCTYPE html><html><title>Login</title></html>")
                .header("content-type", "text/html"),
            Want::Bad("HTML"),
        ),
        ("empty body", Reply::json(200, ""), Want::Bad("empty")),
        (
            "success without data",
            Reply::json(200, r#"{"code":0,"message":"success","data":null}"#),
            Want::Bad("data"),
        ),
        (
            "data is not an object",
            Reply::json(200, r#"{"code":0,"message":"success","data":[1,2]}"#),
            Want::Bad("data"),
        ),
        (
            "JSON array body",
            Reply::json(200, "[]"),
            Want::Bad("JSON object"),
        ),
        (
            "neither envelope nor data",
            Reply::json(200, r#"{"hello":"world"}"#),
            Want::Bad("missing"),
        ),
    ];
    let server = ScriptedServer::start().await.expect("server");
    for (_, reply, _) in &cases {
        server.push(PATH, reply.clone());
    }
    let p = provider_with_key(&server, SENTINEL);
    for (label, _, want) in &cases {
        let e = p
            .fetch_page(&UserRef::handle("elonmusk"), None)
            .await
            .expect_err(label);
        check(label, &e, want);
    }
    assert_eq!(server.requests().len(), cases.len());
}

#[tokio::test]
async fn documented_messages_are_quoted() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        PATH,
        Reply::json(
            402,
            r#"{"code":402,"data":null,"message":"apiKey quota is not enough"}"#,
        ),
    );
    let e = provider(&server)
        .fetch_page(&UserRef::handle("x"), None)
        .await
        .expect_err("402");
    assert!(e.to_string().contains("apiKey quota is not enough"), "{e}");
    assert!(!e.is_retryable());
    assert_eq!(e.exit_code(), 3);
}

#[tokio::test]
async fn unavailable_accounts_are_errors_not_empty_pages() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        PATH,
        Reply::json(
            200,
            wrap(r#"{"timeline":[],"status":"ok","user":{"status":"suspended"}}"#),
        ),
    );
    server.push(
        PATH,
        Reply::json(
            200,
            wrap(r#"{"timeline":[],"status":"ok","user":{"status":"active","protected":true}}"#),
        ),
    );
    let p = provider(&server);
    let user = UserRef::handle("gone");
    let e = p.fetch_page(&user, None).await.expect_err("suspended");
    assert!(matches!(e, ProviderError::Suspended { .. }), "{e:?}");
    let e = p.fetch_page(&user, None).await.expect_err("protected");
    assert!(matches!(e, ProviderError::Protected { .. }), "{e:?}");
}

#[tokio::test]
async fn local_problems_send_nothing() {
    let server = ScriptedServer::start().await.expect("server");
    let p = provider_with_key(&server, "SENTINEL KEY 123");
    let e = p
        .fetch_page(&UserRef::handle("nasa"), None)
        .await
        .expect_err("unsafe key");
    assert!(matches!(e, ProviderError::Config { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("SENTINEL"));

    let e = p
        .fetch_page(&UserRef::id("11348282"), None)
        .await
        .expect_err("no handle");
    assert!(matches!(e, ProviderError::InvalidRequest { .. }), "{e:?}");
    assert!(server.requests().is_empty());
}

// RELIABILITY C19
#[tokio::test]
async fn unscripted_and_unreachable_servers_are_transport_or_upstream_errors() {
    let server = ScriptedServer::start().await.expect("server");
    let p = provider_with_key(&server, SENTINEL);
    let e = p
        .fetch_page(&UserRef::handle("nasa"), None)
        .await
        .expect_err("599");
    check("599", &e, &Want::Upstream(Some(599)));

    let base = server.base_url();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let p = AnyProvider::new(
        ProviderConfig {
            kind: ProviderKind::Keyapi,
            base_url: base.parse().expect("url"),
            key: Secret::new(SENTINEL).expect("key"),
            page_size: 20,
            include_retweets: false,
        },
        HttpClient::new(&HttpConfig::default()),
    );
    let e = p
        .fetch_page(&UserRef::handle("nasa"), None)
        .await
        .expect_err("closed port");
    assert!(!format!("{e} {e:?}").contains("SENTINEL"));
    assert!(e.is_retryable(), "{e:?}");
}
