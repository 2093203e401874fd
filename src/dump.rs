//! `xmedia dump`: the headless interface. JSON Lines on stdout (one profile line, then one line
//! per media tweet, newest first, no duplicates), progress and errors on stderr.

use std::collections::HashSet;
use std::io::Write;

use serde::Serialize;

use crate::domain::{Cursor, Page, Profile, Tweet};
use crate::error::ProviderError;
use crate::retry::Backoff;
use crate::source::Source;

/// Consecutive empty pages (that still carry a cursor) after which paging stops.
pub const MAX_EMPTY_PAGES: u32 = 3;

/// `--all` stops after this many pages or tweets, as the browser does.
pub use crate::app::pager::{MAX_PAGES, MAX_TWEETS};

#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// `None` = until the end.
    pub max_pages: Option<u32>,
    pub backoff: Backoff,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    value: &'a T,
}

fn write_line<T: Serialize>(
    out: &mut dyn Write,
    kind: &'static str,
    value: &T,
) -> std::io::Result<()> {
    let s = serde_json::to_string(&Line { kind, value }).map_err(std::io::Error::other)?;
    writeln!(out, "{s}")
}

/// Runs the dump and returns the process exit status (see README).
pub async fn run(
    source: &Source,
    opts: &DumpOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut seen_ids = HashSet::new();
    let mut seen_cursors: HashSet<Cursor> = HashSet::new();
    let mut cursor: Option<Cursor> = None;
    let mut profile_printed = false;
    let mut pages = 0u32;
    let mut printed = 0usize;
    let mut empty_run = 0u32;
    let status = loop {
        if opts.max_pages.is_some_and(|max| pages >= max) {
            break 0;
        }
        if opts.max_pages.is_none() && (pages >= MAX_PAGES || printed >= MAX_TWEETS) {
            let _ = writeln!(
                err,
                "xmedia: warning: stopped after {pages} pages and {printed} tweets, the most one run fetches; no more available"
            );
            break 0;
        }
        let page = match fetch_with_retry(source, cursor.as_ref(), &opts.backoff, err).await {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(err, "xmedia: {e}");
                if printed > 0 {
                    let _ = writeln!(
                        err,
                        "xmedia: kept the {printed} tweets fetched before the error"
                    );
                }
                break e.exit_code();
            }
        };
        pages += 1;
        for w in &page.warnings {
            let _ = writeln!(err, "xmedia: warning: {w}");
        }
        if !profile_printed && let Some(p) = page.profile.as_ref().or(source.profile().as_ref()) {
            if write_profile(out, p).is_err() {
                break 5;
            }
            profile_printed = true;
        }
        let new: Vec<&Tweet> = page
            .tweets
            .iter()
            .filter(|t| seen_ids.insert(t.id.clone()))
            .collect();
        for t in &new {
            if write_line(out, "tweet", *t).is_err() {
                // stdout closed (e.g. piped into `head`): nothing more to do.
                return 0;
            }
        }
        printed += new.len();
        let _ = out.flush();
        let _ = writeln!(
            err,
            "xmedia: page {pages}: {} new tweets ({printed} in all)",
            new.len()
        );
        // A page of tweets already printed (a pinned tweet on every page) counts as empty.
        empty_run = if new.is_empty() { empty_run + 1 } else { 0 };
        match page.next_cursor {
            None => break 0,
            Some(_) if empty_run >= MAX_EMPTY_PAGES => {
                let _ = writeln!(
                    err,
                    "xmedia: warning: {MAX_EMPTY_PAGES} empty pages in a row; stopping"
                );
                break 0;
            }
            Some(c) if !seen_cursors.insert(c.clone()) => {
                let _ = writeln!(
                    err,
                    "xmedia: warning: the API repeated a cursor; stopping to avoid a loop"
                );
                break 0;
            }
            Some(c) => cursor = Some(c),
        }
    };
    let _ = writeln!(
        err,
        "xmedia: {printed} media tweets from {pages} pages, {} requests",
        source.requests_sent()
    );
    status
}

fn write_profile(out: &mut dyn Write, p: &Profile) -> std::io::Result<()> {
    write_line(out, "profile", p)
}

async fn fetch_with_retry(
    source: &Source,
    cursor: Option<&Cursor>,
    backoff: &Backoff,
    err: &mut dyn Write,
) -> Result<Page, ProviderError> {
    let mut retry = 0;
    loop {
        match source.fetch(cursor).await {
            Ok(p) => return Ok(p),
            Err(e) => match backoff.delay(retry, &e, fastrand::f64(), chrono::Utc::now()) {
                Some(wait) => {
                    // The wait is said once: the error's own "retry in Ns" hint is left out.
                    let _ = writeln!(
                        err,
                        "xmedia: {}: {}; retrying in {:.1}s ({}/{})",
                        e.provider(),
                        e.brief(),
                        wait.as_secs_f64(),
                        retry + 1,
                        backoff.max_retries
                    );
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                None => return Err(e),
            },
        }
    }
}
