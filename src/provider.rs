//! One trait over the three media APIs, and a closed enum that dispatches to them.
//!
//! Each provider module keeps its JSON wire types private and hands back only `domain` types.
//! Everything a provider returns passes through [`sanitize_page`] here, so terminal-unsafe text
//! from the API is cleaned in exactly one place.

pub mod agntdata;
pub mod keyapi;
pub mod normalize;
pub mod xapi;

use url::Url;

use crate::domain::{Cursor, Page, Profile, ProviderKind, Tweet, UserRef};
use crate::error::ProviderError;
use crate::http::HttpClient;
use crate::sanitize;
use crate::secret::Secret;

/// Everything a provider needs to talk to its API.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// API root without a trailing slash, e.g. `https://api.keyapi.ai` (paths are appended).
    pub base_url: Url,
    pub key: Secret,
    /// Tweets asked for per request, where the API lets us choose.
    pub page_size: u32,
    /// X API v2 only: keep retweets (excluded by default).
    pub include_retweets: bool,
}

impl ProviderConfig {
    pub fn default_base_url(kind: ProviderKind) -> &'static str {
        match kind {
            ProviderKind::Keyapi => "https://api.keyapi.ai",
            ProviderKind::Agntdata => "https://api.agntdata.dev/v1/x",
            ProviderKind::Xapi => "https://api.x.com",
        }
    }

    /// `Authorization: Bearer <key>`, marked sensitive so it never shows in debug output. The one
    /// place the key's bytes leave [`Secret`].
    pub fn bearer_header(&self) -> Result<reqwest::header::HeaderValue, ProviderError> {
        let invalid = || ProviderError::Config {
            provider: self.kind,
            message: format!(
                "the key in {} contains characters that cannot be sent in an HTTP header",
                self.kind.key_env_var()
            ),
        };
        if !self.key.is_header_safe() {
            return Err(invalid());
        }
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.key.expose()))
                .map_err(|_| invalid())?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The URL for `path` (which starts with `/`) under the base URL, keeping any base path.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base_url.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }
}

/// What one API can do. Implementations do exactly one HTTP request per `fetch_page` and never
/// retry on their own: retry policy (and its cost) belongs to the caller.
#[allow(async_fn_in_trait)]
pub trait Provider {
    fn kind(&self) -> ProviderKind;

    /// Whether `fetch_page` needs `UserRef::id` (a numeric user id) rather than a handle.
    fn needs_user_id(&self) -> bool;

    /// Looks a handle up, costing one request. `Ok(None)` when this API has no lookup endpoint.
    async fn lookup_user(&self, handle: &str) -> Result<Option<Profile>, ProviderError>;

    /// One page of the user's media tweets, newest first. `cursor` is `None` for the first page.
    async fn fetch_page(
        &self,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError>;
}

/// The closed set of providers (enum dispatch: async trait methods are not object-safe, and the
/// set is known).
#[derive(Debug, Clone)]
pub enum AnyProvider {
    Keyapi(keyapi::KeyApi),
    Agntdata(agntdata::Agntdata),
    Xapi(xapi::XApi),
}

impl AnyProvider {
    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        match config.kind {
            ProviderKind::Keyapi => Self::Keyapi(keyapi::KeyApi::new(config, http)),
            ProviderKind::Agntdata => Self::Agntdata(agntdata::Agntdata::new(config, http)),
            ProviderKind::Xapi => Self::Xapi(xapi::XApi::new(config, http)),
        }
    }
}

impl AnyProvider {
    fn config(&self) -> &ProviderConfig {
        match self {
            Self::Keyapi(p) => p.config(),
            Self::Agntdata(p) => p.config(),
            Self::Xapi(p) => p.config(),
        }
    }
}

impl Provider for AnyProvider {
    fn kind(&self) -> ProviderKind {
        match self {
            Self::Keyapi(p) => p.kind(),
            Self::Agntdata(p) => p.kind(),
            Self::Xapi(p) => p.kind(),
        }
    }

    fn needs_user_id(&self) -> bool {
        match self {
            Self::Keyapi(p) => p.needs_user_id(),
            Self::Agntdata(p) => p.needs_user_id(),
            Self::Xapi(p) => p.needs_user_id(),
        }
    }

    async fn lookup_user(&self, handle: &str) -> Result<Option<Profile>, ProviderError> {
        let profile = match self {
            Self::Keyapi(p) => p.lookup_user(handle).await,
            Self::Agntdata(p) => p.lookup_user(handle).await,
            Self::Xapi(p) => p.lookup_user(handle).await,
        }
        .map_err(|e| e.cleaned(&self.config().key))?;
        Ok(profile.map(sanitize_profile))
    }

    async fn fetch_page(
        &self,
        user: &UserRef,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        let page = match self {
            Self::Keyapi(p) => p.fetch_page(user, cursor).await,
            Self::Agntdata(p) => p.fetch_page(user, cursor).await,
            Self::Xapi(p) => p.fetch_page(user, cursor).await,
        }
        .map_err(|e| e.cleaned(&self.config().key))?;
        Ok(sanitize_page(page))
    }
}

fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| sanitize::text(&s))
}

fn clean_line(s: Option<String>) -> Option<String> {
    s.map(|s| sanitize::line(&s))
}

pub fn sanitize_profile(p: Profile) -> Profile {
    Profile {
        id: clean_line(p.id),
        handle: sanitize::line(&p.handle),
        name: clean_line(p.name),
        verified_type: clean_line(p.verified_type),
        affiliate: p.affiliate.map(|a| crate::domain::Affiliate {
            label: clean_line(a.label),
            badge_url: clean_line(a.badge_url),
            url: clean_line(a.url),
        }),
        avatar_url: clean_line(p.avatar_url),
        banner_url: clean_line(p.banner_url),
        bio: clean_opt(p.bio),
        location: clean_line(p.location),
        ..p
    }
}

pub fn sanitize_tweet(t: Tweet) -> Tweet {
    Tweet {
        id: sanitize::line(&t.id),
        text: sanitize::text(&t.text),
        url: sanitize::line(&t.url),
        lang: clean_line(t.lang),
        reply_to: clean_line(t.reply_to),
        author: crate::domain::Author {
            id: clean_line(t.author.id),
            handle: clean_line(t.author.handle),
            name: clean_line(t.author.name),
        },
        media: t
            .media
            .into_iter()
            .map(|m| crate::domain::Media {
                url: clean_line(m.url),
                alt_text: clean_opt(m.alt_text),
                video_url: clean_line(m.video_url),
                type_name: clean_line(m.type_name),
                variants: m
                    .variants
                    .into_iter()
                    .map(|v| crate::domain::Variant {
                        url: sanitize::line(&v.url),
                        content_type: clean_line(v.content_type),
                        ..v
                    })
                    .collect(),
                ..m
            })
            .collect(),
        quoted: t.quoted.map(|q| Box::new(sanitize_tweet(*q))),
        ..t
    }
}

pub fn sanitize_page(p: Page) -> Page {
    Page {
        tweets: p.tweets.into_iter().map(sanitize_tweet).collect(),
        profile: p.profile.map(sanitize_profile),
        warnings: p.warnings.iter().map(|w| sanitize::line(w)).collect(),
        next_cursor: p.next_cursor,
    }
}
