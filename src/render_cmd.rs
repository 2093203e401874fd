//! `xmedia render FILE|URL`: prints a picture exactly as the preview pane would draw it in a box
//! of `--cells`, so users can check their terminal and benchmarks can time the pipeline.

use std::io::{IsTerminal, Write};
use std::str::FromStr;

use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::{Rect, Size};
use ratatui::style::Color;
use ratatui::widgets::Widget;
use ratatui_image::picker::{Picker, ProtocolType};

use crate::http::{HttpClient, HttpConfig};
use crate::media::MediaError;
use crate::media::contain::contained;
use crate::media::decode::{DecodeLimits, decode_to_fit};
use crate::media::download::{DownloadConfig, Downloader};
use crate::media::encode::{KittyPlacement, cells_for, encode_with, pixel_box};
use crate::media::graphics::{self, FALLBACK_CELL, GraphicsChoice, fixed_picker};
use crate::media::kitty::{self, KittyPicture};
use crate::media::picture::Picture;
use crate::media::size::{choose, sized_url};

/// `WIDTHxHEIGHT`, e.g. `80x40`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub width: u16,
    pub height: u16,
}

impl FromStr for Dims {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected WIDTHxHEIGHT like 80x40, got {s:?}");
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let width: u16 = w.trim().parse().map_err(|_| bad())?;
        let height: u16 = h.trim().parse().map_err(|_| bad())?;
        if width == 0 || height == 0 {
            return Err(format!("{s:?} has a zero side"));
        }
        Ok(Self { width, height })
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// A picture file (JPEG, PNG, GIF, WebP) or an http(s) URL.
    pub source: String,
    /// The box to draw in, in terminal cells.
    #[arg(long, default_value = "80x40", value_name = "COLSxROWS")]
    pub cells: Dims,
    /// Graphics protocol. `auto` asks the terminal; when stdout is not a terminal it means
    /// halfblocks.
    #[arg(long, value_enum, default_value_t = GraphicsChoice::Auto)]
    pub graphics: GraphicsChoice,
    /// Cell size in pixels, when the terminal cannot be asked (default: ask, else 10x20).
    #[arg(long, value_name = "WxH")]
    pub cell_px: Option<Dims>,
}

/// Runs the command; returns the exit code (0 drawn, 1 the picture failed, 2 bad input).
pub async fn run(args: &RenderArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let cells = Size::new(args.cells.width, args.cells.height);
    let (picker, kitty) = choose_picker(args, std::io::stdout().is_terminal());
    let bytes = match load(&args.source, pixel_box(&picker, cells)).await {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(err, "xmedia: {}: {e}", crate::http::snippet(&args.source));
            return 2;
        }
    };
    let prepared = tokio::task::spawn_blocking(move || prepare(&bytes, &picker, kitty, cells))
        .await
        .unwrap_or_else(|e| Err(MediaError::Encode(e.to_string())));
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "xmedia: {}: {e}", crate::http::snippet(&args.source));
            return 1;
        }
    };
    // Kitty's pixels are megabytes of base64: in bigger writes than stdout's line buffer makes.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    match write_prepared(prepared, cells, &mut out).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            let _ = writeln!(err, "xmedia: cannot write the picture: {e}");
            1
        }
    }
}

/// The picker, and how kitty pictures are placed: as forced, else as the terminal is detected.
fn choose_picker(args: &RenderArgs, stdout_is_tty: bool) -> (Picker, KittyPlacement) {
    let cell_px = args.cell_px.map(|d| (d.width, d.height));
    let forced_kitty = if args.graphics == GraphicsChoice::KittyDirect {
        KittyPlacement::Direct
    } else {
        KittyPlacement::Placeholders
    };
    match (args.graphics.protocol(), cell_px) {
        (Some(p), Some(px)) => (fixed_picker(p, px), forced_kitty),
        (None, _) if !stdout_is_tty => (
            fixed_picker(ProtocolType::Halfblocks, cell_px.unwrap_or(FALLBACK_CELL)),
            forced_kitty,
        ),
        (Some(p), None) if !stdout_is_tty => (fixed_picker(p, FALLBACK_CELL), forced_kitty),
        (choice, _) => {
            let detected = graphics::detect_once(args.graphics);
            let mut picker = detected.picker;
            if let (None, Some(px)) = (choice, cell_px) {
                picker = fixed_picker(picker.protocol_type(), px);
            }
            (picker, detected.kitty)
        }
    }
}

async fn load(source: &str, target_px: (u32, u32)) -> Result<bytes::Bytes, MediaError> {
    let max = DownloadConfig::default().max_bytes;
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = match url::Url::parse(source) {
            Ok(u) if u.host_str() == Some("pbs.twimg.com") => {
                sized_url(source, choose(target_px, None))
            }
            _ => source.to_string(),
        };
        let client = HttpClient::new(&HttpConfig::default());
        let downloader = Downloader::new(client.media_client().clone(), &DownloadConfig::default());
        return downloader.fetch(&url).await;
    }
    let path = std::path::Path::new(source);
    let len = std::fs::metadata(path)
        .map_err(|e| MediaError::File(e.to_string()))?
        .len();
    if len > max as u64 {
        return Err(MediaError::TooLarge { limit: max });
    }
    std::fs::read(path)
        .map(bytes::Bytes::from)
        .map_err(|e| MediaError::File(e.to_string()))
}

/// Decode, fit and encode, as the pipeline does (a decoder panic included: it is an error).
pub fn render_protocol(bytes: &[u8], picker: &Picker, cells: Size) -> Result<Picture, MediaError> {
    render_protocol_with(bytes, picker, KittyPlacement::Placeholders, cells)
}

/// [`render_protocol`] with kitty pictures placed as `kitty` says.
pub fn render_protocol_with(
    bytes: &[u8],
    picker: &Picker,
    kitty: KittyPlacement,
    cells: Size,
) -> Result<Picture, MediaError> {
    contained(|| encode_with(picker, kitty, fit(bytes, picker, cells)?, cells))
}

/// The picture decoded and fitted to the pixel box of `cells`, as the pipeline does it.
fn fit(bytes: &[u8], picker: &Picker, cells: Size) -> Result<image::DynamicImage, MediaError> {
    let limits = DecodeLimits::default();
    decode_to_fit(bytes, pixel_box(picker, cells), &limits, &|| false).map(|f| f.image)
}

/// What `render` writes, made off the async thread.
enum Prepared {
    Picture(Picture),
    /// Kitty with placeholders: the fitted pixels, whose transmission is written straight to the
    /// output ([`kitty::write_transmit`], the chunks the app's [`KittyPicture`] holds) instead of
    /// being built as one string of megabytes first.
    KittyPixels {
        image: image::DynamicImage,
        size: Size,
        is_tmux: bool,
    },
}

/// Decode and fit, then encode unless the picture is a kitty one to be streamed.
fn prepare(
    bytes: &[u8],
    picker: &Picker,
    kitty: KittyPlacement,
    cells: Size,
) -> Result<Prepared, MediaError> {
    contained(|| {
        let image = fit(bytes, picker, cells)?;
        let font = picker.font_size();
        if picker.protocol_type() == ProtocolType::Kitty
            && kitty == KittyPlacement::Placeholders
            && let Some(size) = cells_for(
                (image.width(), image.height()),
                (font.width, font.height),
                cells,
            )
        {
            return Ok(Prepared::KittyPixels {
                image,
                size,
                is_tmux: picker.tmux_detected(),
            });
        }
        encode_with(picker, kitty, image, cells).map(Prepared::Picture)
    })
}

fn write_prepared(prepared: Prepared, cells: Size, out: &mut dyn Write) -> std::io::Result<()> {
    let picture = match prepared {
        Prepared::Picture(p) => p,
        Prepared::KittyPixels {
            image,
            size,
            is_tmux,
        } => {
            // The transmission draws nothing by itself (a virtual placement, `q=2`), so it can
            // go first; the placeholders below then show it.
            let id = kitty::next_id();
            kitty::write_transmit(&image, id, is_tmux, |chunk| out.write_all(chunk.as_bytes()))?;
            drop(image);
            Picture::Kitty(KittyPicture::transmitted(id, size))
        }
    };
    write_protocol(&picture, cells, out)
}

/// Draws `picture` into a buffer of `cells` the way the app's preview pane does.
pub fn draw_to_buffer(picture: &Picture, cells: Size) -> Buffer {
    let area = Rect::new(0, 0, cells.width, cells.height);
    let mut buf = Buffer::empty(area);
    picture.render(area, &mut buf);
    buf
}

/// Writes what a terminal backend would send for `picture`, positioned relative to the cursor:
/// room is made below it first, so it works in a scrolling terminal and in a file.
pub fn write_protocol(picture: &Picture, cells: Size, out: &mut dyn Write) -> std::io::Result<()> {
    // Only the cells the picture covers: `--cells` may be far larger than any picture (a buffer
    // of 65535x65535 cells would be hundreds of gigabytes).
    let drawn = picture.size();
    let area = Size::new(drawn.width.min(cells.width), drawn.height.min(cells.height));
    let buf = draw_to_buffer(picture, area);
    write_buffer(&buf, area.width, area.height, out)
}

/// Cell contents at least this long go straight to the output instead of through the line buffer.
const PASS_THROUGH: usize = 4096;

fn write_buffer(buf: &Buffer, cols: u16, rows: u16, out: &mut dyn Write) -> std::io::Result<()> {
    let mut s = String::new();
    // Make room (scrolling if needed), go back up, remember the top-left corner.
    for _ in 0..rows {
        s.push('\n');
    }
    if rows > 0 {
        s.push_str(&format!("\x1b[{rows}A"));
    }
    s.push_str("\r\x1b7");
    let mut fg = Color::Reset;
    let mut bg = Color::Reset;
    for y in 0..rows {
        s.push_str("\x1b8");
        if y > 0 {
            s.push_str(&format!("\x1b[{y}B"));
        }
        let mut gap = 0u16;
        for x in 0..cols {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            if cell.diff_option == CellDiffOption::Skip {
                gap += 1;
                continue;
            }
            if gap > 0 {
                s.push_str(&format!("\x1b[{gap}C"));
                gap = 0;
            }
            if cell.fg != fg {
                sgr(&mut s, cell.fg, true);
                fg = cell.fg;
            }
            if cell.bg != bg {
                sgr(&mut s, cell.bg, false);
                bg = cell.bg;
            }
            let symbol = cell.symbol();
            if symbol.len() >= PASS_THROUGH {
                // A picture's escape string (megabytes for kitty): written as it is rather than
                // copied into `s` first.
                out.write_all(s.as_bytes())?;
                s.clear();
                out.write_all(symbol.as_bytes())?;
            } else {
                s.push_str(symbol);
            }
        }
        if fg != Color::Reset || bg != Color::Reset {
            s.push_str("\x1b[0m");
            fg = Color::Reset;
            bg = Color::Reset;
        }
    }
    s.push_str("\x1b8");
    if rows > 0 {
        s.push_str(&format!("\x1b[{rows}B"));
    }
    s.push('\r');
    out.write_all(s.as_bytes())
}

fn sgr(s: &mut String, color: Color, fg: bool) {
    let base = if fg { 30 } else { 40 };
    let named = |n: u8| format!("\x1b[{}m", base + u16::from(n));
    let bright = |n: u8| format!("\x1b[{}m", base + 60 + u16::from(n));
    let code = match color {
        Color::Reset => format!("\x1b[{}m", base + 9),
        Color::Rgb(r, g, b) => format!("\x1b[{};2;{r};{g};{b}m", base + 8),
        Color::Indexed(i) => format!("\x1b[{};5;{i}m", base + 8),
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => bright(0),
        Color::LightRed => bright(1),
        Color::LightGreen => bright(2),
        Color::LightYellow => bright(3),
        Color::LightBlue => bright(4),
        Color::LightMagenta => bright(5),
        Color::LightCyan => bright(6),
        Color::White => bright(7),
    };
    s.push_str(&code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_parse() {
        assert_eq!(
            "80x40".parse::<Dims>(),
            Ok(Dims {
                width: 80,
                height: 40
            })
        );
        assert!("80".parse::<Dims>().is_err());
        assert!("0x4".parse::<Dims>().is_err());
    }
}
