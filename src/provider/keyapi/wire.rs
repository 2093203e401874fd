//! KeyAPI `/v1/twitter/usermedia` wire types (private to the adapter).
//!
//! The `data` member is the RapidAPI "twitter-api45" `usermedia.php` shape. Everything is optional
//! and every field is parsed leniently: a field of an unexpected type becomes `None` (or empty)
//! instead of failing the whole page, and a malformed tweet or media item is skipped by the caller.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::provider::normalize::{
    de_lenient, de_opt_bool, de_opt_count, de_opt_id, de_opt_lenient, de_vec_lenient,
};

/// A string field that may also arrive as a number; other types are `None`.
fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The `{code, message, data}` envelope. `code` may be a number or a numeric string.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub message: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Data {
    /// Kept as raw values so one malformed tweet can be skipped (and counted) by the caller.
    #[serde(default, deserialize_with = "de_lenient")]
    pub timeline: Vec<Value>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub next_cursor: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub user: Option<User>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct User {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub rest_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    /// Not in the usermedia example; accepted in case a response carries it.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub screen_name: Option<String>,
    /// The timeline.php recording puts the screen name here (`"profile": "elonmusk"`); usermedia
    /// sends `null`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub profile: Option<String>,
    /// Account state, e.g. `"active"`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub blue_verified: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub verified: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub verification_type: Option<String>,
    /// An object `{label: {...}}`, or `[]` when the account has no affiliation.
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub affiliates: Option<Affiliates>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub avatar: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub header_image: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub desc: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub location: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub protected: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub sub_count: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub friends: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub statuses_count: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub media_count: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub created_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Affiliates {
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub label: Option<AffiliateLabel>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AffiliateLabel {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub url: Option<UrlHolder>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub badge: Option<UrlHolder>,
}

/// `{ "url": "https://…" }`, the shape of both `label.url` and `label.badge`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct UrlHolder {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Tweet {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub tweet_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub lang: Option<String>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub favorites: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub retweets: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub replies: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub quotes: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_count")]
    pub bookmarks: Option<u64>,
    /// Arrives as a string (`"39841529"`).
    #[serde(default, deserialize_with = "de_opt_count")]
    pub views: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub author: Option<Author>,
    /// `{photo: [...], video: [...]}`, or `[]` when the tweet has none.
    #[serde(default, deserialize_with = "de_lenient")]
    pub media: MediaGroups,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub quoted: Option<Box<Tweet>>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub retweeted_tweet: Option<Box<Tweet>>,
    /// `{ "id": "…" }` on a retweet (timeline.php); a bool in some shapes.
    #[serde(default)]
    pub retweeted: Option<Value>,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub reply_to: Option<String>,
    #[serde(default, deserialize_with = "de_lenient")]
    pub entities: Entities,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub sensitive: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Author {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub rest_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub screen_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MediaGroups {
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub photo: Vec<MediaItem>,
    /// Videos and GIFs both (see `media_kind` in the adapter).
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub video: Vec<MediaItem>,
    /// Not seen in recordings; accepted in case GIFs ever get their own group.
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub animated_gif: Vec<MediaItem>,
    /// Any other group (`audio`, …), kept raw and read leniently by the adapter.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MediaItem {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub media_url_https: Option<String>,
    /// An explicit `photo` / `video` / `animated_gif`, where a response gives one.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub r#type: Option<String>,
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub variants: Vec<Variant>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub original_info: Option<Dimensions>,
    /// timeline.php photos carry `sizes: {h, w}` (the original size) instead of original_info.
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub sizes: Option<Dimensions>,
    /// Milliseconds (X's `video_info.duration_millis`); `null` in the recordings.
    #[serde(default)]
    pub duration: Option<Value>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ext_alt_text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Variant {
    #[serde(default, deserialize_with = "de_opt_count")]
    pub bitrate: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub content_type: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Dimensions {
    #[serde(default, alias = "w", deserialize_with = "de_opt_count")]
    pub width: Option<u64>,
    #[serde(default, alias = "h", deserialize_with = "de_opt_count")]
    pub height: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Entities {
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub urls: Vec<UrlEntity>,
    /// The `t.co` links that stand for attached media.
    #[serde(default, deserialize_with = "de_vec_lenient")]
    pub media: Vec<UrlEntity>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UrlEntity {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub expanded_url: Option<String>,
}
