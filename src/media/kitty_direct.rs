//! Kitty pictures placed directly at the cursor, for kittys older than 0.28 (Debian 12 ships
//! 0.26) and other terminals that speak the kitty graphics protocol without its unicode
//! placeholders, which is what [`super::kitty`] draws with.
//!
//! A picture is one escape blob: the cells the picture covers are erased (ECH on each row, as
//! before a sixel), then transmit-and-display (`a=T`) of the RGB pixels, in base64 chunks, with
//! `C=1` so the cursor stays where the picture starts, then one step right, where ratatui
//! expects the cursor after a one-cell symbol. It travels in ratatui-image's [`Sixel`] carrier,
//! which is nothing sixel-specific: the blob goes into the area's first cell and the other cells
//! are skipped, so ratatui writes it once and again only when that cell changes.
//!
//! The carrier covers the cells of the picture itself, not the whole box, so the layer centres
//! it and ratatui redraws the cells beside it. The erase matters because a kitty picture sits
//! on top of the text rather than replacing it: ratatui never rewrites skipped cells, so
//! whatever was there before (the help overlay, a placeholder frame) would show through the
//! strip of the last column or row that the picture's pixels do not fill.
//!
//! Unlike a sixel, a kitty placement is not erased by text written over it. The picture layer
//! therefore notes the [`image_id`] of each blob it draws and, after the frame, deletes the
//! placements of the ones it no longer draws ([`delete`]).
//!
//! Protocol: <https://sw.kovidgoyal.net/kitty/graphics-protocol/> (control keys `a`, `f`, `s`,
//! `v`, `i`, `q`, `C`, `m`; deletion with `a=d,d=I`).

use std::fmt::Write;

use image::DynamicImage;
use ratatui::layout::Size;
use ratatui_image::protocol::sixel::Sixel;

use super::MediaError;
use super::kitty::{CHUNK_BYTES, next_id};

/// What every blob starts with, up to the image id.
const PREFIX: &str = "\x1b_Ga=T,f=24,q=2,C=1,i=";
/// The blob that transmits `image` (already fitted into a box of `cells` with cells of `font`
/// pixels) and shows it at the cursor, in ratatui-image's cell-anchored carrier covering the
/// cells the picture needs (all of `cells` if it is larger than the box).
pub fn protocol(image: &DynamicImage, font: (u16, u16), cells: Size) -> Result<Sixel, MediaError> {
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err(MediaError::Encode("the picture has no pixels".into()));
    }
    let size = super::encode::cells_for((w, h), font, cells).unwrap_or(cells);
    let rgb = image.to_rgb8();
    let raw = rgb.as_raw();
    let id = next_id();
    let chunks = raw.len().div_ceil(CHUNK_BYTES);
    let mut data =
        String::with_capacity(raw.len() / 3 * 4 + chunks * 16 + 64 + 12 * usize::from(size.height));
    super::sixel::clear_cells(&mut data, "\x1b", size);
    for (i, chunk) in raw.chunks(CHUNK_BYTES).enumerate() {
        if i == 0 {
            let _ = write!(data, "{PREFIX}{id},s={w},v={h},");
        } else {
            data.push_str("\x1b_G");
        }
        let more = u8::from(i + 1 < chunks);
        let _ = write!(data, "m={more};");
        base64_simd::STANDARD.encode_append(chunk, &mut data);
        data.push_str("\x1b\\");
    }
    // C=1 left the cursor on the first cell; ratatui thinks it moved one cell right.
    data.push_str("\x1b[C");
    Ok(Sixel {
        data,
        size,
        is_tmux: false,
    })
}

/// The image id of a blob made by [`protocol`]; `None` for anything else (a real sixel).
pub fn image_id(data: &str) -> Option<u32> {
    // After the erase of the cells: ECH and cursor moves, never an APC.
    let (erase, rest) = data.split_once(PREFIX)?;
    if erase.contains("\x1b_") || erase.contains("\x1bP") {
        return None;
    }
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// Deletes the placements of image `id` and frees its pixels in the terminal.
pub fn delete(id: u32, out: &mut String) {
    super::kitty::delete(id, false, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::kitty::CHUNK_CHARS;
    use image::{Rgb, RgbImage};

    /// Splits a blob into its APC commands: (control keys, payload).
    fn commands(data: &str) -> Vec<(String, String)> {
        data.split("\x1b_G")
            .skip(1)
            .map(|c| {
                let body = c.split("\x1b\\").next().expect("terminated");
                let (keys, payload) = body.split_once(';').expect("keys;payload");
                (keys.to_string(), payload.to_string())
            })
            .collect()
    }

    #[test]
    fn a_blob_transmits_the_rgb_pixels_and_places_them_without_moving_the_cursor() {
        let img = RgbImage::from_fn(37, 41, |x, y| Rgb([x as u8 * 5, y as u8 * 3, 200]));
        let sixel = protocol(
            &DynamicImage::ImageRgb8(img.clone()),
            (10, 20),
            Size::new(4, 3),
        )
        .expect("ok");
        assert_eq!(sixel.size, Size::new(4, 3));
        assert!(
            sixel.data.ends_with("\x1b\\\x1b[C"),
            "cursor step at the end"
        );
        let cmds = commands(&sixel.data);
        assert!(cmds.len() > 1, "37×41×3 bytes need more than one chunk");
        let first = &cmds[0].0;
        for key in ["a=T", "f=24", "q=2", "C=1", "s=37", "v=41", "m=1"] {
            assert!(first.split(',').any(|k| k == key), "{key} in {first}");
        }
        let id = image_id(&sixel.data).expect("id");
        assert!(first.contains(&format!("i={id}")));
        for (keys, payload) in &cmds[1..cmds.len() - 1] {
            assert_eq!(keys, "m=1");
            assert_eq!(payload.len(), CHUNK_CHARS);
        }
        assert_eq!(cmds.last().expect("last").0, "m=0");
        let b64: String = cmds.iter().map(|(_, p)| p.as_str()).collect();
        // Chunks are whole groups of three bytes, so their base64 joins without padding inside.
        let bytes = base64_simd::STANDARD
            .decode_to_vec(b64.as_bytes())
            .expect("base64");
        assert_eq!(bytes, img.into_raw());
    }

    #[test]
    fn ids_differ_and_only_our_blobs_have_one() {
        let img = DynamicImage::ImageRgb8(RgbImage::new(2, 2));
        let a = protocol(&img, (10, 20), Size::new(1, 1)).expect("ok");
        let b = protocol(&img, (10, 20), Size::new(1, 1)).expect("ok");
        assert_ne!(image_id(&a.data), image_id(&b.data));
        assert_ne!(image_id(&a.data), Some(0));
        assert_eq!(image_id("\x1bPq#0;2;0;0;0~-\x1b\\"), None);
        let mut out = String::new();
        delete(42, &mut out);
        assert_eq!(out, "\x1b_Ga=d,d=I,i=42,q=2\x1b\\");
    }

    #[test]
    fn an_empty_picture_is_an_error() {
        let img = DynamicImage::ImageRgb8(RgbImage::new(0, 5));
        assert!(protocol(&img, (10, 20), Size::new(1, 1)).is_err());
    }

    /// A picture narrower than its box (a 3:2 photo in a wide pane) covers only its own cells,
    /// which the blob erases before placing it; one larger than the box keeps the box.
    #[test]
    fn the_carrier_covers_the_picture_and_erases_its_cells_first() {
        let img = DynamicImage::ImageRgb8(RgbImage::new(370, 247));
        let sixel = protocol(&img, (8, 19), Size::new(53, 14)).expect("ok");
        assert_eq!(sixel.size, Size::new(47, 13));
        let erase = sixel.data.split("\x1b_G").next().expect("before the APC");
        assert_eq!(erase, "\x1b[47X\x1b[1B".repeat(13) + "\x1b[13A");
        assert!(image_id(&sixel.data).is_some());

        let big = DynamicImage::ImageRgb8(RgbImage::new(500, 300));
        let sixel = protocol(&big, (8, 19), Size::new(53, 14)).expect("ok");
        assert_eq!(sixel.size, Size::new(53, 14));
    }
}
