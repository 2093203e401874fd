//! The picture pipeline with real parts: generated images, a loopback HTTP server, the real
//! decoder, resizer and encoders.

use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use xmedia::media::MediaError;
use xmedia::media::cache::ByteLru;
use xmedia::media::decode::{DecodeLimits, check_dimensions, decode_to_fit, fit_within};
use xmedia::media::download::{DownloadConfig, Downloader};
use xmedia::media::graphics::fixed_picker;
use xmedia::media::pipeline::{ImageEvent, ImagePipeline, ImageRequest, PipelineConfig};
use xmedia::media::size::{PbsSize, choose, sized_url};
use xmedia::testing::{Reply, ScriptedServer};

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

fn encoded(img: RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .expect("encode test image");
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encoded(gradient(w, h), ImageFormat::Jpeg)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    encoded(gradient(w, h), ImageFormat::Png)
}

fn never() -> bool {
    false
}

/// The error, without printing a decoded picture's pixels when there is none.
fn fails(bytes: &[u8], target: (u32, u32)) -> MediaError {
    match decode_to_fit(bytes, target, &DecodeLimits::default(), &never) {
        Ok(f) => panic!(
            "decoded to {}x{} instead of failing",
            f.image.width(),
            f.image.height()
        ),
        Err(e) => e,
    }
}

/// A PNG that is only a signature and an IHDR claiming `w`×`h`: enough to probe, nothing to decode.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&w.to_be_bytes());
    chunk.extend_from_slice(&h.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out
}

fn image_reply(body: Vec<u8>, content_type: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type".into(), content_type.into())],
        body,
        delay: Duration::ZERO,
    }
}

#[test]
fn output_fills_the_box_keeping_aspect() {
    let target = (400, 300);
    // portrait, landscape, square, tiny (enlarged: previews fill their pane), and already exact
    for (w, h) in [
        (300, 900),
        (1600, 900),
        (500, 500),
        (8, 6),
        (400, 300),
        (37, 1000),
    ] {
        for bytes in [jpeg(w, h), png(w, h)] {
            let fitted =
                decode_to_fit(&bytes, target, &DecodeLimits::default(), &never).expect("decodes");
            let got = (fitted.image.width(), fitted.image.height());
            assert_eq!(got, fit_within((w, h), target), "{w}x{h}");
            assert_eq!(fitted.original, (w, h));
            assert!(got.0 <= target.0 && got.1 <= target.1, "{w}x{h} -> {got:?}");
            assert!(
                got.0 == target.0 || got.1 == target.1,
                "{w}x{h} -> {got:?} touches no side"
            );
            let (src, dst) = (w as f64 / h as f64, got.0 as f64 / got.1 as f64);
            // Within one pixel of rounding on the short side.
            let tolerance = 1.0 / got.0.min(got.1) as f64 * src.max(1.0) + 0.01;
            assert!(
                (src - dst).abs() / src <= tolerance,
                "{w}x{h} -> {got:?} aspect {src} vs {dst}"
            );
        }
    }
}

// RELIABILITY B3
#[test]
fn decompression_bombs_are_rejected_before_decoding() {
    // Over the side limit.
    let err = fails(&png_header_only(100_000, 100_000), (800, 600));
    assert!(
        matches!(err, MediaError::TooManyPixels { width: 100_000, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("decompression bomb"), "{err}");
    // Sides allowed, but the pixels would need 576 MB.
    let err = fails(&png_header_only(12_000, 12_000), (800, 600));
    assert!(matches!(err, MediaError::TooManyPixels { .. }), "{err:?}");
}

// RELIABILITY B4
#[test]
fn truncated_jpeg_is_a_clear_error() {
    let full = jpeg(640, 480);
    for cut in [full.len() / 2, 200, 20] {
        let err = fails(&full[..cut], (320, 240));
        assert!(
            matches!(err, MediaError::Decode(_)),
            "cut at {cut}: {err:?}"
        );
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}

// RELIABILITY B6
#[test]
fn empty_and_extreme_aspect_have_a_reason() {
    let limits = DecodeLimits::default();
    let e = check_dimensions(0, 0, &limits).expect_err("empty");
    assert_eq!(e.to_string(), "the picture has no pixels (0x0)");
    let e = fails(&png(4100, 100), (800, 600));
    assert!(matches!(e, MediaError::ExtremeAspect { .. }), "{e:?}");
    assert!(e.to_string().contains("too narrow"), "{e}");
    let e = fails(&png(10, 500), (800, 600));
    assert!(matches!(e, MediaError::ExtremeAspect { .. }), "{e:?}");
}

// RELIABILITY B7
#[test]
fn html_is_not_a_picture() {
    let html = b"<!DOCTYPE html><html><body>rate limited</body></html>";
    let e = fails(html, (800, 600));
    assert!(e.to_string().contains("HTML page"), "{e}");
}

// RELIABILITY B7 B11
#[tokio::test]
async fn downloader_rejects_html_served_as_jpeg_and_oversized_bodies() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        "/media/page.jpg",
        image_reply(
            b"<!doctype html><html><head><title>Login</title></head></html>".to_vec(),
            "image/jpeg",
        ),
    );
    server.push("/media/big.jpg", image_reply(jpeg(1200, 900), "image/jpeg"));
    server.push("/media/gone.jpg", Reply::text(404, "no"));
    server.push("/media/ok.jpg", image_reply(jpeg(64, 48), "image/jpeg"));
    let config = DownloadConfig {
        concurrency: 2,
        max_bytes: 8 * 1024,
    };
    let d = Downloader::new(reqwest::Client::new(), &config);
    let base = server.base_url();

    let e = d
        .fetch(&format!("{base}/media/page.jpg"))
        .await
        .expect_err("html");
    assert_eq!(
        e.to_string(),
        "not a picture: the server sent an HTML page instead of an image (served as image/jpeg)"
    );
    let e = d
        .fetch(&format!("{base}/media/big.jpg"))
        .await
        .expect_err("too big");
    assert!(matches!(e, MediaError::TooLarge { .. }), "{e:?}");
    let e = d
        .fetch(&format!("{base}/media/gone.jpg"))
        .await
        .expect_err("404");
    assert_eq!(e, MediaError::Http { status: 404 });
    let ok = d
        .fetch(&format!("{base}/media/ok.jpg"))
        .await
        .expect("small jpeg");
    assert!(ok.starts_with(&[0xFF, 0xD8]));
}

/// A server that streams `total` bytes of JPEG-looking data in chunks, with no Content-Length,
/// so only the streaming cap can stop it.
async fn chunked_server(total: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut req = [0u8; 4096];
        let _ = sock.read(&mut req).await;
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ntransfer-encoding: chunked\r\n\r\n";
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut chunk = vec![0x55u8; 4096];
        chunk[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        let mut sent = 0;
        while sent < total {
            let frame = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if sock.write_all(&frame).await.is_err() {
                return; // the client hung up: the cap worked
            }
            sent += chunk.len();
        }
        let _ = sock.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}/media/endless.jpg")
}

// RELIABILITY B11
#[tokio::test]
async fn streamed_body_is_cut_at_the_cap() {
    let url = chunked_server(10 * 1024 * 1024).await;
    let d = Downloader::new(
        reqwest::Client::new(),
        &DownloadConfig {
            concurrency: 1,
            max_bytes: 64 * 1024,
        },
    );
    let e = d.fetch(&url).await.expect_err("over the cap");
    assert_eq!(e, MediaError::TooLarge { limit: 64 * 1024 });
}

#[test]
fn cache_never_exceeds_its_budget() {
    let budget = 64 * 1024;
    let mut cache = ByteLru::new(budget);
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..20_000u32 {
        let bytes = rng.usize(0..20_000);
        cache.insert(rng.u32(0..500), i, bytes);
        assert!(
            cache.len_bytes() <= budget,
            "after {i}: {}",
            cache.len_bytes()
        );
        if rng.bool() {
            cache.get(&rng.u32(0..500));
        }
    }
    assert!(!cache.insert(1, 0, budget + 1));
    assert!(cache.len_bytes() <= budget);
}

#[test]
fn pbs_size_choice_table() {
    // (pane px, original, expected)
    let table = [
        ((400, 300), Some((4000, 3000)), PbsSize::Small),
        ((680, 510), Some((4000, 3000)), PbsSize::Small),
        ((800, 600), Some((4000, 3000)), PbsSize::Medium),
        ((1200, 900), Some((4000, 3000)), PbsSize::Medium),
        ((1600, 1200), Some((4000, 3000)), PbsSize::Large),
        ((4000, 3000), Some((4000, 3000)), PbsSize::Large),
        // A tall picture in a wide pane needs only its height.
        ((1600, 600), Some((1000, 3000)), PbsSize::Small),
        // Smaller than the pane: the smallest size that is the whole picture.
        ((1600, 1200), Some((600, 400)), PbsSize::Small),
        ((1600, 1200), Some((1000, 800)), PbsSize::Medium),
        // Unknown original: by the pane's longest side.
        ((600, 400), None, PbsSize::Small),
        ((1000, 800), None, PbsSize::Medium),
        ((2000, 800), None, PbsSize::Large),
        ((3000, 2000), None, PbsSize::Large),
    ];
    for (pane, original, want) in table {
        assert_eq!(
            choose(pane, original),
            want,
            "pane {pane:?} original {original:?}"
        );
    }
    assert_eq!(
        sized_url(
            "https://pbs.twimg.com/media/AbC.jpg",
            choose((400, 300), None)
        ),
        "https://pbs.twimg.com/media/AbC.jpg?name=small"
    );
}

fn pipeline(server_budget: usize, encode_ahead: usize) -> ImagePipeline {
    let downloader = Downloader::new(reqwest::Client::new(), &DownloadConfig::default());
    let picker = fixed_picker(ProtocolType::Halfblocks, (10, 20));
    ImagePipeline::new(
        downloader,
        picker,
        PipelineConfig {
            cache_budget: server_budget,
            encode_ahead,
            ..PipelineConfig::default()
        },
    )
}

#[tokio::test]
async fn fast_scrolling_downloads_only_where_it_stops() {
    let server = ScriptedServer::start().await.expect("server");
    for i in 0..10 {
        server.push(
            &format!("/media/s{i}.jpg"),
            image_reply(jpeg(64, 48), "image/jpeg"),
        );
    }
    let base = server.base_url();
    let mut p = ImagePipeline::new(
        Downloader::new(reqwest::Client::new(), &DownloadConfig::default()),
        fixed_picker(ProtocolType::Halfblocks, (10, 20)),
        PipelineConfig {
            encode_ahead: 1,
            // Generous, so a slow CI machine still stays inside the window.
            settle: Duration::from_millis(300),
            ..PipelineConfig::default()
        },
    );
    // A key held down: a new selection every 5 ms, well inside the settle window.
    for i in 0..10 {
        p.want(vec![ImageRequest::new(
            format!("s{i}"),
            format!("{base}/media/s{i}.jpg"),
            CELLS,
        )]);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(next(&mut p).await.key().0, "s9");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/media/s9.jpg"]);
}

async fn next(p: &mut ImagePipeline) -> ImageEvent {
    tokio::time::timeout(Duration::from_secs(10), p.next_event())
        .await
        .expect("an event within 10 s")
}

const CELLS: Size = Size::new(20, 10);

#[tokio::test]
async fn superseded_job_is_cancelled_and_never_delivered() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        "/media/slow.jpg",
        image_reply(jpeg(300, 200), "image/jpeg").delayed(Duration::from_millis(800)),
    );
    server.push("/media/fast.jpg", image_reply(jpeg(300, 200), "image/jpeg"));
    let base = server.base_url();
    let mut p = pipeline(8 << 20, 3);

    p.want(vec![ImageRequest::new(
        "slow",
        format!("{base}/media/slow.jpg"),
        CELLS,
    )]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(p.in_flight(), 1);
    p.want(vec![ImageRequest::new(
        "fast",
        format!("{base}/media/fast.jpg"),
        CELLS,
    )]);
    assert_eq!(p.in_flight(), 1, "the slow job was aborted");

    match next(&mut p).await {
        ImageEvent::Ready { key, cells, .. } => {
            assert_eq!(key.0, "fast");
            assert!(cells.width <= CELLS.width);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Long after the slow answer would have arrived: nothing more.
    let late = tokio::time::timeout(Duration::from_millis(1500), p.next_event()).await;
    assert!(late.is_err(), "stale result delivered: {late:?}");
    // The sized URL went out.
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .all(|r| r.query_param("name").as_deref() == Some("small"))
    );
}

#[tokio::test]
async fn finished_but_unread_result_is_dropped_when_superseded() {
    let server = ScriptedServer::start().await.expect("server");
    server.push("/media/a.jpg", image_reply(jpeg(300, 200), "image/jpeg"));
    server.push("/media/b.jpg", image_reply(png(200, 300), "image/png"));
    let base = server.base_url();
    let mut p = pipeline(8 << 20, 3);

    p.want(vec![ImageRequest::new(
        "a",
        format!("{base}/media/a.jpg"),
        CELLS,
    )]);
    // Let `a` finish and sit in the channel unread.
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if server.requests().len() == 1 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.want(vec![ImageRequest::new(
        "b",
        format!("{base}/media/b.jpg"),
        CELLS,
    )]);
    assert_eq!(next(&mut p).await.key().0, "b");
    assert!(p.try_next_event().is_none());
}

#[tokio::test]
async fn neighbours_are_prefetched_in_order_and_served_from_cache() {
    let server = ScriptedServer::start().await.expect("server");
    let names = ["n0", "n1", "n2", "n3", "n4"];
    for n in names {
        server.push(
            &format!("/media/{n}.jpg"),
            image_reply(jpeg(320, 240), "image/jpeg"),
        );
    }
    let base = server.base_url();
    let req = |n: &str| ImageRequest::new(n, format!("{base}/media/{n}.jpg"), CELLS);
    let mut p = pipeline(8 << 20, 2);

    p.want(names.iter().map(|n| req(n)).collect());
    let mut ready = Vec::new();
    while ready.len() < 2 {
        match next(&mut p).await {
            ImageEvent::Ready { key, .. } => ready.push(key.0),
            other => panic!("unexpected {other:?}"),
        }
    }
    ready.sort();
    assert_eq!(ready, ["n0", "n1"]);
    // The rest are downloaded, not encoded.
    for _ in 0..200 {
        if p.in_flight() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(p.in_flight(), 0);
    assert_eq!(server.requests().len(), 5);
    assert!(p.try_next_event().is_none());

    // Selecting n3 encodes from the cached bytes: no new request.
    p.want(vec![req("n3"), req("n4"), req("n2")]);
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(next(&mut p).await.key().0.clone());
    }
    got.sort();
    assert_eq!(got, ["n3", "n4"]);
    assert_eq!(server.requests().len(), 5, "served from the byte cache");
    assert!(p.cache_bytes() <= 8 << 20);

    // Wanting the same again resends nothing; coming back to n0 is answered from the cache.
    p.want(vec![req("n3"), req("n4")]);
    assert!(p.try_next_event().is_none());
    p.want(vec![req("n0")]);
    assert_eq!(
        p.try_next_event().map(|e| e.key().0.clone()).as_deref(),
        Some("n0")
    );
}

// RELIABILITY B6 B7
#[tokio::test]
async fn failures_are_reported_with_their_reason() {
    let server = ScriptedServer::start().await.expect("server");
    server.push(
        "/media/html.jpg",
        image_reply(b"<html><body>blocked</body></html>".to_vec(), "image/jpeg"),
    );
    server.push("/media/thin.png", image_reply(png(4100, 100), "image/png"));
    let base = server.base_url();
    let mut p = pipeline(8 << 20, 3);
    p.want(vec![
        ImageRequest::new("html", format!("{base}/media/html.jpg"), CELLS),
        ImageRequest::new("thin", format!("{base}/media/thin.png"), CELLS),
    ]);
    let mut reasons = Vec::new();
    while reasons.len() < 2 {
        match next(&mut p).await {
            ImageEvent::Failed { key, reason } => reasons.push((key.0, reason)),
            other => panic!("unexpected {other:?}"),
        }
    }
    reasons.sort();
    assert!(reasons[0].1.contains("HTML page"), "{reasons:?}");
    assert!(reasons[1].1.contains("too narrow"), "{reasons:?}");
}

#[path = "support/sixel_decode.rs"]
mod sixel_decode;

#[test]
fn sixel_previews_come_from_the_own_encoder_and_fill_their_cells() {
    use ratatui_image::protocol::Protocol;
    use xmedia::media::encode::{encode, pixel_box};
    let picker = fixed_picker(ProtocolType::Sixel, (10, 20));
    let cells = Size::new(40, 20);
    let fitted = decode_to_fit(
        &jpeg(600, 450),
        pixel_box(&picker, cells),
        &DecodeLimits::default(),
        &never,
    )
    .expect("decodes");
    assert_eq!((fitted.image.width(), fitted.image.height()), (400, 300));
    let picture = encode(&picker, fitted.image, cells).expect("encodes");
    let Some(Protocol::Sixel(sixel)) = picture.protocol() else {
        panic!("a sixel picker gives a sixel protocol");
    };
    assert_eq!(sixel.size, Size::new(40, 15), "400x300 px in 10x20 cells");
    let start = sixel
        .data
        .find("\x1bP")
        .expect("a DCS after the cell clearing");
    let d = sixel_decode::decode(&sixel.data[start..]).expect("valid sixel");
    assert_eq!(d.raster, (400, 300));
    assert!(d.paints.iter().all(|&p| p == 1), "every pixel painted once");
}
