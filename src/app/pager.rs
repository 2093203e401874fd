//! Paging through the account's media tweets: at most one request in flight, none after the end,
//! retries with backoff for errors that may pass.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::domain::Cursor;
use crate::effect::Effect;
use crate::error::ProviderError;
use crate::msg::RequestId;
use crate::retry::Backoff;

/// Pages in a row that brought no new tweet before we call it the end (some APIs keep handing
/// out cursors past the last page).
pub const MAX_EMPTY_PAGES: u32 = 3;

/// Pages one walk (from the first page, or from a refresh) fetches at most: a user holding `j`
/// on an endless or looping timeline must not spend requests without bound.
pub const MAX_PAGES: u32 = 1_000;

/// Tweets one walk loads at most (memory stays bounded; the list stays responsive).
pub const MAX_TWEETS: usize = 100_000;

/// Why paging stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The API gave no further cursor.
    NoCursor,
    /// The API handed back a cursor already followed (a repeat or a cycle).
    RepeatedCursor,
    /// [`MAX_EMPTY_PAGES`] pages in a row brought nothing new.
    EmptyPages,
    /// [`MAX_PAGES`] or [`MAX_TWEETS`] reached.
    Capped,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PagerState {
    /// Nothing in flight. `next: None` only before the first request.
    Idle { next: Option<Cursor> },
    Loading {
        req: RequestId,
        cursor: Option<Cursor>,
        /// A refresh: the answer replaces what is loaded instead of extending it.
        refresh: bool,
    },
    /// The last page was seen; no further request will be made (until a refresh).
    Exhausted,
    Failed {
        error: ProviderError,
        /// The cursor the failed request used, to repeat it.
        cursor: Option<Cursor>,
        refresh: bool,
        /// Consecutive failures of this request.
        attempts: u32,
        /// The automatic retry, when one is scheduled.
        retry: Option<ScheduledRetry>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledRetry {
    /// The id the retry's request will carry; `Msg::RetryDue` must quote it.
    pub req: RequestId,
    /// When it fires, by the app's clock at scheduling time (for the countdown).
    pub at: DateTime<Utc>,
}

/// What [`Pager::fail`] made of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// For a request that is no longer current: ignored.
    Stale,
    /// Now `Failed`; `retry` is the `ScheduleRetry` to run, when an automatic retry is due.
    Recorded { retry: Option<Effect> },
}

/// What an accepted answer was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub refresh: bool,
}

#[derive(Debug, Clone)]
pub struct Pager {
    state: PagerState,
    next_id: u64,
    used_cursors: HashSet<Cursor>,
    empty_streak: u32,
    /// Consecutive failures of the request being retried.
    failures: u32,
    /// When (and whether) a failed request is tried again; shared with `dump`.
    backoff: Backoff,
    rng: fastrand::Rng,
    /// Pages and new tweets accepted in this walk, against the caps.
    pages: u32,
    loaded: usize,
    max_pages: u32,
    max_tweets: usize,
    end: Option<EndReason>,
}

impl Pager {
    /// `max_retries` automatic retries per failing request; `seed` makes the jitter reproducible.
    pub fn new(max_retries: u32, seed: u64) -> Pager {
        Pager {
            state: PagerState::Idle { next: None },
            next_id: 0,
            used_cursors: HashSet::new(),
            empty_streak: 0,
            failures: 0,
            backoff: Backoff {
                max_retries,
                ..Backoff::default()
            },
            rng: fastrand::Rng::with_seed(seed),
            pages: 0,
            loaded: 0,
            max_pages: MAX_PAGES,
            max_tweets: MAX_TWEETS,
            end: None,
        }
    }

    /// Other caps than [`MAX_PAGES`] and [`MAX_TWEETS`] (tests).
    pub fn with_caps(mut self, max_pages: u32, max_tweets: usize) -> Pager {
        self.max_pages = max_pages.max(1);
        self.max_tweets = max_tweets.max(1);
        self
    }

    /// Why paging stopped, once `Exhausted`.
    pub fn end_reason(&self) -> Option<EndReason> {
        match self.state {
            PagerState::Exhausted => self.end,
            _ => None,
        }
    }

    pub fn state(&self) -> &PagerState {
        &self.state
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.state, PagerState::Loading { .. })
    }

    fn new_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    fn load(&mut self, req: RequestId, cursor: Option<Cursor>, refresh: bool) -> Effect {
        if !matches!(self.state, PagerState::Failed { .. }) {
            self.failures = 0;
        }
        self.state = PagerState::Loading {
            req,
            cursor: cursor.clone(),
            refresh,
        };
        Effect::FetchPage { req, cursor }
    }

    /// The first page, if it was never asked for.
    pub fn start(&mut self) -> Option<Effect> {
        match self.state {
            PagerState::Idle { next: None } if self.next_id == 0 => {
                let req = self.new_id();
                Some(self.load(req, None, false))
            }
            _ => None,
        }
    }

    /// The next page, when idle with a cursor to follow.
    pub fn fetch_next(&mut self) -> Option<Effect> {
        match &self.state {
            PagerState::Idle { next: Some(c) } => {
                let cursor = Some(c.clone());
                let req = self.new_id();
                Some(self.load(req, cursor, false))
            }
            _ => None,
        }
    }

    /// Starts over from the first page. Whatever is in flight becomes stale.
    pub fn refresh(&mut self) -> Effect {
        self.failures = 0;
        let req = self.new_id();
        self.load(req, None, true)
    }

    /// Repeats a failed request now (the user pressed retry). A request the API rejected for its
    /// cursor (an expired or invalid pagination token) would only be rejected again, so that one
    /// reloads from the top instead; what is loaded stays until the first page answers.
    pub fn retry_now(&mut self) -> Option<Effect> {
        match &self.state {
            PagerState::Failed {
                error: ProviderError::InvalidRequest { .. },
                cursor: Some(_),
                ..
            } => Some(self.refresh()),
            PagerState::Failed {
                cursor, refresh, ..
            } => {
                let (cursor, refresh) = (cursor.clone(), *refresh);
                let req = self.new_id();
                Some(self.load(req, cursor, refresh))
            }
            _ => None,
        }
    }

    /// A scheduled retry is due; runs it unless it was superseded.
    pub fn retry_due(&mut self, req: RequestId) -> Option<Effect> {
        match &self.state {
            PagerState::Failed {
                cursor,
                refresh,
                retry: Some(r),
                ..
            } if r.req == req => {
                let (cursor, refresh) = (cursor.clone(), *refresh);
                Some(self.load(req, cursor, refresh))
            }
            _ => None,
        }
    }

    /// Accepts an answer for the request in flight; `None` for a stale one (drop it).
    pub fn accept(&mut self, req: RequestId) -> Option<Accepted> {
        match &self.state {
            PagerState::Loading {
                req: current,
                cursor,
                refresh,
            } if *current == req => {
                let refresh = *refresh;
                if refresh {
                    self.used_cursors.clear();
                    self.empty_streak = 0;
                    self.pages = 0;
                    self.loaded = 0;
                }
                if let Some(c) = cursor.clone() {
                    self.used_cursors.insert(c);
                }
                Some(Accepted { refresh })
            }
            _ => None,
        }
    }

    /// Settles the state after an accepted page that added `added` new tweets. Returns a notice
    /// when paging stopped at a cap, so the user knows more may exist.
    pub fn finish(&mut self, next: Option<Cursor>, added: usize) -> Option<String> {
        self.failures = 0;
        self.pages = self.pages.saturating_add(1);
        self.loaded = self.loaded.saturating_add(added);
        if added == 0 {
            self.empty_streak += 1;
        } else {
            self.empty_streak = 0;
        }
        let end = match next {
            None => Some(EndReason::NoCursor),
            Some(c) if self.used_cursors.contains(&c) => Some(EndReason::RepeatedCursor),
            Some(_) if self.empty_streak >= MAX_EMPTY_PAGES => Some(EndReason::EmptyPages),
            Some(_) if self.pages >= self.max_pages || self.loaded >= self.max_tweets => {
                Some(EndReason::Capped)
            }
            Some(c) => {
                self.state = PagerState::Idle { next: Some(c) };
                None
            }
        };
        self.end = end;
        if end.is_some() {
            self.state = PagerState::Exhausted;
        }
        (end == Some(EndReason::Capped)).then(|| {
            format!(
                "stopped after {} pages and {} tweets: no more available in one go (r reloads from the top)",
                self.pages, self.loaded
            )
        })
    }

    /// Records a failure of the request in flight.
    pub fn fail(&mut self, req: RequestId, error: ProviderError, now: DateTime<Utc>) -> Failure {
        let (cursor, refresh) = match &self.state {
            PagerState::Loading {
                req: current,
                cursor,
                refresh,
            } if *current == req => (cursor.clone(), *refresh),
            _ => return Failure::Stale,
        };
        self.failures += 1;
        let attempts = self.failures;
        let delay = self
            .backoff
            .delay(attempts - 1, &error, self.rng.f64(), now);
        let mut effect = None;
        let retry = match delay {
            Some(after) => {
                let id = self.new_id();
                effect = Some(Effect::ScheduleRetry { req: id, after });
                let at =
                    now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
                Some(ScheduledRetry { req: id, at })
            }
            None => None,
        };
        self.state = PagerState::Failed {
            error,
            cursor,
            refresh,
            attempts,
            retry,
        };
        Failure::Recorded { retry: effect }
    }
}
