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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::{Author, Metrics};
    use proptest::prelude::*;

    fn tweet(id: usize, quoted: bool) -> Tweet {
        Tweet {
            id: id.to_string(),
            url: Tweet::canonical_url(None, &id.to_string()),
            created_at: None,
            text: String::new(),
            lang: None,
            author: Author::default(),
            metrics: Metrics::default(),
            media: vec![],
            quoted: quoted.then(|| Box::new(tweet(id + 1_000_000, false))),
            reply_to: None,
            is_retweet: false,
            sensitive: None,
        }
    }

    proptest! {
        /// After any sequence of moves the selection is inside the window, and the window moved
        /// no more than needed.
        #[test]
        fn selection_stays_visible(
            quoted in proptest::collection::vec(any::<bool>(), 1..200),
            moves in proptest::collection::vec(-60isize..60, 1..40),
            height in 0u16..50,
        ) {
            let mut t = Timeline::default();
            t.merge(quoted.iter().enumerate().map(|(i, q)| tweet(i, *q)).collect());
            for m in moves {
                let before = t.offset();
                t.select_by(m);
                t.ensure_visible(height);
                let (sel, off) = (t.selected(), t.offset());
                prop_assert!(off <= sel);
                let used: u16 = t.tweets()[off..=sel].iter().map(row_height).sum();
                prop_assert!(used <= height || off == sel, "{off}..={sel} takes {used} > {height}");
                // Minimal scroll: either unchanged, or the selection is at an edge.
                if off != before {
                    let first_row = off == sel;
                    let fits_from_prev = off > 0
                        && t.tweets()[off - 1..=sel].iter().map(row_height).sum::<u16>() <= height;
                    prop_assert!(first_row || !fits_from_prev || off < before);
                }
            }
        }
    }

    #[test]
    fn merge_dedups_within_and_across_pages() {
        let mut t = Timeline::default();
        assert_eq!(
            t.merge(vec![tweet(1, false), tweet(1, false), tweet(2, false)]),
            2
        );
        assert_eq!(t.merge(vec![tweet(2, false), tweet(3, false)]), 1);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn lines_map_to_rows() {
        let mut t = Timeline::default();
        t.merge(vec![tweet(0, false), tweet(1, true), tweet(2, false)]);
        let at: Vec<Option<usize>> = (0..9).map(|l| t.index_at_line(l)).collect();
        assert_eq!(
            at,
            [
                Some(0),
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                None,
                None
            ]
        );
    }
}
