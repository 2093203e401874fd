//! The X API v2 adapter against a scripted loopback server fed with recorded API responses.

use std::time::Duration;

use serde_json::{Value, json};
use xmedia::domain::{Cursor, MediaKind, Page, ProviderKind, UserRef};
use xmedia::error::ProviderError;
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::provider::{AnyProvider, Provider, ProviderConfig};
use xmedia::secret::Secret;
use xmedia::testing::{Reply, ScriptedServer};

const USER_ID: &str = "2351222345";
const TWEETS_PATH: &str = "/2/users/2351222345/tweets";
/// A real page of user USER_ID: media, a GIF, a video, retweets, replies and a partial error.
const MIXED_PAGE: &str = "users_tweets_page_media_gif_video_rt_reply_error.json";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/xapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// A Postman saved response: (status, headers, exact body).
fn postman(name: &str) -> (u16, Vec<(String, String)>, String) {
    let v: Value = serde_json::from_str(&fixture(name)).expect("postman json");
    let status = v["status"].as_u64().expect("status") as u16;
    let headers = v["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        // The saved body is already decoded; its encoding/length headers no longer apply.
        .filter(|(k, _)| k != "content-encoding" && k != "content-length")
        .collect();
    let body = v["body_text"].as_str().expect("body_text").to_string();
    (status, headers, body)
}

fn postman_reply(name: &str) -> Reply {
    let (status, headers, body) = postman(name);
    let mut reply = Reply::json(status, body);
    reply.headers = headers;
    reply
}

async fn provider_with(key: &str, include_retweets: bool) -> (ScriptedServer, AnyProvider) {
    let server = ScriptedServer::start().await.expect("server");
    let config = ProviderConfig {
        kind: ProviderKind::Xapi,
        base_url: server.base_url().parse().expect("url"),
        key: Secret::new(key).expect("key"),
        page_size: 100,
        include_retweets,
    };
    let provider = AnyProvider::new(config, HttpClient::new(&HttpConfig::default()));
    (server, provider)
}

async fn provider(include_retweets: bool) -> (ScriptedServer, AnyProvider) {
    provider_with("test-key", include_retweets).await
}

/// Serves the fixture `name` as the first page of user `id`'s tweets and fetches it.
async fn recorded_page(server: &ScriptedServer, p: &AnyProvider, id: &str, name: &str) -> Page {
    one_page(server, p, id, Reply::json(200, fixture(name))).await
}

/// Serves `reply` as the first page of user `id`'s tweets and fetches it.
async fn one_page(server: &ScriptedServer, p: &AnyProvider, id: &str, reply: Reply) -> Page {
    server.push(&format!("/2/users/{id}/tweets"), reply);
    p.fetch_page(&UserRef::id(id), None).await.expect("page")
}

// ---------------------------------------------------------------------------------------------
// Recorded pages

#[tokio::test]
async fn real_users_tweets_page_keeps_own_media_tweets_and_reports_errors() {
    let (server, p) = provider(false).await;
    let page = recorded_page(&server, &p, USER_ID, MIXED_PAGE).await;

    // 100 tweets: 34 retweets dropped, and of the rest only 4 carry media.
    let ids: Vec<&str> = page.tweets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "1256945149231484928",
            "1256614037586132992",
            "1255161920123961344",
            "1254825061472702467"
        ]
    );
    assert!(page.tweets.iter().all(|t| !t.is_retweet));

    let photo = &page.tweets[0];
    assert_eq!(photo.text, "Good morning #twitter");
    assert_eq!(
        photo.url,
        "https://x.com/PhillyNEFL/status/1256945149231484928"
    );
    assert_eq!(photo.author.handle.as_deref(), Some("PhillyNEFL"));
    assert_eq!(photo.author.id.as_deref(), Some(USER_ID));
    assert_eq!(photo.lang.as_deref(), Some("en"));
    assert_eq!(photo.sensitive, Some(false));
    assert_eq!(
        photo.created_at.map(|d| d.to_rfc3339()),
        Some("2020-05-03T13:54:11+00:00".to_string())
    );
    assert_eq!(photo.metrics.likes, Some(4));
    assert_eq!(photo.metrics.replies, Some(1));
    assert_eq!(photo.metrics.retweets, Some(0));
    assert_eq!(photo.metrics.quotes, Some(0));
    // Not requested in 2021: unknown, not zero.
    assert_eq!(photo.metrics.views, None);
    assert_eq!(photo.metrics.bookmarks, None);
    assert_eq!(photo.media.len(), 1);
    let m = &photo.media[0];
    assert_eq!(m.kind, MediaKind::Photo);
    assert_eq!(
        m.url.as_deref(),
        Some("https://pbs.twimg.com/media/EXGQ8XgXkAA5YQF.jpg")
    );
    assert_eq!((m.width, m.height), (Some(2048), Some(996)));
    assert!(m.variants.is_empty());
    assert_eq!(m.video_url, None);

    let gif = &page.tweets[1];
    assert_eq!(gif.reply_to.as_deref(), Some("1256585646216564737"));
    assert_eq!(gif.media[0].kind, MediaKind::Gif);
    assert_eq!(
        gif.media[0].url.as_deref(),
        Some("https://pbs.twimg.com/tweet_video_thumb/EXBjzZTWsAArsOz.jpg")
    );
    assert!(!gif.text.contains("t.co"), "{}", gif.text);

    let profile = page.profile.as_ref().expect("profile from includes.users");
    assert_eq!(profile.handle, "PhillyNEFL");
    assert_eq!(profile.followers, Some(443));
    assert_eq!(profile.following, Some(809));
    assert_eq!(profile.tweets, Some(15121));

    assert_eq!(page.warnings.len(), 1);
    assert!(
        page.warnings[0].contains("Not Found Error")
            && page.warnings[0].contains("1252320537600299008"),
        "{:?}",
        page.warnings
    );
    assert_eq!(
        page.next_cursor,
        Some(Cursor(
            "7140dibdnow9c7btw3t3bne6afapt2a6nif3ncl044raq".into()
        ))
    );
}

#[tokio::test]
async fn real_users_tweets_page_with_retweets_included() {
    let (server, p) = provider(true).await;
    let page = recorded_page(&server, &p, USER_ID, MIXED_PAGE).await;
    // 4 own + 15 retweets whose media is in includes.media.
    assert_eq!(page.tweets.len(), 19);
    assert_eq!(page.tweets.iter().filter(|t| t.is_retweet).count(), 15);
    let rt = page
        .tweets
        .iter()
        .find(|t| t.id == "1252393618570006529")
        .expect("four-photo retweet");
    assert!(rt.is_retweet);
    assert_eq!(rt.media.len(), 4);
    assert!(rt.media.iter().all(|m| m.kind == MediaKind::Photo));
    let video = page
        .tweets
        .iter()
        .find(|t| t.id == "1257123246484447232")
        .expect("video retweet");
    let v = &video.media[0];
    assert_eq!(v.kind, MediaKind::Video);
    assert_eq!(v.duration_ms, Some(55334));
    assert_eq!(
        v.url.as_deref(),
        Some(
            "https://pbs.twimg.com/amplify_video_thumb/1257090303334338561/img/UI7Cw1B9xb896hgO.jpg"
        )
    );
    // This 2021 page predates `variants`.
    assert!(v.variants.is_empty() && v.video_url.is_none());
}

#[tokio::test]
async fn video_variants_keep_hls_and_pick_the_best_mp4() {
    let (server, p) = provider(false).await;
    let page = recorded_page(
        &server,
        &p,
        "495430242",
        "tweet_lookup_video_with_variants.json",
    )
    .await;
    assert_eq!(page.tweets.len(), 1);
    let t = &page.tweets[0];
    assert_eq!(t.text, "She's GOING with it! 🐍");
    assert_eq!(
        t.url,
        "https://x.com/IgorBrigadir/status/1558553189766631429"
    );
    assert_eq!(t.metrics.likes, Some(93));
    assert_eq!(t.metrics.views, None);
    let m = &t.media[0];
    assert_eq!(m.kind, MediaKind::Video);
    assert_eq!(m.duration_ms, Some(71292));
    assert_eq!((m.width, m.height), (Some(1280), Some(720)));
    assert_eq!(
        m.url.as_deref(),
        Some(
            "https://pbs.twimg.com/ext_tw_video_thumb/1558552952549277696/pu/img/7VaQu-AvReI8RHkv.jpg"
        )
    );
    assert_eq!(m.variants.len(), 4);
    let mp4s = m
        .variants
        .iter()
        .filter(|v| v.content_type.as_deref() == Some("video/mp4"))
        .count();
    assert_eq!(mp4s, 3);
    let hls = m
        .variants
        .iter()
        .find(|v| v.content_type.as_deref() == Some("application/x-mpegURL"))
        .expect("hls");
    assert_eq!(hls.bitrate, None);
    assert_eq!(
        m.video_url.as_deref(),
        Some(
            "https://video.twimg.com/ext_tw_video/1558552952549277696/pu/vid/1280x720/WiZrNZKT2lMzK5zA.mp4?tag=12"
        )
    );
    assert!(page.next_cursor.is_none());
    assert!(page.warnings.is_empty());
}

// RELIABILITY D12
#[tokio::test]
async fn media_example_text_expands_links_and_drops_the_media_link() {
    let (server, p) = provider(false).await;
    let page = recorded_page(
        &server,
        &p,
        "2244994945",
        "twitter-v2-rs_example_with_media_video.json",
    )
    .await;
    let t = &page.tweets[0];
    assert!(!t.text.contains("https://t.co/"), "{}", t.text);
    assert!(!t.text.contains("pic.twitter.com"), "{}", t.text);
    assert!(t.text.contains("https://blog.twitter.com/"), "{}", t.text);
    assert_eq!(t.media[0].kind, MediaKind::Video);
    assert_eq!(t.metrics.quotes, Some(333));
    assert_eq!(
        page.profile.map(|p| p.handle).as_deref(),
        Some("TwitterDev")
    );
}

#[tokio::test]
async fn quote_without_media_is_dropped_and_quoted_media_is_joined() {
    // The real quote example: neither tweet has media, so nothing is kept.
    let (server, p) = provider(false).await;
    let page = recorded_page(
        &server,
        &p,
        "2244994945",
        "twitter-v2-rs_example_quote.json",
    )
    .await;
    assert!(page.tweets.is_empty());

    // The same response with the recorded video attached to the quoted tweet (derived in-test).
    let mut quote: Value =
        serde_json::from_str(&fixture("twitter-v2-rs_example_quote.json")).expect("json");
    let video: Value =
        serde_json::from_str(&fixture("twitter-v2-rs_example_with_media_video.json"))
            .expect("json");
    quote["includes"]["tweets"][0]["attachments"] =
        json!({"media_keys": ["7_1293565706408038401"]});
    quote["includes"]["media"] = video["includes"]["media"].clone();
    let page = one_page(
        &server,
        &p,
        "2244994945",
        Reply::json(200, quote.to_string()),
    )
    .await;
    assert_eq!(page.tweets.len(), 1);
    let t = &page.tweets[0];
    assert_eq!(t.id, "1328399838128467969");
    assert!(t.media.is_empty());
    assert!(!t.is_retweet);
    assert!(
        t.text
            .ends_with("https://twitter.com/TwitterDev/status/1327011423252144128"),
        "{}",
        t.text
    );
    let q = t.quoted.as_ref().expect("quoted");
    assert_eq!(q.id, "1327011423252144128");
    assert_eq!(q.author.handle.as_deref(), Some("TwitterDev"));
    assert_eq!(q.url, "https://x.com/TwitterDev/status/1327011423252144128");
    assert_eq!(q.media.len(), 1);
    assert_eq!(q.media[0].kind, MediaKind::Video);
    assert_eq!(q.media[0].duration_ms, Some(34875));
}

#[tokio::test]
async fn retweet_examples_are_excluded_unless_asked_for() {
    for name in [
        "twitter-v2-rs_example_retweet.json",
        "twitter-v2-rs_example_retweeted_quote.json",
    ] {
        let (server, p) = provider(false).await;
        server.push(
            "/2/users/2244994945/tweets",
            Reply::json(200, fixture(name)),
        );
        let page = p
            .fetch_page(&UserRef::id("2244994945"), None)
            .await
            .expect("page");
        assert!(page.tweets.is_empty(), "{name}");
        let req = &server.requests()[0];
        assert_eq!(req.query_param("exclude").as_deref(), Some("retweets"));
    }

    // Included: the retweet of a recorded tweet with media (derived in-test) is kept and flagged.
    let (server, p) = provider(true).await;
    let mut rt: Value =
        serde_json::from_str(&fixture("twitter-v2-rs_example_retweet.json")).expect("json");
    let video: Value =
        serde_json::from_str(&fixture("twitter-v2-rs_example_with_media_video.json"))
            .expect("json");
    rt["includes"]["tweets"][0]["attachments"] = json!({"media_keys": ["7_1293565706408038401"]});
    rt["includes"]["media"] = video["includes"]["media"].clone();
    let page = one_page(&server, &p, "2244994945", Reply::json(200, rt.to_string())).await;
    assert_eq!(server.requests()[0].query_param("exclude"), None);
    assert_eq!(page.tweets.len(), 1);
    let t = &page.tweets[0];
    assert!(t.is_retweet);
    assert_eq!(t.id, "1229851574555508737");
    assert_eq!(t.author.handle.as_deref(), Some("TwitterDev"));
    assert_eq!(t.media[0].kind, MediaKind::Video);
}

#[tokio::test]
async fn suspended_mention_in_search_shaped_page_is_only_a_warning() {
    let (server, p) = provider(true).await;
    server.push(
        "/2/users/1433267766912557062/tweets",
        Reply::json(
            200,
            fixture("search_recent_video_gif_photo_suspended_mention_error.json"),
        ),
    );
    let page = p
        .fetch_page(&UserRef::id("1433267766912557062"), None)
        .await
        .expect("page, not an error");
    assert!(!page.tweets.is_empty());
    assert!(
        page.tweets
            .iter()
            .all(|t| !t.media.is_empty() || t.quoted.as_ref().is_some_and(|q| !q.media.is_empty()))
    );
    assert!(
        page.warnings
            .iter()
            .any(|w| w.contains("User has been suspended: [leeseunggi]")),
        "{:?}",
        page.warnings
    );
    assert_eq!(
        page.next_cursor.map(|c| c.0).as_deref(),
        Some("b26v89c19zqg8o3fpds60ssjlg8rrux0bxoa7beulbhbx")
    );
}

#[tokio::test]
async fn default_fields_page_without_media_is_empty_with_cursor() {
    let (server, p) = provider(false).await;
    server.push(
        "/2/users/783214/tweets",
        Reply::json(200, fixture("tweepy_users_tweets_default_fields.body.json")),
    );
    let page = p
        .fetch_page(&UserRef::id("783214"), None)
        .await
        .expect("page");
    assert!(page.tweets.is_empty());
    assert!(page.profile.is_none());
    assert_eq!(
        page.next_cursor.map(|c| c.0).as_deref(),
        Some("7140dibdnow9c7btw4232poeq0wapgnwgwqwvuwn3peex")
    );
}

// RELIABILITY D7
#[tokio::test]
async fn errors_only_200_is_an_empty_page_with_warnings() {
    let (server, p) = provider(false).await;
    server.push(
        TWEETS_PATH,
        postman_reply("postman_tweet_not_found_errors_only.response.json"),
    );
    let page = p
        .fetch_page(&UserRef::id(USER_ID), None)
        .await
        .expect("empty page");
    assert!(page.tweets.is_empty());
    assert!(page.next_cursor.is_none());
    assert_eq!(
        page.warnings,
        ["Not Found Error: Could not find tweet with id: [1276230436478386177]."]
    );
}

// RELIABILITY C12
#[tokio::test]
async fn partial_data_plus_errors_keeps_data_and_warns() {
    let (server, p) = provider(false).await;
    // The recorded body, with the kept tweet given the recorded video so it survives the media
    // filter (derived in-test).
    let (_, _, body) = postman("postman_partial_data_plus_errors.response.json");
    let mut v: Value = serde_json::from_str(&body).expect("json");
    let video: Value =
        serde_json::from_str(&fixture("twitter-v2-rs_example_with_media_video.json"))
            .expect("json");
    v["data"][0]["attachments"] = json!({"media_keys": ["7_1293565706408038401"]});
    v["includes"] = json!({"media": video["includes"]["media"].clone()});
    server.push(TWEETS_PATH, Reply::json(200, v.to_string()));
    let page = p
        .fetch_page(&UserRef::id(USER_ID), None)
        .await
        .expect("page");
    assert_eq!(page.tweets.len(), 1);
    assert_eq!(page.tweets[0].text, "just setting up my twttr");
    assert_eq!(page.tweets[0].url, "https://x.com/i/status/20");
    assert_eq!(page.warnings.len(), 1);
    assert!(page.warnings[0].contains("1276230436478386177"));

    // And the body exactly as recorded: the data has no media, the warning still comes through.
    server.push(
        TWEETS_PATH,
        postman_reply("postman_partial_data_plus_errors.response.json"),
    );
    let page = p
        .fetch_page(&UserRef::id(USER_ID), None)
        .await
        .expect("page");
    assert!(page.tweets.is_empty());
    assert_eq!(page.warnings.len(), 1);
}

#[tokio::test]
async fn errors_only_about_the_requested_user_are_typed() {
    let cases = [
        (
            json!({"errors": [{"value": USER_ID, "detail": format!("User has been suspended: [{USER_ID}]."),
                "title": "Forbidden", "resource_type": "user", "parameter": "id", "resource_id": USER_ID,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}),
            "suspended",
        ),
        (
            json!({"errors": [{"value": USER_ID, "detail": format!("Sorry, you are not authorized to see the user with id: [{USER_ID}]."),
                "title": "Authorization Error", "resource_type": "user", "parameter": "id", "resource_id": USER_ID,
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]}),
            "protected",
        ),
        (
            json!({"errors": [{"value": USER_ID, "detail": format!("Could not find user with id: [{USER_ID}]."),
                "title": "Not Found Error", "resource_type": "user", "parameter": "id", "resource_id": USER_ID,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}),
            "not found",
        ),
    ];
    for (body, want) in cases {
        let (server, p) = provider(false).await;
        server.push(TWEETS_PATH, Reply::json(200, body.to_string()));
        let e = p
            .fetch_page(&UserRef::id(USER_ID), None)
            .await
            .expect_err("typed error");
        let ok = match want {
            "suspended" => matches!(e, ProviderError::Suspended { .. }),
            "protected" => matches!(e, ProviderError::Protected { .. }),
            _ => matches!(e, ProviderError::NotFound { .. }),
        };
        assert!(ok, "{want}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// User lookup

#[tokio::test]
async fn lookup_user_maps_every_field() {
    let (server, p) = provider(false).await;
    server.push(
        "/2/users/by/username/TwitterDev",
        Reply::json(200, fixture("user_lookup_all_fields.json")),
    );
    let profile = p
        .lookup_user("@TwitterDev")
        .await
        .expect("lookup")
        .expect("profile");
    assert_eq!(profile.id.as_deref(), Some("2244994945"));
    assert_eq!(profile.handle, "TwitterDev");
    assert_eq!(profile.name.as_deref(), Some("X Dev"));
    assert_eq!(profile.followers, Some(507902));
    assert_eq!(profile.following, Some(1863));
    assert_eq!(profile.tweets, Some(3561));
    assert_eq!(profile.media_count, None);
    assert_eq!(profile.verified, Some(true));
    assert_eq!(profile.verified_type.as_deref(), Some("business"));
    let a = profile.affiliate.as_ref().expect("affiliate");
    assert_eq!(a.label.as_deref(), Some("X"));
    assert_eq!(a.url.as_deref(), Some("https://x.com/X"));
    assert!(
        a.badge_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://pbs.twimg.com/"))
    );
    assert_eq!(profile.location.as_deref(), Some("127.0.0.1"));
    assert_eq!(profile.protected, Some(false));
    assert!(profile.bio.as_deref().is_some_and(|b| b.contains("X API")));
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1267175364003901441/tBZNFAgA_normal.jpg")
    );
    assert_eq!(
        profile.banner_url.as_deref(),
        Some("https://pbs.twimg.com/profile_banners/1716450569358098432/1721022977")
    );
    assert_eq!(
        profile.created_at.map(|d| d.to_rfc3339()),
        Some("2013-12-14T04:35:55+00:00".to_string())
    );

    let req = &server.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/2/users/by/username/TwitterDev");
    assert_eq!(req.header("authorization"), Some("Bearer test-key"));
    let fields = req.query_param("user.fields").expect("user.fields");
    for f in [
        "id",
        "name",
        "username",
        "public_metrics",
        "affiliation",
        "verified",
        "verified_type",
        "profile_image_url",
        "profile_banner_url",
        "description",
        "location",
        "created_at",
        "protected",
    ] {
        assert!(fields.split(',').any(|x| x == f), "{f} missing in {fields}");
    }
}

#[tokio::test]
async fn lookup_user_media_count_and_missing_user() {
    let (server, p) = provider(false).await;
    server.push(
        "/2/users/by/username/someone",
        Reply::json(
            200,
            json!({"data": {"id": "42", "username": "someone", "name": "Some One",
                "public_metrics": {"followers_count": 1, "following_count": 2, "tweet_count": 3, "media_count": 4}}})
            .to_string(),
        ),
    );
    let profile = p.lookup_user("someone").await.expect("ok").expect("some");
    assert_eq!(profile.media_count, Some(4));
    assert_eq!(profile.affiliate, None);
    assert_eq!(profile.verified_type, None);

    server.push(
        "/2/users/by/username/nobody",
        Reply::json(
            200,
            json!({"errors": [{"value": "nobody", "detail": "Could not find user with username: [nobody].",
                "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                "resource_id": "nobody", "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
            .to_string(),
        ),
    );
    let e = p.lookup_user("nobody").await.expect_err("not found");
    assert!(matches!(e, ProviderError::NotFound { .. }), "{e:?}");

    server.push(
        "/2/users/by/username/gone",
        Reply::json(
            200,
            json!({"errors": [{"value": "gone", "detail": "User has been suspended: [gone].",
                "title": "Forbidden", "resource_type": "user", "parameter": "username",
                "resource_id": "gone", "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
            .to_string(),
        ),
    );
    let e = p.lookup_user("gone").await.expect_err("suspended");
    assert!(matches!(e, ProviderError::Suspended { .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Request shape and paging

fn media_page(ids: &[&str], next: Option<&str>) -> String {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"id": id, "text": format!("tweet {id} https://t.co/m{id}"), "author_id": "42",
                "attachments": {"media_keys": [format!("3_{id}")]},
                "entities": {"urls": [{"url": format!("https://t.co/m{id}"),
                    "expanded_url": format!("https://x.com/someone/status/{id}/photo/1"),
                    "display_url": format!("pic.x.com/m{id}"), "media_key": format!("3_{id}")}]},
                "public_metrics": {"like_count": 1, "retweet_count": 2, "reply_count": 3, "quote_count": 4,
                    "bookmark_count": 5, "impression_count": 600}})
        })
        .collect();
    let media: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"media_key": format!("3_{id}"), "type": "photo",
            "url": format!("https://pbs.twimg.com/media/{id}.jpg"), "width": 10, "height": 20,
            "alt_text": "alt"})
        })
        .collect();
    let mut meta = json!({"result_count": ids.len()});
    if let Some(n) = next {
        meta["next_token"] = json!(n);
    }
    json!({"data": data,
        "includes": {"media": media, "users": [{"id": "42", "username": "someone", "name": "Some One"}]},
        "meta": meta})
    .to_string()
}

#[tokio::test]
async fn handle_is_resolved_once_and_three_pages_walk_to_the_end() {
    let (server, p) = provider(false).await;
    assert!(p.needs_user_id());
    server.push(
        "/2/users/by/username/someone",
        Reply::json(
            200,
            json!({"data": {"id": "42", "username": "someone"}}).to_string(),
        ),
    );
    server.push(
        "/2/users/42/tweets",
        Reply::json(200, media_page(&["3", "2"], Some("tok-1"))),
    );
    server.push(
        "/2/users/42/tweets",
        Reply::json(200, media_page(&["1"], Some("tok-2"))),
    );
    server.push(
        "/2/users/42/tweets",
        Reply::json(200, media_page(&["0"], None)),
    );

    let user = UserRef::handle("@someone");
    let mut cursor: Option<Cursor> = None;
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = p.fetch_page(&user, cursor.as_ref()).await.expect("page");
        pages += 1;
        all.extend(page.tweets);
        cursor = page.next_cursor;
        if cursor.is_none() || pages > 5 {
            break;
        }
    }
    assert_eq!(pages, 3);
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["3", "2", "1", "0"]);
    let t = &all[0];
    assert_eq!(t.text, "tweet 3");
    assert_eq!(t.url, "https://x.com/someone/status/3");
    assert_eq!(t.metrics.bookmarks, Some(5));
    assert_eq!(t.metrics.views, Some(600));
    assert_eq!(t.media[0].alt_text.as_deref(), Some("alt"));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "one lookup + three pages");
    assert_eq!(reqs[0].path, "/2/users/by/username/someone");
    for r in &reqs {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("authorization"), Some("Bearer test-key"));
    }
    let first = &reqs[1];
    assert_eq!(first.path, "/2/users/42/tweets");
    assert_eq!(first.query_param("max_results").as_deref(), Some("100"));
    assert_eq!(first.query_param("pagination_token"), None);
    assert_eq!(first.query_param("exclude").as_deref(), Some("retweets"));
    let expansions = first.query_param("expansions").expect("expansions");
    for e in [
        "attachments.media_keys",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "author_id",
    ] {
        assert!(expansions.split(',').any(|x| x == e), "{e} in {expansions}");
    }
    let tf = first.query_param("tweet.fields").expect("tweet.fields");
    for f in [
        "created_at",
        "lang",
        "public_metrics",
        "entities",
        "attachments",
        "referenced_tweets",
        "in_reply_to_user_id",
        "possibly_sensitive",
        "author_id",
    ] {
        assert!(tf.split(',').any(|x| x == f), "{f} in {tf}");
    }
    let mf = first.query_param("media.fields").expect("media.fields");
    for f in [
        "media_key",
        "type",
        "url",
        "preview_image_url",
        "width",
        "height",
        "alt_text",
        "duration_ms",
        "variants",
        "public_metrics",
    ] {
        assert!(mf.split(',').any(|x| x == f), "{f} in {mf}");
    }
    assert!(
        first
            .query_param("user.fields")
            .is_some_and(|u| u.contains("affiliation"))
    );
    assert_eq!(
        reqs[2].query_param("pagination_token").as_deref(),
        Some("tok-1")
    );
    assert_eq!(
        reqs[3].query_param("pagination_token").as_deref(),
        Some("tok-2")
    );
}

#[tokio::test]
async fn page_size_is_clamped_to_the_api_range() {
    for (size, want) in [(1u32, "5"), (50, "50"), (500, "100")] {
        let server = ScriptedServer::start().await.expect("server");
        let config = ProviderConfig {
            kind: ProviderKind::Xapi,
            base_url: server.base_url().parse().expect("url"),
            key: Secret::new("test-key").expect("key"),
            page_size: size,
            include_retweets: false,
        };
        let p = AnyProvider::new(config, HttpClient::new(&HttpConfig::default()));
        server.push(
            "/2/users/42/tweets",
            Reply::json(200, media_page(&[], None)),
        );
        p.fetch_page(&UserRef::id("42"), None).await.expect("page");
        assert_eq!(
            server.requests()[0].query_param("max_results").as_deref(),
            Some(want)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Error mapping

const SENTINEL: &str = "SENTINEL-KEY-123";

async fn error_for(reply: Reply) -> ProviderError {
    let (server, p) = provider_with(SENTINEL, false).await;
    server.push("/2/users/42/tweets", reply);
    let e = p
        .fetch_page(&UserRef::id("42"), None)
        .await
        .expect_err("error");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SENTINEL), "key leaked: {shown}");
    assert_eq!(e.provider(), ProviderKind::Xapi);
    e
}

// RELIABILITY F9 C9 C13 C14
#[tokio::test]
async fn http_errors_map_to_typed_variants_without_the_key() {
    let e = error_for(Reply::json(
        401,
        r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::Unauthorized { .. }), "{e:?}");

    let e = error_for(Reply::json(
        403,
        r#"{"client_id":"1","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","registration_url":"https://developer.twitter.com/en/docs/projects/overview","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}"#,
    ))
    .await;
    match &e {
        ProviderError::Unauthorized { message, .. } => {
            assert!(message.contains("Client Forbidden"), "{message}")
        }
        other => panic!("403: {other:?}"),
    }

    let e = error_for(Reply::json(
        404,
        r#"{"title":"Not Found Error","type":"https://api.twitter.com/2/problems/resource-not-found","detail":"not here"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::NotFound { .. }), "{e:?}");

    let e = error_for(Reply::json(
        402,
        r#"{"title":"CreditsDepleted","detail":"Your enrolled account does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::QuotaExhausted { .. }), "{e:?}");

    let e = error_for(
        Reply::json(
            429,
            r#"{"account_id":1,"product_name":"standard-basic","title":"UsageCapExceeded","period":"Monthly","scope":"Product","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped"}"#,
        ),
    )
    .await;
    assert!(matches!(e, ProviderError::QuotaExhausted { .. }), "{e:?}");

    let e = error_for(Reply::json(
        400,
        r#"{"errors":[{"parameters":{"max_results":["1"]},"message":"The `max_results` query parameter value [1] is not between 5 and 100"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::InvalidRequest { .. }), "{e:?}");

    for status in [500u16, 503] {
        let e = error_for(Reply::text(status, "Service Unavailable")).await;
        assert!(
            matches!(e, ProviderError::Upstream { status: Some(s), .. } if s == status),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }

    let e = error_for(Reply::json(200, r#"{"data": [{"id": "1", "#)).await;
    assert!(matches!(e, ProviderError::BadResponse { .. }), "{e:?}");
    let e = error_for(Reply::text(200, "<html>maintenance</html>")).await;
    assert!(matches!(e, ProviderError::BadResponse { .. }), "{e:?}");
    let e = error_for(Reply::json(200, r#"{"data": "not a list"}"#)).await;
    assert!(matches!(e, ProviderError::BadResponse { .. }), "{e:?}");
}

// RELIABILITY C6
#[tokio::test]
async fn recorded_text_plain_429_honours_the_reset_header() {
    let (status, headers, body) = postman("postman_rate_limit_429_text_plain.response.json");
    assert_eq!((status, body.as_str()), (429, "Rate limit exceeded\n"));
    let mut reply = Reply::text(status, body);
    reply.headers = headers;
    let e = error_for(reply).await;
    match e {
        ProviderError::RateLimited {
            reset_at,
            retry_after,
            ..
        } => {
            assert_eq!(reset_at.map(|t| t.timestamp()), Some(1593185073));
            // The recorded reset is long past: wait the minimum, never zero.
            assert_eq!(retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("429: {other:?}"),
    }
}

#[tokio::test]
async fn problem_json_429_is_rate_limited_with_reset() {
    let reset = chrono::Utc::now().timestamp() + 120;
    let e = error_for(
        Reply::json(
            429,
            r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
        )
        .header("x-rate-limit-reset", &reset.to_string()),
    )
    .await;
    match e {
        ProviderError::RateLimited {
            reset_at,
            retry_after,
            ..
        } => {
            assert_eq!(reset_at.map(|t| t.timestamp()), Some(reset));
            let secs = retry_after.expect("retry_after").as_secs();
            assert!((100..=121).contains(&secs), "{secs}");
        }
        other => panic!("429: {other:?}"),
    }
}

#[tokio::test]
async fn lookup_errors_map_too() {
    let (server, p) = provider_with(SENTINEL, false).await;
    server.push(
        "/2/users/by/username/x",
        Reply::json(401, r#"{"title":"Unauthorized","status":401}"#),
    );
    let e = p.lookup_user("x").await.expect_err("401");
    assert!(matches!(e, ProviderError::Unauthorized { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(SENTINEL));
    // A handle-only fetch surfaces the lookup's failure and is not cached.
    server.push("/2/users/by/username/x", Reply::text(503, "over capacity"));
    let e = p
        .fetch_page(&UserRef::handle("x"), None)
        .await
        .expect_err("503");
    assert!(matches!(e, ProviderError::Upstream { .. }), "{e:?}");
}

#[tokio::test]
async fn forbidden_about_the_user_is_protected_or_suspended_not_unauthorized() {
    let e = error_for(Reply::json(
        403,
        r#"{"title":"Authorization Error","detail":"Sorry, you are not authorized to see the user with id: [42].","resource_type":"user","type":"https://api.twitter.com/2/problems/not-authorized-for-resource"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::Protected { .. }), "{e:?}");
    let e = error_for(Reply::json(
        403,
        r#"{"title":"Forbidden","detail":"User has been suspended: [42].","resource_type":"user","type":"https://api.twitter.com/2/problems/resource-not-found"}"#,
    ))
    .await;
    assert!(matches!(e, ProviderError::Suspended { .. }), "{e:?}");
}

// RELIABILITY F9 C19
#[tokio::test]
async fn a_body_echoing_the_key_is_redacted() {
    let e = error_for(Reply::json(
        400,
        format!(r#"{{"title":"Invalid Request","detail":"bad token {SENTINEL}"}}"#),
    ))
    .await;
    assert!(matches!(e, ProviderError::InvalidRequest { .. }), "{e:?}");
    let e = error_for(Reply::text(500, format!("oops {SENTINEL}"))).await;
    assert!(matches!(e, ProviderError::Upstream { .. }), "{e:?}");
    let e = error_for(Reply::text(200, format!("not json {SENTINEL}"))).await;
    assert!(matches!(e, ProviderError::BadResponse { .. }), "{e:?}");
}

#[tokio::test]
async fn non_numeric_user_id_is_rejected_without_a_request() {
    let (server, p) = provider(false).await;
    let e = p
        .fetch_page(&UserRef::id("../by/username/x"), None)
        .await
        .expect_err("invalid id");
    assert!(matches!(e, ProviderError::InvalidRequest { .. }), "{e:?}");
    assert!(server.requests().is_empty());
}
