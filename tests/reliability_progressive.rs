//! RELIABILITY B5: corrupt progressive JPEGs — the kind that made jpeg-decoder and zune-jpeg
//! panic in fuzzing (shift overflows on successive-approximation bits, out-of-range spectral
//! selections, index errors in coefficient refinement, refinement scans before their first scan).
//!
//! The seeds under `tests/fixtures/images/progressive/` are real progressive JPEGs made with
//! ImageMagick (4:2:0, 4:2:2, 4:4:4, grayscale, CMYK; 6–18 scans each). Each one is taken apart
//! into its segments and rebuilt with hostile headers and scan orders, plus seeded random damage
//! to the entropy-coded data. Every variant goes through:
//! - the app's own path (`decode_to_fit` inside `contain::contained`, as the pipeline runs it),
//!   at the full and at a reduced (DCT-scaled) size: it must return a picture that fits its box
//!   or an error with a reason — never unwind;
//! - each decoder crate on its own (zune-jpeg through `image`, jpeg-decoder full and scaled),
//!   counting how often the crate itself panics (the test build keeps debug assertions and
//!   overflow checks on in these crates, see Cargo.toml).
//!
//! A panic in a decoder is not a test failure by itself: the app's promise is that such a panic
//! fails one picture (`MediaError::Crashed`) and nothing else, which the first bullet checks and
//! `reliability_tui::b5_a_panicking_decoder_fails_the_picture_not_the_app` checks end to end.

use std::io::Cursor;

use xmedia::media::MediaError;
use xmedia::media::contain::contained;
use xmedia::media::decode::{DecodeLimits, decode_to_fit};

const SEEDS: [&str; 5] = [
    "color420.jpg",
    "color422.jpg",
    "color444.jpg",
    "gray.jpg",
    "cmyk.jpg",
];

fn seed(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/images/progressive/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).expect("seed exists")
}

/// One marker segment, or the entropy-coded data after a scan header.
#[derive(Clone, Debug)]
enum Part {
    /// Marker byte (after 0xFF) and the payload after the 2-byte length.
    Segment(u8, Vec<u8>),
    /// Entropy-coded bytes (with their 0xFF00 stuffing and RST markers) after an SOS.
    Data(Vec<u8>),
}

/// Splits a JPEG between SOI and EOI into its parts. Panics on a malformed seed (they are ours).
fn parts(jpeg: &[u8]) -> Vec<Part> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "SOI");
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "marker at {i}");
        let marker = jpeg[i + 1];
        if marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let payload = jpeg[i + 4..i + 2 + len].to_vec();
        i += 2 + len;
        out.push(Part::Segment(marker, payload));
        if marker == 0xDA {
            // Entropy data runs to the next marker that is neither stuffing nor RSTn.
            let start = i;
            while i + 1 < jpeg.len()
                && !(jpeg[i] == 0xFF
                    && jpeg[i + 1] != 0x00
                    && !(0xD0..=0xD7).contains(&jpeg[i + 1]))
            {
                i += 1;
            }
            out.push(Part::Data(jpeg[start..i].to_vec()));
        }
    }
    out
}

fn build(parts: &[Part]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for p in parts {
        match p {
            Part::Segment(marker, payload) => {
                out.extend([0xFF, *marker]);
                let len = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
                out.extend(len.to_be_bytes());
                out.extend(payload);
            }
            Part::Data(d) => out.extend(d),
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

/// Indices of the parts that are scan headers (SOS).
fn scans(parts: &[Part]) -> Vec<usize> {
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, Part::Segment(0xDA, _)))
        .map(|(i, _)| i)
        .collect()
}

fn segment_index(parts: &[Part], marker: u8) -> Option<usize> {
    parts
        .iter()
        .position(|p| matches!(p, Part::Segment(m, _) if *m == marker))
}

/// Applies `edit` to the payload of part `i` (a segment).
fn with_segment(parts: &[Part], i: usize, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut p = parts.to_vec();
    if let Part::Segment(_, payload) = &mut p[i] {
        edit(payload);
    }
    build(&p)
}

/// The SOS payload's tail: Ss, Se, and Ah/Al packed in one byte, after `1 + 2·Ns` bytes.
fn sos_tail(payload: &[u8]) -> usize {
    1 + 2 * usize::from(payload[0])
}

/// Every hostile variant of one seed.
fn variants(jpeg: &[u8], rng: &mut fastrand::Rng) -> Vec<(String, Vec<u8>)> {
    let parts = parts(jpeg);
    let scans = scans(&parts);
    assert!(scans.len() >= 6, "a progressive seed has many scans");
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut push = |what: String, bytes: Vec<u8>| out.push((what, bytes));

    // Scan headers: spectral selection and successive approximation out of range, in every scan.
    for &s in &scans {
        for (ss, se) in [
            (0, 63),
            (1, 0),
            (0, 5),
            (63, 63),
            (64, 70),
            (200, 255),
            (5, 1),
        ] {
            push(
                format!("scan {s}: Ss={ss} Se={se}"),
                with_segment(&parts, s, |p| {
                    let t = sos_tail(p);
                    p[t] = ss;
                    p[t + 1] = se;
                }),
            );
        }
        for (ah, al) in [
            (0, 13),
            (0, 15),
            (15, 0),
            (14, 13),
            (1, 1),
            (0, 10),
            (13, 12),
        ] {
            push(
                format!("scan {s}: Ah={ah} Al={al}"),
                with_segment(&parts, s, |p| {
                    let t = sos_tail(p);
                    p[t + 2] = (ah << 4) | al;
                }),
            );
        }
        // Component selector not in the frame; Huffman table selectors out of range.
        push(
            format!("scan {s}: unknown component"),
            with_segment(&parts, s, |p| p[1] = 0xEE),
        );
        push(
            format!("scan {s}: table selectors 15/15"),
            with_segment(&parts, s, |p| p[2] = 0xFF),
        );
        push(
            format!("scan {s}: four components claimed"),
            with_segment(&parts, s, |p| p[0] = 4),
        );
        push(
            format!("scan {s}: no components"),
            with_segment(&parts, s, |p| p[0] = 0),
        );
    }

    // Scan order: refinement scans before their first scans, a scan repeated, scans dropped.
    let mut reversed = parts.clone();
    let bodies: Vec<(Part, Part)> = scans
        .iter()
        .map(|&s| (parts[s].clone(), parts[s + 1].clone()))
        .collect();
    for (k, &s) in scans.iter().enumerate() {
        let (h, d) = bodies[bodies.len() - 1 - k].clone();
        reversed[s] = h;
        reversed[s + 1] = d;
    }
    push("scans in reverse order".into(), build(&reversed));
    let mut first_twice = parts.clone();
    first_twice.splice(
        scans[0]..scans[0],
        [parts[scans[0]].clone(), parts[scans[0] + 1].clone()],
    );
    push("first scan twice".into(), build(&first_twice));
    let last = *scans.last().expect("scans");
    let mut refined_twice = parts.clone();
    refined_twice.splice(last..last, [parts[last].clone(), parts[last + 1].clone()]);
    push("last refinement twice".into(), build(&refined_twice));
    for &s in &scans {
        let mut dropped = parts.clone();
        dropped.drain(s..s + 2);
        push(format!("scan {s} dropped"), build(&dropped));
        // Cut inside the scan's data, and right after its header.
        let mut cut = build(&parts[..=s]);
        push(format!("cut after scan header {s}"), cut.clone());
        if let Part::Data(d) = &parts[s + 1] {
            cut.extend(&d[..d.len() / 2]);
            push(format!("cut inside scan {s}"), cut);
        }
    }

    // Frame header: precision, component count, sampling factors, quantisation table ids, size.
    if let Some(f) = segment_index(&parts, 0xC2) {
        for (what, at, value) in [
            ("precision 12", 0, 12),
            ("precision 16", 0, 16),
            ("height 0", 1, 0),
            ("width 0", 3, 0),
            ("one component", 5, 1),
            ("255 components", 5, 255),
            ("sampling 0x0", 7, 0x00),
            ("sampling 4x4", 7, 0x44),
            ("sampling 15x15", 7, 0xFF),
            ("sampling 3x1", 7, 0x31),
            ("quant table 3", 8, 3),
            ("quant table 15", 8, 15),
        ] {
            push(
                format!("SOF2 {what}"),
                with_segment(&parts, f, |p| {
                    if at < p.len() {
                        p[at] = value;
                        if at == 1 || at == 3 {
                            p[at + 1] = value;
                        }
                    }
                }),
            );
        }
        // Second component sampled more than the first (reverse subsampling).
        push(
            "SOF2 chroma 2x2 luma 1x1".into(),
            with_segment(&parts, f, |p| {
                if p.len() >= 12 {
                    p[7] = 0x11;
                    p[10] = 0x22;
                }
            }),
        );
        // A frame much larger than its data (kept moderate: every decoder fills it all).
        push(
            "SOF2 640x480 with a 72x56 scan".into(),
            with_segment(&parts, f, |p| {
                p[1..5].copy_from_slice(&[0x01, 0xE0, 0x02, 0x80]);
            }),
        );
    }

    // Huffman and quantisation tables.
    for (i, p) in parts.iter().enumerate() {
        match p {
            Part::Segment(0xC4, payload) if payload.len() > 17 => {
                push(
                    format!("DHT {i}: code counts overflow"),
                    with_segment(&parts, i, |p| p[1..17].fill(0xFF)),
                );
                push(
                    format!("DHT {i}: all counts zero"),
                    with_segment(&parts, i, |p| p[1..17].fill(0)),
                );
                push(
                    format!("DHT {i}: class/id 0x1F"),
                    with_segment(&parts, i, |p| p[0] = 0x1F),
                );
                push(
                    format!("DHT {i}: truncated"),
                    with_segment(&parts, i, |p| p.truncate(10)),
                );
            }
            Part::Segment(0xDB, payload) if !payload.is_empty() => {
                push(
                    format!("DQT {i}: 16-bit claimed"),
                    with_segment(&parts, i, |p| p[0] |= 0x10),
                );
                push(
                    format!("DQT {i}: all zero"),
                    with_segment(&parts, i, |p| p[1..].fill(0)),
                );
            }
            _ => {}
        }
    }
    // A restart interval the data does not follow.
    for interval in [1u16, 7] {
        let mut with_dri = parts.clone();
        let at = scans[0];
        with_dri.insert(at, Part::Segment(0xDD, interval.to_be_bytes().to_vec()));
        push(
            format!("DRI {interval} without RST markers"),
            build(&with_dri),
        );
    }

    // Seeded random damage inside the entropy-coded data of one scan at a time (headers intact,
    // so the decoder gets deep into coefficient decoding before it meets the damage).
    for round in 0..40 {
        let s = scans[rng.usize(..scans.len())];
        let mut damaged = parts.clone();
        if let Part::Data(d) = &mut damaged[s + 1]
            && !d.is_empty()
        {
            for _ in 0..rng.usize(1..6) {
                let at = rng.usize(..d.len());
                d[at] = match rng.u8(..4) {
                    0 => 0xFF,
                    1 => 0x00,
                    _ => rng.u8(..),
                };
            }
        }
        push(
            format!("random damage {round} in scan {s}"),
            build(&damaged),
        );
    }
    out
}

/// What one decoder made of one variant.
#[derive(Default, Debug)]
struct Tally {
    ok: usize,
    err: usize,
    crashed: Vec<String>,
}

impl Tally {
    fn add<T>(&mut self, what: &str, r: Result<T, MediaError>) {
        match r {
            Ok(_) => self.ok += 1,
            Err(MediaError::Crashed(m)) => self.crashed.push(format!("{what}: {m}")),
            Err(_) => self.err += 1,
        }
    }
}

#[test]
fn b5_hostile_progressive_jpegs_fail_one_picture_never_the_app() {
    let limits = DecodeLimits::default();
    let mut rng = fastrand::Rng::with_seed(0xB5B5);
    let (mut app_full, mut app_scaled) = (Tally::default(), Tally::default());
    let (mut zune, mut jd_full, mut jd_scaled) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut total = 0;
    for name in SEEDS {
        let original = seed(name);
        // The seed itself decodes, through the app's path, to its box.
        let fitted = contained(|| decode_to_fit(&original, (64, 48), &limits, &|| false))
            .unwrap_or_else(|e| panic!("{name}: the intact seed decodes: {e}"));
        assert!(fitted.image.width() <= 64 && fitted.image.height() <= 48);

        for (what, bytes) in variants(&original, &mut rng) {
            total += 1;
            let what = format!("{name}: {what}");
            // The app's path, as the pipeline runs it: a picture that fits, or a reason.
            for (tally, target) in [(&mut app_full, (64, 48)), (&mut app_scaled, (9, 7))] {
                let r = contained(|| decode_to_fit(&bytes, target, &limits, &|| false));
                if let Ok(f) = &r {
                    let (w, h) = (f.image.width(), f.image.height());
                    assert!(
                        w >= 1 && h >= 1 && w <= target.0 && h <= target.1,
                        "{what}: {w}x{h} does not fit {target:?}"
                    );
                }
                if let Err(e) = &r {
                    assert!(!e.to_string().is_empty(), "{what}: an error says why");
                }
                tally.add(&what, r);
            }
            // Each decoder crate on its own.
            zune.add(
                &what,
                contained(|| {
                    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
                        .map_err(|e| MediaError::Decode(e.to_string()))
                }),
            );
            jd_full.add(
                &what,
                contained(|| {
                    jpeg_decoder::Decoder::new(Cursor::new(&bytes))
                        .decode()
                        .map_err(|e| MediaError::Decode(e.to_string()))
                }),
            );
            jd_scaled.add(
                &what,
                contained(|| {
                    let mut d = jpeg_decoder::Decoder::new(Cursor::new(&bytes));
                    d.scale(8, 8)
                        .map_err(|e| MediaError::Decode(e.to_string()))?;
                    d.decode().map_err(|e| MediaError::Decode(e.to_string()))
                }),
            );
        }
    }
    for (label, t) in [
        ("app full size", &app_full),
        ("app reduced size", &app_scaled),
        ("zune-jpeg (image)", &zune),
        ("jpeg-decoder", &jd_full),
        ("jpeg-decoder 1/8", &jd_scaled),
    ] {
        eprintln!(
            "{label}: {total} variants, {} decoded, {} refused, {} decoder panics caught",
            t.ok,
            t.err,
            t.crashed.len()
        );
        for c in t.crashed.iter().take(5) {
            eprintln!("  {c}");
        }
    }
    assert!(total > 500, "only {total} variants");
    // The variants reach both outcomes: some still decode (the damage is survivable), many are
    // refused with a reason.
    for t in [&app_full, &app_scaled] {
        assert!(t.ok > 0 && t.err > 0, "{t:?}");
    }
    // The two app paths agree on which variants are pictures at all only loosely (the reduced
    // path may use another decoder), so nothing more is asserted between them.
}
