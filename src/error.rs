//! Typed provider errors: every variant tells the caller what to do next.
//!
//! Messages quote what the API said (sanitized, length-capped) but never a key or token: providers
//! build these from response bodies and status codes only, and `Secret` has no way to print itself.

use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::ProviderKind;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderError {
    #[error("{provider}: unauthorized ({message}); check the key in {}", .provider.key_env_var())]
    Unauthorized {
        provider: ProviderKind,
        message: String,
    },
    #[error(
        "{provider}: out of credits or quota ({message}); top up the account or switch provider"
    )]
    QuotaExhausted {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider}: rate limited{}", retry_hint(*.retry_after, *.reset_at))]
    RateLimited {
        provider: ProviderKind,
        /// How long to wait before retrying, when the API said (Retry-After or x-rate-limit-reset).
        retry_after: Option<Duration>,
        /// The absolute reset time, when the API gave one.
        reset_at: Option<DateTime<Utc>>,
    },
    #[error("{provider}: {what} not found")]
    NotFound {
        provider: ProviderKind,
        what: String,
    },
    #[error("{provider}: {what} is suspended")]
    Suspended {
        provider: ProviderKind,
        what: String,
    },
    #[error("{provider}: {what} is protected; only approved followers can see its media")]
    Protected {
        provider: ProviderKind,
        what: String,
    },
    #[error("{provider}: request rejected ({message})")]
    InvalidRequest {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider}: upstream failure{} ({message}); try again later", status_hint(*.status))]
    Upstream {
        provider: ProviderKind,
        status: Option<u16>,
        message: String,
    },
    #[error("{provider}: network error ({message}); check the connection and try again")]
    Network {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider}: request timed out; try again")]
    Timeout { provider: ProviderKind },
    #[error("{provider}: unexpected response ({detail})")]
    BadResponse {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider}: {message}")]
    Config {
        provider: ProviderKind,
        message: String,
    },
}

fn retry_hint(after: Option<Duration>, reset_at: Option<DateTime<Utc>>) -> String {
    let reset = reset_at
        .map(|t| format!(" (the limit resets at {})", local_hh_mm(t)))
        .unwrap_or_default();
    match after {
        Some(d) => format!("; retry in {}s{reset}", d.as_secs().max(1)),
        None => format!("; wait a minute and retry{reset}"),
    }
}

/// `HH:MM` in the user's time zone, for "resets at".
pub fn local_hh_mm(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::Local).format("%H:%M").to_string()
}

fn status_hint(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl ProviderError {
    /// The message without the provider prefix and without a static "retry in 42s", for places
    /// that say the provider and the wait themselves (status bar, list, `dump`'s retry lines).
    pub fn brief(&self) -> String {
        if let Self::RateLimited { reset_at, .. } = self {
            return match reset_at {
                Some(t) => format!("rate limited until {}", local_hh_mm(*t)),
                None => "rate limited".into(),
            };
        }
        let full = self.to_string();
        let prefix = format!("{}: ", self.provider());
        full.strip_prefix(&prefix).unwrap_or(&full).to_string()
    }

    pub fn provider(&self) -> ProviderKind {
        match self {
            Self::Unauthorized { provider, .. }
            | Self::QuotaExhausted { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::NotFound { provider, .. }
            | Self::Suspended { provider, .. }
            | Self::Protected { provider, .. }
            | Self::InvalidRequest { provider, .. }
            | Self::Upstream { provider, .. }
            | Self::Network { provider, .. }
            | Self::Timeout { provider }
            | Self::BadResponse { provider, .. }
            | Self::Config { provider, .. } => *provider,
        }
    }

    /// The text quoted from the API or the request (message, detail or what), if the variant has
    /// one.
    fn quoted_mut(&mut self) -> Option<&mut String> {
        match self {
            Self::Unauthorized { message, .. }
            | Self::QuotaExhausted { message, .. }
            | Self::InvalidRequest { message, .. }
            | Self::Upstream { message, .. }
            | Self::Network { message, .. }
            | Self::Config { message, .. } => Some(message),
            Self::NotFound { what, .. }
            | Self::Suspended { what, .. }
            | Self::Protected { what, .. } => Some(what),
            Self::BadResponse { detail, .. } => Some(detail),
            Self::RateLimited { .. } | Self::Timeout { .. } => None,
        }
    }

    /// The last step every provider error takes on its way out of `AnyProvider` (the errors'
    /// counterpart of `sanitize_page`): the quoted text made one safe, capped line, then the key
    /// masked. In this order, so control characters hidden inside an echoed key cannot split it
    /// past the mask (a KeyAPI fuzz finding).
    pub fn cleaned(mut self, key: &crate::secret::Secret) -> Self {
        if let Some(text) = self.quoted_mut() {
            *text = key.redact(&crate::http::snippet(text));
        }
        self
    }

    /// The same error with the key masked in every text it quotes.
    pub fn redact(mut self, key: &crate::secret::Secret) -> Self {
        if let Some(text) = self.quoted_mut() {
            *text = key.redact(text);
        }
        self
    }

    /// Whether repeating the same request may succeed: rate limits, 5xx and transport faults.
    /// Auth, credit, validation and not-found errors never are: retrying them only burns money.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Upstream { .. }
                | Self::Network { .. }
                | Self::Timeout { .. }
        )
    }

    /// The `xmedia dump` exit status for this error (see README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Config { .. } => 2,
            Self::Unauthorized { .. } | Self::QuotaExhausted { .. } => 3,
            Self::RateLimited { .. } => 4,
            _ => 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = ProviderError::Unauthorized {
            provider: ProviderKind::Xapi,
            message: "Unauthorized".into(),
        };
        assert!(e.to_string().contains("XMEDIA_XAPI_TOKEN"), "{e}");
        let e = ProviderError::RateLimited {
            provider: ProviderKind::Keyapi,
            retry_after: Some(Duration::from_secs(42)),
            reset_at: None,
        };
        assert_eq!(e.to_string(), "keyapi: rate limited; retry in 42s");
        assert!(e.is_retryable());
        assert_eq!(e.exit_code(), 4);
    }

    #[test]
    fn redact_masks_the_key_in_quoted_text() {
        let key = crate::secret::Secret::new("SENTINEL-KEY").expect("key");
        let e = ProviderError::Upstream {
            provider: ProviderKind::Agntdata,
            status: Some(500),
            message: "bad key SENTINEL-KEY here".into(),
        }
        .redact(&key);
        assert!(!format!("{e} {e:?}").contains("SENTINEL"), "{e}");
        assert!(e.to_string().contains("bad key *** here"), "{e}");
    }

    // RELIABILITY A16 F4
    #[test]
    fn cleaned_sanitizes_then_masks_so_a_split_key_is_caught() {
        let key = crate::secret::Secret::new("SENTINEL-KEY").expect("key");
        let e = ProviderError::Unauthorized {
            provider: ProviderKind::Keyapi,
            message: "bad key SENTI\u{5}\u{0}NEL-KEY \u{1b}[2J".into(),
        }
        .cleaned(&key);
        let text = e.to_string();
        assert!(!text.contains("SENTINEL"), "{text}");
        assert!(text.contains("bad key ***"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        // Long quotes are capped to one short line.
        let e = ProviderError::Upstream {
            provider: ProviderKind::Xapi,
            status: Some(502),
            message: "x\n".repeat(1000),
        }
        .cleaned(&key);
        assert!(e.to_string().chars().count() < 300, "{e}");
        assert!(!e.to_string().contains('\n'));
    }
}
