//! Numbers, dates, durations and width-aware truncation for the panes.

use chrono::{DateTime, Datelike, Utc};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `1,234` below ten thousand, then `48.2K`, `239.9M`, `1.2B`.
pub fn compact(n: u64) -> String {
    if n < 10_000 {
        return thousands(n);
    }
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")];
    for (i, (div, suffix)) in UNITS.iter().enumerate() {
        if n >= *div {
            // One decimal, rounded; 999.95K rounds up into the next unit.
            let tenths = (u128::from(n) * 10 + u128::from(*div) / 2) / u128::from(*div);
            if tenths >= 10_000 && i > 0 {
                let (bigger, s) = UNITS[i - 1];
                let t = (u128::from(n) * 10 + u128::from(bigger) / 2) / u128::from(bigger);
                return format!("{}.{}{s}", t / 10, t % 10);
            }
            return format!("{}.{}{suffix}", tenths / 10, tenths % 10);
        }
    }
    thousands(n)
}

/// `4,487`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `now`, `5m`, `3h`, `2d` within a week; `Mar 4` this year; `Mar 4 2023` before.
pub fn relative_date(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let age = now.signed_duration_since(at);
    let secs = age.num_seconds();
    if (-60..60).contains(&secs) {
        return "now".into();
    }
    if secs > 0 {
        if secs < 3600 {
            return format!("{}m", secs / 60);
        }
        if secs < 86_400 {
            return format!("{}h", secs / 3600);
        }
        if secs < 7 * 86_400 {
            return format!("{}d", secs / 86_400);
        }
    }
    if at.year() == now.year() {
        at.format("%b %-d").to_string()
    } else {
        at.format("%b %-d %Y").to_string()
    }
}

/// `2026-03-04 14:05 UTC`, for the preview.
pub fn full_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `0:46`, `12:03`, `1:02:03`.
pub fn duration_ms(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Cuts `s` to at most `max` columns, ending with `…` when cut. Never splits a character; wide
/// characters (CJK, emoji) count two columns.
pub fn truncate(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// The text on one line: newlines and runs of whitespace become single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word-wraps `s` to `width` columns, hard-breaking words longer than a line. Keeps paragraph
/// breaks.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split_whitespace() {
            let ww = word.width();
            let sep = usize::from(used > 0);
            if used + sep + ww <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += sep + ww;
                continue;
            }
            if ww <= width {
                // Fits on a line of its own: start one.
                lines.push(std::mem::take(&mut line));
                used = 0;
            } else if used > 0 && used + 1 < width {
                // Longer than any line (CJK runs, URLs): fill this line, then break by character.
                line.push(' ');
                used += 1;
            } else if used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width && used > 0 {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push(c);
                used += cw;
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn numbers() {
        assert_eq!(compact(0), "0");
        assert_eq!(compact(1_234), "1,234");
        assert_eq!(compact(9_999), "9,999");
        assert_eq!(compact(48_200), "48.2K");
        assert_eq!(compact(239_912_345), "239.9M");
        assert_eq!(compact(999_960), "1.0M");
        assert_eq!(compact(1_250_000_000), "1.3B");
        assert_eq!(thousands(4_487), "4,487");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn dates() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let ago = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(relative_date(ago(30), now), "now");
        assert_eq!(relative_date(ago(5 * 60), now), "5m");
        assert_eq!(relative_date(ago(3 * 3600), now), "3h");
        assert_eq!(relative_date(ago(2 * 86_400), now), "2d");
        let mar4 = Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap();
        assert_eq!(relative_date(mar4, now), "Mar 4");
        let old = Utc.with_ymd_and_hms(2023, 3, 4, 9, 0, 0).unwrap();
        assert_eq!(relative_date(old, now), "Mar 4 2023");
        assert_eq!(duration_ms(46_000), "0:46");
        assert_eq!(duration_ms(3_723_000), "1:02:03");
    }

    #[test]
    fn truncation_counts_columns_not_bytes() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(truncate("日本語", 0), "");
        assert!(truncate("🚀🚀🚀", 4).width() <= 4);
        let lines = wrap("日本語のテキストです hello", 6);
        assert!(lines.iter().all(|l| l.width() <= 6), "{lines:?}");
    }
}
