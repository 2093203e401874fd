//! When to try a failed request again, shared by `dump` and the TUI pager.
//!
//! Only errors that may succeed on a second try are retried (rate limits, 5xx, transport faults);
//! a bounded number of times; with exponential backoff and jitter so many clients do not retry in
//! lockstep; and a rate limit's own `Retry-After` is honoured instead of guessing.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::ProviderError;

/// The wait after a rate limit that said neither `Retry-After` nor `x-rate-limit-reset` (or
/// said it in a form we cannot read).
pub const RATE_LIMIT_FALLBACK: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_retries: 4,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (0-based) after `error`, or `None` to give up.
    /// `jitter` in `[0, 1)` spreads the wait (pass `fastrand::f64()` or a seeded generator's);
    /// `now` places a rate limit's reset time.
    ///
    /// - rate limited: the API's own wait (`Retry-After`, else the time left until
    ///   `x-rate-limit-reset`, else a minute — never a quick retry that would only be limited
    ///   again), plus up to 0.5 s so we do not arrive a hair early or in lockstep;
    /// - 5xx and transport faults: `base · 2^retry`, capped at `max`, ±25 %.
    pub fn delay(
        &self,
        retry: u32,
        error: &ProviderError,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        if !error.is_retryable() || retry >= self.max_retries {
            return None;
        }
        let jitter = jitter.clamp(0.0, 1.0);
        if let ProviderError::RateLimited {
            retry_after,
            reset_at,
            ..
        } = error
        {
            let hinted = retry_after
                .or_else(|| reset_at.map(|at| (at - now).to_std().unwrap_or(Duration::ZERO)));
            return Some(
                hinted.unwrap_or(RATE_LIMIT_FALLBACK) + Duration::from_millis(500).mul_f64(jitter),
            );
        }
        let exp = self.base.saturating_mul(1u32 << retry.min(16));
        let exp = exp.min(self.max);
        Some(
            exp.mul_f64(0.75 + 0.5 * jitter)
                .max(Duration::from_millis(100)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind::Keyapi;

    #[test]
    fn grows_exponentially_is_bounded_and_skips_fatal_errors() {
        let b = Backoff::default();
        let now = Utc::now();
        let e = ProviderError::Upstream {
            provider: Keyapi,
            status: Some(503),
            message: "x".into(),
        };
        assert_eq!(b.delay(0, &e, 0.5, now), Some(Duration::from_secs(1)));
        assert_eq!(b.delay(2, &e, 0.5, now), Some(Duration::from_secs(4)));
        assert_eq!(b.delay(1, &e, 0.0, now), Some(Duration::from_millis(1500)));
        assert_eq!(b.delay(4, &e, 0.5, now), None);
        let fatal = ProviderError::Unauthorized {
            provider: Keyapi,
            message: "x".into(),
        };
        assert_eq!(b.delay(0, &fatal, 0.5, now), None);
        let limited = ProviderError::RateLimited {
            provider: Keyapi,
            retry_after: Some(Duration::from_secs(30)),
            reset_at: None,
        };
        assert_eq!(
            b.delay(0, &limited, 0.0, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            b.delay(0, &limited, 0.5, now),
            Some(Duration::from_millis(30_250))
        );
        let reset = ProviderError::RateLimited {
            provider: Keyapi,
            retry_after: None,
            reset_at: Some(now + chrono::Duration::seconds(90)),
        };
        assert_eq!(b.delay(0, &reset, 0.0, now), Some(Duration::from_secs(90)));
        let unhinted = ProviderError::RateLimited {
            provider: Keyapi,
            retry_after: None,
            reset_at: None,
        };
        assert_eq!(b.delay(0, &unhinted, 0.0, now), Some(RATE_LIMIT_FALLBACK));
        assert_eq!(b.delay(4, &unhinted, 0.0, now), None);
    }
}
