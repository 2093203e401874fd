//! RELIABILITY.md group B (image decoding) cases that `tests/media_pipeline.rs` did not cover:
//! the exact bombs of §10 (tiny files under `tests/fixtures/images/`), other formats, many-frame
//! GIFs, a zTXt bomb, lying and endless bodies, a reset mid-download, and the download limit.
//! Everything runs through the functions the app uses (`decode_to_fit`, `Downloader::fetch`,
//! `ImagePipeline`) against servers on 127.0.0.1.

use std::io::Cursor;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use xmedia::media::MediaError;
use xmedia::media::decode::{DecodeLimits, Fitted, decode_to_fit, fit_within};
use xmedia::media::download::{DownloadConfig, Downloader};
use xmedia::media::graphics::fixed_picker;
use xmedia::media::pipeline::{ImageEvent, ImagePipeline, ImageRequest, PipelineConfig};
use xmedia::testing::{RawReply, RawServer};

const DEADLINE: Duration = Duration::from_secs(20);
const CELLS: Size = Size::new(20, 10);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/images/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).expect("fixture exists")
}

fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
    encoded(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

fn decode(bytes: &[u8], target: (u32, u32)) -> Result<Fitted, MediaError> {
    decode_to_fit(bytes, target, &DecodeLimits::default(), &|| false)
}

fn fails(bytes: &[u8]) -> MediaError {
    match decode(bytes, (800, 600)) {
        Ok(f) => panic!(
            "decoded to {}x{} instead of failing",
            f.image.width(),
            f.image.height()
        ),
        Err(e) => e,
    }
}

fn crc32(data: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !data.iter().fold(0xFFFF_FFFFu32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut out = u32::try_from(data.len())
        .expect("chunk size")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG that is only a signature and an IHDR claiming `w`×`h`.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out
}

fn too_many(e: &MediaError, w: u32, h: u32) {
    assert!(
        matches!(e, MediaError::TooManyPixels { width, height, .. } if (*width, *height) == (w, h)),
        "{e:?}"
    );
    assert!(e.to_string().contains("decompression bomb"), "{e}");
    assert!(e.to_string().contains("not decoded"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Bombs and broken files

#[test]
fn b1_jpeg_declaring_65500_squared_in_333_bytes_is_refused_from_its_header() {
    let bomb = fixture("jpeg_sof_65500x65500.jpg");
    assert_eq!(bomb.len(), 333);
    too_many(&fails(&bomb), 65500, 65500);
}

#[test]
fn b2_gif_screen_65535_by_32767_in_35_bytes_is_refused_from_its_header() {
    let bomb = fixture("gif_screen_65535x32767.gif");
    assert_eq!(bomb.len(), 35);
    too_many(&fails(&bomb), 65535, 32767);
}

#[test]
fn b4_minimal_and_half_jpegs_are_damaged_not_panics() {
    let e = fails(&[0xFF, 0xD8, 0xFF, 0xD9]);
    assert!(matches!(e, MediaError::Decode(_)), "{e:?}");
    assert!(e.to_string().contains("damaged"), "{e}");
    let full = jpeg(320, 240);
    let e = fails(&full[..full.len() / 2]);
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn b5_mutated_and_cut_jpegs_never_panic() {
    let base = jpeg(48, 32);
    let mut rng = fastrand::Rng::with_seed(0xB5);
    let mut failures = 0;
    for _ in 0..300 {
        let mut bytes = base.clone();
        for _ in 0..rng.usize(1..8) {
            let at = rng.usize(2..bytes.len());
            bytes[at] = rng.u8(..);
        }
        if rng.bool() {
            bytes.truncate(rng.usize(4..bytes.len()));
        }
        // Either outcome is fine; a panic fails the test.
        if decode(&bytes, (64, 64)).is_err() {
            failures += 1;
        }
    }
    assert!(failures > 0, "the mutations did reach the error paths");
}

#[test]
fn b6_zero_sized_and_extreme_aspect_pictures_have_a_reason() {
    let e = fails(&png_header_only(0, 0));
    assert_eq!(e.to_string(), "the picture has no pixels (0x0)");
    too_many(&fails(&png_header_only(1, 65535)), 1, 65535);
    too_many(&fails(&png_header_only(65535, 1)), 65535, 1);
    let thin = RgbImage::from_pixel(1, 16_000, Rgb([1, 2, 3]));
    let e = fails(&encoded(DynamicImage::ImageRgb8(thin), ImageFormat::Png));
    assert!(matches!(e, MediaError::ExtremeAspect { .. }), "{e:?}");
    assert!(e.to_string().contains("too narrow to preview"), "{e}");
    // The sizing arithmetic itself never divides by zero or overflows.
    for (src, box_) in [
        ((0, 0), (800, 600)),
        ((65535, 1), (800, 600)),
        ((1, 65535), (1, 1)),
        ((u32::MAX, 1), (u32::MAX, u32::MAX)),
    ] {
        let (w, h) = fit_within(src, box_);
        assert!(w >= 1 && h >= 1 && w <= box_.0.max(1) && h <= box_.1.max(1));
    }
}

#[test]
fn b8_formats_we_do_not_decode_are_refused_before_any_decoder() {
    let cases: [(&str, Vec<u8>); 5] = [
        (
            "tiff",
            b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
        ),
        (
            "avif",
            b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miaf".to_vec(),
        ),
        (
            "exr",
            b"\x76\x2f\x31\x01\x02\x00\x00\x00channels\x00chlist".to_vec(),
        ),
        (
            "bmp",
            b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00".to_vec(),
        ),
        (
            "qoi",
            b"qoif\x00\x00\x00\x10\x00\x00\x00\x10\x04\x00\x00\x00".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let e = fails(&bytes);
        assert_eq!(
            e,
            MediaError::NotAnImage {
                what: "unknown file format".into()
            },
            "{what}"
        );
    }
    // WebP is decoded on purpose (the `webp` feature): the same limits apply to it.
    let img = RgbaImage::from_pixel(30, 20, Rgba([0, 200, 0, 255]));
    let webp = encoded(DynamicImage::ImageRgba8(img), ImageFormat::WebP);
    let fitted = decode(&webp, (60, 60)).expect("webp decodes");
    assert_eq!(fitted.original, (30, 20));
    assert_eq!((fitted.image.width(), fitted.image.height()), (60, 40));
}

#[test]
fn b9_gif_with_10000_frames_shows_its_first_frame() {
    use image::codecs::gif::GifEncoder;
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        let red = RgbaImage::from_pixel(4, 4, Rgba([255, 0, 0, 255]));
        let blue = RgbaImage::from_pixel(4, 4, Rgba([0, 0, 255, 255]));
        enc.encode_frame(image::Frame::new(red)).expect("frame 0");
        for _ in 1..10_000 {
            enc.encode_frame(image::Frame::new(blue.clone()))
                .expect("frame");
        }
    }
    let fitted = decode(&out, (8, 8)).expect("decodes");
    assert_eq!(fitted.original, (4, 4));
    let px = fitted.image.to_rgb8().get_pixel(4, 4).0;
    assert!(px[0] > 200 && px[2] < 50, "first frame (red), got {px:?}");
}

/// A zlib stream that inflates to `1 + 258 * repeats` zero bytes: one literal, then
/// `repeats` copies of (length 258, distance 1), in one fixed-Huffman block.
fn zeros_bomb(repeats: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, len: u32) {
            self.acc |= value << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push((self.acc & 0xFF) as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let rev = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.put(rev, len);
        }
    }
    let mut b = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman
    b.code(0x30, 8); // literal 0
    for _ in 0..repeats {
        b.code(0xC5, 8); // length code 285 = 258
        b.code(0, 5); // distance code 0 = 1
    }
    b.code(0, 7); // end of block
    if b.n > 0 {
        b.put(0, 8 - b.n);
    }
    let total = 1 + 258 * repeats as u64;
    let adler = ((total % 65521) << 16) | 1; // a = 1 (all zeros), b = n
    b.out.extend_from_slice(&(adler as u32).to_be_bytes());
    b.out
}

#[cfg(unix)]
fn peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u.ru_maxrss
    }
}

#[test]
fn b10_png_with_a_1_gib_ztxt_bomb_decodes_its_pixels_only() {
    // The bomb generator makes a valid stream: as the pixel data of a 1-row greyscale PNG
    // (filter byte + 258*50 zero pixels) it decodes to exactly that.
    let mut ihdr = (258u32 * 50).to_be_bytes().to_vec();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut check = b"\x89PNG\r\n\x1a\n".to_vec();
    check.extend(png_chunk(b"IHDR", &ihdr));
    check.extend(png_chunk(b"IDAT", &zeros_bomb(50)));
    check.extend(png_chunk(b"IEND", b""));
    let row = image::load_from_memory(&check).expect("valid zlib stream");
    assert_eq!((row.width(), row.height()), (258 * 50, 1));
    assert!(row.to_luma8().pixels().all(|p| p.0 == [0]));

    let img = RgbImage::from_pixel(16, 16, Rgb([10, 200, 30]));
    let plain = encoded(DynamicImage::ImageRgb8(img), ImageFormat::Png);
    // Put the zTXt right after IHDR (signature 8 + IHDR chunk 25 bytes).
    let mut text = b"Comment\x00\x00".to_vec();
    text.extend(zeros_bomb((1usize << 30) / 258));
    let mut bomb = plain[..33].to_vec();
    bomb.extend(png_chunk(b"zTXt", &text));
    bomb.extend_from_slice(&plain[33..]);
    #[cfg(unix)]
    let before = peak_rss_kib();
    let fitted = decode(&bomb, (32, 32)).expect("pixels decode");
    assert_eq!(fitted.original, (16, 16));
    assert_eq!(fitted.image.to_rgb8().get_pixel(8, 8).0, [10, 200, 30]);
    #[cfg(unix)]
    {
        let grown_mib = (peak_rss_kib() - before) / 1024;
        assert!(grown_mib < 256, "the text was inflated: +{grown_mib} MiB");
    }
}

#[test]
fn b13_valid_but_huge_jpeg_header_is_refused_cleanly() {
    too_many(&fails(&fixture("jpeg_sof_26560x26560.jpg")), 26560, 26560);
}

// ---------------------------------------------------------------------------------------------
// Downloads

fn downloader(max_bytes: usize, concurrency: usize) -> Downloader {
    Downloader::new(
        reqwest::Client::new(),
        &DownloadConfig {
            concurrency,
            max_bytes,
        },
    )
}

async fn fetch(d: &Downloader, url: &str) -> Result<bytes::Bytes, MediaError> {
    tokio::time::timeout(DEADLINE, d.fetch(url))
        .await
        .expect("within the deadline")
}

fn jpeg_chunk() -> Vec<u8> {
    let mut chunk = vec![0x55u8; 16 * 1024];
    chunk[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    chunk
}

async fn wait_until_closed(server: &RawServer) {
    tokio::time::timeout(DEADLINE, async {
        while server.open_connections() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the client hung up");
}

#[tokio::test]
async fn b11_bodies_over_the_cap_declared_undeclared_and_lying() {
    let cap = 64 * 1024;
    let d = downloader(cap, 2);
    let head = |extra: &str| {
        format!("HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\n{extra}connection: close\r\n\r\n")
            .into_bytes()
    };

    // Undeclared and endless: cut once the count passes the cap, and the connection dropped.
    let endless = RawServer::start(RawReply::Endless {
        head: head(""),
        chunk: jpeg_chunk(),
    })
    .await
    .expect("server");
    let e = fetch(&d, &endless.url("/a.jpg")).await.expect_err("cap");
    assert_eq!(e, MediaError::TooLarge { limit: cap });
    wait_until_closed(&endless).await;

    // Declared over the cap (a lie: the body is tiny): refused from the header.
    let liar = RawServer::start(RawReply::Bytes(
        [head("content-length: 52428800\r\n"), jpeg_chunk()].concat(),
    ))
    .await
    .expect("server");
    let e = fetch(&d, &liar.url("/b.jpg")).await.expect_err("declared");
    assert_eq!(e, MediaError::TooLarge { limit: cap });

    // Declared under the cap, then an endless body: only the declared bytes are read.
    let under = RawServer::start(RawReply::Endless {
        head: head("content-length: 20000\r\n"),
        chunk: jpeg_chunk(),
    })
    .await
    .expect("server");
    let got = fetch(&d, &under.url("/c.jpg"))
        .await
        .expect("declared bytes");
    assert_eq!(got.len(), 20_000);
    wait_until_closed(&under).await;
}

fn pipeline() -> ImagePipeline {
    ImagePipeline::new(
        downloader(DownloadConfig::default().max_bytes, 4),
        fixed_picker(ProtocolType::Halfblocks, (10, 20)),
        PipelineConfig {
            settle: Duration::ZERO,
            ..PipelineConfig::default()
        },
    )
}

async fn failed_reason(p: &mut ImagePipeline) -> String {
    match tokio::time::timeout(DEADLINE, p.next_event())
        .await
        .expect("an event")
    {
        ImageEvent::Failed { reason, .. } => reason,
        other => panic!("{other:?}"),
    }
}

// RELIABILITY B7 B12: a failed download leaves nothing in the cache, and asking again downloads
// again.
#[tokio::test]
async fn b12_reset_mid_download_is_a_placeholder_not_cached_and_retried() {
    let mut head =
        b"HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n".to_vec();
    head.extend(jpeg_chunk());
    let server = RawServer::start(RawReply::Reset(head))
        .await
        .expect("server");
    let mut p = pipeline();
    let want = || vec![ImageRequest::new("r", server.url("/r.jpg"), CELLS)];
    p.want(want());
    let reason = failed_reason(&mut p).await;
    assert!(
        reason.starts_with("could not download the picture"),
        "{reason}"
    );
    assert_eq!(p.cache_bytes(), 0, "the partial body is not cached");
    p.want(vec![]);
    p.want(want());
    failed_reason(&mut p).await;
    assert_eq!(server.heads().len(), 2, "asking again downloads again");

    let html = RawServer::start(RawReply::Bytes(RawReply::http(
        200,
        &[("content-type", "image/jpeg")],
        b"<!DOCTYPE html><html><body>Access denied</body></html>",
    )))
    .await
    .expect("server");
    p.want(vec![ImageRequest::new("h", html.url("/h.jpg"), CELLS)]);
    let reason = failed_reason(&mut p).await;
    assert!(reason.contains("HTML page instead of an image"), "{reason}");
    assert_eq!(p.cache_bytes(), 0, "nothing cached");
}

#[tokio::test]
async fn b15_twenty_downloads_never_exceed_the_concurrency_limit() {
    let body = jpeg(32, 24);
    let server = RawServer::start(RawReply::After {
        delay: Duration::from_millis(60),
        bytes: RawReply::http(
            200,
            &[
                ("content-type", "image/jpeg"),
                ("content-length", &body.len().to_string()),
            ],
            &body,
        ),
    })
    .await
    .expect("server");
    let limit = 3;
    let d = downloader(1 << 20, limit);
    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (d, url) = (d.clone(), server.url(&format!("/p{i}.jpg")));
        jobs.spawn(async move { d.fetch(&url).await });
    }
    let mut most = 0;
    let watch = async {
        loop {
            most = most.max(server.open_connections());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let all = async {
        let mut ok = 0;
        while let Some(r) = jobs.join_next().await {
            r.expect("join").expect("downloaded");
            ok += 1;
        }
        ok
    };
    let ok = tokio::time::timeout(DEADLINE, async {
        tokio::select! {
            ok = all => ok,
            _ = watch => unreachable!("the watcher never ends"),
        }
    })
    .await
    .expect("all done");
    assert_eq!(ok, 20);
    assert_eq!(server.heads().len(), 20);
    assert!(most <= limit, "{most} at once");
    assert!(most >= 2, "downloads did overlap ({most})");
}
