//! KeyAPI (`https://api.keyapi.ai`): `GET /v1/twitter/usermedia?screenname=…&rest_id=…&cursor=…`
//! with `Authorization: Bearer <key>`, one credit per request.
//!
//! Answers are wrapped in `{code, message, data}`; `code != 0` is an error even on HTTP 200.
//! `data` holds `timeline[]`, `next_cursor`, `status` and `user{…}` (the twitter-api45 usermedia
//! shape). Mapping decisions:
//!
//! * Profile: `sub_count` → followers, `friends` → following, `statuses_count` → tweets,
//!   `media_count`, `blue_verified` (or `verified`) → verified, `verification_type` (lowercased)
//!   → verified_type, else `"blue"` when `blue_verified` is true; `affiliates.label`
//!   {`description`, `url.url`, `badge.url`} → affiliate (`[]` or absent → none); `avatar`,
//!   `header_image` → banner, `desc` → bio (entities decoded), `location`, `protected` (null →
//!   unknown), `created_at`. The handle is `user.screen_name`, else `user.profile` (timeline.php
//!   puts the screen name there), else the handle that was asked for. Empty strings are `None`.
//! * Tweets: `favorites` → likes, `retweets`, `replies`, `quotes`, `bookmarks`, `views` (a string),
//!   `reply_to`, `quoted` (same shape, own media), retweet when `retweeted`/`retweeted_tweet` is
//!   present. A retweet without media of its own borrows the retweeted tweet's media.
//! * Media: `media.photo[]` are photos; `media.video[]` holds videos *and* GIFs. An item is a GIF
//!   when an explicit `type` says `animated_gif`; else when its URLs are X's GIF URLs
//!   (`video.twimg.com/tweet_video/…`, poster `pbs.twimg.com/tweet_video_thumb/…`); else when it
//!   has only MP4 variants and every one reports bitrate 0 (X encodes GIFs as one bitrate-0 MP4
//!   and gives real videos an HLS playlist plus bitrated MP4s). Otherwise it is a video.
//!   `duration` is taken as milliseconds (X's `duration_millis`; `null` in all recordings), or
//!   seconds when it has a fractional part. Duplicate items (same id) are dropped.
//! * Only tweets with media of their own, or whose quoted tweet has media, are kept; duplicate
//!   tweet ids within a page are dropped. An empty/absent `next_cursor` ends the walk.
//!
//! `lookup_user` returns `Ok(None)`: KeyAPI has no cheap lookup, and a page-1 request would cost a
//! credit only to throw its timeline away. The profile arrives with every page instead.

mod wire;

use std::collections::HashSet;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::Value;

use crate::domain::{
    Affiliate, Author, Cursor, Media, MediaKind, Metrics, Page, Profile, ProviderKind, Tweet,
    UserRef, Variant,
};
use crate::error::ProviderError;
use crate::http::{self, HttpClient, Response};
use crate::provider::normalize::{
    self, LinkEntity, count_from_value, decode_entities, display_text, parse_date,
    strip_trailing_tco,
};
use crate::provider::{Provider, ProviderConfig};

const KIND: ProviderKind = ProviderKind::Keyapi;
const PATH: &str = "/v1/twitter/usermedia";

#[derive(Debug, Clone)]
pub struct KeyApi {
    config: ProviderConfig,
    http: HttpClient,
}

impl KeyApi {
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    fn bearer(&self) -> Result<HeaderValue, ProviderError> {
        self.config.bearer_header()
    }
}

impl Provider for KeyApi {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn needs_user_id(&self) -> bool {
        false
    }

    async fn lookup_user(&self, _handle: &str) -> Result<Option<Profile>, ProviderError> {
        Ok(None)
    }

    async fn fetch_page(
        &self,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        // `screenname` is required by the API; without it the request would only burn a credit.
        let Some(handle) = user
            .handle
            .as_deref()
            .map(|h| h.trim().trim_start_matches('@'))
            .filter(|h| !h.is_empty())
        else {
            return Err(ProviderError::InvalidRequest {
                provider: KIND,
                message: format!(
                    "keyapi needs the account's @handle, not only {}",
                    user.label()
                ),
            });
        };
        let mut query: Vec<(&str, &str)> = vec![("screenname", handle)];
        if let Some(id) = user.id.as_deref().filter(|id| !id.trim().is_empty()) {
            query.push(("rest_id", id.trim()));
        }
        if let Some(c) = cursor.filter(|c| !c.0.is_empty()) {
            query.push(("cursor", c.0.as_str()));
        }
        let request = self
            .http
            .reqwest()
            .get(self.config.endpoint(PATH))
            .query(&query)
            .header(AUTHORIZATION, self.bearer()?)
            .header(ACCEPT, "application/json");
        let resp = self.http.send(KIND, request).await?;
        self.parse_page(&resp, handle)
    }
}

impl KeyApi {
    /// Turns one usermedia answer (status, headers, body) into a page: everything `fetch_page`
    /// does after the request. Public so the fuzz targets run exactly this code.
    pub fn parse_page(&self, resp: &Response, handle: &str) -> Result<Page, ProviderError> {
        let what = format!("@{handle}");
        // (Control characters inside an echoed key are dealt with by `ProviderError::cleaned`,
        // which `AnyProvider` applies to every error: sanitize, then mask.)
        let data = self.unwrap_envelope(resp, &what)?;
        build_page(data, handle, &what)
    }

    /// Checks the HTTP status and the envelope, and hands back the parsed `data`.
    fn unwrap_envelope(&self, resp: &Response, what: &str) -> Result<wire::Data, ProviderError> {
        let body = String::from_utf8_lossy(&resp.body);
        let parsed: Option<Value> = serde_json::from_str(&body).ok();
        let envelope: Option<wire::Envelope> = parsed
            .as_ref()
            .filter(|v| v.is_object())
            .and_then(|v| serde_json::from_value(v.clone()).ok());

        if !resp.is_success() {
            let message = envelope
                .as_ref()
                .and_then(|e| e.message.clone())
                .filter(|m| !m.trim().is_empty())
                .or_else(|| Some(body.to_string()).filter(|b| !b.trim().is_empty()))
                .unwrap_or_else(|| format!("HTTP {} with an empty body", resp.status));
            return Err(self.status_error(resp.status, &message, resp, what));
        }

        if body.trim().is_empty() {
            return Err(bad_response("empty response body"));
        }
        let Some(value) = parsed else {
            let hint = if body.trim_start().starts_with('<') {
                "an HTML page"
            } else {
                "text"
            };
            return Err(bad_response(&format!("expected JSON, got {hint}")));
        };
        let Some(envelope) = envelope else {
            return Err(bad_response("expected a JSON object"));
        };

        let data = match &envelope.code {
            Some(code) => {
                let Some(code) = code_from_value(code) else {
                    return Err(bad_response("envelope `code` is not a number"));
                };
                if code != 0 {
                    let message = envelope
                        .message
                        .clone()
                        .filter(|m| !m.trim().is_empty())
                        .unwrap_or_else(|| format!("code {code}"));
                    return Err(self.code_error(code, &message, resp, what));
                }
                envelope.data
            }
            // No `code`: take `data` if there is one, or the body itself when it already has the
            // inner shape (an unwrapped twitter-api45 answer).
            None if envelope.data.as_ref().is_some_and(Value::is_object) => envelope.data,
            None if value.get("timeline").is_some() => Some(value),
            None => return Err(bad_response("missing `code` and `data`")),
        };
        let data = match data {
            Some(d @ Value::Object(_)) => d,
            Some(Value::Null) | None => return Err(bad_response("success without `data`")),
            Some(_) => return Err(bad_response("`data` is not an object")),
        };
        serde_json::from_value(data).map_err(|e| {
            bad_response(&format!(
                "`data` has an unexpected shape: {}",
                self.redact(&e.to_string())
            ))
        })
    }

    /// Maps a non-2xx HTTP status.
    fn status_error(
        &self,
        status: u16,
        message: &str,
        resp: &Response,
        what: &str,
    ) -> ProviderError {
        let message = http::snippet(&self.redact(message));
        match status {
            400 => ProviderError::InvalidRequest {
                provider: KIND,
                message,
            },
            401 => ProviderError::Unauthorized {
                provider: KIND,
                message,
            },
            402 => ProviderError::QuotaExhausted {
                provider: KIND,
                message,
            },
            403 => forbidden(message, what),
            404 => ProviderError::NotFound {
                provider: KIND,
                what: what.to_string(),
            },
            429 => http::rate_limited(KIND, &resp.headers),
            500..=599 => ProviderError::Upstream {
                provider: KIND,
                status: Some(status),
                message,
            },
            405..=428 | 430..=499 => ProviderError::InvalidRequest {
                provider: KIND,
                message: format!("HTTP {status}: {message}"),
            },
            _ => ProviderError::Upstream {
                provider: KIND,
                status: Some(status),
                message,
            },
        }
    }

    /// Maps a non-zero envelope `code` on an HTTP 2xx. KeyAPI's documented codes mirror HTTP
    /// statuses (400, 401, 402, 429, 500); others are classified by their message.
    fn code_error(&self, code: i64, message: &str, resp: &Response, what: &str) -> ProviderError {
        match u16::try_from(code) {
            Ok(status @ 400..=599) => self.status_error(status, message, resp, what),
            _ => {
                let message = http::snippet(&self.redact(message));
                let lower = message.to_lowercase();
                if lower.contains("not found") || lower.contains("does not exist") {
                    ProviderError::NotFound {
                        provider: KIND,
                        what: what.to_string(),
                    }
                } else if lower.contains("suspend") {
                    ProviderError::Suspended {
                        provider: KIND,
                        what: what.to_string(),
                    }
                } else if lower.contains("protected") || lower.contains("private") {
                    ProviderError::Protected {
                        provider: KIND,
                        what: what.to_string(),
                    }
                } else {
                    ProviderError::Upstream {
                        provider: KIND,
                        status: None,
                        message: format!("code {code}: {message}"),
                    }
                }
            }
        }
    }

    /// Belt and braces: should the API ever echo the key back in a message, it is masked.
    fn redact(&self, s: &str) -> String {
        self.config.key.redact(s)
    }
}

fn forbidden(message: String, what: &str) -> ProviderError {
    let lower = message.to_lowercase();
    if lower.contains("protected") || lower.contains("private") {
        ProviderError::Protected {
            provider: KIND,
            what: what.to_string(),
        }
    } else if lower.contains("suspend") {
        ProviderError::Suspended {
            provider: KIND,
            what: what.to_string(),
        }
    } else {
        ProviderError::Unauthorized {
            provider: KIND,
            message,
        }
    }
}

fn bad_response(detail: &str) -> ProviderError {
    ProviderError::BadResponse {
        provider: KIND,
        detail: detail.to_string(),
    }
}

fn code_from_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn build_page(data: wire::Data, requested: &str, what: &str) -> Result<Page, ProviderError> {
    let account_status = data
        .user
        .as_ref()
        .and_then(|u| u.status.as_deref())
        .map(str::to_ascii_lowercase);
    let raw_timeline_empty = data.timeline.is_empty();
    let profile = data.user.map(|u| map_profile(u, requested));
    let owner = Author {
        id: profile.as_ref().and_then(|p| p.id.clone()),
        handle: profile
            .as_ref()
            .map(|p| p.handle.clone())
            .or_else(|| Some(requested.to_string())),
        name: profile.as_ref().and_then(|p| p.name.clone()),
    };
    let mut warnings = Vec::new();
    let mut seen = HashSet::new();
    let mut tweets = Vec::new();
    let mut malformed = 0usize;
    for raw in data.timeline {
        let Ok(wt) = serde_json::from_value::<wire::Tweet>(raw) else {
            malformed += 1;
            continue;
        };
        let Some(tweet) = map_tweet(wt, Some(&owner)) else {
            malformed += 1;
            continue;
        };
        let keep =
            !tweet.media.is_empty() || tweet.quoted.as_ref().is_some_and(|q| !q.media.is_empty());
        if keep && seen.insert(tweet.id.clone()) {
            tweets.push(tweet);
        }
    }
    if malformed > 0 {
        warnings.push(format!(
            "skipped {malformed} timeline item(s) of {what} that could not be read"
        ));
    }
    if let Some(status) = data.status.as_deref().map(str::trim)
        && !status.is_empty()
        && !status.eq_ignore_ascii_case("ok")
    {
        warnings.push(format!("keyapi reported status {status:?}"));
    }
    // An empty page for an account whose `user.status` says it is unavailable (or whose
    // `protected` is true while the timeline is empty) is that error, not "no media".
    if tweets.is_empty() {
        let status = account_status.as_deref().unwrap_or("");
        let what = what.to_string();
        if status.contains("suspend") {
            return Err(ProviderError::Suspended {
                provider: KIND,
                what,
            });
        }
        let locked = raw_timeline_empty && profile.as_ref().and_then(|p| p.protected) == Some(true);
        if locked || status.contains("protect") || status.contains("private") {
            return Err(ProviderError::Protected {
                provider: KIND,
                what,
            });
        }
        if status.contains("notfound") || status.contains("not found") {
            return Err(ProviderError::NotFound {
                provider: KIND,
                what,
            });
        }
    }
    Ok(Page {
        tweets,
        next_cursor: non_empty(data.next_cursor).map(Cursor),
        profile,
        warnings,
    })
}

fn map_profile(u: wire::User, requested: &str) -> Profile {
    let handle = non_empty(u.screen_name)
        .or_else(|| non_empty(u.profile))
        .unwrap_or_else(|| requested.to_string());
    let verified = match (u.blue_verified, u.verified) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
    };
    let verified_type = non_empty(u.verification_type)
        .map(|t| t.to_lowercase())
        .or_else(|| (u.blue_verified == Some(true)).then(|| "blue".to_string()));
    let affiliate = u.affiliates.and_then(|a| a.label).and_then(|l| {
        let a = Affiliate {
            label: non_empty(l.description),
            badge_url: l.badge.and_then(|b| non_empty(b.url)),
            url: l.url.and_then(|u| non_empty(u.url)),
        };
        (a.label.is_some() || a.badge_url.is_some() || a.url.is_some()).then_some(a)
    });
    Profile {
        id: u.rest_id.or(u.id),
        handle,
        name: non_empty(u.name),
        followers: u.sub_count,
        following: u.friends,
        tweets: u.statuses_count,
        media_count: u.media_count,
        verified,
        verified_type,
        affiliate,
        avatar_url: non_empty(u.avatar),
        banner_url: non_empty(u.header_image),
        bio: non_empty(u.desc).map(|d| decode_entities(&d)),
        location: non_empty(u.location),
        protected: u.protected,
        created_at: u.created_at.as_deref().and_then(parse_date),
    }
}

/// `owner` fills in a missing author on the user's own (top-level) tweets; quoted and retweeted
/// tweets get `None`, since their author is someone else.
fn map_tweet(t: wire::Tweet, owner: Option<&Author>) -> Option<Tweet> {
    let id = t.tweet_id?;
    let mut author = t
        .author
        .map(|a| Author {
            id: a.rest_id,
            handle: non_empty(a.screen_name).map(|h| h.trim_start_matches('@').to_string()),
            name: non_empty(a.name),
        })
        .unwrap_or_default();
    if let Some(owner) = owner
        && author.handle.is_none()
        && author
            .id
            .as_ref()
            .is_none_or(|id| owner.id.as_ref() == Some(id))
    {
        author = Author {
            id: author.id.or_else(|| owner.id.clone()),
            handle: owner.handle.clone(),
            name: author.name.or_else(|| owner.name.clone()),
        };
    }

    let mut media = map_media(t.media);
    let is_retweet = t.retweeted_tweet.is_some()
        || match &t.retweeted {
            Some(Value::Bool(b)) => *b,
            Some(Value::Object(o)) => !o.is_empty(),
            _ => false,
        };
    if media.is_empty()
        && let Some(rt) = t.retweeted_tweet
    {
        media = map_media(rt.media);
    }

    let links: Vec<LinkEntity> = t
        .entities
        .urls
        .into_iter()
        .filter_map(|u| {
            Some(LinkEntity {
                short: non_empty(u.url)?,
                expanded: non_empty(u.expanded_url),
            })
        })
        .collect();
    let media_links: Vec<String> = t
        .entities
        .media
        .into_iter()
        .filter_map(|m| non_empty(m.url))
        .collect();
    let raw = t.text.unwrap_or_default();
    let mut text = display_text(&raw, &links, &media_links);
    if !media.is_empty() && media_links.is_empty() {
        // No media entity to name the link: the trailing t.co is the attachment's.
        text = strip_trailing_tco(&text);
    }

    let quoted = t.quoted.and_then(|q| map_tweet(*q, None)).map(Box::new);

    Some(Tweet {
        url: Tweet::canonical_url(author.handle.as_deref(), &id),
        id,
        created_at: t.created_at.as_deref().and_then(parse_date),
        text,
        lang: non_empty(t.lang),
        author,
        metrics: Metrics {
            likes: t.favorites,
            retweets: t.retweets,
            replies: t.replies,
            quotes: t.quotes,
            bookmarks: t.bookmarks,
            views: t.views,
        },
        media,
        quoted,
        reply_to: t.reply_to,
        is_retweet,
        sensitive: t.sensitive,
    })
}

fn map_media(groups: wire::MediaGroups) -> Vec<Media> {
    let mut seen = HashSet::new();
    let photos = groups
        .photo
        .into_iter()
        .map(|m| (m, Some((MediaKind::Photo, None))));
    let videos = groups.video.into_iter().map(|m| (m, None));
    let gifs = groups
        .animated_gif
        .into_iter()
        .map(|m| (m, Some((MediaKind::Gif, None))));
    // Groups this adapter does not know (`audio`, …): their items become placeholders named
    // after the group, unless an item says its own type.
    let others = groups.other.into_iter().flat_map(|(name, items)| {
        let items: Vec<wire::MediaItem> = match items {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|i| serde_json::from_value(i).ok())
                .collect(),
            _ => Vec::new(),
        };
        let group = normalize::media_kind(&name);
        items.into_iter().map(move |m| (m, Some(group.clone())))
    });
    photos
        .chain(videos)
        .chain(gifs)
        .chain(others)
        .filter_map(|(item, group_kind)| {
            let dedupe_key = item.id.clone().or_else(|| item.media_url_https.clone());
            let media = map_media_item(item, group_kind)?;
            match dedupe_key {
                Some(k) => seen.insert((media.kind, k)).then_some(media),
                None => Some(media),
            }
        })
        .collect()
}

/// `group_kind` is the kind (and unknown type's name) the item's group implies, `None` for the
/// `video` group, which holds GIFs too.
fn map_media_item(
    item: wire::MediaItem,
    group_kind: Option<(MediaKind, Option<String>)>,
) -> Option<Media> {
    let variants: Vec<Variant> = item
        .variants
        .into_iter()
        .filter_map(|v| {
            Some(Variant {
                url: non_empty(v.url)?,
                bitrate: v.bitrate,
                content_type: non_empty(v.content_type),
            })
        })
        .collect();
    let poster = non_empty(item.media_url_https).map(|u| strip_size_param(&u));
    // An explicit type wins over the group's; an unknown one becomes a placeholder.
    let explicit = item
        .r#type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let (kind, type_name) = match (explicit, group_kind) {
        (Some(t), _) => normalize::media_kind(t),
        (None, Some(group)) => group,
        (None, None) => (video_or_gif(poster.as_deref(), &variants), None),
    };
    if kind == MediaKind::Photo {
        poster.as_ref()?;
    } else if kind != MediaKind::Other && poster.is_none() && variants.is_empty() {
        return None;
    }
    let has_size = |d: &wire::Dimensions| d.width.is_some() || d.height.is_some();
    let dims = item
        .original_info
        .filter(has_size)
        .or(item.sizes.filter(has_size));
    let (width, height) = dims
        .map(|d| {
            (
                d.width
                    .and_then(|w| u32::try_from(w).ok())
                    .filter(|w| *w > 0),
                d.height
                    .and_then(|h| u32::try_from(h).ok())
                    .filter(|h| *h > 0),
            )
        })
        .unwrap_or((None, None));
    let duration_ms = if kind == MediaKind::Photo {
        None
    } else {
        item.duration.as_ref().and_then(duration_ms)
    };
    let (variants, video_url) = if kind == MediaKind::Photo {
        (Vec::new(), None)
    } else {
        let best = Media::best_mp4(&variants);
        (variants, best)
    };
    Some(Media {
        kind,
        url: poster,
        width,
        height,
        alt_text: non_empty(item.ext_alt_text),
        duration_ms,
        type_name,
        variants,
        video_url,
    })
}

/// GIF or video, for an item from `media.video[]` without an explicit type (see module docs).
fn video_or_gif(poster: Option<&str>, variants: &[Variant]) -> MediaKind {
    let gif_url = poster.is_some_and(|p| p.contains("/tweet_video_thumb/"))
        || variants.iter().any(|v| v.url.contains("/tweet_video/"));
    let all_mp4_bitrate_zero = !variants.is_empty()
        && variants.iter().all(|v| {
            let mp4 = v
                .content_type
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("video/mp4"));
            mp4 && v.bitrate == Some(0)
        });
    if gif_url || all_mp4_bitrate_zero {
        MediaKind::Gif
    } else {
        MediaKind::Video
    }
}

/// Milliseconds from an integer (ms) or a fractional number / numeric string (seconds).
fn duration_ms(v: &Value) -> Option<u64> {
    let fractional = match v {
        Value::Number(n) => n.as_u64().is_none() && n.as_f64().is_some_and(|f| f.fract() != 0.0),
        Value::String(s) => s.contains('.'),
        _ => false,
    };
    if fractional {
        let secs = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }?;
        (secs.is_finite() && secs > 0.0).then(|| (secs * 1000.0).round() as u64)
    } else {
        count_from_value(v).filter(|ms| *ms > 0)
    }
}

/// Drops the `name=` size parameter (and a legacy `:large`-style suffix) from an image URL, so the
/// caller picks the size. Other parameters (`format=jpg`) are kept.
fn strip_size_param(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if url.query().is_some() {
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
    }
    let path = url.path().to_string();
    for suffix in [":large", ":medium", ":small", ":thumb", ":orig"] {
        if let Some(stripped) = path.strip_suffix(suffix) {
            url.set_path(stripped);
            break;
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(bitrate: Option<u64>, ct: &str, url: &str) -> Variant {
        Variant {
            bitrate,
            content_type: Some(ct.into()),
            url: url.into(),
        }
    }

    #[test]
    fn size_parameter_is_removed_and_others_kept() {
        assert_eq!(
            strip_size_param("https://pbs.twimg.com/media/A.jpg?format=jpg&name=small"),
            "https://pbs.twimg.com/media/A.jpg?format=jpg"
        );
        assert_eq!(
            strip_size_param("https://pbs.twimg.com/media/A.jpg?name=large"),
            "https://pbs.twimg.com/media/A.jpg"
        );
        assert_eq!(
            strip_size_param("https://pbs.twimg.com/media/A.jpg:large"),
            "https://pbs.twimg.com/media/A.jpg"
        );
        assert_eq!(strip_size_param("not a url"), "not a url");
    }

    #[test]
    fn gif_detection() {
        let gif = [v(Some(0), "video/mp4", "https://video.twimg.com/x/a.mp4")];
        assert_eq!(video_or_gif(None, &gif), MediaKind::Gif);
        let by_url = [v(
            None,
            "video/mp4",
            "https://video.twimg.com/tweet_video/a.mp4",
        )];
        assert_eq!(video_or_gif(None, &by_url), MediaKind::Gif);
        assert_eq!(
            video_or_gif(Some("https://pbs.twimg.com/tweet_video_thumb/a.jpg"), &[]),
            MediaKind::Gif
        );
        let video = [
            v(
                None,
                "application/x-mpegURL",
                "https://video.twimg.com/ext_tw_video/p.m3u8",
            ),
            v(
                Some(832_000),
                "video/mp4",
                "https://video.twimg.com/ext_tw_video/a.mp4",
            ),
        ];
        assert_eq!(video_or_gif(None, &video), MediaKind::Video);
        assert_eq!(video_or_gif(None, &[]), MediaKind::Video);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(&serde_json::json!(182366)), Some(182_366));
        assert_eq!(duration_ms(&serde_json::json!(12.5)), Some(12_500));
        assert_eq!(duration_ms(&serde_json::json!("4000")), Some(4000));
        assert_eq!(duration_ms(&serde_json::json!(null)), None);
        assert_eq!(duration_ms(&serde_json::json!(0)), None);
    }
}
