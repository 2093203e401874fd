//! Turning a fitted picture into a [`Picture`] to draw. The picture arrives already at the pane's
//! pixel size, so nothing here resizes (ratatui-image, where it still encodes, gets no second
//! resize with its nearest-neighbour default).

use image::DynamicImage;
use ratatui::layout::Size;
use ratatui_image::Resize;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::protocol::halfblocks::Halfblocks;

use super::MediaError;
use super::kitty::KittyPicture;
use super::picture::Picture;

/// The pixel box a pane of `cells` offers under `picker`'s protocol. Half-blocks show two
/// "pixels" a cell (upper and lower half), so their box is `cols × 2·rows`; the graphics protocols
/// get the real cell size in pixels.
pub fn pixel_box(picker: &Picker, cells: Size) -> (u32, u32) {
    match picker.protocol_type() {
        ProtocolType::Halfblocks => (u32::from(cells.width), 2 * u32::from(cells.height)),
        _ => {
            let font = picker.font_size();
            (
                u32::from(cells.width) * u32::from(font.width.max(1)),
                u32::from(cells.height) * u32::from(font.height.max(1)),
            )
        }
    }
}

/// The cells a picture of `pixels` covers with cells of `font` pixels; `None` when that is more
/// than `cells` (the own encoders then leave the picture to ratatui-image, which resizes it).
pub fn cells_for(pixels: (u32, u32), font: (u16, u16), cells: Size) -> Option<Size> {
    let (fw, fh) = (u32::from(font.0.max(1)), u32::from(font.1.max(1)));
    let (cols, rows) = (pixels.0.div_ceil(fw), pixels.1.div_ceil(fh));
    let fits = cols <= u32::from(cells.width) && rows <= u32::from(cells.height);
    // Both fit in u16: they are at most `cells`.
    fits.then(|| Size::new(cols as u16, rows as u16))
}

/// How kitty pictures reach the screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KittyPlacement {
    /// Unicode placeholders (kitty 0.28 and later; [`super::kitty`]).
    #[default]
    Placeholders,
    /// Placed at the cursor and deleted by the picture layer ([`super::kitty_direct`]).
    Direct,
}

/// Encodes `image` (already sized with [`pixel_box`] and `decode::fit_within`) for a pane of
/// `cells`. CPU-bound for sixel/kitty/iTerm2: run it on `spawn_blocking`. Sixel is encoded by
/// [`super::sixel`], kitty by [`super::kitty`] (or [`super::kitty_direct`]); iTerm2 and
/// half-blocks by ratatui-image.
pub fn encode(picker: &Picker, image: DynamicImage, cells: Size) -> Result<Picture, MediaError> {
    encode_with(picker, KittyPlacement::Placeholders, image, cells)
}

/// [`encode`], with kitty pictures placed as `kitty` says.
pub fn encode_with(
    picker: &Picker,
    kitty: KittyPlacement,
    image: DynamicImage,
    cells: Size,
) -> Result<Picture, MediaError> {
    let font = picker.font_size();
    let font = (font.width, font.height);
    let protocol = match picker.protocol_type() {
        ProtocolType::Kitty if kitty == KittyPlacement::Direct => {
            super::kitty_direct::protocol(&image, font, cells).map(Protocol::Sixel)
        }
        ProtocolType::Kitty => {
            // A picture larger than the box (not made by this crate) is left to ratatui-image,
            // which resizes it first.
            match KittyPicture::encode(&image, font, cells, picker.tmux_detected())? {
                Some(kitty) => return Ok(Picture::Kitty(kitty)),
                None => picker
                    .new_protocol(image, cells, Resize::Fit(None))
                    .map_err(|e| MediaError::Encode(e.to_string())),
            }
        }
        ProtocolType::Halfblocks => {
            // Built directly: going through `new_protocol` would need the picture at the nominal
            // font size (10×20 per cell) only for it to be shrunk again to 1×2.
            let size = Size::new(
                clamp_u16(image.width()).min(cells.width),
                clamp_u16(image.height().div_ceil(2)).min(cells.height),
            );
            Halfblocks::new(image, size)
                .map(Protocol::Halfblocks)
                .map_err(|e| MediaError::Encode(e.to_string()))
        }
        ProtocolType::Sixel => {
            // xmedia's own encoder (src/media/sixel.rs): palette, dither and threads chosen for
            // previews. A picture larger than the box (not made by this crate) is left to
            // ratatui-image, which resizes it first.
            match super::sixel::protocol(&image, font, cells, picker.tmux_detected())? {
                Some(sixel) => Ok(Protocol::Sixel(sixel)),
                None => picker
                    .new_protocol(image, cells, Resize::Fit(None))
                    .map_err(|e| MediaError::Encode(e.to_string())),
            }
        }
        _ => picker
            .new_protocol(image, cells, Resize::Fit(None))
            .map_err(|e| MediaError::Encode(e.to_string())),
    };
    protocol.map(Picture::from)
}

fn clamp_u16(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Roughly what an encoded preview holds in memory, for the cache's budget. ratatui-image does not
/// expose its buffers, so this is estimated from the pixel count: kitty and iTerm2 carry base64 of
/// up to 4 bytes a pixel (kitty: 3 for a photo without alpha, 4 is the bound), sixel is
/// palette-indexed and run-length coded (about a byte a pixel for a photo), half-blocks keep a
/// small struct a cell.
pub fn estimated_bytes(protocol: ProtocolType, pixels: (u32, u32), cells: Size) -> usize {
    let px = pixels.0 as usize * pixels.1 as usize;
    match protocol {
        ProtocolType::Kitty | ProtocolType::Iterm2 => px * 4 * 4 / 3 + 1024,
        ProtocolType::Sixel => px + 1024,
        ProtocolType::Halfblocks => usize::from(cells.width) * usize::from(cells.height) * 24 + 256,
    }
}
