//! Placeholder: the agntdata adapter is being written.

use crate::domain::{Cursor, Page, Profile, ProviderKind, UserRef};
use crate::error::ProviderError;
use crate::http::HttpClient;
use crate::provider::{Provider, ProviderConfig};

#[derive(Debug, Clone)]
pub struct Agntdata {
    config: ProviderConfig,
    http: HttpClient,
}

impl Agntdata {
    pub fn new(config: ProviderConfig, http: HttpClient) -> Self {
        Self { config, http }
    }
}

impl Provider for Agntdata {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Agntdata
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
            provider: ProviderKind::Agntdata,
            message: "not implemented yet".into(),
        })
    }
}
