//! xmedia's own sixel encoder. ratatui-image's sixel path (icy_sixel with a Wu palette and
//! Floyd–Steinberg at 0.875, options not exposed) took ~34 ms for an 800×600 preview; this one
//! is built for previews: a palette of at most 256 colours from a 5-5-5 histogram split by
//! variance (median cut that cuts where the error is smallest), an ordered (Bayer 8×8) dither,
//! and run-length coded six-pixel bands. The two halves of a large picture are counted (for the
//! palette), mapped and coded on two threads, each band as soon as its pixels are mapped.
//!
//! Output format (a drop-in for `ratatui_image::protocol::sixel::Sixel::data`):
//!
//! ```text
//! [tmux start] ECH-clear of the cell box   ESC P 9;1;0 q  "1;1;W;H  #i;2;r;g;b…  bands  ESC \  [tmux end]
//! ```
//!
//! `P2 = 1`: pixels that are not painted keep what is under them, so a transparent pixel (alpha
//! under 128) is simply not painted; the cell box is cleared first as ratatui-image does.
//! Colour registers are in percent (0–100), so the palette is snapped to what the terminal will
//! show before pixels are matched to it.

use std::fmt::Write as _;
use std::sync::{OnceLock, mpsc};

use image::DynamicImage;
use ratatui::layout::Size;
use ratatui_image::protocol::sixel::Sixel;

use super::MediaError;

/// How pixels between palette colours are rendered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dither {
    /// Nearest palette colour: fastest and smallest, but smooth gradients band.
    None,
    /// Bayer 8×8 threshold added to every channel before matching, spanning about
    /// `±amplitude/2` levels of 255. Position-only, so bands can be encoded in parallel.
    Ordered { amplitude: u8 },
    /// Floyd–Steinberg passing on `strength` (0–1) of each pixel's error. Serial per row.
    Diffusion { strength: f32 },
}

/// Encoder settings; [`SixelOptions::default`] is what previews use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SixelOptions {
    /// At most 256 (sixel terminals commonly have 256 colour registers).
    pub max_colors: usize,
    pub dither: Dither,
    /// Encode the two halves of the bands on two threads (for pictures large enough to pay).
    pub threads: bool,
}

impl Default for SixelOptions {
    fn default() -> Self {
        Self {
            max_colors: 256,
            dither: Dither::Ordered { amplitude: 8 },
            threads: true,
        }
    }
}

/// Builds the ratatui-image protocol value for `image`, drawn in a box of `cells` with cells of
/// `font` pixels. `None` when the picture does not fit in `cells` (the caller then lets
/// ratatui-image resize it).
pub fn protocol(
    image: &DynamicImage,
    font: (u16, u16),
    cells: Size,
    is_tmux: bool,
) -> Result<Option<Sixel>, MediaError> {
    let Some(size) = super::encode::cells_for((image.width(), image.height()), font, cells) else {
        return Ok(None);
    };
    let body = encode(image, &SixelOptions::default())?;
    let mut data = String::with_capacity(body.len() + 16 * usize::from(size.height) + 32);
    if is_tmux {
        // tmux passthrough: every ESC inside is doubled, the whole ends with one ST.
        data.push_str("\x1bPtmux;");
        clear_cells(&mut data, "\x1b\x1b", size);
        for part in body.split_inclusive('\x1b') {
            data.push_str(part);
            if part.ends_with('\x1b') {
                data.push('\x1b');
            }
        }
        data.push_str("\x1b\\");
    } else {
        clear_cells(&mut data, "\x1b", size);
        data.push_str(&body);
    }
    Ok(Some(Sixel {
        data,
        size,
        is_tmux,
    }))
}

/// Erases the cell box (ECH on every row, then back up), as ratatui-image does before a sixel,
/// so a transparent pixel shows the terminal background rather than an old picture.
pub(super) fn clear_cells(out: &mut String, esc: &str, size: Size) {
    let (w, h) = (size.width, size.height);
    if h <= 1 {
        let _ = write!(out, "{esc}[{w}X");
    } else {
        for _ in 0..h {
            let _ = write!(out, "{esc}[{w}X{esc}[1B");
        }
        let _ = write!(out, "{esc}[{h}A");
    }
}

/// The sixel sequence (`ESC P … ESC \`) for `image` at its own size, one picture pixel a screen
/// pixel.
pub fn encode(image: &DynamicImage, options: &SixelOptions) -> Result<String, MediaError> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 {
        return Err(MediaError::Encode(format!(
            "a sixel needs pixels, the picture is {w}x{h}"
        )));
    }
    let bytes = match image {
        DynamicImage::ImageRgb8(rgb) => encode_pixels::<3>(rgb.as_raw(), w, h, options),
        DynamicImage::ImageRgba8(rgba) => encode_pixels::<4>(rgba.as_raw(), w, h, options),
        other if other.color().has_alpha() => {
            encode_pixels::<4>(other.to_rgba8().as_raw(), w, h, options)
        }
        other => encode_pixels::<3>(other.to_rgb8().as_raw(), w, h, options),
    };
    String::from_utf8(bytes).map_err(|e| MediaError::Encode(format!("sixel output: {e}")))
}

/// Index that marks a pixel that is not painted (alpha < 128). Pictures with such pixels get at
/// most 255 colours so the marker is never a colour.
const CLEAR: u8 = 255;

fn encode_pixels<const N: usize>(px: &[u8], w: usize, h: usize, options: &SixelOptions) -> Vec<u8> {
    let has_clear = N == 4 && px.chunks_exact(4).any(|p| p[3] < 128);
    let max_colors = options
        .max_colors
        .clamp(1, if has_clear { 255 } else { 256 });
    let step = sample_step(px.len() / N);
    // The top and bottom halves (whole bands) on two threads once the picture is big enough to
    // pay for a thread: each counts its half's colours, this thread makes the palette from both
    // counts, then each maps and codes its half. Each half is dithered on its own: diffusion
    // restarts at the seam.
    let bands = h.div_ceil(6);
    let split = if options.threads && bands >= 8 && w * h >= 64 * 1024 {
        bands / 2 * 6
    } else {
        h
    };
    let (top, bottom) = px.split_at(split * w * N);
    let palette = OnceLock::new();
    let mut out = std::thread::scope(|s| {
        let (counts_tx, counts_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let helper = if bottom.is_empty() {
            None
        } else {
            let palette = &palette;
            std::thread::Builder::new()
                .spawn_scoped(s, move || {
                    let _ = counts_tx.send(histogram::<N>(bottom, step));
                    go_rx.recv().ok()?;
                    let palette: &Palette = palette.get()?;
                    Some(encode_rows::<N>(bottom, w, split, palette, options.dither))
                })
                .ok()
        };
        let mut hist = histogram::<N>(top, step);
        if !bottom.is_empty() {
            // No thread to be had (the process is at its limit), or it failed: the bottom half is
            // counted here.
            let other = counts_rx
                .recv()
                .unwrap_or_else(|_| histogram::<N>(bottom, step));
            for (b, o) in hist.iter_mut().zip(&other) {
                b.count += o.count;
                for k in 0..3 {
                    b.sum[k] += o.sum[k];
                }
            }
        }
        let palette = palette.get_or_init(|| Palette::new(&median_cut(&hist, max_colors)));
        let _ = go_tx.send(());
        let upper = encode_rows::<N>(top, w, 0, palette, options.dither);
        let lower = match helper.and_then(|t| t.join().ok().flatten()) {
            Some(lower) => lower,
            None if bottom.is_empty() => Vec::new(),
            // No helper, or it failed: the bottom half is encoded here too.
            None => encode_rows::<N>(bottom, w, split, palette, options.dither),
        };
        let mut out =
            Vec::with_capacity(palette.colors.len() * 18 + 64 + upper.len() + lower.len());
        out.extend_from_slice(b"\x1bP9;1;0q\"1;1;");
        push_num(&mut out, w);
        out.push(b';');
        push_num(&mut out, h);
        for (i, c) in palette.colors.iter().enumerate() {
            out.push(b'#');
            push_num(&mut out, i);
            out.extend_from_slice(b";2;");
            for (k, v) in c.iter().enumerate() {
                if k > 0 {
                    out.push(b';');
                }
                push_num(&mut out, usize::from(to_percent(*v)));
            }
        }
        out.extend_from_slice(&upper);
        if !bottom.is_empty() {
            out.push(b'-');
            out.extend_from_slice(&lower);
        }
        out
    });
    out.extend_from_slice(b"\x1b\\");
    out
}

/// Colour register values are percentages: what the terminal shows for a channel value.
fn to_percent(v: u8) -> u8 {
    ((u32::from(v) * 100 + 127) / 255) as u8
}

fn from_percent(p: u8) -> u8 {
    ((u32::from(p) * 255 + 50) / 100) as u8
}

fn push_num(out: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

// ---------------------------------------------------------------------------------------------
// Palette: histogram over 5-5-5 bits, then boxes split where the squared error drops most.

const HBITS: u32 = 5;
const HSIZE: usize = 1 << (3 * HBITS);

/// Channel weights for colour distances (green matters most to the eye, blue least).
const WEIGHT: [i32; 3] = [3, 4, 2];

#[derive(Clone, Copy, Default)]
struct Bin {
    count: u32,
    sum: [u32; 3],
}

/// Every how many pixels [`histogram`] counts one: pictures over 16 M pixels are sampled so
/// the sums stay within `u32`.
fn sample_step(pixels: usize) -> usize {
    pixels.div_ceil(1 << 24).max(1)
}

/// Per 5-5-5 bin: how many opaque pixels and the sum of their exact colours (for the mean),
/// counting every `step`th pixel.
fn histogram<const N: usize>(px: &[u8], step: usize) -> Vec<Bin> {
    let mut hist = vec![Bin::default(); HSIZE];
    for p in px.chunks_exact(N).step_by(step) {
        if N == 4 && p[3] < 128 {
            continue;
        }
        let b = &mut hist[key(p[0], p[1], p[2], HBITS)];
        b.count += 1;
        b.sum[0] += u32::from(p[0]);
        b.sum[1] += u32::from(p[1]);
        b.sum[2] += u32::from(p[2]);
    }
    hist
}

fn key(r: u8, g: u8, b: u8, bits: u32) -> usize {
    let s = 8 - bits;
    (usize::from(r >> s) << (2 * bits)) | (usize::from(g >> s) << bits) | usize::from(b >> s)
}

/// A non-empty histogram bin: its mean colour and weight.
#[derive(Clone, Copy)]
struct Entry {
    mean: [f32; 3],
    count: f32,
}

/// Splits the occupied bins into at most `max` boxes, always cutting the box whose cut removes
/// the most weighted squared error, at the position along its widest (weighted) axis where the
/// two halves' error is smallest. Returns each box's mean colour.
fn median_cut(hist: &[Bin], max: usize) -> Vec<[u8; 3]> {
    let mut entries: Vec<Entry> = hist
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| {
            let n = b.count as f32;
            Entry {
                mean: [
                    b.sum[0] as f32 / n,
                    b.sum[1] as f32 / n,
                    b.sum[2] as f32 / n,
                ],
                count: n,
            }
        })
        .collect();
    if entries.is_empty() {
        return Vec::new();
    }
    struct Cut {
        range: (usize, usize),
        gain: f64,
        at: usize,
    }
    let plan = |entries: &mut [Entry], start: usize| -> Cut {
        let slice = entries;
        let range = (start, start + slice.len());
        if slice.len() < 2 {
            return Cut {
                range,
                gain: -1.0,
                at: 0,
            };
        }
        // The axis with the largest weighted variance.
        let mut best_axis = 0;
        let mut best_var = -1.0f64;
        for (axis, weight) in WEIGHT.iter().enumerate() {
            let (mut s, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
            for e in slice.iter() {
                let v = f64::from(e.mean[axis]);
                let c = f64::from(e.count);
                s += c * v;
                s2 += c * v * v;
                n += c;
            }
            let var = (s2 - s * s / n) * f64::from(*weight);
            if var > best_var {
                best_var = var;
                best_axis = axis;
            }
        }
        slice.sort_unstable_by(|a, b| a.mean[best_axis].total_cmp(&b.mean[best_axis]));
        // Cut where Σ S²/n of the halves is largest (= the halves' error is smallest), over all
        // three channels.
        let mut total = [0.0f64; 3];
        let mut n_total = 0.0f64;
        for e in slice.iter() {
            let c = f64::from(e.count);
            for (t, m) in total.iter_mut().zip(e.mean) {
                *t += c * f64::from(m);
            }
            n_total += c;
        }
        let whole: f64 = (0..3)
            .map(|k| f64::from(WEIGHT[k]) * total[k] * total[k] / n_total)
            .sum();
        let (mut left, mut n_left) = ([0.0f64; 3], 0.0f64);
        let (mut best_gain, mut best_at) = (-1.0f64, 1);
        for (i, e) in slice[..slice.len() - 1].iter().enumerate() {
            let c = f64::from(e.count);
            for (l, m) in left.iter_mut().zip(e.mean) {
                *l += c * f64::from(m);
            }
            n_left += c;
            let n_right = n_total - n_left;
            let split: f64 = (0..3)
                .map(|k| {
                    let r = total[k] - left[k];
                    f64::from(WEIGHT[k]) * (left[k] * left[k] / n_left + r * r / n_right)
                })
                .sum();
            if split - whole > best_gain {
                best_gain = split - whole;
                best_at = i + 1;
            }
        }
        Cut {
            range,
            gain: best_gain,
            at: start + best_at,
        }
    };
    let len = entries.len();
    let mut boxes = vec![plan(&mut entries[..], 0)];
    while boxes.len() < max {
        let Some((i, _)) = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.gain > 0.0)
            .max_by(|a, b| a.1.gain.total_cmp(&b.1.gain))
        else {
            break;
        };
        let cut = boxes.swap_remove(i);
        let (start, at, end) = (cut.range.0, cut.at, cut.range.1);
        boxes.push(plan(&mut entries[start..at], start));
        boxes.push(plan(&mut entries[at..end], at));
    }
    debug_assert!(boxes.iter().all(|b| b.range.1 <= len));
    boxes
        .iter()
        .map(|b| {
            let (mut s, mut n) = ([0.0f64; 3], 0.0f64);
            for e in &entries[b.range.0..b.range.1] {
                let c = f64::from(e.count);
                for (t, m) in s.iter_mut().zip(e.mean) {
                    *t += c * f64::from(m);
                }
                n += c;
            }
            s.map(|v| (v / n).round().clamp(0.0, 255.0) as u8)
        })
        .collect()
}

/// The palette as the terminal will show it, with a nearest-colour search.
struct Palette {
    /// The colours, already snapped to whole percentages and back.
    colors: Vec<[u8; 3]>,
    /// (green, red, blue, index) sorted by green: the search walks out from the query's green and
    /// stops once green alone is farther than the best match.
    by_green: Vec<[i32; 4]>,
}

impl Palette {
    fn new(colors: &[[u8; 3]]) -> Self {
        let mut colors: Vec<[u8; 3]> = colors
            .iter()
            .map(|c| c.map(|v| from_percent(to_percent(v))))
            .collect();
        colors.dedup();
        if colors.is_empty() {
            colors.push([0, 0, 0]);
        }
        let mut by_green: Vec<[i32; 4]> = colors
            .iter()
            .enumerate()
            .map(|(i, c)| [i32::from(c[1]), i32::from(c[0]), i32::from(c[2]), i as i32])
            .collect();
        by_green.sort_unstable();
        Self { colors, by_green }
    }

    fn nearest(&self, r: i32, g: i32, b: i32) -> u8 {
        let p = &self.by_green;
        let start = p.partition_point(|e| e[0] < g);
        let dist = |e: &[i32; 4]| {
            let (dr, dg, db) = (e[1] - r, e[0] - g, e[2] - b);
            WEIGHT[0] * dr * dr + WEIGHT[1] * dg * dg + WEIGHT[2] * db * db
        };
        let (mut best, mut best_d) = (0i32, i32::MAX);
        for e in &p[start..] {
            let dg = e[0] - g;
            if WEIGHT[1] * dg * dg >= best_d {
                break;
            }
            let d = dist(e);
            if d < best_d {
                (best, best_d) = (e[3], d);
            }
        }
        for e in p[..start].iter().rev() {
            let dg = e[0] - g;
            if WEIGHT[1] * dg * dg >= best_d {
                break;
            }
            let d = dist(e);
            if d < best_d {
                (best, best_d) = (e[3], d);
            }
        }
        best as u8
    }
}

/// Nearest palette colour for each 5-5-5 cell, filled on first use. 5 bits keep the table in
/// cache (64 KB; 6 bits measured slower and larger output for a slightly smaller error); the
/// dither spans one cell, so cell edges do not show as bands.
struct Lookup<'a> {
    palette: &'a Palette,
    cells: Vec<u16>,
}

const LBITS: u32 = 5;
const UNSET: u16 = u16::MAX;

impl<'a> Lookup<'a> {
    fn new(palette: &'a Palette) -> Self {
        Self {
            palette,
            cells: vec![UNSET; 1 << (3 * LBITS)],
        }
    }

    #[inline]
    fn get(&mut self, r: u8, g: u8, b: u8) -> u8 {
        let k = key(r, g, b, LBITS);
        let v = self.cells[k];
        if v != UNSET {
            return v as u8;
        }
        // The cell's centre.
        let half = 1i32 << (7 - LBITS);
        let centre = |v: u8| i32::from(v >> (8 - LBITS) << (8 - LBITS)) + half;
        let i = self.palette.nearest(centre(r), centre(g), centre(b));
        self.cells[k] = u16::from(i);
        i
    }
}

/// Bayer 8×8 thresholds, 0..64.
const BAYER: [[u8; 8]; 8] = {
    let mut m = [[0u8; 8]; 8];
    let mut y = 0;
    while y < 8 {
        let mut x = 0;
        while x < 8 {
            let v = x ^ y;
            // Interleave the bits of (x^y) and y, most significant first, reversed.
            let t = ((v & 1) << 5)
                | ((y & 1) << 4)
                | ((v & 2) << 2)
                | ((y & 2) << 1)
                | ((v & 4) >> 1)
                | ((y & 4) >> 2);
            m[y][x] = t as u8;
            x += 1;
        }
        y += 1;
    }
    m
};

/// Encodes whole rows of `px` (`w` wide; `first_row` is where they sit in the picture, for the
/// dither pattern) as sixel bands separated by `-`, with no trailing `-`. Each band's six rows
/// are mapped to palette indices and coded straight away, so the indices stay in cache instead
/// of making a picture-sized buffer of their own.
fn encode_rows<const N: usize>(
    px: &[u8],
    w: usize,
    first_row: usize,
    palette: &Palette,
    dither: Dither,
) -> Vec<u8> {
    let pixels = px.len() / N;
    // A photo takes about a byte a pixel; capacity that is never written is never touched.
    let mut out = Vec::with_capacity(pixels + pixels / 4 + 64);
    let mut mapper = Mapper::new(palette, dither, w);
    let mut coder = BandCoder::new(palette.colors.len());
    let mut indices = vec![0u8; 6 * w];
    for (band, rows) in px.chunks(6 * w * N).enumerate() {
        if band > 0 {
            out.push(b'-');
        }
        let indices = &mut indices[..rows.len() / N];
        mapper.map::<N>(rows, first_row + 6 * band, indices);
        coder.encode(indices, w, &mut out);
    }
    out
}

/// Turns pixels into palette indices, row after row ([`CLEAR`] for pixels not painted),
/// carrying the diffusion dither's errors from one call to the next.
struct Mapper<'a> {
    lookup: Lookup<'a>,
    dither: Dither,
    w: usize,
    /// Ordered dither: the offset added to every channel, by row and column (mod 8).
    offsets: [[i16; 8]; 8],
    /// Diffusion, per column (one extra at each end): the error arriving from the row above and
    /// the one being gathered for the row below, in 1/256 of a level.
    cur: Vec<[i32; 3]>,
    next: Vec<[i32; 3]>,
}

impl<'a> Mapper<'a> {
    fn new(palette: &'a Palette, dither: Dither, w: usize) -> Self {
        let offsets = match dither {
            Dither::Ordered { amplitude } => {
                let a = i32::from(amplitude);
                BAYER.map(|row| row.map(|t| ((i32::from(t) * 2 - 63) * a / 128) as i16))
            }
            _ => [[0; 8]; 8],
        };
        let errors = if matches!(dither, Dither::Diffusion { .. }) {
            w + 2
        } else {
            0
        };
        Self {
            lookup: Lookup::new(palette),
            dither,
            w,
            offsets,
            cur: vec![[0; 3]; errors],
            next: vec![[0; 3]; errors],
        }
    }

    /// Maps whole rows of `px` (the first at `first_row` in the picture) into `out`.
    fn map<const N: usize>(&mut self, px: &[u8], first_row: usize, out: &mut [u8]) {
        let w = self.w;
        let lookup = &mut self.lookup;
        match self.dither {
            Dither::None => {
                for (o, p) in out.iter_mut().zip(px.chunks_exact(N)) {
                    *o = if N == 4 && p[3] < 128 {
                        CLEAR
                    } else {
                        lookup.get(p[0], p[1], p[2])
                    };
                }
            }
            Dither::Ordered { .. } => {
                let add = |v: u8, o: i16| (i16::from(v) + o).clamp(0, 255) as u8;
                for (y, (orow, prow)) in out
                    .chunks_exact_mut(w)
                    .zip(px.chunks_exact(w * N))
                    .enumerate()
                {
                    let offs = &self.offsets[(first_row + y) & 7];
                    for (x, (o, p)) in orow.iter_mut().zip(prow.chunks_exact(N)).enumerate() {
                        *o = if N == 4 && p[3] < 128 {
                            CLEAR
                        } else {
                            let d = offs[x & 7];
                            lookup.get(add(p[0], d), add(p[1], d), add(p[2], d))
                        };
                    }
                }
            }
            Dither::Diffusion { strength } => {
                // m = strength·256, then shares of 7, 3, 5 and 1 sixteenths.
                let m = (strength.clamp(0.0, 1.0) * 256.0) as i32;
                let (cur, next) = (&mut self.cur, &mut self.next);
                for (orow, prow) in out.chunks_exact_mut(w).zip(px.chunks_exact(w * N)) {
                    let mut right = [0i32; 3];
                    for (x, (o, p)) in orow.iter_mut().zip(prow.chunks_exact(N)).enumerate() {
                        if N == 4 && p[3] < 128 {
                            *o = CLEAR;
                            right = [0; 3];
                            continue;
                        }
                        let e = cur[x + 1];
                        let r = (i32::from(p[0]) + ((e[0] + right[0] + 128) >> 8)).clamp(0, 255);
                        let g = (i32::from(p[1]) + ((e[1] + right[1] + 128) >> 8)).clamp(0, 255);
                        let b = (i32::from(p[2]) + ((e[2] + right[2] + 128) >> 8)).clamp(0, 255);
                        let i = lookup.get(r as u8, g as u8, b as u8);
                        *o = i;
                        let q = lookup.palette.colors[usize::from(i)];
                        let err = [
                            (r - i32::from(q[0])) * m,
                            (g - i32::from(q[1])) * m,
                            (b - i32::from(q[2])) * m,
                        ];
                        for k in 0..3 {
                            right[k] = (err[k] * 7) >> 4;
                            next[x][k] += (err[k] * 3) >> 4;
                            next[x + 1][k] += (err[k] * 5) >> 4;
                            next[x + 2][k] += err[k] >> 4;
                        }
                    }
                    std::mem::swap(cur, next);
                    next.fill([0; 3]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bands: for every six rows, each colour used there as one run-length coded line of sixels.

/// One colour's line within a band: sixels written so far and the run still open.
#[derive(Default)]
struct Line {
    bytes: Vec<u8>,
    /// Column after the last sixel in `bytes`.
    cursor: usize,
    /// The open run: first column, length, six bits.
    start: usize,
    len: usize,
    bits: u8,
    active: bool,
}

impl Line {
    /// Writes the open run, after empty sixels for the columns this colour skipped.
    fn flush(&mut self) {
        push_run(&mut self.bytes, self.start - self.cursor, b'?');
        push_run(&mut self.bytes, self.len, 63 + self.bits);
        self.cursor = self.start + self.len;
    }

    fn add(&mut self, x: usize, bits: u8) {
        if x == self.start + self.len && bits == self.bits {
            self.len += 1;
        } else {
            self.flush();
            (self.start, self.len, self.bits) = (x, 1, bits);
        }
    }
}

const LOW_BYTES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// Bit k set where byte k of `packed` equals `c` (bytes 0–5; 6 and 7 must not matter).
#[inline]
fn byte_mask(packed: u64, c: u8) -> u8 {
    let t = packed ^ (u64::from(c) * LOW_BYTES);
    // 0x80 in exactly the bytes of t that are zero, then those bits gathered into one byte.
    let zero = !(((t & LOW7) + LOW7) | t | LOW7);
    (((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56) as u8
}

/// Codes bands of palette indices, keeping each colour's line buffer from band to band.
struct BandCoder {
    lines: Vec<Line>,
    used: Vec<u8>,
    /// With fewer than 256 colours, CLEAR is never a colour: those pixels are skipped.
    skip_clear: bool,
}

impl BandCoder {
    fn new(colors: usize) -> Self {
        Self {
            lines: (0..256).map(|_| Line::default()).collect(),
            used: Vec::with_capacity(256),
            skip_clear: colors < 256,
        }
    }

    /// Appends one band (`indices`: one to six rows of `w`) to `out`. The band is walked column
    /// by column: the column's indices are packed in a word, each distinct colour's rows found
    /// with one comparison of the word, and that colour's line extended (runs of equal columns
    /// are counted, not written, until they end). Each line is then written once, in colour
    /// order.
    fn encode(&mut self, indices: &[u8], w: usize, out: &mut Vec<u8>) {
        let mut rows: [&[u8]; 6] = [&[]; 6];
        let mut n = 0;
        for (slot, row) in rows.iter_mut().zip(indices.chunks_exact(w)) {
            *slot = row;
            n += 1;
        }
        let rows = &rows[..n];
        let all_rows = (1u8 << n) - 1;
        for x in 0..w {
            let mut packed = 0u64;
            for (dy, row) in rows.iter().enumerate() {
                packed |= u64::from(row[x]) << (8 * dy);
            }
            let mut left = all_rows;
            if self.skip_clear {
                left &= !byte_mask(packed, CLEAR);
            }
            while left != 0 {
                let c = (packed >> (8 * left.trailing_zeros())) as u8;
                let bits = byte_mask(packed, c) & all_rows;
                left &= !bits;
                let line = &mut self.lines[usize::from(c)];
                if line.active {
                    line.add(x, bits);
                } else {
                    self.used.push(c);
                    *line = Line {
                        bytes: std::mem::take(&mut line.bytes),
                        cursor: 0,
                        start: x,
                        len: 1,
                        bits,
                        active: true,
                    };
                }
            }
        }
        self.used.sort_unstable();
        for (k, &c) in self.used.iter().enumerate() {
            if k > 0 {
                out.push(b'$');
            }
            out.push(b'#');
            push_num(out, usize::from(c));
            let line = &mut self.lines[usize::from(c)];
            line.flush();
            out.extend_from_slice(&line.bytes);
            line.bytes.clear();
            line.active = false;
        }
        self.used.clear();
    }
}

fn push_run(out: &mut Vec<u8>, run: usize, ch: u8) {
    if run == 0 {
        return;
    }
    if run > 3 {
        out.push(b'!');
        push_num(out, run);
        out.push(ch);
    } else {
        for _ in 0..run {
            out.push(ch);
        }
    }
}

#[cfg(test)]
#[path = "../../tests/support/sixel_decode.rs"]
mod sixel_decode;

#[cfg(test)]
mod tests {
    use super::sixel_decode::{Decoded, decode};
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    /// Mean and largest absolute channel error of the decoded picture against `src`, over the
    /// pixels `src` paints; fails the test if the decoded picture is malformed: wrong raster
    /// size, a pixel painted twice or never (or painted while transparent), too many colours.
    fn check(src: &DynamicImage, options: &SixelOptions) -> (f64, i32, Decoded) {
        let data = encode(src, options).expect("encodes");
        let d = decode(&data).unwrap_or_else(|e| panic!("not valid sixel: {e}"));
        assert_eq!(
            d.raster,
            (src.width() as usize, src.height() as usize),
            "raster attributes give the picture's size"
        );
        assert_eq!(
            d.bands,
            (src.height() as usize).div_ceil(6),
            "one band per six rows"
        );
        let defined = d.registers.iter().filter(|r| r.is_some()).count();
        assert!((1..=256).contains(&defined), "{defined} colour registers");
        let rgba = src.to_rgba8();
        let (mut sum, mut max, mut n) = (0.0f64, 0i32, 0usize);
        for (i, p) in rgba.pixels().enumerate() {
            let (x, y) = (i % d.width(), i / d.width());
            if p[3] < 128 {
                assert_eq!(d.paints[i], 0, "transparent pixel ({x}, {y}) was painted");
                continue;
            }
            assert_eq!(
                d.paints[i], 1,
                "pixel ({x}, {y}) painted {} times",
                d.paints[i]
            );
            let q = d.pixels[i].expect("painted pixel has a colour");
            for k in 0..3 {
                let e = (i32::from(p[k]) - i32::from(q[k])).abs();
                sum += f64::from(e);
                max = max.max(e);
            }
            n += 3;
        }
        (sum / n.max(1) as f64, max, d)
    }

    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 255 / w.max(2).saturating_sub(1)) as u8,
                (y * 255 / h.max(2).saturating_sub(1)) as u8,
                ((x + 2 * y) * 255 / (w + 2 * h)) as u8,
            ])
        }))
    }

    fn noise(w: u32, h: u32, seed: u64) -> DynamicImage {
        let mut rng = fastrand::Rng::with_seed(seed);
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |_, _| {
            Rgb([rng.u8(..), rng.u8(..), rng.u8(..)])
        }))
    }

    fn all_dithers() -> [SixelOptions; 4] {
        [
            SixelOptions::default(),
            SixelOptions {
                dither: Dither::None,
                ..SixelOptions::default()
            },
            SixelOptions {
                dither: Dither::Diffusion { strength: 0.5 },
                ..SixelOptions::default()
            },
            SixelOptions {
                threads: false,
                ..SixelOptions::default()
            },
        ]
    }
    #[test]
    fn gradient_round_trips_with_every_dither() {
        // 97×61: neither side a multiple of 6 (the last band is one row).
        let src = gradient(97, 61);
        for options in all_dithers() {
            let (mean, max, _) = check(&src, &options);
            assert!(mean < 4.0, "{options:?}: mean error {mean:.2}");
            assert!(max <= 24, "{options:?}: largest error {max}");
        }
    }

    #[test]
    fn flat_colour_is_one_register_shown_exactly() {
        let src = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 13, Rgb([200, 30, 90])));
        let (_, max, d) = check(&src, &SixelOptions::default());
        // Registers are whole percentages: 200 → 78 % → 199, 30 → 12 % → 31, 90 → 35 % → 89.
        assert!(max <= 1, "largest error {max}");
        assert_eq!(d.registers.iter().filter(|r| r.is_some()).count(), 1);
        // One colour, three bands (13 rows), one run each: `#0!40~` and a short last band.
        assert_eq!(d.selects, 3, "one colour selection a band");
    }

    #[test]
    fn single_pixel() {
        let src = DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([0, 255, 7])));
        let (_, max, d) = check(&src, &SixelOptions::default());
        assert!(max <= 2, "largest error {max}");
        assert_eq!(d.raster, (1, 1));
    }

    #[test]
    fn every_small_size_paints_each_pixel_once() {
        for h in 1..=13 {
            for w in [1, 2, 5, 6, 7, 9] {
                check(
                    &noise(w, h, u64::from(w * 100 + h)),
                    &SixelOptions::default(),
                );
            }
        }
    }

    #[test]
    fn noise_stays_near_its_colours() {
        // Random colours fill the cube: 256 colours are ~40 levels apart, so errors are large,
        // but bounded by the palette spacing plus the dither.
        let (mean, max, _) = check(&noise(120, 90, 7), &SixelOptions::default());
        assert!(mean < 16.0, "mean error {mean:.2}");
        assert!(max <= 80, "largest error {max}");
    }

    #[test]
    fn many_colours_are_reduced_to_256_registers() {
        // 96×96 = 9216 different colours.
        let src = DynamicImage::ImageRgb8(RgbImage::from_fn(96, 96, |x, y| {
            let i = y * 96 + x;
            Rgb([
                (i % 21 * 12) as u8,
                (i / 21 % 21 * 12) as u8,
                (i / 441 * 12) as u8,
            ])
        }));
        let distinct: std::collections::HashSet<_> = src.to_rgb8().pixels().map(|p| p.0).collect();
        assert!(
            distinct.len() > 256,
            "the test picture has {} colours",
            distinct.len()
        );
        let (mean, max, d) = check(&src, &SixelOptions::default());
        assert_eq!(d.registers.iter().filter(|r| r.is_some()).count(), 256);
        assert!(mean < 14.0, "mean error {mean:.2}");
        assert!(max <= 48, "largest error {max}");
    }

    #[test]
    fn fewer_colours_than_registers_are_kept_exact() {
        // 5 colours, no dither: each pixel gets its own colour back (to the percent grid).
        let colours = [
            [0, 0, 0],
            [255, 255, 255],
            [255, 0, 0],
            [0, 128, 255],
            [40, 200, 40],
        ];
        let src = DynamicImage::ImageRgb8(RgbImage::from_fn(31, 17, |x, y| {
            Rgb(colours[((x / 3 + y / 2) % 5) as usize])
        }));
        let options = SixelOptions {
            dither: Dither::None,
            ..SixelOptions::default()
        };
        let (_, max, d) = check(&src, &options);
        assert!(max <= 1, "largest error {max}");
        assert_eq!(d.registers.iter().filter(|r| r.is_some()).count(), 5);
    }

    #[test]
    fn transparent_pixels_are_not_painted() {
        let src = DynamicImage::ImageRgba8(RgbaImage::from_fn(50, 20, |x, y| {
            let a = if (10..30).contains(&x) && (5..12).contains(&y) {
                0
            } else {
                255
            };
            Rgba([(x * 5) as u8, (y * 12) as u8, 128, a])
        }));
        let (mean, _, d) = check(&src, &SixelOptions::default());
        assert!(mean < 4.0, "mean error {mean:.2}");
        assert_eq!(
            d.params.get(1),
            Some(&1),
            "P2 = 1: unpainted pixels stay as they were"
        );
        // A picture that is all transparent is still a valid, empty sixel of its size.
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(7, 8, Rgba([9, 9, 9, 0])));
        let (_, _, d) = check(&clear, &SixelOptions::default());
        assert!(d.paints.iter().all(|&p| p == 0));
    }

    #[test]
    fn threads_change_nothing_in_the_output() {
        let src = gradient(400, 300);
        let one = encode(
            &src,
            &SixelOptions {
                threads: false,
                ..SixelOptions::default()
            },
        );
        let two = encode(&src, &SixelOptions::default());
        assert_eq!(one.expect("one thread"), two.expect("two threads"));
    }

    #[test]
    fn dithering_keeps_a_smooth_gradient_smooth() {
        // A grey ramp with a 16-colour palette (16 levels apart) and a dither that spans that
        // spacing: without dithering it is 16 flat steps; with the ordered dither, 8×8 block
        // averages follow the ramp much more closely.
        let src = DynamicImage::ImageRgb8(RgbImage::from_fn(256, 48, |x, _| {
            let v = x as u8;
            Rgb([v, v, v])
        }));
        let block_error = |options: SixelOptions| {
            let d = decode(&encode(&src, &options).expect("encodes")).expect("decodes");
            let mut total = 0.0;
            for bx in (0..256).step_by(8) {
                let (mut a, mut b) = (0.0, 0.0);
                for y in 8..16 {
                    for x in bx..bx + 8 {
                        a += f64::from(x as u8);
                        b += f64::from(d.pixel(x, y).expect("painted")[1]);
                    }
                }
                total += (a - b).abs() / 64.0;
            }
            total / 32.0
        };
        let flat = block_error(SixelOptions {
            max_colors: 16,
            dither: Dither::None,
            threads: true,
        });
        let dithered = block_error(SixelOptions {
            max_colors: 16,
            dither: Dither::Ordered { amplitude: 16 },
            threads: true,
        });
        assert!(
            dithered * 2.0 < flat,
            "block error dithered {dithered:.2} vs flat {flat:.2}"
        );
    }

    #[test]
    fn protocol_sizes_the_cells_and_wraps_for_tmux() {
        let src = gradient(95, 41);
        let cells = Size::new(10, 3);
        let plain = protocol(&src, (10, 20), cells, false)
            .expect("encodes")
            .expect("fits");
        assert_eq!(
            plain.size,
            Size::new(10, 3),
            "95×41 px in 10×20 cells is 10×3 cells"
        );
        // The cell box is cleared first (3 rows), then the sixel itself.
        let start = plain.data.find("\x1bP").expect("a DCS");
        assert_eq!(
            &plain.data[..start],
            "\x1b[10X\x1b[1B".repeat(3) + "\x1b[3A"
        );
        decode(&plain.data[start..]).expect("the sixel decodes");

        let tmux = protocol(&src, (10, 20), cells, true)
            .expect("encodes")
            .expect("fits");
        assert!(tmux.is_tmux);
        let inner = tmux
            .data
            .strip_prefix("\x1bPtmux;")
            .and_then(|d| d.strip_suffix("\x1b\\"))
            .expect("wrapped in a tmux passthrough");
        // Inside the passthrough every ESC is doubled; undoubled it is the plain sequence.
        assert!(
            !inner.replace("\x1b\x1b", "").contains('\x1b'),
            "a lone ESC would end it"
        );
        assert_eq!(inner.replace("\x1b\x1b", "\x1b"), plain.data);

        // Too wide for the cells: left to the caller.
        assert!(
            protocol(&gradient(101, 20), (10, 20), cells, false)
                .expect("ok")
                .is_none()
        );
        assert!(encode(&gradient(0, 5), &SixelOptions::default()).is_err());
    }
}
