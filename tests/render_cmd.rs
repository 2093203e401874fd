//! `render_cmd::run` on real files, per protocol.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use xmedia::media::graphics::GraphicsChoice;
use xmedia::render_cmd::{Dims, RenderArgs, run};

fn write_picture(dir: &std::path::Path) -> String {
    let img = RgbImage::from_fn(300, 200, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let path = dir.join("pic.jpg");
    DynamicImage::ImageRgb8(img)
        .save_with_format(&path, ImageFormat::Jpeg)
        .expect("save");
    path.to_string_lossy().into_owned()
}

async fn render(source: &str, graphics: GraphicsChoice) -> (i32, String, String) {
    let args = RenderArgs {
        source: source.to_string(),
        cells: Dims {
            width: 30,
            height: 10,
        },
        graphics,
        cell_px: Some(Dims {
            width: 10,
            height: 20,
        }),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut out, &mut err).await;
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[tokio::test]
async fn each_protocol_writes_its_own_escape_sequences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_picture(dir.path());

    let (code, out, err) = render(&path, GraphicsChoice::Halfblocks).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains('▀') || out.contains('▄'));

    let (code, out, err) = render(&path, GraphicsChoice::Sixel).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\x1bP"), "sixel starts with DCS");

    let (code, out, err) = render(&path, GraphicsChoice::Kitty).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\x1b_G"), "kitty transmits with APC G");
    assert!(out.contains('\u{10EEEE}'), "kitty places with placeholders");

    let (code, out, err) = render(&path, GraphicsChoice::Iterm2).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\x1b]1337;File=inline=1"));
}

#[tokio::test]
async fn missing_and_broken_files_say_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = render("/nonexistent/pic.jpg", GraphicsChoice::Halfblocks).await;
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("cannot read the file"), "{err}");

    let html = dir.path().join("page.jpg");
    std::fs::write(&html, "<html><body>nope</body></html>").expect("write");
    let (code, _, err) = render(&html.to_string_lossy(), GraphicsChoice::Halfblocks).await;
    assert_eq!(code, 1);
    assert!(err.contains("HTML page"), "{err}");
}
