//! agntdata (`https://api.agntdata.dev/v1/x`): `POST /user/medias` for the first page and
//! `POST /user/medias/continuation` for the rest, both answering `{results[], continuation_token}`
//! with tweets in Twitter's v1.1 status shape (plus agntdata's flat `media_url[]`/`video_url`).
//!
//! The API takes a numeric user id only, so a handle must be resolved elsewhere first.

mod wire;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::Value;

use crate::domain::{
    Author, Cursor, Media, MediaKind, Metrics, Page, Profile, ProviderKind, Tweet, UserRef, Variant,
};
use crate::error::ProviderError;
use crate::http::{self, HttpClient, Response};
use crate::provider::normalize::{self, LinkEntity};
use crate::provider::{Provider, ProviderConfig};

const KIND: ProviderKind = ProviderKind::Agntdata;
const FIRST_PAGE: &str = "/user/medias";
const NEXT_PAGE: &str = "/user/medias/continuation";
/// Field errors quoted from one 422 answer; the rest are counted, not listed.
const MAX_FIELD_ERRORS: usize = 4;

#[derive(Debug, Clone)]
pub struct Agntdata {
    config: ProviderConfig,
    http: HttpClient,
}

impl Agntdata {
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    fn authorization(&self) -> Result<HeaderValue, ProviderError> {
        self.config.bearer_header()
    }

    fn redact_error(&self, e: ProviderError) -> ProviderError {
        e.redact(&self.config.key)
    }
}

impl Provider for Agntdata {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn needs_user_id(&self) -> bool {
        true
    }

    async fn lookup_user(&self, _handle: &str) -> Result<Option<Profile>, ProviderError> {
        // No lookup endpoint is wired up for agntdata: the caller resolves handles elsewhere.
        Ok(None)
    }

    async fn fetch_page(
        &self,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        let user_id = numeric_user_id(user)?;
        let auth = self.authorization()?;
        let token = cursor.map(|c| c.0.as_str()).filter(|t| !t.is_empty());
        let (path, body) = match token {
            None => (
                FIRST_PAGE,
                serde_json::json!({ "user_id": user_id, "limit": self.config.page_size }),
            ),
            Some(t) => (
                NEXT_PAGE,
                serde_json::json!({
                    "user_id": user_id,
                    "continuation_token": t,
                    "limit": self.config.page_size,
                }),
            ),
        };
        let request = self
            .http
            .reqwest()
            .post(self.config.endpoint(path))
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, "application/json")
            .json(&body);
        let resp = self.http.send(KIND, request).await?;
        self.parse_page(&resp, user, cursor)
    }
}

impl Agntdata {
    /// Turns one `/user/medias` answer (status, headers, body) into a page: everything
    /// `fetch_page` does after the request. Public so the fuzz targets run exactly this code.
    pub fn parse_page(
        &self,
        resp: &Response,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        let user_id = numeric_user_id(user)?;
        let token = cursor.map(|c| c.0.as_str()).filter(|t| !t.is_empty());
        parse_response(resp, user, user_id, token).map_err(|e| self.redact_error(e))
    }
}

/// The user id as the number the API wants, or a `Config` error saying how to give one.
fn numeric_user_id(user: &UserRef) -> Result<u64, ProviderError> {
    let Some(id) = user.id.as_deref().map(str::trim) else {
        return Err(ProviderError::Config {
            provider: KIND,
            message: format!(
                "agntdata looks users up by numeric id only and none is known for {}; \
                 pass --user-id ID",
                user.label()
            ),
        });
    };
    id.parse::<u64>().map_err(|_| ProviderError::Config {
        provider: KIND,
        message: format!(
            "agntdata needs a numeric user id, got {:?}; pass --user-id ID",
            http::snippet(id)
        ),
    })
}

fn parse_response(
    resp: &Response,
    user: &UserRef,
    user_id: u64,
    sent_token: Option<&str>,
) -> Result<Page, ProviderError> {
    if !resp.is_success() {
        return Err(map_error(resp, user));
    }
    let root: Value = serde_json::from_slice(&resp.body).map_err(|e| not_json(resp, &e))?;
    let Value::Object(mut root) = root else {
        return Err(bad("expected a JSON object with `results`"));
    };
    // An error envelope can come with a 2xx status too.
    if root.get("success").and_then(Value::as_bool) == Some(false) || !root.contains_key("results")
    {
        let body: wire::ErrorBody =
            serde_json::from_value(Value::Object(root.clone())).unwrap_or_default();
        if let Some(e) = error_from_body(&body, resp, user) {
            return Err(e);
        }
        return Err(bad("no `results` array in the response"));
    }
    let results = match root.remove("results") {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(bad("`results` is not an array")),
    };
    let token = match root.remove("continuation_token") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        _ => None,
    };
    Ok(build_page(results, token, user, user_id, sent_token))
}

fn build_page(
    results: Vec<Value>,
    token: Option<String>,
    user: &UserRef,
    user_id: u64,
    sent_token: Option<&str>,
) -> Page {
    let total = results.len();
    let mut statuses = Vec::with_capacity(total);
    for item in results {
        if let Ok(status) = serde_json::from_value::<wire::Status>(item) {
            statuses.push(status);
        }
    }
    let mut warnings = Vec::new();
    let unreadable = total - statuses.len();
    if unreadable > 0 {
        warnings.push(format!(
            "skipped {unreadable} result(s) that were not tweet objects"
        ));
    }

    let wanted_id = user_id.to_string();
    let owner = statuses
        .iter()
        .filter_map(|s| s.user.as_ref())
        .find(|u| user_id_of(u).as_deref() == Some(wanted_id.as_str()))
        .or_else(|| statuses.iter().find_map(|s| s.user.as_ref()));
    let profile = owner.and_then(|u| profile_from(u, user));

    let tweets = statuses
        .iter()
        .filter_map(|s| tweet_from(s, true))
        .filter(|t| !t.media.is_empty() || t.quoted.as_ref().is_some_and(|q| !q.media.is_empty()))
        .collect();

    // No token, the token we just sent (the API would answer the same page forever), or an empty
    // page (each further request still costs money): the timeline has ended.
    let next_cursor = token
        .filter(|t| Some(t.as_str()) != sent_token)
        .filter(|_| total > 0)
        .map(Cursor);

    Page {
        tweets,
        next_cursor,
        profile,
        warnings,
    }
}

fn user_id_of(u: &wire::User) -> Option<String> {
    u.id_str
        .clone()
        .or_else(|| u.user_id.clone())
        .or_else(|| u.rest_id.clone())
        .or_else(|| u.id.clone())
}

fn handle_of(u: &wire::User) -> Option<String> {
    u.screen_name
        .as_deref()
        .or(u.username.as_deref())
        .map(|h| h.trim().trim_start_matches('@').to_string())
        .filter(|h| !h.is_empty())
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn date_of(text: [&Option<String>; 2], epoch: Option<u64>) -> Option<DateTime<Utc>> {
    text.into_iter()
        .flatten()
        .find_map(|s| normalize::parse_date(s))
        .or_else(|| epoch.and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0)))
}

fn profile_from(u: &wire::User, asked: &UserRef) -> Option<Profile> {
    let handle = handle_of(u).or_else(|| asked.handle.clone())?;
    // `is_verified` is the legacy (or organisation) check; `is_blue_verified` the paid one.
    let legacy = u.verified.or(u.is_verified);
    let verified = match (legacy, u.is_blue_verified) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
    };
    let verified_type = non_empty(&u.verified_type).or_else(|| {
        (legacy != Some(true) && u.is_blue_verified == Some(true)).then(|| "blue".to_string())
    });
    Some(Profile {
        id: user_id_of(u),
        handle,
        name: non_empty(&u.name),
        followers: u.followers_count.or(u.follower_count),
        following: u.friends_count.or(u.following_count),
        tweets: u.statuses_count.or(u.number_of_tweets),
        media_count: u.media_count,
        verified,
        verified_type,
        affiliate: None,
        avatar_url: non_empty(&u.profile_image_url_https)
            .or_else(|| non_empty(&u.profile_pic_url))
            .or_else(|| non_empty(&u.profile_image_url)),
        banner_url: non_empty(&u.profile_banner_url),
        bio: non_empty(&u.description),
        location: non_empty(&u.location),
        protected: u.protected.or(u.is_private),
        created_at: date_of([&u.created_at, &u.creation_date], u.timestamp),
    })
}

fn views_of(v: &Option<Value>) -> Option<u64> {
    match v.as_ref()? {
        Value::Object(o) => o.get("count").and_then(normalize::count_from_value),
        other => normalize::count_from_value(other),
    }
}

fn metrics_of(s: &wire::Status) -> Metrics {
    Metrics {
        likes: s.favorite_count,
        retweets: s.retweet_count,
        replies: s.reply_count,
        quotes: s.quote_count,
        bookmarks: s.bookmark_count,
        views: views_of(&s.views),
    }
}

/// `first`'s counts, with `fallback`'s where `first` has none.
fn prefer(first: Metrics, fallback: Metrics) -> Metrics {
    Metrics {
        likes: first.likes.or(fallback.likes),
        retweets: first.retweets.or(fallback.retweets),
        replies: first.replies.or(fallback.replies),
        quotes: first.quotes.or(fallback.quotes),
        bookmarks: first.bookmarks.or(fallback.bookmarks),
        views: first.views.or(fallback.views),
    }
}

/// Maps one status. `top` is false for a quoted or retweeted status, whose own nested statuses
/// are not followed (the app shows one level).
fn tweet_from(s: &wire::Status, top: bool) -> Option<Tweet> {
    let id = s
        .id_str
        .clone()
        .or_else(|| s.tweet_id.clone())
        .or_else(|| s.id.clone())?;
    let author = Author {
        id: s.user.as_ref().and_then(user_id_of),
        handle: s.user.as_ref().and_then(handle_of),
        name: s.user.as_ref().and_then(|u| non_empty(&u.name)),
    };
    let retweeted = if top {
        s.retweeted_status
            .as_deref()
            .or(s.retweet_status.as_deref())
            .and_then(|r| tweet_from(r, false))
    } else {
        None
    };
    let is_retweet = s.retweeted_status.is_some()
        || s.retweet_status.is_some()
        || s.retweet == Some(true)
        || s.retweet_tweet_id.is_some();

    let (own_media, media_links) = media_of(s);
    let raw = s.full_text.as_deref().or(s.text.as_deref()).unwrap_or("");
    let links: Vec<LinkEntity> = s
        .entities
        .iter()
        .chain(s.extended_entities.iter())
        .flat_map(|e| e.urls.iter())
        .filter_map(|u| {
            Some(LinkEntity {
                short: u.url.clone()?,
                expanded: u.expanded_url.clone(),
            })
        })
        .collect();
    let mut text = normalize::display_text(raw, &links, &media_links);
    if media_links.is_empty() && !own_media.is_empty() {
        text = normalize::strip_trailing_tco(&text);
    }

    let quoted = if top {
        s.quoted_status
            .as_deref()
            .and_then(|q| tweet_from(q, false))
            .map(Box::new)
    } else {
        None
    };

    // A retweet shows the original: its media when the wrapper carries none, and its counts
    // (v1.1 reports 0 likes on the wrapper, which is not the original's figure).
    let (media, metrics, sensitive, text, quoted) = match retweeted {
        Some(rt) => (
            if own_media.is_empty() {
                rt.media
            } else {
                own_media
            },
            prefer(rt.metrics, metrics_of(s)),
            s.possibly_sensitive.or(rt.sensitive),
            if text.is_empty() {
                match rt.author.handle.as_deref() {
                    Some(h) => format!("RT @{h}: {}", rt.text),
                    None => rt.text,
                }
            } else {
                text
            },
            quoted.or(rt.quoted),
        ),
        None => (own_media, metrics_of(s), s.possibly_sensitive, text, quoted),
    };

    Some(Tweet {
        url: Tweet::canonical_url(author.handle.as_deref(), &id),
        id,
        created_at: date_of([&s.created_at, &s.creation_date], s.timestamp),
        text,
        lang: non_empty(&s.lang).or_else(|| non_empty(&s.language)),
        author,
        metrics,
        media,
        quoted,
        reply_to: s
            .in_reply_to_status_id_str
            .clone()
            .or_else(|| s.in_reply_to_status_id.clone()),
        is_retweet,
        sensitive,
    })
}

/// The status's media and the `t.co` links that stand for them in its text. `extended_entities`
/// (all items, with video variants) wins over `entities.media` (v1.1: first photo only), which wins
/// over agntdata's flat `media_url[]`/`video_url`.
fn media_of(s: &wire::Status) -> (Vec<Media>, Vec<String>) {
    let entities = [&s.extended_entities, &s.entities]
        .into_iter()
        .flatten()
        .find(|e| !e.media.is_empty());
    if let Some(e) = entities {
        let links = e.media.iter().filter_map(|m| m.url.clone()).collect();
        let media = e.media.iter().filter_map(media_from_entity).collect();
        return (media, links);
    }
    (flat_media(s), Vec::new())
}

fn media_from_entity(m: &wire::MediaEntity) -> Option<Media> {
    let (kind, type_name) = normalize::media_kind(m.kind.as_deref()?);
    let variants: Vec<Variant> = m
        .video_info
        .iter()
        .flat_map(|v| v.variants.iter())
        .filter_map(|v| {
            Some(Variant {
                bitrate: v.bitrate,
                content_type: non_empty(&v.content_type),
                url: non_empty(&v.url)?,
            })
        })
        .collect();
    let (width, height) = dimensions(m);
    Some(Media {
        kind,
        url: non_empty(&m.media_url_https)
            .or_else(|| non_empty(&m.media_url))
            .map(|u| without_name_param(&u)),
        width,
        height,
        alt_text: non_empty(&m.ext_alt_text),
        duration_ms: m.video_info.as_ref().and_then(|v| v.duration_millis),
        video_url: Media::best_mp4(&variants),
        variants,
        type_name,
    })
}

/// `original_info`, else the largest rendition in `sizes` (same aspect ratio, maybe scaled down).
fn dimensions(m: &wire::MediaEntity) -> (Option<u32>, Option<u32>) {
    let to_u32 = |n: Option<u64>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
    if let Some(o) = &m.original_info {
        let (w, h) = (to_u32(o.width), to_u32(o.height));
        if w.is_some() && h.is_some() {
            return (w, h);
        }
    }
    let size = m
        .sizes
        .as_ref()
        .and_then(|s| s.orig.as_ref().or(s.large.as_ref()));
    match size {
        Some(s) => (to_u32(s.w), to_u32(s.h)),
        None => (None, None),
    }
}

/// agntdata's flat fields, used when a tweet has no media entities: `media_url[]` (photos, or
/// the poster frames of videos and GIFs, told apart by their path) and `video_url`.
fn flat_media(s: &wire::Status) -> Vec<Media> {
    let mut media: Vec<Media> = strings_of(s.media_url.as_ref())
        .into_iter()
        .map(|url| {
            let kind = if url.contains("/tweet_video_thumb/") {
                MediaKind::Gif
            } else if url.contains("video_thumb/") {
                MediaKind::Video
            } else {
                MediaKind::Photo
            };
            Media {
                kind,
                url: Some(without_name_param(&url)),
                width: None,
                height: None,
                alt_text: None,
                duration_ms: None,
                variants: Vec::new(),
                video_url: None,
                type_name: None,
            }
        })
        .collect();
    let variants = flat_variants(s.video_url.as_ref());
    if variants.is_empty() {
        return media;
    }
    let video_url = Media::best_mp4(&variants).or_else(|| variants.first().map(|v| v.url.clone()));
    let slot = media
        .iter()
        .position(|m| m.kind != MediaKind::Photo)
        .or(if media.is_empty() { None } else { Some(0) });
    match slot {
        Some(i) => {
            let m = &mut media[i];
            if m.kind == MediaKind::Photo {
                m.kind = MediaKind::Video;
            }
            m.variants = variants;
            m.video_url = video_url;
        }
        None => media.push(Media {
            kind: MediaKind::Video,
            url: None,
            width: None,
            height: None,
            alt_text: None,
            duration_ms: None,
            variants,
            video_url,
            type_name: None,
        }),
    }
    media
}

fn strings_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `video_url` as a string, a list of strings, or a list of `{bitrate, content_type, url}`.
fn flat_variants(v: Option<&Value>) -> Vec<Variant> {
    let from_url = |url: String| Variant {
        bitrate: None,
        content_type: None,
        url,
    };
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) if !s.trim().is_empty() => Some(from_url(s.trim().to_string())),
                Value::Object(_) => {
                    let w: wire::WireVariant = serde_json::from_value(item.clone()).ok()?;
                    Some(Variant {
                        bitrate: w.bitrate,
                        content_type: non_empty(&w.content_type),
                        url: non_empty(&w.url)?,
                    })
                }
                _ => None,
            })
            .collect(),
        other => strings_of(other).into_iter().map(from_url).collect(),
    }
}

/// Drops a `name=` size parameter (`?format=jpg&name=small`) so the caller picks the size.
fn without_name_param(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if url.query().is_none() {
        return raw.to_string();
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "name")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

fn bad(detail: &str) -> ProviderError {
    ProviderError::BadResponse {
        provider: KIND,
        detail: detail.to_string(),
    }
}

fn not_json(resp: &Response, e: &serde_json::Error) -> ProviderError {
    let what = if looks_like_html(&resp.body) {
        "an HTML page".to_string()
    } else if resp.body.iter().all(u8::is_ascii_whitespace) {
        "an empty body".to_string()
    } else {
        format!("invalid JSON ({e})")
    };
    ProviderError::BadResponse {
        provider: KIND,
        detail: format!("expected JSON, got {what}"),
    }
}

fn looks_like_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]);
    // HTML or XML error pages from proxies and gateways; JSON never starts with `<`.
    start.trim_start().starts_with('<')
}

/// The `<title>` of an HTML error page, if it has one.
fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(8192)]).to_string();
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = http::snippet(&normalize::decode_entities(text.get(open_end..close)?));
    (!title.is_empty()).then_some(title)
}

/// A readable one-liner out of FastAPI's `detail`: `user_id: field required; limit: …`.
fn validation_message(detail: &Value) -> Option<String> {
    match detail {
        Value::String(s) if !s.trim().is_empty() => Some(http::snippet(s)),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    serde_json::from_value::<wire::ValidationItem>(item.clone()).ok()
                })
                .filter_map(|item| {
                    let field: Vec<String> = item
                        .loc
                        .iter()
                        .filter_map(|l| match l {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        })
                        .collect();
                    // `body` only says the field was in the request body.
                    let field = match field.split_first() {
                        Some((first, rest)) if first == "body" && !rest.is_empty() => {
                            rest.join(".")
                        }
                        _ => field.join("."),
                    };
                    let msg = non_empty(&item.msg).or_else(|| non_empty(&item.kind));
                    match msg {
                        Some(m) if field.is_empty() => Some(m),
                        Some(m) => Some(format!("{field}: {m}")),
                        None if field.is_empty() => None,
                        None => Some(format!("{field}: invalid")),
                    }
                })
                .collect();
            if parts.is_empty() {
                return None;
            }
            let mut message = parts
                .iter()
                .take(MAX_FIELD_ERRORS)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            if parts.len() > MAX_FIELD_ERRORS {
                message.push_str(&format!("; and {} more", parts.len() - MAX_FIELD_ERRORS));
            }
            Some(http::snippet(&message))
        }
        _ => None,
    }
}

fn what_of(user: &UserRef) -> String {
    match (&user.handle, &user.id) {
        (Some(h), Some(id)) => format!("@{h} (user {id})"),
        _ => user.label(),
    }
}

/// Maps an error envelope by its `code`, whatever the HTTP status. `None` when the body carries
/// no recognisable error.
fn error_from_body(
    body: &wire::ErrorBody,
    resp: &Response,
    user: &UserRef,
) -> Option<ProviderError> {
    let info: Option<wire::ErrorInfo> = match &body.error {
        Some(v @ Value::Object(_)) => serde_json::from_value(v.clone()).ok(),
        Some(Value::String(s)) => Some(wire::ErrorInfo {
            code: None,
            message: Some(s.clone()),
            details: None,
        }),
        _ => None,
    };
    let info = info?;
    let code = info
        .code
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let details = info.details.as_ref().and_then(validation_message);
    let message = match (non_empty(&info.message).map(|m| http::snippet(&m)), details) {
        (Some(m), Some(d)) => http::snippet(&format!("{m}: {d}")),
        (Some(m), None) => m,
        (None, Some(d)) => d,
        (None, None) if !code.is_empty() => http::snippet(&code),
        (None, None) => format!("HTTP {}", resp.status),
    };
    Some(match code.as_str() {
        "UNAUTHORIZED" | "INVALID_API_KEY" | "MISSING_API_KEY" | "INVALID_KEY" | "FORBIDDEN" => {
            ProviderError::Unauthorized {
                provider: KIND,
                message,
            }
        }
        "INSUFFICIENT_CREDITS" | "PAYMENT_REQUIRED" | "QUOTA_EXCEEDED" | "CREDITS_EXHAUSTED" => {
            ProviderError::QuotaExhausted {
                provider: KIND,
                message,
            }
        }
        "RATE_LIMITED" | "RATE_LIMIT_EXCEEDED" | "TOO_MANY_REQUESTS" => {
            http::rate_limited(KIND, &resp.headers)
        }
        "NOT_FOUND" | "USER_NOT_FOUND" => ProviderError::NotFound {
            provider: KIND,
            what: what_of(user),
        },
        "VALIDATION_ERROR" | "BAD_REQUEST" | "INVALID_REQUEST" => ProviderError::InvalidRequest {
            provider: KIND,
            message,
        },
        _ => by_status(resp, message, user),
    })
}

fn by_status(resp: &Response, message: String, user: &UserRef) -> ProviderError {
    match resp.status {
        401 | 403 => ProviderError::Unauthorized {
            provider: KIND,
            message,
        },
        402 => ProviderError::QuotaExhausted {
            provider: KIND,
            message,
        },
        404 => ProviderError::NotFound {
            provider: KIND,
            what: what_of(user),
        },
        429 => http::rate_limited(KIND, &resp.headers),
        s if s >= 500 => ProviderError::Upstream {
            provider: KIND,
            status: Some(s),
            message,
        },
        s if (400..500).contains(&s) => ProviderError::InvalidRequest {
            provider: KIND,
            message,
        },
        s if (200..300).contains(&s) => ProviderError::BadResponse {
            provider: KIND,
            detail: format!("the API reported an error: {message}"),
        },
        s => ProviderError::Upstream {
            provider: KIND,
            status: Some(s),
            message,
        },
    }
}

/// Maps a non-2xx answer: by the envelope's code when there is one, else by status.
fn map_error(resp: &Response, user: &UserRef) -> ProviderError {
    if resp.status == 429 {
        return http::rate_limited(KIND, &resp.headers);
    }
    let body = serde_json::from_slice::<wire::ErrorBody>(&resp.body).ok();
    if let Some(e) = body.as_ref().and_then(|b| error_from_body(b, resp, user)) {
        return e;
    }
    let message = body
        .as_ref()
        .and_then(|b| {
            b.detail
                .as_ref()
                .and_then(validation_message)
                .or_else(|| non_empty(&b.message).map(|m| http::snippet(&m)))
        })
        .or_else(|| html_title(&resp.body))
        .or_else(|| {
            // Plain text is quoted; JSON without a message and HTML without a title are not.
            (body.is_none() && !looks_like_html(&resp.body))
                .then(|| resp.snippet())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| match resp.status {
            422 => "validation failed (HTTP 422)".to_string(),
            s => format!("HTTP {s}"),
        });
    by_status(resp, message, user)
}
