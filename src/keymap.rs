//! Key bindings: defaults, key-spec parsing (`"j"`, `"ctrl-d"`, `"shift-g"`/`"G"`, `"pgdn"`,
//! `"esc"`), and overrides from the config's `[keys]` table.
//!
//! Keys are normalized so a binding matches however the terminal reports it: for character keys
//! the SHIFT modifier is dropped and the character itself carries the case (`G`, `?`).

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use thiserror::Error;

use crate::action::Action;

/// A normalized key: what a binding matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT;
        let mut mods = mods & relevant;
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_uppercase().next().unwrap_or(c))
            }
            // Terminals report shift-tab as BackTab (with or without SHIFT).
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        Key::new(ev.code, ev.modifiers)
    }

    /// Parses `"j"`, `"G"`, `"shift-g"`, `"ctrl-d"`, `"alt-x"`, `"pgdn"`, `"esc"`, `"f5"`, …
    pub fn parse(spec: &str) -> Result<Key, KeymapError> {
        let bad = |reason: &str| KeymapError::BadKey {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        if spec.is_empty() {
            return Err(bad("empty key"));
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        // "-" alone (or a trailing "--") is the minus key, not a separator.
        while let Some((head, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break;
            }
            match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" | "control" => mods |= KeyModifiers::CONTROL,
                "alt" | "a" | "meta" | "m" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                "" => break,
                other => {
                    return Err(bad(&format!(
                        "unknown modifier \"{other}\" (use ctrl, alt or shift)"
                    )));
                }
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "esc" | "escape" => KeyCode::Esc,
                "enter" | "return" | "ret" => KeyCode::Enter,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" | "bs" => KeyCode::Backspace,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pgdn" | "pagedown" | "page_down" => KeyCode::PageDown,
                "pgup" | "pageup" | "page_up" => KeyCode::PageUp,
                "insert" | "ins" => KeyCode::Insert,
                "delete" | "del" => KeyCode::Delete,
                "minus" => KeyCode::Char('-'),
                f if f.len() >= 2 && f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=24) => KeyCode::F(n),
                    _ => return Err(bad("unknown key name")),
                },
                _ => return Err(bad("unknown key name")),
            },
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeymapError {
    #[error("invalid key \"{spec}\" in [keys]: {reason}")]
    BadKey { spec: String, reason: String },
    #[error("invalid action for key \"{key}\" in [keys]: {message}")]
    BadAction { key: String, message: String },
}

/// Key → action. Built from the defaults, then the config's overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// In insertion order, so the help overlay lists keys the way they were declared.
    bindings: Vec<(Key, Action)>,
}

const DEFAULTS: &[(&str, Action)] = &[
    ("j", Action::SelectNext),
    ("down", Action::SelectNext),
    ("k", Action::SelectPrev),
    ("up", Action::SelectPrev),
    ("g", Action::SelectFirst),
    ("home", Action::SelectFirst),
    ("G", Action::SelectLast),
    ("end", Action::SelectLast),
    ("pgdn", Action::PageDown),
    ("space", Action::PageDown),
    ("pgup", Action::PageUp),
    ("ctrl-d", Action::HalfPageDown),
    ("ctrl-u", Action::HalfPageUp),
    ("l", Action::NextMedia),
    ("]", Action::NextMedia),
    ("h", Action::PrevMedia),
    ("[", Action::PrevMedia),
    ("s", Action::RevealSensitive),
    ("o", Action::OpenTweet),
    ("enter", Action::OpenTweet),
    ("O", Action::OpenMedia),
    ("y", Action::CopyLink),
    ("r", Action::Retry),
    ("p", Action::TogglePreview),
    ("?", Action::ToggleHelp),
    ("esc", Action::Back),
    ("q", Action::Quit),
    ("ctrl-c", Action::Quit),
];

impl Default for Keymap {
    fn default() -> Keymap {
        let bindings = DEFAULTS
            .iter()
            .filter_map(|(spec, action)| Key::parse(spec).ok().map(|k| (k, *action)))
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    /// The defaults with `overrides` applied: each entry binds a key to an action, replacing
    /// whatever that key did before (other keys of the action keep working).
    pub fn with_overrides(overrides: &HashMap<String, Action>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        let mut entries: Vec<(&String, &Action)> = overrides.iter().collect();
        entries.sort();
        for (spec, action) in entries {
            map.bind(Key::parse(spec)?, *action);
        }
        Ok(map)
    }

    /// Like [`Keymap::with_overrides`], from raw strings (`x = "quit"`), quoting bad action names.
    pub fn from_config(raw: &HashMap<String, String>) -> Result<Keymap, KeymapError> {
        let mut parsed = HashMap::new();
        for (key, name) in raw {
            let action = Action::from_name(name).map_err(|message| KeymapError::BadAction {
                key: key.clone(),
                message,
            })?;
            parsed.insert(key.clone(), action);
        }
        Keymap::with_overrides(&parsed)
    }

    pub fn bind(&mut self, key: Key, action: Action) {
        match self.bindings.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = action,
            None => self.bindings.push((key, action)),
        }
    }

    /// The action for a key event. Press and repeat count (holding `j` scrolls); release never.
    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(ev);
        self.bindings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a)
    }

    /// Every bound action with its keys, in [`Action::ALL`] order: the help overlay's content.
    pub fn bindings(&self) -> Vec<(Action, Vec<Key>)> {
        Action::ALL
            .into_iter()
            .filter_map(|action| {
                let keys: Vec<Key> = self
                    .bindings
                    .iter()
                    .filter(|(_, a)| *a == action)
                    .map(|(k, _)| *k)
                    .collect();
                (!keys.is_empty()).then_some((action, keys))
            })
            .collect()
    }

    /// The first key bound to `action`, for hints like "press r to retry".
    pub fn key_for(&self, action: Action) -> Option<Key> {
        self.bindings
            .iter()
            .find(|(_, a)| *a == action)
            .map(|(k, _)| *k)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn parses_specs() {
        let k = |s| Key::parse(s).unwrap();
        assert_eq!(k("j"), Key::new(KeyCode::Char('j'), KeyModifiers::NONE));
        assert_eq!(k("G"), k("shift-g"));
        assert_eq!(
            k("ctrl-d"),
            Key::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
        );
        assert_eq!(k("pgdn").code, KeyCode::PageDown);
        assert_eq!(k("esc").code, KeyCode::Esc);
        assert_eq!(k("down").code, KeyCode::Down);
        assert_eq!(k("-").code, KeyCode::Char('-'));
        assert_eq!(k("f5").code, KeyCode::F(5));
        let err = Key::parse("ctrl-banana").unwrap_err().to_string();
        assert!(err.contains("\"ctrl-banana\""), "{err}");
        let err = Key::parse("hyper-x").unwrap_err().to_string();
        assert!(err.contains("\"hyper\""), "{err}");
        assert!(Key::parse("").is_err());
        assert_eq!(
            k("shift-tab"),
            Key::new(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
    }

    #[test]
    fn shifted_letters_match_however_reported() {
        let map = Keymap::default();
        // Terminals send 'G' with SHIFT; some send 'G' alone.
        for ev in [
            press(KeyCode::Char('G'), KeyModifiers::SHIFT),
            press(KeyCode::Char('G'), KeyModifiers::NONE),
        ] {
            assert_eq!(map.action_for(&ev), Some(Action::SelectLast));
        }
        assert_eq!(
            map.action_for(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            map.action_for(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn release_is_ignored_repeat_counts() {
        let map = Keymap::default();
        let mut ev = press(KeyCode::Char('j'), KeyModifiers::NONE);
        ev.kind = KeyEventKind::Repeat;
        assert_eq!(map.action_for(&ev), Some(Action::SelectNext));
        ev.kind = KeyEventKind::Release;
        assert_eq!(map.action_for(&ev), None);
    }

    #[test]
    fn overrides_replace_and_add() {
        let raw = HashMap::from([
            ("x".to_string(), "quit".to_string()),
            ("j".to_string(), "select_prev".to_string()),
        ]);
        let map = Keymap::from_config(&raw).unwrap();
        let j = press(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.action_for(&j), Some(Action::SelectPrev));
        let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.action_for(&x), Some(Action::Quit));
        let quit_keys = map
            .bindings()
            .into_iter()
            .find(|(a, _)| *a == Action::Quit)
            .unwrap()
            .1;
        assert_eq!(quit_keys.len(), 3);

        let bad_key = HashMap::from([("ctrl-nope".to_string(), Action::Quit)]);
        let err = Keymap::with_overrides(&bad_key).unwrap_err().to_string();
        assert!(err.contains("\"ctrl-nope\""), "{err}");

        let bad = HashMap::from([("x".to_string(), "explode".to_string())]);
        let err = Keymap::from_config(&bad).unwrap_err().to_string();
        assert!(
            err.contains("\"explode\"") && err.contains("\"x\""),
            "{err}"
        );
    }
}
