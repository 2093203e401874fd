//! The normalized model every provider produces and every view consumes.
//!
//! Unknown values are `None` (serialized as `null`), never a made-up zero: a provider that does not
//! report bookmarks must not claim the tweet has none. Field names are the `xmedia dump` JSON Lines
//! contract, so renaming one is a breaking change for scripts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which API a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Keyapi,
    Agntdata,
    Xapi,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [Self::Keyapi, Self::Agntdata, Self::Xapi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyapi => "keyapi",
            Self::Agntdata => "agntdata",
            Self::Xapi => "xapi",
        }
    }

    /// The environment variable that holds this provider's key.
    pub fn key_env_var(self) -> &'static str {
        match self {
            Self::Keyapi => "XMEDIA_KEYAPI_KEY",
            Self::Agntdata => "XMEDIA_AGNTDATA_KEY",
            Self::Xapi => "XMEDIA_XAPI_TOKEN",
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affiliate {
    /// The badge's label text, e.g. "X" for X Corp's business affiliation.
    pub label: Option<String>,
    pub badge_url: Option<String>,
    /// Where the badge links to (usually the parent account's profile).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: Option<String>,
    pub handle: String,
    pub name: Option<String>,
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub tweets: Option<u64>,
    pub media_count: Option<u64>,
    pub verified: Option<bool>,
    /// "blue", "business", "government", … where the source says.
    pub verified_type: Option<String>,
    pub affiliate: Option<Affiliate>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub protected: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: Option<String>,
    pub handle: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    pub likes: Option<u64>,
    pub retweets: Option<u64>,
    pub replies: Option<u64>,
    pub quotes: Option<u64>,
    pub bookmarks: Option<u64>,
    pub views: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Photo,
    Video,
    Gif,
    /// A type xmedia does not know (`audio`, …); [`Media::type_name`] says which. Shown as a
    /// placeholder (with its preview image, if the source gave one) so the tweet is not lost.
    Other,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Photo => "photo",
            Self::Video => "video",
            Self::Gif => "gif",
            Self::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Bits per second; `None` for streaming playlists (HLS/DASH), which have none.
    pub bitrate: Option<u64>,
    pub content_type: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub kind: MediaKind,
    /// The photo itself, or the poster frame of a video/GIF. Without a `name=` size parameter.
    pub url: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt_text: Option<String>,
    pub duration_ms: Option<u64>,
    /// Playable variants of a video or GIF; empty for photos.
    pub variants: Vec<Variant>,
    /// The highest-bitrate MP4 among `variants`.
    pub video_url: Option<String>,
    /// The source's own name for a media type xmedia does not know (kind [`MediaKind::Other`]),
    /// e.g. `audio`; `None` for photos, videos and GIFs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

impl Media {
    /// What to call this media on screen: "photo", "video", "GIF", or the source's own name for
    /// an unknown type.
    pub fn label(&self) -> &str {
        match self.kind {
            MediaKind::Photo => "photo",
            MediaKind::Video => "video",
            MediaKind::Gif => "GIF",
            MediaKind::Other => self
                .type_name
                .as_deref()
                .filter(|t| !t.is_empty())
                .unwrap_or("unknown media"),
        }
    }

    /// Picks the highest-bitrate MP4 variant (an MP4 without a bitrate ranks lowest, since GIF
    /// variants report 0 and some sources omit it).
    pub fn best_mp4(variants: &[Variant]) -> Option<String> {
        variants
            .iter()
            .filter(|v| {
                v.content_type
                    .as_deref()
                    .map(|c| c.eq_ignore_ascii_case("video/mp4"))
                    .unwrap_or_else(|| v.url.split('?').next().unwrap_or("").ends_with(".mp4"))
            })
            .max_by_key(|v| v.bitrate.unwrap_or(0))
            .map(|v| v.url.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tweet {
    pub id: String,
    /// `https://x.com/{handle}/status/{id}`.
    pub url: String,
    pub created_at: Option<DateTime<Utc>>,
    /// Display text: entities decoded, t.co links expanded, trailing media link removed.
    pub text: String,
    pub lang: Option<String>,
    pub author: Author,
    pub metrics: Metrics,
    pub media: Vec<Media>,
    pub quoted: Option<Box<Tweet>>,
    pub reply_to: Option<String>,
    pub is_retweet: bool,
    pub sensitive: Option<bool>,
}

impl Tweet {
    pub fn canonical_url(handle: Option<&str>, id: &str) -> String {
        match handle.filter(|h| !h.is_empty()) {
            Some(h) => format!("https://x.com/{h}/status/{id}"),
            // x.com redirects /i/status/{id} to the right author.
            None => format!("https://x.com/i/status/{id}"),
        }
    }
}

/// An opaque continuation token handed back verbatim on the next request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub tweets: Vec<Tweet>,
    pub next_cursor: Option<Cursor>,
    pub profile: Option<Profile>,
    /// Partial failures the API reported beside its data (X API v2 `errors`), already readable.
    pub warnings: Vec<String>,
}

/// Whose media to fetch. At least one of the two is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRef {
    /// Without the leading `@`.
    pub handle: Option<String>,
    pub id: Option<String>,
}

impl UserRef {
    pub fn handle(h: &str) -> Self {
        Self {
            handle: Some(h.trim_start_matches('@').to_string()),
            id: None,
        }
    }

    pub fn id(id: &str) -> Self {
        Self {
            handle: None,
            id: Some(id.to_string()),
        }
    }

    pub fn label(&self) -> String {
        match (&self.handle, &self.id) {
            (Some(h), _) => format!("@{h}"),
            (None, Some(id)) => format!("user {id}"),
            (None, None) => "unknown user".into(),
        }
    }
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
    fn best_mp4_picks_highest_bitrate_and_skips_playlists() {
        let vs = [
            v(None, "application/x-mpegURL", "https://v/pl.m3u8"),
            v(Some(256_000), "video/mp4", "https://v/256.mp4"),
            v(Some(2_176_000), "video/mp4", "https://v/2176.mp4"),
            v(Some(832_000), "video/mp4", "https://v/832.mp4"),
        ];
        assert_eq!(Media::best_mp4(&vs).as_deref(), Some("https://v/2176.mp4"));
        assert_eq!(Media::best_mp4(&vs[..1]), None);
    }

    #[test]
    fn canonical_url_falls_back_to_i_status() {
        assert_eq!(
            Tweet::canonical_url(Some("nasa"), "1"),
            "https://x.com/nasa/status/1"
        );
        assert_eq!(Tweet::canonical_url(None, "1"), "https://x.com/i/status/1");
    }
}
