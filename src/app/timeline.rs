//! The loaded tweets, the selection and the list's scroll offset.
//!
//! Every operation costs O(visible rows), never O(loaded tweets), so 100k tweets scroll as fast
//! as 100.

use std::collections::HashSet;

use crate::domain::Tweet;

/// Lines one row takes in the list: date + text, media + metrics, and the quoted tweet if any.
pub fn row_height(tweet: &Tweet) -> u16 {
    if tweet.quoted.is_some() { 3 } else { 2 }
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    tweets: Vec<Tweet>,
    ids: HashSet<String>,
    selected: usize,
    offset: usize,
}

impl Timeline {
    pub fn tweets(&self) -> &[Tweet] {
        &self.tweets
    }

    pub fn len(&self) -> usize {
        self.tweets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tweets.is_empty()
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn selected_tweet(&self) -> Option<&Tweet> {
        self.tweets.get(self.selected)
    }

    /// The first row drawn, as of the last [`Timeline::ensure_visible`].
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Appends the tweets not already loaded; returns how many were new.
    pub fn merge(&mut self, tweets: Vec<Tweet>) -> usize {
        let before = self.tweets.len();
        for t in tweets {
            if self.ids.insert(t.id.clone()) {
                self.tweets.push(t);
            }
        }
        self.tweets.len() - before
    }

    /// Replaces everything (a refresh), keeping the selection on the same tweet when it is still
    /// there. Returns how many tweets were loaded.
    pub fn replace(&mut self, tweets: Vec<Tweet>) -> usize {
        let keep = self.selected_tweet().map(|t| t.id.clone());
        self.tweets.clear();
        self.ids.clear();
        let added = self.merge(tweets);
        self.selected = keep
            .and_then(|id| self.tweets.iter().position(|t| t.id == id))
            .unwrap_or(0);
        self.offset = self.offset.min(self.selected);
        added
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.tweets.len().saturating_sub(1));
    }

    pub fn select_by(&mut self, delta: isize) {
        let target = self.selected.saturating_add_signed(delta);
        self.select(target);
    }

    pub fn select_last(&mut self) {
        self.select(usize::MAX);
    }

    /// Scrolls as little as possible so the selected row fits in `height` lines.
    pub fn ensure_visible(&mut self, height: u16) {
        self.offset = visible_offset(&self.tweets, self.selected, self.offset, height);
    }

    /// How many rows fit in `height` lines starting at the offset (at least 1).
    pub fn visible_rows(&self, height: u16) -> usize {
        rows_fitting(&self.tweets, self.offset, height).max(1)
    }

    /// The tweet drawn at line `line` of the list (0 = first line of the list area).
    pub fn index_at_line(&self, line: u16) -> Option<usize> {
        let mut top = 0u16;
        for (i, t) in self.tweets.iter().enumerate().skip(self.offset) {
            let h = row_height(t);
            if line < top.saturating_add(h) {
                return Some(i);
            }
            top = top.saturating_add(h);
        }
        None
    }
}

/// The first row to draw so that `selected` is visible, moving from `offset` as little as
/// possible. Walks back from the selection at most one screenful.
pub fn visible_offset(tweets: &[Tweet], selected: usize, offset: usize, height: u16) -> usize {
    let Some(last) = tweets.len().checked_sub(1) else {
        return 0;
    };
    let selected = selected.min(last);
    let offset = offset.min(selected);
    let height = usize::from(height);
    let mut first = selected;
    let mut used = usize::from(row_height(&tweets[selected]));
    while first > offset {
        let next = used + usize::from(row_height(&tweets[first - 1]));
        if next > height {
            break;
        }
        used = next;
        first -= 1;
    }
    first
}

/// How many whole rows from `offset` fit in `height` lines.
pub fn rows_fitting(tweets: &[Tweet], offset: usize, height: u16) -> usize {
    let mut used = 0u16;
    let mut n = 0;
    for t in tweets.iter().skip(offset) {
        used = used.saturating_add(row_height(t));
        if used > height {
            break;
        }
        n += 1;
    }
    n
}
