//! The preview pipeline's CPU cost: decode + fit a JPEG to a pane, then encode it for each
//! protocol. `cargo bench --bench image_pipeline -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use xmedia::media::decode::{DecodeLimits, decode_to_fit};
use xmedia::media::encode::{encode, pixel_box};
use xmedia::media::graphics::fixed_picker;

/// Photo-like: smooth gradients plus fine noise, so the JPEG is neither trivial nor random.
fn photo_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(42);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let n = rng.u8(0..24);
        Rgb([
            ((x * 200 / w) as u8).saturating_add(n),
            ((y * 200 / h) as u8).saturating_add(n),
            (((x + y) * 120 / (w + h)) as u8).saturating_add(n),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

fn never() -> bool {
    false
}

fn bench(c: &mut Criterion) {
    let medium = photo_jpeg(1200, 900);
    let huge = photo_jpeg(4000, 3000);
    let limits = DecodeLimits::default();
    // 80x30 cells of 10x20 px: an 800x600 pixel box.
    let cells = Size::new(80, 30);

    let mut g = c.benchmark_group("decode_fit");
    g.sample_size(20);
    g.bench_function("jpeg_1200x900_to_800x600", |b| {
        b.iter(|| decode_to_fit(black_box(&medium), (800, 600), &limits, &never).expect("ok"))
    });
    g.bench_function("jpeg_4000x3000_to_800x600", |b| {
        b.iter(|| decode_to_fit(black_box(&huge), (800, 600), &limits, &never).expect("ok"))
    });
    // Reference: the same picture decoded whole (no DCT scaling), then resized.
    g.bench_function("jpeg_4000x3000_to_800x600_full_decode", |b| {
        b.iter(|| {
            let full = image::load_from_memory(black_box(&huge)).expect("ok");
            xmedia::media::decode::resize_exact(full, (800, 600)).expect("ok")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("encode_800x600");
    g.sample_size(20);
    for (name, proto) in [
        ("kitty", ProtocolType::Kitty),
        ("sixel", ProtocolType::Sixel),
        ("iterm2", ProtocolType::Iterm2),
        ("halfblocks", ProtocolType::Halfblocks),
    ] {
        let picker = fixed_picker(proto, (10, 20));
        let fitted = decode_to_fit(&medium, pixel_box(&picker, cells), &limits, &never)
            .expect("ok")
            .image;
        g.bench_function(name, |b| {
            b.iter(|| encode(&picker, black_box(fitted.clone()), cells).expect("ok"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("jpeg_1200x900_end_to_end");
    g.sample_size(20);
    for (name, proto) in [
        ("kitty", ProtocolType::Kitty),
        ("sixel", ProtocolType::Sixel),
        ("halfblocks", ProtocolType::Halfblocks),
    ] {
        let picker = fixed_picker(proto, (10, 20));
        g.bench_function(name, |b| {
            b.iter(|| {
                let fitted = decode_to_fit(
                    black_box(&medium),
                    pixel_box(&picker, cells),
                    &limits,
                    &never,
                )
                .expect("ok");
                encode(&picker, fitted.image, cells).expect("ok")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
