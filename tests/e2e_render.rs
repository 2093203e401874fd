//! `xmedia render` with `--graphics auto` in a pseudo-terminal that answers like kitty: the real
//! binary asks the terminal, reads its answers, and draws with what it learnt.

mod support {
    pub mod pty;
}

use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use support::pty::PtyApp;

/// A liveness bound (the tests never assert speed).
const LIMIT: Duration = Duration::from_secs(20);

/// What kitty answers to the start-up query: its version, the graphics answer, device attributes
/// and the status report that ends the query.
const KITTY_ANSWERS: &[u8] = b"\x1bP>|kitty(0.41.1)\x1b\\\x1b_Gi=31;OK\x1b\\\x1b[?62;c\x1b[0n";

/// Runs `xmedia render` of a 160x80 JPEG into 20x5 cells with `--graphics auto` in a 60x20
/// pseudo-terminal, writes `answers` once the start-up query is out, and returns the exit code
/// and everything the binary wrote.
fn render_answering(answers: &[&[u8]]) -> (Option<u32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pic.jpg");
    DynamicImage::ImageRgb8(RgbImage::from_fn(160, 80, |x, y| {
        Rgb([x as u8, y as u8, 90])
    }))
    .save_with_format(&path, ImageFormat::Jpeg)
    .expect("save");
    let path = path.display().to_string();
    // KITTY_WINDOW_ID: the query then waits up to 1 s for the answers.
    let mut app = PtyApp::spawn(
        &["render", &path, "--cells", "20x5"],
        &[("KITTY_WINDOW_ID", "1")],
        60,
        20,
    );
    app.wait_written(b"\x1b[>0q", LIMIT);
    for answer in answers {
        app.send(answer);
    }
    let code = app.wait_exit(LIMIT);
    (code, String::from_utf8_lossy(&app.raw()).into_owned())
}

#[test]
fn render_asks_the_terminal_in_raw_mode_and_draws_kitty_pictures_when_kitty_answers() {
    let (code, out) = render_answering(&[KITTY_ANSWERS]);
    assert_eq!(code, Some(0));
    // In the terminal's line mode the answers would wait for a newline that never comes, the
    // query would give up, the picture would come out in half-blocks, and the terminal would
    // echo the answers onto the screen.
    assert!(
        out.contains("a=T,U=1,f=24,"),
        "a kitty transmission: {out:?}"
    );
    assert!(out.contains('\u{10EEEE}'), "kitty placeholders");
    assert!(!out.contains('▀') && !out.contains('▄'), "not half-blocks");
    assert!(!out.contains("kitty(0.41.1)"), "answers echoed: {out:?}");
    assert!(!out.contains("Gi=31;OK"), "answers echoed: {out:?}");
}

#[test]
fn a_terminal_claiming_60000_pixel_cells_is_not_believed() {
    // Cells that size would make a box of over a million pixels a side for 20x5 cells. The
    // answer is ignored: the cell size comes from the window's pixel size instead, 8x16 in the
    // test pseudo-terminal, so the 160x80 picture fills 20x5 cells as it is.
    let (code, out) = render_answering(&[b"\x1b[6;60000;60000t", KITTY_ANSWERS]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("a=T,U=1,f=24,t=d,s=160,v=80,"),
        "a 160x80 kitty picture: {:?}",
        out.get(..300)
    );
}
