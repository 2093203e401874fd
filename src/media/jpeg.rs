//! A JPEG decoder that decodes straight to 1/2, 1/4 or 1/8 of the original size.
//!
//! A preview never needs a 12-megapixel photo at full size. A JPEG stores every 8×8 block as DCT
//! coefficients, and the top-left N×N of them are (up to a constant) the DCT of the block shrunk to
//! N×N, N = 8 / scale. An N-point inverse DCT of that corner therefore gives the reduced block
//! directly ("DCT-domain scaling"), and every other coefficient is decoded only to be thrown away.
//!
//! What is kept in memory:
//! - A sequential JPEG whose one scan holds every component (nearly every baseline file) is decoded
//!   MCU row by MCU row: each block is entropy-decoded into a small array, the coefficients of the
//!   corner are dequantized and inverse-transformed into a row buffer one MCU row tall, and that
//!   row is colour-converted into the output. Besides the output, memory is a few rows.
//! - A progressive JPEG refines every block over several scans, so coefficients live until the last
//!   scan. Per block we keep only the zigzag prefix that covers the N×N corner (1, 5, 25 or 64
//!   `i16`s at 1/8, 1/4, 1/2 of a full-resolution component), plus a `u64` with one bit per
//!   coefficient saying whether it is non-zero: an AC refinement scan must know that for every
//!   coefficient of its band, also the ones we drop. A 4000×3000 4:4:4 progressive JPEG at 1/4 thus
//!   needs about 10 MB instead of 72 MB. Sequential files split into several scans take this path too.
//! - Before the first progressive scan, the markers are walked once to find scans that only touch
//!   dropped coefficients and whose non-zero history no later needed refinement scan reads; their
//!   entropy data is skipped undecoded (at 1/8 that is every AC scan of a full-resolution component).
//!
//! A subsampled component (chroma in 4:2:0) covers more pixels per block, so it gets a larger IDCT
//! (up to 8×8) rather than being upsampled afterwards. Only when that would exceed 8 (4:1:1 at 1/2)
//! is the rest made up by repeating samples (nearest neighbour).
//!
//! Entropy decoding: a 64-bit bit buffer refilled up to 8 bytes at a time (byte by byte only near an
//! 0xFF), a 10-bit look-up table giving symbol and code length, and a second one that decodes a
//! short code together with its extra bits (DC difference, or AC run and value, or EOB) at once.
//!
//! Not handled (`Unsupported`, the caller uses another decoder): arithmetic coding, lossless and
//! hierarchical JPEG, 12-bit samples, 2 or 4 components (CMYK, YCCK), DNL, sampling ratios that are
//! not powers of two. Reference: ITU-T T.81.

use thiserror::Error;

/// Pixels decoded at 1/`scale` of the original size.
pub struct Reduced {
    pub width: u32,
    pub height: u32,
    /// 1 = gray, 3 = RGB.
    pub channels: u8,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Reduced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reduced")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("channels", &self.channels)
            .field("pixels", &format_args!("{} bytes", self.pixels.len()))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JpegError {
    /// A valid file this decoder does not handle (arithmetic coding, 12-bit, lossless, CMYK/4
    /// components, hierarchical, sampling factors whose ratios are not powers of two, ...). The
    /// caller falls back to another decoder.
    #[error("JPEG feature not supported by the reduced decoder: {0}")]
    Unsupported(&'static str),
    /// Broken data: the message says what, in plain words.
    #[error("corrupt JPEG: {0}")]
    Corrupt(String),
    /// Over `max_alloc`.
    #[error("decoding the JPEG would need more memory than allowed")]
    TooLarge,
    #[error("JPEG decoding was cancelled")]
    Cancelled,
}

#[cold]
fn corrupt(what: &str) -> JpegError {
    JpegError::Corrupt(what.to_owned())
}

/// Broken entropy-coded data, found deep in the block decoders: an error small enough to come
/// back in registers, turned into [`JpegError::Corrupt`] by `?` at the scan level.
#[derive(Debug)]
struct Broken(&'static str);

impl From<Broken> for JpegError {
    fn from(b: Broken) -> Self {
        corrupt(b.0)
    }
}

/// The scale to decode at so the result is at least `at_least` on both sides: the largest of 8, 4
/// and 2 with ceil(w/s) >= at_least.0 and ceil(h/s) >= at_least.1, or 1 when none fits (then this
/// decoder is of no use). For a box with the picture's aspect ratio this is the scale
/// jpeg-decoder 0.3's `Decoder::scale` picks (it asks for at least the box on one side only).
pub fn reduction_for(original: (u32, u32), at_least: (u32, u32)) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&s| original.0.div_ceil(s) >= at_least.0 && original.1.div_ceil(s) >= at_least.1)
        .unwrap_or(1)
}

/// Decodes `bytes` at 1/`scale` of its size; `scale` is 2, 4 or 8 (anything else: Unsupported).
/// The output is ceil(w/scale) × ceil(h/scale), as with jpeg-decoder's `scale()` and libjpeg.
/// `max_alloc` bounds the bytes of every large buffer together (checked before allocating);
/// `cancelled` is polled about once per MCU row.
pub fn decode_reduced(
    bytes: &[u8],
    scale: u32,
    max_alloc: u64,
    cancelled: &dyn Fn() -> bool,
) -> Result<Reduced, JpegError> {
    if !matches!(scale, 2 | 4 | 8) {
        return Err(JpegError::Unsupported("scales other than 1/2, 1/4 and 1/8"));
    }
    Decoder {
        data: bytes,
        scale: scale as usize,
        budget: Budget { left: max_alloc },
        cancelled,
        tables: Tables::default(),
        frame: None,
        store: None,
    }
    .run()
}

// ---------------------------------------------------------------------------------------------
// Constants and small helpers

/// Bits looked up at once when decoding a Huffman code.
const FAST_BITS: u32 = 10;
const FAST_SIZE: usize = 1 << FAST_BITS;
const FAST_MASK: usize = FAST_SIZE - 1;

/// Dequantized coefficients are clamped to ±this. Valid 8-bit data stays below about 1,200; the
/// clamp keeps the fixed-point IDCT within `i32` whatever the file says.
const COEF_LIMIT: i32 = 4095;

/// Zigzag index → natural (row-major) index in an 8×8 block (T.81 figure A.6).
const ZIGZAG: [u8; 64] = zigzag_order();

/// Natural index → zigzag index.
const ZIGZAG_INDEX: [u8; 64] = {
    let mut index = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        index[ZIGZAG[k] as usize] = k as u8;
        k += 1;
    }
    index
};

const fn zigzag_order() -> [u8; 64] {
    let mut order = [0u8; 64];
    let (mut row, mut col) = (0usize, 0usize);
    let mut k = 0;
    while k < 64 {
        order[k] = (row * 8 + col) as u8;
        if (row + col) % 2 == 0 {
            // Moving up and to the right.
            if col == 7 {
                row += 1;
            } else if row == 0 {
                col += 1;
            } else {
                row -= 1;
                col += 1;
            }
        } else if row == 7 {
            col += 1;
        } else if col == 0 {
            row += 1;
        } else {
            row += 1;
            col -= 1;
        }
        k += 1;
    }
    order
}

fn clamp_i16(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// The signed value of `size` extra bits `bits` (T.81 F.2.2.1, EXTEND).
fn extend(bits: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if bits < 1 << (size - 1) {
        bits as i32 - (1 << size) + 1
    } else {
        bits as i32
    }
}

/// Bytes still allowed for the large buffers.
struct Budget {
    left: u64,
}

impl Budget {
    fn take(&mut self, bytes: u64) -> Result<(), JpegError> {
        self.left = self.left.checked_sub(bytes).ok_or(JpegError::TooLarge)?;
        Ok(())
    }
}

fn to_usize(n: u64) -> Result<usize, JpegError> {
    usize::try_from(n).map_err(|_| JpegError::TooLarge)
}

// ---------------------------------------------------------------------------------------------
// Headers

/// A frame component with its reduced-scale geometry.
struct Component {
    id: u8,
    /// Sampling factors.
    h: usize,
    v: usize,
    /// Quantization table id.
    tq: usize,
    /// IDCT output size per block (1, 2, 4 or 8) horizontally and vertically.
    nx: usize,
    ny: usize,
    /// log2 of the sample repetition after the IDCT (0 unless the IDCT would have to exceed 8).
    ux: u32,
    uy: u32,
    /// Coefficients kept per block: zigzag indices 0..keep cover the nx×ny corner.
    keep: usize,
    /// Bit k set for every zigzag index k inside the corner.
    corner: u64,
    /// Blocks of the component's own extent (what a non-interleaved scan covers).
    blocks_w: usize,
    blocks_h: usize,
    /// Blocks per row and block rows of the MCU-padded extent (what interleaved scans cover).
    stride: usize,
    rows: usize,
}

/// The coefficients an nx×ny reduced IDCT reads: bit k set for zigzag index k.
fn corner(nx: usize, ny: usize) -> u64 {
    (0..64)
        .filter(|&k| {
            let n = usize::from(ZIGZAG[k]);
            n % 8 < nx && n / 8 < ny
        })
        .fold(0, |mask, k| mask | 1 << k)
}

struct Frame {
    width: usize,
    height: usize,
    progressive: bool,
    mcus_x: usize,
    mcus_y: usize,
    /// Output pixel rows per MCU row.
    rows_per_mcu: usize,
    components: Vec<Component>,
    color: Color,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Color {
    Gray,
    YCbCr,
    Rgb,
}

impl Frame {
    fn parse(marker: u8, p: &[u8], scale: usize, hints: &Tables) -> Result<Frame, JpegError> {
        let [precision, h1, h0, w1, w0, count, rest @ ..] = p else {
            return Err(corrupt("the frame header is cut off"));
        };
        if *precision != 8 {
            return Err(JpegError::Unsupported("sample precision other than 8 bits"));
        }
        let height = usize::from(u16::from_be_bytes([*h1, *h0]));
        let width = usize::from(u16::from_be_bytes([*w1, *w0]));
        if height == 0 {
            return Err(JpegError::Unsupported("height given by a DNL marker"));
        }
        if width == 0 {
            return Err(corrupt("the frame has zero width"));
        }
        match count {
            1 | 3 => {}
            4 => return Err(JpegError::Unsupported("4 components (CMYK or YCCK)")),
            0 => return Err(corrupt("the frame has no components")),
            _ => return Err(JpegError::Unsupported("component counts other than 1 or 3")),
        }
        let count = usize::from(*count);
        if rest.len() != 3 * count {
            return Err(corrupt("the frame header has the wrong length"));
        }
        let mut sampling = Vec::with_capacity(count);
        for (i, c) in rest.chunks_exact(3).enumerate() {
            let (id, hv, tq) = (c[0], c[1], c[2]);
            let (h, v) = (usize::from(hv >> 4), usize::from(hv & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                return Err(corrupt("a sampling factor is outside 1..4"));
            }
            if tq > 3 {
                return Err(corrupt("a component uses quantization table id over 3"));
            }
            if rest.chunks_exact(3).take(i).any(|other| other[0] == id) {
                return Err(corrupt("two components have the same id"));
            }
            // With one component the MCU is one block whatever the factors say (T.81 A.2.2).
            let (h, v) = if count == 1 { (1, 1) } else { (h, v) };
            sampling.push((id, h, v, usize::from(tq)));
        }
        let hmax = sampling.iter().map(|s| s.1).max().unwrap_or(1);
        let vmax = sampling.iter().map(|s| s.2).max().unwrap_or(1);
        let ratio_ok = |max: usize, f: usize| max.is_multiple_of(f) && (max / f).is_power_of_two();
        if !sampling
            .iter()
            .all(|s| ratio_ok(hmax, s.1) && ratio_ok(vmax, s.2))
        {
            return Err(JpegError::Unsupported(
                "sampling ratios that are not powers of two",
            ));
        }
        let n = 8 / scale;
        let mcus_x = width.div_ceil(8 * hmax);
        let mcus_y = height.div_ceil(8 * vmax);
        let components = sampling
            .iter()
            .map(|&(id, h, v, tq)| {
                let (full_x, full_y) = (n * hmax / h, n * vmax / v);
                let (nx, ny) = (full_x.min(8), full_y.min(8));
                let corner = corner(nx, ny);
                let keep = 64 - corner.leading_zeros() as usize;
                Component {
                    id,
                    h,
                    v,
                    tq,
                    nx,
                    ny,
                    ux: (full_x / nx).trailing_zeros(),
                    uy: (full_y / ny).trailing_zeros(),
                    keep,
                    corner,
                    blocks_w: (width * h).div_ceil(hmax).div_ceil(8),
                    blocks_h: (height * v).div_ceil(vmax).div_ceil(8),
                    stride: mcus_x * h,
                    rows: mcus_y * v,
                }
            })
            .collect();
        let color = match sampling.as_slice() {
            [_] => Color::Gray,
            [(b'R', ..), (b'G', ..), (b'B', ..)] => Color::Rgb,
            _ if hints.jfif => Color::YCbCr,
            _ if hints.adobe_transform == Some(0) => Color::Rgb,
            _ => Color::YCbCr,
        };
        Ok(Frame {
            width,
            height,
            progressive: marker == 0xC2,
            mcus_x,
            mcus_y,
            rows_per_mcu: n * vmax,
            components,
            color,
        })
    }

    fn out_width(&self, scale: usize) -> usize {
        self.width.div_ceil(scale)
    }

    fn out_height(&self, scale: usize) -> usize {
        self.height.div_ceil(scale)
    }
}

/// One component of a scan: which frame component, which Huffman tables.
struct ScanSlot {
    component: usize,
    dc_table: usize,
    ac_table: usize,
}

struct Scan {
    slots: Vec<ScanSlot>,
    /// Spectral selection (zigzag indices, inclusive) and successive approximation bit positions.
    ss: u8,
    se: u8,
    ah: u8,
    al: u8,
}

impl Scan {
    fn parse(p: &[u8], frame: &Frame) -> Result<Scan, JpegError> {
        let [count, rest @ ..] = p else {
            return Err(corrupt("the scan header is cut off"));
        };
        let count = usize::from(*count);
        if !(1..=4).contains(&count) || rest.len() != 2 * count + 3 {
            return Err(corrupt("the scan header has the wrong length"));
        }
        let (selectors, params) = rest.split_at(2 * count);
        let mut slots: Vec<ScanSlot> = Vec::with_capacity(count);
        for s in selectors.chunks_exact(2) {
            let component = frame
                .components
                .iter()
                .position(|c| c.id == s[0])
                .ok_or_else(|| corrupt("a scan names a component the frame does not have"))?;
            if slots.iter().any(|o| o.component == component) {
                return Err(corrupt("a scan names a component twice"));
            }
            let (dc_table, ac_table) = (usize::from(s[1] >> 4), usize::from(s[1] & 15));
            if dc_table > 3 || ac_table > 3 {
                return Err(corrupt("a scan uses a Huffman table id over 3"));
            }
            slots.push(ScanSlot {
                component,
                dc_table,
                ac_table,
            });
        }
        let [ss, se, a] = params else {
            return Err(corrupt("the scan header is cut off"));
        };
        let scan = if frame.progressive {
            Scan {
                slots,
                ss: *ss,
                se: *se,
                ah: a >> 4,
                al: a & 15,
            }
        } else {
            // Sequential: the whole block, whatever the header says (as libjpeg does).
            Scan {
                slots,
                ss: 0,
                se: 63,
                ah: 0,
                al: 0,
            }
        };
        if frame.progressive {
            let dc_ok = scan.ss == 0 && scan.se == 0;
            let ac_ok = scan.ss > 0 && scan.ss <= scan.se && scan.se <= 63 && count == 1;
            if !(dc_ok || ac_ok) || scan.ah > 13 || scan.al > 13 {
                return Err(corrupt(
                    "a progressive scan has an invalid band or bit position",
                ));
            }
        }
        Ok(scan)
    }
}

/// Tables and settings defined by marker segments, as they stand at the current point of the file.
#[derive(Default)]
struct Tables {
    /// In zigzag order.
    quant: [Option<[u16; 64]>; 4],
    dc: [Option<Box<HuffTable>>; 4],
    ac: [Option<Box<HuffTable>>; 4],
    restart_interval: u16,
    jfif: bool,
    adobe_transform: Option<u8>,
}

impl Tables {
    fn read_quant(&mut self, p: &[u8]) -> Result<(), JpegError> {
        let cut = || corrupt("a quantization table is cut off");
        let mut rest = p;
        while let Some((&pq_tq, tail)) = rest.split_first() {
            let id = usize::from(pq_tq & 15);
            let slot = self
                .quant
                .get_mut(id)
                .ok_or_else(|| corrupt("a quantization table id is over 3"))?;
            let mut table = [0u16; 64];
            rest = match pq_tq >> 4 {
                0 => {
                    let (values, tail) = tail.split_at_checked(64).ok_or_else(cut)?;
                    for (t, &v) in table.iter_mut().zip(values) {
                        *t = u16::from(v);
                    }
                    tail
                }
                1 => {
                    let (values, tail) = tail.split_at_checked(128).ok_or_else(cut)?;
                    for (t, v) in table.iter_mut().zip(values.chunks_exact(2)) {
                        *t = u16::from_be_bytes([v[0], v[1]]);
                    }
                    tail
                }
                _ => return Err(corrupt("a quantization table has an unknown precision")),
            };
            *slot = Some(table);
        }
        Ok(())
    }

    fn read_huffman(&mut self, p: &[u8]) -> Result<(), JpegError> {
        let cut = || corrupt("a Huffman table is cut off");
        let mut rest = p;
        while let Some((&tc_th, tail)) = rest.split_first() {
            let (class, id) = (tc_th >> 4, usize::from(tc_th & 15));
            if class > 1 || id > 3 {
                return Err(corrupt("a Huffman table has an invalid class or id"));
            }
            let (counts, tail) = tail.split_at_checked(16).ok_or_else(cut)?;
            let total = counts.iter().map(|&c| usize::from(c)).sum();
            if total > 256 {
                return Err(corrupt("a Huffman table has more than 256 codes"));
            }
            let (values, tail) = tail.split_at_checked(total).ok_or_else(cut)?;
            let table = Some(Box::new(HuffTable::new(counts, values, class == 1)?));
            if class == 0 {
                self.dc[id] = table;
            } else {
                self.ac[id] = table;
            }
            rest = tail;
        }
        Ok(())
    }

    fn read_restart_interval(&mut self, p: &[u8]) -> Result<(), JpegError> {
        let [hi, lo] = p else {
            return Err(corrupt("the restart interval segment has the wrong length"));
        };
        self.restart_interval = u16::from_be_bytes([*hi, *lo]);
        Ok(())
    }

    fn read_app(&mut self, marker: u8, p: &[u8]) {
        if marker == 0xE0 && p.starts_with(b"JFIF\0") {
            self.jfif = true;
        }
        if marker == 0xEE && p.starts_with(b"Adobe") {
            self.adobe_transform = p.get(11).copied();
        }
    }

    fn dc_table(&self, id: usize) -> Result<&HuffTable, JpegError> {
        self.dc[id]
            .as_deref()
            .ok_or_else(|| corrupt("a scan uses an undefined DC Huffman table"))
    }

    fn ac_table(&self, id: usize) -> Result<&HuffTable, JpegError> {
        self.ac[id]
            .as_deref()
            .ok_or_else(|| corrupt("a scan uses an undefined AC Huffman table"))
    }

    /// The component's quantization table as it stands now, widened for dequantization.
    fn latch_quant(&self, c: &Component) -> Result<[i32; 64], JpegError> {
        let q = self.quant[c.tq]
            .ok_or_else(|| corrupt("a scan uses an undefined quantization table"))?;
        Ok(q.map(i32::from))
    }
}

// ---------------------------------------------------------------------------------------------
// Huffman tables

/// Marks the AC end-of-block symbol in [`HuffTable::short`].
const EOB_FLAG: i32 = 0x80;
/// Total code + extra bits length in a [`HuffTable::short`] entry.
const SHORT_LEN: i32 = 0x1F;

struct HuffTable {
    /// Indexed by the next FAST_BITS bits: `length << 8 | symbol`, or 0 for a longer code.
    fast: [u16; FAST_SIZE],
    /// Indexed the same way, for codes whose extra bits fit in FAST_BITS too: the whole
    /// coefficient in one look-up, `value << 16 | run << 8 | total length` (run 0 for DC; the AC
    /// ZRL is run 15, value 0; the AC EOB is `EOB_FLAG | length`). 0: decode the slow way.
    short: [i32; FAST_SIZE],
    /// Per code length 1..=16: the largest code (−1 if none), and what to add to a code of that
    /// length to get its symbol's index in `values` (T.81 F.2.2.3).
    max_code: [i32; 17],
    offset: [i32; 17],
    values: [u8; 256],
}

impl HuffTable {
    fn new(counts: &[u8], symbols: &[u8], ac: bool) -> Result<HuffTable, JpegError> {
        let mut t = HuffTable {
            fast: [0; FAST_SIZE],
            short: [0; FAST_SIZE],
            max_code: [-1; 17],
            offset: [0; 17],
            values: [0; 256],
        };
        for (v, &s) in t.values.iter_mut().zip(symbols) {
            *v = s;
        }
        let mut code = 0u32;
        let mut index = 0usize;
        for (len, &count) in (1u32..=16).zip(counts) {
            let count = u32::from(count);
            if code + count > 1 << len {
                return Err(corrupt(
                    "a Huffman table has more codes than fit their lengths",
                ));
            }
            if count > 0 {
                t.offset[len as usize] = index as i32 - code as i32;
                t.max_code[len as usize] = (code + count - 1) as i32;
            }
            for _ in 0..count {
                if len <= FAST_BITS {
                    let symbol = symbols.get(index).copied().unwrap_or(0);
                    let shift = FAST_BITS - len;
                    let first = (code << shift) as usize;
                    let entry = (len << 8) as u16 | u16::from(symbol);
                    if let Some(span) = t.fast.get_mut(first..first + (1 << shift)) {
                        span.fill(entry);
                    }
                }
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        for (i, (short, &fast)) in t.short.iter_mut().zip(&t.fast).enumerate() {
            if fast != 0 {
                *short = short_entry(i as u32, u32::from(fast >> 8), fast as u8, ac);
            }
        }
        Ok(t)
    }
}

/// The [`HuffTable::short`] entry for look-up index `i`, which starts with a code of `len` bits
/// for `symbol`.
fn short_entry(i: u32, len: u32, symbol: u8, ac: bool) -> i32 {
    let (run, size) = if ac {
        (i32::from(symbol >> 4), u32::from(symbol & 15))
    } else {
        (0, u32::from(symbol))
    };
    match (ac, symbol) {
        (true, 0x00) => return EOB_FLAG | len as i32,
        // EOB runs of progressive scans.
        (true, _) if size == 0 && run != 15 => return 0,
        _ => {}
    }
    if len + size > FAST_BITS {
        return 0;
    }
    let bits = (i >> (FAST_BITS - len - size)) & ((1 << size) - 1);
    extend(bits, size) << 16 | run << 8 | (len + size) as i32
}

// ---------------------------------------------------------------------------------------------
// Bit reader

/// Reads entropy-coded bits MSB first, removing the 0x00 stuffed after each 0xFF. At a marker (or
/// the end of the data) it stops there and feeds zero bits, as libjpeg does: they decode as the
/// table's first code, so a truncated scan runs out harmlessly.
struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Valid bits are the top `nbits`; the rest are zero.
    buf: u64,
    nbits: u32,
    at_marker: bool,
}

/// Whether any byte of `w` is 0xFF.
fn has_ff_byte(w: u64) -> bool {
    let x = !w;
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            buf: 0,
            nbits: 0,
            at_marker: false,
        }
    }

    /// Makes sure at least 32 bits are buffered: enough for a code and its extra bits.
    #[inline]
    fn ensure(&mut self) {
        if self.nbits < 32 {
            self.refill();
        }
    }

    /// Tops the buffer up to at least 57 bits: 8 bytes at once when none of them is 0xFF.
    #[inline]
    fn refill(&mut self) {
        let word = self
            .data
            .get(self.pos..self.pos + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        match word {
            Some(word) if !self.at_marker && !has_ff_byte(word) => {
                let bytes = (64 - self.nbits) / 8;
                let whole = if bytes == 8 {
                    word
                } else {
                    word & !(u64::MAX >> (8 * bytes))
                };
                self.buf |= whole >> self.nbits;
                self.nbits += 8 * bytes;
                self.pos += bytes as usize;
            }
            _ => {
                while self.nbits <= 56 {
                    self.push_byte();
                }
            }
        }
    }

    /// One byte of entropy-coded data, or (at a marker or the end) 8 zero bits.
    #[inline]
    fn push_byte(&mut self) {
        let byte = match self.data.get(self.pos) {
            _ if self.at_marker => 0,
            Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                self.pos += 2;
                0xFF
            }
            Some(0xFF) | None => {
                self.at_marker = true;
                0
            }
            Some(&b) => {
                self.pos += 1;
                b
            }
        };
        self.buf |= u64::from(byte) << (56 - self.nbits);
        self.nbits += 8;
    }

    /// The next `n` bits (1..=32) without consuming them.
    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.nbits = self.nbits.saturating_sub(n);
    }

    /// `n` (0..=16) raw bits.
    #[inline]
    fn receive(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.nbits < n {
            self.refill();
        }
        let v = self.peek(n);
        self.consume(n);
        v
    }

    #[inline]
    fn receive_extend(&mut self, size: u32) -> i32 {
        extend(self.receive(size), size)
    }

    #[inline]
    fn bit(&mut self) -> bool {
        self.receive(1) != 0
    }

    #[inline(always)]
    fn decode(&mut self, t: &HuffTable) -> Result<u8, Broken> {
        if self.nbits < 16 {
            self.refill();
        }
        let entry = t.fast[self.peek(FAST_BITS) as usize & FAST_MASK];
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.decode_long(t)
    }

    /// A DC difference: code and extra bits.
    #[inline]
    fn decode_dc(&mut self, t: &HuffTable) -> Result<i32, Broken> {
        self.ensure();
        let entry = t.short[self.peek(FAST_BITS) as usize & FAST_MASK];
        if entry != 0 {
            self.consume((entry & SHORT_LEN) as u32);
            return Ok(entry >> 16);
        }
        let size = u32::from(self.decode(t)?);
        if size > 16 {
            return Err(Broken("a DC difference has an invalid size"));
        }
        Ok(self.receive_extend(size))
    }

    /// An AC code with its extra bits.
    #[inline(always)]
    fn decode_ac(&mut self, t: &HuffTable) -> Result<AcCode, Broken> {
        self.ensure();
        let entry = t.short[self.peek(FAST_BITS) as usize & FAST_MASK];
        if entry != 0 {
            self.consume((entry & SHORT_LEN) as u32);
            if entry & EOB_FLAG != 0 {
                return Ok(AcCode::EndOfBand { run: 0 });
            }
            let run = ((entry >> 8) & 15) as usize;
            return Ok(AcCode::Coef {
                run,
                value: entry >> 16,
            });
        }
        let symbol = self.decode(t)?;
        let (run, size) = (symbol >> 4, u32::from(symbol & 15));
        if size == 0 && run != 15 {
            return Ok(AcCode::EndOfBand {
                run: u32::from(run),
            });
        }
        let value = self.receive_extend(size);
        Ok(AcCode::Coef {
            run: usize::from(run),
            value,
        })
    }

    #[inline]
    fn decode_long(&mut self, t: &HuffTable) -> Result<u8, Broken> {
        let bits = self.peek(16);
        for len in FAST_BITS + 1..=16 {
            let code = (bits >> (16 - len)) as i32;
            if code <= t.max_code[len as usize] {
                let symbol = usize::try_from(code + t.offset[len as usize])
                    .ok()
                    .and_then(|i| t.values.get(i).copied())
                    .ok_or(Broken("a Huffman code points outside its table"))?;
                self.consume(len);
                return Ok(symbol);
            }
        }
        Err(Broken("the entropy-coded data has an invalid Huffman code"))
    }

    /// At the end of a restart interval: drops the buffered bits and takes the next marker if it is
    /// RSTn (returns n). Any other marker, or none, ends the scan's data: `None`.
    fn restart_marker(&mut self) -> Option<u8> {
        self.buf = 0;
        self.nbits = 0;
        self.at_marker = false;
        match next_marker_at(self.data, self.pos) {
            Some(at) => match self.data.get(at + 1) {
                Some(&m @ 0xD0..=0xD7) => {
                    self.pos = at + 2;
                    Some(m - 0xD0)
                }
                _ => {
                    self.pos = at;
                    self.at_marker = true;
                    None
                }
            },
            None => {
                self.pos = self.data.len();
                self.at_marker = true;
                None
            }
        }
    }
}

/// A decoded AC code: `run` zero coefficients then `value` (a ZRL is 15 zeros then a zero), or
/// the end of the block's band, with the size of the EOB run (progressive; 0 for a plain EOB).
enum AcCode {
    Coef { run: usize, value: i32 },
    EndOfBand { run: u32 },
}

/// Position of the 0xFF of the next marker at or after `from` in entropy-coded data (skipping
/// stuffed 0xFF00 and fill bytes).
fn next_marker_at(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += data.get(i..)?.iter().position(|&b| b == 0xFF)?;
        match data.get(i + 1) {
            Some(0x00 | 0xFF) => i += 1,
            Some(_) => return Some(i),
            None => return None,
        }
    }
}

/// Where the parser resumes after a scan's entropy data starting at `from`: the next marker that is
/// not RSTn, or the end of the data.
fn scan_end(data: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(m) = next_marker_at(data, at) {
        if !matches!(data.get(m + 1), Some(0xD0..=0xD7)) {
            return m;
        }
        at = m + 2;
    }
    data.len()
}

// ---------------------------------------------------------------------------------------------
// Block decoding (T.81 F.2.2 for sequential, G.1.2 for progressive)
//
// `coefs` holds the kept zigzag prefix of one block: coefficients past its end are decoded and
// dropped. `mask` has bit k set when AC coefficient k (kept or not) is non-zero.

fn decode_sequential(
    r: &mut BitReader,
    dc: &HuffTable,
    ac: &HuffTable,
    pred: &mut i32,
    coefs: &mut [i16],
) -> Result<(), Broken> {
    *pred = pred.wrapping_add(r.decode_dc(dc)?);
    if let Some(c) = coefs.first_mut() {
        *c = clamp_i16(*pred);
    }
    let mut k = 1usize;
    while k < 64 {
        let AcCode::Coef { run, value } = r.decode_ac(ac)? else {
            break;
        };
        // A ZRL stores its zero at the 16th position: harmless, that one is zero.
        k += run;
        if let Some(c) = coefs.get_mut(k) {
            *c = clamp_i16(value);
        }
        k += 1;
    }
    Ok(())
}

fn decode_dc_first(
    r: &mut BitReader,
    dc: &HuffTable,
    al: u8,
    pred: &mut i32,
    coefs: &mut [i16],
) -> Result<(), Broken> {
    *pred = pred.wrapping_add(r.decode_dc(dc)?);
    if let Some(c) = coefs.first_mut() {
        *c = clamp_i16(pred.wrapping_shl(u32::from(al)));
    }
    Ok(())
}

fn decode_dc_refine(r: &mut BitReader, al: u8, coefs: &mut [i16]) {
    if r.bit()
        && let Some(c) = coefs.first_mut()
    {
        *c |= 1 << al;
    }
}

/// Spectral band of an AC scan, zigzag indices, inclusive; 1 <= start <= end <= 63.
#[derive(Clone, Copy)]
struct Band {
    start: usize,
    end: usize,
}

fn decode_ac_first(
    r: &mut BitReader,
    ac: &HuffTable,
    band: Band,
    al: u8,
    eobrun: &mut u32,
    coefs: &mut [i16],
    mask: &mut u64,
) -> Result<(), Broken> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let mut k = band.start;
    while k <= band.end {
        let (run, value) = match r.decode_ac(ac)? {
            AcCode::Coef { run, value } => (run, value),
            AcCode::EndOfBand { run } => {
                // This block and the next 2^run − 1 + (run bits) end here.
                *eobrun = (1 << run) - 1 + r.receive(run);
                break;
            }
        };
        k += run;
        if value != 0 && k <= band.end {
            if let Some(c) = coefs.get_mut(k) {
                *c = clamp_i16(value.wrapping_shl(u32::from(al)));
            }
            *mask |= 1 << k;
        }
        k += 1;
    }
    Ok(())
}

fn decode_ac_refine(
    r: &mut BitReader,
    ac: &HuffTable,
    band: Band,
    al: u8,
    eobrun: &mut u32,
    coefs: &mut [i16],
    mask: &mut u64,
) -> Result<(), Broken> {
    let plus = 1i16 << al;
    // Positions are bits: the band's, and from k on.
    let band_bits = low_bits(band.end + 1) & !low_bits(band.start);
    let mut k = band.start;
    if *eobrun == 0 {
        while k <= band.end {
            r.ensure();
            let symbol = r.decode(ac)?;
            let (zeros, size) = (symbol >> 4, symbol & 15);
            let mut value = 0i16;
            if size != 0 {
                value = if r.bit() { plus } else { -plus };
            } else if zeros != 15 {
                *eobrun = (1 << zeros) + r.receive(u32::from(zeros));
                break;
            }
            // Skip `zeros` coefficients with no history, refining the ones with history met on
            // the way; the new value, if any, goes to the next one with no history (`target`).
            let ahead = band_bits & !low_bits(k);
            let mut free = ahead & !*mask;
            for _ in 0..zeros {
                free &= free.wrapping_sub(1);
            }
            let target = free.trailing_zeros() as usize; // 64: not in the band
            refine_all(r, coefs, *mask & ahead & low_bits(target), plus);
            if value != 0 && target <= band.end {
                if let Some(c) = coefs.get_mut(target) {
                    *c = value;
                }
                *mask |= 1 << target;
            }
            k = target + 1;
        }
    }
    if *eobrun > 0 {
        // Inside an EOB run only coefficients with history, from k to the band's end, get bits.
        refine_all(r, coefs, *mask & band_bits & !low_bits(k), plus);
        *eobrun -= 1;
    }
    Ok(())
}

/// Bits 0..n set (n up to 64 and beyond).
fn low_bits(n: usize) -> u64 {
    1u64.checked_shl(n as u32).map_or(u64::MAX, |b| b - 1)
}

/// Reads the correction bits of the coefficients in `positions`, lowest first.
#[inline]
fn refine_all(r: &mut BitReader, coefs: &mut [i16], mut positions: u64, plus: i16) {
    while positions != 0 {
        refine(r, coefs, positions.trailing_zeros() as usize, plus);
        positions &= positions - 1;
    }
}

/// Reads the correction bit of an already non-zero coefficient (kept or not).
#[inline]
fn refine(r: &mut BitReader, coefs: &mut [i16], k: usize, plus: i16) {
    if r.bit()
        && let Some(c) = coefs.get_mut(k)
        && *c & plus == 0
    {
        *c = if *c >= 0 {
            c.saturating_add(plus)
        } else {
            c.saturating_sub(plus)
        };
    }
}

// ---------------------------------------------------------------------------------------------
// Walking a scan

/// What a scan's blocks go to: the output rows (single-scan sequential) or the coefficient store.
trait BlockSink {
    /// Decodes a block of the scan's `slot`th component.
    fn block(&mut self, r: &mut BitReader, slot: usize, at: BlockAt) -> Result<(), Broken>;
    /// The block's data is missing (lost restart interval): leave it at zero.
    fn missing(&mut self, slot: usize, at: BlockAt);
    /// A restart marker: reset DC predictions and the EOB run.
    fn reset(&mut self);
    /// Block row (non-interleaved) or MCU row (interleaved) `row` is complete.
    fn row_done(&mut self, row: usize);

    /// The block, decoded if its data is `present`.
    #[inline]
    fn visit(
        &mut self,
        r: &mut BitReader,
        present: bool,
        slot: usize,
        at: BlockAt,
    ) -> Result<(), Broken> {
        if present {
            self.block(r, slot, at)
        } else {
            self.missing(slot, at);
            Ok(())
        }
    }
}

/// Where a block is: column and row in its component's padded block grid, and the row within
/// the current MCU row.
#[derive(Clone, Copy)]
struct BlockAt {
    col: usize,
    row: usize,
    row_in_mcu: usize,
}

/// Restart interval bookkeeping. After interval j comes RST(j mod 8); if the marker found has
/// another number, the intervals in between were lost and their blocks are left at zero.
struct Restarts {
    interval: usize,
    left: usize,
    expected: u8,
    /// Intervals still to skip because their marker went missing.
    missing: u8,
    /// No more data in this scan.
    dead: bool,
}

impl Restarts {
    fn new(interval: u16) -> Self {
        let interval = usize::from(interval);
        Restarts {
            interval,
            left: interval,
            expected: 0,
            missing: 0,
            dead: false,
        }
    }

    /// Called before each MCU: whether its data is present, and whether a restart comes first
    /// (then DC predictions and the EOB run start over).
    #[inline]
    fn next_unit(&mut self, r: &mut BitReader) -> Unit {
        if self.interval == 0 {
            return Unit {
                present: true,
                restart: false,
            };
        }
        let restart = self.left == 0;
        if restart {
            self.left = self.interval;
            if self.missing > 0 {
                self.missing -= 1;
            } else if !self.dead {
                match r.restart_marker() {
                    Some(n) => {
                        self.missing = n.wrapping_sub(self.expected) & 7;
                        self.expected = (n + 1) & 7;
                    }
                    None => self.dead = true,
                }
            }
        }
        self.left -= 1;
        Unit {
            present: !self.dead && self.missing == 0,
            restart,
        }
    }
}

struct Unit {
    present: bool,
    restart: bool,
}

fn walk_scan(
    frame: &Frame,
    scan: &Scan,
    interval: u16,
    r: &mut BitReader,
    cancelled: &dyn Fn() -> bool,
    sink: &mut impl BlockSink,
) -> Result<(), JpegError> {
    let mut restarts = Restarts::new(interval);
    if let [only] = scan.slots.as_slice() {
        let c = &frame.components[only.component];
        for row in 0..c.blocks_h {
            if cancelled() {
                return Err(JpegError::Cancelled);
            }
            for col in 0..c.blocks_w {
                let unit = restarts.next_unit(r);
                if unit.restart {
                    sink.reset();
                }
                sink.visit(
                    r,
                    unit.present,
                    0,
                    BlockAt {
                        col,
                        row,
                        row_in_mcu: 0,
                    },
                )?;
            }
            sink.row_done(row);
        }
        return Ok(());
    }
    for my in 0..frame.mcus_y {
        if cancelled() {
            return Err(JpegError::Cancelled);
        }
        for mx in 0..frame.mcus_x {
            let unit = restarts.next_unit(r);
            if unit.restart {
                sink.reset();
            }
            for (slot, s) in scan.slots.iter().enumerate() {
                let c = &frame.components[s.component];
                for by in 0..c.v {
                    for col in mx * c.h..(mx + 1) * c.h {
                        let at = BlockAt {
                            col,
                            row: my * c.v + by,
                            row_in_mcu: by,
                        };
                        sink.visit(r, unit.present, slot, at)?;
                    }
                }
            }
        }
        sink.row_done(my);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sequential, one scan: straight to the output

struct StreamSlot<'t> {
    component: usize,
    dc: &'t HuffTable,
    ac: &'t HuffTable,
    quant: [i32; 64],
}

struct StreamSink<'t, 'o> {
    out: &'o mut Output,
    slots: Vec<StreamSlot<'t>>,
    preds: [i32; 4],
}

impl BlockSink for StreamSink<'_, '_> {
    fn block(&mut self, r: &mut BitReader, slot: usize, at: BlockAt) -> Result<(), Broken> {
        let s = &self.slots[slot];
        let keep = self.out.planes[s.component].keep;
        let mut coefs = [0i16; 64];
        let kept = coefs.get_mut(..keep).unwrap_or_default();
        decode_sequential(r, s.dc, s.ac, &mut self.preds[slot], kept)?;
        self.out.put_block(s.component, at, &coefs, &s.quant);
        Ok(())
    }

    fn missing(&mut self, slot: usize, at: BlockAt) {
        let s = &self.slots[slot];
        self.out.put_block(s.component, at, &[], &s.quant);
    }

    fn reset(&mut self) {
        self.preds = [0; 4];
    }

    fn row_done(&mut self, row: usize) {
        self.out.emit_rows(row);
    }
}

/// Decodes a sequential scan holding every component straight into the output.
fn decode_streaming(
    d: &mut Decoder,
    frame: &Frame,
    scan: &Scan,
    pos: usize,
) -> Result<Reduced, JpegError> {
    d.budget.take(Output::bytes(frame, d.scale))?;
    let mut out = Output::new(frame, d.scale)?;
    let slots = scan
        .slots
        .iter()
        .map(|s| {
            let c = &frame.components[s.component];
            Ok(StreamSlot {
                component: s.component,
                dc: d.tables.dc_table(s.dc_table)?,
                ac: d.tables.ac_table(s.ac_table)?,
                quant: d.tables.latch_quant(c)?,
            })
        })
        .collect::<Result<_, JpegError>>()?;
    let mut sink = StreamSink {
        out: &mut out,
        slots,
        preds: [0; 4],
    };
    let mut r = BitReader::new(d.data, pos);
    walk_scan(
        frame,
        scan,
        d.tables.restart_interval,
        &mut r,
        d.cancelled,
        &mut sink,
    )?;
    Ok(out.finish())
}

// ---------------------------------------------------------------------------------------------
// Coefficient store (progressive and multi-scan sequential)

struct Plane {
    keep: usize,
    /// Blocks per row of the padded grid.
    stride: usize,
    /// `keep` quantized coefficients per block of the padded grid, zigzag order.
    coefs: Vec<i16>,
    /// Non-zero history per block, allocated with the component's first decoded AC scan.
    masks: Vec<u64>,
    /// Quantization table latched at the component's first scan.
    quant: Option<[i32; 64]>,
}

struct Store {
    planes: Vec<Plane>,
    /// Per scan, in file order from the first one: whether to decode it (`None`: decode all).
    needed: Option<Vec<bool>>,
    scans_seen: usize,
}

fn blocks(c: &Component) -> u64 {
    (c.stride as u64) * (c.rows as u64)
}

impl Store {
    fn bytes(frame: &Frame) -> u64 {
        let sizes = frame
            .components
            .iter()
            .map(|c| blocks(c) * (c.keep as u64) * 2);
        sizes.sum()
    }

    /// Allocates the coefficients; the caller has taken [`Store::bytes`] from the budget.
    fn new(frame: &Frame, needed: Option<Vec<bool>>) -> Result<Store, JpegError> {
        let planes = frame
            .components
            .iter()
            .map(|c| {
                Ok(Plane {
                    keep: c.keep,
                    stride: c.stride,
                    coefs: vec![0; to_usize(blocks(c) * c.keep as u64)?],
                    masks: Vec::new(),
                    quant: None,
                })
            })
            .collect::<Result<_, JpegError>>()?;
        Ok(Store {
            planes,
            needed,
            scans_seen: 0,
        })
    }
}

/// How a scan codes the blocks of one slot, with the tables it needs.
#[derive(Clone, Copy)]
enum Coding<'t> {
    Sequential {
        dc: &'t HuffTable,
        ac: &'t HuffTable,
    },
    DcFirst {
        dc: &'t HuffTable,
        al: u8,
    },
    DcRefine {
        al: u8,
    },
    AcFirst {
        ac: &'t HuffTable,
        band: Band,
        al: u8,
    },
    AcRefine {
        ac: &'t HuffTable,
        band: Band,
        al: u8,
    },
}

impl<'t> Coding<'t> {
    fn of(
        scan: &Scan,
        slot: &ScanSlot,
        tables: &'t Tables,
        progressive: bool,
    ) -> Result<Self, JpegError> {
        let band = Band {
            start: usize::from(scan.ss),
            end: usize::from(scan.se),
        };
        let (dc, ac, al) = (slot.dc_table, slot.ac_table, scan.al);
        Ok(match (progressive, scan.ss, scan.ah) {
            (false, ..) => Coding::Sequential {
                dc: tables.dc_table(dc)?,
                ac: tables.ac_table(ac)?,
            },
            (true, 0, 0) => Coding::DcFirst {
                dc: tables.dc_table(dc)?,
                al,
            },
            (true, 0, _) => Coding::DcRefine { al },
            (true, _, 0) => Coding::AcFirst {
                ac: tables.ac_table(ac)?,
                band,
                al,
            },
            (true, ..) => Coding::AcRefine {
                ac: tables.ac_table(ac)?,
                band,
                al,
            },
        })
    }
}

/// Decodes one block of a scan into its kept coefficients and non-zero history (`mask` is only
/// read and written by AC scans, which have masks allocated).
#[inline(always)]
fn decode_block(
    coding: Coding,
    r: &mut BitReader,
    coefs: &mut [i16],
    mask: &mut u64,
    pred: &mut i32,
    eobrun: &mut u32,
) -> Result<(), Broken> {
    match coding {
        Coding::Sequential { dc, ac } => decode_sequential(r, dc, ac, pred, coefs),
        Coding::DcFirst { dc, al } => decode_dc_first(r, dc, al, pred, coefs),
        Coding::DcRefine { al } => {
            decode_dc_refine(r, al, coefs);
            Ok(())
        }
        Coding::AcFirst { ac, band, al } => decode_ac_first(r, ac, band, al, eobrun, coefs, mask),
        Coding::AcRefine { ac, band, al } => decode_ac_refine(r, ac, band, al, eobrun, coefs, mask),
    }
}

/// A scan of one component into the store (every AC scan is one): a block row at a time, so
/// blocks are visited in memory order without per-block look-ups.
fn walk_component_scan(
    c: &Component,
    plane: &mut Plane,
    coding: Coding,
    interval: u16,
    r: &mut BitReader,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), JpegError> {
    let mut restarts = Restarts::new(interval);
    let (mut pred, mut eobrun) = (0, 0);
    let keep = plane.keep;
    let outside = || corrupt("a block lies outside the image");
    for row in 0..c.blocks_h {
        if cancelled() {
            return Err(JpegError::Cancelled);
        }
        let first = row * c.stride;
        let coefs = plane
            .coefs
            .get_mut(first * keep..(first + c.blocks_w) * keep)
            .ok_or_else(outside)?;
        let masks = plane.masks.get_mut(first..first + c.blocks_w);
        let mut masks = masks.into_iter().flatten();
        let mut no_history = 0;
        for block in coefs.chunks_exact_mut(keep) {
            let mask = masks.next().unwrap_or(&mut no_history);
            let unit = restarts.next_unit(r);
            if unit.restart {
                (pred, eobrun) = (0, 0);
            }
            if unit.present {
                decode_block(coding, r, block, mask, &mut pred, &mut eobrun)?;
            }
        }
    }
    Ok(())
}

struct StoreSink<'t, 's> {
    planes: &'s mut [Plane],
    /// Per scan slot: component index and coding.
    slots: Vec<(usize, Coding<'t>)>,
    preds: [i32; 4],
    eobrun: u32,
}

impl BlockSink for StoreSink<'_, '_> {
    fn block(&mut self, r: &mut BitReader, slot: usize, at: BlockAt) -> Result<(), Broken> {
        let (component, coding) = self.slots[slot];
        let plane = &mut self.planes[component];
        let block = at.row * plane.stride + at.col;
        let start = block * plane.keep;
        let coefs = plane.coefs.get_mut(start..start + plane.keep);
        let (Some(coefs), mask) = (coefs, plane.masks.get_mut(block)) else {
            return Err(Broken("a block lies outside the image"));
        };
        let mut no_history = 0;
        let mask = mask.unwrap_or(&mut no_history);
        decode_block(
            coding,
            r,
            coefs,
            mask,
            &mut self.preds[slot],
            &mut self.eobrun,
        )
    }

    fn missing(&mut self, _slot: usize, _at: BlockAt) {}

    fn reset(&mut self) {
        self.preds = [0; 4];
        self.eobrun = 0;
    }

    fn row_done(&mut self, _row: usize) {}
}

/// Decodes (or skips) one scan into the coefficient store; returns where parsing resumes.
fn decode_into_store(
    d: &mut Decoder,
    frame: &Frame,
    scan: &Scan,
    payload: &[u8],
    pos: usize,
) -> Result<usize, JpegError> {
    if d.store.is_none() {
        d.budget
            .take(Store::bytes(frame).saturating_add(Output::bytes(frame, d.scale)))?;
        let needed = if frame.progressive {
            plan_scans(d.data, payload, pos, frame)
        } else {
            None
        };
        d.store = Some(Store::new(frame, needed)?);
    }
    let Some(store) = d.store.as_mut() else {
        return Err(corrupt("internal: no coefficient store"));
    };
    let index = store.scans_seen;
    store.scans_seen += 1;
    if store.needed.as_ref().and_then(|n| n.get(index)) == Some(&false) {
        return Ok(scan_end(d.data, pos));
    }
    let mut slots = Vec::with_capacity(scan.slots.len());
    for s in &scan.slots {
        let c = &frame.components[s.component];
        let plane = &mut store.planes[s.component];
        if plane.quant.is_none() {
            plane.quant = Some(d.tables.latch_quant(c)?);
        }
        if frame.progressive && scan.ss > 0 && plane.masks.is_empty() {
            d.budget.take(blocks(c) * 8)?;
            plane.masks = vec![0; to_usize(blocks(c))?];
        }
        slots.push((
            s.component,
            Coding::of(scan, s, &d.tables, frame.progressive)?,
        ));
    }
    let mut r = BitReader::new(d.data, pos);
    let interval = d.tables.restart_interval;
    if let [(component, coding)] = slots.as_slice() {
        let (c, plane) = (&frame.components[*component], &mut store.planes[*component]);
        walk_component_scan(c, plane, *coding, interval, &mut r, d.cancelled)?;
    } else {
        let mut sink = StoreSink {
            planes: &mut store.planes,
            slots,
            preds: [0; 4],
            eobrun: 0,
        };
        walk_scan(frame, scan, interval, &mut r, d.cancelled, &mut sink)?;
    }
    Ok(scan_end(d.data, r.pos))
}

/// Turns the stored coefficients into pixels, MCU row by MCU row. The budget for the output was
/// taken with the store.
fn render(
    frame: &Frame,
    store: &Store,
    scale: usize,
    cancelled: &dyn Fn() -> bool,
) -> Result<Reduced, JpegError> {
    let mut out = Output::new(frame, scale)?;
    for my in 0..frame.mcus_y {
        if cancelled() {
            return Err(JpegError::Cancelled);
        }
        for (i, (c, plane)) in frame.components.iter().zip(&store.planes).enumerate() {
            // A component no scan mentioned stays at zero: flat mid-gray.
            let quant = plane.quant.unwrap_or([0; 64]);
            for row_in_mcu in 0..c.v {
                let row = my * c.v + row_in_mcu;
                for col in 0..c.stride {
                    let start = (row * c.stride + col) * c.keep;
                    let coefs = plane.coefs.get(start..start + c.keep).unwrap_or_default();
                    out.put_block(
                        i,
                        BlockAt {
                            col,
                            row,
                            row_in_mcu,
                        },
                        coefs,
                        &quant,
                    );
                }
            }
        }
        out.emit_rows(my);
    }
    Ok(out.finish())
}

// ---------------------------------------------------------------------------------------------
// Skipping progressive scans nobody needs

/// Walks the markers after the first progressive scan (`payload` is its header, `pos` its data)
/// and says for every scan whether its coefficients are needed: a scan is skipped when it only
/// touches coefficients outside the kept corner of its component and no later needed refinement
/// scan of that component reads the non-zero history of its band. `None` (decode everything)
/// when the markers cannot be walked.
fn plan_scans(data: &[u8], payload: &[u8], pos: usize, frame: &Frame) -> Option<Vec<bool>> {
    let mut scans = vec![Scan::parse(payload, frame).ok()?];
    let mut at = scan_end(data, pos);
    while let Some((marker, after)) = next_segment_marker(data, at) {
        match marker {
            0xD9 => break,
            0x01 | 0xD0..=0xD8 => at = after,
            _ => {
                let (payload, next) = segment(data, after).ok()?;
                at = next;
                if marker == 0xDA {
                    scans.push(Scan::parse(payload, frame).ok()?);
                    at = scan_end(data, at);
                }
            }
        }
    }
    let mut history_read = vec![0u64; frame.components.len()];
    let mut needed = vec![true; scans.len()];
    for (scan, need) in scans.iter().zip(&mut needed).rev() {
        let [slot] = scan.slots.as_slice() else {
            continue;
        };
        if scan.ss == 0 {
            continue;
        }
        let c = slot.component;
        let band = low_bits(usize::from(scan.se) + 1) & !low_bits(usize::from(scan.ss));
        *need = band & (frame.components[c].corner | history_read[c]) != 0;
        if *need && scan.ah > 0 {
            history_read[c] |= band;
        }
    }
    Some(needed)
}

// ---------------------------------------------------------------------------------------------
// Inverse DCT
//
// For an N-point output from the first N coefficients F(u) of an 8-point JPEG DCT:
//   f(x) = Σ_u ½·C(u)·F(u)·cos((2x+1)uπ / 2N),  C(0) = 1/√2, C(u>0) = 1,
// which for N = 8 is the JPEG IDCT and for smaller N keeps the block mean (N = 1: F(0)/8 in 2-D).
// Fixed point: the matrix is scaled by 2^12, the first pass keeps 2 fraction bits. With
// coefficients clamped to ±COEF_LIMIT every sum stays below 2^31.

struct Idct {
    /// Per log2(N): m[x][u] = round(2^12 · ½·C(u)·cos((2x+1)uπ / 2N)).
    m: [[[i32; 8]; 8]; 4],
}

impl Idct {
    fn new() -> Idct {
        let mut m = [[[0i32; 8]; 8]; 4];
        for (l, table) in m.iter_mut().enumerate() {
            let n = 1usize << l;
            for (x, row) in table.iter_mut().enumerate().take(n) {
                for (u, v) in row.iter_mut().enumerate().take(n) {
                    let c = if u == 0 {
                        std::f64::consts::FRAC_1_SQRT_2
                    } else {
                        1.0
                    };
                    let angle = ((2 * x + 1) * u) as f64 * std::f64::consts::PI / (2 * n) as f64;
                    *v = (4096.0 * 0.5 * c * angle.cos()).round() as i32;
                }
            }
        }
        Idct { m }
    }

    fn matrix(&self, n: usize) -> &[[i32; 8]; 8] {
        &self.m[n.trailing_zeros() as usize & 3]
    }

    /// The nx×ny corner of a block (`coefs`: quantized, zigzag order, missing ones zero) as
    /// `tile`: ny rows of nx pixels. The sizes become constants so the passes unroll.
    fn separable(
        &self,
        nx: usize,
        ny: usize,
        coefs: &[i16],
        quant: &[i32; 64],
        tile: &mut [u8; 64],
    ) {
        match nx {
            1 => self.separable_rows::<1>(ny, coefs, quant, tile),
            2 => self.separable_rows::<2>(ny, coefs, quant, tile),
            4 => self.separable_rows::<4>(ny, coefs, quant, tile),
            _ => self.separable_rows::<8>(ny, coefs, quant, tile),
        }
    }

    fn separable_rows<const NX: usize>(
        &self,
        ny: usize,
        coefs: &[i16],
        quant: &[i32; 64],
        tile: &mut [u8; 64],
    ) {
        match ny {
            1 => self.separable_sized::<NX, 1>(coefs, quant, tile),
            2 => self.separable_sized::<NX, 2>(coefs, quant, tile),
            4 => self.separable_sized::<NX, 4>(coefs, quant, tile),
            _ => self.separable_sized::<NX, 8>(coefs, quant, tile),
        }
    }

    fn separable_sized<const NX: usize, const NY: usize>(
        &self,
        coefs: &[i16],
        quant: &[i32; 64],
        tile: &mut [u8; 64],
    ) {
        let (mx, my) = (self.matrix(NX), self.matrix(NY));
        // Columns first: tmp[y][u], with 2 fraction bits.
        let mut tmp = [[0i32; 8]; 8];
        for u in 0..NX {
            let mut column = [0i32; 8];
            for (v, c) in column.iter_mut().enumerate().take(NY) {
                let k = usize::from(ZIGZAG_INDEX[v * 8 + u]);
                *c = coefs.get(k).map_or(0, |&q| dequantize(q, quant[k]));
            }
            let out = if column[1..NY].iter().all(|&c| c == 0) {
                [my[0][0] * column[0]; 8]
            } else {
                idct_1d::<NY>(my, &column)
            };
            for (row, &o) in tmp.iter_mut().zip(&out).take(NY) {
                row[u] = (o + (1 << 9)) >> 10;
            }
        }
        for (row, pixels) in tmp.iter().zip(tile.chunks_exact_mut(NX)).take(NY) {
            let out = idct_1d::<NX>(mx, row);
            for (p, &o) in pixels.iter_mut().zip(&out) {
                *p = clamp_u8((o + (128 << 14) + (1 << 13)) >> 14);
            }
        }
    }
}

/// A dequantized coefficient, clamped so the fixed-point IDCT cannot overflow.
fn dequantize(coef: i16, q: i32) -> i32 {
    (i32::from(coef) * q).clamp(-COEF_LIMIT, COEF_LIMIT)
}

/// One N-point pass over `input[..N]`, using out(N−1−x) = even(x) − odd(x) where
/// out(x) = even(x) + odd(x).
#[inline(always)]
fn idct_1d<const N: usize>(m: &[[i32; 8]; 8], input: &[i32; 8]) -> [i32; 8] {
    let mut out = [0i32; 8];
    if N == 1 {
        out[0] = m[0][0] * input[0];
        return out;
    }
    for x in 0..N / 2 {
        let (mut even, mut odd) = (0, 0);
        for h in 0..N / 2 {
            even += m[x][2 * h] * input[2 * h];
            odd += m[x][2 * h + 1] * input[2 * h + 1];
        }
        out[x] = even + odd;
        out[N - 1 - x] = even - odd;
    }
    out
}

/// Writes the nx×ny pixels of a block to `out` (rows `stride` apart) from its quantized zigzag
/// coefficients (a prefix covering the corner, or nothing: missing ones are zero). 1×1 and 2×2,
/// the common cases at 1/8 and 1/4, are written out.
fn reduced_block(
    idct: &Idct,
    (nx, ny): (usize, usize),
    coefs: &[i16],
    quant: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    let mut rows = out.chunks_mut(stride.max(1));
    match (nx, ny, coefs) {
        (1, 1, [dc, ..]) => {
            if let Some(p) = rows.next().and_then(|r| r.first_mut()) {
                *p = pixel_from_sum8(dequantize(*dc, quant[0]));
            }
        }
        (2, 2, [a, b, c, _, d, ..]) => {
            // Natural (0,0), (0,1), (1,0), (1,1) are zigzag 0, 1, 2, 4.
            let a = dequantize(*a, quant[0]);
            let (b, c, d) = (
                dequantize(*b, quant[1]),
                dequantize(*c, quant[2]),
                dequantize(*d, quant[4]),
            );
            let pixels = [
                [a + b + c + d, a - b + c - d],
                [a + b - c - d, a - b - c + d],
            ];
            for (row, sums) in rows.zip(pixels) {
                for (p, s) in row.iter_mut().zip(sums) {
                    *p = pixel_from_sum8(s);
                }
            }
        }
        // Only a DC (most chroma blocks of photos): a flat block, no transform needed.
        (_, _, [dc, ac @ ..]) if ac.iter().fold(0, |any, &c| any | c) == 0 => {
            let v = pixel_from_sum8(dequantize(*dc, quant[0]));
            for row in rows.take(ny) {
                row.iter_mut().take(nx).for_each(|p| *p = v);
            }
        }
        _ => {
            let mut tile = [0u8; 64];
            idct.separable(nx, ny, coefs, quant, &mut tile);
            for (row, src) in rows.zip(tile.chunks_exact(nx)).take(ny) {
                for (p, &v) in row.iter_mut().zip(src) {
                    *p = v;
                }
            }
        }
    }
}

/// A pixel from a 2-D sum that is 8× the sample (1×1 and 2×2 outputs).
fn pixel_from_sum8(s: i32) -> u8 {
    clamp_u8(((s + 4) >> 3) + 128)
}

// ---------------------------------------------------------------------------------------------
// Output: reduced blocks → one MCU row of samples per component → RGB or gray rows

struct RowPlane {
    nx: usize,
    ny: usize,
    ux: u32,
    uy: u32,
    keep: usize,
    /// Samples per row; the buffer holds one MCU row (v·ny rows).
    stride: usize,
    buf: Vec<u8>,
    /// One horizontally upsampled row, when ux > 0.
    line: Vec<u8>,
}

impl RowPlane {
    fn upsample_line(&mut self, local_row: usize) {
        if self.ux == 0 {
            return;
        }
        let start = (local_row >> self.uy) * self.stride;
        let src = self.buf.get(start..start + self.stride).unwrap_or_default();
        for (run, &s) in self.line.chunks_mut(1 << self.ux).zip(src) {
            run.fill(s);
        }
    }

    /// The samples of output row `local_row` of the MCU row (after [`RowPlane::upsample_line`]).
    fn line(&self, local_row: usize, width: usize) -> &[u8] {
        let samples = if self.ux == 0 {
            self.buf.get((local_row >> self.uy) * self.stride..)
        } else {
            Some(self.line.as_slice())
        };
        samples.and_then(|s| s.get(..width)).unwrap_or_default()
    }
}

struct Output {
    width: usize,
    height: usize,
    color: Color,
    rows_per_mcu: usize,
    planes: Vec<RowPlane>,
    pixels: Vec<u8>,
    idct: Idct,
}

impl Color {
    fn channels(self) -> usize {
        if self == Color::Gray { 1 } else { 3 }
    }
}

impl Output {
    /// Bytes of the output and row buffers.
    fn bytes(frame: &Frame, scale: usize) -> u64 {
        let pixels = (frame.out_width(scale) as u64)
            * (frame.out_height(scale) as u64)
            * (frame.color.channels() as u64);
        let rows: u64 = frame
            .components
            .iter()
            .map(|c| {
                let stride = (c.stride * c.nx) as u64;
                stride * (c.v * c.ny) as u64 + if c.ux > 0 { stride << c.ux } else { 0 }
            })
            .sum();
        pixels + rows
    }

    /// Allocates; the caller has taken [`Output::bytes`] from the budget.
    fn new(frame: &Frame, scale: usize) -> Result<Output, JpegError> {
        let (width, height) = (frame.out_width(scale), frame.out_height(scale));
        let planes = frame
            .components
            .iter()
            .map(|c| {
                let stride = c.stride * c.nx;
                RowPlane {
                    nx: c.nx,
                    ny: c.ny,
                    ux: c.ux,
                    uy: c.uy,
                    keep: c.keep,
                    stride,
                    buf: vec![0; stride * c.v * c.ny],
                    line: if c.ux > 0 {
                        vec![0; stride << c.ux]
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        let len = (width as u64) * (height as u64) * (frame.color.channels() as u64);
        Ok(Output {
            width,
            height,
            color: frame.color,
            rows_per_mcu: frame.rows_per_mcu,
            planes,
            pixels: vec![0; to_usize(len)?],
            idct: Idct::new(),
        })
    }

    /// Dequantizes and inverse-transforms one block (quantized coefficients in zigzag order, a
    /// prefix covering the corner or nothing) into the row buffer of `component`.
    fn put_block(&mut self, component: usize, at: BlockAt, coefs: &[i16], quant: &[i32; 64]) {
        let plane = &mut self.planes[component];
        let start = at.row_in_mcu * plane.ny * plane.stride + at.col * plane.nx;
        let out = plane.buf.get_mut(start..).unwrap_or_default();
        let size = (plane.nx, plane.ny);
        reduced_block(&self.idct, size, coefs, quant, out, plane.stride);
    }

    /// Colour-converts the output rows of MCU row `mcu_row` from the row buffers.
    fn emit_rows(&mut self, mcu_row: usize) {
        let y0 = mcu_row * self.rows_per_mcu;
        let y1 = (y0 + self.rows_per_mcu).min(self.height);
        let row_len = self.width * self.color.channels();
        for y in y0..y1 {
            let local = y - y0;
            for p in &mut self.planes {
                p.upsample_line(local);
            }
            let Some(out) = self.pixels.get_mut(y * row_len..(y + 1) * row_len) else {
                return;
            };
            let line = |i: usize| {
                self.planes
                    .get(i)
                    .map_or(&[][..], |p| p.line(local, self.width))
            };
            match self.color {
                Color::Gray => {
                    for (o, &s) in out.iter_mut().zip(line(0)) {
                        *o = s;
                    }
                }
                Color::YCbCr => ycc_to_rgb(out, line(0), line(1), line(2)),
                Color::Rgb => {
                    for (px, ((&r, &g), &b)) in out
                        .chunks_exact_mut(3)
                        .zip(line(0).iter().zip(line(1)).zip(line(2)))
                    {
                        px.copy_from_slice(&[r, g, b]);
                    }
                }
            }
        }
    }

    fn finish(self) -> Reduced {
        Reduced {
            width: self.width as u32,
            height: self.height as u32,
            channels: self.color.channels() as u8,
            pixels: self.pixels,
        }
    }
}

/// JFIF (full-range BT.601) YCbCr → RGB, 16-bit fixed point.
fn ycc_to_rgb(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    for (px, ((&y, &cb), &cr)) in out.chunks_exact_mut(3).zip(y.iter().zip(cb).zip(cr)) {
        let y = i32::from(y);
        let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
        let r = y + ((91_881 * cr + 32_768) >> 16);
        let g = y + ((-22_554 * cb - 46_802 * cr + 32_768) >> 16);
        let b = y + ((116_130 * cb + 32_768) >> 16);
        px.copy_from_slice(&[clamp_u8(r), clamp_u8(g), clamp_u8(b)]);
    }
}

// ---------------------------------------------------------------------------------------------
// Marker parsing

/// The next marker at or after `from` (skipping stray bytes and fill 0xFFs): its code and the
/// position right after it.
fn next_segment_marker(data: &[u8], from: usize) -> Option<(u8, usize)> {
    let mut i = from;
    loop {
        i += data.get(i..)?.iter().position(|&b| b == 0xFF)?;
        let mut j = i + 1;
        while data.get(j) == Some(&0xFF) {
            j += 1;
        }
        match *data.get(j)? {
            0 => i = j + 1,
            m => return Some((m, j + 1)),
        }
    }
}

/// The payload of the marker segment whose length field is at `at`, and the position after it.
fn segment(data: &[u8], at: usize) -> Result<(&[u8], usize), JpegError> {
    let cut = || corrupt("a marker segment is cut off");
    let len = data
        .get(at..at + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or_else(cut)?;
    let end = at + len.max(2);
    let payload = data.get(at + 2..end).ok_or_else(cut)?;
    Ok((payload, end))
}

struct Decoder<'a> {
    data: &'a [u8],
    scale: usize,
    budget: Budget,
    cancelled: &'a dyn Fn() -> bool,
    tables: Tables,
    frame: Option<Frame>,
    store: Option<Store>,
}

impl Decoder<'_> {
    fn run(mut self) -> Result<Reduced, JpegError> {
        if !self.data.starts_with(&[0xFF, 0xD8]) {
            return Err(corrupt("not a JPEG (no start-of-image marker)"));
        }
        let mut pos = 2;
        while let Some((marker, after)) = next_segment_marker(self.data, pos) {
            pos = after;
            match marker {
                0xD9 => break,
                // Markers without a segment: TEM, stray RSTn, a repeated SOI.
                0x01 | 0xD0..=0xD8 => continue,
                _ => {}
            }
            let (payload, next) = segment(self.data, pos)?;
            pos = next;
            match marker {
                0xC0..=0xC2 => self.read_frame(marker, payload)?,
                0xC3 => return Err(JpegError::Unsupported("lossless JPEG")),
                0xC5..=0xC7 | 0xDE | 0xDF => {
                    return Err(JpegError::Unsupported("hierarchical JPEG"));
                }
                0xC9..=0xCF => return Err(JpegError::Unsupported("arithmetic coding")),
                0xDC => return Err(JpegError::Unsupported("height given by a DNL marker")),
                0xC4 => self.tables.read_huffman(payload)?,
                0xDB => self.tables.read_quant(payload)?,
                0xDD => self.tables.read_restart_interval(payload)?,
                0xE0..=0xEF => self.tables.read_app(marker, payload),
                0xDA => match self.scan(payload, pos)? {
                    ScanOutcome::Finished(image) => return Ok(image),
                    ScanOutcome::ResumeAt(next) => pos = next,
                },
                _ => {}
            }
        }
        let frame = self
            .frame
            .ok_or_else(|| corrupt("there is no frame header"))?;
        let store = self
            .store
            .ok_or_else(|| corrupt("there is no image data"))?;
        render(&frame, &store, self.scale, self.cancelled)
    }

    fn read_frame(&mut self, marker: u8, payload: &[u8]) -> Result<(), JpegError> {
        if self.frame.is_some() {
            return Err(corrupt("there are two frame headers"));
        }
        self.frame = Some(Frame::parse(marker, payload, self.scale, &self.tables)?);
        Ok(())
    }

    fn scan(&mut self, payload: &[u8], pos: usize) -> Result<ScanOutcome, JpegError> {
        let frame = self
            .frame
            .take()
            .ok_or_else(|| corrupt("a scan comes before the frame header"))?;
        let result = self.scan_with(&frame, payload, pos);
        self.frame = Some(frame);
        result
    }

    fn scan_with(
        &mut self,
        frame: &Frame,
        payload: &[u8],
        pos: usize,
    ) -> Result<ScanOutcome, JpegError> {
        let scan = Scan::parse(payload, frame)?;
        let single_scan = !frame.progressive
            && self.store.is_none()
            && scan.slots.len() == frame.components.len();
        if single_scan {
            decode_streaming(self, frame, &scan, pos).map(ScanOutcome::Finished)
        } else {
            decode_into_store(self, frame, &scan, payload, pos).map(ScanOutcome::ResumeAt)
        }
    }
}

enum ScanOutcome {
    /// A single-scan sequential image, complete.
    Finished(Reduced),
    /// The scan went into the coefficient store; parsing resumes at this position.
    ResumeAt(usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::Cursor;

    const MAX_ALLOC: u64 = 64 << 20;
    const SCALES: [u32; 3] = [2, 4, 8];

    /// Every fixture this decoder must handle (tests/fixtures/jpeg/README.md says how each was made).
    const SUPPORTED: &[&str] = &[
        "base_444",
        "base_420",
        "base_422",
        "base_440",
        "base_411",
        "base_gray",
        "odd_37x23_420",
        "odd_17x9_422",
        "odd_8x8_444",
        "odd_1x1_420",
        "restart_1row_420",
        "restart_3b_444",
        "optimized_420",
        "rgb_adobe",
        "smooth_420",
        "smooth_422",
        "smooth_411",
        "prog_444",
        "prog_420",
        "prog_411",
        "prog_gray",
        "prog_37x23_420",
        "prog_restart_420",
        "prog_custom_420",
        "seq_multiscan_420",
    ];

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/jpeg/{name}.jpg",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn decode(bytes: &[u8], scale: u32) -> Result<Reduced, JpegError> {
        decode_reduced(bytes, scale, MAX_ALLOC, &|| false)
    }

    fn decode_ok(name: &str, scale: u32) -> Reduced {
        decode(&fixture(name), scale).unwrap_or_else(|e| panic!("{name} at 1/{scale}: {e}"))
    }

    /// jpeg-decoder 0.3 at 1/`scale` (1: full size), the way the app calls it.
    fn reference(bytes: &[u8], scale: u32) -> Reduced {
        let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
        d.read_info().expect("jpeg-decoder reads the header");
        let info = d.info().expect("info");
        let (mut w, mut h) = (u32::from(info.width), u32::from(info.height));
        if scale > 1 {
            let asked = (w.div_ceil(scale) as u16, h.div_ceil(scale) as u16);
            let (sw, sh) = d.scale(asked.0, asked.1).expect("scale");
            (w, h) = (u32::from(sw), u32::from(sh));
        }
        let pixels = d.decode().expect("jpeg-decoder decodes");
        let channels = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => 1,
            jpeg_decoder::PixelFormat::RGB24 => 3,
            other => panic!("unexpected format {other:?}"),
        };
        Reduced {
            width: w,
            height: h,
            channels,
            pixels,
        }
    }

    /// `full` shrunk by averaging scale×scale boxes (clipped at the right and bottom edges).
    fn box_average(full: &Reduced, scale: u32) -> Vec<u8> {
        let (w, h) = (full.width as usize, full.height as usize);
        let (c, s) = (usize::from(full.channels), scale as usize);
        let mut out = Vec::new();
        for oy in 0..h.div_ceil(s) {
            for ox in 0..w.div_ceil(s) {
                for ch in 0..c {
                    let (mut sum, mut n) = (0u32, 0u32);
                    for y in oy * s..((oy + 1) * s).min(h) {
                        for x in ox * s..((ox + 1) * s).min(w) {
                            sum += u32::from(full.pixels[(y * w + x) * c + ch]);
                            n += 1;
                        }
                    }
                    out.push(((sum + n / 2) / n) as u8);
                }
            }
        }
        out
    }

    /// Mean absolute difference per channel (unused channels 0) and the largest difference.
    fn differences(a: &[u8], b: &[u8], channels: usize) -> ([f64; 3], u8) {
        assert_eq!(a.len(), b.len(), "pixel buffers differ in length");
        let mut sums = [0u64; 3];
        let mut max = 0u8;
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            let d = x.abs_diff(y);
            sums[i % channels] += u64::from(d);
            max = max.max(d);
        }
        let n = (a.len() / channels).max(1) as f64;
        (sums.map(|s| s as f64 / n), max)
    }

    fn subsampled(name: &str) -> bool {
        ["420", "422", "440", "411"]
            .iter()
            .any(|s| name.ends_with(s))
    }

    /// BT.601 luma of each pixel (the samples themselves for gray).
    fn luma(r: &Reduced) -> Vec<u8> {
        if r.channels == 1 {
            return r.pixels.clone();
        }
        let y = |p: &[u8]| {
            (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8
        };
        r.pixels.chunks_exact(3).map(|p| y(p) as u8).collect()
    }

    /// A tiny deterministic generator (xorshift64).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Position of the payload of the first marker segment `marker` (after its length field).
    fn segment_at(bytes: &[u8], marker: u8) -> usize {
        let mut pos = 2;
        while let Some((m, after)) = next_segment_marker(bytes, pos) {
            if m == marker {
                return after + 2;
            }
            pos = segment(bytes, after).expect("segment").1;
        }
        panic!("no marker {marker:#x}");
    }

    /// A file that is only an SOI and a frame header with `payload`.
    fn with_frame(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() + 2) as u16;
        let mut bytes = vec![0xFF, 0xD8, 0xFF, marker];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn zigzag_order_is_the_standard_one() {
        assert_eq!(ZIGZAG[..10], [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
        assert_eq!(ZIGZAG[58..], [53, 60, 61, 54, 47, 55, 62, 63][2..]);
        let mut seen = [false; 64];
        for &n in &ZIGZAG {
            seen[usize::from(n)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn keeps_only_the_coefficients_of_the_reduced_corner() {
        // 4000x3000, 4:2:0 (Y 2x2, Cb/Cr 1x1) and 4:2:2 (Y 2x1).
        let frame = |sampling: u8, scale| {
            let mut p = vec![8, 0x0B, 0xB8, 0x0F, 0xA0, 3];
            p.extend_from_slice(&[1, sampling, 0, 2, 0x11, 1, 3, 0x11, 1]);
            Frame::parse(0xC2, &p, scale, &Tables::default()).expect("frame")
        };
        let geometry = |f: &Frame, i: usize| {
            let c = &f.components[i];
            (c.nx, c.ny, c.ux, c.uy, c.keep)
        };
        let f = frame(0x22, 4);
        assert_eq!(geometry(&f, 0), (2, 2, 0, 0, 5)); // zigzag 0, 1, 2, 4
        assert_eq!(geometry(&f, 1), (4, 4, 0, 0, 25));
        let f = frame(0x22, 8);
        assert_eq!(geometry(&f, 0), (1, 1, 0, 0, 1));
        assert_eq!(geometry(&f, 1), (2, 2, 0, 0, 5));
        let f = frame(0x22, 2);
        assert_eq!(geometry(&f, 1), (8, 8, 0, 0, 64));
        let f = frame(0x21, 4);
        assert_eq!(geometry(&f, 1), (4, 2, 0, 0, 14)); // natural (row 1, col 3) is zigzag 13
        let f = frame(0x41, 2); // 4:1:1 at 1/2: chroma would need a 16-wide IDCT
        assert_eq!(geometry(&f, 1), (8, 4, 1, 0, 54)); // natural (3, 7) is zigzag 53
        // A 4:4:4 progressive 4000x3000 at 1/4: 5 coefficients and a mask per block, not 64.
        let f = frame(0x11, 4);
        let masks: u64 = f.components.iter().map(|c| blocks(c) * 8).sum();
        let total = Store::bytes(&f) + masks + Output::bytes(&f, 4);
        assert!(total < 13 << 20, "{total} bytes");
    }

    /// The fixed-point reduced IDCT against the formula in floating point, for every size pair.
    #[test]
    fn reduced_idct_matches_the_formula() {
        let idct = Idct::new();
        let quant = [1i32; 64];
        let mut rng = XorShift(0x1234_5678);
        for nx in [1, 2, 4, 8] {
            for ny in [1, 2, 4, 8] {
                let corner: Vec<usize> = (0..64).filter(|k| corner(nx, ny) >> k & 1 == 1).collect();
                for _ in 0..50 {
                    let mut coefs = [0i16; 64];
                    for &k in &corner {
                        // DC around the middle, AC falling off with frequency.
                        coefs[k] = (rng.below(600) as i16 - 300) / (1 + k as i16 / 4);
                    }
                    let mut tile = [0u8; 64];
                    reduced_block(&idct, (nx, ny), &coefs, &quant, &mut tile, nx);
                    for y in 0..ny {
                        for x in 0..nx {
                            let mut sum = 0.0;
                            for &k in &corner {
                                let n = usize::from(ZIGZAG[k]);
                                let (u, v) = (n % 8, n / 8);
                                let c = |f: usize| if f == 0 { 0.5f64.sqrt() } else { 1.0 };
                                let pi = std::f64::consts::PI;
                                sum += 0.25
                                    * c(u)
                                    * c(v)
                                    * f64::from(coefs[k])
                                    * (((2 * x + 1) * u) as f64 * pi / (2 * nx) as f64).cos()
                                    * (((2 * y + 1) * v) as f64 * pi / (2 * ny) as f64).cos();
                            }
                            let want = (sum + 128.0).round().clamp(0.0, 255.0);
                            let got = f64::from(tile[y * nx + x]);
                            assert!(
                                (got - want).abs() <= 1.0,
                                "{nx}x{ny} ({x},{y}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Against jpeg-decoder at the same scale. Both do DCT-domain scaling of full-resolution
    /// components, so 4:4:4, gray and RGB files agree to rounding. Measured (mean per channel,
    /// max): 1/2 ≤ 0.12, 3; 1/4 ≤ 0.02, 1; 1/8 ≤ 1.2, 3 (jpeg-decoder rounds its 1×1 IDCT
    /// differently: ours equals djpeg -scale 1/8 exactly there). A chroma difference of 1 moves
    /// blue by up to 2, hence the max of 3.
    ///
    /// Subsampled chroma is where they part: jpeg-decoder inverse-transforms chroma at the luma's
    /// reduced size and upsamples it, which at 1/4 and 1/8 visibly washes the colours out (blue
    /// channel of base_420 at 1/8: mean 31 from the box-averaged full decode, ours 5.5; ours is
    /// within 4.8 of libjpeg-turbo's djpeg, which, like us, gives chroma a larger IDCT). So for
    /// those only luma is compared, recomputed from RGB: measured mean ≤ 0.6, max 17, the max from
    /// pixels where the two decoders' different chroma clamps R, G or B differently.
    #[test]
    fn agrees_with_jpeg_decoder() {
        for name in SUPPORTED {
            let bytes = fixture(name);
            for scale in SCALES {
                let ours = decode_ok(name, scale);
                let theirs = reference(&bytes, scale);
                let what = format!("{name} at 1/{scale}");
                assert_eq!(
                    (ours.width, ours.height, ours.channels),
                    (theirs.width, theirs.height, theirs.channels),
                    "{what}"
                );
                let (mean, max) = differences(&luma(&ours), &luma(&theirs), 1);
                assert!(
                    mean[0] <= 1.0 && max <= 20,
                    "{what}: luma mean {mean:.2?} max {max}"
                );
                if !subsampled(name) {
                    let (mean, max) =
                        differences(&ours.pixels, &theirs.pixels, usize::from(ours.channels));
                    // A mean over a handful of pixels is no mean (8x8 at 1/8 is one pixel).
                    let few = ours.width * ours.height < 16;
                    let mean_ok = few || mean.iter().all(|&m| m <= 1.5);
                    assert!(mean_ok && max <= 3, "{what}: {mean:.2?} max {max}");
                }
            }
        }
    }

    /// Against jpeg-decoder's full-size decode box-averaged by the scale: catches a wrongly scaled
    /// or misplaced IDCT (including chroma, which the test above leaves out for subsampled files).
    /// Measured means per channel, over outputs of at least 16 pixels:
    /// - 1/8: every block becomes its DC, which is exactly the block mean: ≤ 0.47 for
    ///   full-resolution components; ≤ 6.33 with subsampled chroma (a 2×2 IDCT over 16×16 pixels
    ///   is not a box filter at hard colour edges; jpeg-decoder: up to 36).
    /// - 1/2 and 1/4: the N-point IDCT of the low frequencies is not a box filter either, it keeps
    ///   more contrast at edges and fine stripes: ≤ 12.15 on the noisy, stripy fixtures
    ///   (jpeg-decoder shows the same figures for 4:4:4), but ≤ 1.67 on the smooth ones.
    ///
    /// The largest single difference is 57. Tinier outputs (8x8 at 1/4 is 4 pixels) are only held
    /// to that.
    #[test]
    fn agrees_with_box_averaged_full_decode() {
        for name in SUPPORTED {
            let bytes = fixture(name);
            let full = reference(&bytes, 1);
            for scale in SCALES {
                let ours = decode_ok(name, scale);
                let c = usize::from(ours.channels);
                let (mean, max) = differences(&ours.pixels, &box_average(&full, scale), c);
                let bound = match (scale, subsampled(name), name.starts_with("smooth")) {
                    _ if ours.width * ours.height < 16 => f64::INFINITY,
                    (8, false, _) => 1.0,
                    (8, true, _) => 7.0,
                    (_, _, true) => 2.0,
                    _ => 13.0,
                };
                let what = format!("{name} at 1/{scale}: mean {mean:.2?}, max {max}");
                assert!(mean.iter().all(|&m| m <= bound) && max <= 60, "{what}");
            }
        }
    }

    /// jpegtran's rewrites keep the quantized coefficients, so every decode must be byte-identical
    /// to the baseline's (this also checks the skipped scans were not needed).
    #[test]
    fn progressive_and_multi_scan_files_decode_like_their_baseline() {
        let pairs = [
            ("prog_444", "base_444"),
            ("prog_420", "base_420"),
            ("prog_411", "base_411"),
            ("prog_gray", "base_gray"),
            ("prog_37x23_420", "odd_37x23_420"),
            ("prog_restart_420", "base_420"),
            ("prog_custom_420", "base_420"),
            ("seq_multiscan_420", "base_420"),
        ];
        for (variant, baseline) in pairs {
            for scale in SCALES {
                let (a, b) = (decode_ok(variant, scale), decode_ok(baseline, scale));
                assert_eq!(
                    (a.width, a.height, a.channels),
                    (b.width, b.height, b.channels)
                );
                assert!(
                    a.pixels == b.pixels,
                    "{variant} differs from {baseline} at 1/{scale}"
                );
            }
        }
    }

    #[test]
    fn scans_outside_the_kept_corner_are_skipped() {
        let plan = |name: &str, scale| {
            let bytes = fixture(name);
            let sof = segment_at(&bytes, 0xC2);
            let len = usize::from(u16::from_be_bytes([bytes[sof - 2], bytes[sof - 1]]));
            let frame = Frame::parse(0xC2, &bytes[sof..sof + len - 2], scale, &Tables::default())
                .expect("frame");
            let sos = segment_at(&bytes, 0xDA);
            let len = usize::from(u16::from_be_bytes([bytes[sos - 2], bytes[sos - 1]]));
            plan_scans(&bytes, &bytes[sos..sos + len - 2], sos + len - 2, &frame).expect("plan")
        };
        // libjpeg's default script for 4:2:0 (see the README): DC, Y 1-5, Cr 1-63, Cb 1-63,
        // Y 6-63, Y 1-63 refine, DC refine, Cr, Cb, Y refinements. At 1/8 luma keeps only its DC.
        let (t, f) = (true, false);
        assert_eq!(plan("prog_420", 8), [t, f, t, t, f, f, t, t, t, f]);
        // At 1/4 luma keeps zigzag 0..=4: 1-5 is needed, and 6-63 because the 1-63 refinements
        // (needed) read its non-zero history.
        assert_eq!(plan("prog_420", 4), [t; 10]);
        // The custom script: Y 10-63 and its refinement only touch dropped coefficients at 1/4.
        let custom = plan("prog_custom_420", 4);
        assert_eq!(custom, [t, t, t, f, t, t, t, t, f, t, t, t, f, t]);
    }

    #[test]
    fn adobe_transform_zero_means_rgb_without_conversion() {
        // cjpeg -rgb writes component ids 'R', 'G', 'B' and an Adobe marker with transform 0.
        // With ids 1, 2, 3 only the Adobe marker says RGB.
        let original = fixture("rgb_adobe");
        let mut patched = original.clone();
        let sof = segment_at(&patched, 0xC0);
        let sos = segment_at(&patched, 0xDA);
        for (i, id) in [1u8, 2, 3].into_iter().enumerate() {
            patched[sof + 6 + 3 * i] = id;
            patched[sos + 1 + 2 * i] = id;
        }
        for scale in SCALES {
            let (a, b) = (decode(&original, scale), decode(&patched, scale));
            let (a, b) = (a.expect("original"), b.expect("patched"));
            assert!(a.pixels == b.pixels, "1/{scale}");
        }
    }

    #[test]
    fn unsupported_features_are_reported_as_such() {
        let unsupported =
            |bytes: &[u8], scale| matches!(decode(bytes, scale), Err(JpegError::Unsupported(_)));
        assert!(unsupported(&fixture("arith_420"), 4));
        let base = fixture("base_420");
        for scale in [0, 1, 3, 16] {
            assert!(unsupported(&base, scale), "scale {scale}");
        }
        let gray = [8, 0, 16, 0, 16, 1, 1, 0x11, 0];
        let cmyk = [
            8, 0, 16, 0, 16, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
        ];
        let twelve_bit = [12, 0, 16, 0, 16, 1, 1, 0x11, 0];
        let dnl = [8, 0, 0, 0, 16, 1, 1, 0x11, 0];
        let three_to_one = [8, 0, 16, 0, 16, 3, 1, 0x31, 0, 2, 0x11, 0, 3, 0x11, 0];
        for (what, bytes) in [
            ("cmyk", with_frame(0xC0, &cmyk)),
            ("12-bit", with_frame(0xC1, &twelve_bit)),
            ("dnl", with_frame(0xC0, &dnl)),
            ("3:1 sampling", with_frame(0xC0, &three_to_one)),
            ("lossless", with_frame(0xC3, &gray)),
            ("hierarchical", with_frame(0xC5, &gray)),
            ("arithmetic", with_frame(0xC9, &gray)),
        ] {
            assert!(unsupported(&bytes, 4), "{what}");
        }
    }

    #[test]
    fn broken_structure_is_corrupt() {
        let corrupt = |bytes: &[u8]| matches!(decode(bytes, 4), Err(JpegError::Corrupt(_)));
        assert!(corrupt(b""));
        assert!(corrupt(b"\x89PNG\r\n\x1a\n"));
        assert!(corrupt(&[0xFF, 0xD8, 0xFF, 0xD9])); // no frame
        assert!(corrupt(&with_frame(
            0xC0,
            &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]
        ))); // no scan
        // A scan that names Huffman tables 3/3, which the file never defines.
        let mut bytes = fixture("base_420");
        let sos = segment_at(&bytes, 0xDA);
        bytes[sos + 2] = 0x33;
        assert!(corrupt(&bytes));
        // A frame header that uses quantization table 3 (undefined).
        let mut bytes = fixture("prog_420");
        let sof = segment_at(&bytes, 0xC2);
        bytes[sof + 8] = 3;
        assert!(corrupt(&bytes));
        // The same frame header twice.
        let bytes = fixture("base_gray");
        let sof = segment_at(&bytes, 0xC0);
        let doubled = [&bytes[..sof + 9], &bytes[sof - 4..]].concat();
        assert!(corrupt(&doubled));
    }

    /// Truncated at many lengths and with random byte changes, every fixture decodes or fails,
    /// never panics (with `cargo test` in a debug build, overflow would panic too).
    #[test]
    fn truncated_and_damaged_files_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut names = SUPPORTED.to_vec();
        names.push("arith_420");
        let mut decoded = 0;
        for name in names {
            let bytes = fixture(name);
            let step = (bytes.len() / 120).max(1);
            for len in (0..bytes.len()).step_by(step) {
                let _ = decode(&bytes[..len], SCALES[len % 3]);
                decoded += 1;
            }
            for round in 0..120 {
                let mut damaged = bytes.clone();
                for _ in 0..1 + round % 4 {
                    let at = rng.below(damaged.len());
                    damaged[at] ^= 1 + rng.below(255) as u8;
                }
                let _ = decode(&damaged, SCALES[round % 3]);
                decoded += 1;
            }
        }
        assert!(decoded > 5_000);
        // A file cut in its entropy data still gives the picture (missing rows mid-gray-ish).
        let bytes = fixture("base_420");
        let cut = decode(&bytes[..bytes.len() * 3 / 4], 4).expect("truncated decode");
        assert_eq!((cut.width, cut.height), (24, 16));
    }

    #[test]
    fn a_lost_restart_marker_costs_only_nearby_blocks() {
        // restart_3b_444: an RST after every 3 MCUs (8x8 pixels each, 12 MCUs per row).
        let bytes = fixture("restart_3b_444");
        let rst: Vec<usize> = (segment_at(&bytes, 0xDA)..bytes.len() - 1)
            .filter(|&i| bytes[i] == 0xFF && (0xD0..=0xD7).contains(&bytes[i + 1]))
            .collect();
        assert!(rst.len() > 20);
        let damaged = [&bytes[..rst[10]], &bytes[rst[10] + 2..]].concat();
        let (good, bad) = (
            decode(&bytes, 8).expect("intact"),
            decode(&damaged, 8).expect("damaged"),
        );
        // At 1/8 a block is a pixel: 12x8 pixels, intervals of 3. Interval 11 ran into interval
        // 12's data and interval 12 is skipped (left mid-gray); everything else is intact.
        let differing: Vec<usize> = (0..good.pixels.len() / 3)
            .filter(|&p| good.pixels[3 * p..3 * p + 3] != bad.pixels[3 * p..3 * p + 3])
            .collect();
        assert!(!differing.is_empty());
        assert!(
            differing.iter().all(|&p| (33..39).contains(&p)),
            "{differing:?}"
        );
    }

    #[test]
    fn a_huge_declared_size_is_too_large_before_allocating() {
        for name in ["base_420", "prog_420"] {
            let mut bytes = fixture(name);
            let sof = segment_at(&bytes, if name == "base_420" { 0xC0 } else { 0xC2 });
            bytes[sof + 1..sof + 5].copy_from_slice(&[0xFF; 4]);
            for scale in SCALES {
                let result = decode_reduced(&bytes, scale, 64 << 20, &|| false);
                assert_eq!(
                    result.err(),
                    Some(JpegError::TooLarge),
                    "{name} at 1/{scale}"
                );
            }
        }
        // The budget counts the output too: 24x16 RGB is 1,152 bytes.
        let bytes = fixture("base_444");
        let result = decode_reduced(&bytes, 4, 1_000, &|| false);
        assert_eq!(result.err(), Some(JpegError::TooLarge));
        assert!(decode_reduced(&bytes, 4, 4_000, &|| false).is_ok());
    }

    #[test]
    fn cancellation_stops_the_decode() {
        for name in ["base_420", "prog_420", "prog_gray"] {
            let bytes = fixture(name);
            let now = decode_reduced(&bytes, 4, MAX_ALLOC, &|| true);
            assert_eq!(now.err(), Some(JpegError::Cancelled), "{name}");
            // Cancelled after a few polls: in the middle of the work.
            let polls = Cell::new(0);
            let later = decode_reduced(&bytes, 4, MAX_ALLOC, &|| {
                polls.set(polls.get() + 1);
                polls.get() > 3
            });
            assert_eq!(later.err(), Some(JpegError::Cancelled), "{name}");
        }
    }

    #[test]
    fn reduction_matches_jpeg_decoder_for_boxes_with_the_pictures_shape() {
        assert_eq!(reduction_for((4000, 3000), (800, 600)), 4);
        assert_eq!(reduction_for((4000, 3000), (1000, 750)), 4);
        assert_eq!(reduction_for((4000, 3000), (1001, 750)), 2);
        assert_eq!(reduction_for((1600, 1200), (800, 600)), 2);
        assert_eq!(reduction_for((1200, 900), (800, 600)), 1);
        assert_eq!(reduction_for((4001, 3001), (10, 10)), 8);
        // jpeg-decoder asks for the box on one side only; for boxes with the picture's aspect
        // ratio (what the caller passes) the output sizes agree.
        let bytes = fixture("base_444"); // 96x64
        for k in 1u32..=48 {
            let fit = (2 * k, (4 * k).div_ceil(3));
            let s = reduction_for((96, 64), fit);
            if s == 1 {
                continue;
            }
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(&bytes));
            let theirs = d.scale(fit.0 as u16, fit.1 as u16).expect("scale");
            let ours = decode(&bytes, s).expect("decode");
            assert_eq!(
                (ours.width as u16, ours.height as u16),
                theirs,
                "box {fit:?}"
            );
        }
    }
}
