//! agntdata's JSON as it arrives. Everything is optional and lenient: one odd field (a count sent
//! as a string, an object where a list was expected) costs that field, never the page.
//!
//! Several fields come under two names, because agntdata's own tweet objects (`tweet_id`,
//! `creation_date`, `user.username`, …) sit next to Twitter v1.1 status objects (`id_str`,
//! `created_at`, `user.screen_name`, …) in `quoted_status`/`retweet_status`. Each name is its own
//! field rather than a serde alias, since v1.1 objects carry both `id` and `id_str` and an alias
//! would reject that as a duplicate.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::provider::normalize::{
    de_opt_bool, de_opt_count, de_opt_id, de_opt_lenient, de_vec_lenient,
};

/// A string, or `None` for anything else (null, number, object).
fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

/// One tweet: agntdata's flat shape or a v1.1 status.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Status {
    #[serde(deserialize_with = "de_opt_id")]
    pub id_str: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub tweet_id: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub creation_date: Option<String>,
    /// Epoch seconds (agntdata).
    #[serde(deserialize_with = "de_opt_count")]
    pub timestamp: Option<u64>,
    #[serde(deserialize_with = "de_opt_string")]
    pub full_text: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub text: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub lang: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub language: Option<String>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub user: Option<User>,
    #[serde(deserialize_with = "de_opt_count")]
    pub favorite_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub retweet_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub reply_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub quote_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub bookmark_count: Option<u64>,
    /// A number, a numeric string, null, or GraphQL's `{"count": "…"}`.
    pub views: Option<Value>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub entities: Option<Entities>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub extended_entities: Option<Entities>,
    /// agntdata's flat photo list (also a single string in some answers).
    pub media_url: Option<Value>,
    /// agntdata's flat video link: a string, a list of strings or a list of variants.
    pub video_url: Option<Value>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub quoted_status: Option<Box<Status>>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub retweeted_status: Option<Box<Status>>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub retweet_status: Option<Box<Status>>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub retweet: Option<bool>,
    #[serde(deserialize_with = "de_opt_id")]
    pub retweet_tweet_id: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub in_reply_to_status_id_str: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub in_reply_to_status_id: Option<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub possibly_sensitive: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct User {
    #[serde(deserialize_with = "de_opt_id")]
    pub id_str: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub user_id: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub rest_id: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub screen_name: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub username: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub followers_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub follower_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub friends_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub following_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub statuses_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub number_of_tweets: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub media_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub verified: Option<bool>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub is_verified: Option<bool>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub is_blue_verified: Option<bool>,
    #[serde(deserialize_with = "de_opt_string")]
    pub verified_type: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub profile_image_url_https: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub profile_pic_url: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub profile_image_url: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub profile_banner_url: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub location: Option<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub protected: Option<bool>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub is_private: Option<bool>,
    #[serde(deserialize_with = "de_opt_string")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub creation_date: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub timestamp: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Entities {
    #[serde(deserialize_with = "de_vec_lenient")]
    pub urls: Vec<UrlEntity>,
    #[serde(deserialize_with = "de_vec_lenient")]
    pub media: Vec<MediaEntity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UrlEntity {
    #[serde(deserialize_with = "de_opt_string")]
    pub url: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub expanded_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct MediaEntity {
    #[serde(rename = "type", deserialize_with = "de_opt_string")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub media_url_https: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub media_url: Option<String>,
    /// The `t.co` link that stands for this media in the tweet text.
    #[serde(deserialize_with = "de_opt_string")]
    pub url: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub ext_alt_text: Option<String>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub original_info: Option<OriginalInfo>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub sizes: Option<Sizes>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub video_info: Option<VideoInfo>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OriginalInfo {
    #[serde(deserialize_with = "de_opt_count")]
    pub width: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub height: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Sizes {
    #[serde(deserialize_with = "de_opt_lenient")]
    pub orig: Option<Size>,
    #[serde(deserialize_with = "de_opt_lenient")]
    pub large: Option<Size>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Size {
    #[serde(deserialize_with = "de_opt_count")]
    pub w: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub h: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct VideoInfo {
    #[serde(deserialize_with = "de_opt_count")]
    pub duration_millis: Option<u64>,
    #[serde(deserialize_with = "de_vec_lenient")]
    pub variants: Vec<WireVariant>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WireVariant {
    #[serde(deserialize_with = "de_opt_count")]
    pub bitrate: Option<u64>,
    #[serde(deserialize_with = "de_opt_string")]
    pub content_type: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub url: Option<String>,
}

/// The error envelopes seen from agntdata: its gateway's
/// `{"success":false,"error":{"code","message"}}` and the upstream's FastAPI
/// `{"detail":[{"loc","msg","type"}]}` (or `{"detail":"…"}`), plus a bare `{"message":"…"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ErrorBody {
    #[serde(deserialize_with = "de_opt_bool")]
    pub success: Option<bool>,
    /// An object `{code, message}`, or sometimes just a string.
    pub error: Option<Value>,
    pub detail: Option<Value>,
    #[serde(deserialize_with = "de_opt_string")]
    pub message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ErrorInfo {
    #[serde(deserialize_with = "de_opt_string")]
    pub code: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub message: Option<String>,
    pub details: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ValidationItem {
    #[serde(deserialize_with = "de_vec_lenient")]
    pub loc: Vec<Value>,
    #[serde(deserialize_with = "de_opt_string")]
    pub msg: Option<String>,
    #[serde(rename = "type", deserialize_with = "de_opt_string")]
    pub kind: Option<String>,
}
