//! The official X API v2 adapter: `GET /2/users/by/username/{username}` for profiles and
//! `GET /2/users/{id}/tweets` (with media, referenced tweets and authors expanded) for pages.
//!
//! The v2 API returns flat objects plus an `includes` side table; this module joins them back
//! together (media by `media_key`, users and referenced tweets by id) into `domain` types.

mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::{
    Affiliate, Author, Cursor, Media, MediaKind, Metrics, Page, Profile, ProviderKind, Tweet,
    UserRef, Variant,
};
use crate::error::ProviderError;
use crate::http::{self, HttpClient, Response};
use crate::provider::normalize::{self, LinkEntity};
use crate::provider::{Provider, ProviderConfig};
use crate::secret::Secret;

use wire::{ApiError, ProblemBody, TweetsResponse, UserResponse, WMedia, WTweet, WUser};

const KIND: ProviderKind = ProviderKind::Xapi;

/// Every user field the `Profile` model can hold.
const USER_FIELDS: &str = "id,name,username,public_metrics,affiliation,verified,verified_type,\
profile_image_url,profile_banner_url,description,location,created_at,protected";
const TWEET_FIELDS: &str = "id,text,created_at,lang,public_metrics,entities,attachments,\
referenced_tweets,in_reply_to_user_id,possibly_sensitive,author_id,note_tweet";
const MEDIA_FIELDS: &str = "media_key,type,url,preview_image_url,width,height,alt_text,duration_ms,variants,public_metrics";
const EXPANSIONS: &str = "attachments.media_keys,referenced_tweets.id,\
referenced_tweets.id.attachments.media_keys,author_id";

#[derive(Debug, Clone)]
pub struct XApi {
    config: ProviderConfig,
    http: HttpClient,
    /// The last handle resolved to a user id (lowercased handle, id), so a handle-only `UserRef`
    /// costs one lookup per provider instance, not one per page.
    resolved: Arc<Mutex<Option<(String, String)>>>,
}

impl XApi {
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        Self {
            config,
            http,
            resolved: Arc::new(Mutex::new(None)),
        }
    }

    fn cached_id(&self, handle: &str) -> Option<String> {
        let guard = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(h, _)| h.eq_ignore_ascii_case(handle))
            .map(|(_, id)| id.clone())
    }

    fn remember_id(&self, handle: &str, id: &str) {
        let mut guard = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        *guard = Some((handle.to_ascii_lowercase(), id.to_string()));
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, ProviderError> {
        let request = self
            .http
            .reqwest()
            .get(self.config.endpoint(path))
            .query(query)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, self.config.bearer_header()?);
        self.http.send(KIND, request).await
    }

    /// The numeric id for `user`, looking the handle up (once per instance) when only it is set.
    async fn user_id(&self, user: &UserRef) -> Result<String, ProviderError> {
        if let Some(id) = user.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // The id goes into the path: anything but digits could change the request.
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ProviderError::InvalidRequest {
                    provider: KIND,
                    message: format!("{:?} is not a numeric X user id", http::snippet(id)),
                });
            }
            return Ok(id.to_string());
        }
        let handle = user
            .handle
            .as_deref()
            .map(|h| h.trim().trim_start_matches('@'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ProviderError::Config {
                provider: KIND,
                message: "a user handle or id is required".into(),
            })?;
        if let Some(id) = self.cached_id(handle) {
            return Ok(id);
        }
        let profile = self
            .lookup_user(handle)
            .await?
            .ok_or_else(|| not_found(&user.label()))?;
        let id = profile.id.ok_or_else(|| ProviderError::BadResponse {
            provider: KIND,
            detail: "user lookup returned no id".into(),
        })?;
        self.remember_id(handle, &id);
        Ok(id)
    }
}

impl Provider for XApi {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn needs_user_id(&self) -> bool {
        true
    }

    async fn lookup_user(&self, handle: &str) -> Result<Option<Profile>, ProviderError> {
        let handle = handle.trim().trim_start_matches('@');
        if handle.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                message: "empty user handle".into(),
            });
        }
        let label = format!("@{handle}");
        // The handle goes in the path: percent-encode whatever is not a plain username character
        // so a stray `/` or `?` cannot change the request.
        let encoded: String =
            url::form_urlencoded::byte_serialize(handle.as_bytes()).collect::<String>();
        let path = format!("/2/users/by/username/{encoded}");
        let resp = self.get(&path, &[("user.fields", USER_FIELDS)]).await?;
        if !resp.is_success() {
            return Err(map_status(&resp, &label, &self.config.key));
        }
        let body: UserResponse = parse_json(&resp, &self.config.key)?;
        match body.data {
            Some(user) => {
                let profile = to_profile(&user, Some(handle));
                if let Some(id) = &profile.id {
                    self.remember_id(handle, id);
                }
                Ok(Some(profile))
            }
            None => Err(user_error(&body.errors, &label).unwrap_or_else(|| not_found(&label))),
        }
    }

    async fn fetch_page(
        &self,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        let id = self.user_id(user).await?;
        let max_results = self.config.page_size.clamp(5, 100).to_string();
        let mut query: Vec<(&str, &str)> = vec![
            ("max_results", &max_results),
            ("expansions", EXPANSIONS),
            ("tweet.fields", TWEET_FIELDS),
            ("media.fields", MEDIA_FIELDS),
            ("user.fields", USER_FIELDS),
        ];
        if !self.config.include_retweets {
            query.push(("exclude", "retweets"));
        }
        if let Some(c) = cursor.filter(|c| !c.0.is_empty()) {
            query.push(("pagination_token", &c.0));
        }
        let path = format!("/2/users/{id}/tweets");
        let resp = self.get(&path, &query).await?;
        self.parse_page(&resp, &id, user, cursor)
    }
}

impl XApi {
    /// Turns one `/2/users/{id}/tweets` answer (status, headers, body) into a page: everything
    /// `fetch_page` does after the request. Public so the fuzz targets run exactly this code.
    pub fn parse_page(
        &self,
        resp: &Response,
        user_id: &str,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        let label = user.label();
        if !resp.is_success() {
            return Err(map_status(resp, &label, &self.config.key));
        }
        let body: TweetsResponse = parse_json(resp, &self.config.key)?;
        let page = build_page(
            body,
            user_id,
            user.handle.as_deref(),
            self.config.include_retweets,
            &label,
        )?;
        // A token that points back at the page just fetched would loop forever.
        let next_cursor = page.next_cursor.filter(|n| Some(n) != cursor);
        // The `errors` quoted as warnings are API text too: never let them carry the token, even
        // split by characters the sanitizer removes.
        let key = &self.config.key;
        let warnings = page
            .warnings
            .into_iter()
            .map(|w| key.redact(&crate::sanitize::line(&w)))
            .collect();
        Ok(Page {
            next_cursor,
            warnings,
            ..page
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    resp: &Response,
    key: &Secret,
) -> Result<T, ProviderError> {
    serde_json::from_slice(&resp.body).map_err(|e| ProviderError::BadResponse {
        provider: KIND,
        // Belt and braces: should a server ever echo the token back, it never reaches a message.
        detail: key.redact(&format!(
            "HTTP {} body is not the expected JSON ({}): {}",
            resp.status,
            json_failure(&e),
            resp.snippet()
        )),
    })
}

fn json_failure(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

fn not_found(what: &str) -> ProviderError {
    ProviderError::NotFound {
        provider: KIND,
        what: what.to_string(),
    }
}

/// One readable line for an `errors` entry or problem document.
fn describe(e: &ApiError) -> String {
    let title = e.title.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let detail = e
        .detail
        .as_deref()
        .or(e.message.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let line = match (title, detail) {
        (Some(t), Some(d)) if d.starts_with(t) => d.to_string(),
        (Some(t), Some(d)) => format!("{t}: {d}"),
        (Some(t), None) => t.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => e
            .kind
            .clone()
            .unwrap_or_else(|| "unspecified error".to_string()),
    };
    http::snippet(&line)
}

/// Whether an `errors` entry is about the user whose timeline was requested (rather than a
/// referenced tweet, a mentioned user, …).
fn is_about_requested_user(e: &ApiError, id: Option<&str>, handle: Option<&str>) -> bool {
    if e.resource_type.as_deref() != Some("user") {
        return false;
    }
    if matches!(e.parameter.as_deref(), Some("id" | "username")) {
        return true;
    }
    let matches = |v: &Option<String>| {
        v.as_deref().is_some_and(|v| {
            id.is_some_and(|id| v == id) || handle.is_some_and(|h| v.eq_ignore_ascii_case(h))
        })
    };
    matches(&e.value) || matches(&e.resource_id)
}

/// The typed error for an `errors` entry about a user: suspended, protected or not found.
fn classify_user_error(e: &ApiError, what: &str) -> ProviderError {
    let text = format!(
        "{} {} {}",
        e.title.as_deref().unwrap_or(""),
        e.detail.as_deref().unwrap_or(""),
        e.kind.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    let what = what.to_string();
    if text.contains("suspended") {
        ProviderError::Suspended {
            provider: KIND,
            what,
        }
    } else if text.contains("not-authorized")
        || text.contains("not authorized")
        || text.contains("authorization error")
        || text.contains("protected")
    {
        ProviderError::Protected {
            provider: KIND,
            what,
        }
    } else {
        ProviderError::NotFound {
            provider: KIND,
            what,
        }
    }
}

/// For a lookup answer without `data`: the first user-level error, typed.
fn user_error(errors: &[ApiError], what: &str) -> Option<ProviderError> {
    errors
        .iter()
        .find(|e| e.resource_type.as_deref() == Some("user") || e.resource_type.is_none())
        .map(|e| classify_user_error(e, what))
}

/// Maps a non-2xx response to a typed error from its status and (problem-details) body.
fn map_status(resp: &Response, what: &str, key: &Secret) -> ProviderError {
    let status = resp.status;
    let problem: Option<ProblemBody> = serde_json::from_slice(&resp.body).ok();
    let message = key.redact(&message_of(resp, problem.as_ref()));
    let haystack = match &problem {
        Some(p) => format!(
            "{} {} {} {}",
            p.problem.title.as_deref().unwrap_or(""),
            p.problem.kind.as_deref().unwrap_or(""),
            p.problem.detail.as_deref().unwrap_or(""),
            p.problem.reason.as_deref().unwrap_or("")
        ),
        None => String::from_utf8_lossy(&resp.body).into_owned(),
    }
    .to_ascii_lowercase();
    let quota = haystack.contains("usagecap")
        || haystack.contains("usage-capped")
        || haystack.contains("usage cap")
        || haystack.contains("creditsdepleted")
        || haystack.contains("credits-depleted")
        || haystack.contains("credits depleted");
    // A 403 about the user itself (suspended, protected) rather than about the client.
    if status == 403
        && let Some(e) = problem.as_ref().and_then(user_problem)
    {
        return classify_user_error(e, what);
    }
    match status {
        402 => ProviderError::QuotaExhausted {
            provider: KIND,
            message,
        },
        _ if quota && (400..500).contains(&status) => ProviderError::QuotaExhausted {
            provider: KIND,
            message,
        },
        401 | 403 => ProviderError::Unauthorized {
            provider: KIND,
            message,
        },
        404 => not_found(what),
        429 => http::rate_limited(KIND, &resp.headers),
        400..=499 => ProviderError::InvalidRequest {
            provider: KIND,
            message,
        },
        500..=599 => ProviderError::Upstream {
            provider: KIND,
            status: Some(status),
            message,
        },
        _ => ProviderError::BadResponse {
            provider: KIND,
            detail: format!("unexpected HTTP {status}: {message}"),
        },
    }
}

/// The part of a 403 problem body that is about a user resource, if any.
fn user_problem(p: &ProblemBody) -> Option<&ApiError> {
    let about_user = |e: &ApiError| {
        e.resource_type.as_deref() == Some("user")
            || e.kind
                .as_deref()
                .is_some_and(|k| k.contains("not-authorized-for-resource"))
    };
    if about_user(&p.problem) {
        Some(&p.problem)
    } else {
        p.errors.iter().find(|e| about_user(e))
    }
}

fn message_of(resp: &Response, problem: Option<&ProblemBody>) -> String {
    let status = resp.status;
    match problem {
        Some(p) if p.problem.title.is_some() || p.problem.detail.is_some() => {
            let mut m = describe(&p.problem);
            if let Some(first) = p.errors.first() {
                m = http::snippet(&format!("{m}; {}", describe(first)));
            }
            m
        }
        Some(p) if !p.errors.is_empty() => describe(&p.errors[0]),
        _ => {
            let s = resp.snippet();
            if s.is_empty() {
                format!("HTTP {status}")
            } else {
                s
            }
        }
    }
}

fn to_profile(u: &WUser, fallback_handle: Option<&str>) -> Profile {
    let m = u.public_metrics.unwrap_or_default();
    Profile {
        id: u.id.clone(),
        handle: u
            .username
            .clone()
            .or_else(|| fallback_handle.map(str::to_string))
            .unwrap_or_default(),
        name: u.name.clone(),
        followers: m.followers_count,
        following: m.following_count,
        tweets: m.tweet_count,
        media_count: m.media_count,
        verified: u.verified,
        verified_type: u.verified_type.clone().filter(|s| !s.is_empty()),
        affiliate: u.affiliation.as_ref().and_then(|a| {
            let a = Affiliate {
                label: a.description.clone().filter(|s| !s.is_empty()),
                badge_url: a.badge_url.clone().filter(|s| !s.is_empty()),
                url: a.url.clone().filter(|s| !s.is_empty()),
            };
            (a.label.is_some() || a.badge_url.is_some() || a.url.is_some()).then_some(a)
        }),
        avatar_url: u.profile_image_url.clone(),
        banner_url: u.profile_banner_url.clone(),
        bio: u.description.clone(),
        location: u.location.clone().filter(|s| !s.is_empty()),
        protected: u.protected,
        created_at: u.created_at.as_deref().and_then(normalize::parse_date),
    }
}

fn to_media(m: &WMedia) -> Option<Media> {
    let (kind, type_name) = normalize::media_kind(m.kind.as_deref()?);
    let variants: Vec<Variant> = m
        .variants
        .iter()
        .filter_map(|v| {
            Some(Variant {
                bitrate: v.bit_rate,
                content_type: v.content_type.clone(),
                url: v.url.clone().filter(|u| !u.is_empty())?,
            })
        })
        .collect();
    let url = match kind {
        MediaKind::Photo => m.url.clone().or_else(|| m.preview_image_url.clone()),
        MediaKind::Video | MediaKind::Gif => m.preview_image_url.clone().or_else(|| m.url.clone()),
        // `url` of an unknown type may be the media file itself (an MP3); only the preview
        // image is known to be a picture.
        MediaKind::Other => m.preview_image_url.clone(),
    };
    Some(Media {
        kind,
        url,
        width: m.width.and_then(|w| u32::try_from(w).ok()),
        height: m.height.and_then(|h| u32::try_from(h).ok()),
        alt_text: m.alt_text.clone().filter(|s| !s.is_empty()),
        duration_ms: m.duration_ms,
        video_url: Media::best_mp4(&variants),
        variants,
        type_name,
    })
}

/// The `includes` side tables, indexed.
struct Lookup<'a> {
    media: HashMap<&'a str, &'a WMedia>,
    users: HashMap<&'a str, &'a WUser>,
    tweets: HashMap<&'a str, &'a WTweet>,
}

impl<'a> Lookup<'a> {
    fn new(inc: &'a wire::Includes) -> Self {
        Self {
            media: inc
                .media
                .iter()
                .filter_map(|m| Some((m.media_key.as_deref()?, m)))
                .collect(),
            users: inc
                .users
                .iter()
                .filter_map(|u| Some((u.id.as_deref()?, u)))
                .collect(),
            tweets: inc
                .tweets
                .iter()
                .filter_map(|t| Some((t.id.as_deref()?, t)))
                .collect(),
        }
    }

    fn media_of(&self, t: &WTweet) -> Vec<Media> {
        t.attachments
            .iter()
            .flat_map(|a| a.media_keys.iter())
            .filter_map(|k| self.media.get(k.as_str()))
            .filter_map(|m| to_media(m))
            .collect()
    }

    fn referenced(&self, t: &WTweet, kind: &str) -> Option<&'a WTweet> {
        let id = reference(t, kind)?;
        self.tweets.get(id).copied()
    }
}

fn reference<'t>(t: &'t WTweet, kind: &str) -> Option<&'t str> {
    t.referenced_tweets
        .iter()
        .find(|r| r.kind.as_deref() == Some(kind))
        .and_then(|r| r.id.as_deref())
}

fn display_text(t: &WTweet, has_media: bool) -> String {
    // A long post's full text lives in note_tweet; `text` is then truncated.
    let (raw, entities) = match &t.note_tweet {
        Some(n) if n.text.as_deref().is_some_and(|s| !s.is_empty()) => {
            (n.text.as_deref().unwrap_or(""), n.entities.as_ref())
        }
        _ => (t.text.as_deref().unwrap_or(""), t.entities.as_ref()),
    };
    let mut links = Vec::new();
    let mut media_links = Vec::new();
    for u in entities.iter().flat_map(|e| e.urls.iter()) {
        let Some(short) = u.url.clone().filter(|s| !s.is_empty()) else {
            continue;
        };
        let display = u.display_url.as_deref().unwrap_or("");
        if u.media_key.is_some()
            || display.starts_with("pic.x.com/")
            || display.starts_with("pic.twitter.com/")
        {
            media_links.push(short);
        } else {
            links.push(LinkEntity {
                short,
                expanded: u.expanded_url.clone(),
            });
        }
    }
    let text = normalize::display_text(raw, &links, &media_links);
    if has_media && media_links.is_empty() {
        normalize::strip_trailing_tco(&text)
    } else {
        text
    }
}

fn author_of(t: &WTweet, lookup: &Lookup<'_>) -> Author {
    let user = t
        .author_id
        .as_deref()
        .and_then(|id| lookup.users.get(id).copied());
    Author {
        id: t.author_id.clone(),
        handle: user.and_then(|u| u.username.clone()),
        name: user.and_then(|u| u.name.clone()),
    }
}

fn metrics(t: &WTweet) -> Metrics {
    let m = t.public_metrics.unwrap_or_default();
    Metrics {
        likes: m.like_count,
        retweets: m.retweet_count,
        replies: m.reply_count,
        quotes: m.quote_count,
        bookmarks: m.bookmark_count,
        views: m.impression_count,
    }
}

/// Converts one v2 tweet; `media` is passed in because retweets borrow the original's.
fn to_tweet(t: &WTweet, author: Author, media: Vec<Media>, quoted: Option<Tweet>) -> Tweet {
    let id = t.id.clone().unwrap_or_default();
    let text = display_text(t, !media.is_empty());
    Tweet {
        url: Tweet::canonical_url(author.handle.as_deref(), &id),
        id,
        created_at: t.created_at.as_deref().and_then(normalize::parse_date),
        text,
        lang: t.lang.clone(),
        author,
        metrics: metrics(t),
        media,
        quoted: quoted.map(Box::new),
        reply_to: reference(t, "replied_to").map(str::to_string),
        is_retweet: reference(t, "retweeted").is_some(),
        sensitive: t.possibly_sensitive,
    }
}

/// A referenced (quoted) tweet from includes, with its own media and author; not recursed further.
fn to_referenced_tweet(t: &WTweet, lookup: &Lookup<'_>) -> Tweet {
    to_tweet(t, author_of(t, lookup), lookup.media_of(t), None)
}

fn build_page(
    body: TweetsResponse,
    user_id: &str,
    handle: Option<&str>,
    include_retweets: bool,
    label: &str,
) -> Result<Page, ProviderError> {
    let lookup = Lookup::new(&body.includes);
    let warnings: Vec<String> = body.errors.iter().map(describe).collect();
    let next_cursor = body
        .meta
        .next_token
        .clone()
        .filter(|s| !s.is_empty())
        .map(Cursor);

    let Some(data) = body.data.as_ref() else {
        // Errors only: fatal when they are about the requested user, otherwise an empty page.
        if next_cursor.is_none()
            && let Some(e) = body
                .errors
                .iter()
                .find(|e| is_about_requested_user(e, Some(user_id), handle))
        {
            return Err(classify_user_error(e, label));
        }
        return Ok(Page {
            tweets: Vec::new(),
            next_cursor,
            profile: None,
            warnings,
        });
    };

    let profile = lookup.users.get(user_id).map(|u| to_profile(u, handle));
    let mut tweets = Vec::new();
    for t in data {
        if t.id.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        let retweeted = reference(t, "retweeted").is_some();
        if retweeted && !include_retweets {
            continue;
        }
        let mut author = author_of(t, &lookup);
        if author.id.is_none() {
            author.id = Some(user_id.to_string());
        }
        if author.handle.is_none() && author.id.as_deref() == Some(user_id) {
            author.handle = profile
                .as_ref()
                .map(|p| p.handle.clone())
                .or_else(|| handle.map(str::to_string));
        }
        let mut media = lookup.media_of(t);
        if media.is_empty() && retweeted {
            // A retweet's own attachments may be missing; the original's are what it shows.
            if let Some(orig) = lookup.referenced(t, "retweeted") {
                media = lookup.media_of(orig);
            }
        }
        let quoted = lookup
            .referenced(t, "quoted")
            .map(|q| to_referenced_tweet(q, &lookup));
        let quoted_has_media = quoted.as_ref().is_some_and(|q| !q.media.is_empty());
        if media.is_empty() && !quoted_has_media {
            continue;
        }
        tweets.push(to_tweet(t, author, media, quoted));
    }
    Ok(Page {
        tweets,
        next_cursor,
        profile,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_joins_title_and_detail() {
        let e = ApiError {
            title: Some("Not Found Error".into()),
            detail: Some("Could not find tweet with id: [1].".into()),
            ..ApiError::default()
        };
        assert_eq!(
            describe(&e),
            "Not Found Error: Could not find tweet with id: [1]."
        );
    }

    #[test]
    fn mention_errors_are_not_about_the_requested_user() {
        let e = ApiError {
            resource_type: Some("user".into()),
            parameter: Some("entities.mentions.username".into()),
            value: Some("leeseunggi".into()),
            ..ApiError::default()
        };
        assert!(!is_about_requested_user(&e, Some("1"), Some("nasa")));
        assert!(is_about_requested_user(&e, Some("1"), Some("LeeSeungGi")));
    }
}
