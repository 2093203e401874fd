//! Writes the photo-like JPEGs the picture benchmarks use (`benches/pictures.sh`), so no big
//! file lives in git: a mountain landscape (graded sky with clouds, a sun, three ridges with rock
//! texture, water with ripples, fine film grain), the same scene at any size, deterministic.
//!
//! ```sh
//! cargo run --release --example bench_pictures -- OUT_DIR            # 1200x900 and 4000x3000
//! cargo run --release --example bench_pictures -- OUT_DIR 1600x1200  # other sizes
//! ```
//!
//! Files are `OUT_DIR/landscape_WxH.jpg` at JPEG quality 85 (about what pbs.twimg.com serves).

use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};

const QUALITY: u8 = 85;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let mut sizes: Vec<(u32, u32)> = args
        .map(|a| {
            let (w, h) = a.split_once('x').expect("sizes look like 1200x900");
            (
                w.parse().expect("a width in pixels"),
                h.parse().expect("a height in pixels"),
            )
        })
        .collect();
    if sizes.is_empty() {
        sizes = vec![(1200, 900), (4000, 3000)];
    }
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for (w, h) in sizes {
        let img = landscape(w, h);
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, QUALITY))
            .expect("encode jpeg");
        let path = dir.join(format!("landscape_{w}x{h}.jpg"));
        std::fs::write(&path, &out).expect("write the picture");
        println!("{} {} bytes", path.display(), out.len());
    }
}

fn hash(seed: u64, x: i64, y: i64) -> f32 {
    let mut h = seed ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    (h & 0xFFFF) as f32 / 65535.0
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in [0, 1].
fn noise2(seed: u64, x: f32, y: f32) -> f32 {
    let (xi, yi) = (x.floor() as i64, y.floor() as i64);
    let (tx, ty) = (smooth(x - x.floor()), smooth(y - y.floor()));
    let a = hash(seed, xi, yi) + (hash(seed, xi + 1, yi) - hash(seed, xi, yi)) * tx;
    let b = hash(seed, xi, yi + 1) + (hash(seed, xi + 1, yi + 1) - hash(seed, xi, yi + 1)) * tx;
    a + (b - a) * ty
}

/// Fractal noise in about [0, 1]: `octaves` layers, each twice as fine and half as strong.
fn fbm(seed: u64, x: f32, y: f32, octaves: u32) -> f32 {
    let (mut sum, mut amp, mut freq, mut norm) = (0.0, 0.5, 1.0, 0.0);
    for o in 0..octaves {
        sum += amp * noise2(seed + u64::from(o), x * freq, y * freq);
        norm += amp;
        amp *= 0.5;
        freq *= 2.0;
    }
    sum / norm
}

type C = [f32; 3];

fn mix(a: C, b: C, t: f32) -> C {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// The scene in normalised coordinates (u, v in [0, 1]); `px` is one pixel in those units, so
/// the texture gets finer detail at larger sizes, as a real photo does.
fn scene(u: f32, v: f32, px: f32) -> C {
    let horizon = 0.62;
    // Ridge heights (from the top, in v) of three mountain layers, far to near.
    let ridges = [
        (0.36, 0.16, 11u64, [0.47, 0.52, 0.66]),
        (0.45, 0.14, 23u64, [0.30, 0.34, 0.42]),
        (0.53, 0.10, 37u64, [0.16, 0.20, 0.18]),
    ];
    let sky = |u: f32, v: f32| -> C {
        let t = (v / horizon).clamp(0.0, 1.0);
        let mut c = mix([0.16, 0.30, 0.62], [0.98, 0.70, 0.42], t.powf(1.6));
        // Sun with a glow.
        let d = ((u - 0.68).powi(2) + ((v - 0.40) * 0.75).powi(2)).sqrt();
        c = mix(c, [1.0, 0.93, 0.75], (0.9 - d * 6.0).clamp(0.0, 1.0));
        if d < 0.045 {
            c = [1.0, 0.97, 0.88];
        }
        // Clouds.
        let cl = fbm(5, u * 6.0, v * 14.0, 6);
        mix(c, [0.96, 0.88, 0.86], ((cl - 0.55) * 3.0).clamp(0.0, 0.8))
    };
    let land = |u: f32, v: f32| -> Option<C> {
        let mut out = None;
        for (base, amp, seed, col) in ridges {
            let top = base - amp * fbm(seed, u * 5.0, 0.5, 8);
            if v >= top {
                let rock = fbm(seed + 100, u * 60.0, v * 60.0, 5);
                let fine = noise2(seed + 200, u / px * 0.5, v / px * 0.5);
                let shade = 0.75 + 0.5 * rock + 0.12 * (fine - 0.5) - (v - top) * 0.6;
                out = Some([col[0] * shade, col[1] * shade, col[2] * shade]);
            }
        }
        out
    };
    if v < horizon {
        land(u, v).unwrap_or_else(|| sky(u, v))
    } else {
        // Water: the mirrored scene, darker and bluer, broken by ripples.
        let ripple = (fbm(71, u * 8.0, v * 90.0, 4) - 0.5) * 0.03;
        let mv = (2.0 * horizon - v + ripple).clamp(0.0, horizon - 0.0001);
        let r = land(u + ripple, mv).unwrap_or_else(|| sky(u + ripple, mv));
        mix(r, [0.05, 0.12, 0.20], 0.35 + (v - horizon) * 0.8)
    }
}

fn landscape(w: u32, h: u32) -> RgbImage {
    let px = 1.0 / w as f32;
    let mut grain = fastrand::Rng::with_seed(7);
    RgbImage::from_fn(w, h, |x, y| {
        let c = scene(x as f32 / w as f32, y as f32 / h as f32, px);
        let n = (grain.f32() - 0.5) * 6.0;
        let ch = |v: f32| (v * 255.0 + n).round().clamp(0.0, 255.0) as u8;
        Rgb([ch(c[0]), ch(c[1]), ch(c[2])])
    })
}
