//! A `Source` is "this user's media on this provider": it resolves a handle to the numeric id a
//! provider needs (through another provider when it has no lookup of its own), remembers the
//! profile, and fetches pages. One attempt per call; retry policy lives in `retry`.

use std::sync::{Arc, Mutex};

use crate::domain::{Cursor, Page, Profile, ProviderKind, UserRef};
use crate::error::ProviderError;
use crate::http::HttpClient;
use crate::provider::{AnyProvider, Provider};

#[derive(Debug, Clone)]
pub struct Source {
    provider: AnyProvider,
    /// Used only to turn a handle into a user id when `provider` cannot.
    resolvers: Vec<AnyProvider>,
    http: HttpClient,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    user: UserRef,
    profile: Option<Profile>,
}

impl Source {
    /// `http` must be the client the providers were built with, so `requests_sent` counts all.
    pub fn new(
        provider: AnyProvider,
        resolvers: Vec<AnyProvider>,
        http: HttpClient,
        user: UserRef,
    ) -> Self {
        Self {
            provider,
            resolvers,
            http,
            state: Arc::new(Mutex::new(State {
                user,
                profile: None,
            })),
        }
    }

    pub fn kind(&self) -> ProviderKind {
        self.provider.kind()
    }

    pub fn user(&self) -> UserRef {
        self.lock().user.clone()
    }

    /// The best profile known so far (from a lookup or the latest page).
    pub fn profile(&self) -> Option<Profile> {
        self.lock().profile.clone()
    }

    /// The HTTP client the providers use (images share its connection pool).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// HTTP requests sent so far by this source's providers (each one may cost money).
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure the provider has the user id it needs, spending at most one lookup request.
    /// Returns the profile the lookup found, if any.
    pub async fn resolve(&self) -> Result<Option<Profile>, ProviderError> {
        let user = self.user();
        if !self.provider.needs_user_id() || user.id.is_some() {
            return Ok(None);
        }
        let Some(handle) = user.handle.clone() else {
            return Err(self.needs_id_error(None));
        };
        // The provider's own lookup first (X API), then the others in order.
        let mut found = self.provider.lookup_user(&handle).await?;
        if found.is_none() {
            for r in &self.resolvers {
                found = resolve_via(r, &handle).await?;
                if found.is_some() {
                    break;
                }
            }
        }
        match found {
            Some(p) if p.id.is_some() => {
                let mut st = self.lock();
                st.user.id = p.id.clone();
                st.profile = Some(p.clone());
                Ok(Some(p))
            }
            _ => Err(self.needs_id_error(Some(&handle))),
        }
    }

    fn needs_id_error(&self, handle: Option<&str>) -> ProviderError {
        let who = handle.map(|h| format!(" for @{h}")).unwrap_or_default();
        ProviderError::Config {
            provider: self.kind(),
            message: format!(
                "{} needs a numeric user id{who}: pass --user-id ID, or set XMEDIA_XAPI_TOKEN or XMEDIA_KEYAPI_KEY so the handle can be looked up",
                self.kind()
            ),
        }
    }

    /// One page. The page's profile is merged over what the lookup knew (a page carries fresher
    /// counts; the lookup may carry fields the page lacks).
    pub async fn fetch(&self, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        self.resolve().await?;
        let user = self.user();
        let mut page = self.provider.fetch_page(&user, cursor).await?;
        let mut st = self.lock();
        let merged = match (page.profile.take(), st.profile.take()) {
            (Some(new), Some(old)) => Some(merge_profile(new, old)),
            (new, old) => new.or(old),
        };
        if let Some(p) = &merged
            && st.user.id.is_none()
        {
            st.user.id = p.id.clone();
        }
        st.profile = merged.clone();
        page.profile = merged;
        Ok(page)
    }
}

/// Looks `handle` up through a provider that is not the one paging. The X API has a lookup
/// endpoint; KeyAPI has none, but its media endpoint answers a handle with the user's id.
async fn resolve_via(r: &AnyProvider, handle: &str) -> Result<Option<Profile>, ProviderError> {
    if let Some(p) = r.lookup_user(handle).await? {
        return Ok(Some(p));
    }
    if !r.needs_user_id() {
        let page = r.fetch_page(&UserRef::handle(handle), None).await?;
        return Ok(page.profile);
    }
    Ok(None)
}

/// Fields of `new` win; `old` fills the gaps.
pub fn merge_profile(new: Profile, old: Profile) -> Profile {
    Profile {
        id: new.id.or(old.id),
        handle: if new.handle.is_empty() {
            old.handle
        } else {
            new.handle
        },
        name: new.name.or(old.name),
        followers: new.followers.or(old.followers),
        following: new.following.or(old.following),
        tweets: new.tweets.or(old.tweets),
        media_count: new.media_count.or(old.media_count),
        verified: new.verified.or(old.verified),
        verified_type: new.verified_type.or(old.verified_type),
        affiliate: new.affiliate.or(old.affiliate),
        avatar_url: new.avatar_url.or(old.avatar_url),
        banner_url: new.banner_url.or(old.banner_url),
        bio: new.bio.or(old.bio),
        location: new.location.or(old.location),
        protected: new.protected.or(old.protected),
        created_at: new.created_at.or(old.created_at),
    }
}
