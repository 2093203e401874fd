//! What a key means: one flat, verb-first enum, bindable by its snake_case name in the config
//! (`[keys]` table: `x = "quit"`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    SelectNext,
    SelectPrev,
    SelectFirst,
    SelectLast,
    PageDown,
    PageUp,
    HalfPageDown,
    HalfPageUp,
    /// Next / previous picture of the selected tweet (its own media, then the quoted tweet's).
    NextMedia,
    PrevMedia,
    /// Shows or hides the selected tweet's possibly-sensitive media.
    RevealSensitive,
    OpenTweet,
    OpenMedia,
    CopyLink,
    Retry,
    TogglePreview,
    ToggleHelp,
    /// Closes the help overlay when it is open, quits otherwise.
    Back,
    Quit,
}

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub const ALL: [Action; 19] = [
        Self::SelectNext,
        Self::SelectPrev,
        Self::SelectFirst,
        Self::SelectLast,
        Self::PageDown,
        Self::PageUp,
        Self::HalfPageDown,
        Self::HalfPageUp,
        Self::NextMedia,
        Self::PrevMedia,
        Self::RevealSensitive,
        Self::OpenTweet,
        Self::OpenMedia,
        Self::CopyLink,
        Self::Retry,
        Self::TogglePreview,
        Self::ToggleHelp,
        Self::Back,
        Self::Quit,
    ];

    /// The config name, e.g. `select_next`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SelectNext => "select_next",
            Self::SelectPrev => "select_prev",
            Self::SelectFirst => "select_first",
            Self::SelectLast => "select_last",
            Self::PageDown => "page_down",
            Self::PageUp => "page_up",
            Self::HalfPageDown => "half_page_down",
            Self::HalfPageUp => "half_page_up",
            Self::NextMedia => "next_media",
            Self::PrevMedia => "prev_media",
            Self::RevealSensitive => "reveal_sensitive",
            Self::OpenTweet => "open_tweet",
            Self::OpenMedia => "open_media",
            Self::CopyLink => "copy_link",
            Self::Retry => "retry",
            Self::TogglePreview => "toggle_preview",
            Self::ToggleHelp => "toggle_help",
            Self::Back => "back",
            Self::Quit => "quit",
        }
    }

    /// One line for the help overlay.
    pub fn description(self) -> &'static str {
        match self {
            Self::SelectNext => "next tweet",
            Self::SelectPrev => "previous tweet",
            Self::SelectFirst => "first tweet",
            Self::SelectLast => "last loaded tweet",
            Self::PageDown => "page down",
            Self::PageUp => "page up",
            Self::HalfPageDown => "half page down",
            Self::HalfPageUp => "half page up",
            Self::NextMedia => "next picture of this tweet",
            Self::PrevMedia => "previous picture of this tweet",
            Self::RevealSensitive => "show / hide sensitive media",
            Self::OpenTweet => "open tweet in browser",
            Self::OpenMedia => "open media (full-size photo / MP4 video)",
            Self::CopyLink => "copy tweet link",
            Self::Retry => "retry failed load / refresh",
            Self::TogglePreview => "show or hide the preview",
            Self::ToggleHelp => "toggle this help",
            Self::Back => "close help, or quit",
            Self::Quit => "quit",
        }
    }

    /// Parses a config name; the error quotes the bad value and lists the valid ones.
    pub fn from_name(name: &str) -> Result<Action, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown action \"{name}\"; expected one of: {}",
                    valid.join(", ")
                )
            })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for a in Action::ALL {
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
            let back: Action = serde_json::from_str(&json).unwrap();
            assert_eq!(back, a);
            assert_eq!(Action::from_name(a.name()), Ok(a));
        }
    }

    #[test]
    fn unknown_name_is_quoted() {
        let err = Action::from_name("quitt").unwrap_err();
        assert!(err.contains("\"quitt\""), "{err}");
        assert!(err.contains("select_next"), "{err}");
    }
}
