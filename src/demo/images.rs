//! Serves the embedded pictures the way pbs.twimg.com does: `?name=small|medium|large|orig|thumb`
//! (or `WxH` names such as `900x900`) pick a bounding box, `?format=jpg` may stand in for the file
//! extension, profile images take `_normal`/`_bigger`/`_mini`/`_400x400` suffixes and banners a
//! `/1500x500`-style tail. Nothing is ever upscaled.
//!
//! Each resized answer is made once and kept. A real CDN has every size ready; made on first
//! request, the demo's first pass over the list paid tens of milliseconds of CPU per picture
//! (docs/PERFORMANCE.md, 3(c)). So the server can prepare the sizes the app asks for up front,
//! on one blocking thread ([`ImageStore::prepare_all`]); a request for a size not prepared yet
//! is made there and then, and a request for the size being prepared waits for it instead of
//! making it a second time.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use include_dir::Dir;

#[derive(Debug, Clone)]
pub struct Picture {
    pub content_type: &'static str,
    pub bytes: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureError {
    NotFound,
    BadRequest(String),
    Internal(String),
}

/// How to shape the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Sizing {
    Original,
    /// Fit inside a `w`×`h` box, keeping the aspect ratio.
    Fit(u32, u32),
    /// Scale to cover `w`×`h`, then crop the middle.
    Crop(u32, u32),
}

/// A stored file, how to shape it, and whether the answer is a PNG.
type Key = (String, Sizing, bool);
/// Made once: concurrent askers of the same key wait for the one making it.
type Made = Arc<OnceLock<Result<Picture, PictureError>>>;

#[derive(Debug)]
pub struct ImageStore {
    files: HashMap<String, &'static [u8]>,
    cache: Mutex<HashMap<Key, Made>>,
    /// Timeline position of each picture (the manifest lists them in that order).
    order: HashMap<String, usize>,
    /// Answers made (decoded, shaped and encoded) so far: each key at most once.
    made: AtomicUsize,
    /// Tells [`ImageStore::prepare_all`] to stop (the server is going away).
    stop: AtomicBool,
}

fn collect(dir: &Dir<'static>, out: &mut HashMap<String, &'static [u8]>) {
    for f in dir.files() {
        let path = f.path().to_string_lossy().replace('\\', "/");
        if path.ends_with(".jpg") || path.ends_with(".png") {
            out.insert(path, f.contents());
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// pbs's named sizes.
fn named(name: &str) -> Option<Sizing> {
    match name {
        "orig" => Some(Sizing::Original),
        "large" => Some(Sizing::Fit(2048, 2048)),
        "medium" => Some(Sizing::Fit(1200, 1200)),
        "small" => Some(Sizing::Fit(680, 680)),
        "thumb" => Some(Sizing::Crop(150, 150)),
        other => {
            let (w, h) = parse_wxh(other)?;
            Some(Sizing::Fit(w, h))
        }
    }
}

fn parse_wxh(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once('x')?;
    let (w, h) = (w.parse::<u32>().ok()?, h.parse::<u32>().ok()?);
    (w > 0 && h > 0 && w <= 8192 && h <= 8192).then_some((w, h))
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

impl ImageStore {
    pub fn new(dir: &Dir<'static>) -> Self {
        let mut files = HashMap::new();
        collect(dir, &mut files);
        let order = dir
            .get_file("manifest.json")
            .and_then(|f| serde_json::from_slice::<serde_json::Value>(f.contents()).ok())
            .and_then(|m| {
                let list = m["images"].as_array()?.iter();
                Some(
                    list.filter_map(|i| i["path"].as_str().map(str::to_string))
                        .enumerate()
                        .map(|(n, p)| (p, n))
                        .collect(),
                )
            })
            .unwrap_or_default();
        Self {
            files,
            cache: Mutex::new(HashMap::new()),
            order,
            made: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<Key, Made>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the app asks for, most likely first: the profile pictures (avatar and badge) at the
    /// sizes the X API and the header use, then every post picture (photos, video and GIF posters) in timeline
    /// order (the manifest's), each at `small` (what the pane of a usual terminal gets) and
    /// `medium` (bigger panes). Not `large`, which only a pane over 1200 pixels wide asks for:
    /// that is made on request. The banner is not shown.
    fn preparable(&self) -> Vec<(String, Vec<Sizing>)> {
        let mut files: Vec<&String> = self.files.keys().collect();
        files.sort_by_key(|f| (self.order.get(*f).copied().unwrap_or(usize::MAX), *f));
        let mut out = Vec::new();
        for f in &files {
            // `_200x200` (the header's avatar), `_bigger` (the affiliate badge's URL), `_normal`
            // (the API's avatar URL): tiny, so all three for each.
            if f.starts_with("profile_images/") {
                let sizes = [200, 73, 48].map(|side| Sizing::Crop(side, side));
                out.push(((*f).clone(), sizes.to_vec()));
            }
        }
        let post_sizes: Vec<Sizing> = ["small", "medium"].into_iter().filter_map(named).collect();
        for f in &files {
            if ["media/", "ext_tw_video_thumb/", "tweet_video_thumb/"]
                .iter()
                .any(|d| f.starts_with(d))
            {
                out.push(((*f).clone(), post_sizes.clone()));
            }
        }
        out
    }

    /// Makes every [`Self::preparable`] answer not made yet, in that order, until
    /// [`Self::stop`]; returns how many are ready. Each file is decoded once for all its
    /// sizes. Blocks: run it on a blocking thread.
    pub fn prepare_all(&self) -> usize {
        let mut ready = 0;
        for (file, sizes) in self.preparable() {
            let Some(raw) = self.files.get(&file).copied() else {
                continue;
            };
            let png = file.ends_with(".png");
            let mut decoded = None;
            for sizing in sizes {
                if self.stop.load(Ordering::Relaxed) {
                    return ready;
                }
                let _ = self.made_once((file.clone(), sizing, png), raw, &mut decoded);
                ready += 1;
            }
        }
        ready
    }

    /// Stops [`Self::prepare_all`] after the picture it is making.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// How many answers [`Self::prepare_all`] makes.
    pub fn to_prepare(&self) -> usize {
        self.preparable().iter().map(|(_, sizes)| sizes.len()).sum()
    }

    /// How many of the [`Self::preparable`] answers are ready now.
    pub fn prepared(&self) -> usize {
        let cache = self.cache();
        self.preparable()
            .into_iter()
            .flat_map(|(file, sizes)| {
                let png = file.ends_with(".png");
                sizes.into_iter().map(move |s| (file.clone(), s, png))
            })
            .filter(|k| cache.get(k).is_some_and(|m| m.get().is_some()))
            .count()
    }

    /// Answers made so far (each size of each file at most once).
    pub fn made(&self) -> usize {
        self.made.load(Ordering::Relaxed)
    }

    /// The answer for `key`, made by the first to ask; others asking meanwhile wait for it.
    /// `decoded` keeps the decoded file for the next size of the same file.
    fn made_once(
        &self,
        key: Key,
        raw: &'static [u8],
        decoded: &mut Option<DynamicImage>,
    ) -> Result<Picture, PictureError> {
        let slot = self.cache().entry(key.clone()).or_default().clone();
        let (file, sizing, png) = key;
        slot.get_or_init(|| {
            self.made.fetch_add(1, Ordering::Relaxed);
            let img = match decoded {
                Some(img) => img.clone(),
                None => {
                    let img = image::load_from_memory(raw)
                        .map_err(|e| PictureError::Internal(e.to_string()))?;
                    *decoded = Some(img.clone());
                    img
                }
            };
            encode(&resize(img, sizing), png).map_err(|e| {
                tracing::debug!(file, ?e, "demo picture could not be made");
                e
            })
        })
        .clone()
    }

    /// Finds the stored file and the sizing for a request path (no leading `/`).
    fn resolve(
        &self,
        path: &str,
        name: Option<&str>,
        format: Option<&str>,
    ) -> Result<(String, Sizing, bool), PictureError> {
        let mut sizing = match name {
            None => Sizing::Original,
            Some(n) => named(n)
                .ok_or_else(|| PictureError::BadRequest(format!("unknown size name {n:?}")))?,
        };
        // `?format=png` on a JPEG (or the reverse) asks for a conversion.
        let want_png = match format {
            None => None,
            Some("jpg" | "jpeg") => Some(false),
            Some("png") => Some(true),
            Some(f) => {
                return Err(PictureError::BadRequest(format!(
                    "unsupported format {f:?}"
                )));
            }
        };

        if let Some(rest) = path.strip_prefix("profile_banners/") {
            // profile_banners/{uid}/{stamp}[/{W}x{H}]
            let parts: Vec<&str> = rest.split('/').collect();
            let (base, tail) = match parts.as_slice() {
                [uid, stamp] => (format!("profile_banners/{uid}/{stamp}"), None),
                [uid, stamp, size] => (format!("profile_banners/{uid}/{stamp}"), Some(*size)),
                _ => return Err(PictureError::NotFound),
            };
            let file = format!("{}.jpg", base.trim_end_matches(".jpg"));
            if !self.files.contains_key(&file) {
                return Err(PictureError::NotFound);
            }
            if let Some(t) = tail {
                let (w, h) = match t {
                    "web" => (520, 173),
                    "web_retina" | "1500x500" => (1500, 500),
                    "mobile" => (320, 160),
                    "mobile_retina" => (640, 320),
                    other => parse_wxh(other).ok_or(PictureError::NotFound)?,
                };
                sizing = Sizing::Crop(w, h);
            }
            return Ok((file, sizing, want_png.unwrap_or(false)));
        }

        let (stem, ext) = match path.rsplit_once('.') {
            Some((s, e))
                if !s.contains('?') && ["jpg", "jpeg", "png"].contains(&e) && !s.ends_with('/') =>
            {
                (s.to_string(), Some(e))
            }
            _ => (path.to_string(), None),
        };
        let ext = match (ext, format) {
            (Some(e), _) => e.to_string(),
            (None, Some(f)) => f.to_string(),
            (None, None) => "jpg".to_string(),
        };

        if stem.starts_with("profile_images/") {
            let suffixes: [(&str, Option<(u32, u32)>); 7] = [
                ("_normal", Some((48, 48))),
                ("_bigger", Some((73, 73))),
                ("_mini", Some((24, 24))),
                ("_x96", Some((96, 96))),
                ("_200x200", Some((200, 200))),
                ("_400x400", Some((400, 400))),
                ("", None),
            ];
            for (suffix, size) in suffixes {
                let Some(base) = stem.strip_suffix(suffix) else {
                    continue;
                };
                for stored_ext in ["jpg", "png"] {
                    let file = format!("{base}.{stored_ext}");
                    if self.files.contains_key(&file) {
                        if let Some((w, h)) = size {
                            sizing = Sizing::Crop(w, h);
                        }
                        let png = want_png.unwrap_or(stored_ext == "png" && ext != "jpg");
                        return Ok((file, sizing, png));
                    }
                }
            }
            return Err(PictureError::NotFound);
        }

        for stored_ext in [ext.as_str(), "jpg", "png"] {
            let file = format!(
                "{stem}.{}",
                if stored_ext == "jpeg" {
                    "jpg"
                } else {
                    stored_ext
                }
            );
            if self.files.contains_key(&file) {
                let png = want_png.unwrap_or(file.ends_with(".png"));
                return Ok((file, sizing, png));
            }
        }
        Err(PictureError::NotFound)
    }

    /// The answer for `path` (without leading `/`) and the `name`/`format` query values.
    pub fn answer(
        &self,
        path: &str,
        name: Option<&str>,
        format: Option<&str>,
    ) -> Result<Picture, PictureError> {
        let key = self.resolve(path, name, format)?;
        let (file, sizing, png) = &key;
        let raw = *self.files.get(file).ok_or(PictureError::NotFound)?;
        if *sizing == Sizing::Original && *png == file.ends_with(".png") {
            return Ok(Picture {
                content_type: content_type(file),
                bytes: Bytes::from_static(raw),
            });
        }
        self.made_once(key, raw, &mut None)
    }
}

fn resize(img: DynamicImage, sizing: Sizing) -> DynamicImage {
    let (w, h) = (img.width(), img.height());
    match sizing {
        Sizing::Original => img,
        Sizing::Fit(bw, bh) => {
            if w <= bw && h <= bh {
                img
            } else {
                img.resize(bw, bh, FilterType::Triangle)
            }
        }
        Sizing::Crop(cw, ch) => {
            // The largest centred region with the box's aspect ratio, scaled down to the box
            // (never up: a picture smaller than the box keeps its pixels).
            let k = (w as f64 / cw as f64).min(h as f64 / ch as f64);
            let tw = ((cw as f64 * k).round() as u32).clamp(1, w);
            let th = ((ch as f64 * k).round() as u32).clamp(1, h);
            let cropped = img.crop_imm((w - tw) / 2, (h - th) / 2, tw, th);
            if k > 1.0 {
                cropped.resize_exact(cw, ch, FilterType::Triangle)
            } else {
                cropped
            }
        }
    }
}

fn encode(img: &DynamicImage, png: bool) -> Result<Picture, PictureError> {
    let mut buf = Cursor::new(Vec::new());
    if png {
        img.write_to(&mut buf, ImageFormat::Png)
            .map_err(|e| PictureError::Internal(e.to_string()))?;
        Ok(Picture {
            content_type: "image/png",
            bytes: Bytes::from(buf.into_inner()),
        })
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 85);
        rgb.write_with_encoder(enc)
            .map_err(|e| PictureError::Internal(e.to_string()))?;
        Ok(Picture {
            content_type: "image/jpeg",
            bytes: Bytes::from(buf.into_inner()),
        })
    }
}
