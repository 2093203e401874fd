//! Kitty pictures shown through unicode placeholders (kitty 0.28 and later; older kittys get
//! [`super::kitty_direct`]).
//!
//! The pixels go to the terminal once, as a virtual placement (`a=T,U=1`). Every cell of the
//! picture's box then holds the placeholder character U+10EEEE in a foreground colour that names
//! the image (the id's low three bytes; its high byte is a diacritic), and the first cell of each
//! row carries diacritics for its row and column (the cells after it inherit theirs). The
//! placeholders are ordinary text to ratatui: text drawn over the box replaces them, drawing them
//! again brings the picture back, and nothing has to be deleted afterwards.
//!
//! xmedia encodes these itself rather than through ratatui-image's kitty protocol, for three
//! reasons: photos go as RGB (`f=24`), a quarter fewer bytes on the wire than RGBA, which is kept
//! for pictures with transparency; the escape string is shared (`Arc`) instead of being copied
//! whenever a cached preview is handed out; and `xmedia render` can write the very same chunks
//! straight to its output ([`write_transmit`]) without holding megabytes of base64 first.
//!
//! Protocol: <https://sw.kovidgoyal.net/kitty/graphics-protocol/#unicode-placeholders>.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use image::DynamicImage;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::{Rect, Size};
use ratatui::style::Color;

use super::MediaError;
use super::encode::cells_for;

/// The character kitty reserves for image placeholders.
const PLACEHOLDER: char = '\u{10EEEE}';
/// Base64 characters in one chunk: the protocol's maximum.
pub(super) const CHUNK_CHARS: usize = 4096;
/// Pixel bytes in one chunk.
pub(super) const CHUNK_BYTES: usize = CHUNK_CHARS / 4 * 3;

/// The combining marks that number rows and columns, in order (kitty's
/// `rowcolumn-diacritics.txt`), as runs of consecutive code points: (first, how many).
const DIACRITIC_RUNS: [(u32, u32); 86] = [
    (0x305, 1),
    (0x30D, 2),
    (0x310, 1),
    (0x312, 1),
    (0x33D, 3),
    (0x346, 1),
    (0x34A, 3),
    (0x350, 3),
    (0x357, 1),
    (0x35B, 1),
    (0x363, 13),
    (0x483, 5),
    (0x592, 4),
    (0x597, 3),
    (0x59C, 6),
    (0x5A8, 2),
    (0x5AB, 2),
    (0x5AF, 1),
    (0x5C4, 1),
    (0x610, 8),
    (0x657, 5),
    (0x65D, 2),
    (0x6D6, 7),
    (0x6DF, 4),
    (0x6E4, 1),
    (0x6E7, 2),
    (0x6EB, 2),
    (0x730, 1),
    (0x732, 2),
    (0x735, 2),
    (0x73A, 1),
    (0x73D, 1),
    (0x73F, 3),
    (0x743, 1),
    (0x745, 1),
    (0x747, 1),
    (0x749, 2),
    (0x7EB, 7),
    (0x7F3, 1),
    (0x816, 4),
    (0x81B, 9),
    (0x825, 3),
    (0x829, 5),
    (0x951, 1),
    (0x953, 2),
    (0xF82, 2),
    (0xF86, 2),
    (0x135D, 3),
    (0x17DD, 1),
    (0x193A, 1),
    (0x1A17, 1),
    (0x1A75, 8),
    (0x1B6B, 1),
    (0x1B6D, 7),
    (0x1CD0, 3),
    (0x1CDA, 2),
    (0x1CE0, 1),
    (0x1DC0, 2),
    (0x1DC3, 7),
    (0x1DCB, 2),
    (0x1DD1, 22),
    (0x1DFE, 1),
    (0x20D0, 2),
    (0x20D4, 4),
    (0x20DB, 2),
    (0x20E1, 1),
    (0x20E7, 1),
    (0x20E9, 1),
    (0x20F0, 1),
    (0x2CEF, 3),
    (0x2DE0, 32),
    (0xA66F, 1),
    (0xA67C, 2),
    (0xA6F0, 2),
    (0xA8E0, 18),
    (0xAAB0, 1),
    (0xAAB2, 2),
    (0xAAB7, 2),
    (0xAABE, 2),
    (0xAAC1, 1),
    (0xFE20, 7),
    (0x10A0F, 1),
    (0x10A38, 1),
    (0x1D185, 5),
    (0x1D1AA, 4),
    (0x1D242, 3),
];

/// How many rows (and columns) placeholders can number.
pub const MAX_CELLS: u16 = 297;

const DIACRITICS: [char; MAX_CELLS as usize] = expand_runs();

const fn expand_runs() -> [char; MAX_CELLS as usize] {
    let mut out = ['\0'; MAX_CELLS as usize];
    let mut n = 0;
    let mut r = 0;
    while r < DIACRITIC_RUNS.len() {
        let (first, count) = DIACRITIC_RUNS[r];
        let mut i = 0;
        while i < count {
            out[n] = match char::from_u32(first + i) {
                Some(c) => c,
                None => panic!("not a code point"),
            };
            n += 1;
            i += 1;
        }
        r += 1;
    }
    assert!(n == MAX_CELLS as usize, "the runs must add up to the table");
    out
}

fn diacritic(n: u16) -> char {
    DIACRITICS[usize::from(n.min(MAX_CELLS - 1))]
}

/// Image ids for this process (for [`write_transmit`] and [`KittyPicture::transmitted`]), from a
/// base derived from the process id so that two xmedia runs in one kitty window do not replace
/// each other's pictures. Never 0 (kitty's "no id").
pub fn next_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = (std::process::id() & 0xffff) << 16;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff;
        let id = base | n;
        if id != 0 {
            return id;
        }
    }
}

/// Pixels as kitty takes them: RGB (`f=24`), or RGBA (`f=32`) when the picture has alpha.
fn pixels(image: &DynamicImage) -> (std::borrow::Cow<'_, [u8]>, u8) {
    use std::borrow::Cow;
    match image {
        DynamicImage::ImageRgb8(rgb) => (Cow::Borrowed(rgb.as_raw().as_slice()), 24),
        DynamicImage::ImageRgba8(rgba) => (Cow::Borrowed(rgba.as_raw().as_slice()), 32),
        other if other.color().has_alpha() => (Cow::Owned(other.to_rgba8().into_raw()), 32),
        other => (Cow::Owned(other.to_rgb8().into_raw()), 24),
    }
}

/// Writes the transmission of `image` under `id` as a virtual placement for unicode
/// placeholders: base64 chunks of at most 4096 characters, each handed to `emit` whole (inside
/// tmux each is wrapped for passthrough, with its escapes doubled).
pub fn write_transmit<E>(
    image: &DynamicImage,
    id: u32,
    is_tmux: bool,
    mut emit: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let (w, h) = (image.width(), image.height());
    let (raw, format) = pixels(image);
    let (start, esc, end) = if is_tmux {
        ("\x1bPtmux;", "\x1b\x1b", "\x1b\\")
    } else {
        ("", "\x1b", "")
    };
    let chunks = raw.len().div_ceil(CHUNK_BYTES).max(1);
    let mut chunk = String::with_capacity(CHUNK_CHARS + 96);
    for (i, part) in raw.chunks(CHUNK_BYTES).enumerate() {
        use std::fmt::Write;
        chunk.clear();
        let _ = write!(chunk, "{start}{esc}_Gq=2,");
        if i == 0 {
            let _ = write!(chunk, "i={id},a=T,U=1,f={format},t=d,s={w},v={h},");
        }
        let more = u8::from(i + 1 < chunks);
        let _ = write!(chunk, "m={more};");
        base64_simd::STANDARD.encode_append(part, &mut chunk);
        let _ = write!(chunk, "{esc}\\{end}");
        emit(&chunk)?;
    }
    Ok(())
}

/// A kitty picture for unicode placeholders: what the preview cache holds and the layer draws.
/// Clones share the transmission and whether it was handed out.
#[derive(Clone, Debug)]
pub struct KittyPicture {
    id: u32,
    size: Size,
    /// The transmission followed by the first cell's placeholder: the first cell's whole symbol
    /// the first time the picture is drawn. `None` once it is known to be sent elsewhere.
    first_cell: Option<Arc<str>>,
    sent: Arc<Sent>,
}

/// Whether a picture's transmission was handed out to be drawn, shared by its clones. When the
/// last clone is gone (the cache and the layer dropped it), a picture the app sent is queued
/// for deletion in the terminal ([`take_released`]): kitty otherwise keeps every image it was
/// sent until its storage quota (hundreds of megabytes) pushes old ones out.
#[derive(Debug)]
struct Sent {
    id: u32,
    is_tmux: bool,
    done: AtomicBool,
    /// Freed when dropped. Not for `xmedia render`, whose picture stays on screen after it exits.
    owned: bool,
}

/// (image id, inside tmux) of pictures the app sent: still held, and released but not deleted.
static LIVE: Mutex<Vec<(u32, bool)>> = Mutex::new(Vec::new());
static RELEASED: Mutex<Vec<(u32, bool)>> = Mutex::new(Vec::new());

fn lock(list: &'static Mutex<Vec<(u32, bool)>>) -> MutexGuard<'static, Vec<(u32, bool)>> {
    list.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sent {
    fn new(id: u32, is_tmux: bool, done: bool, owned: bool) -> Arc<Self> {
        Arc::new(Self {
            id,
            is_tmux,
            done: AtomicBool::new(done),
            owned,
        })
    }

    /// Marks it handed out; `true` the first time.
    fn hand_out(&self) -> bool {
        let first = !self.done.swap(true, Ordering::SeqCst);
        if first && self.owned {
            lock(&LIVE).push((self.id, self.is_tmux));
        }
        first
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        if self.owned && *self.done.get_mut() {
            let me = (self.id, self.is_tmux);
            lock(&LIVE).retain(|p| *p != me);
            lock(&RELEASED).push(me);
        }
    }
}

/// Appends the deletions of the pictures whose last clone was dropped since the last call.
/// Write them after a frame: a dropped picture is no longer drawn.
pub fn take_released(out: &mut String) {
    for (id, is_tmux) in std::mem::take(&mut *lock(&RELEASED)) {
        delete(id, is_tmux, out);
    }
}

/// Appends the deletions of every picture the app sent, for the exit.
pub fn take_all(out: &mut String) {
    take_released(out);
    for (id, is_tmux) in std::mem::take(&mut *lock(&LIVE)) {
        delete(id, is_tmux, out);
    }
}

/// Deletes image `id` with its placements and frees its pixels in the terminal.
pub fn delete(id: u32, is_tmux: bool, out: &mut String) {
    use std::fmt::Write;
    let _ = if is_tmux {
        write!(
            out,
            "\x1bPtmux;\x1b\x1b_Ga=d,d=I,i={id},q=2\x1b\x1b\\\x1b\\"
        )
    } else {
        write!(out, "\x1b_Ga=d,d=I,i={id},q=2\x1b\\")
    };
}

impl KittyPicture {
    /// Encodes `image` (already at the pane's pixel size) for a box of `cells` with cells of
    /// `font` pixels. `None` when it does not fit in `cells`.
    pub fn encode(
        image: &DynamicImage,
        font: (u16, u16),
        cells: Size,
        is_tmux: bool,
    ) -> Result<Option<Self>, MediaError> {
        Self::encode_as(next_id(), image, font, cells, is_tmux)
    }

    fn encode_as(
        id: u32,
        image: &DynamicImage,
        font: (u16, u16),
        cells: Size,
        is_tmux: bool,
    ) -> Result<Option<Self>, MediaError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(MediaError::Encode("the picture has no pixels".into()));
        }
        let Some(size) = cells_for((image.width(), image.height()), font, cells) else {
            return Ok(None);
        };
        let bytes = image.width() as usize * image.height() as usize * 4;
        let mut first = String::with_capacity(bytes / 3 * 4 + bytes / CHUNK_BYTES * 64 + 256);
        write_transmit(image, id, is_tmux, |chunk| {
            first.push_str(chunk);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
        push_row_start(&mut first, id, 0);
        Ok(Some(Self {
            id,
            size,
            first_cell: Some(first.into()),
            sent: Sent::new(id, is_tmux, false, true),
        }))
    }

    /// A picture of `size` cells whose transmission under `id` was already written (by
    /// [`write_transmit`]): drawing it draws the placeholders only.
    pub fn transmitted(id: u32, size: Size) -> Self {
        Self {
            id,
            size,
            first_cell: None,
            sent: Sent::new(id, false, true, false),
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The box in cells.
    pub fn size(&self) -> Size {
        self.size
    }

    /// Bytes held: the transmission (shared by clones).
    pub fn held_bytes(&self) -> usize {
        self.first_cell.as_ref().map_or(0, |s| s.len())
    }

    /// Draws the placeholders into `area` (clipped to the picture's size), with the transmission
    /// in the first cell the first time any clone of this picture is drawn.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let cols = area.width.min(self.size.width).min(MAX_CELLS);
        let rows = area.height.min(self.size.height).min(MAX_CELLS);
        if cols == 0 || rows == 0 {
            return;
        }
        let [_, r, g, b] = self.id.to_be_bytes();
        let fg = Color::Rgb(r, g, b);
        let unit = CellDiffOption::ForcedWidth(std::num::NonZeroU16::MIN);
        let mut first = match &self.first_cell {
            Some(s) if self.sent.hand_out() => Some(s),
            _ => None,
        };
        let mut symbol = String::with_capacity(16);
        for y in 0..rows {
            for x in 0..cols {
                let Some(cell) = buf.cell_mut((area.x + x, area.y + y)) else {
                    continue;
                };
                if let Some(s) = first.take() {
                    cell.set_symbol(s);
                } else {
                    symbol.clear();
                    if x == 0 {
                        push_row_start(&mut symbol, self.id, y);
                    } else {
                        symbol.push(PLACEHOLDER);
                    }
                    cell.set_symbol(&symbol);
                }
                cell.set_fg(fg).set_diff_option(unit);
            }
        }
    }
}

/// A row's first placeholder: its row, column 0 and the id's high byte as diacritics.
fn push_row_start(out: &mut String, id: u32, row: u16) {
    out.push(PLACEHOLDER);
    out.push(diacritic(row));
    out.push(diacritic(0));
    out.push(diacritic(u16::from(id.to_be_bytes()[0])));
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
        }))
    }

    fn transmit(image: &DynamicImage, id: u32, tmux: bool) -> Vec<String> {
        let mut chunks = Vec::new();
        write_transmit(image, id, tmux, |c| {
            chunks.push(c.to_string());
            Ok::<(), ()>(())
        })
        .expect("collects");
        chunks
    }

    /// Splits a chunk `ESC _ G keys ; payload ESC \` into its keys and payload.
    fn parts(chunk: &str) -> (&str, &str) {
        let body = chunk
            .strip_prefix("\x1b_G")
            .and_then(|c| c.strip_suffix("\x1b\\"))
            .expect("an APC graphics command");
        body.split_once(';').expect("keys;payload")
    }

    #[test]
    fn the_diacritic_table_starts_and_ends_where_kittys_list_does() {
        assert_eq!(DIACRITICS[0], '\u{305}');
        assert_eq!(DIACRITICS[1], '\u{30D}');
        assert_eq!(DIACRITICS[2], '\u{30E}');
        assert_eq!(DIACRITICS[296], '\u{1D244}');
        let mut sorted = DIACRITICS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), DIACRITICS.len(), "no mark twice");
    }

    #[test]
    fn an_rgb_photo_is_sent_as_rgb_in_chunks_that_decode_to_its_pixels() {
        let image = gradient(70, 50);
        let chunks = transmit(&image, 0x0102_0304, false);
        let raw = image.to_rgb8().into_raw();
        assert_eq!(chunks.len(), raw.len().div_ceil(CHUNK_BYTES));
        let (keys, _) = parts(&chunks[0]);
        for key in [
            "q=2",
            "i=16909060",
            "a=T",
            "U=1",
            "f=24",
            "s=70",
            "v=50",
            "m=1",
        ] {
            assert!(keys.split(',').any(|k| k == key), "{key} in {keys}");
        }
        let mut decoded = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let (keys, payload) = parts(chunk);
            assert!(payload.len() <= CHUNK_CHARS);
            let last = i + 1 == chunks.len();
            assert!(keys.ends_with(if last { "m=0" } else { "m=1" }), "{keys}");
            if i > 0 {
                assert_eq!(keys, if last { "q=2,m=0" } else { "q=2,m=1" });
            }
            decoded.extend(
                base64_simd::STANDARD
                    .decode_to_vec(payload)
                    .expect("base64"),
            );
        }
        assert_eq!(decoded, raw);
    }

    #[test]
    fn a_picture_with_transparency_keeps_its_alpha() {
        let image = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 4, Rgba([1, 2, 3, 128])));
        let chunks = transmit(&image, 7, false);
        assert_eq!(chunks.len(), 1);
        let (keys, payload) = parts(&chunks[0]);
        assert!(keys.contains("f=32"), "{keys}");
        let decoded = base64_simd::STANDARD
            .decode_to_vec(payload)
            .expect("base64");
        assert_eq!(decoded, image.to_rgba8().into_raw());
    }

    #[test]
    fn inside_tmux_every_chunk_is_wrapped_for_passthrough() {
        let image = gradient(64, 64);
        for chunk in transmit(&image, 9, true) {
            let inner = chunk
                .strip_prefix("\x1bPtmux;")
                .and_then(|c| c.strip_suffix("\x1b\\"))
                .expect("a passthrough");
            assert!(inner.starts_with("\x1b\x1b_Gq=2,"), "{:?}", &inner[..12]);
            assert!(inner.ends_with("\x1b\x1b\\"));
            // No lone ESC inside: tmux would end the passthrough there.
            let lone = inner.replace("\x1b\x1b", "");
            assert!(!lone.contains('\x1b'));
        }
    }

    #[test]
    fn the_box_is_the_cells_the_pixels_cover_and_nothing_that_does_not_fit() {
        let cells = Size::new(80, 40);
        assert_eq!(
            cells_for((800, 600), (10, 20), cells),
            Some(Size::new(80, 30))
        );
        assert_eq!(
            cells_for((801, 581), (10, 20), Size::new(81, 40)),
            Some(Size::new(81, 30))
        );
        assert_eq!(cells_for((801, 600), (10, 20), cells), None);
    }

    #[test]
    fn placeholders_carry_the_id_in_colour_and_number_each_row() {
        let id = 0x2A11_2233;
        let picture = KittyPicture::transmitted(id, Size::new(3, 2));
        let area = Rect::new(2, 1, 5, 4);
        let mut buf = Buffer::empty(area);
        picture.render(area, &mut buf);
        for y in 0..2u16 {
            for x in 0..3u16 {
                let cell = &buf[(2 + x, 1 + y)];
                assert_eq!(cell.fg, Color::Rgb(0x11, 0x22, 0x33));
                let chars: Vec<char> = cell.symbol().chars().collect();
                if x == 0 {
                    assert_eq!(
                        chars,
                        vec![PLACEHOLDER, diacritic(y), diacritic(0), diacritic(0x2A)]
                    );
                } else {
                    assert_eq!(chars, vec![PLACEHOLDER], "cell {x},{y} inherits its place");
                }
            }
        }
        // Outside the picture's size nothing is drawn.
        assert_eq!(buf[(5, 1)].symbol(), " ");
        assert_eq!(buf[(2, 3)].symbol(), " ");
    }

    #[test]
    fn the_transmission_rides_in_the_first_cell_once_for_all_clones() {
        let image = gradient(30, 40);
        let picture = KittyPicture::encode(&image, (10, 20), Size::new(5, 5), false)
            .expect("encodes")
            .expect("fits");
        assert_eq!(picture.size(), Size::new(3, 2));
        let clone = picture.clone();
        let area = Rect::new(0, 0, 5, 5);

        let mut buf = Buffer::empty(area);
        picture.render(area, &mut buf);
        let first = buf[(0, 0)].symbol().to_string();
        assert!(first.starts_with("\x1b_Gq=2,i="), "{:?}", &first[..20]);
        let mut direct = transmit(&image, picture.id(), false).join("");
        push_row_start(&mut direct, picture.id(), 0);
        assert_eq!(first, direct, "the same bytes as write_transmit");
        for y in 0..2 {
            for x in 0..3 {
                if (x, y) != (0, 0) {
                    assert!(!buf[(x, y)].symbol().contains('\x1b'));
                }
            }
        }

        let mut again = Buffer::empty(area);
        clone.render(area, &mut again);
        assert!(
            !again[(0, 0)].symbol().contains('\x1b'),
            "a clone does not send it again"
        );
        assert_eq!(again[(0, 0)].symbol().chars().next(), Some(PLACEHOLDER));
    }

    /// Before this module, kitty pictures were drawn by ratatui-image. Apart from the pixel
    /// format (RGB here, RGBA there) the terminal must get the same: the same cells, symbols and
    /// colours, the same control keys, and the same pixels.
    #[test]
    fn draws_what_ratatui_image_draws_but_in_rgb() {
        use ratatui_image::protocol::Protocol;
        use ratatui_image::protocol::kitty::Kitty;
        let image = gradient(57, 61);
        let id = 0x0A0B_0C0D;
        let size = Size::new(6, 4);
        let area = Rect::new(1, 1, 8, 6);
        for tmux in [false, true] {
            let theirs = Protocol::Kitty(
                Kitty::new(image.clone(), size, id, tmux, false).expect("ratatui-image encodes"),
            );
            let mut expected = Buffer::empty(area);
            ratatui::widgets::Widget::render(
                ratatui_image::Image::new(&theirs),
                Rect::new(1, 1, 6, 4),
                &mut expected,
            );
            let ours = KittyPicture::encode_as(id, &image, (10, 16), Size::new(8, 6), tmux)
                .expect("encodes")
                .expect("fits");
            assert_eq!(ours.size(), size);
            let mut got = Buffer::empty(area);
            ours.render(Rect::new(1, 1, 6, 4), &mut got);

            for y in area.top()..area.bottom() {
                for x in area.left()..area.right() {
                    let (e, g) = (&expected[(x, y)], &got[(x, y)]);
                    assert_eq!(e.fg, g.fg, "colour of {x},{y}");
                    assert_eq!(e.diff_option, g.diff_option, "width of {x},{y}");
                    if (x, y) != (1, 1) {
                        assert_eq!(e.symbol(), g.symbol(), "cell {x},{y}");
                    }
                }
            }
            // The first cell: transmission, then the same placeholder.
            let (e, g) = (expected[(1, 1)].symbol(), got[(1, 1)].symbol());
            let tail = |s: &str| s[s.rfind('\\').expect("ST") + 1..].to_string();
            assert_eq!(tail(e), tail(g));
            let unwrap = |s: &str| {
                let s = &s[..s.rfind('\\').expect("ST") + 1];
                let inner = if tmux {
                    s.replace("\x1bPtmux;", "").replace("\x1b\x1b", "\x1b")
                } else {
                    s.to_string()
                };
                inner
                    .split("\x1b_G")
                    .filter(|c| !c.is_empty())
                    .map(|c| {
                        let body = c.split("\x1b\\").next().expect("terminated");
                        let (keys, payload) = body.split_once(';').expect("keys;payload");
                        let mut keys: Vec<String> = keys.split(',').map(String::from).collect();
                        keys.sort();
                        (keys, payload.to_string())
                    })
                    .collect::<Vec<_>>()
            };
            let (theirs, ours) = (unwrap(e), unwrap(g));
            let keys = |c: &[(Vec<String>, String)]| {
                let mut k: Vec<String> = c[0]
                    .0
                    .iter()
                    .filter(|k| !k.starts_with("f="))
                    .cloned()
                    .collect();
                k.retain(|k| !k.starts_with("m="));
                k
            };
            assert_eq!(keys(&theirs), keys(&ours));
            assert!(theirs[0].0.contains(&"f=32".to_string()));
            assert!(ours[0].0.contains(&"f=24".to_string()));
            let pixels = |c: &[(Vec<String>, String)]| {
                let b64: String = c.iter().map(|(_, p)| p.as_str()).collect();
                base64_simd::STANDARD.decode_to_vec(b64).expect("base64")
            };
            let rgba = pixels(&theirs);
            let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            assert_eq!(rgb, pixels(&ours), "the same pixels");
        }
    }

    #[test]
    fn the_terminal_is_told_to_free_a_picture_once_the_app_lets_go_of_it() {
        let encode = || {
            KittyPicture::encode(&gradient(20, 20), (10, 20), Size::new(4, 4), false)
                .expect("encodes")
                .expect("fits")
        };
        let area = Rect::new(0, 0, 4, 4);
        let picture = encode();
        let id = picture.id();
        let clone = picture.clone();
        picture.render(area, &mut Buffer::empty(area));
        // Never drawn, so never sent: nothing to free.
        let unsent = encode();
        let unsent_id = unsent.id();
        drop(unsent);
        // What `xmedia render` leaves on screen is not the app's to free.
        drop(KittyPicture::transmitted(0x00FE_FEFE, Size::new(1, 1)));

        let mut out = String::new();
        drop(picture);
        take_released(&mut out);
        assert!(!out.contains(&format!("i={id},")), "a clone still holds it");
        drop(clone);
        take_released(&mut out);
        assert!(
            out.contains(&format!("\x1b_Ga=d,d=I,i={id},q=2\x1b\\")),
            "{out:?}"
        );
        take_all(&mut out);
        assert_eq!(out.matches(&format!("i={id},")).count(), 1, "freed once");
        assert!(!out.contains(&format!("i={unsent_id},")));
        assert!(!out.contains(&format!("i={},", 0x00FE_FEFE)));

        // At the exit, pictures still held are freed too.
        let held = encode();
        held.render(area, &mut Buffer::empty(area));
        let mut exit = String::new();
        take_all(&mut exit);
        assert!(exit.contains(&format!("i={},", held.id())));
    }

    #[test]
    fn deletions_inside_tmux_are_wrapped_for_passthrough() {
        let mut out = String::new();
        delete(7, true, &mut out);
        assert_eq!(out, "\x1bPtmux;\x1b\x1b_Ga=d,d=I,i=7,q=2\x1b\x1b\\\x1b\\");
    }

    #[test]
    fn a_picture_larger_than_the_box_is_not_encoded_here() {
        let image = gradient(120, 40);
        let picture =
            KittyPicture::encode(&image, (10, 20), Size::new(10, 5), false).expect("no error");
        assert!(picture.is_none());
        let empty = DynamicImage::ImageRgb8(RgbImage::new(0, 0));
        assert!(KittyPicture::encode(&empty, (10, 20), Size::new(10, 5), false).is_err());
    }
}
