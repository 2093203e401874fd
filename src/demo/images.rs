//! Serves the embedded pictures the way pbs.twimg.com does: `?name=small|medium|large|orig|thumb`
//! (or `WxH` names such as `900x900`) pick a bounding box, `?format=jpg` may stand in for the file
//! extension, profile images take `_normal`/`_bigger`/`_mini`/`_400x400` suffixes and banners a
//! `/1500x500`-style tail. Resized answers are made on first request and cached; nothing is ever
//! upscaled.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Mutex;

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

#[derive(Debug)]
pub struct ImageStore {
    files: HashMap<String, &'static [u8]>,
    cache: Mutex<HashMap<(String, Sizing, bool), Picture>>,
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
        Self {
            files,
            cache: Mutex::new(HashMap::new()),
        }
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
        if let Ok(cache) = self.cache.lock()
            && let Some(p) = cache.get(&key)
        {
            return Ok(p.clone());
        }
        let (file, sizing, png) = &key;
        let raw = *self.files.get(file).ok_or(PictureError::NotFound)?;
        let stored_png = file.ends_with(".png");
        let pic = if *sizing == Sizing::Original && *png == stored_png {
            Picture {
                content_type: content_type(file),
                bytes: Bytes::from_static(raw),
            }
        } else {
            let img =
                image::load_from_memory(raw).map_err(|e| PictureError::Internal(e.to_string()))?;
            let out = resize(img, *sizing);
            encode(&out, *png)?
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, pic.clone());
        }
        Ok(pic)
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
