//! A JPEG decoder that decodes straight to m/8 of the original size (m = 1..8).
//!
//! A preview never needs a 12-megapixel photo at full size. A JPEG stores every 8×8 block as DCT
//! coefficients, and the top-left m×m of them are (up to a constant) the DCT of the block shrunk to
//! m×m. An m-point inverse DCT of that corner therefore gives the reduced block directly
//! ("DCT-domain scaling", as libjpeg's scaled decoding), and every other coefficient is decoded
//! only to be thrown away. The app asks for the smallest m whose result still covers the preview
//! box, then resizes the rest of the way: a 1200×900 photo for an 800×600 box is decoded at 6/8.
//!
//! What is kept in memory:
//! - A sequential JPEG whose one scan holds every component (nearly every baseline file) is decoded
//!   MCU row by MCU row: each block is entropy-decoded into a small array, the coefficients of the
//!   corner are dequantized and inverse-transformed into a row buffer one MCU row tall, and that
//!   row is colour-converted into the output. Besides the output, memory is a few rows. For a
//!   large picture on a machine with two cores, the entropy decoding and the rest run on two
//!   threads, a few MCU rows apart (see `decode_two_threads`).
//! - A progressive JPEG refines every block over several scans, so coefficients live until the last
//!   scan. Per block we keep only the zigzag prefix that covers the m×m corner (1, 5, 25 or 52
//!   `i16`s at 1/8, 2/8, 4/8, 6/8 of a full-resolution component), plus a `u64` with one bit per
//!   coefficient saying whether it is non-zero: an AC refinement scan must know that for every
//!   coefficient of its band, also the ones we drop. A 4000×3000 4:4:4 progressive JPEG at 1/4 thus
//!   needs about 10 MB instead of 72 MB. Sequential files split into several scans take this path too.
//!   Once the last scan is in, the stored blocks are painted MCU row by MCU row, on two threads for
//!   a large picture (each takes the next row; the second thread's row buffers count against the
//!   memory limit, and only the calling thread asks whether the job was cancelled; see `render`).
//! - Before the first progressive scan, the markers are walked once to find scans that only touch
//!   dropped coefficients and whose non-zero history no later needed refinement scan reads; their
//!   entropy data is skipped undecoded (at 1/8 that is every AC scan of a full-resolution component).
//!
//! A subsampled component (chroma in 4:2:0) covers more pixels per block, so it gets a larger IDCT
//! (up to 16×16: its 8×8 coefficients interpolated by their own cosine series) rather than being
//! upsampled afterwards. Only when that would exceed 16 (4:1:1 above 4/8) is the rest made up by
//! repeating samples (nearest neighbour).
//!
//! The IDCT is a matrix product in `f32`, written so the compiler vectorises it; on x86-64 with
//! AVX2 and FMA a copy compiled for them is chosen at run time (the only `unsafe` here).
//!
//! Entropy decoding: a 64-bit bit buffer refilled up to 8 bytes at a time (byte by byte only near an
//! 0xFF), a 10-bit look-up table giving symbol and code length, and a second one that decodes a
//! short code together with its extra bits (DC difference, or AC run and value, or EOB) at once.
//!
//! Not handled (`Unsupported`, the caller uses another decoder): arithmetic coding, lossless and
//! hierarchical JPEG, 12-bit samples, 2 or 4 components (CMYK, YCCK), DNL, sampling ratios that are
//! not powers of two. Reference: ITU-T T.81.

use thiserror::Error;

/// Pixels decoded at a reduced (or the full) size.
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

/// The size to decode at so the result is at least `at_least` on both sides, in eighths of the
/// original: the smallest m in 1..=8 with ceil(w·m/8) >= at_least.0 and ceil(h·m/8) >= at_least.1,
/// or 8 (full size) when none is smaller.
pub fn eighths_for(original: (u32, u32), at_least: (u32, u32)) -> u32 {
    (1..8)
        .find(|&m| {
            scaled_side(original.0, m) >= at_least.0 && scaled_side(original.1, m) >= at_least.1
        })
        .unwrap_or(8)
}

/// A side of `side` pixels decoded at m/8: ceil(side·m/8), as libjpeg sizes its scaled output.
fn scaled_side(side: u32, m: u32) -> u32 {
    (u64::from(side) * u64::from(m)).div_ceil(8) as u32
}

/// Decodes `bytes` at `eighths`/8 of its size (1..=8; 8 is the full size). The output is
/// ceil(w·m/8) × ceil(h·m/8). Every 8×8 block becomes an m×m block by an m-point IDCT of its
/// m×m lowest frequencies, as libjpeg's scaled decoding does. `max_alloc` bounds the bytes of every
/// large buffer together (checked before allocating); `cancelled` is polled about once per MCU row.
pub fn decode_eighths(
    bytes: &[u8],
    eighths: u32,
    max_alloc: u64,
    cancelled: &dyn Fn() -> bool,
) -> Result<Reduced, JpegError> {
    decode_with(bytes, eighths, max_alloc, cancelled, Threads::Auto)
}

/// Whether a single-scan sequential JPEG is decoded on two threads (see [`decode_two_threads`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Threads {
    /// Two when the picture is large enough to pay for the second thread and there are two cores.
    Auto,
    #[cfg_attr(not(test), allow(dead_code))]
    One,
    #[cfg_attr(not(test), allow(dead_code))]
    Two,
}

fn decode_with(
    bytes: &[u8],
    eighths: u32,
    max_alloc: u64,
    cancelled: &dyn Fn() -> bool,
    threads: Threads,
) -> Result<Reduced, JpegError> {
    if !(1..=8).contains(&eighths) {
        return Err(JpegError::Unsupported("scales other than 1/8 to 8/8"));
    }
    Decoder {
        data: bytes,
        eighths: eighths as usize,
        threads,
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
    /// IDCT output size per block (1 to 16) horizontally and vertically.
    nx: usize,
    ny: usize,
    /// log2 of the sample repetition after the IDCT (0 unless the IDCT would have to exceed 16).
    ux: u32,
    uy: u32,
    /// Coefficients kept per block: zigzag indices 0..keep cover the corner the IDCT reads,
    /// min(nx, 8) × min(ny, 8).
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
    progressive: bool,
    mcus_x: usize,
    mcus_y: usize,
    /// Output pixel rows per MCU row.
    rows_per_mcu: usize,
    /// Size of the decoded picture.
    out_width: usize,
    out_height: usize,
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
    fn parse(marker: u8, p: &[u8], eighths: usize, hints: &Tables) -> Result<Frame, JpegError> {
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
        let n = eighths;
        // An IDCT size over 16 (4× subsampling above 4/8) is halved and made up by repeating.
        let fit = |mut full: usize| {
            let mut repeat = 0;
            while full > MAX_N {
                full /= 2;
                repeat += 1;
            }
            (full, repeat)
        };
        let mcus_x = width.div_ceil(8 * hmax);
        let mcus_y = height.div_ceil(8 * vmax);
        let components = sampling
            .iter()
            .map(|&(id, h, v, tq)| {
                let ((nx, ux), (ny, uy)) = (fit(n * hmax / h), fit(n * vmax / v));
                let corner = corner(nx.min(8), ny.min(8));
                let keep = 64 - corner.leading_zeros() as usize;
                Component {
                    id,
                    h,
                    v,
                    tq,
                    nx,
                    ny,
                    ux,
                    uy,
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
            progressive: marker == 0xC2,
            mcus_x,
            mcus_y,
            rows_per_mcu: n * vmax,
            out_width: (width * n).div_ceil(8),
            out_height: (height * n).div_ceil(8),
            components,
            color,
        })
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

/// Returns the zigzag index after the block's last coefficient: the rest are zero. `NATURAL`:
/// `coefs` has 64 entries in natural (row-major) order, else it is a zigzag prefix.
fn decode_sequential<const NATURAL: bool>(
    r: &mut BitReader,
    dc: &HuffTable,
    ac: &HuffTable,
    pred: &mut i32,
    coefs: &mut [i16],
) -> Result<usize, Broken> {
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
        let at = if NATURAL {
            ZIGZAG.get(k).map_or(64, |&n| usize::from(n))
        } else {
            k
        };
        if let Some(c) = coefs.get_mut(at) {
            *c = clamp_i16(value);
        }
        k += 1;
    }
    Ok(k)
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
    /// The quantization table in natural order, zero outside the corner the IDCT reads.
    natural_quant: [i32; 64],
}

struct StreamSink<'t, 'o> {
    out: &'o mut Output,
    slots: Vec<StreamSlot<'t>>,
    preds: [i32; 4],
}

impl BlockSink for StreamSink<'_, '_> {
    fn block(&mut self, r: &mut BitReader, slot: usize, at: BlockAt) -> Result<(), Broken> {
        let s = &self.slots[slot];
        let mut coefs = [0i16; 64];
        let end = decode_sequential::<true>(r, s.dc, s.ac, &mut self.preds[slot], &mut coefs)?;
        self.out
            .put_natural(s.component, at, (&coefs, end), &s.natural_quant);
        Ok(())
    }

    fn missing(&mut self, slot: usize, at: BlockAt) {
        let s = &self.slots[slot];
        self.out
            .put_natural(s.component, at, (&[0; 64], 0), &s.natural_quant);
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
    d.budget.take(Output::bytes(frame))?;
    let mut out = Output::new(frame)?;
    let slots = scan
        .slots
        .iter()
        .map(|s| {
            let c = &frame.components[s.component];
            let quant = d.tables.latch_quant(c)?;
            let (kx, ky) = (c.nx.min(8), c.ny.min(8));
            let mut natural_quant = [0; 64];
            for (&natural, &q) in ZIGZAG.iter().zip(&quant) {
                let (v, u) = (usize::from(natural / 8), usize::from(natural % 8));
                if u < kx && v < ky {
                    natural_quant[usize::from(natural)] = q;
                }
            }
            Ok(StreamSlot {
                component: s.component,
                dc: d.tables.dc_table(s.dc_table)?,
                ac: d.tables.ac_table(s.ac_table)?,
                natural_quant,
            })
        })
        .collect::<Result<_, JpegError>>()?;
    let mut r = BitReader::new(d.data, pos);
    let blocks_per_row = blocks_per_mcu_row(frame, scan);
    if worth_two_threads(frame, d.threads)
        && d.budget
            .take(CoefRow::bytes(blocks_per_row) * ROWS_IN_FLIGHT + Painter::bytes(frame))
            .is_ok()
    {
        let out = decode_two_threads(frame, scan, &mut r, d, out, slots, blocks_per_row)?;
        return Ok(out.finish());
    }
    let mut sink = StreamSink {
        out: &mut out,
        slots,
        preds: [0; 4],
    };
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
// Sequential, one scan, on two threads
//
// Entropy decoding is serial, but painting (IDCT, colour conversion) is not tied to it. The
// calling thread decodes MCU row after MCU row into a coefficient buffer and queues it, with the
// rows of the picture it becomes, for a second thread that paints. When the queue is full the
// calling thread paints the row itself instead of waiting, and once the scan is decoded it helps
// empty the queue. So neither thread waits while there is work, and each MCU row is painted by
// one of them into its own rows of the picture. On a 1200×900 photo at 6/8 painting takes longer
// than entropy decoding; shared this way the decode takes about half the sum of the two.

/// Output samples from which a second thread pays for itself (its start and the hand-overs cost
/// some tens of microseconds).
const TWO_THREADS_FROM: usize = 1 << 18;

/// Coefficient rows the queue holds.
const QUEUED_ROWS: usize = 4;

/// Most coefficient rows alive at once: the queue, one being painted by the second thread, one
/// being filled.
const ROWS_IN_FLIGHT: u64 = QUEUED_ROWS as u64 + 2;

fn worth_two_threads(frame: &Frame, threads: Threads) -> bool {
    match threads {
        Threads::Auto => {
            frame.out_width * frame.out_height * frame.color.channels() >= TWO_THREADS_FROM
                && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
        }
        Threads::One => false,
        Threads::Two => true,
    }
}

/// Blocks the scan visits per MCU row (per block row when it holds one component).
fn blocks_per_mcu_row(frame: &Frame, scan: &Scan) -> usize {
    scan.slots
        .iter()
        .map(|s| {
            let c = &frame.components[s.component];
            if scan.slots.len() == 1 {
                c.blocks_w
            } else {
                frame.mcus_x * c.h * c.v
            }
        })
        .sum()
}

/// One MCU row of entropy-decoded blocks, in the order the scan visits them.
struct CoefRow {
    mcu_row: usize,
    /// Per block: scan slot, position, and the zigzag index after its last coefficient.
    blocks: Vec<(u8, BlockAt, u8)>,
    /// 64 quantized coefficients per block, natural order; all zero between uses.
    coefs: Vec<i16>,
}

impl CoefRow {
    fn new(blocks: usize) -> CoefRow {
        CoefRow {
            mcu_row: 0,
            blocks: Vec::with_capacity(blocks),
            coefs: vec![0; blocks * 64],
        }
    }

    fn bytes(blocks: usize) -> u64 {
        (blocks as u64) * (64 * 2 + std::mem::size_of::<(u8, BlockAt, u8)>() as u64)
    }
}

/// Per scan slot: its component and natural-order quantization table (zero outside the corner).
type Drawing = [(usize, [i32; 64])];

/// Paints a row of blocks into `target` (its rows of the picture) and leaves the row empty.
fn paint(painter: &mut Painter, drawing: &Drawing, row: &mut CoefRow, target: &mut [u8]) {
    for (&(slot, at, len), block) in row.blocks.iter().zip(row.coefs.chunks_exact_mut(64)) {
        let (Some((component, quant)), Ok(coefs)) = (
            drawing.get(usize::from(slot)),
            <&mut [i16; 64]>::try_from(block),
        ) else {
            continue;
        };
        painter.put_natural(*component, at, (coefs, usize::from(len)), quant);
        *coefs = [0; 64];
    }
    painter.emit_rows(row.mcu_row, target);
    row.blocks.clear();
}

/// A row to paint and where it goes.
type Job<'p> = (CoefRow, &'p mut [u8]);

/// The entropy-decoding side: fills rows, queues them or paints them itself.
struct CoefSink<'t, 'p, 'd> {
    slots: Vec<StreamSlot<'t>>,
    preds: [i32; 4],
    row: CoefRow,
    blocks_per_row: usize,
    /// The picture's rows, one slice per MCU row, in order.
    targets: std::slice::ChunksMut<'p, u8>,
    queue: std::sync::mpsc::SyncSender<Job<'p>>,
    /// Rows the other thread has painted, for reuse.
    returned: std::sync::mpsc::Receiver<CoefRow>,
    spare: Vec<CoefRow>,
    painter: &'d mut Painter,
    drawing: &'d Drawing,
}

impl BlockSink for CoefSink<'_, '_, '_> {
    fn block(&mut self, r: &mut BitReader, slot: usize, at: BlockAt) -> Result<(), Broken> {
        let s = &self.slots[slot];
        let start = self.row.blocks.len() * 64;
        let block = self
            .row
            .coefs
            .get_mut(start..start + 64)
            .unwrap_or_default();
        let end = decode_sequential::<true>(r, s.dc, s.ac, &mut self.preds[slot], block)?;
        self.row.blocks.push((slot as u8, at, end.min(64) as u8));
        Ok(())
    }

    fn missing(&mut self, slot: usize, at: BlockAt) {
        self.row.blocks.push((slot as u8, at, 0));
    }

    fn reset(&mut self) {
        self.preds = [0; 4];
    }

    fn row_done(&mut self, row: usize) {
        let next = self
            .spare
            .pop()
            .or_else(|| self.returned.try_recv().ok())
            .unwrap_or_else(|| CoefRow::new(self.blocks_per_row));
        let mut done = std::mem::replace(&mut self.row, next);
        done.mcu_row = row;
        let target = self.targets.next().unwrap_or_default();
        if let Err(
            std::sync::mpsc::TrySendError::Full((mut done, target))
            | std::sync::mpsc::TrySendError::Disconnected((mut done, target)),
        ) = self.queue.try_send((done, target))
        {
            paint(self.painter, self.drawing, &mut done, target);
            self.spare.push(done);
        }
    }
}

fn decode_two_threads(
    frame: &Frame,
    scan: &Scan,
    r: &mut BitReader,
    d: &Decoder,
    out: Output,
    slots: Vec<StreamSlot>,
    blocks_per_row: usize,
) -> Result<Output, JpegError> {
    let Output {
        mut painter,
        mut pixels,
    } = out;
    let drawing: Vec<(usize, [i32; 64])> = slots
        .iter()
        .map(|s| (s.component, s.natural_quant))
        .collect();
    let mcu_row_bytes = (painter.rows_per_mcu * painter.row_len()).max(1);
    let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(QUEUED_ROWS);
    let jobs = std::sync::Mutex::new(jobs);
    let (give_back, returned) = std::sync::mpsc::channel::<CoefRow>();
    let walked = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let mut painter = Painter::new(frame);
            loop {
                // The lock is let go as soon as a job (or the end) comes.
                let job = match jobs.lock() {
                    Ok(jobs) => jobs.recv(),
                    Err(_) => break,
                };
                let Ok((mut row, target)) = job else {
                    break;
                };
                paint(&mut painter, &drawing, &mut row, target);
                // The decoding side may be done: then the buffer is simply dropped.
                let _ = give_back.send(row);
            }
        });
        let mut sink = CoefSink {
            slots,
            preds: [0; 4],
            row: CoefRow::new(blocks_per_row),
            blocks_per_row,
            targets: pixels.chunks_mut(mcu_row_bytes),
            queue,
            returned,
            spare: Vec::new(),
            painter: &mut painter,
            drawing: &drawing,
        };
        let walked = walk_scan(
            frame,
            scan,
            d.tables.restart_interval,
            r,
            d.cancelled,
            &mut sink,
        );
        drop(sink);
        // Help empty the queue (its sender is gone, so this ends when it is empty).
        if walked.is_ok() {
            let mut spare = CoefRow::new(0);
            while let Some((mut row, target)) =
                jobs.lock().ok().and_then(|jobs| jobs.try_recv().ok())
            {
                paint(&mut painter, &drawing, &mut row, target);
                spare = row;
            }
            drop(spare);
        }
        let helped = helper.join();
        walked?;
        helped.map_err(|_| corrupt("the second decoding thread stopped"))
    });
    // The queue's type borrows the picture.
    drop(jobs);
    walked?;
    Ok(Output { painter, pixels })
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
        Coding::Sequential { dc, ac } => {
            decode_sequential::<false>(r, dc, ac, pred, coefs).map(|_| ())
        }
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
            .take(Store::bytes(frame).saturating_add(Output::bytes(frame)))?;
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
/// taken with the store. Rows are independent here (every coefficient is decoded), so on two
/// threads each takes the next unpainted MCU row until none is left; the second thread's row
/// buffers come out of the budget, and when they do not fit one thread paints all.
fn render(
    frame: &Frame,
    store: &Store,
    budget: &mut Budget,
    threads: Threads,
    cancelled: &dyn Fn() -> bool,
) -> Result<Reduced, JpegError> {
    let Output {
        mut painter,
        mut pixels,
    } = Output::new(frame)?;
    let mcu_row_bytes = (painter.rows_per_mcu * painter.row_len()).max(1);
    if cancelled() {
        return Err(JpegError::Cancelled);
    }
    let two = worth_two_threads(frame, threads) && budget.take(Painter::bytes(frame)).is_ok();
    if !two {
        for (my, target) in pixels.chunks_mut(mcu_row_bytes).enumerate() {
            if cancelled() {
                return Err(JpegError::Cancelled);
            }
            paint_stored_row(&mut painter, frame, store, my, target);
        }
        return Ok(Output { painter, pixels }.finish());
    }
    let rows = std::sync::Mutex::new(pixels.chunks_mut(mcu_row_bytes).enumerate());
    let stop = std::sync::atomic::AtomicBool::new(false);
    // The lock is let go as soon as a row is taken.
    let next_row = || {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        rows.lock().ok()?.next()
    };
    let painted = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let mut painter = Painter::new(frame);
            while let Some((my, target)) = next_row() {
                paint_stored_row(&mut painter, frame, store, my, target);
            }
        });
        let mut painted = Ok(());
        while let Some((my, target)) = next_row() {
            // Only this thread may ask (the check need not be thread-safe); it stops the other.
            if cancelled() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                painted = Err(JpegError::Cancelled);
                break;
            }
            paint_stored_row(&mut painter, frame, store, my, target);
        }
        let helped = helper.join();
        painted?;
        helped.map_err(|_| corrupt("the second decoding thread stopped"))
    });
    painted?;
    Ok(Output { painter, pixels }.finish())
}

/// Paints MCU row `my` from the store into `target` (its rows of the picture).
fn paint_stored_row(
    painter: &mut Painter,
    frame: &Frame,
    store: &Store,
    my: usize,
    target: &mut [u8],
) {
    for (i, (c, plane)) in frame.components.iter().zip(&store.planes).enumerate() {
        // A component no scan mentioned stays at zero: flat mid-gray.
        let quant = plane.quant.unwrap_or([0; 64]);
        for row_in_mcu in 0..c.v {
            let row = my * c.v + row_in_mcu;
            for col in 0..c.stride {
                let start = (row * c.stride + col) * c.keep;
                let coefs = plane.coefs.get(start..start + c.keep).unwrap_or_default();
                let at = BlockAt {
                    col,
                    row,
                    row_in_mcu,
                };
                painter.put_block(i, at, coefs, &quant);
            }
        }
    }
    painter.emit_rows(my, target);
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
// For an N-point output from the first K = min(N, 8) coefficients F(u) of an 8-point JPEG DCT:
//   f(x) = Σ_u ½·C(u)·F(u)·cos((2x+1)uπ / 2N),  C(0) = 1/√2, C(u>0) = 1.
// These are samples, at the centres of N cells, of the continuous cosine series the block's
// coefficients describe: N = 8 is the JPEG IDCT; N < 8 shrinks the block (dropping the
// frequencies N samples cannot hold); N > 8 enlarges a subsampled chroma block (up to 16 for 2×
// subsampling at full scale) by interpolating with the same series rather than repeating
// samples. Every N keeps the block mean (a DC alone gives F(0)/8 in 2-D).
//
// The transform runs in `f32` (24-bit mantissa: coefficients are clamped to ±COEF_LIMIT, so sums
// stay far inside exact-enough range; the result is rounded once, at the end). Both passes are
// written as "a scalar times a row of lanes, added to a row of lanes" over fixed lengths, which
// the compiler turns into vector code; on x86-64 a copy compiled for AVX2 and FMA (eight lanes,
// one fused multiply-add per step) is used when the CPU has them.

/// Largest IDCT output per block side.
const MAX_N: usize = 16;

struct Idct {
    /// Per N (1..=16): m[N][x][u] = ½·C(u)·cos((2x+1)uπ / 2N) for x < N, u < K.
    m: [[[f32; 8]; MAX_N]; MAX_N + 1],
    /// The same transposed: t[N][u][x], zero for x >= N.
    t: [[[f32; MAX_N]; 8]; MAX_N + 1],
    /// The CPU has AVX2 and FMA (checked once, in `new`).
    avx2: bool,
}

/// A block's dequantized corner in natural order, rows of 8 (`f[v][u]`), and how many rows and
/// columns the passes must read (the rest of `f` may hold anything).
struct Corner {
    f: [[f32; 8]; 8],
    rows: usize,
    cols: usize,
}

/// Where each zigzag coefficient of a block goes in [`Corner::f`], for one corner size. Tables
/// rather than tests, so gathering a block does not branch on its coefficients.
struct Gather {
    /// Zigzag index → natural index (row·8 + column) inside the corner, or 64 when outside.
    to: [u8; 64],
    /// For a prefix of n coefficients: the rows and columns of the corner it reaches.
    rows: [u8; 65],
    cols: [u8; 65],
}

impl Gather {
    fn new(kx: usize, ky: usize) -> Gather {
        let mut g = Gather {
            to: [64; 64],
            rows: [0; 65],
            cols: [0; 65],
        };
        let (mut rows, mut cols) = (0, 0);
        for (k, &natural) in ZIGZAG.iter().enumerate() {
            let (v, u) = (usize::from(natural / 8), usize::from(natural % 8));
            if u < kx && v < ky {
                g.to[k] = natural;
                rows = rows.max(v as u8 + 1);
                cols = cols.max(u as u8 + 1);
            }
            g.rows[k + 1] = rows;
            g.cols[k + 1] = cols;
        }
        g
    }
}

impl Idct {
    fn new() -> Idct {
        let mut m = [[[0f32; 8]; MAX_N]; MAX_N + 1];
        let mut t = [[[0f32; MAX_N]; 8]; MAX_N + 1];
        for n in 1..=MAX_N {
            for x in 0..n {
                for u in 0..n.min(8) {
                    let c = if u == 0 {
                        std::f64::consts::FRAC_1_SQRT_2
                    } else {
                        1.0
                    };
                    let angle = ((2 * x + 1) * u) as f64 * std::f64::consts::PI / (2 * n) as f64;
                    let v = (0.5 * c * angle.cos()) as f32;
                    m[n][x][u] = v;
                    t[n][u][x] = v;
                }
            }
        }
        Idct {
            m,
            t,
            avx2: has_avx2(),
        }
    }

    /// Writes the nx×ny pixels of `corner` to `out`, rows `stride` apart.
    fn pixels(&self, (nx, ny): (usize, usize), corner: &Corner, out: &mut [u8], stride: usize) {
        let (nx, ny) = (nx.clamp(1, MAX_N), ny.clamp(1, MAX_N));
        let wide = nx > 8;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU said it has AVX2 and FMA (`has_avx2`),
            // which is all `idct_avx2` requires.
            unsafe {
                if wide {
                    idct_avx2::<16>(self, (nx, ny), corner, out, stride);
                } else {
                    idct_avx2::<8>(self, (nx, ny), corner, out, stride);
                }
            }
            return;
        }
        if wide {
            idct_rows::<16, false>(self, (nx, ny), corner, out, stride);
        } else {
            idct_rows::<8, false>(self, (nx, ny), corner, out, stride);
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}

/// [`idct_rows`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn idct_avx2<const LANES: usize>(
    idct: &Idct,
    size: (usize, usize),
    corner: &Corner,
    out: &mut [u8],
    stride: usize,
) {
    idct_rows::<LANES, true>(idct, size, corner, out, stride);
}

/// The 2-D IDCT one output row at a time: the column pass gives that row's `K` horizontal
/// coefficients, the row pass turns them into `LANES` >= nx pixels. `FMA`: fuse each multiply
/// and add (only where the CPU does it in one instruction; elsewhere `mul_add` is a slow call).
#[inline(always)]
fn idct_rows<const LANES: usize, const FMA: bool>(
    idct: &Idct,
    (nx, ny): (usize, usize),
    corner: &Corner,
    out: &mut [u8],
    stride: usize,
) {
    let (my, mt) = (&idct.m[ny], &idct.t[nx]);
    let rows = &corner.f[..corner.rows.min(8)];
    let cols = &mt[..corner.cols.min(8)];
    let mac = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
    for (y, weights) in my.iter().enumerate().take(ny) {
        let mut h = [0f32; 8];
        for (&w, f) in weights.iter().zip(rows) {
            for (h, &f) in h.iter_mut().zip(f) {
                *h = mac(w, f, *h);
            }
        }
        let mut acc = [128.0f32; LANES];
        for (&h, basis) in h.iter().zip(cols) {
            for (a, &b) in acc.iter_mut().zip(basis) {
                *a = mac(h, b, *a);
            }
        }
        let pixels = acc.map(|a| clamp_u8(round_small(a)));
        let Some(dst) = out.get_mut(y * stride..y * stride + nx) else {
            return;
        };
        if let Ok(whole) = <&mut [u8; LANES]>::try_from(&mut *dst) {
            *whole = pixels;
        } else {
            copy_short(dst, &pixels);
        }
    }
}

/// Copies `dst.len()` (at most 23) bytes from `src` in pieces of constant size (8, 8, 4, 2, 1),
/// which compile to single moves; `copy_from_slice` of a run-time length is a `memcpy` call.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let mut at = 0;
    for size in [8, 8, 4, 2, 1] {
        if dst.len() - at >= size
            && let (Some(d), Some(s)) = (dst.get_mut(at..at + size), src.get(at..at + size))
        {
            d.copy_from_slice(s);
            at += size;
        }
    }
}

/// `x` rounded to the nearest integer (ties to even), for |x| < 2^22: adding 1.5·2^23 leaves the
/// integer in the low mantissa bits. Unlike `as i32` (which must saturate and handle NaN) this
/// stays in vector registers.
#[inline(always)]
fn round_small(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

/// A dequantized coefficient, clamped so the IDCT stays in range.
fn dequantize(coef: i16, q: i32) -> i32 {
    (i32::from(coef) * q).clamp(-COEF_LIMIT, COEF_LIMIT)
}

/// Writes the nx×ny pixels of a block to `out` (rows `stride` apart) from its quantized zigzag
/// coefficients (a prefix: missing ones are zero). 1×1 and 2×2, the common cases at 1/8 and 1/4,
/// and blocks with only a DC (most chroma blocks of photos) are written out.
#[allow(clippy::too_many_arguments)]
fn reduced_block(
    idct: &Idct,
    (nx, ny): (usize, usize),
    gather: &Gather,
    coefs: &[i16],
    quant: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    let mut rows = out.chunks_mut(stride.max(1));
    match (nx, ny) {
        (1, 1) => {
            let dc = coefs.first().copied().unwrap_or(0);
            if let Some(p) = rows.next().and_then(|r| r.first_mut()) {
                *p = pixel_from_sum8(dequantize(dc, quant[0]));
            }
        }
        (2, 2) => {
            // Natural (0,0), (0,1), (1,0), (1,1) are zigzag 0, 1, 2, 4.
            let at = |k: usize| dequantize(coefs.get(k).copied().unwrap_or(0), quant[k]);
            let (a, b, c, d) = (at(0), at(1), at(2), at(4));
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
        _ => {
            let dc = coefs.first().copied().unwrap_or(0);
            let ac = coefs.get(1..).unwrap_or_default();
            if ac.iter().fold(0, |any, &c| any | c) == 0 {
                let v = pixel_from_sum8(dequantize(dc, quant[0]));
                for row in rows.take(ny) {
                    row.iter_mut().take(nx).for_each(|p| *p = v);
                }
                return;
            }
            let n = coefs.len().min(64);
            let mut corner = Corner {
                f: [[0.0; 8]; 8],
                rows: usize::from(gather.rows[n]),
                cols: usize::from(gather.cols[n]),
            };
            let flat = corner.f.as_flattened_mut();
            let mut any_ac = 0;
            for (k, ((&c, &to), &q)) in coefs.iter().zip(&gather.to).zip(quant).enumerate() {
                if let Some(f) = flat.get_mut(usize::from(to)) {
                    let v = dequantize(c, q);
                    *f = v as f32;
                    any_ac |= if k > 0 { v } else { 0 };
                }
            }
            draw_block(idct, (nx, ny), &corner, any_ac != 0, out, stride);
        }
    }
}

/// Writes the nx×ny pixels of a block given in natural order (`coefs`, quantized; the zigzag
/// index after its last coefficient is `len`) to `out`, rows `stride` apart. `quant` is in natural
/// order and zero outside the corner the IDCT reads, so the coefficients there drop out.
fn natural_block(
    idct: &Idct,
    size: (usize, usize),
    gather: &Gather,
    coefs: (&[i16; 64], usize),
    quant: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if idct.avx2 {
        // SAFETY: `avx2` is true only when the CPU said it has AVX2 and FMA (`has_avx2`).
        unsafe { natural_block_avx2(idct, size, gather, coefs, quant, out, stride) };
        return;
    }
    natural_block_lanes::<false>(idct, size, gather, coefs, quant, out, stride);
}

/// [`natural_block_lanes`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn natural_block_avx2(
    idct: &Idct,
    size: (usize, usize),
    gather: &Gather,
    coefs: (&[i16; 64], usize),
    quant: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    natural_block_lanes::<true>(idct, size, gather, coefs, quant, out, stride);
}

#[inline(always)]
fn natural_block_lanes<const FMA: bool>(
    idct: &Idct,
    (nx, ny): (usize, usize),
    gather: &Gather,
    (coefs, len): (&[i16; 64], usize),
    quant: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    let at = |i: usize| dequantize(coefs[i], quant[i]);
    match (nx, ny) {
        (1, 1) => {
            if let Some(p) = out.first_mut() {
                *p = pixel_from_sum8(at(0));
            }
        }
        (2, 2) => {
            let (a, b, c, d) = (at(0), at(1), at(8), at(9));
            let pixels = [
                [a + b + c + d, a - b + c - d],
                [a + b - c - d, a - b - c + d],
            ];
            for (row, sums) in out.chunks_mut(stride.max(1)).zip(pixels) {
                for (p, s) in row.iter_mut().zip(sums) {
                    *p = pixel_from_sum8(s);
                }
            }
        }
        _ => {
            let n = len.min(64);
            let mut corner = Corner {
                f: [[0.0; 8]; 8],
                rows: usize::from(gather.rows[n]).max(1),
                cols: usize::from(gather.cols[n]).max(1),
            };
            let mut any_ac = 0;
            for (v, ((f, c), q)) in corner
                .f
                .iter_mut()
                .zip(coefs.chunks_exact(8))
                .zip(quant.chunks_exact(8))
                .enumerate()
                .take(corner.rows)
            {
                let row: [i32; 8] = std::array::from_fn(|u| dequantize(c[u], q[u]));
                // Every coefficient but the DC (row 0, column 0) counts.
                let first = if v == 0 { 0 } else { row[0] };
                any_ac |= row[1..].iter().fold(first, |a, &x| a | x);
                *f = row.map(|x| x as f32);
            }
            if any_ac == 0 {
                draw_block(idct, (nx, ny), &corner, false, out, stride);
            } else if nx > 8 {
                idct_rows::<16, FMA>(idct, (nx, ny), &corner, out, stride);
            } else {
                idct_rows::<8, FMA>(idct, (nx, ny), &corner, out, stride);
            }
        }
    }
}

/// A block from its corner: flat when no AC coefficient of the corner is set (the exact mean,
/// and the same pixels whichever way the coefficients came), else through the IDCT.
fn draw_block(
    idct: &Idct,
    (nx, ny): (usize, usize),
    corner: &Corner,
    any_ac: bool,
    out: &mut [u8],
    stride: usize,
) {
    if any_ac {
        idct.pixels((nx, ny), corner, out, stride);
    } else {
        let v = pixel_from_sum8(corner.f[0][0] as i32);
        for row in out.chunks_mut(stride.max(1)).take(ny) {
            row.iter_mut().take(nx).for_each(|p| *p = v);
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
    gather: Gather,
    ux: u32,
    uy: u32,
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

/// The decoded picture, and the painter that fills it MCU row by MCU row.
struct Output {
    painter: Painter,
    pixels: Vec<u8>,
}

/// Turns blocks of coefficients into pixels: the row buffers of one MCU row, the IDCT and the
/// colour conversion. A second thread gets a painter of its own.
struct Painter {
    width: usize,
    height: usize,
    color: Color,
    rows_per_mcu: usize,
    planes: Vec<RowPlane>,
    idct: Idct,
}

impl Color {
    fn channels(self) -> usize {
        if self == Color::Gray { 1 } else { 3 }
    }
}

impl Output {
    /// Bytes of the output and row buffers.
    fn bytes(frame: &Frame) -> u64 {
        let pixels =
            (frame.out_width as u64) * (frame.out_height as u64) * (frame.color.channels() as u64);
        pixels + Painter::bytes(frame)
    }

    /// Allocates; the caller has taken [`Output::bytes`] from the budget.
    fn new(frame: &Frame) -> Result<Output, JpegError> {
        let len =
            (frame.out_width as u64) * (frame.out_height as u64) * (frame.color.channels() as u64);
        Ok(Output {
            painter: Painter::new(frame),
            pixels: vec![0; to_usize(len)?],
        })
    }

    fn put_natural(
        &mut self,
        component: usize,
        at: BlockAt,
        coefs: (&[i16; 64], usize),
        quant: &[i32; 64],
    ) {
        self.painter.put_natural(component, at, coefs, quant);
    }

    /// Colour-converts the output rows of MCU row `mcu_row` from the row buffers.
    fn emit_rows(&mut self, mcu_row: usize) {
        let rows = self.painter.rows_of(mcu_row);
        let rows = self.pixels.get_mut(rows).unwrap_or_default();
        self.painter.emit_rows(mcu_row, rows);
    }

    fn finish(self) -> Reduced {
        let p = &self.painter;
        Reduced {
            width: p.width as u32,
            height: p.height as u32,
            channels: p.color.channels() as u8,
            pixels: self.pixels,
        }
    }
}

impl Painter {
    /// Bytes of the row buffers.
    fn bytes(frame: &Frame) -> u64 {
        frame
            .components
            .iter()
            .map(|c| {
                let stride = (c.stride * c.nx) as u64;
                stride * (c.v * c.ny) as u64 + if c.ux > 0 { stride << c.ux } else { 0 }
            })
            .sum()
    }

    /// Allocates; the caller has taken [`Painter::bytes`] from the budget.
    fn new(frame: &Frame) -> Painter {
        let (width, height) = (frame.out_width, frame.out_height);
        let planes = frame
            .components
            .iter()
            .map(|c| {
                let stride = c.stride * c.nx;
                RowPlane {
                    nx: c.nx,
                    ny: c.ny,
                    gather: Gather::new(c.nx.min(8), c.ny.min(8)),
                    ux: c.ux,
                    uy: c.uy,
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
        Painter {
            width,
            height,
            color: frame.color,
            rows_per_mcu: frame.rows_per_mcu,
            planes,
            idct: Idct::new(),
        }
    }

    /// Bytes of the output row.
    fn row_len(&self) -> usize {
        self.width * self.color.channels()
    }

    /// Where the output rows of MCU row `mcu_row` are in the picture's bytes.
    fn rows_of(&self, mcu_row: usize) -> std::ops::Range<usize> {
        let y0 = (mcu_row * self.rows_per_mcu).min(self.height);
        let y1 = (y0 + self.rows_per_mcu).min(self.height);
        y0 * self.row_len()..y1 * self.row_len()
    }

    /// Dequantizes and inverse-transforms one block (quantized coefficients in zigzag order, a
    /// prefix covering the corner or nothing) into the row buffer of `component`.
    fn put_block(&mut self, component: usize, at: BlockAt, coefs: &[i16], quant: &[i32; 64]) {
        let plane = &mut self.planes[component];
        let start = at.row_in_mcu * plane.ny * plane.stride + at.col * plane.nx;
        let out = plane.buf.get_mut(start..).unwrap_or_default();
        let size = (plane.nx, plane.ny);
        reduced_block(
            &self.idct,
            size,
            &plane.gather,
            coefs,
            quant,
            out,
            plane.stride,
        );
    }

    /// Like [`Output::put_block`] for a block in natural order (`len`: the zigzag index after its
    /// last coefficient) with a natural-order `quant` that is zero outside the corner.
    fn put_natural(
        &mut self,
        component: usize,
        at: BlockAt,
        coefs: (&[i16; 64], usize),
        quant: &[i32; 64],
    ) {
        let plane = &mut self.planes[component];
        let start = at.row_in_mcu * plane.ny * plane.stride + at.col * plane.nx;
        let out = plane.buf.get_mut(start..).unwrap_or_default();
        let size = (plane.nx, plane.ny);
        natural_block(
            &self.idct,
            size,
            &plane.gather,
            coefs,
            quant,
            out,
            plane.stride,
        );
    }

    /// Colour-converts the output rows of MCU row `mcu_row` from the row buffers into `rows`
    /// (those rows of the picture, [`Painter::rows_of`]).
    fn emit_rows(&mut self, mcu_row: usize, rows: &mut [u8]) {
        let y0 = mcu_row * self.rows_per_mcu;
        let y1 = (y0 + self.rows_per_mcu).min(self.height);
        let row_len = self.row_len();
        for (local, out) in rows
            .chunks_exact_mut(row_len.max(1))
            .enumerate()
            .take(y1.saturating_sub(y0))
        {
            for p in &mut self.planes {
                p.upsample_line(local);
            }
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
                Color::YCbCr => ycc_to_rgb(self.idct.avx2, out, line(0), line(1), line(2)),
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
}

/// JFIF (full-range BT.601) YCbCr → RGB, 16-bit fixed point.
fn ycc_to_rgb(avx2: bool, out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` comes from `has_avx2`, so the CPU has AVX2 and FMA.
        unsafe { ycc_to_rgb_avx2(out, y, cb, cr) };
        return;
    }
    let _ = avx2;
    ycc_to_rgb_lanes(out, y, cb, cr);
}

/// [`ycc_to_rgb_lanes`] compiled for AVX2 (and FMA, which `has_avx2` also checks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn ycc_to_rgb_avx2(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    ycc_to_rgb_lanes(out, y, cb, cr);
}

/// Converts 16 pixels at a time: the arithmetic on separate R, G and B rows (vector code), then
/// the interleaving; the last few pixels one by one.
#[inline(always)]
fn ycc_to_rgb_lanes(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    const LANES: usize = 16;
    let n = (out.len() / 3).min(y.len()).min(cb.len()).min(cr.len());
    let whole = n / LANES * LANES;
    let (out_head, out_tail) = out.split_at_mut(whole * 3);
    let (y_head, y_tail) = y.split_at(whole);
    let (cb_head, cb_tail) = cb.split_at(whole);
    let (cr_head, cr_tail) = cr.split_at(whole);
    for (px, (y, (cb, cr))) in out_head.chunks_exact_mut(3 * LANES).zip(
        y_head
            .chunks_exact(LANES)
            .zip(cb_head.chunks_exact(LANES).zip(cr_head.chunks_exact(LANES))),
    ) {
        let (mut r, mut g, mut b) = ([0u8; LANES], [0u8; LANES], [0u8; LANES]);
        for i in 0..LANES {
            [r[i], g[i], b[i]] = ycc_pixel(y[i], cb[i], cr[i]);
        }
        for (i, p) in px.chunks_exact_mut(3).enumerate() {
            p.copy_from_slice(&[r[i], g[i], b[i]]);
        }
    }
    for (px, ((&y, &cb), &cr)) in out_tail
        .chunks_exact_mut(3)
        .zip(y_tail.iter().zip(cb_tail).zip(cr_tail))
    {
        px.copy_from_slice(&ycc_pixel(y, cb, cr));
    }
}

#[inline(always)]
fn ycc_pixel(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y);
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + ((91_881 * cr + 32_768) >> 16);
    let g = y + ((-22_554 * cb - 46_802 * cr + 32_768) >> 16);
    let b = y + ((116_130 * cb + 32_768) >> 16);
    [clamp_u8(r), clamp_u8(g), clamp_u8(b)]
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
    /// Output size in eighths of the original.
    eighths: usize,
    threads: Threads,
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
        render(
            &frame,
            &store,
            &mut self.budget,
            self.threads,
            self.cancelled,
        )
    }

    fn read_frame(&mut self, marker: u8, payload: &[u8]) -> Result<(), JpegError> {
        if self.frame.is_some() {
            return Err(corrupt("there are two frame headers"));
        }
        self.frame = Some(Frame::parse(marker, payload, self.eighths, &self.tables)?);
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
        decode_eighths(bytes, 8 / scale, MAX_ALLOC, &|| false)
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
        let at_eighths = |sampling: u8, eighths| {
            let mut p = vec![8, 0x0B, 0xB8, 0x0F, 0xA0, 3];
            p.extend_from_slice(&[1, sampling, 0, 2, 0x11, 1, 3, 0x11, 1]);
            Frame::parse(0xC2, &p, eighths, &Tables::default()).expect("frame")
        };
        let frame = |sampling: u8, scale: usize| at_eighths(sampling, 8 / scale);
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
        let f = frame(0x41, 2); // 4:1:1 at 1/2: a 16-wide IDCT for chroma
        assert_eq!(geometry(&f, 1), (16, 4, 0, 0, 54)); // natural (3, 7) is zigzag 53
        let f = at_eighths(0x41, 8); // 4:1:1 at full size: 32 wide is 16, each sample twice
        assert_eq!(geometry(&f, 1), (16, 8, 1, 0, 64));
        let f = at_eighths(0x22, 6); // 4:2:0 at 6/8
        assert_eq!(geometry(&f, 0), (6, 6, 0, 0, 52)); // natural (5, 5) is zigzag 51
        assert_eq!(geometry(&f, 1), (12, 12, 0, 0, 64));
        assert_eq!(
            (f.out_width, f.out_height, f.rows_per_mcu),
            (3000, 2250, 12)
        );
        // A 4:4:4 progressive 4000x3000 at 1/4: 5 coefficients and a mask per block, not 64.
        let f = frame(0x11, 4);
        let masks: u64 = f.components.iter().map(|c| blocks(c) * 8).sum();
        let total = Store::bytes(&f) + masks + Output::bytes(&f);
        assert!(total < 13 << 20, "{total} bytes");
    }

    /// Both ways into the IDCT (a zigzag prefix from the coefficient store, a natural-order block
    /// from a sequential scan) against the formula in double precision, for every size pair from
    /// 1×1 to 16×16 (sizes over 8 read the 8 coefficients there are).
    #[test]
    fn scaled_idct_matches_the_formula() {
        let idct = Idct::new();
        let mut rng = XorShift(0x1234_5678);
        for nx in 1..=MAX_N {
            for ny in 1..=MAX_N {
                let (kx, ky) = (nx.min(8), ny.min(8));
                let gather = Gather::new(kx, ky);
                let corner: Vec<usize> = (0..64).filter(|k| corner(kx, ky) >> k & 1 == 1).collect();
                let keep = corner.last().map_or(0, |&k| k + 1);
                for round in 0..12 {
                    let mut coefs = [0i16; 64];
                    for &k in &corner {
                        // DC around the middle, AC falling off with frequency; some blocks flat.
                        if k == 0 || round % 4 != 0 {
                            coefs[k] = (rng.below(600) as i16 - 300) / (1 + k as i16 / 4);
                        }
                    }
                    // Coefficients outside the corner must not count.
                    let mut natural = [0i16; 64];
                    for (k, &n) in ZIGZAG.iter().enumerate() {
                        natural[usize::from(n)] = coefs[k];
                        if !corner.contains(&k) {
                            natural[usize::from(n)] = 77;
                        }
                    }
                    let quant = [1i32; 64];
                    let mut natural_quant = [0i32; 64];
                    for &k in &corner {
                        natural_quant[usize::from(ZIGZAG[k])] = 1;
                    }
                    let mut from_store = [0u8; 256];
                    let prefix = &coefs[..keep];
                    reduced_block(
                        &idct,
                        (nx, ny),
                        &gather,
                        prefix,
                        &quant,
                        &mut from_store,
                        nx,
                    );
                    let mut from_scan = [0u8; 256];
                    let block = (&natural, 64);
                    natural_block(
                        &idct,
                        (nx, ny),
                        &gather,
                        block,
                        &natural_quant,
                        &mut from_scan,
                        nx,
                    );
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
                            for (how, got) in [("store", from_store), ("scan", from_scan)] {
                                let got = f64::from(got[y * nx + x]);
                                assert!(
                                    (got - want).abs() <= 1.0,
                                    "{how} {nx}x{ny} ({x},{y}): {got} vs {want}"
                                );
                            }
                        }
                    }
                    assert_eq!(from_store, from_scan, "{nx}x{ny}");
                }
            }
        }
    }

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
                // 4:1:1 at 1/2: chroma 16 wide per block, which this decoder interpolates with a
                // 16-point IDCT and jpeg-decoder repeats; colour edges then differ in luma too.
                let max_bound = if name.ends_with("411") { 25 } else { 20 };
                assert!(
                    mean[0] <= 1.0 && max <= max_bound,
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
                    // 4:1:1 at 1/2: interpolated chroma (a 16-point IDCT) against jpeg-decoder's
                    // repeated samples; against libjpeg-turbo's `djpeg -scale 1/2` this and the
                    // repetition are as close (means 3.2 / 1.6 / 4.5 on smooth_411).
                    (2, true, true) if name.ends_with("411") => 2.5,
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
        let plan = |name: &str, scale: usize| {
            let bytes = fixture(name);
            let sof = segment_at(&bytes, 0xC2);
            let len = usize::from(u16::from_be_bytes([bytes[sof - 2], bytes[sof - 1]]));
            let p = &bytes[sof..sof + len - 2];
            let frame = Frame::parse(0xC2, p, 8 / scale, &Tables::default()).expect("frame");
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
        for eighths in [0, 9, 16] {
            let result = decode_eighths(&base, eighths, MAX_ALLOC, &|| false);
            assert!(
                matches!(result, Err(JpegError::Unsupported(_))),
                "{eighths}/8"
            );
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
                let result = decode_eighths(&bytes, 8 / scale, 64 << 20, &|| false);
                assert_eq!(
                    result.err(),
                    Some(JpegError::TooLarge),
                    "{name} at 1/{scale}"
                );
            }
        }
        // The budget counts the output too: 24x16 RGB is 1,152 bytes.
        let bytes = fixture("base_444");
        let result = decode_eighths(&bytes, 2, 1_000, &|| false);
        assert_eq!(result.err(), Some(JpegError::TooLarge));
        assert!(decode_eighths(&bytes, 2, 4_000, &|| false).is_ok());
    }

    #[test]
    fn cancellation_stops_the_decode() {
        for name in ["base_420", "prog_420", "prog_gray"] {
            let bytes = fixture(name);
            let now = decode_eighths(&bytes, 2, MAX_ALLOC, &|| true);
            assert_eq!(now.err(), Some(JpegError::Cancelled), "{name}");
            // Cancelled after a few polls: in the middle of the work.
            let polls = Cell::new(0);
            let later = decode_eighths(&bytes, 2, MAX_ALLOC, &|| {
                polls.set(polls.get() + 1);
                polls.get() > 3
            });
            assert_eq!(later.err(), Some(JpegError::Cancelled), "{name}");
        }
    }

    #[test]
    fn the_smallest_eighth_that_covers_the_box_is_chosen() {
        assert_eq!(eighths_for((4000, 3000), (800, 600)), 2);
        assert_eq!(eighths_for((4000, 3000), (1000, 750)), 2);
        assert_eq!(eighths_for((4000, 3000), (1001, 750)), 3);
        assert_eq!(eighths_for((1600, 1200), (800, 600)), 4);
        assert_eq!(eighths_for((1200, 900), (800, 600)), 6);
        assert_eq!(eighths_for((1200, 900), (1051, 600)), 8);
        assert_eq!(eighths_for((1200, 900), (1200, 900)), 8);
        assert_eq!(eighths_for((4001, 3001), (10, 10)), 1);
        // The output really is at least the box, and one eighth less would not be.
        let bytes = fixture("odd_37x23_420");
        for k in 1u32..=37 {
            let fit = (k, (k * 23).div_ceil(37));
            let m = eighths_for((37, 23), fit);
            let ours = decode_eighths(&bytes, m, MAX_ALLOC, &|| false).expect("decode");
            assert!(ours.width >= fit.0 && ours.height >= fit.1, "box {fit:?}");
            if m > 1 {
                let less = (scaled_side(37, m - 1), scaled_side(23, m - 1));
                assert!(less.0 < fit.0 || less.1 < fit.1, "box {fit:?} at {m}/8");
            }
        }
    }

    #[test]
    fn power_of_two_sizes_match_jpeg_decoder_for_boxes_with_the_pictures_shape() {
        // jpeg-decoder asks for the box on one side only; for boxes with the picture's aspect
        // ratio (what the caller passes) the output sizes agree.
        let bytes = fixture("base_444"); // 96x64
        for k in 1u32..=48 {
            let fit = (2 * k, (4 * k).div_ceil(3));
            let m = eighths_for((96, 64), fit);
            if !matches!(m, 1 | 2 | 4) {
                continue;
            }
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(&bytes));
            let theirs = d.scale(fit.0 as u16, fit.1 as u16).expect("scale");
            let ours = decode(&bytes, 8 / m).expect("decode");
            assert_eq!(
                (ours.width as u16, ours.height as u16),
                theirs,
                "box {fit:?}"
            );
        }
    }

    /// `full` resampled to w×h by area averaging: output pixel x covers source pixels
    /// [x·step, (x+1)·step), partly covered ones weighted by the part. With step = 8/m this is the
    /// geometry of a decode at m/8, whose last column and row may reach past the picture (its
    /// size is rounded up); the part outside does not count.
    fn area_resample(full: &Reduced, (w, h): (usize, usize), step: f64) -> Vec<u8> {
        let (fw, fh, c) = (
            full.width as usize,
            full.height as usize,
            usize::from(full.channels),
        );
        // Weights of source pixels for each output pixel along one axis.
        let weights = |from: usize, to: usize| -> Vec<Vec<(usize, f64)>> {
            (0..to)
                .map(|o| {
                    let (a, b) = (o as f64 * step, (o + 1) as f64 * step);
                    (a.floor() as usize..(b.ceil() as usize).min(from))
                        .map(|i| (i, (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0)))
                        .collect()
                })
                .collect()
        };
        let (wx, wy) = (weights(fw, w), weights(fh, h));
        let mut out = Vec::with_capacity(w * h * c);
        for ys in &wy {
            for xs in &wx {
                for ch in 0..c {
                    let (mut sum, mut total) = (0.0, 0.0);
                    for &(y, a) in ys {
                        for &(x, b) in xs {
                            sum += a * b * f64::from(full.pixels[(y * fw + x) * c + ch]);
                            total += a * b;
                        }
                    }
                    out.push((sum / total).round() as u8);
                }
            }
        }
        out
    }

    /// Every size from 1/8 to 8/8 against jpeg-decoder's full-size decode resampled to the same
    /// geometry by area averaging. Measured means per channel (maxima):
    /// - 8/8: full-resolution components are the same decode: ≤ 0.06 (3). Subsampled chroma is
    ///   interpolated from its cosine series where jpeg-decoder filters: ≤ 2.2 (14) on the smooth
    ///   fixtures, ≤ 7.7 on the stripy ones (4:1:1; 4:2:0 ≤ 3.3).
    /// - Smaller: an m-point IDCT of the low frequencies is not an area average (it keeps more
    ///   contrast at edges and drops stripes finer than m samples a block hold): ≤ 2.6 (14) on the
    ///   smooth fixtures (at 1/8 with subsampled chroma, a 2×2 IDCT over 16×16 pixels, 3.0), up
    ///   to 15.6 (134) on the noisy, stripy ones, where only the mean is held.
    ///
    /// A misplaced block, a wrong IDCT size or a colour mix-up gives far more on the smooth ones.
    #[test]
    fn every_eighth_agrees_with_a_resampled_full_decode() {
        let mut failed = Vec::new();
        for name in SUPPORTED {
            let bytes = fixture(name);
            let full = reference(&bytes, 1);
            for m in 1..=8u32 {
                let ours = decode_eighths(&bytes, m, MAX_ALLOC, &|| false)
                    .unwrap_or_else(|e| panic!("{name} at {m}/8: {e}"));
                assert_eq!(
                    (ours.width, ours.height),
                    (scaled_side(full.width, m), scaled_side(full.height, m)),
                    "{name} at {m}/8"
                );
                let (w, h) = (ours.width as usize, ours.height as usize);
                let c = usize::from(ours.channels);
                let resampled = area_resample(&full, (w, h), 8.0 / f64::from(m));
                let (mean, max) = differences(&ours.pixels, &resampled, c);
                let (bound, max_bound) = match (m, subsampled(name), name.starts_with("smooth")) {
                    _ if w * h < 16 => (f64::INFINITY, u8::MAX),
                    (8, false, _) => (0.1, 3),
                    (1, true, true) => (4.0, 16),
                    (_, _, true) => (3.0, 16),
                    (8, true, false) => (8.0, u8::MAX),
                    _ => (16.0, u8::MAX),
                };
                let what = format!("{name} at {m}/8: mean {mean:.2?}, max {max}");
                if !(mean.iter().all(|&x| x <= bound) && max <= max_bound) {
                    failed.push(what);
                }
            }
        }
        assert!(failed.is_empty(), "{failed:#?}");
    }

    /// The second thread draws exactly what one thread draws, for every fixture the streaming path
    /// takes (restart intervals, gray, odd sizes, every sampling) at every size.
    #[test]
    fn two_threads_draw_what_one_thread_draws() {
        for name in SUPPORTED {
            let bytes = fixture(name);
            for m in 1..=8u32 {
                let one = decode_with(&bytes, m, MAX_ALLOC, &|| false, Threads::One);
                let two = decode_with(&bytes, m, MAX_ALLOC, &|| false, Threads::Two);
                let (one, two) = (one.expect("one thread"), two.expect("two threads"));
                assert_eq!(
                    (one.width, one.height),
                    (two.width, two.height),
                    "{name} {m}/8"
                );
                assert!(one.pixels == two.pixels, "{name} at {m}/8");
            }
        }
    }

    #[test]
    fn on_two_threads_damage_and_cancellation_end_the_decode() {
        let bytes = fixture("restart_1row_420");
        let two = |bytes: &[u8], cancelled: &dyn Fn() -> bool| {
            decode_with(bytes, 8, MAX_ALLOC, cancelled, Threads::Two)
        };
        assert_eq!(two(&bytes, &|| true).err(), Some(JpegError::Cancelled));
        let polls = Cell::new(0);
        let later = two(&bytes, &|| {
            polls.set(polls.get() + 1);
            polls.get() > 2
        });
        assert_eq!(later.err(), Some(JpegError::Cancelled));
        // Cut and damaged data: an answer (picture or error) every time, never a hang or panic.
        let mut rng = XorShift(0xD1CE);
        for round in 0..200 {
            let mut damaged = bytes.clone();
            if round % 2 == 0 {
                damaged.truncate(rng.below(bytes.len()));
            } else {
                let at = rng.below(damaged.len());
                damaged[at] ^= 1 + rng.below(255) as u8;
            }
            let _ = two(&damaged, &|| false);
        }
    }

    /// The coefficient store's render on two threads: a cancellation seen before it starts
    /// always ends the decode; one seen while rows are painted ends it too, unless the other
    /// thread had painted every row by then (the whole picture, the same as on one thread).
    #[test]
    fn a_stored_picture_on_two_threads_stops_when_cancelled() {
        for name in ["prog_420", "seq_multiscan_420"] {
            let bytes = fixture(name);
            let counting = |threads: Threads, stop_at: usize| {
                let polls = Cell::new(0);
                let result = decode_with(
                    &bytes,
                    8,
                    MAX_ALLOC,
                    &|| {
                        polls.set(polls.get() + 1);
                        polls.get() >= stop_at
                    },
                    threads,
                );
                (result, polls.get())
            };
            let (whole, total) = counting(Threads::One, usize::MAX);
            let whole = whole.expect(name);
            // On one thread the render polls once before it starts and once per MCU row (16
            // pixel rows at 4:2:0 and full size).
            let render_start = total - whole.height.div_ceil(16) as usize;
            assert!(render_start > 1, "{name}: {total} polls");
            for stop_at in 1..=total {
                let (result, _) = counting(Threads::Two, stop_at);
                match result {
                    Err(JpegError::Cancelled) => {}
                    Ok(picture) if stop_at > render_start => {
                        assert!(picture.pixels == whole.pixels, "{name} at poll {stop_at}");
                    }
                    other => panic!("{name} cancelled at poll {stop_at}: {other:?}"),
                }
            }
        }
    }

    /// Two threads never need more of the allocation budget than one: with the least budget one
    /// thread decodes in, asking for two gives the same picture.
    #[test]
    fn two_threads_fit_in_the_budget_of_one() {
        for name in ["base_420", "prog_420", "seq_multiscan_420", "prog_444"] {
            let bytes = fixture(name);
            let fits =
                |max_alloc: u64| decode_with(&bytes, 8, max_alloc, &|| false, Threads::One).is_ok();
            let (mut low, mut high) = (0u64, MAX_ALLOC);
            assert!(fits(high) && !fits(low), "{name}");
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                if fits(mid) { high = mid } else { low = mid }
            }
            let one = decode_with(&bytes, 8, high, &|| false, Threads::One).expect(name);
            let two = decode_with(&bytes, 8, high, &|| false, Threads::Two)
                .unwrap_or_else(|e| panic!("{name} on two threads with {high} bytes: {e}"));
            assert!(one.pixels == two.pixels, "{name}");
            let over = decode_with(&bytes, 8, low, &|| false, Threads::Two);
            assert!(
                over.is_err(),
                "{name} decodes in {low} bytes on two threads"
            );
        }
    }
}
