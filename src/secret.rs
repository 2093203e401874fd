//! API keys in a type that cannot leak through formatting.

use std::fmt;

/// A key or bearer token. `Debug` and `Display` print `***`; the only way to the bytes is
/// [`Secret::expose`], which is called where the `Authorization` header is built and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Normalizes a key as read from the environment or a file: surrounding whitespace (a trailing
    /// newline from `echo key > file`) is trimmed, and an empty result means "not set".
    pub fn new(raw: &str) -> Option<Self> {
        let t = raw.trim();
        (!t.is_empty()).then(|| Self(t.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key masked, for text quoted out of an API response in
    /// case the API echoes the key back. Keys shorter than 4 characters are not searched for:
    /// masking every "a" in a message would only garble it.
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() >= 4 && text.contains(&self.0) {
            text.replace(&self.0, "***")
        } else {
            text.to_string()
        }
    }

    /// Whether the key can go into an HTTP header value (visible ASCII only).
    pub fn is_header_safe(&self) -> bool {
        self.0.bytes().all(|b| (0x21..0x7f).contains(&b))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RELIABILITY F8
    #[test]
    fn never_formats_the_key() {
        let s = Secret::new(" sk-SENTINEL-123\n").expect("non-empty");
        assert_eq!(s.expose(), "sk-SENTINEL-123");
        assert!(!format!("{s:?} {s} {s:#?}").contains("SENTINEL"));
    }

    // RELIABILITY F2 F3 F4
    #[test]
    fn blank_is_unset_and_header_safety_is_checked() {
        assert!(Secret::new("  \n\t").is_none());
        assert!(Secret::new("ab cd").is_some_and(|s| !s.is_header_safe()));
        assert!(Secret::new("abc\u{7f}").is_some_and(|s| !s.is_header_safe()));
        assert!(Secret::new("AAAA-bbbb_9").is_some_and(|s| s.is_header_safe()));
    }
}
