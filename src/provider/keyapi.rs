//! Placeholder: the keyapi adapter is being written.

use crate::domain::{Cursor, Page, Profile, ProviderKind, UserRef};
use crate::error::ProviderError;
use crate::http::HttpClient;
use crate::provider::{Provider, ProviderConfig};

#[derive(Debug, Clone)]
pub struct KeyApi {
    config: ProviderConfig,
    http: HttpClient,
}

impl KeyApi {
    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        Self { config, http }
    }
}

impl Provider for KeyApi {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Keyapi
    }

    fn needs_user_id(&self) -> bool {
        false
    }

    async fn lookup_user(&self, _handle: &str) -> Result<Option<Profile>, ProviderError> {
        let _ = (&self.config, &self.http);
        Ok(None)
    }

    async fn fetch_page(
        &self,
        _user: &UserRef,
        _cursor: Option<&Cursor>,
    ) -> Result<Page, ProviderError> {
        Err(ProviderError::Config {
            provider: ProviderKind::Keyapi,
            message: "not implemented yet".into(),
        })
    }
}
