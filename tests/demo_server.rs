//! The demo server over real HTTP on 127.0.0.1: every provider's pages walked to the end, the
//! same tweets in the same order in all three formats, errors in each API's own shape, and
//! pbs-style picture sizes. Also checks that the committed `assets/demo/` JSON is exactly what the
//! generator's data code produces today.

use std::time::Duration;

use serde_json::{Value, json};
use xmedia::demo::{self, DEMO_HANDLE, DEMO_USER_ID, DemoOptions, DemoServer, PLACEHOLDER_ORIGIN};

const KEY: &str = "Bearer demo-key";

async fn server() -> DemoServer {
    demo::start(DemoOptions::default())
        .await
        .expect("start demo server")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_json(url: &str, auth: bool) -> (u16, Value, String) {
    let mut req = client().get(url);
    if auth {
        req = req.header("authorization", KEY);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, v, text)
}

async fn post_json(url: &str, body: &Value, auth: bool) -> (u16, Value, String) {
    let mut req = client().post(url).json(body);
    if auth {
        req = req.header("authorization", KEY);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, v, text)
}

fn assert_rewritten(base: &str, text: &str) {
    assert!(
        !text.contains("demo.xmedia.invalid"),
        "placeholder origin left in a payload"
    );
    assert!(text.contains(base), "payload does not point at the server");
}

/// Pages of tweet ids, walked through KeyAPI cursors.
async fn walk_keyapi(s: &DemoServer) -> Vec<Vec<Value>> {
    let base = s.base_url();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/twitter/usermedia?screenname={DEMO_HANDLE}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, v, text) = get_json(&url, true).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(v["code"], 0);
        assert_eq!(v["message"], "success");
        assert_eq!(v["data"]["status"], "ok");
        assert_eq!(v["data"]["user"]["rest_id"], DEMO_USER_ID);
        assert_rewritten(&base, &text);
        pages.push(v["data"]["timeline"].as_array().expect("timeline").clone());
        match v["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages.len() < 20, "cursor loop");
    }
    pages
}

async fn walk_agntdata(s: &DemoServer) -> Vec<Vec<Value>> {
    let base = s.base_url();
    let user_id: u64 = DEMO_USER_ID.parse().expect("numeric id");
    let mut pages = Vec::new();
    let (status, mut v, text) = post_json(
        &format!("{base}/user/medias"),
        &json!({"user_id": user_id, "limit": 20}),
        true,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_rewritten(&base, &text);
    loop {
        pages.push(v["results"].as_array().expect("results").clone());
        let Some(token) = v["continuation_token"].as_str().map(str::to_string) else {
            break;
        };
        let body = json!({"user_id": user_id, "continuation_token": token, "limit": 20});
        let (status, next, text) =
            post_json(&format!("{base}/user/medias/continuation"), &body, true).await;
        assert_eq!(status, 200, "{text}");
        assert_rewritten(&base, &text);
        v = next;
        assert!(pages.len() < 20, "token loop");
    }
    pages
}

/// Pages of X API v2 responses (whole bodies, to reach `includes`).
async fn walk_xapi(s: &DemoServer) -> Vec<Value> {
    let base = s.base_url();
    let (status, user, text) =
        get_json(&format!("{base}/2/users/by/username/XMEDIA_Demo"), true).await;
    assert_eq!(status, 200, "{text}");
    let id = user["data"]["id"].as_str().expect("user id").to_string();
    assert_eq!(id, DEMO_USER_ID);
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!(
            "{base}/2/users/{id}/tweets?max_results=100&expansions=attachments.media_keys,referenced_tweets.id"
        );
        if let Some(t) = &token {
            url.push_str(&format!("&pagination_token={t}"));
        }
        let (status, v, text) = get_json(&url, true).await;
        assert_eq!(status, 200, "{text}");
        assert_rewritten(&base, &text);
        let n = v["data"].as_array().expect("data").len() as u64;
        assert_eq!(v["meta"]["result_count"].as_u64(), Some(n));
        token = v["meta"]["next_token"].as_str().map(str::to_string);
        pages.push(v);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 20, "token loop");
    }
    pages
}

fn ids(pages: &[Vec<Value>], field: &str) -> Vec<String> {
    pages
        .iter()
        .flatten()
        .map(|t| t[field].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn every_provider_walks_all_pages_with_the_same_tweets_in_the_same_order() {
    let s = server().await;
    let key = walk_keyapi(&s).await;
    let agnt = walk_agntdata(&s).await;
    let x = walk_xapi(&s).await;

    assert!(key.len() >= 3 && agnt.len() >= 3 && x.len() >= 3);
    let key_ids = ids(&key, "tweet_id");
    let agnt_ids = ids(&agnt, "tweet_id");
    let x_pages: Vec<Vec<Value>> = x
        .iter()
        .map(|p| p["data"].as_array().expect("data").clone())
        .collect();
    let x_ids = ids(&x_pages, "id");
    assert!(key_ids.len() >= 60, "only {} tweets", key_ids.len());
    assert_eq!(key_ids, agnt_ids);
    assert_eq!(key_ids, x_ids);

    // Newest first, no duplicates.
    let nums: Vec<u64> = key_ids
        .iter()
        .map(|i| i.parse().expect("numeric"))
        .collect();
    assert!(nums.windows(2).all(|w| w[0] > w[1]));

    // The same facts in every format: text, likes, views and media URLs.
    let key_all: Vec<&Value> = key.iter().flatten().collect();
    let agnt_all: Vec<&Value> = agnt.iter().flatten().collect();
    let x_all: Vec<&Value> = x_pages.iter().flatten().collect();
    let x_media: Vec<&Value> = x
        .iter()
        .flat_map(|p| p["includes"]["media"].as_array().expect("media").iter())
        .collect();
    for i in 0..key_all.len() {
        let (k, a, t) = (key_all[i], agnt_all[i], x_all[i]);
        assert_eq!(k["text"], a["text"]);
        assert_eq!(k["text"], t["text"]);
        assert_eq!(k["favorites"], a["favorite_count"]);
        assert_eq!(k["favorites"], t["public_metrics"]["like_count"]);
        assert_eq!(
            k["views"].as_str().map(str::to_string),
            a["views"].as_u64().map(|v| v.to_string())
        );
        assert_eq!(a["views"], t["public_metrics"]["impression_count"]);
        assert_eq!(k["bookmarks"], t["public_metrics"]["bookmark_count"]);
        let text = k["text"].as_str().expect("text");
        assert!(
            text.rsplit(' ')
                .next()
                .unwrap_or(text)
                .starts_with("https://t.co/"),
            "{text}"
        );

        let agnt_urls: Vec<&Value> = a["extended_entities"]["media"]
            .as_array()
            .expect("extended_entities")
            .iter()
            .map(|m| &m["media_url_https"])
            .collect();
        let x_urls: Vec<&Value> = t["attachments"]["media_keys"]
            .as_array()
            .expect("media_keys")
            .iter()
            .map(|key| {
                let m = x_media
                    .iter()
                    .find(|m| &m["media_key"] == key)
                    .expect("included media");
                if m["type"] == "photo" {
                    &m["url"]
                } else {
                    &m["preview_image_url"]
                }
            })
            .collect();
        assert_eq!(agnt_urls, x_urls);
        let mut key_urls: Vec<&Value> = Vec::new();
        for kind in ["photo", "video"] {
            if let Some(list) = k["media"][kind].as_array() {
                key_urls.extend(list.iter().map(|m| &m["media_url_https"]));
            }
        }
        assert_eq!(key_urls.len(), agnt_urls.len());
    }
}

#[tokio::test]
async fn the_account_has_every_kind_of_content() {
    let s = server().await;
    let x = walk_xapi(&s).await;
    let media: Vec<&Value> = x
        .iter()
        .flat_map(|p| p["includes"]["media"].as_array().expect("media").iter())
        .collect();
    let video = media
        .iter()
        .find(|m| m["type"] == "video")
        .expect("a video");
    let variants = video["variants"].as_array().expect("variants");
    assert!(
        variants
            .iter()
            .filter(|v| v["content_type"] == "video/mp4")
            .count()
            >= 3
    );
    assert!(
        variants
            .iter()
            .any(|v| v["content_type"] == "application/x-mpegURL" && v.get("bit_rate").is_none())
    );
    assert!(video["duration_ms"].as_u64().is_some());
    let gif = media
        .iter()
        .find(|m| m["type"] == "animated_gif")
        .expect("a GIF");
    assert_eq!(gif["variants"][0]["bit_rate"], 0);
    assert!(media.iter().filter(|m| m["alt_text"].is_string()).count() >= 5);

    let tweets: Vec<&Value> = x
        .iter()
        .flat_map(|p| p["data"].as_array().expect("data").iter())
        .collect();
    let counts: Vec<usize> = tweets
        .iter()
        .map(|t| {
            t["attachments"]["media_keys"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    for n in [2, 3, 4] {
        assert!(counts.contains(&n), "no tweet with {n} photos");
    }
    let refs = |kind: &str| {
        tweets
            .iter()
            .filter(|t| {
                t["referenced_tweets"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["type"] == kind))
            })
            .count()
    };
    assert!(refs("quoted") >= 1 && refs("replied_to") >= 1);
    let quoted = x
        .iter()
        .flat_map(|p| p["includes"]["tweets"].as_array().into_iter().flatten())
        .next()
        .expect("quoted tweet included");
    assert!(
        !quoted["attachments"]["media_keys"]
            .as_array()
            .expect("keys")
            .is_empty()
    );

    let all_text: String = tweets
        .iter()
        .map(|t| t["text"].as_str().unwrap_or(""))
        .collect();
    for needle in [
        "京都",
        "👨\u{200d}👩\u{200d}👧\u{200d}👦",
        "غروب",
        "שקיעה",
        "&amp;",
    ] {
        assert!(all_text.contains(needle), "missing {needle}");
    }
    assert!(
        tweets
            .iter()
            .any(|t| t["public_metrics"]["impression_count"].as_u64() >= Some(1_000_000))
    );
    assert!(
        tweets
            .iter()
            .any(|t| t["public_metrics"]["like_count"].as_u64() <= Some(5))
    );

    let (_, user, _) = get_json(
        &format!("{}/2/users/by/username/{DEMO_HANDLE}", s.base_url()),
        true,
    )
    .await;
    let u = &user["data"];
    assert!(
        u["affiliation"]["badge_url"]
            .as_str()
            .is_some_and(|b| b.starts_with(&s.base_url()))
    );
    assert!(u["public_metrics"]["followers_count"].as_u64() > Some(1_000_000));
    assert_eq!(u["verified"], true);
}

#[tokio::test]
async fn every_api_wants_a_bearer_token_and_answers_401_in_its_own_shape() {
    let s = server().await;
    let base = s.base_url();
    let (status, v, _) = get_json(
        &format!("{base}/v1/twitter/usermedia?screenname={DEMO_HANDLE}"),
        false,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], 401);
    assert!(v["data"].is_null());

    let (status, v, _) = post_json(
        &format!("{base}/user/medias"),
        &json!({"user_id": 1}),
        false,
    )
    .await;
    assert_eq!(status, 401);
    assert!(v["detail"].is_string());

    let (status, v, _) =
        get_json(&format!("{base}/2/users/by/username/{DEMO_HANDLE}"), false).await;
    assert_eq!(status, 401);
    assert_eq!(v["status"], 401);
    assert_eq!(v["title"], "Unauthorized");

    // An empty token is no token.
    let resp = client()
        .get(format!("{base}/2/users/{DEMO_USER_ID}/tweets"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn unknown_cursors_users_and_bad_bodies_get_each_apis_error() {
    let s = server().await;
    let base = s.base_url();
    let (status, v, _) = get_json(
        &format!("{base}/v1/twitter/usermedia?screenname={DEMO_HANDLE}&cursor=bogus"),
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v["code"], 400);
    let (status, v, _) = get_json(&format!("{base}/v1/twitter/usermedia"), true).await;
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Missing required parameter"))
    );
    let (status, _, _) = get_json(
        &format!("{base}/v1/twitter/usermedia?screenname=someone_else"),
        true,
    )
    .await;
    assert_eq!(status, 400);
    // The handle is case-insensitive.
    let (status, _, _) = get_json(
        &format!("{base}/v1/twitter/usermedia?screenname=XMEDIA_DEMO"),
        true,
    )
    .await;
    assert_eq!(status, 200);

    let id: u64 = DEMO_USER_ID.parse().expect("id");
    let (status, v, _) = post_json(
        &format!("{base}/user/medias/continuation"),
        &json!({"user_id": id, "continuation_token": "bogus"}),
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert!(v["detail"].is_string());
    let (status, v, _) =
        post_json(&format!("{base}/user/medias"), &json!({"limit": 20}), true).await;
    assert_eq!(status, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "user_id"]));
    let (status, v, _) = post_json(
        &format!("{base}/user/medias/continuation"),
        &json!({"user_id": id}),
        true,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "continuation_token"]));
    let (status, _, _) = post_json(
        &format!("{base}/user/medias"),
        &json!({"user_id": 12345}),
        true,
    )
    .await;
    assert_eq!(status, 404);
    // user_id as a string is accepted too.
    let (status, _, _) = post_json(
        &format!("{base}/user/medias"),
        &json!({"user_id": DEMO_USER_ID}),
        true,
    )
    .await;
    assert_eq!(status, 200);

    let (status, v, _) = get_json(
        &format!("{base}/2/users/{DEMO_USER_ID}/tweets?pagination_token=bogus"),
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v["title"], "Invalid Request");
    // X reports an unknown user as HTTP 200 with only `errors`.
    let (status, v, _) =
        get_json(&format!("{base}/2/users/by/username/nobody_here_42"), true).await;
    assert_eq!(status, 200);
    assert!(v.get("data").is_none());
    assert_eq!(v["errors"][0]["title"], "Not Found Error");
    let (status, v, _) = get_json(&format!("{base}/2/users/by/username/not.valid"), true).await;
    assert_eq!(status, 400);
    assert_eq!(v["title"], "Invalid Request");
    let (status, v, _) = get_json(&format!("{base}/2/users/42/tweets"), true).await;
    assert_eq!(status, 200);
    assert_eq!(v["errors"][0]["resource_type"], "user");
}

async fn picture(url: &str) -> (u16, String, Vec<u8>) {
    let resp = client().get(url).send().await.expect("send");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().await.expect("bytes").to_vec())
}

fn dims(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("decode picture");
    (img.width(), img.height())
}

fn manifest() -> Value {
    let f = demo::ASSETS.get_file("manifest.json").expect("manifest");
    serde_json::from_slice(f.contents()).expect("manifest json")
}

#[tokio::test]
async fn pictures_honour_pbs_size_names_and_never_upscale() {
    let s = server().await;
    let base = s.base_url();
    let m = manifest();
    let images = m["images"].as_array().expect("images");
    let big = images
        .iter()
        .find(|i| i["width"] == 1600 && i["path"].as_str().is_some_and(|p| p.starts_with("media/")))
        .expect("a 1600 px photo");
    let path = big["path"].as_str().expect("path");
    let (w, h) = (1600u32, big["height"].as_u64().expect("h") as u32);

    let (status, ct, orig) = picture(&format!("{base}/{path}")).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(dims(&orig), (w, h));
    for (name, limit) in [("small", 680u32), ("medium", 1200)] {
        let (status, ct, bytes) = picture(&format!("{base}/{path}?name={name}")).await;
        assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
        let (rw, rh) = dims(&bytes);
        assert_eq!(rw.max(rh), limit, "{name}");
        assert!(rw <= limit && rh <= limit);
        assert!(((rw as f64 / rh as f64) - (w as f64 / h as f64)).abs() < 0.01);
    }
    for name in ["large", "orig"] {
        let (_, _, bytes) = picture(&format!("{base}/{path}?name={name}")).await;
        assert_eq!(dims(&bytes), (w, h), "{name} must not upscale");
    }
    let (_, _, thumb) = picture(&format!("{base}/{path}?name=thumb")).await;
    assert_eq!(dims(&thumb), (150, 150));
    // pbs's other spelling: no extension, `format=jpg`.
    let stem = path.trim_end_matches(".jpg");
    let (status, ct, bytes) = picture(&format!("{base}/{stem}?format=jpg&name=small")).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(dims(&bytes).0.max(dims(&bytes).1), 680);

    let tiny = images
        .iter()
        .find(|i| i["width"] == 64)
        .expect("the tiny photo");
    let tiny_path = tiny["path"].as_str().expect("path");
    for name in ["small", "medium", "large", "orig"] {
        let (_, _, bytes) = picture(&format!("{base}/{tiny_path}?name={name}")).await;
        assert_eq!(dims(&bytes), (64, 48), "{name}");
    }
    let (_, _, bytes) = picture(&format!("{base}/{tiny_path}?name=thumb")).await;
    assert_eq!(dims(&bytes), (48, 48));

    let (status, _, _) = picture(&format!("{base}/{path}?name=gigantic")).await;
    assert_eq!(status, 400);
    let (status, _, _) = picture(&format!("{base}/media/NoSuchPicture.jpg")).await;
    assert_eq!(status, 404);
    let (status, ct, body) = picture(&format!(
        "{base}/ext_tw_video/1/pu/vid/avc1/1280x720/x.mp4?tag=12"
    ))
    .await;
    assert_eq!(status, 404);
    assert!(ct.starts_with("text/plain"));
    assert!(String::from_utf8_lossy(&body).contains("no video files"));
}

#[tokio::test]
async fn profile_pictures_and_badge_are_served_at_their_api_urls() {
    let s = server().await;
    let base = s.base_url();
    let (_, user, _) = get_json(&format!("{base}/2/users/by/username/{DEMO_HANDLE}"), true).await;
    let u = &user["data"];
    let avatar = u["profile_image_url"].as_str().expect("avatar");
    let (status, ct, bytes) = picture(avatar).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(dims(&bytes), (48, 48));
    let (_, _, bytes) = picture(&avatar.replace("_normal", "_400x400")).await;
    assert_eq!(dims(&bytes), (400, 400));

    let banner = u["profile_banner_url"].as_str().expect("banner");
    let (status, _, bytes) = picture(banner).await;
    assert_eq!(status, 200);
    assert_eq!(dims(&bytes), (1500, 500));
    let (_, _, bytes) = picture(&format!("{banner}/600x200")).await;
    assert_eq!(dims(&bytes), (600, 200));

    let badge = u["affiliation"]["badge_url"].as_str().expect("badge");
    let (status, ct, bytes) = picture(badge).await;
    assert_eq!((status, ct.as_str()), (200, "image/png"));
    assert_eq!(dims(&bytes), (73, 73));
}

#[tokio::test]
async fn provider_configs_point_at_the_server() {
    let s = server().await;
    for kind in xmedia::domain::ProviderKind::ALL {
        let c = s.provider_config(kind).expect("config");
        assert_eq!(c.base_url.as_str().trim_end_matches('/'), s.base_url());
        assert_eq!(c.kind, kind);
    }
    let c = s
        .provider_config(xmedia::domain::ProviderKind::Keyapi)
        .expect("config");
    assert_eq!(
        c.endpoint("/v1/twitter/usermedia").as_str(),
        format!("{}/v1/twitter/usermedia", s.base_url())
    );
}

#[tokio::test]
async fn latency_option_and_request_counter_work() {
    let s = demo::start(DemoOptions {
        port: 0,
        latency: Duration::from_millis(30),
        faults: Default::default(),
        prepare_pictures: false,
    })
    .await
    .expect("start");
    assert_eq!(s.requests_served(), 0);
    let (status, _, _) = get_json(
        &format!(
            "{}/v1/twitter/usermedia?screenname={DEMO_HANDLE}",
            s.base_url()
        ),
        true,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = get_json(
        &format!("{}/2/users/by/username/{DEMO_HANDLE}", s.base_url()),
        false,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(s.requests_served(), 2);
    let url = s.base_url();
    drop(s);
    // Dropped means stopped (give the runtime a moment to close the listener).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        client()
            .get(format!("{url}/media/x.jpg"))
            .send()
            .await
            .is_err()
    );
}

/// The committed JSON is exactly what the generator's data code writes today, so editing the
/// account without re-running `cargo run --example gen_demo` fails here. The pictures are not
/// re-rendered (slow); instead every picture the data points at must exist with the promised size.
#[test]
fn committed_assets_match_the_generator() {
    let account = demo::account::account();
    for (path, text) in demo::wire::wire_files(&account) {
        let f = demo::ASSETS
            .get_file(&path)
            .unwrap_or_else(|| panic!("{path} missing: run `cargo run --example gen_demo`"));
        assert!(
            f.contents() == text.as_bytes(),
            "{path} is stale: run `cargo run --example gen_demo -- --data`"
        );
    }
    for spec in account.all_images() {
        let f = demo::ASSETS
            .get_file(&spec.path)
            .unwrap_or_else(|| panic!("{} missing", spec.path));
        let reader = image::ImageReader::new(std::io::Cursor::new(f.contents()))
            .with_guessed_format()
            .expect("guess format");
        assert_eq!(
            reader.into_dimensions().expect("dimensions"),
            (spec.width, spec.height),
            "{}",
            spec.path
        );
        assert!(spec.width.max(spec.height) <= 1600);
    }
    // The embedded pictures are the ones the generator last wrote.
    let sums = std::str::from_utf8(
        demo::ASSETS
            .get_file("pictures.txt")
            .expect("pictures.txt")
            .contents(),
    )
    .expect("utf-8");
    assert_eq!(sums.lines().count(), account.all_images().len());
    for line in sums.lines() {
        let mut parts = line.splitn(3, ' ');
        let (sum, len, path) = (parts.next(), parts.next(), parts.next());
        let f = demo::ASSETS
            .get_file(path.expect("path"))
            .expect("listed picture");
        assert_eq!(
            Some(format!("{:016x}", demo::fnv1a64(f.contents())).as_str()),
            sum,
            "{line}"
        );
        assert_eq!(
            len.and_then(|l| l.parse::<usize>().ok()),
            Some(f.contents().len())
        );
    }
    assert!(account.tweets.len() >= 60);
    let text = std::str::from_utf8(
        demo::ASSETS
            .get_file("keyapi/usermedia_p1.json")
            .expect("p1")
            .contents(),
    )
    .expect("utf-8");
    assert!(text.contains(PLACEHOLDER_ORIGIN));
}

/// Waits until the server has `n` picture sizes ready (a liveness limit, not a speed one).
async fn prepared_at_least(s: &DemoServer, n: usize) {
    for _ in 0..2400 {
        if s.pictures_prepared().0 >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{n} pictures not prepared after 2 minutes: {:?}",
        s.pictures_prepared()
    );
}

/// Post pictures as the app asks for them (`small` in both spellings, `medium`) for the first
/// `n` pictures of the timeline.
fn first_post_urls(base: &str, n: usize) -> Vec<String> {
    let m = manifest();
    let posts: Vec<&str> = m["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["path"].as_str())
        .filter(|p| p.starts_with("media/") || p.contains("_video_thumb/"))
        .collect();
    assert!(posts.len() > n, "{posts:?}");
    let mut urls = Vec::new();
    for p in &posts[..n] {
        // pbs's other spelling of `small`.
        let stem = p.trim_end_matches(".jpg");
        urls.push(format!("{base}/{stem}?format=jpg&name=small"));
        for name in ["small", "medium"] {
            urls.push(format!("{base}/{p}?name={name}"));
        }
    }
    urls
}

/// `xmedia --demo` starts its server with `prepare_pictures`: the sizes the app asks for are
/// made in the background from the start, in timeline order, as a CDN has them ready, without
/// anyone asking. Answers are byte for byte what a server making them on request gives, and
/// each size is made once, also when a request for it comes before the pass gets to it.
#[tokio::test]
async fn picture_sizes_are_prepared_at_start_once_each_with_unchanged_answers() {
    let mut s = demo::start(DemoOptions {
        prepare_pictures: true,
        ..DemoOptions::default()
    })
    .await
    .expect("start demo server");
    let base = s.base_url();
    let (ready, total) = s.pictures_prepared();
    let photos = manifest()["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter(|i| i["path"].as_str().is_some_and(|p| p.starts_with("media/")))
        .count();
    assert!(
        total >= 2 * photos,
        "small and medium of {photos} photos: {total}"
    );
    assert!(ready < total, "nothing is made before the server starts");

    // The timeline's last picture at `medium`, the last size of the pass, asked for at once.
    let last = manifest()["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["path"].as_str())
        .rfind(|p| p.starts_with("media/"))
        .map(|p| format!("{base}/{p}?name=medium"))
        .expect("a photo");
    let early = picture(&last).await;
    assert_eq!((early.0, early.1.as_str()), (200, "image/jpeg"));

    // Avatar and badge in three sizes, then three posts in two, besides the one asked for.
    prepared_at_least(&s, 2 * 3 + 3 * 2 + 1).await;
    assert_eq!(s.requests_served(), 1, "only the early request came in");
    let passed = s.stop_preparing().await;
    assert!(passed >= 2 * 3 + 3 * 2, "{passed}");
    let made = s.pictures_made();
    assert_eq!(made, s.pictures_prepared().0, "each size made exactly once");

    let (_, user, _) = get_json(&format!("{base}/2/users/by/username/{DEMO_HANDLE}"), true).await;
    let avatar = user["data"]["profile_image_url"].as_str().expect("avatar");
    let mut asked = first_post_urls(&base, 3);
    asked.push(avatar.to_string());
    asked.push(avatar.replace("_normal", "_200x200"));
    let badge = user["data"]["affiliation"]["badge_url"]
        .as_str()
        .expect("badge");
    asked.push(badge.to_string());
    asked.push(last);

    let cold = server().await;
    let cold_base = cold.base_url();
    for url in &asked {
        let warm = picture(url).await;
        let made = picture(&url.replace(&base, &cold_base)).await;
        assert_eq!(warm.0, 200, "{url}");
        assert_eq!((warm.0, &warm.1), (made.0, &made.1), "{url}");
        assert!(warm.2 == made.2, "same bytes for {url}");
    }
    assert_eq!(
        s.pictures_made(),
        made,
        "every answer came from what was prepared"
    );
    // Three pictures in two sizes (the `format=jpg` spelling is the same answer as `small`),
    // the avatar in two, the badge and the last picture: made on request there.
    assert_eq!(cold.pictures_made(), 3 * 2 + 2 + 1 + 1);
    assert_eq!(cold.pictures_prepared().0, cold.pictures_made());
}
