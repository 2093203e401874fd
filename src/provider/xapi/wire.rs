//! Private serde types for the X API v2 JSON. Every field is optional or defaulted: the API omits
//! whatever was not requested or does not apply, and a missing field must never fail a page.

use serde::Deserialize;

use crate::provider::normalize::{de_opt_bool, de_opt_count, de_opt_id};

/// `GET /2/users/{id}/tweets`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TweetsResponse {
    pub data: Option<Vec<WTweet>>,
    pub includes: Includes,
    pub errors: Vec<ApiError>,
    pub meta: Meta,
}

/// `GET /2/users/by/username/{username}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserResponse {
    pub data: Option<WUser>,
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Includes {
    pub media: Vec<WMedia>,
    pub users: Vec<WUser>,
    pub tweets: Vec<WTweet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub next_token: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub result_count: Option<u64>,
}

/// One entry of `errors` (partial failure) or a whole RFC 7807 problem body. Both share `title`,
/// `detail` and `type`; per-item errors add the resource they are about.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ApiError {
    pub title: Option<String>,
    pub detail: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub status: Option<u64>,
    pub resource_type: Option<String>,
    pub parameter: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub value: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub resource_id: Option<String>,
    /// `client-not-enrolled` and friends on 403 client-forbidden problems.
    pub reason: Option<String>,
    /// Older v1.1-style errors (`{"errors":[{"message":…,"code":…}]}`).
    pub message: Option<String>,
}

/// A top-level error body: a problem document, possibly with an `errors` list (400 Invalid Request).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProblemBody {
    #[serde(flatten)]
    pub problem: ApiError,
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WTweet {
    #[serde(deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    pub text: Option<String>,
    pub created_at: Option<String>,
    pub lang: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub author_id: Option<String>,
    pub public_metrics: Option<TweetMetrics>,
    pub entities: Option<Entities>,
    pub attachments: Option<Attachments>,
    pub referenced_tweets: Vec<Reference>,
    #[serde(deserialize_with = "de_opt_id")]
    pub in_reply_to_user_id: Option<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub possibly_sensitive: Option<bool>,
    pub note_tweet: Option<NoteTweet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteTweet {
    pub text: Option<String>,
    pub entities: Option<Entities>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct TweetMetrics {
    #[serde(deserialize_with = "de_opt_count")]
    pub like_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub retweet_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub reply_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub quote_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub bookmark_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub impression_count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Entities {
    pub urls: Vec<UrlEntity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UrlEntity {
    pub url: Option<String>,
    pub expanded_url: Option<String>,
    pub display_url: Option<String>,
    pub media_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Attachments {
    pub media_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "de_opt_id")]
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WMedia {
    pub media_key: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub url: Option<String>,
    pub preview_image_url: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub width: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub height: Option<u64>,
    pub alt_text: Option<String>,
    #[serde(deserialize_with = "de_opt_count")]
    pub duration_ms: Option<u64>,
    pub variants: Vec<WVariant>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WVariant {
    #[serde(deserialize_with = "de_opt_count")]
    pub bit_rate: Option<u64>,
    pub content_type: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct WUser {
    #[serde(deserialize_with = "de_opt_id")]
    pub id: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
    pub public_metrics: Option<UserMetrics>,
    pub affiliation: Option<Affiliation>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub verified: Option<bool>,
    pub verified_type: Option<String>,
    pub profile_image_url: Option<String>,
    pub profile_banner_url: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub created_at: Option<String>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub protected: Option<bool>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct UserMetrics {
    #[serde(deserialize_with = "de_opt_count")]
    pub followers_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub following_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub tweet_count: Option<u64>,
    #[serde(deserialize_with = "de_opt_count")]
    pub media_count: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Affiliation {
    pub description: Option<String>,
    pub badge_url: Option<String>,
    pub url: Option<String>,
}
