//! A generated picture drawn through the half-block protocol into a small box, as the preview
//! pane draws it: symbols and colours are both in the snapshot.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use xmedia::media::graphics::fixed_picker;
use xmedia::render_cmd::{render_protocol, write_protocol};

/// Four quadrants (red, green, blue, white) with a dark diagonal: orientation and aspect show.
fn picture() -> Vec<u8> {
    let img = RgbImage::from_fn(96, 64, |x, y| {
        if x * 64 / 96 == y || x * 64 / 96 == y + 1 {
            return Rgb([10, 10, 10]);
        }
        match (x < 48, y < 32) {
            (true, true) => Rgb([220, 40, 40]),
            (false, true) => Rgb([40, 200, 40]),
            (true, false) => Rgb([40, 40, 220]),
            (false, false) => Rgb([240, 240, 240]),
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[test]
fn halfblocks_preview_snapshot() {
    let picker = fixed_picker(ProtocolType::Halfblocks, (10, 20));
    let cells = Size::new(24, 8);
    let protocol = render_protocol(&picture(), &picker, cells).expect("renders");
    // 96x64 in a 24x16 half-block box: 24 wide, 16 high → 8 rows.
    assert_eq!(protocol.size(), Size::new(24, 8));

    let mut terminal = Terminal::new(TestBackend::new(26, 10)).expect("terminal");
    terminal
        .draw(|f| {
            let area = ratatui::layout::Rect::new(1, 1, 24, 8);
            f.render_widget(&protocol, area);
        })
        .expect("draw");
    insta::assert_snapshot!(format!("{:?}", terminal.backend().buffer()));
}

#[test]
fn render_output_positions_relative_to_the_cursor() {
    let picker = fixed_picker(ProtocolType::Halfblocks, (10, 20));
    let cells = Size::new(24, 8);
    let protocol = render_protocol(&picture(), &picker, cells).expect("renders");
    let mut out = Vec::new();
    write_protocol(&protocol, cells, &mut out).expect("write");
    let text = String::from_utf8(out).expect("utf-8");
    // Room made, cursor saved, every row drawn from the saved corner, colours reset.
    assert!(
        text.starts_with("\n\n\n\n\n\n\n\n\x1b[8A\r\x1b7\x1b8"),
        "{text:?}"
    );
    assert_eq!(text.matches("\x1b8").count(), 8 + 1);
    assert!(text.contains("\x1b[38;2;220;40;40m"));
    assert!(text.ends_with("\x1b8\x1b[8B\r"));
}
