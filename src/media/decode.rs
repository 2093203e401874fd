//! Decoding with limits checked before anything is allocated, then one high-quality shrink (or
//! enlargement) to exactly the pane's pixel box. Synchronous: run it on
//! `tokio::task::spawn_blocking`. The full-resolution pixels never outlive [`decode_to_fit`].

use std::io::Cursor;

use fast_image_resize::{self as fir, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageReader, Limits, RgbImage, RgbaImage};

use super::MediaError;
use super::download::{Sniffed, check_bytes, sniff};

#[derive(Debug, Clone)]
pub struct DecodeLimits {
    pub max_width: u32,
    pub max_height: u32,
    /// Largest decoded buffer, in bytes (4 bytes a pixel is assumed).
    pub max_alloc: u64,
    /// Longest side over shortest side; beyond it a preview would be a line.
    pub max_aspect: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: 16384,
            max_height: 16384,
            max_alloc: 128 * 1024 * 1024,
            max_aspect: 40,
        }
    }
}

/// A picture ready to encode: exactly [`fit_within`] of the original and the target box.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub image: DynamicImage,
    /// The size the file declared.
    pub original: (u32, u32),
}

/// The largest size with `src`'s aspect ratio that fits in `target`, touching it on at least one
/// side. Small pictures are enlarged: a preview fills its pane. Never 0 on either side.
pub fn fit_within(src: (u32, u32), target: (u32, u32)) -> (u32, u32) {
    let (sw, sh) = (u64::from(src.0.max(1)), u64::from(src.1.max(1)));
    let (tw, th) = (u64::from(target.0.max(1)), u64::from(target.1.max(1)));
    // Compare sw/sh with tw/th without floating point: the binding side is filled exactly.
    if sw * th >= tw * sh {
        let h = (sh * tw + sw / 2) / sw;
        (tw as u32, h.clamp(1, th) as u32)
    } else {
        let w = (sw * th + sh / 2) / sh;
        (w.clamp(1, tw) as u32, th as u32)
    }
}

/// `target` shrunk, keeping its shape, to a size `limits` allow a decoded picture to have. The
/// box comes from cells times the terminal's cell size in pixels: a terminal that reports absurd
/// cells, or `xmedia render --cells 65535x65535`, must get a smaller picture, not an allocation
/// of hundreds of gigabytes (which aborts the process; it is not a panic `contained` can catch).
pub fn bounded_box(target: (u32, u32), limits: &DecodeLimits) -> (u32, u32) {
    let (w, h) = (f64::from(target.0.max(1)), f64::from(target.1.max(1)));
    let pixels = (limits.max_alloc / 4) as f64;
    let scale = 1f64
        .min(f64::from(limits.max_width.max(1)) / w)
        .min(f64::from(limits.max_height.max(1)) / h)
        .min((pixels / (w * h)).sqrt());
    if scale >= 1.0 {
        return target;
    }
    let shrink = |side: f64| ((side * scale).floor() as u32).max(1);
    (shrink(w), shrink(h))
}

/// Rejects sizes that are empty, absurdly large, or too thin to show, with the reason.
pub fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Empty { width, height });
    }
    let too_many = || MediaError::TooManyPixels {
        width,
        height,
        max_width: limits.max_width,
        max_height: limits.max_height,
    };
    if width > limits.max_width || height > limits.max_height {
        return Err(too_many());
    }
    if u64::from(width) * u64::from(height) * 4 > limits.max_alloc {
        return Err(too_many());
    }
    let (long, short) = (width.max(height), width.min(height));
    if u64::from(long) > u64::from(short) * u64::from(limits.max_aspect) {
        return Err(MediaError::ExtremeAspect {
            width,
            height,
            max: limits.max_aspect,
        });
    }
    Ok(())
}

/// The declared size, read from the header only. PNG and GIF sizes sit at fixed offsets and a
/// JPEG's in its frame header; all three are read directly, so a forged header is refused before
/// any decoder runs (the decoders' own limits differ: zune-jpeg refuses wide JPEGs with a less
/// helpful message).
pub fn probe(bytes: &[u8]) -> Result<(u32, u32), MediaError> {
    let kind = check_bytes(bytes)?;
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let le16 = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let fixed = match kind {
        Sniffed::Png if bytes.get(12..16) == Some(b"IHDR") => be32(16).zip(be32(20)),
        Sniffed::Gif => le16(6).zip(le16(8)),
        Sniffed::Jpeg => jpeg_frame_size(bytes),
        _ => None,
    };
    if let Some(dims) = fixed {
        return Ok(dims);
    }
    if kind == Sniffed::Jpeg {
        check_jpeg_complete(bytes)?;
    }
    reader(bytes, None)?
        .into_dimensions()
        .map_err(|e| decode_error(&e))
}

/// The width and height in a JPEG's frame header (SOF0–SOF15, the markers that are not DHT, JPG
/// or DAC), found by walking the marker segments before the scan. `None` when there is none.
fn jpeg_frame_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2; // after SOI
    loop {
        // Markers are FF xx, possibly padded with more FF bytes.
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            0x01 | 0xD0..=0xD8 => {
                at += 2; // no length
                continue;
            }
            0xD9 | 0xDA => return None, // end of image, or the scan began without a frame header
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
            let w = u16::from_be_bytes([*bytes.get(at + 7)?, *bytes.get(at + 8)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        if len < 2 {
            return None;
        }
        at += 2 + len;
    }
}

/// The JPEG decoder fills a cut-off file with grey and calls it a success; a file that was cut
/// short (an interrupted download, a broken upload) should say so instead. In entropy-coded data
/// `FF` is always followed by `00` or a restart marker, so `FF D9` near the end is the end marker.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), MediaError> {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(MediaError::Decode(
            "the JPEG is truncated (no end-of-image marker)".into(),
        ))
    }
}

fn reader<'a>(
    bytes: &'a [u8],
    limits: Option<&DecodeLimits>,
) -> Result<ImageReader<Cursor<&'a [u8]>>, MediaError> {
    let mut r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::Decode(e.to_string()))?;
    if let Some(l) = limits {
        let mut lim = Limits::default();
        lim.max_image_width = Some(l.max_width);
        lim.max_image_height = Some(l.max_height);
        lim.max_alloc = Some(l.max_alloc);
        r.limits(lim);
    }
    Ok(r)
}

fn decode_error(e: &image::ImageError) -> MediaError {
    match e {
        image::ImageError::Limits(l) => {
            MediaError::Decode(format!("over the decoding limits ({l})"))
        }
        image::ImageError::Unsupported(u) => MediaError::NotAnImage {
            what: u.to_string(),
        },
        other => MediaError::Decode(crate::http::snippet(&other.to_string())),
    }
}

/// Decodes `bytes` and resizes the picture to exactly `fit_within(original, target)`.
/// `cancelled` is polled between the expensive steps so superseded work stops early.
pub fn decode_to_fit(
    bytes: &[u8],
    target: (u32, u32),
    limits: &DecodeLimits,
    cancelled: &dyn Fn() -> bool,
) -> Result<Fitted, MediaError> {
    if target.0 == 0 || target.1 == 0 {
        return Err(MediaError::Encode(
            "the pane has no room for a picture".into(),
        ));
    }
    let (width, height) = probe(bytes)?;
    check_dimensions(width, height, limits)?;
    if sniff(bytes) == Some(Sniffed::Jpeg) {
        check_jpeg_complete(bytes)?;
    }
    if cancelled() {
        return Err(MediaError::Cancelled);
    }
    let out = fit_within((width, height), bounded_box(target, limits));
    // A JPEG larger than the target is decoded straight at m/8 of its size (the IDCT does the
    // shrinking), which is faster and smaller than decoding it whole: our own decoder first (it
    // keeps the least), then, at least twice the target, jpeg-decoder's `scale()` for what ours
    // declines, then the normal path.
    let jpeg = sniff(bytes) == Some(Sniffed::Jpeg);
    let mut scaled = None;
    if jpeg {
        scaled = decode_jpeg_reduced(bytes, (width, height), out, limits, cancelled)?;
    }
    if scaled.is_none()
        && jpeg
        && u64::from(out.0) * 2 <= u64::from(width)
        && u64::from(out.1) * 2 <= u64::from(height)
    {
        scaled = decode_jpeg_scaled(bytes, out, limits);
    }
    let full = match scaled {
        Some(img) => img,
        None => reader(bytes, Some(limits))?
            .decode()
            .map_err(|e| decode_error(&e))?,
    };
    if cancelled() {
        return Err(MediaError::Cancelled);
    }
    let image = resize_exact(full, out)?;
    Ok(Fitted {
        image,
        original: (width, height),
    })
}

/// Decodes a JPEG with our own reduced-size decoder ([`super::jpeg`]) at the smallest m/8 of its
/// size that is still at least `at_least` on both sides (m < 8: a full-size decode is left to
/// zune-jpeg). It keeps only the coefficients the reduced picture needs, so a large progressive
/// JPEG costs a few megabytes instead of every coefficient of the file. `Ok(None)` when it
/// cannot help (a feature it does not handle, or data it calls broken): the caller then tries
/// jpeg-decoder, which is more lenient, and then the full decode. Only cancellation is passed
/// on as an error.
fn decode_jpeg_reduced(
    bytes: &[u8],
    original: (u32, u32),
    at_least: (u32, u32),
    limits: &DecodeLimits,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<DynamicImage>, MediaError> {
    let eighths = super::jpeg::eighths_for(original, at_least);
    if eighths == 8 {
        return Ok(None);
    }
    let reduced = match super::jpeg::decode_eighths(bytes, eighths, limits.max_alloc, cancelled) {
        Ok(reduced) => reduced,
        Err(super::jpeg::JpegError::Cancelled) => return Err(MediaError::Cancelled),
        Err(e) => {
            tracing::debug!("reduced JPEG decoder declined ({e}); trying jpeg-decoder");
            return Ok(None);
        }
    };
    let (w, h) = (reduced.width, reduced.height);
    Ok(match reduced.channels {
        3 => RgbImage::from_raw(w, h, reduced.pixels).map(DynamicImage::ImageRgb8),
        1 => image::GrayImage::from_raw(w, h, reduced.pixels).map(DynamicImage::ImageLuma8),
        _ => None,
    })
}

/// Decodes a JPEG with jpeg-decoder's DCT scaling so the result is the smallest power-of-two
/// reduction that is still at least `at_least` (on one side, hence about both: the scale is
/// uniform). `None` when it cannot help (CMYK, 16-bit, or an error); the caller then decodes
/// normally.
fn decode_jpeg_scaled(
    bytes: &[u8],
    at_least: (u32, u32),
    limits: &DecodeLimits,
) -> Option<DynamicImage> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc).unwrap_or(usize::MAX));
    let request = (
        u16::try_from(at_least.0).unwrap_or(u16::MAX),
        u16::try_from(at_least.1).unwrap_or(u16::MAX),
    );
    let (w, h) = decoder.scale(request.0, request.1).ok()?;
    let format = decoder.info()?.pixel_format;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match format {
        jpeg_decoder::PixelFormat::RGB24 => {
            RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

/// Resizes to exactly `size` with a SIMD convolution (Catmull-Rom: sharp, and cheaper than
/// Lanczos3 at large shrink ratios). Consumes the source so its pixels are freed right after.
/// A big enough picture is resized in two halves on two threads (see [`resize_rows`]).
pub fn resize_exact(src: DynamicImage, size: (u32, u32)) -> Result<DynamicImage, MediaError> {
    if (src.width(), src.height()) == size {
        return Ok(src);
    }
    let (w, h) = (src.width(), src.height());
    let alpha = src.color().has_alpha();
    let (buf, pixel) = if alpha {
        (src.into_rgba8().into_raw(), PixelType::U8x4)
    } else {
        (src.into_rgb8().into_raw(), PixelType::U8x3)
    };
    let src_img = fir::images::ImageRef::new(w, h, &buf, pixel).map_err(|e| resize_err(&e))?;
    let mut raw = vec![0u8; size.0 as usize * size.1 as usize * pixel.size()];
    let halves = u64::from(size.0) * u64::from(size.1) >= SPLIT_MIN_PIXELS;
    resize_rows(&src_img, size, &mut raw, halves)?;
    drop(buf);
    let image = if alpha {
        RgbaImage::from_raw(size.0, size.1, raw).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(size.0, size.1, raw).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| MediaError::Decode("resize produced a buffer of the wrong size".into()))
}

/// Output size from which [`resize_exact`] uses two threads: below it a thread costs more than
/// it saves. 1200×900 → 800×600 takes ~1.7 ms on one thread, ~1.1 ms on two
/// (docs/PERFORMANCE.md).
const SPLIT_MIN_PIXELS: u64 = 128 * 1024;

fn resize_err(e: &dyn std::fmt::Display) -> MediaError {
    MediaError::Decode(format!("resize failed: {e}"))
}

/// Resizes `src` into `out` (`size`, packed rows of `src`'s pixel type), with `halves` as two
/// bands of output rows, the top one on a second thread. Each band reads the source through a
/// crop box covering exactly the rows it maps from; the filter still reaches past the box into
/// the neighbouring rows, so the halves join without a seam: the bytes are the same as one
/// whole resize (tested over many sizes, up and down; three or more bands are *not* exact for
/// enlargements in fast_image_resize 5.5, so the split stays at two).
fn resize_rows(
    src: &fir::images::ImageRef<'_>,
    size: (u32, u32),
    out: &mut [u8],
    halves: bool,
) -> Result<(), MediaError> {
    let (ow, oh) = size;
    let pixel = src.pixel_type();
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let band = |first: u32, rows: u32, dst: &mut [u8]| -> Result<(), MediaError> {
        let mut dst =
            fir::images::Image::from_slice_u8(ow, rows, dst, pixel).map_err(|e| resize_err(&e))?;
        let top = f64::from(first) * sh / f64::from(oh);
        let height = f64::from(rows) * sh / f64::from(oh);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(fir::FilterType::CatmullRom))
            .crop(0.0, top, sw, height);
        Resizer::new()
            .resize(src, &mut dst, &options)
            .map_err(|e| resize_err(&e))
    };
    if !halves || oh < 2 {
        return band(0, oh, out);
    }
    let split = oh / 2;
    let (upper, lower) = out.split_at_mut(split as usize * ow as usize * pixel.size());
    let both = std::thread::scope(|s| {
        // No thread to be had (the process is at its limit): `None`, and the whole picture is
        // resized on this thread below instead.
        let top = std::thread::Builder::new()
            .spawn_scoped(s, || band(0, split, upper))
            .ok()?;
        let bottom = band(split, oh - split, lower);
        let top = top.join().unwrap_or_else(|_| {
            Err(MediaError::Decode(
                "resize failed: a thread panicked".into(),
            ))
        });
        Some(top.and(bottom))
    });
    both.unwrap_or_else(|| band(0, oh, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_fills_the_binding_side() {
        assert_eq!(fit_within((1200, 900), (800, 600)), (800, 600));
        assert_eq!(fit_within((900, 1200), (800, 600)), (450, 600));
        assert_eq!(fit_within((100, 10), (800, 600)), (800, 80));
        assert_eq!(fit_within((1, 1), (800, 600)), (600, 600));
        assert_eq!(fit_within((4000, 1), (800, 600)), (800, 1));
    }

    #[test]
    fn large_jpeg_is_decoded_at_a_reduced_scale() {
        let img = RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut jpeg = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .expect("encode");
        let jpeg = jpeg.into_inner();
        let small =
            decode_jpeg_scaled(&jpeg, (400, 300), &DecodeLimits::default()).expect("scaled");
        assert_eq!((small.width(), small.height()), (400, 300));
        let mid = decode_jpeg_scaled(&jpeg, (500, 375), &DecodeLimits::default()).expect("scaled");
        assert_eq!((mid.width(), mid.height()), (800, 600));
        let fitted =
            decode_to_fit(&jpeg, (500, 500), &DecodeLimits::default(), &|| false).expect("fits");
        assert_eq!((fitted.image.width(), fitted.image.height()), (500, 375));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/jpeg/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_progressive_jpeg_fits_exactly_like_its_baseline_original() {
        // prog_420.jpg is `jpegtran -progressive` of base_420.jpg (96×64): the same coefficients
        // in progressive scans. A 24×16 box takes the reduced decoder at 1/4 for both.
        let limits = DecodeLimits::default();
        let base = decode_to_fit(&fixture("base_420.jpg"), (24, 16), &limits, &|| false)
            .expect("baseline");
        let prog = decode_to_fit(&fixture("prog_420.jpg"), (24, 16), &limits, &|| false)
            .expect("progressive");
        assert_eq!((prog.image.width(), prog.image.height()), (24, 16));
        assert_eq!(prog.original, (96, 64));
        assert_eq!(base.image.as_bytes(), prog.image.as_bytes());
        // …and it is the reduced decoder's picture, untouched by a resize.
        let reduced = decode_jpeg_reduced(
            &fixture("prog_420.jpg"),
            (96, 64),
            (24, 16),
            &limits,
            &|| false,
        )
        .expect("no error")
        .expect("the reduced decoder handles it");
        assert_eq!(reduced.as_bytes(), prog.image.as_bytes());
    }

    #[test]
    fn the_reduced_decoder_passes_on_what_it_does_not_handle_and_cancellation() {
        let limits = DecodeLimits::default();
        // Arithmetic coding: declined, so the caller goes on to the other decoders.
        let arith = fixture("arith_420.jpg");
        assert!(matches!(
            decode_jpeg_reduced(&arith, (96, 64), (24, 16), &limits, &|| false),
            Ok(None)
        ));
        // No reduction fits a box as large as the picture: declined without decoding.
        let base = fixture("base_420.jpg");
        assert!(matches!(
            decode_jpeg_reduced(&base, (96, 64), (96, 64), &limits, &|| true),
            Ok(None)
        ));
        // A superseded job stops inside the decoder and says so, rather than falling back to
        // decode the picture again with another decoder.
        assert_eq!(
            decode_jpeg_reduced(&base, (96, 64), (24, 16), &limits, &|| true).err(),
            Some(MediaError::Cancelled)
        );
        let calls = std::cell::Cell::new(0);
        let later = || {
            calls.set(calls.get() + 1);
            calls.get() > 1
        };
        assert_eq!(
            decode_to_fit(&base, (24, 16), &limits, &later).err(),
            Some(MediaError::Cancelled)
        );
        assert_eq!(
            calls.get(),
            2,
            "the decode stopped at its first poll inside the decoder"
        );
    }

    #[test]
    fn aspect_limit() {
        let l = DecodeLimits::default();
        assert!(check_dimensions(4000, 100, &l).is_ok());
        assert!(matches!(
            check_dimensions(4100, 100, &l),
            Err(MediaError::ExtremeAspect { .. })
        ));
        assert!(matches!(
            check_dimensions(0, 0, &l),
            Err(MediaError::Empty { .. })
        ));
    }

    /// A noisy picture (every row differs, so a misplaced band would show).
    fn noisy(w: u32, h: u32, channels: usize) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(u64::from(w) * 7919 + u64::from(h));
        (0..w as usize * h as usize * channels)
            .map(|_| rng.u8(..))
            .collect()
    }

    #[test]
    fn resizing_in_two_halves_gives_the_same_bytes_as_one_resize() {
        let mut cases = vec![
            ((1200, 900), (800, 600)),
            ((900, 1200), (450, 600)),
            ((1000, 751), (799, 601)),
            ((64, 48), (800, 600)),
            ((4000, 7), (800, 3)),
            ((333, 1000), (100, 301)),
            ((17, 1001), (5, 2)),
            ((3, 3), (640, 480)),
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        cases.extend((0..16).map(|_| {
            (
                (rng.u32(1..400), rng.u32(1..400)),
                (rng.u32(1..300), rng.u32(2..300)),
            )
        }));
        for (pixel, channels) in [(PixelType::U8x3, 3), (PixelType::U8x4, 4)] {
            for ((sw, sh), size) in cases.iter().copied() {
                let buf = noisy(sw, sh, channels);
                let src = fir::images::ImageRef::new(sw, sh, &buf, pixel).expect("src");
                let len = size.0 as usize * size.1 as usize * channels;
                let mut whole = vec![0u8; len];
                resize_rows(&src, size, &mut whole, false).expect("one");
                let mut halves = vec![0u8; len];
                resize_rows(&src, size, &mut halves, true).expect("halves");
                let first_diff = whole.iter().zip(&halves).position(|(a, b)| a != b);
                assert_eq!(
                    first_diff, None,
                    "{sw}x{sh} -> {size:?}, {channels} channels: first byte that differs"
                );
            }
        }
    }

    #[test]
    fn a_box_larger_than_the_limits_gives_a_picture_within_them() {
        // A terminal that says its cells are 60000 pixels tall, or `--cells 65535x65535`: the
        // picture is made as large as the limits allow, in the box's shape, instead of aborting
        // on an allocation of terabytes.
        let limits = DecodeLimits {
            max_alloc: 4 * 1024 * 1024,
            ..DecodeLimits::default()
        };
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, image::Rgb([9, 99, 199])))
            .write_to(&mut png, image::ImageFormat::Png)
            .expect("encode");
        let huge = (65535 * 10, 65535 * 20);
        let fitted =
            decode_to_fit(png.get_ref(), huge, &limits, &|| false).expect("a bounded picture");
        let (w, h) = (fitted.image.width(), fitted.image.height());
        assert!(
            u64::from(w) * u64::from(h) * 4 <= limits.max_alloc,
            "{w}x{h}"
        );
        assert_eq!((w, h), fit_within((40, 30), bounded_box(huge, &limits)));
        // The box keeps its 1:2 shape and takes what the limits allow; the picture fills its
        // width.
        let bounded = bounded_box(huge, &limits);
        assert_eq!(bounded.1 / bounded.0, 2, "{bounded:?}");
        let area = u64::from(bounded.0) * u64::from(bounded.1) * 4;
        assert!(
            area <= limits.max_alloc && area * 100 >= limits.max_alloc * 99,
            "{bounded:?}"
        );
        assert_eq!(w, bounded.0);
        // Boxes within the limits are left alone; one side over the width limit is scaled down.
        assert_eq!(bounded_box((800, 600), &limits), (800, 600));
        let wide = bounded_box((40_000, 10), &DecodeLimits::default());
        assert_eq!(wide, (16384, 4));
    }

    #[test]
    fn resize_exact_keeps_the_picture_in_place() {
        // A picture whose left half is black and right half white, top half red-tinted: after the
        // (banded) resize each quadrant keeps its colour.
        let img = RgbImage::from_fn(1200, 900, |x, y| {
            let v = if x < 600 { 0 } else { 255 };
            image::Rgb([if y < 450 { 200 } else { v }, v, v])
        });
        let out = resize_exact(DynamicImage::ImageRgb8(img), (800, 600))
            .expect("resize")
            .into_rgb8();
        assert_eq!(out.dimensions(), (800, 600));
        assert_eq!(out.get_pixel(100, 100).0, [200, 0, 0]);
        assert_eq!(out.get_pixel(700, 100).0, [200, 255, 255]);
        assert_eq!(out.get_pixel(100, 500).0, [0, 0, 0]);
        assert_eq!(out.get_pixel(700, 500).0, [255, 255, 255]);
    }
}
