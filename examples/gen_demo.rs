//! Regenerates `assets/demo/`: the demo account's wire files (KeyAPI, agntdata, X API v2 pages and
//! the manifest) and the pictures they point to, all deterministic.
//!
//! ```sh
//! cargo run --example gen_demo            # data and pictures
//! cargo run --example gen_demo -- --data  # data only
//! cargo run --example gen_demo -- --sheet /tmp/sheet.png  # plus a contact sheet
//! ```
//!
//! The account itself is defined once in `xmedia::demo::account`; the JSON is written by
//! `xmedia::demo::wire::wire_files`, which the test suite also calls to check the committed files.
//! The pictures are procedural (graded skies, noisy mountain layers, reflections, a night city,
//! colour fields, a test chart) and only made here.

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use xmedia::demo::account::{self, ImageSpec, Scene, mix};
use xmedia::demo::wire;

const JPEG_QUALITY: u8 = 56;

fn main() {
    let data_only = std::env::args().any(|a| a == "--data");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let acc = account::account();
    for (rel, text) in wire::wire_files(&acc) {
        write(&root.join(rel), text.as_bytes());
    }
    if data_only {
        return;
    }
    let mut sums = String::new();
    for spec in acc.all_images() {
        let path = root.join(&spec.path);
        let bytes = render(&spec);
        write(&path, &bytes);
        sums.push_str(&format!(
            "{:016x} {} {}\n",
            xmedia::demo::fnv1a64(&bytes),
            bytes.len(),
            spec.path
        ));
    }
    // Also makes cargo re-embed the pictures: `src/demo.rs` includes this file with
    // `include_bytes!`, which cargo tracks (`include_dir!` alone is not tracked).
    write(&root.join("pictures.txt"), sums.as_bytes());
    if let Some(sheet) = std::env::args().skip_while(|a| a != "--sheet").nth(1) {
        contact_sheet(&root, &acc.all_images(), Path::new(&sheet));
    }
    println!("wrote {}", root.display());
}

/// A PNG of small previews of every picture, to eyeball the output.
fn contact_sheet(root: &Path, specs: &[ImageSpec], out: &Path) {
    let cell = 160u32;
    let cols = 10u32;
    let rows = (specs.len() as u32).div_ceil(cols);
    let mut sheet = RgbImage::from_pixel(cols * cell, rows * cell, Rgb([40, 40, 40]));
    for (i, spec) in specs.iter().enumerate() {
        let img = image::open(root.join(&spec.path))
            .expect("open picture")
            .thumbnail(cell - 8, cell - 8)
            .to_rgb8();
        let (x, y) = ((i as u32 % cols) * cell + 4, (i as u32 / cols) * cell + 4);
        image::imageops::overlay(&mut sheet, &img, x as i64, y as i64);
    }
    sheet.save(out).expect("save sheet");
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create directory");
    }
    std::fs::write(path, bytes).expect("write file");
}

fn render(spec: &ImageSpec) -> Vec<u8> {
    let mut out = Vec::new();
    if spec.scene == Scene::Badge {
        let img = badge(spec.width, spec.height);
        DynamicImage::ImageRgba8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode png");
        return out;
    }
    let img = match spec.scene {
        Scene::Landscape { palette } => landscape(spec.width, spec.height, palette, spec.seed),
        Scene::City => city(spec.width, spec.height, spec.seed),
        Scene::Abstract => abstract_fields(spec.width, spec.height, spec.seed),
        Scene::Chart => chart(spec.width, spec.height),
        Scene::Avatar => avatar(spec.width, spec.height),
        Scene::Badge => unreachable!(),
    };
    let enc = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(enc)
        .expect("encode jpeg");
    out
}

// ------------------------------------------------------------------ helpers

type C = [f32; 3];

fn lerp(a: C, b: C, t: f32) -> C {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn hex(v: u32) -> C {
    [
        ((v >> 16) & 255) as f32,
        ((v >> 8) & 255) as f32,
        (v & 255) as f32,
    ]
}

fn px(c: C) -> Rgb<u8> {
    Rgb([
        c[0].clamp(0.0, 255.0) as u8,
        c[1].clamp(0.0, 255.0) as u8,
        c[2].clamp(0.0, 255.0) as u8,
    ])
}

/// Deterministic hash to [0, 1).
fn h01(seed: u64, i: i64) -> f32 {
    (mix(seed ^ (i as u64).wrapping_mul(0x9E37_79B9)) >> 40) as f32 / (1u64 << 24) as f32
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// 1-D value noise in [0, 1).
fn noise1(seed: u64, x: f32) -> f32 {
    let i = x.floor();
    let f = x - i;
    let a = h01(seed, i as i64);
    let b = h01(seed, i as i64 + 1);
    a + (b - a) * smooth(f)
}

fn fbm1(seed: u64, x: f32) -> f32 {
    let mut sum = 0.0;
    let mut amp = 0.5;
    let mut freq = 1.0;
    for o in 0..4 {
        sum += amp * noise1(seed.wrapping_add(o * 7919), x * freq);
        amp *= 0.42;
        freq *= 2.1;
    }
    sum
}

/// 2-D value noise in [0, 1).
fn noise2(seed: u64, x: f32, y: f32) -> f32 {
    let (ix, iy) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (smooth(x - x.floor()), smooth(y - y.floor()));
    let at = |a: i64, b: i64| {
        h01(
            seed,
            a.wrapping_mul(73_856_093) ^ b.wrapping_mul(19_349_663),
        )
    };
    let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * fx;
    let bot = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * fx;
    top + (bot - top) * fy
}

// ------------------------------------------------------------------ scenes

struct Palette {
    sky_top: C,
    sky_bottom: C,
    sun: C,
    layers: [C; 4],
    water: Option<C>,
    stars: bool,
}

fn palette(p: u8) -> Palette {
    match p {
        // Misty dawn.
        0 => Palette {
            sky_top: hex(0x6f9fd8),
            sky_bottom: hex(0xf6d7b8),
            sun: hex(0xfff1d0),
            layers: [hex(0xb7c3d6), hex(0x8497b3), hex(0x4f6a6a), hex(0x263a2c)],
            water: Some(hex(0x5d7f9c)),
            stars: false,
        },
        // Desert noon.
        1 => Palette {
            sky_top: hex(0x2f6fc0),
            sky_bottom: hex(0xcfe3f2),
            sun: hex(0xffffff),
            layers: [hex(0xd9b48a), hex(0xd09a5c), hex(0xb8743c), hex(0x8a4f26)],
            water: None,
            stars: false,
        },
        // Blue hour.
        2 => Palette {
            sky_top: hex(0x0b1a3c),
            sky_bottom: hex(0x5a7fb8),
            sun: hex(0x9fb8e8),
            layers: [hex(0x6a7fa8), hex(0x41557e), hex(0x263556), hex(0x101a30)],
            water: Some(hex(0x1c2c50)),
            stars: true,
        },
        // Sunset.
        _ => Palette {
            sky_top: hex(0x3a2560),
            sky_bottom: hex(0xff9a4a),
            sun: hex(0xffe08a),
            layers: [hex(0xb56a6a), hex(0x7a3f5a), hex(0x4a2846), hex(0x22142a)],
            water: Some(hex(0x4a2f55)),
            stars: false,
        },
    }
}

fn landscape(w: u32, h: u32, pal: u8, seed: u64) -> RgbImage {
    let p = palette(pal);
    let (wf, hf) = (w as f32, h as f32);
    let horizon = if p.water.is_some() {
        0.6 + 0.1 * h01(seed, 1)
    } else {
        1.0
    } * hf;
    let sun_x = (0.2 + 0.6 * h01(seed, 2)) * wf;
    let sun_y = (0.25 + 0.3 * h01(seed, 3)) * horizon;
    let sun_r = 0.035 * wf.max(hf);
    let sky_limit = if p.water.is_some() {
        horizon
    } else {
        hf * 0.62
    };

    // Ridge lines per layer and column (far to near).
    let mut ridges: Vec<Vec<f32>> = Vec::new();
    for k in 0..4u64 {
        let freq = (0.9 + k as f32 * 0.8) / wf;
        let amp = hf * (0.32 - k as f32 * 0.06);
        let base = if p.water.is_some() {
            horizon - (0.02 + 0.02 * k as f32) * hf * (1.0 - k as f32 * 0.3)
        } else {
            sky_limit + k as f32 * hf * 0.1
        };
        let s = seed.wrapping_add(k * 101);
        ridges.push(
            (0..w)
                .map(|x| {
                    let n = fbm1(s, x as f32 * freq * 3.0);
                    let sharp = if pal == 1 {
                        n
                    } else {
                        1.0 - (2.0 * n - 1.0).abs()
                    };
                    base - amp * (0.35 + 0.9 * sharp) * if p.water.is_some() { 1.0 } else { 0.5 }
                })
                .collect(),
        );
    }

    let scene = |x: f32, y: f32| -> C {
        let t = (y / sky_limit).clamp(0.0, 1.0);
        let mut c = lerp(p.sky_top, p.sky_bottom, t.powf(1.4));
        // Clouds.
        let cl = noise2(seed ^ 0xC10D, x / wf * 6.0, y / hf * 14.0);
        let cl = ((cl - 0.55) * 3.0).clamp(0.0, 1.0) * (1.0 - t);
        c = lerp(c, lerp(p.sky_bottom, [255.0, 255.0, 255.0], 0.5), cl * 0.5);
        // Sun glow and disc.
        let d = ((x - sun_x).powi(2) + (y - sun_y).powi(2)).sqrt();
        let glow = (-d / (sun_r * 5.0)).exp();
        c = lerp(c, p.sun, glow * 0.7);
        if d < sun_r {
            c = p.sun;
        }
        if p.stars && t < 0.6 && h01(seed ^ 0x57A2, (y as i64) * 100_003 + x as i64) > 0.9985 {
            c = [235.0, 240.0, 255.0];
        }
        let xi = (x as usize).min(w as usize - 1);
        // Nearest layer first: the first ridge the point is below wins.
        for (k, ridge) in ridges.iter().enumerate().rev() {
            if y >= ridge[xi] {
                let depth = ((y - ridge[xi]) / hf * 4.0).clamp(0.0, 1.0);
                let mut lc = lerp(p.layers[k], hex(0x000000), depth * 0.35);
                let haze = 0.45 - k as f32 * 0.13;
                lc = lerp(lc, p.sky_bottom, haze.max(0.0));
                // A little rock texture on the near layers.
                let tex = noise2(seed ^ k as u64, x / 28.0, y / 14.0) - 0.5;
                lc = lerp(
                    lc,
                    [lc[0] * 1.3, lc[1] * 1.3, lc[2] * 1.3],
                    tex * k as f32 * 0.25 + 0.0,
                );
                // Snow caps on the tall far peaks only, ragged at the edge.
                if (pal == 2 || pal == 0) && k < 2 {
                    let above = sky_limit - hf * 0.2 - ridge[xi];
                    let ragged = noise2(seed ^ 0x5A0, x / 6.0, y / 6.0) * hf * 0.02;
                    if above > 0.0 && y - ridge[xi] < above * 0.5 + ragged {
                        lc = lerp(lc, [232.0, 238.0, 250.0], 0.75);
                    }
                }
                c = lc;
                break;
            }
        }
        c
    };

    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let c = match p.water {
            Some(water) if yf > horizon => {
                let depth = (yf - horizon) / (hf - horizon).max(1.0);
                let ripple = (yf * 0.3 + (xf * 0.01).sin() * 3.0).sin() * (2.0 + depth * 8.0);
                let src_y = (2.0 * horizon - yf).max(0.0);
                let refl = scene((xf + ripple).clamp(0.0, wf - 1.0), src_y);
                lerp(refl, water, 0.35 + depth * 0.4)
            }
            _ => scene(xf, yf),
        };
        let grain = (h01(seed ^ 0x6A1, (y as i64) * 65_537 + x as i64) - 0.5) * 1.0;
        px([c[0] + grain, c[1] + grain, c[2] + grain])
    })
}

fn city(w: u32, h: u32, seed: u64) -> RgbImage {
    let (wf, hf) = (w as f32, h as f32);
    let street = hf * 0.78;
    // Buildings: (x0, x1, top, hue)
    let mut buildings = Vec::new();
    let mut x = -10.0f32;
    let mut i = 0i64;
    while x < wf {
        let bw = wf * (0.04 + 0.09 * h01(seed, i));
        let top = street - hf * (0.15 + 0.55 * h01(seed, i + 1000));
        buildings.push((x, x + bw, top, i));
        x += bw + wf * 0.004;
        i += 1;
    }
    let lit = [hex(0xffd98a), hex(0xfff4d6), hex(0x8fe3ff), hex(0xff8fd1)];
    let scene = |x: f32, y: f32| -> C {
        let t = (y / street).clamp(0.0, 1.0);
        let mut c = lerp(hex(0x070b1f), hex(0x4b2a6b), t.powf(1.8));
        if h01(seed ^ 0x57, (y as i64) * 100_003 + x as i64) > 0.999 && t < 0.5 {
            c = [220.0, 225.0, 255.0];
        }
        for &(x0, x1, top, id) in &buildings {
            if x >= x0 && x < x1 && y >= top {
                c = lerp(hex(0x0d1020), hex(0x1d2038), h01(seed, id + 7));
                let (cx, cy) = (((x - x0) / 16.0) as i64, ((y - top) / 22.0) as i64);
                let (fx, fy) = ((x - x0) % 16.0, (y - top) % 22.0);
                if fx > 5.0
                    && fy > 8.0
                    && x1 - x > 8.0
                    && h01(seed ^ id as u64, cx * 977 + cy) > 0.62
                {
                    c = lit[(h01(seed, id * 31 + cy) * 4.0) as usize % 4];
                }
            }
        }
        c
    };
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let c = if yf >= street {
            let depth = (yf - street) / (hf - street).max(1.0);
            let wobble = ((yf * 0.7).sin() * 3.0 + (xf * 0.05).sin()) * (1.0 + depth * 4.0);
            let refl = scene(
                (xf + wobble).clamp(0.0, wf - 1.0),
                (2.0 * street - yf).max(0.0),
            );
            lerp(lerp(refl, hex(0x151526), 0.55), hex(0x0a0a14), depth * 0.5)
        } else {
            scene(xf, yf)
        };
        let grain = (h01(seed ^ 0x6A1, (y as i64) * 65_537 + x as i64) - 0.5) * 1.0;
        px([c[0] + grain, c[1] + grain, c[2] + grain])
    })
}

fn abstract_fields(w: u32, h: u32, seed: u64) -> RgbImage {
    let colors = [
        hex(0xff6b6b),
        hex(0xffd93d),
        hex(0x6bcbff),
        hex(0x9b5de5),
        hex(0x00f5d4),
        hex(0xf15bb5),
    ];
    let blobs: Vec<(f32, f32, f32, C)> = (0..5)
        .map(|i| {
            (
                h01(seed, i * 4) * w as f32,
                h01(seed, i * 4 + 1) * h as f32,
                (0.25 + 0.35 * h01(seed, i * 4 + 2)) * w.max(h) as f32,
                colors[(h01(seed, i * 4 + 3) * 6.0) as usize % 6],
            )
        })
        .collect();
    let base_a = colors[(seed % 6) as usize];
    let base_b = hex(0x1b1b3a);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let mut c = lerp(base_a, base_b, (xf + yf) / (w + h) as f32);
        for &(bx, by, r, col) in &blobs {
            let d = ((xf - bx).powi(2) + (yf - by).powi(2)).sqrt() / r;
            c = lerp(c, col, (1.0 - d).clamp(0.0, 1.0).powf(1.5) * 0.85);
        }
        let band = ((xf * 0.01 + yf * 0.004).sin() * 0.5 + 0.5) * 0.12;
        c = lerp(c, [255.0, 255.0, 255.0], band);
        px(c)
    })
}

fn chart(w: u32, h: u32) -> RgbImage {
    let bars = [
        0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
    ];
    let (wf, hf) = (w as f32, h as f32);
    let (cx, cy) = (wf / 2.0, hf / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let mut c = if yf < hf * 0.55 {
            hex(bars[((xf / wf) * 8.0) as usize % 8])
        } else if yf < hf * 0.7 {
            let g = ((xf / wf) * 16.0).floor() * 17.0;
            [g, g, g]
        } else if yf < hf * 0.85 {
            let v = (xf / wf) * 255.0;
            [v, 255.0 - v, 128.0]
        } else {
            // Checkerboard and fine stripes.
            if ((x / 20) + (y / 20)) % 2 == 0 {
                [30.0, 30.0, 30.0]
            } else {
                [220.0, 220.0, 220.0]
            }
        };
        let step = (w.min(h) / 12).max(8);
        if x % step == 0 || y % step == 0 {
            c = [128.0, 128.0, 128.0];
        }
        let d = ((xf - cx).powi(2) + (yf - cy).powi(2)).sqrt();
        let r = w.min(h) as f32;
        for ring in [0.12, 0.24, 0.36] {
            if (d - r * ring).abs() < 2.5 {
                c = [255.0, 255.0, 255.0];
            }
        }
        if (xf - cx).abs() < 1.5 || (yf - cy).abs() < 1.5 {
            c = [255.0, 255.0, 255.0];
        }
        px(c)
    })
}

fn avatar(w: u32, h: u32) -> RgbImage {
    let (wf, hf) = (w as f32, h as f32);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32 / wf, y as f32 / hf);
        let mut c = lerp(hex(0x3a2560), hex(0xff9a4a), yf);
        let d = ((xf - 0.5).powi(2) + (yf - 0.42).powi(2)).sqrt();
        if d < 0.16 {
            c = hex(0xffe08a);
        }
        // Two peaks.
        let peak = |px0: f32, ph: f32, pw: f32| yf > 0.95 - ph + (xf - px0).abs() * ph / pw;
        if peak(0.35, 0.5, 0.35) {
            c = hex(0x22142a);
        } else if peak(0.7, 0.4, 0.3) {
            c = hex(0x4a2846);
        }
        px(c)
    })
}

fn badge(w: u32, h: u32) -> RgbaImage {
    let (wf, hf) = (w as f32, h as f32);
    RgbaImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32 / wf - 0.5, y as f32 / hf - 0.5);
        // Rounded square.
        let q = (xf.abs() - 0.32).max(0.0).hypot((yf.abs() - 0.32).max(0.0));
        if q > 0.16 {
            return Rgba([0, 0, 0, 0]);
        }
        let mut c = lerp(hex(0x0e6f73), hex(0x29b3a6), yf + 0.5);
        // An aurora band and a white peak.
        let band = (yf + 0.12 + 0.1 * (xf * 9.0).sin()).abs();
        if band < 0.05 {
            c = hex(0x9ff5c8);
        }
        if yf > 0.05 + xf.abs() * 1.2 && yf < 0.34 {
            c = hex(0xffffff);
        }
        let p = px(c);
        Rgba([p[0], p[1], p[2], 255])
    })
}
