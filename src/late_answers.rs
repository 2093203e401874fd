//! Terminal answers that arrive after the start-up graphics query gave up waiting are not keys.
//!
//! The query (`media::graphics`) waits a bounded time for the terminal's answers. On a slow link
//! (ssh, a busy machine) they can come later, and crossterm then reads them as keystrokes: kitty's
//! `ESC _ G i=31;OK ESC \` becomes Alt-`_`, `G` (jump to the end), `i`, … `O` (open the media in a
//! browser!), `K`; XTVERSION's `ESC P >|kitty(0.26.5) ESC \` becomes Alt-`P`, `>`, `|`, `k` (move
//! up), … CSI answers (device attributes, cell size, status) are already dropped by crossterm.
//!
//! [`LateAnswers`] recognises the string answers by their opening (`ESC P` DCS, `ESC _` APC,
//! `ESC ]` OSC, which crossterm delivers as Alt-`P`, Alt-`_`, Alt-`]`) and drops every key up to
//! the terminator (`ESC \`, or BEL for OSC). A terminal writes an answer in one go, so the keys
//! of one come in a burst; a pause longer than [`BURST_GAP`] means a person is typing, and
//! what follows is theirs again. xmedia binds none of the three Alt keys.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Longest pause between two keys of one answer. Generous because the app may draw a frame
/// between two keys it reads from the same burst; far shorter than a person pressing Alt-`_`
/// and then, deliberately, another key.
pub const BURST_GAP: Duration = Duration::from_millis(250);

/// Longest answer dropped: XTVERSION and kitty's answers are a few dozen characters.
const MAX_KEYS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `ESC P … ESC \`
    Dcs,
    /// `ESC _ … ESC \`
    Apc,
    /// `ESC ] … ESC \` or `… BEL`
    Osc,
}

#[derive(Debug, Clone, Copy)]
struct Inside {
    kind: Kind,
    last: Instant,
    keys: usize,
}

/// Tells the user's keys from a terminal's late answer; see the module doc.
#[derive(Debug, Default)]
pub struct LateAnswers {
    inside: Option<Inside>,
    dropped: usize,
}

impl LateAnswers {
    /// Whether `key`, read at `now`, was typed (`true`) or belongs to a terminal's answer
    /// (`false`: drop it).
    pub fn is_typed(&mut self, key: &KeyEvent, now: Instant) -> bool {
        if let Some(inside) = self.inside.take() {
            let in_burst = now.saturating_duration_since(inside.last) <= BURST_GAP;
            if in_burst && inside.keys < MAX_KEYS {
                self.dropped += 1;
                if !ends(inside.kind, key) {
                    self.inside = Some(Inside {
                        last: now,
                        keys: inside.keys + 1,
                        ..inside
                    });
                }
                return false;
            }
            // The burst is over without a terminator: this key is a person's.
        }
        match opens(key) {
            Some(kind) => {
                self.dropped += 1;
                self.inside = Some(Inside {
                    kind,
                    last: now,
                    keys: 1,
                });
                false
            }
            None => true,
        }
    }

    /// How many keys were dropped so far (for the log).
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

fn opens(key: &KeyEvent) -> Option<Kind> {
    if !key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    match key.code {
        KeyCode::Char('P') => Some(Kind::Dcs),
        KeyCode::Char('_') => Some(Kind::Apc),
        KeyCode::Char(']') => Some(Kind::Osc),
        _ => None,
    }
}

fn ends(kind: Kind, key: &KeyEvent) -> bool {
    let st = key.code == KeyCode::Char('\\') && key.modifiers.contains(KeyModifiers::ALT);
    let bel = key.code == KeyCode::Char('g') && key.modifiers.contains(KeyModifiers::CONTROL);
    st || (kind == Kind::Osc && bel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    /// The keys crossterm makes of `bytes` (the subset terminal answers use): ESC + c is Alt-c,
    /// uppercase letters carry Shift, 0x01–0x1A are Ctrl-letters.
    fn keys_of(bytes: &[u8]) -> Vec<KeyEvent> {
        let mut out = Vec::new();
        let mut alt = false;
        for &b in bytes {
            if b == 0x1b {
                alt = true;
                continue;
            }
            let (code, mut mods) = match b {
                0x01..=0x1a => (
                    KeyCode::Char(char::from(b - 1 + b'a')),
                    KeyModifiers::CONTROL,
                ),
                b'A'..=b'Z' => (KeyCode::Char(char::from(b)), KeyModifiers::SHIFT),
                _ => (KeyCode::Char(char::from(b)), KeyModifiers::NONE),
            };
            if std::mem::take(&mut alt) {
                mods |= KeyModifiers::ALT;
            }
            out.push(key(code, mods));
        }
        out
    }

    /// Feeds `bytes` as one burst and returns the keys kept, as text.
    fn kept(filter: &mut LateAnswers, bytes: &[u8], at: Instant) -> String {
        keys_of(bytes)
            .iter()
            .filter(|k| filter.is_typed(k, at))
            .map(|k| match k.code {
                KeyCode::Char(c) => c,
                _ => '?',
            })
            .collect()
    }

    #[test]
    fn late_kitty_xtversion_and_osc_answers_are_dropped_and_keys_around_them_kept() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        assert_eq!(kept(&mut f, b"j\x1b_Gi=31;OK\x1b\\k", t), "jk");
        assert_eq!(kept(&mut f, b"\x1bP>|kitty(0.26.5)\x1b\\G", t), "G");
        assert_eq!(kept(&mut f, b"\x1b]11;rgb:0000/0000/0000\x07q", t), "q");
        assert_eq!(kept(&mut f, b"\x1b]10;rgb:ffff/ffff/ffff\x1b\\j", t), "j");
        // Opener + body + terminator: 1 + 8 + 1, 1 + 15 + 1, 1 + 21 + 1, 1 + 21 + 1.
        assert_eq!(f.dropped(), 10 + 17 + 23 + 23);
    }

    #[test]
    fn an_answer_split_across_reads_is_dropped_whole() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        assert_eq!(kept(&mut f, b"\x1b_Gi=3", t), "");
        let later = t + Duration::from_millis(40);
        assert_eq!(kept(&mut f, b"1;OK\x1b\\jj", later), "jj");
    }

    #[test]
    fn a_pause_means_a_person_is_typing_again() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        // Alt-_ typed by hand (no terminator follows), then `j` a moment later: `j` counts.
        assert_eq!(kept(&mut f, b"\x1b_", t), "");
        assert_eq!(kept(&mut f, b"j", t + BURST_GAP * 2), "j");
        assert_eq!(kept(&mut f, b"k", t + BURST_GAP * 2), "k");
    }

    #[test]
    fn bel_ends_only_an_osc_answer() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        // Inside an APC, a BEL is part of the answer: the terminator is still ESC \.
        assert_eq!(kept(&mut f, b"\x1b_G\x07x\x1b\\j", t), "j");
    }

    #[test]
    fn ordinary_and_other_alt_keys_pass() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        assert_eq!(kept(&mut f, b"jkgG?q\x1bj\x1bx", t), "jkgG?qjx");
        assert_eq!(f.dropped(), 0);
    }

    #[test]
    fn an_endless_answer_stops_being_dropped() {
        let mut f = LateAnswers::default();
        let t = Instant::now();
        let mut bytes = b"\x1b_".to_vec();
        bytes.extend(std::iter::repeat_n(b'a', MAX_KEYS + 10));
        let out = kept(&mut f, &bytes, t);
        // At most MAX_KEYS keys of one answer are dropped, the opener among them.
        assert_eq!(out.len(), MAX_KEYS + 10 - (MAX_KEYS - 1), "{out}");
    }
}
