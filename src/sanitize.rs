//! Makes text written by strangers safe to print into a terminal.
//!
//! Applied once, where API data enters the app (see `provider::AnyProvider`), so every widget and
//! every line printed after the UI exits can trust its strings. Removed: whole escape sequences
//! (CSI, OSC, DCS, APC, PM, SOS — terminated or not), every other C0/C1 control except newline,
//! bidi overrides and isolates, and zero-width characters that are not part of an emoji sequence.
//! Kept: newlines, tabs (as a space), emoji ZWJ sequences, CJK, combining marks.

/// Sanitizes one-line or multi-line text, keeping `\n`.
pub fn text(input: &str) -> String {
    // Fast path: most strings are clean.
    if !input.chars().any(needs_attention) {
        return input.to_string();
    }
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\u{1b}' => i = skip_escape(&chars, i),
            // 8-bit C1 introducers that start strings (DCS, SOS, OSC, PM, APC) or CSI.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => i = skip_string(&chars, i + 1),
            '\u{9b}' => i = skip_csi(&chars, i + 1),
            '\n' => {
                out.push('\n');
                i += 1;
            }
            '\t' => {
                out.push(' ');
                i += 1;
            }
            '\u{200d}' => {
                // Zero-width joiner: keep only between two pictographs (👨‍👩‍👧).
                let prev = out.chars().last();
                let next = chars.get(i + 1).copied();
                if prev.is_some_and(is_pictographic_or_modifier) && next.is_some_and(is_pictograph)
                {
                    out.push(c);
                }
                i += 1;
            }
            c if is_removed(c) => i += 1,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Sanitizes and folds to a single line (names, labels, error messages): newlines become spaces.
pub fn line(input: &str) -> String {
    let t = text(input);
    if t.contains('\n') {
        t.split('\n')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        t
    }
}

fn needs_attention(c: char) -> bool {
    c == '\u{1b}' || c == '\t' || c == '\u{200d}' || is_removed(c)
}

fn is_removed(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c,
            '\u{200b}' | '\u{200c}' | '\u{200e}' | '\u{200f}' // zero-width space/non-joiner, LRM/RLM
            | '\u{061c}' // Arabic letter mark (a bidi control like LRM/RLM)
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{2028}' | '\u{2029}' // line/paragraph separators
            | '\u{2060}'..='\u{2064}' // word joiner and invisible operators
            | '\u{feff}' // BOM / zero-width no-break space
            | '\u{fff9}'..='\u{fffb}' // interlinear annotations
            | '\u{e0001}' // language tag (tag chars U+E0020.. are kept for flag sequences)
        )
}

fn is_pictograph(c: char) -> bool {
    let u = c as u32;
    (0x1f000..=0x1faff).contains(&u)
        || (0x2600..=0x27bf).contains(&u)
        || (0x2190..=0x21ff).contains(&u)
        || (0x2300..=0x23ff).contains(&u)
        || (0x2b00..=0x2bff).contains(&u)
        || u == 0x2640
        || u == 0x2642
}

fn is_pictographic_or_modifier(c: char) -> bool {
    // Skin-tone modifiers and VS16 may sit between the pictograph and the joiner.
    is_pictograph(c) || (0x1f3fb..=0x1f3ff).contains(&(c as u32)) || c == '\u{fe0f}'
}

/// `chars[i]` is ESC. Returns the index after the whole sequence.
fn skip_escape(chars: &[char], i: usize) -> usize {
    match chars.get(i + 1) {
        None => i + 1,
        Some('[') => skip_csi(chars, i + 2),
        Some(']' | 'P' | '_' | '^' | 'X') => skip_string(chars, i + 2),
        // Two-char sequences (ESC c, ESC 7, ESC =, …) and charset designations (ESC ( B).
        Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ') => (i + 3).min(chars.len()),
        Some(_) => i + 2,
    }
}

/// Skips CSI parameters/intermediates up to and including the final byte.
fn skip_csi(chars: &[char], mut i: usize) -> usize {
    while let Some(&c) = chars.get(i) {
        i += 1;
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop at the first byte that cannot belong to a CSI, dropping it too when
            // it is a control.
            if !c.is_control() {
                i -= 1;
            }
            break;
        }
    }
    i
}

/// Skips an OSC/DCS/APC/PM/SOS payload up to its terminator (BEL, ST as `ESC \`, or 8-bit ST),
/// or to the end of the text when it is never terminated.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while let Some(&c) = chars.get(i) {
        match c {
            '\u{7}' | '\u{9c}' => return i + 1,
            '\u{1b}' if chars.get(i + 1) == Some(&'\\') => return i + 2,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_osc_dcs_apc_and_c1() {
        assert_eq!(text("hi\x1b[2J\x1b[Hpwned"), "hipwned");
        assert_eq!(text("a\x1b]52;c;cHduZWQ=\x07b"), "ab");
        assert_eq!(text("a\x1b]2;title\x1b\\b"), "ab");
        assert_eq!(text("a\x1bP+q544e\x1b\\b\x1b_Ga=d\x1b\\c"), "abc");
        assert_eq!(text("x\u{9b}2Jy\u{9d}0;t\u{9c}z"), "xyz");
        assert_eq!(text("ok \x1b]0;never ends"), "ok ");
        assert_eq!(text("line1\rOVER\x08\x07"), "line1OVER");
    }

    #[test]
    fn strips_bidi_and_stray_zero_width_but_keeps_emoji_and_cjk() {
        assert_eq!(text("abc\u{202e}gpj.exe"), "abcgpj.exe");
        assert_eq!(text("a\u{2066}b\u{2069}\u{200b}c"), "abc");
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(text(family), family);
        assert_eq!(text("a\u{200d}b"), "ab");
        assert_eq!(text("東京 مرحبا\nnext"), "東京 مرحبا\nnext");
    }

    #[test]
    fn line_folds_newlines() {
        assert_eq!(line("a\n\n b \n"), "a b");
    }
}
