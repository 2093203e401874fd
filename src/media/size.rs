//! Which `pbs.twimg.com` size to ask for: the smallest one that still fills the pane, so a preview
//! costs tens of kilobytes instead of megabytes. `orig` is only for open/save.

use url::Url;

/// The named sizes the image CDN serves. Each fits the picture inside a square of
/// [`PbsSize::max_side`] pixels (never enlarging it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PbsSize {
    Small,
    Medium,
    Large,
    Orig,
}

impl PbsSize {
    /// Smallest first; `Orig` is not a preview size.
    pub const PREVIEW: [PbsSize; 3] = [PbsSize::Small, PbsSize::Medium, PbsSize::Large];

    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
            Self::Orig => "orig",
        }
    }

    /// The square this size fits into; `None` for the original.
    pub fn max_side(self) -> Option<u32> {
        match self {
            Self::Small => Some(680),
            Self::Medium => Some(1200),
            Self::Large => Some(2048),
            Self::Orig => None,
        }
    }

    /// The pixel size the CDN serves for a picture of `original` size.
    pub fn served(self, original: (u32, u32)) -> (u32, u32) {
        let (w, h) = original;
        match self.max_side() {
            Some(side) if w.max(h) > side => {
                let scale = f64::from(side) / f64::from(w.max(h));
                (
                    ((f64::from(w) * scale).round() as u32).max(1),
                    ((f64::from(h) * scale).round() as u32).max(1),
                )
            }
            _ => (w, h),
        }
    }
}

/// The smallest preview size that fills a pane of `pane_px` pixels with a picture of `original`
/// size (when known). A pane larger than the picture needs no more than the picture itself; a
/// pane larger than `large` gets `large` (it is upscaled, which beats waiting for `orig`).
pub fn choose(pane_px: (u32, u32), original: Option<(u32, u32)>) -> PbsSize {
    let (pw, ph) = (pane_px.0.max(1), pane_px.1.max(1));
    let fits = |size: PbsSize| match original {
        Some((w, h)) if w > 0 && h > 0 => {
            // What the preview will actually occupy: the picture fitted into the pane.
            let need = super::decode::fit_within((w, h), (pw, ph));
            let got = size.served((w, h));
            // A pixel of slack absorbs the CDN's rounding.
            (got.0 + 1 >= need.0.min(w) && got.1 + 1 >= need.1.min(h)) || got == (w, h)
        }
        _ => size.max_side().is_some_and(|side| side >= pw.max(ph)),
    };
    PbsSize::PREVIEW
        .into_iter()
        .find(|s| fits(*s))
        .unwrap_or(PbsSize::Large)
}

/// `url` asking for `size`: an existing `name=` is replaced, `format=` and anything else kept, and
/// the legacy `…/X.jpg:large` suffix dropped. Works for the demo server's URLs too.
pub fn sized_url(url: &str, size: PbsSize) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_string();
    };
    if let Some(stripped) = strip_legacy_suffix(parsed.path()) {
        parsed.set_path(&stripped);
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "name")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = parsed.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("name", size.name());
    }
    parsed.to_string()
}

/// `/media/X.jpg:large` → `/media/X.jpg`.
fn strip_legacy_suffix(path: &str) -> Option<String> {
    let (head, last) = path.rsplit_once('/')?;
    let (file, suffix) = last.rsplit_once(':')?;
    let known = ["thumb", "small", "medium", "large", "orig"];
    known.contains(&suffix).then(|| format!("{head}/{file}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_gets_name_and_keeps_format() {
        assert_eq!(
            sized_url("https://pbs.twimg.com/media/X.jpg", PbsSize::Small),
            "https://pbs.twimg.com/media/X.jpg?name=small"
        );
        assert_eq!(
            sized_url(
                "https://pbs.twimg.com/media/X?format=png&name=large",
                PbsSize::Medium
            ),
            "https://pbs.twimg.com/media/X?format=png&name=medium"
        );
        assert_eq!(
            sized_url("https://pbs.twimg.com/media/X.jpg:large", PbsSize::Orig),
            "https://pbs.twimg.com/media/X.jpg?name=orig"
        );
        assert_eq!(sized_url("not a url", PbsSize::Small), "not a url");
    }
}
