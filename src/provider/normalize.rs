//! Conversions the three providers share: lenient number/id parsing, Twitter dates, HTML entities,
//! link expansion and removal of the trailing media link.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::MediaKind;

/// Parses `T` from whatever JSON is there, falling back to `T::default()` on a type mismatch.
pub fn de_lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// `Some(T)` when the value parses as `T`, otherwise `None` (null, absent, or the wrong shape).
pub fn de_opt_lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

/// A list whose malformed elements are dropped; anything that is not an array is an empty list.
pub fn de_vec_lenient<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The longest unknown media type name kept (in characters); longer names are cut.
const MAX_TYPE_NAME: usize = 32;

/// The media kind for a provider's `type` string: `photo`, `video`, `animated_gif` (or `gif`)
/// are known; anything else is [`MediaKind::Other`] with the name kept (trimmed, at most 32
/// characters) for display, so an `audio` attachment becomes a placeholder instead of vanishing.
pub fn media_kind(raw: &str) -> (MediaKind, Option<String>) {
    let name = raw.trim();
    match name.to_ascii_lowercase().as_str() {
        "photo" => (MediaKind::Photo, None),
        "video" => (MediaKind::Video, None),
        "animated_gif" | "gif" => (MediaKind::Gif, None),
        _ => {
            let kept: String = name.chars().take(MAX_TYPE_NAME).collect();
            (MediaKind::Other, Some(kept).filter(|k| !k.is_empty()))
        }
    }
}

/// Deserializes a count that may be a number, a numeric string (`"1234"`), or null/absent.
/// Anything else (`"1.2K"`, negative, garbage) becomes `None` rather than failing the page.
pub fn de_opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(count_from_value))
}

pub fn count_from_value(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.is_finite())
                .map(|f| f as u64)
        }),
        serde_json::Value::String(s) => s.trim().replace(',', "").parse().ok(),
        _ => None,
    }
}

/// Deserializes an id that may be a JSON string or a JSON integer (ids beyond 2^53 must arrive as
/// strings to be exact, but some APIs send numbers; serde_json keeps u64 integers exact).
pub fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(id_from_value))
}

pub fn id_from_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// Deserializes a bool that may be `true`/`false`, `0`/`1`, `"true"`, or null.
pub fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|n| n != 0),
        Some(serde_json::Value::String(s)) => match s.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// Parses Twitter's classic `Wed Oct 10 20:19:24 +0000 2018`, RFC 3339 (`2018-10-10T20:19:24.000Z`)
/// or epoch seconds.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(n) = s.parse::<i64>() {
        // Milliseconds when implausibly large for seconds.
        return if n > 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
    }
    None
}

/// Decodes the HTML entities Twitter puts in tweet text (`&amp;`, `&lt;`, `&gt;`, `&quot;`,
/// `&#39;`, numeric forms). Unknown entities are left as they are.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((ch, end + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A link entity: the short `t.co` URL as it appears in the text and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEntity {
    pub short: String,
    pub expanded: Option<String>,
}

/// Builds display text from raw tweet text: entities decoded, each `t.co` link replaced by its
/// expanded URL where known, and the media links (`media_links`, the `t.co` URLs that stand for
/// attached photos/videos) removed. Replacement is by string, not by index, so UTF-16 offsets and
/// emoji cannot make it slice mid-character.
pub fn display_text(raw: &str, links: &[LinkEntity], media_links: &[String]) -> String {
    let mut text = decode_entities(raw);
    for m in media_links.iter().filter(|m| !m.is_empty()) {
        text = text.replace(m.as_str(), "");
    }
    for l in links.iter().filter(|l| !l.short.is_empty()) {
        if let Some(exp) = l.expanded.as_deref().filter(|e| !e.is_empty()) {
            text = text.replace(l.short.as_str(), exp);
        }
    }
    if !media_links.is_empty() {
        text = strip_trailing_tco(&text);
    }
    text.trim_end().to_string()
}

/// Removes a trailing bare `https://t.co/XXXX` (the media link when the source gives no entity
/// for it). Only used for tweets that carry media.
pub fn strip_trailing_tco(text: &str) -> String {
    let trimmed = text.trim_end();
    if let Some(pos) = trimmed.rfind("https://t.co/") {
        let tail = &trimmed[pos + "https://t.co/".len()..];
        let at_word_start = pos == 0 || trimmed[..pos].ends_with(char::is_whitespace);
        if at_word_start && !tail.is_empty() && tail.chars().all(|c| c.is_ascii_alphanumeric()) {
            return trimmed[..pos].trim_end().to_string();
        }
    }
    trimmed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RELIABILITY D11
    #[test]
    fn unknown_media_types_are_kept_by_name_and_capped() {
        assert_eq!(media_kind("photo"), (MediaKind::Photo, None));
        assert_eq!(media_kind(" Video "), (MediaKind::Video, None));
        assert_eq!(media_kind("gif"), (MediaKind::Gif, None));
        assert_eq!(media_kind("animated_gif"), (MediaKind::Gif, None));
        assert_eq!(
            media_kind(" audio "),
            (MediaKind::Other, Some("audio".into()))
        );
        assert_eq!(media_kind("  "), (MediaKind::Other, None));
        let (kind, name) = media_kind(&"é".repeat(100));
        assert_eq!(kind, MediaKind::Other);
        assert_eq!(name.expect("name").chars().count(), 32);
    }

    // RELIABILITY D13
    #[test]
    fn counts_accept_numbers_and_numeric_strings_only() {
        use serde_json::json;
        assert_eq!(count_from_value(&json!(12)), Some(12));
        assert_eq!(count_from_value(&json!("3,405")), Some(3405));
        assert_eq!(count_from_value(&json!("1.2K")), None);
        assert_eq!(count_from_value(&json!(null)), None);
        assert_eq!(
            id_from_value(&json!(1558553189766631429u64)).as_deref(),
            Some("1558553189766631429")
        );
    }

    #[test]
    fn dates_in_all_three_shapes() {
        let a = parse_date("Wed Oct 10 20:19:24 +0000 2018").expect("classic");
        let b = parse_date("2018-10-10T20:19:24.000Z").expect("rfc3339");
        assert_eq!(a, b);
        assert_eq!(parse_date("1539202764"), Some(a));
        assert_eq!(parse_date("yesterday"), None);
    }

    // RELIABILITY D12
    #[test]
    fn entities_decode_and_unknown_ones_survive() {
        assert_eq!(
            decode_entities("a &amp; b &lt;3 &#39;x&#x27; &bogus; & done"),
            "a & b <3 'x' &bogus; & done"
        );
    }

    // RELIABILITY D12
    #[test]
    fn display_text_expands_links_and_drops_media_link() {
        let raw = "Read https://t.co/abc &amp; look 🎉 https://t.co/MEDIA";
        let links = [LinkEntity {
            short: "https://t.co/abc".into(),
            expanded: Some("https://example.com/post".into()),
        }];
        assert_eq!(
            display_text(raw, &links, &["https://t.co/MEDIA".into()]),
            "Read https://example.com/post & look 🎉"
        );
        assert_eq!(
            strip_trailing_tco("photo https://t.co/Zz9"),
            "photo".to_string()
        );
        assert_eq!(
            strip_trailing_tco("see xhttps://t.co/Zz9"),
            "see xhttps://t.co/Zz9"
        );
    }
}
