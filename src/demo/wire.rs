//! Writes the demo account in the three providers' wire formats, plus the manifest that tells the
//! server which file answers which request. Pure: the same account gives the same bytes.
//!
//! Files (paths relative to `assets/demo/`): `keyapi/usermedia_p{N}.json`,
//! `agntdata/medias_p{N}.json`, `xapi/tweets_p{N}.json`, `xapi/user.json` and `manifest.json`:
//!
//! ```json
//! {
//!   "format": 1, "handle": "xmedia_demo", "user_id": "1700000000000000001",
//!   "placeholder_origin": "http://demo.xmedia.invalid", "tweet_count": 72,
//!   "tweet_ids": ["…newest first…"],
//!   "providers": {
//!     "keyapi":   {"pages": [{"cursor": null, "file": "keyapi/usermedia_p1.json", "next": "DAAB…"}, …]},
//!     "agntdata": {"pages": [{"cursor": null, "file": "agntdata/medias_p1.json", "next": "DAAB…"}, …]},
//!     "xapi":     {"user": "xapi/user.json",
//!                  "pages": [{"cursor": null, "file": "xapi/tweets_p1.json", "next": "tmgf…"}, …]}
//!   },
//!   "images": [{"path": "media/G….jpg", "width": 1600, "height": 900}, …]
//! }
//! ```
//!
//! A page with `"cursor": null` answers the first request (no cursor/token); every other page
//! answers the request carrying its `cursor` (KeyAPI `cursor`, agntdata `continuation_token`,
//! X `pagination_token`). `next` is what the page hands out; the last page hands out none
//! (KeyAPI `next_cursor: null`, agntdata `continuation_token: null`, X no `meta.next_token`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::account::{
    Account, B64, Kind, Link, MediaItem, PAGE_SIZES, PLACEHOLDER_ORIGIN, Tweet, User, mix, token,
};

fn classic(t: DateTime<Utc>) -> String {
    t.format("%a %b %d %H:%M:%S +0000 %Y").to_string()
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// Code-point offsets of `needle` in `hay` (the way tweet entity indices count).
fn indices(hay: &str, needle: &str) -> (usize, usize) {
    match hay.rfind(needle) {
        Some(b) => {
            let start = hay[..b].chars().count();
            (start, start + needle.chars().count())
        }
        None => (0, 0),
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn aspect(m: &MediaItem) -> Value {
    let g = gcd(m.width, m.height).max(1);
    json!([m.width / g, m.height / g])
}

/// The pages: ranges into the tweet list.
fn page_ranges() -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for n in PAGE_SIZES {
        out.push(start..start + n);
        start += n;
    }
    out
}

/// An opaque Twitter-style bottom cursor (`DAABCgAB…AAA`), different per provider and page.
fn twitter_cursor(provider_salt: u64, page: usize) -> String {
    let body = token(mix(provider_salt ^ page as u64), 30, B64);
    format!("DAABCgAB{body}AAA")
}

/// An X API v2 style `next_token` (lower-case base36, 45 characters).
fn xapi_token(page: usize) -> String {
    token(
        mix(0x2A91 ^ page as u64),
        45,
        b"abcdefghijklmnopqrstuvwxyz0123456789",
    )
}

fn request_id(seed: u64) -> String {
    let hex = b"0123456789abcdef";
    let t = token(seed, 32, hex);
    format!(
        "{}-{}-4{}-a{}-{}",
        &t[0..8],
        &t[8..12],
        &t[13..16],
        &t[17..20],
        &t[20..32]
    )
}

// ---------------------------------------------------------------- KeyAPI

fn keyapi_author(u: &User) -> Value {
    json!({
        "rest_id": u.id,
        "name": u.name,
        "screen_name": u.handle,
        "avatar": null,
        "blue_verified": u.blue_verified,
    })
}

fn keyapi_media(media: &[MediaItem]) -> Value {
    let mut photos = Vec::new();
    let mut videos = Vec::new();
    for m in media {
        match m.kind {
            Kind::Photo => photos.push(json!({
                "media_url_https": m.url,
                "id": m.id,
                "sizes": {"h": m.height, "w": m.width},
            })),
            Kind::Video | Kind::Gif => {
                let variants: Vec<Value> = m
                    .variants
                    .iter()
                    .map(|v| match v.bitrate {
                        Some(b) => {
                            json!({"bitrate": b, "content_type": v.content_type, "url": v.url})
                        }
                        None => json!({"content_type": v.content_type, "url": v.url}),
                    })
                    .collect();
                videos.push(json!({
                    "media_url_https": m.url,
                    "variants": variants,
                    "aspect_ratio": aspect(m),
                    "duration": m.duration_ms,
                    "original_info": {"height": m.height, "width": m.width, "focus_rects": []},
                    "id": m.id,
                }));
            }
        }
    }
    let mut obj = serde_json::Map::new();
    if !photos.is_empty() {
        obj.insert("photo".into(), Value::Array(photos));
    }
    if !videos.is_empty() {
        obj.insert("video".into(), Value::Array(videos));
    }
    if obj.is_empty() {
        json!([])
    } else {
        Value::Object(obj)
    }
}

fn url_entities(links: &[Link]) -> Vec<Value> {
    links
        .iter()
        .map(|l| json!({"display_url": l.display, "expanded_url": l.expanded, "url": l.tco}))
        .collect()
}

fn keyapi_tweet(t: &Tweet, nested: bool) -> Value {
    let mut v = json!({
        "tweet_id": t.id,
        "bookmarks": t.metrics.bookmarks,
        "created_at": classic(t.created_at),
        "favorites": t.metrics.likes,
        "text": t.wire_text(),
        "lang": t.lang,
        "views": t.metrics.views.to_string(),
        "quotes": t.metrics.quotes,
        "replies": t.metrics.replies,
        "retweets": t.metrics.retweets,
        "conversation_id": t.conversation_id,
        "media": keyapi_media(&t.media),
        "author": keyapi_author(&t.author),
    });
    if let Value::Object(map) = &mut v {
        if !nested {
            map.insert(
                "source".into(),
                json!("<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>"),
            );
            map.insert(
                "entities".into(),
                json!({
                    "hashtags": [],
                    "symbols": [],
                    "timestamps": [],
                    "urls": url_entities(&t.links),
                    "user_mentions": mentions_classic(t),
                }),
            );
        }
        if let Some(r) = &t.reply_to {
            map.insert("reply_to".into(), json!(r.tweet_id));
        }
        if let Some(q) = &t.quoted {
            map.insert("quoted".into(), keyapi_tweet(q, true));
        }
    }
    v
}

fn mentions_classic(t: &Tweet) -> Vec<Value> {
    match &t.reply_to {
        Some(r) if t.body.starts_with('@') => vec![json!({
            "id_str": r.user_id,
            "name": "Northlight Collective",
            "screen_name": r.handle,
        })],
        _ => Vec::new(),
    }
}

fn keyapi_user(u: &User) -> Value {
    let affiliates = match &u.affiliate {
        Some(a) => json!({
            "label": {
                "badge": {"url": a.badge_url},
                "description": a.label,
                "url": {"url": a.url, "urlType": "DeepLink"},
                "userLabelDisplayType": "Badge",
                "userLabelType": "BusinessLabel",
            }
        }),
        None => json!([]),
    };
    json!({
        "status": "active",
        "profile": null,
        "rest_id": u.id,
        "blue_verified": u.blue_verified,
        "verification_type": null,
        "affiliates": affiliates,
        "business_account": [],
        "avatar": u.avatar_url,
        "header_image": u.banner_url,
        "desc": u.bio,
        "name": u.name,
        "website": u.website.as_ref().map(|w| w.display.clone()),
        "protected": false,
        "location": u.location,
        "friends": u.following,
        "sub_count": u.followers,
        "statuses_count": u.tweets,
        "media_count": u.media_count,
        "created_at": classic(u.created_at),
        "pinned_tweet_ids_str": null,
        "id": u.id,
    })
}

fn keyapi_page(a: &Account, tweets: &[Tweet], next: Option<&str>, page: usize) -> Value {
    json!({
        "code": 0,
        "message": "success",
        "data": {
            "timeline": tweets.iter().map(|t| keyapi_tweet(t, false)).collect::<Vec<_>>(),
            "next_cursor": next,
            "status": "ok",
            "user": keyapi_user(&a.user),
        },
        "requestId": request_id(0x4B45 ^ page as u64),
    })
}

// ---------------------------------------------------------------- agntdata

fn agnt_user(u: &User) -> Value {
    json!({
        "creation_date": classic(u.created_at),
        "user_id": u.id,
        "username": u.handle,
        "name": u.name,
        "follower_count": u.followers,
        "following_count": u.following,
        "favourites_count": u.likes,
        "is_private": false,
        "is_verified": false,
        "is_blue_verified": u.blue_verified,
        "location": u.location,
        "profile_pic_url": u.avatar_url,
        "profile_banner_url": u.banner_url,
        "description": u.bio,
        "external_url": u.website.as_ref().map(|w| w.expanded.clone()),
        "number_of_tweets": u.tweets,
        "bot": false,
        "timestamp": u.created_at.timestamp(),
        "has_nft_avatar": false,
        "category": null,
        "default_profile": null,
        "default_profile_image": null,
        "listed_count": u.listed,
        "verified_type": null,
    })
}

fn sizes(m: &MediaItem) -> Value {
    let fit = |limit: u32| {
        let (w, h) = fit_within(m.width, m.height, limit);
        json!({"h": h, "w": w, "resize": "fit"})
    };
    json!({
        "large": fit(2048),
        "medium": fit(1200),
        "small": fit(680),
        "thumb": {"h": 150, "w": 150, "resize": "crop"},
    })
}

/// The size pbs serves for a `fit` box of `limit`×`limit`; never larger than the original.
pub fn fit_within(w: u32, h: u32, limit: u32) -> (u32, u32) {
    if w <= limit && h <= limit {
        return (w, h);
    }
    if w >= h {
        let nh = ((h as u64 * limit as u64 + w as u64 / 2) / w as u64).max(1) as u32;
        (limit, nh)
    } else {
        let nw = ((w as u64 * limit as u64 + h as u64 / 2) / h as u64).max(1) as u32;
        (nw, limit)
    }
}

fn agnt_media(t: &Tweet, m: &MediaItem, index: usize) -> Value {
    let text = t.wire_text();
    let (s, e) = indices(&text, &t.media_tco);
    let expanded = format!("{}/{}/{}", t.permalink(), m.path_word(), index + 1);
    let mut v = json!({
        "display_url": format!("pic.x.com/{}", t.media_tco.trim_start_matches("https://t.co/")),
        "expanded_url": expanded,
        "id_str": m.id,
        "indices": [s, e],
        "media_key": m.media_key(),
        "media_url_https": m.url,
        "type": m.type_name(),
        "url": t.media_tco,
        "ext_media_availability": {"status": "Available"},
        "features": {},
        "sizes": sizes(m),
        "original_info": {"height": m.height, "width": m.width},
        "media_results": {"result": {"media_key": m.media_key()}},
    });
    if let Value::Object(map) = &mut v {
        if let Some(alt) = &m.alt_text {
            map.insert("ext_alt_text".into(), json!(alt));
        }
        if m.kind != Kind::Photo {
            let mut info = json!({
                "aspect_ratio": aspect(m),
                "variants": m.variants.iter().map(|v| match v.bitrate {
                    Some(b) => json!({"bitrate": b, "content_type": v.content_type, "url": v.url}),
                    None => json!({"content_type": v.content_type, "url": v.url}),
                }).collect::<Vec<_>>(),
            });
            if let (Some(d), Value::Object(im)) = (m.duration_ms, &mut info) {
                im.insert("duration_millis".into(), json!(d));
            }
            map.insert("video_info".into(), info);
        }
    }
    v
}

fn agnt_tweet(t: &Tweet) -> Value {
    let text = t.wire_text();
    let first = t.media.first();
    json!({
        "tweet_id": t.id,
        "creation_date": classic(t.created_at),
        "text": text,
        "media_url": t.media.iter().map(|m| m.url.clone()).collect::<Vec<_>>(),
        "video_url": null,
        "user": agnt_user(&t.author),
        "language": t.lang,
        "favorite_count": t.metrics.likes,
        "retweet_count": t.metrics.retweets,
        "reply_count": t.metrics.replies,
        "quote_count": t.metrics.quotes,
        "retweet": false,
        "views": t.metrics.views,
        "timestamp": t.created_at.timestamp(),
        "video_view_count": t.media.iter().find_map(|m| m.view_count),
        "in_reply_to_status_id": t.reply_to.as_ref().map(|r| r.tweet_id.clone()),
        "quoted_status_id": t.quoted.as_ref().map(|q| q.id.clone()),
        "binding_values": null,
        "expanded_url": first.map(|m| format!("{}/{}/1", t.permalink(), m.path_word())),
        "retweet_tweet_id": null,
        "entities": {
            "hashtags": [],
            "symbols": [],
            "urls": t.links.iter().map(|l| {
                let (s, e) = indices(&text, &l.tco);
                json!({"display_url": l.display, "expanded_url": l.expanded, "url": l.tco, "indices": [s, e]})
            }).collect::<Vec<_>>(),
            "user_mentions": mentions_classic(t),
        },
        "extended_entities": {
            "media": t.media.iter().enumerate().map(|(i, m)| agnt_media(t, m, i)).collect::<Vec<_>>(),
        },
        "conversation_id": t.conversation_id,
        "retweet_status": null,
        "quoted_status": t.quoted.as_ref().map(|q| agnt_tweet(q)),
        "bookmark_count": t.metrics.bookmarks,
        "source": "Twitter for iPhone",
        "community_note": null,
    })
}

fn agnt_page(tweets: &[Tweet], next: Option<&str>) -> Value {
    json!({
        "results": tweets.iter().map(agnt_tweet).collect::<Vec<_>>(),
        "continuation_token": next,
    })
}

// ---------------------------------------------------------------- X API v2

/// The user object as `user.fields=created_at,description,location,profile_image_url,
/// profile_banner_url,protected,public_metrics,url,verified,verified_type,affiliation,entities`.
pub(crate) fn xapi_user(u: &User) -> Value {
    let mut v = json!({
        "id": u.id,
        "name": u.name,
        "username": u.handle,
        "created_at": iso(u.created_at),
        "description": u.bio,
        "location": u.location,
        "profile_image_url": u.avatar_url,
        "protected": false,
        "public_metrics": {
            "followers_count": u.followers,
            "following_count": u.following,
            "tweet_count": u.tweets,
            "listed_count": u.listed,
            "like_count": u.likes,
            "media_count": u.media_count,
        },
        "verified": u.blue_verified,
        "verified_type": if u.blue_verified { "blue" } else { "none" },
    });
    if let Value::Object(map) = &mut v {
        if let Some(b) = &u.banner_url {
            map.insert("profile_banner_url".into(), json!(b));
        }
        if let Some(w) = &u.website {
            map.insert("url".into(), json!(w.tco));
            map.insert(
                "entities".into(),
                json!({"url": {"urls": [{
                    "start": 0,
                    "end": w.tco.chars().count(),
                    "url": w.tco,
                    "expanded_url": w.expanded,
                    "display_url": w.display,
                }]}}),
            );
        }
        if let Some(a) = &u.affiliate {
            map.insert(
                "affiliation".into(),
                json!({
                    "badge_url": a.badge_url,
                    "description": a.label,
                    "url": a.url,
                    "user_id": [a.user_id],
                }),
            );
        }
    }
    v
}

fn xapi_tweet(t: &Tweet) -> Value {
    let text = t.wire_text();
    let mut urls: Vec<Value> = t
        .links
        .iter()
        .map(|l| {
            let (s, e) = indices(&text, &l.tco);
            json!({"start": s, "end": e, "url": l.tco, "expanded_url": l.expanded, "display_url": l.display})
        })
        .collect();
    for (i, m) in t.media.iter().enumerate() {
        let (s, e) = indices(&text, &t.media_tco);
        urls.push(json!({
            "start": s,
            "end": e,
            "url": t.media_tco,
            "expanded_url": format!("{}/{}/{}", t.permalink(), m.path_word(), i + 1),
            "display_url": format!("pic.x.com/{}", t.media_tco.trim_start_matches("https://t.co/")),
            "media_key": m.media_key(),
        }));
    }
    let urls_empty = urls.is_empty();
    let mut v = json!({
        "id": t.id,
        "text": text,
        "created_at": iso(t.created_at),
        "author_id": t.author.id,
        "conversation_id": t.conversation_id,
        "lang": t.lang,
        "possibly_sensitive": t.sensitive,
        "reply_settings": "everyone",
        "edit_history_tweet_ids": [t.id],
        "attachments": {"media_keys": t.media.iter().map(|m| m.media_key()).collect::<Vec<_>>()},
        "entities": {"urls": urls},
        "public_metrics": {
            "retweet_count": t.metrics.retweets,
            "reply_count": t.metrics.replies,
            "like_count": t.metrics.likes,
            "quote_count": t.metrics.quotes,
            "bookmark_count": t.metrics.bookmarks,
            "impression_count": t.metrics.views,
        },
    });
    if let Value::Object(map) = &mut v {
        if t.media.is_empty() {
            map.remove("attachments");
        }
        if urls_empty {
            map.remove("entities");
        }
        let mut refs = Vec::new();
        if let Some(q) = &t.quoted {
            refs.push(json!({"type": "quoted", "id": q.id}));
        }
        if let Some(r) = &t.reply_to {
            refs.push(json!({"type": "replied_to", "id": r.tweet_id}));
            map.insert("in_reply_to_user_id".into(), json!(r.user_id));
            if t.body.starts_with('@') {
                let mention = format!("@{}", r.handle);
                let (s, e) = indices(&text, &mention);
                if let Some(Value::Object(ent)) = map.get_mut("entities") {
                    ent.insert(
                        "mentions".into(),
                        json!([{"start": s, "end": e, "username": r.handle, "id": r.user_id}]),
                    );
                }
            }
        }
        if !refs.is_empty() {
            map.insert("referenced_tweets".into(), Value::Array(refs));
        }
    }
    v
}

fn xapi_media(m: &MediaItem) -> Value {
    let mut v = json!({
        "media_key": m.media_key(),
        "type": m.type_name(),
        "width": m.width,
        "height": m.height,
    });
    if let Value::Object(map) = &mut v {
        match m.kind {
            Kind::Photo => {
                map.insert("url".into(), json!(m.url));
            }
            Kind::Video | Kind::Gif => {
                map.insert("preview_image_url".into(), json!(m.url));
                map.insert(
                    "variants".into(),
                    Value::Array(
                        m.variants
                            .iter()
                            .map(|v| match v.bitrate {
                                Some(b) => json!({"bit_rate": b, "content_type": v.content_type, "url": v.url}),
                                None => json!({"content_type": v.content_type, "url": v.url}),
                            })
                            .collect(),
                    ),
                );
            }
        }
        if let Some(d) = m.duration_ms {
            map.insert("duration_ms".into(), json!(d));
        }
        if let Some(alt) = &m.alt_text {
            map.insert("alt_text".into(), json!(alt));
        }
        if let Some(vc) = m.view_count {
            map.insert("public_metrics".into(), json!({"view_count": vc}));
        }
    }
    v
}

fn xapi_page(a: &Account, tweets: &[Tweet], next: Option<&str>, prev: Option<&str>) -> Value {
    let mut media: Vec<Value> = Vec::new();
    let mut users: Vec<Value> = vec![xapi_user(&a.user)];
    let mut included: Vec<Value> = Vec::new();
    for t in tweets {
        media.extend(t.media.iter().map(xapi_media));
        let parent = t.reply_to.as_ref().map(|r| r.parent.as_ref());
        for other in t.quoted.as_deref().into_iter().chain(parent) {
            media.extend(other.media.iter().map(xapi_media));
            included.push(xapi_tweet(other));
            if !users.iter().any(|u| u["id"] == other.author.id) {
                users.push(xapi_user(&other.author));
            }
        }
    }
    let mut meta = json!({
        "result_count": tweets.len(),
        "newest_id": tweets.first().map(|t| t.id.clone()),
        "oldest_id": tweets.last().map(|t| t.id.clone()),
    });
    if let Value::Object(m) = &mut meta {
        if let Some(n) = next {
            m.insert("next_token".into(), json!(n));
        }
        if let Some(p) = prev {
            m.insert("previous_token".into(), json!(p));
        }
    }
    let mut includes = json!({"media": media, "users": users});
    if let (false, Value::Object(inc)) = (included.is_empty(), &mut includes) {
        inc.insert("tweets".into(), Value::Array(included));
    }
    json!({
        "data": tweets.iter().map(xapi_tweet).collect::<Vec<_>>(),
        "includes": includes,
        "meta": meta,
    })
}

// ---------------------------------------------------------------- files

/// Every JSON file of `assets/demo/` (path relative to it, pretty JSON with a final newline),
/// manifest last.
pub fn wire_files(a: &Account) -> Vec<(String, String)> {
    let mut files: Vec<(String, Value)> = Vec::new();
    let ranges = page_ranges();
    let n = ranges.len();
    let key_cursors: Vec<String> = (0..n).map(|i| twitter_cursor(0x4B45_5941, i)).collect();
    let agnt_cursors: Vec<String> = (0..n).map(|i| twitter_cursor(0xA6A7_DA7A, i)).collect();
    let x_tokens: Vec<String> = (0..n).map(xapi_token).collect();
    // Page i is answered for cursor[i - 1]; page i hands out cursor[i] unless it is the last.
    let next_of = |c: &[String], i: usize| (i + 1 < n).then(|| c[i].clone());
    let prev_of = |c: &[String], i: usize| (i > 0).then(|| c[i - 1].clone());

    let mut manifest_pages = serde_json::Map::new();
    let mut add = |provider: &str,
                   first_extra: Option<(&str, &str)>,
                   pages: Vec<(Option<String>, String, Option<String>)>| {
        let mut p = serde_json::Map::new();
        if let Some((k, v)) = first_extra {
            p.insert(k.into(), json!(v));
        }
        p.insert(
            "pages".into(),
            Value::Array(
                pages
                    .into_iter()
                    .map(|(cursor, file, next)| json!({"cursor": cursor, "file": file, "next": next}))
                    .collect(),
            ),
        );
        manifest_pages.insert(provider.into(), Value::Object(p));
    };

    let mut kp = Vec::new();
    let mut ap = Vec::new();
    let mut xp = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        let tweets = &a.tweets[r.clone()];
        let kf = format!("keyapi/usermedia_p{}.json", i + 1);
        files.push((
            kf.clone(),
            keyapi_page(a, tweets, next_of(&key_cursors, i).as_deref(), i),
        ));
        kp.push((prev_of(&key_cursors, i), kf, next_of(&key_cursors, i)));

        let af = format!("agntdata/medias_p{}.json", i + 1);
        files.push((
            af.clone(),
            agnt_page(tweets, next_of(&agnt_cursors, i).as_deref()),
        ));
        ap.push((prev_of(&agnt_cursors, i), af, next_of(&agnt_cursors, i)));

        let xf = format!("xapi/tweets_p{}.json", i + 1);
        files.push((
            xf.clone(),
            xapi_page(
                a,
                tweets,
                next_of(&x_tokens, i).as_deref(),
                prev_of(&x_tokens, i).as_deref(),
            ),
        ));
        xp.push((prev_of(&x_tokens, i), xf, next_of(&x_tokens, i)));
    }
    files.push(("xapi/user.json".into(), json!({"data": xapi_user(&a.user)})));
    add("keyapi", None, kp);
    add("agntdata", None, ap);
    add("xapi", Some(("user", "xapi/user.json")), xp);

    let manifest = json!({
        "format": 1,
        "handle": a.user.handle,
        "user_id": a.user.id,
        "placeholder_origin": PLACEHOLDER_ORIGIN,
        "tweet_count": a.tweets.len(),
        "tweet_ids": a.tweets.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        "providers": Value::Object(manifest_pages),
        "images": a.all_images().iter().map(|i| json!({"path": i.path, "width": i.width, "height": i.height})).collect::<Vec<_>>(),
    });
    files.push(("manifest.json".into(), manifest));
    files
        .into_iter()
        .map(|(p, v)| {
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            (p, s)
        })
        .collect()
}
