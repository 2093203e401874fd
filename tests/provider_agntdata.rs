//! The agntdata adapter against a scripted loopback server: the documented examples, real v1.1
//! recordings wrapped in agntdata's envelope, the request it sends, paging, and error mapping.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use xmedia::domain::{Cursor, MediaKind, Page, ProviderKind, UserRef};
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::provider::{AnyProvider, Provider, ProviderConfig};
use xmedia::secret::Secret;
use xmedia::testing::{Recorded, Reply, ScriptedServer};

const FIRST: &str = "/user/medias";
const NEXT: &str = "/user/medias/continuation";
const SENTINEL: &str = "SENTINEL-KEY-123";

fn provider_with_key(server: &ScriptedServer, key: &str) -> AnyProvider {
    let config = ProviderConfig {
        kind: ProviderKind::Agntdata,
        base_url: server.base_url().parse().expect("base url"),
        key: Secret::new(key).expect("key"),
        page_size: 20,
        include_retweets: false,
    };
    AnyProvider::new(config, HttpClient::new(&HttpConfig::default()))
}

fn provider(server: &ScriptedServer) -> AnyProvider {
    provider_with_key(server, "test-key")
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/agntdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("fixture")
}

/// v1.1 statuses wrapped the way agntdata answers.
fn wrap(statuses: Value, token: Option<&str>) -> String {
    json!({ "results": statuses, "continuation_token": token }).to_string()
}

fn date(s: &str) -> Option<DateTime<Utc>> {
    Some(
        DateTime::parse_from_rfc3339(s)
            .expect("date")
            .with_timezone(&Utc),
    )
}

async fn fetch(p: &AnyProvider, user: &UserRef, cursor: Option<&str>) -> Page {
    let cursor = cursor.map(|c| Cursor(c.to_string()));
    p.fetch_page(user, cursor.as_ref()).await.expect("page")
}

fn assert_post(r: &Recorded, path: &str, body: Value) {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, path);
    assert_eq!(r.query, None);
    assert_eq!(r.header("authorization"), Some("Bearer test-key"));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.header("content-type")
    );
    assert_eq!(r.json_body(), Some(body));
}

#[tokio::test]
async fn first_page_doc_example_maps_photos_counts_and_profile() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        FIRST,
        Reply::json(200, fixture("user_medias_doc_example.json")),
    );
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("44196397"), None).await;

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_post(&reqs[0], FIRST, json!({ "user_id": 44196397, "limit": 20 }));

    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "DAABCgABGrfEhOE___0KAAIatxiwfNex7ggAAwAAAAIAAA".into()
        ))
    );
    assert!(page.warnings.is_empty());
    assert_eq!(page.tweets.len(), 3);

    let t = &page.tweets[0];
    assert_eq!(t.id, "1925089021710983421");
    assert_eq!(t.url, "https://x.com/elonmusk/status/1925089021710983421");
    assert_eq!(t.created_at, date("2025-05-21T07:19:23Z"));
    // The text was only the media link.
    assert_eq!(t.text, "");
    assert_eq!(t.lang.as_deref(), Some("zxx"));
    assert_eq!(t.author.id.as_deref(), Some("44196397"));
    assert_eq!(t.author.handle.as_deref(), Some("elonmusk"));
    assert_eq!(t.author.name.as_deref(), Some("Kekius Maximus"));
    assert_eq!(t.metrics.likes, Some(90156));
    assert_eq!(t.metrics.retweets, Some(8099));
    assert_eq!(t.metrics.replies, Some(2756));
    assert_eq!(t.metrics.quotes, Some(211));
    assert_eq!(t.metrics.bookmarks, Some(1258));
    assert_eq!(t.metrics.views, Some(6897282));
    assert_eq!(t.reply_to, None);
    assert!(!t.is_retweet);
    assert_eq!(t.sensitive, None);
    assert!(t.quoted.is_none());
    assert_eq!(t.media.len(), 1);
    let m = &t.media[0];
    assert_eq!(m.kind, MediaKind::Photo);
    assert_eq!(
        m.url.as_deref(),
        Some("https://pbs.twimg.com/media/GrdKQ2hWUAAdyMM.jpg")
    );
    assert_eq!((m.width, m.height), (Some(1100), Some(1705)));
    assert_eq!(m.alt_text, None);
    assert_eq!(m.duration_ms, None);
    assert!(m.variants.is_empty());
    assert_eq!(m.video_url, None);

    let t = &page.tweets[1];
    assert_eq!(t.id, "1925041236596986027");
    assert_eq!(t.text, "A classic");
    assert_eq!(t.lang.as_deref(), Some("en"));
    assert_eq!(t.metrics.likes, Some(243510));
    assert_eq!(t.metrics.bookmarks, Some(8890));
    assert_eq!(
        (t.media[0].width, t.media[0].height),
        (Some(1070), Some(1478))
    );
    assert_eq!(page.tweets[2].media[0].width, Some(2048));

    let profile = page.profile.expect("profile from the tweets' user");
    assert_eq!(profile.id.as_deref(), Some("44196397"));
    assert_eq!(profile.handle, "elonmusk");
    assert_eq!(profile.name.as_deref(), Some("Kekius Maximus"));
    assert_eq!(profile.followers, Some(219778839));
    assert_eq!(profile.following, Some(1134));
    assert_eq!(profile.tweets, Some(78883));
    assert_eq!(profile.media_count, None);
    assert_eq!(profile.verified, Some(true));
    assert_eq!(profile.verified_type.as_deref(), Some("blue"));
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1923451603740168192/bBoBROAs_normal.jpg")
    );
    assert_eq!(profile.banner_url, None);
    assert_eq!(profile.bio, None);
    assert_eq!(profile.location, None);
    assert_eq!(profile.protected, None);
    assert_eq!(profile.created_at, date("2009-06-02T20:12:29Z"));
}

#[tokio::test]
async fn continuation_doc_example_maps_gif_replies_and_null_views() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        NEXT,
        Reply::json(200, fixture("continuation_doc_example.json")),
    );
    let p = provider(&server);

    let token = "DAABCgABFu-OJkw___gKAAIVmAq8iZYgAggAAwAAAAIAAA";
    let page = fetch(&p, &UserRef::id("96479162"), Some(token)).await;

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_post(
        &reqs[0],
        NEXT,
        json!({ "user_id": 96479162, "continuation_token": token, "limit": 20 }),
    );

    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "DAABCgABFu-OJkw__-8KAAISl2Jz9RcQAAgAAwAAAAIAAA".into()
        ))
    );
    assert_eq!(page.tweets.len(), 7);
    assert!(page.tweets.iter().all(|t| t.metrics.views.is_none()));
    assert!(page.tweets.iter().all(|t| !t.is_retweet));

    let first = &page.tweets[0];
    assert_eq!(first.id, "1517995317697916928");
    assert_eq!(
        first.url,
        "https://x.com/omarmhaimdat/status/1517995317697916928"
    );
    assert!(
        first.text.ends_with("Credits to: @raymondh"),
        "{:?}",
        first.text
    );
    assert_eq!(first.metrics.likes, Some(16));
    assert_eq!(first.metrics.retweets, Some(1));
    assert_eq!(first.metrics.replies, Some(2));
    assert_eq!(first.metrics.quotes, Some(0));
    // Not in this answer: unknown, not zero.
    assert_eq!(first.metrics.bookmarks, None);
    assert_eq!(
        (first.media[0].width, first.media[0].height),
        (Some(3072), Some(1291))
    );

    let reply = &page.tweets[1];
    assert_eq!(reply.id, "1513801473074896899");
    assert_eq!(reply.reply_to.as_deref(), Some("1513791628154187778"));
    assert_eq!(reply.text, "@robertmclaws It works for me");
    assert_eq!(reply.created_at, date("2022-04-12T08:49:30Z"));

    let dob = &page.tweets[4];
    assert_eq!(dob.id, "1490431825918967810");
    assert!(dob.text.ends_with("loves me too 😄"), "{:?}", dob.text);

    let gif_tweet = &page.tweets[6];
    assert_eq!(gif_tweet.id, "1339647664338702336");
    assert_eq!(
        gif_tweet.text,
        "@austin_kodra You are 5 minutes away from publishing this lens"
    );
    assert_eq!(gif_tweet.reply_to.as_deref(), Some("1339607906006740994"));
    let gif = &gif_tweet.media[0];
    assert_eq!(gif.kind, MediaKind::Gif);
    assert_eq!(
        gif.url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video_thumb/EpdichpWMAIPcr0.jpg")
    );
    assert_eq!(gif.alt_text.as_deref(), Some("Batman Thinking GIF"));
    assert_eq!((gif.width, gif.height), (Some(498), Some(342)));
    assert_eq!(gif.variants.len(), 1);
    assert_eq!(gif.variants[0].bitrate, Some(0));
    assert_eq!(gif.variants[0].content_type.as_deref(), Some("video/mp4"));
    assert_eq!(
        gif.video_url.as_deref(),
        Some("https://video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4")
    );

    let profile = page.profile.expect("profile");
    assert_eq!(profile.handle, "omarmhaimdat");
    assert_eq!(profile.id.as_deref(), Some("96479162"));
    assert_eq!(profile.followers, Some(955));
    assert_eq!(profile.following, Some(1211));
    assert_eq!(profile.tweets, Some(3167));
    assert_eq!(profile.location.as_deref(), Some("Casablanca, Morocco"));
    assert_eq!(
        profile.bio.as_deref(),
        Some("Data Scientist | Software Engineer | Better programming and Heartbeat contributor")
    );
    assert_eq!(profile.created_at, date("2009-12-13T03:52:21Z"));
}

#[tokio::test]
async fn v1_1_home_timeline_maps_gif_video_and_retweets() {
    let statuses: Value =
        serde_json::from_str(&fixture("python-twitter_get_home_timeline.json")).expect("json");
    assert_eq!(statuses.as_array().map(Vec::len), Some(20));
    let server = ScriptedServer::start().await.expect("server");
    server.push(FIRST, Reply::json(200, wrap(statuses, Some("NEXT-1"))));
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("372018022"), None).await;

    assert_eq!(page.next_cursor, Some(Cursor("NEXT-1".into())));
    // Only the 5 statuses with media survive; all are retweets.
    let ids: Vec<&str> = page.tweets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "674674925823787008",
            "672852550614458369",
            "672106967075315712",
            "671793258159280128",
            "668883258864726016"
        ]
    );
    assert!(page.tweets.iter().all(|t| t.is_retweet));

    let gif_rt = &page.tweets[0];
    assert_eq!(gif_rt.author.handle.as_deref(), Some("__jcbl__"));
    assert_eq!(
        gif_rt.url,
        "https://x.com/__jcbl__/status/674674925823787008"
    );
    assert_eq!(
        gif_rt.text,
        "RT @pattymo: I could watch this for hours and I might"
    );
    assert_eq!(gif_rt.created_at, date("2015-12-09T19:40:11Z"));
    // The wrapper reports 0 likes; the retweeted status has the real count.
    assert_eq!(gif_rt.metrics.likes, Some(2517));
    assert_eq!(gif_rt.metrics.retweets, Some(2358));
    assert_eq!(gif_rt.metrics.views, None);
    assert_eq!(gif_rt.sensitive, Some(false));
    let gif = &gif_rt.media[0];
    assert_eq!(gif.kind, MediaKind::Gif);
    assert_eq!(
        gif.url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video_thumb/CVze8bBUwAAPYRz.png")
    );
    assert_eq!(gif.variants.len(), 1);
    assert_eq!(gif.variants[0].bitrate, Some(0));
    assert_eq!(
        gif.video_url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video/CVze8bBUwAAPYRz.mp4")
    );
    // No original_info in 2015: the largest rendition.
    assert_eq!((gif.width, gif.height), (Some(636), Some(362)));

    let nasa = &page.tweets[1];
    assert!(
        nasa.text.contains("@NASAJuno http://go.nasa.gov/1lfviCo"),
        "{:?}",
        nasa.text
    );
    assert_eq!(nasa.media[0].kind, MediaKind::Photo);

    let video_rt = &page.tweets[3];
    assert_eq!(video_rt.text, "RT @Lyraull:");
    let video = &video_rt.media[0];
    assert_eq!(video.kind, MediaKind::Video);
    assert_eq!(video.duration_ms, Some(20203));
    assert_eq!(
        video.url.as_deref(),
        Some(
            "https://pbs.twimg.com/ext_tw_video_thumb/669435299068575744/pu/img/wbVuwMFMrOC-G2Nz.jpg"
        )
    );
    assert_eq!(video.variants.len(), 5);
    let dash = &video.variants[0];
    assert_eq!(dash.bitrate, None);
    assert_eq!(dash.content_type.as_deref(), Some("application/dash+xml"));
    // Best MP4 among dash, HLS, two MP4s and a WebM of the same bitrate.
    assert_eq!(
        video.video_url.as_deref(),
        Some(
            "https://video.twimg.com/ext_tw_video/669435299068575744/pu/vid/626x360/cNuvl8oZp-ju13xw.mp4"
        )
    );

    let profile = page.profile.expect("profile");
    assert_eq!(profile.handle, "__jcbl__");
    assert_eq!(profile.id.as_deref(), Some("372018022"));
    assert_eq!(profile.name.as_deref(), Some("jeremy"));
    assert_eq!(profile.followers, Some(50));
    assert_eq!(profile.following, Some(285));
    assert_eq!(profile.tweets, Some(311));
    assert_eq!(profile.verified, Some(false));
    assert_eq!(profile.verified_type, None);
    assert_eq!(profile.protected, Some(false));
    assert_eq!(
        profile.bio.as_deref(),
        Some("my kingdom for a microwave that doesn't beep")
    );
    assert_eq!(profile.created_at, date("2011-09-11T23:49:28Z"));
}

#[tokio::test]
async fn v1_1_quoted_status_photos_become_the_quoted_tweet() {
    let status: Value = serde_json::from_str(&fixture(
        "python-twitter_models_status_quoted_tweet_with_media.json",
    ))
    .expect("json");
    let server = ScriptedServer::start().await.expect("server");
    server.push(FIRST, Reply::json(200, wrap(json!([status]), None)));
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("20944497"), None).await;

    assert_eq!(page.next_cursor, None);
    assert_eq!(page.tweets.len(), 1, "kept for its quoted tweet's photo");
    let t = &page.tweets[0];
    assert_eq!(t.id, "850413178534211584");
    assert_eq!(t.url, "https://x.com/andresegura/status/850413178534211584");
    assert!(t.media.is_empty());
    assert!(!t.is_retweet);
    assert_eq!(t.metrics.likes, Some(4378));
    assert_eq!(t.metrics.retweets, Some(2643));
    assert!(
        t.text
            .ends_with("Not police. https://twitter.com/icegov/status/850408344175222784"),
        "{:?}",
        t.text
    );

    let q = t.quoted.as_deref().expect("quoted tweet");
    assert_eq!(q.id, "850408344175222784");
    assert_eq!(q.url, "https://x.com/ICEgov/status/850408344175222784");
    assert_eq!(q.author.handle.as_deref(), Some("ICEgov"));
    assert_eq!(q.author.name.as_deref(), Some("ICE"));
    assert_eq!(q.reply_to.as_deref(), Some("850397557939372032"));
    assert_eq!(q.metrics.likes, Some(381));
    assert_eq!(q.sensitive, Some(false));
    assert_eq!(
        q.text,
        "ICE agents & officers may initially ID themselves as \u{201c}police\u{201d} in an \
         encounter because it is the universally known term for law enforcement"
    );
    assert_eq!(q.media.len(), 1);
    let m = &q.media[0];
    assert_eq!(m.kind, MediaKind::Photo);
    assert_eq!(
        m.url.as_deref(),
        Some("https://pbs.twimg.com/media/C805lT_XoAAHDZT.jpg")
    );
    assert_eq!((m.width, m.height), (Some(2048), Some(1365)));
    assert_eq!(m.alt_text, None);

    let profile = page.profile.expect("profile");
    assert_eq!(profile.handle, "andresegura");
    assert_eq!(
        profile.banner_url.as_deref(),
        Some("https://pbs.twimg.com/profile_banners/20944497/1491830455")
    );
}

/// A tweet in agntdata's flat shape, with some values in the odd types real answers use.
fn flat_tweet(id: u64, text: &str) -> Value {
    json!({
        "tweet_id": id,
        "creation_date": "Wed Oct 10 20:19:24 +0000 2018",
        "text": text,
        "media_url": [format!("https://pbs.twimg.com/media/P{id}.jpg?format=jpg&name=small")],
        "video_url": null,
        "user": { "user_id": 42, "username": "walker", "name": "Walker" },
        "favorite_count": "7",
        "views": "1,234",
        "retweet": false
    })
}

#[tokio::test]
async fn walks_three_pages_to_the_end() {
    let server = ScriptedServer::start().await.expect("server");
    let mut text_only = flat_tweet(99, "no media here");
    text_only["media_url"] = json!([]);
    server.push(
        FIRST,
        Reply::json(
            200,
            wrap(
                json!([flat_tweet(1, "one https://t.co/AAA"), text_only]),
                Some("T1"),
            ),
        ),
    );
    let mut rt = flat_tweet(3, "RT @other: three");
    rt["retweet_status"] = flat_tweet(30, "three");
    rt["retweet_status"]["user"] = json!({ "user_id": "7", "username": "other" });
    rt["retweet_status"]["views"] = Value::Null;
    rt["retweet_status"]["favorite_count"] = json!(70);
    rt["retweet_status"]["bookmark_count"] = json!(5);
    // agntdata may leave the wrapper's media to the retweeted status.
    rt["media_url"] = json!([]);
    server.push(
        NEXT,
        Reply::json(200, wrap(json!([flat_tweet(2, "two"), rt]), Some("T2"))),
    );
    server.push(
        NEXT,
        Reply::json(200, wrap(json!([flat_tweet(4, "four")]), Some(""))),
    );
    let p = provider(&server);
    let user = UserRef {
        handle: Some("walker".into()),
        id: Some("42".into()),
    };

    let mut cursor: Option<Cursor> = None;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let page = p.fetch_page(&user, cursor.as_ref()).await.expect("page");
        pages += 1;
        ids.extend(page.tweets.iter().map(|t| t.id.clone()));
        assert_eq!(
            page.profile.as_ref().map(|p| p.handle.as_str()),
            Some("walker")
        );
        if pages == 1 {
            let t = &page.tweets[0];
            assert_eq!(t.text, "one");
            assert_eq!(t.metrics.likes, Some(7));
            assert_eq!(t.metrics.views, Some(1234));
            assert_eq!(t.metrics.retweets, None);
            assert_eq!(t.created_at, date("2018-10-10T20:19:24Z"));
            assert_eq!(
                t.media[0].url.as_deref(),
                Some("https://pbs.twimg.com/media/P1.jpg?format=jpg")
            );
        }
        if pages == 2 {
            assert!(!page.tweets[0].is_retweet);
            let rt = &page.tweets[1];
            assert!(rt.is_retweet);
            assert_eq!(rt.author.handle.as_deref(), Some("walker"));
            assert_eq!(rt.text, "RT @other: three");
            assert_eq!(
                rt.media[0].url.as_deref(),
                Some("https://pbs.twimg.com/media/P30.jpg?format=jpg")
            );
            // The original's counts, the wrapper's where the original has none.
            assert_eq!(rt.metrics.likes, Some(70));
            assert_eq!(rt.metrics.bookmarks, Some(5));
            assert_eq!(rt.metrics.views, Some(1234));
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "runaway pagination");
    }

    assert_eq!(pages, 3);
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_post(&reqs[0], FIRST, json!({ "user_id": 42, "limit": 20 }));
    assert_post(
        &reqs[1],
        NEXT,
        json!({ "user_id": 42, "continuation_token": "T1", "limit": 20 }),
    );
    assert_post(
        &reqs[2],
        NEXT,
        json!({ "user_id": 42, "continuation_token": "T2", "limit": 20 }),
    );
}

// RELIABILITY D1 D2
#[tokio::test]
async fn an_echoed_token_or_an_empty_page_ends_the_walk() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        NEXT,
        Reply::json(200, wrap(json!([flat_tweet(1, "x")]), Some("SAME"))),
    );
    server.push(NEXT, Reply::json(200, wrap(json!([]), Some("MORE"))));
    server.push(FIRST, Reply::json(200, r#"{"results":null}"#));
    let p = provider(&server);
    let user = UserRef::id("42");

    assert_eq!(fetch(&p, &user, Some("SAME")).await.next_cursor, None);
    let empty = fetch(&p, &user, Some("OTHER")).await;
    assert!(empty.tweets.is_empty());
    assert_eq!(empty.next_cursor, None);
    let null = fetch(&p, &user, None).await;
    assert!(null.tweets.is_empty() && null.profile.is_none());
}

#[tokio::test]
async fn flat_media_url_and_video_url_are_fallbacks() {
    let server = ScriptedServer::start().await.expect("server");
    let mut video = flat_tweet(5, "clip https://t.co/VID");
    video["media_url"] = json!(["https://pbs.twimg.com/ext_tw_video_thumb/5/pu/img/poster.jpg"]);
    video["video_url"] = json!([
        { "bitrate": 256000, "content_type": "video/mp4", "url": "https://video.twimg.com/low.mp4" },
        { "content_type": "application/x-mpegURL", "url": "https://video.twimg.com/pl.m3u8" },
        { "bitrate": "2176000", "content_type": "video/mp4", "url": "https://video.twimg.com/high.mp4" }
    ]);
    let mut bare = flat_tweet(6, "bare");
    bare["media_url"] = Value::Null;
    bare["video_url"] = json!("https://video.twimg.com/only.mp4");
    let mut gif = flat_tweet(7, "gif");
    gif["media_url"] = json!("https://pbs.twimg.com/tweet_video_thumb/G.jpg");
    server.push(
        FIRST,
        Reply::json(200, wrap(json!([video, bare, gif]), None)),
    );
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("42"), None).await;

    assert_eq!(page.tweets.len(), 3);
    let v = &page.tweets[0];
    assert_eq!(v.text, "clip");
    let m = &v.media[0];
    assert_eq!(m.kind, MediaKind::Video);
    assert_eq!(
        m.url.as_deref(),
        Some("https://pbs.twimg.com/ext_tw_video_thumb/5/pu/img/poster.jpg")
    );
    assert_eq!(m.variants.len(), 3);
    assert_eq!(
        m.video_url.as_deref(),
        Some("https://video.twimg.com/high.mp4")
    );
    assert_eq!((m.width, m.height, m.duration_ms), (None, None, None));

    let b = &page.tweets[1].media[0];
    assert_eq!(b.kind, MediaKind::Video);
    assert_eq!(b.url, None);
    assert_eq!(
        b.video_url.as_deref(),
        Some("https://video.twimg.com/only.mp4")
    );

    let g = &page.tweets[2].media[0];
    assert_eq!(g.kind, MediaKind::Gif);
    assert_eq!(
        g.url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video_thumb/G.jpg")
    );
}

// RELIABILITY D11
#[tokio::test]
async fn odd_results_and_unknown_media_types_do_not_fail_the_page() {
    let server = ScriptedServer::start().await.expect("server");
    let mut mixed = flat_tweet(8, "mixed");
    mixed["extended_entities"] = json!({ "media": [
        { "type": "audio_space", "media_url_https": "https://pbs.twimg.com/a.jpg" },
        "not an object",
        { "type": "photo", "media_url_https": "https://pbs.twimg.com/media/ok.jpg?name=orig",
          "original_info": { "width": "640", "height": null }, "sizes": [] }
    ]});
    let mut broken = flat_tweet(9, "broken");
    broken["extended_entities"] = json!("nope");
    broken["user"] = json!(["not", "a", "user"]);
    broken["quoted_status"] = json!(17);
    broken["favorite_count"] = json!("1.2K");
    let only_unknown = json!({
        "tweet_id": "10",
        "extended_entities": { "media": [{ "type": "hologram" }] }
    });
    server.push(
        FIRST,
        Reply::json(
            200,
            wrap(
                json!([mixed, "garbage", 12, broken, only_unknown, { "no": "id" }]),
                Some("N"),
            ),
        ),
    );
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("42"), None).await;

    let ids: Vec<&str> = page.tweets.iter().map(|t| t.id.as_str()).collect();
    // The tweet whose only media is of an unknown type stays, as a placeholder (D11).
    assert_eq!(ids, ["8", "9", "10"]);
    let m = &page.tweets[0].media;
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].kind, MediaKind::Other);
    assert_eq!(m[0].type_name.as_deref(), Some("audio_space"));
    assert_eq!(m[0].url.as_deref(), Some("https://pbs.twimg.com/a.jpg"));
    assert_eq!(
        m[1].url.as_deref(),
        Some("https://pbs.twimg.com/media/ok.jpg")
    );
    assert_eq!((m[1].width, m[1].height), (None, None));
    let only = &page.tweets[2].media;
    assert_eq!(only.len(), 1);
    assert_eq!(
        (
            only[0].kind,
            only[0].type_name.as_deref(),
            only[0].url.as_deref()
        ),
        (MediaKind::Other, Some("hologram"), None)
    );
    let broken = &page.tweets[1];
    assert_eq!(broken.metrics.likes, None);
    assert_eq!(broken.author.handle, None);
    assert_eq!(broken.url, "https://x.com/i/status/9");
    assert!(broken.quoted.is_none());
    assert_eq!(page.warnings.len(), 1, "{:?}", page.warnings);
    assert_eq!(page.next_cursor, Some(Cursor("N".into())));
}

#[tokio::test]
async fn needs_a_numeric_user_id_and_has_no_lookup() {
    let server = ScriptedServer::start().await.expect("server");
    let p = provider(&server);
    assert!(p.needs_user_id());
    assert_eq!(p.kind(), ProviderKind::Agntdata);
    assert_eq!(p.lookup_user("nasa").await, Ok(None));

    for user in [UserRef::handle("@nasa"), UserRef::id("nasa")] {
        let err = p.fetch_page(&user, None).await.expect_err("no id");
        assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("--user-id ID"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
    assert!(server.requests().is_empty(), "nothing sent without an id");
}

/// Scripts `reply` for the first page with the sentinel key and returns the error.
async fn error_for(reply: Reply) -> ProviderError {
    let server = ScriptedServer::start().await.expect("server");
    server.push(FIRST, reply);
    let p = provider_with_key(&server, SENTINEL);
    let err = p
        .fetch_page(&UserRef::id("44196397"), None)
        .await
        .expect_err("error");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "exactly one request, no retry");
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer SENTINEL-KEY-123")
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SENTINEL), "key leaked: {shown}");
    err
}

// RELIABILITY C9
#[tokio::test]
async fn auth_and_credit_errors_map_by_code_whatever_the_status() {
    let unauthorized =
        r#"{"success":false,"error":{"code":"UNAUTHORIZED","message":"Invalid API key"}}"#;
    let credits = r#"{"success":false,"error":{"code":"INSUFFICIENT_CREDITS","message":"Insufficient credits"}}"#;
    for status in [401, 403] {
        let e = error_for(Reply::json(status, unauthorized)).await;
        assert!(matches!(e, ProviderError::Unauthorized { .. }), "{e:?}");
        assert!(e.to_string().contains("Invalid API key"), "{e}");
        assert!(e.to_string().contains("XMEDIA_AGNTDATA_KEY"), "{e}");
        assert!(!e.is_retryable());
        assert_eq!(e.exit_code(), 3);
    }
    for status in [402, 403, 401] {
        let e = error_for(Reply::json(status, credits)).await;
        assert!(matches!(e, ProviderError::QuotaExhausted { .. }), "{e:?}");
        assert!(e.to_string().contains("Insufficient credits"), "{e}");
        assert!(!e.is_retryable());
    }
    // An error envelope with a 200 is still an error, not an empty timeline.
    let e = error_for(Reply::json(200, credits)).await;
    assert!(matches!(e, ProviderError::QuotaExhausted { .. }), "{e:?}");
    // A bare 401 without a body.
    let e = error_for(Reply::text(401, "")).await;
    assert!(matches!(e, ProviderError::Unauthorized { .. }), "{e:?}");
}

// RELIABILITY F9 C19
#[tokio::test]
async fn an_echoed_key_is_redacted() {
    let body = format!(
        r#"{{"success":false,"error":{{"code":"UNAUTHORIZED","message":"key {SENTINEL} is not valid"}}}}"#
    );
    let e = error_for(Reply::json(401, body)).await;
    assert!(matches!(e, ProviderError::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("key *** is not valid"), "{e}");
    let e = error_for(Reply::text(500, format!("upstream said {SENTINEL}"))).await;
    assert!(matches!(e, ProviderError::Upstream { .. }), "{e:?}");
}

// RELIABILITY C10
#[tokio::test]
async fn validation_errors_are_readable() {
    let body = r#"{"detail":[{"loc":["body","user_id"],"msg":"field required","type":"value_error.missing"},
        {"loc":["body","limit"],"msg":"value is not a valid integer","type":"type_error.integer"}]}"#;
    let e = error_for(Reply::json(422, body)).await;
    match &e {
        ProviderError::InvalidRequest { message, .. } => assert_eq!(
            message,
            "user_id: field required; limit: value is not a valid integer"
        ),
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());

    // The documented example: every field empty.
    let e = error_for(Reply::json(
        422,
        r#"{"detail":[{"loc":[],"msg":"","type":""}]}"#,
    ))
    .await;
    match &e {
        ProviderError::InvalidRequest { message, .. } => {
            assert_eq!(message, "validation failed (HTTP 422)")
        }
        other => panic!("{other:?}"),
    }

    let e = error_for(Reply::json(
        422,
        r#"{"success":false,"error":{"code":"VALIDATION_ERROR","message":"Invalid body","details":[{"loc":["user_id"],"msg":"must be positive","type":"x"}]}}"#,
    ))
    .await;
    match &e {
        ProviderError::InvalidRequest { message, .. } => {
            assert_eq!(message, "Invalid body: user_id: must be positive")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rate_limits_not_found_and_server_errors() {
    let e = error_for(
        Reply::json(
            429,
            r#"{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}"#,
        )
        .header("retry-after", "30"),
    )
    .await;
    match e {
        ProviderError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(30)))
        }
        other => panic!("{other:?}"),
    }

    let e = error_for(Reply::text(429, "Too Many Requests")).await;
    assert!(
        matches!(
            e,
            ProviderError::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());

    let e = error_for(Reply::json(404, r#"{"detail":"Not Found"}"#)).await;
    match &e {
        ProviderError::NotFound { what, .. } => assert_eq!(what, "user 44196397"),
        other => panic!("{other:?}"),
    }

    let e = error_for(Reply::json(500, r#"{"detail":"Internal Server Error"}"#)).await;
    match &e {
        ProviderError::Upstream {
            status, message, ..
        } => {
            assert_eq!(*status, Some(500));
            assert_eq!(message, "Internal Server Error");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());

    let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>\
                <h1>502 Bad Gateway</h1><script>x()</script></body></html>";
    let e = error_for(Reply::text(502, html).header("content-type", "text/html")).await;
    match &e {
        ProviderError::Upstream {
            status, message, ..
        } => {
            assert_eq!(*status, Some(502));
            assert_eq!(message, "502 Bad Gateway");
        }
        other => panic!("{other:?}"),
    }
    let e = error_for(Reply::text(503, "<html><body>down</body></html>")).await;
    match &e {
        ProviderError::Upstream { message, .. } => assert!(!message.contains('<'), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn malformed_and_wrongly_shaped_bodies_are_bad_responses() {
    let cases = [
        Reply::json(200, r#"{"results":[{"tweet_id":"1""#),
        Reply::text(
            200,
            "<!DOCTYPE html><html><body>Just a moment...</body></html>",
        ),
        Reply::json(200, ""),
        Reply::json(200, r#"{"data":[]}"#),
        Reply::json(200, "[]"),
        Reply::json(200, r#"{"results":{"tweet_id":"1"}}"#),
        Reply::json(200, r#""results""#),
    ];
    for reply in cases {
        let body = String::from_utf8_lossy(&reply.body).to_string();
        let e = error_for(reply).await;
        match &e {
            ProviderError::BadResponse { detail, .. } => {
                assert!(detail.len() < 120, "{detail}");
                assert!(!detail.contains("moment"), "{detail}");
            }
            other => panic!("{body}: {other:?}"),
        }
        assert!(!e.is_retryable());
    }
}

// RELIABILITY F4
#[tokio::test]
async fn a_key_that_cannot_go_in_a_header_is_a_config_error() {
    let server = ScriptedServer::start().await.expect("server");
    let p = provider_with_key(&server, "SENTINEL-KEY-123 with space");
    let err = p
        .fetch_page(&UserRef::id("42"), None)
        .await
        .expect_err("bad key");
    assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(SENTINEL));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn terminal_escapes_in_the_payload_are_removed() {
    let server = ScriptedServer::start().await.expect("server");
    let mut t = flat_tweet(11, "hi \u{1b}]52;c;SGVsbG8=\u{7}there");
    t["extended_entities"] = json!({ "media": [
        { "type": "photo\u{1b}[2J", "media_url_https": "https://pbs.twimg.com/media/x.jpg" },
        { "type": "photo", "media_url_https": "https://pbs.twimg.com/media/y.jpg",
          "ext_alt_text": "alt\u{1b}[31m red" }
    ]});
    t["user"]["name"] = json!("Evil\u{1b}[2J Name");
    server.push(FIRST, Reply::json(200, wrap(json!([t]), None)));
    let p = provider(&server);

    let page = fetch(&p, &UserRef::id("42"), None).await;

    let t = &page.tweets[0];
    assert_eq!(t.text, "hi there");
    // The odd type is kept as a placeholder, its name cleaned like any other text.
    assert_eq!(t.media.len(), 2);
    assert_eq!(t.media[0].kind, MediaKind::Other);
    assert_eq!(t.media[0].type_name.as_deref(), Some("photo"));
    assert_eq!(t.media[1].alt_text.as_deref(), Some("alt red"));
    assert_eq!(t.author.name.as_deref(), Some("Evil Name"));
    let profile = page.profile.expect("profile");
    assert_eq!(profile.name.as_deref(), Some("Evil Name"));
}
