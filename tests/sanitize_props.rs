//! Property tests of the sanitizer (RELIABILITY.md group A): whatever a stranger writes, what
//! comes out cannot drive the terminal.

use proptest::prelude::*;
use xmedia::sanitize;

fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{feff}')
}

/// Strings biased towards the bytes that matter: escape introducers, terminators, controls,
/// bidi marks, joiners and ordinary text.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\x1b".to_string()),
        Just("\x1b[".to_string()),
        Just("\x1b]".to_string()),
        Just("\x1bP".to_string()),
        Just("\x1b_".to_string()),
        Just("\x1b\\".to_string()),
        Just("\x07".to_string()),
        Just("\u{9b}".to_string()),
        Just("\u{9d}".to_string()),
        Just("\u{9c}".to_string()),
        Just("\r".to_string()),
        Just("\x08".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2067}".to_string()),
        Just("\u{200d}".to_string()),
        Just("\u{200b}".to_string()),
        Just("👨".to_string()),
        Just("東京".to_string()),
        Just("\n".to_string()),
        "[ -~]{0,6}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

/// Counts every terminal side effect other than printing text.
#[derive(Default)]
struct Spy {
    events: Vec<String>,
}

impl vt100::Callbacks for Spy {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.events.push("bell".into());
    }
    fn resize(&mut self, _: &mut vt100::Screen, r: (u16, u16)) {
        self.events.push(format!("resize {r:?}"));
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.events.push("icon name".into());
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.events.push("title".into());
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8], _: &[u8]) {
        self.events.push("clipboard write".into());
    }
    fn paste_from_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.events.push("clipboard read".into());
    }
    fn unhandled_control(&mut self, _: &mut vt100::Screen, b: u8) {
        self.events.push(format!("control {b:#x}"));
    }
    fn unhandled_escape(&mut self, _: &mut vt100::Screen, _: Option<u8>, _: Option<u8>, b: u8) {
        self.events.push(format!("escape {b:#x}"));
    }
    fn unhandled_csi(
        &mut self,
        _: &mut vt100::Screen,
        _: Option<u8>,
        _: Option<u8>,
        _: &[&[u16]],
        c: char,
    ) {
        self.events.push(format!("csi {c}"));
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, _: &[&[u8]]) {
        self.events.push("osc".into());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // RELIABILITY A18
    #[test]
    fn output_has_no_controls_and_is_idempotent(s in hostile()) {
        let once = sanitize::text(&s);
        prop_assert!(!once.chars().any(is_forbidden), "{:?} -> {:?}", s, once);
        prop_assert_eq!(sanitize::text(&once), once.clone());
        let line = sanitize::line(&s);
        prop_assert!(!line.contains('\n'));
        prop_assert!(!line.chars().any(is_forbidden));
    }

    #[test]
    // U+061C (Arabic letter mark) is a bidi control, removed like the others (a fuzz finding).
    fn printable_text_passes_unchanged(s in "[ -~\u{a0}-\u{61b}\u{61d}-\u{2000}\u{3000}-\u{9fff}\n]{0,80}") {
        prop_assert_eq!(sanitize::text(&s), s);
    }

    #[test]
    fn a_terminal_fed_the_output_sees_nothing_but_text(s in hostile()) {
        let clean = sanitize::line(&s);
        let mut parser = vt100::Parser::new_with_callbacks(5, 500, 0, Spy::default());
        parser.process(clean.as_bytes());
        prop_assert!(parser.callbacks().events.is_empty(), "{:?}: {:?}", s, parser.callbacks().events);
        // No cursor movement other than by printing: still on the first row.
        prop_assert_eq!(parser.screen().cursor_position().0, 0);
    }

}

#[test]
fn the_spy_does_see_raw_payloads() {
    // Guards the property above against a spy that sees nothing.
    let mut parser = vt100::Parser::new_with_callbacks(5, 500, 0, Spy::default());
    parser.process(b"\x1b]0;t\x07\x07\x1b]52;c;aGk=\x07");
    assert_eq!(
        parser.callbacks().events,
        ["icon name", "title", "bell", "clipboard write"]
    );
}
