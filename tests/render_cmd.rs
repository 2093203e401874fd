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
    assert!(
        !err.contains("download"),
        "a local file is not downloaded: {err}"
    );

    let html = dir.path().join("page.jpg");
    std::fs::write(&html, "<html><body>nope</body></html>").expect("write");
    let (code, _, err) = render(&html.to_string_lossy(), GraphicsChoice::Halfblocks).await;
    assert_eq!(code, 1);
    assert!(err.contains("HTML page"), "{err}");
}

#[tokio::test]
async fn a_box_of_65535_cells_a_side_draws_a_picture_within_the_limits() {
    // Before: the picture was sized for the whole box (655350x1310700 pixels) and the cell
    // buffer for all 65535x65535 cells: allocations of terabytes, and the process aborted.
    let dir = tempfile::tempdir().expect("tempdir");
    let args = RenderArgs {
        source: write_picture(dir.path()),
        cells: Dims {
            width: 65535,
            height: 65535,
        },
        graphics: GraphicsChoice::Kitty,
        cell_px: Some(Dims {
            width: 10,
            height: 20,
        }),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut out, &mut err).await;
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let out = String::from_utf8_lossy(&out);
    let keys = &kitty_commands(&out)[0].0;
    let size = |key: &str| -> u64 {
        keys.split(',')
            .find_map(|kv| kv.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {keys}"))
    };
    let (w, h) = (size("s="), size("v="));
    let limits = xmedia::media::decode::DecodeLimits::default();
    assert!(w * h * 4 <= limits.max_alloc, "{w}x{h}");
    // 300x200 in a box twice as tall as wide: as wide as the limits allow, in its own shape.
    assert!(w > 2000 && w.abs_diff(h * 3 / 2) <= 2, "{w}x{h}");
}

/// The kitty graphics commands in `out`: (control keys without the image id, payload).
fn kitty_commands(out: &str) -> Vec<(String, String)> {
    out.split("\x1b_G")
        .skip(1)
        .map(|c| {
            let body = c.split("\x1b\\").next().expect("terminated");
            let (keys, payload) = body.split_once(';').expect("keys;payload");
            let keys: Vec<&str> = keys.split(',').filter(|k| !k.starts_with("i=")).collect();
            (keys.join(","), payload.to_string())
        })
        .collect()
}

/// `render` streams kitty's transmission instead of drawing it into a cell first; what reaches
/// the terminal is still what the app draws for the same file: the same commands (only the image
/// id differs), RGB pixels of the fitted picture, and one placeholder per cell of its box.
#[tokio::test]
async fn kitty_render_writes_what_the_app_draws() {
    use ratatui::layout::Size;
    use ratatui_image::picker::ProtocolType;
    use xmedia::media::graphics::fixed_picker;
    use xmedia::render_cmd::{render_protocol, write_protocol};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_picture(dir.path());
    let (code, streamed, err) = render(&path, GraphicsChoice::Kitty).await;
    assert_eq!(code, 0, "{err}");

    let bytes = std::fs::read(&path).expect("read");
    let cells = Size::new(30, 10);
    let picture = render_protocol(&bytes, &fixed_picker(ProtocolType::Kitty, (10, 20)), cells)
        .expect("renders");
    // 300×200 px in 10×20 cells.
    assert_eq!(picture.size(), Size::new(30, 10));
    let mut app = Vec::new();
    write_protocol(&picture, cells, &mut app).expect("write");
    let app = String::from_utf8(app).expect("utf-8");

    let commands = kitty_commands(&streamed);
    assert_eq!(commands, kitty_commands(&app));
    assert!(commands[0].0.contains("f=24") && commands[0].0.contains("s=300,v=200"));
    let payload: String = commands.iter().map(|(_, p)| p.as_str()).collect();
    let pixels = base64_simd::STANDARD
        .decode_to_vec(payload)
        .expect("base64");
    assert_eq!(pixels.len(), 300 * 200 * 3);
    for out in [&streamed, &app] {
        assert_eq!(out.matches('\u{10EEEE}').count(), 30 * 10);
    }
}
