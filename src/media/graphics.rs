//! Which graphics protocol to draw pictures with, and why — the "why" is shown by `doctor`.

use std::str::FromStr;
use std::time::Duration;

use crossterm::event::KeyEvent;

use ratatui_image::FontSize;
use ratatui_image::picker::{Picker, ProtocolType};
use serde::Deserialize;

use super::encode::KittyPlacement;

/// Longest the terminal may take to answer the capability query. The wait ends as soon as the
/// terminal answers the status request that closes the query (virtually every terminal, tmux
/// included, does), so only a terminal that answers nothing at all costs this, once.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(200);

/// The wait when the environment says an answer is coming but may be slow: a terminal known to
/// answer graphics queries (kitty, WezTerm, …), or a session over ssh, where the answer needs a
/// network round trip. A kitty on a busy machine was seen answering after 200 ms and getting
/// half-blocks (its late answer then read as keys, see `late_answers`).
pub const QUERY_TIMEOUT_PATIENT: Duration = Duration::from_millis(1000);

/// How long to wait for the terminal's answer, from what the environment says.
pub fn query_timeout(hints: &EnvHints) -> Duration {
    if hints.expects_graphics_answer() || hints.ssh {
        QUERY_TIMEOUT_PATIENT
    } else {
        QUERY_TIMEOUT
    }
}

/// Cell size assumed when the terminal does not say (a common 1:2 font).
pub const FALLBACK_CELL: (u16, u16) = (10, 20);

/// Largest cell side, in pixels, believed from a terminal. A cell is a character: even a huge
/// font on an 8K screen is a few hundred pixels. A terminal (or a program pretending to be one)
/// that answers 60000-pixel cells is not believed; the window size or [`FALLBACK_CELL`] is used.
pub const MAX_CELL_PX: u16 = 1024;

fn plausible_cell((w, h): (u16, u16)) -> bool {
    (1..=MAX_CELL_PX).contains(&w) && (1..=MAX_CELL_PX).contains(&h)
}

/// `--graphics` / config `graphics = "…"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GraphicsChoice {
    #[default]
    Auto,
    Kitty,
    /// Kitty pictures placed at the cursor, for kittys without unicode placeholders (< 0.28).
    #[serde(rename = "kitty-direct")]
    KittyDirect,
    Sixel,
    Iterm2,
    Halfblocks,
}

impl GraphicsChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Kitty => "kitty",
            Self::KittyDirect => "kitty-direct",
            Self::Sixel => "sixel",
            Self::Iterm2 => "iterm2",
            Self::Halfblocks => "halfblocks",
        }
    }

    /// The forced protocol, or `None` for auto-detection.
    pub fn protocol(self) -> Option<ProtocolType> {
        match self {
            Self::Auto => None,
            Self::Kitty | Self::KittyDirect => Some(ProtocolType::Kitty),
            Self::Sixel => Some(ProtocolType::Sixel),
            Self::Iterm2 => Some(ProtocolType::Iterm2),
            Self::Halfblocks => Some(ProtocolType::Halfblocks),
        }
    }
}

impl FromStr for GraphicsChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "kitty" => Ok(Self::Kitty),
            "kitty-direct" | "kittydirect" => Ok(Self::KittyDirect),
            "sixel" => Ok(Self::Sixel),
            "iterm2" | "iterm" => Ok(Self::Iterm2),
            "halfblocks" | "blocks" => Ok(Self::Halfblocks),
            other => Err(format!(
                "unknown graphics protocol {other:?}; expected auto, kitty, kitty-direct, sixel, iterm2 or halfblocks"
            )),
        }
    }
}

pub fn protocol_name(p: ProtocolType) -> &'static str {
    match p {
        ProtocolType::Halfblocks => "halfblocks",
        ProtocolType::Sixel => "sixel",
        ProtocolType::Kitty => "kitty",
        ProtocolType::Iterm2 => "iterm2",
    }
}

/// What the environment says about the terminal: hints only, used to explain a choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvHints {
    pub term: Option<String>,
    pub term_program: Option<String>,
    pub kitty_window_id: bool,
    /// `$TMUX` set, or TERM/TERM_PROGRAM naming tmux.
    pub tmux: bool,
    pub screen: bool,
    /// `$SSH_CONNECTION` or `$SSH_TTY` set: the terminal is a network round trip away.
    pub ssh: bool,
}

impl EnvHints {
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let term = nonempty("TERM");
        let term_program = nonempty("TERM_PROGRAM");
        let tmux = nonempty("TMUX").is_some()
            || term.as_deref().is_some_and(|t| t.starts_with("tmux"))
            || term_program.as_deref() == Some("tmux");
        let screen = nonempty("STY").is_some()
            || (!tmux && term.as_deref().is_some_and(|t| t.starts_with("screen")));
        Self {
            term,
            term_program,
            kitty_window_id: nonempty("KITTY_WINDOW_ID").is_some(),
            tmux,
            screen,
            ssh: nonempty("SSH_CONNECTION").is_some() || nonempty("SSH_TTY").is_some(),
        }
    }

    /// Whether the environment names a terminal that answers graphics queries: kitty's window
    /// id, or TERM/TERM_PROGRAM naming kitty, WezTerm, ghostty, foot, iTerm2 or Konsole.
    pub fn expects_graphics_answer(&self) -> bool {
        const ANSWERING: [&str; 6] = ["kitty", "wezterm", "ghostty", "foot", "iterm", "konsole"];
        let names = [self.term.as_deref(), self.term_program.as_deref()];
        self.kitty_window_id
            || names.iter().flatten().any(|n| {
                let n = n.to_ascii_lowercase();
                ANSWERING.iter().any(|a| n.contains(a))
            })
    }

    /// A short human reading of the hints, e.g. "TERM=xterm-kitty, inside tmux".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.push(format!(
            "TERM={}",
            self.term
                .as_deref()
                .map(crate::sanitize::line)
                .unwrap_or_else(|| "(unset)".into())
        ));
        if let Some(p) = &self.term_program {
            parts.push(format!("TERM_PROGRAM={}", crate::sanitize::line(p)));
        }
        if self.kitty_window_id {
            parts.push("KITTY_WINDOW_ID set".into());
        }
        if self.tmux {
            parts.push("inside tmux".into());
        }
        if self.screen {
            parts.push("inside GNU screen".into());
        }
        if self.ssh {
            parts.push("over ssh".into());
        }
        parts.join(", ")
    }
}

/// The chosen protocol with its cell size, and why.
#[derive(Debug, Clone)]
pub struct Graphics {
    pub picker: Picker,
    pub why: String,
    /// Whether the terminal answered the capability query.
    pub answered: bool,
    pub hints: EnvHints,
    /// Keys the user typed while the query waited for its answer: read from stdin with the
    /// answer, so the app must replay them or they are lost.
    pub typed_ahead: Vec<KeyEvent>,
    /// How kitty pictures are placed (meaningful when the protocol is kitty).
    pub kitty: KittyPlacement,
}

impl Graphics {
    pub fn protocol(&self) -> ProtocolType {
        self.picker.protocol_type()
    }

    /// What to tell the user on screen when the terminal looks able to draw pictures (kitty's
    /// window id, or a terminal name known to answer) but did not answer in time, so pictures
    /// fall back to half-blocks: otherwise they only see blocky pictures and wonder why.
    pub fn fallback_notice(&self) -> Option<String> {
        let fell_back = self.protocol() == ProtocolType::Halfblocks && !self.answered;
        (fell_back && self.hints.expects_graphics_answer() && !self.hints.tmux).then(|| {
            let suggest = if self.hints.kitty_window_id
                || self
                    .hints
                    .term
                    .as_deref()
                    .is_some_and(|t| t.contains("kitty"))
            {
                "--graphics kitty"
            } else {
                "--graphics kitty|sixel|iterm2"
            };
            // Short: it shares the status bar with the provider, counts and paging state.
            format!("graphics query unanswered: try {suggest}")
        })
    }

    /// The protocol's name, with how kitty pictures are placed: "kitty (direct placement)".
    pub fn describe(&self) -> String {
        match (self.protocol(), self.kitty) {
            (ProtocolType::Kitty, KittyPlacement::Direct) => "kitty (direct placement)".into(),
            (p, _) => protocol_name(p).into(),
        }
    }

    pub fn cell_px(&self) -> (u16, u16) {
        let f = self.picker.font_size();
        (f.width, f.height)
    }
}

/// A picker with a given protocol and cell size, without touching the terminal.
pub fn fixed_picker(protocol: ProtocolType, cell_px: (u16, u16)) -> Picker {
    // `from_fontsize` is deprecated only to steer people to the query; here the caller knows.
    #[allow(deprecated)]
    let mut picker = Picker::from_fontsize(FontSize::new(cell_px.0.max(1), cell_px.1.max(1)));
    picker.set_protocol_type(protocol);
    picker
}

/// Asks the terminal (writes to stdout, reads stdin). Call after entering raw mode and before the
/// event stream starts reading, or its answers are mistaken for keys. A forced `choice` still
/// queries, for the cell size; a failed or silent query falls back to half-blocks (or to the
/// forced protocol at [`FALLBACK_CELL`]).
///
/// Caveat (ratatui-image 11.1): when the terminal stays silent, the crate's reader thread is left
/// blocked on stdin and swallows the first input bytes that arrive later (one key press, once).
/// Only terminals that answer nothing at all are affected; real terminals answer the status query.
pub fn detect(choice: GraphicsChoice) -> Graphics {
    let hints = EnvHints::from_env();
    let mut typed = TypeAhead::default();
    let queried = query_terminal(query_timeout(&hints), hints.tmux, &mut typed);
    let mut graphics = decide(choice, queried, hints);
    if choice == GraphicsChoice::Auto {
        avoid_old_kitty(&mut graphics, typed.xtversion.as_deref());
        let old_kitty = typed
            .xtversion
            .as_deref()
            .and_then(kitty_version)
            .is_some_and(|v| v < (0, 28));
        if graphics.hints.tmux && graphics.protocol() == ProtocolType::Halfblocks && !old_kitty {
            kitty_through_tmux(&mut graphics, ask_tmux().as_ref());
        }
    }
    Graphics {
        typed_ahead: typed.keys,
        ..graphics
    }
}

/// What tmux says about the terminal it runs in and the pane xmedia runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmuxClient {
    /// The outer terminal's TERM, e.g. `xterm-kitty`.
    pub termname: String,
    /// The pane's `allow-passthrough` option: `on`, `all` or `off`.
    pub passthrough: String,
}

/// Inside tmux the outer terminal's answer to the graphics query does not reliably come back
/// (seen with kitty 0.41 and tmux 3.3a: the app at start-up got no kitty answer where `doctor`
/// in the same pane later did; tmux answers the status query itself, which can end the wait
/// first). A kitty outside a tmux that passes escape sequences through (`set -g
/// allow-passthrough on`) can still show pictures, so where the query found nothing tmux is
/// asked instead. Kitty's version is unknown there (tmux
/// answers XTVERSION itself): a kitty older than 0.28 would show placeholder glyphs, which
/// `--graphics halfblocks` avoids.
pub fn kitty_through_tmux(graphics: &mut Graphics, client: Option<&TmuxClient>) {
    let Some(client) = client else {
        return;
    };
    let kitty = client.termname.contains("kitty");
    let passes = matches!(client.passthrough.trim(), "on" | "all");
    if !kitty {
        return;
    }
    if !passes {
        graphics.why.push_str(
            "; the terminal outside tmux is kitty: `set -g allow-passthrough on` in tmux would \
             let its pictures through",
        );
        return;
    }
    graphics.picker.set_protocol_type(ProtocolType::Kitty);
    graphics.kitty = KittyPlacement::Placeholders;
    graphics.why = format!(
        "kitty: inside tmux, whose client terminal is {} and whose pane has allow-passthrough {} \
         (tmux does not pass the terminal's own graphics answer on, so tmux was asked)",
        crate::sanitize::line(&client.termname),
        crate::sanitize::line(client.passthrough.trim()),
    );
}

/// Asks the tmux server for the client's terminal name and the pane's `allow-passthrough`;
/// `None` when tmux is not there or does not answer within half a second.
fn ask_tmux() -> Option<TmuxClient> {
    use std::process::{Command, Stdio};
    use std::time::Instant;
    let mut child = Command::new("tmux")
        .args([
            "display-message",
            "-p",
            "#{client_termname}\t#{allow-passthrough}",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    let (termname, passthrough) = out.trim_end_matches('\n').split_once('\t')?;
    Some(TmuxClient {
        termname: termname.to_string(),
        passthrough: passthrough.to_string(),
    })
}

/// [`detect`] for a one-shot command (`render`, `doctor`), which has no raw-mode session of its
/// own: the terminal is asked only when stdin and stdout both are one, and in raw mode for the
/// length of the query. In the terminal's line mode its answers would not be readable before a
/// newline, and would be echoed onto the screen instead.
pub fn detect_once(choice: GraphicsChoice) -> Graphics {
    use std::io::IsTerminal;
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if tty && crossterm::terminal::enable_raw_mode().is_ok() {
        let graphics = detect(choice);
        let _ = crossterm::terminal::disable_raw_mode();
        graphics
    } else {
        decide(choice, Err(NOT_ASKED.into()), EnvHints::from_env())
    }
}

/// Why [`detect_once`] did not ask: said in `doctor`'s "why", and no "did not answer" beside it.
const NOT_ASKED: &str = "not a terminal, so it was not asked";

/// Kitty pictures are drawn through unicode placeholders ([`super::kitty`]), which kitty added
/// in 0.28: older kittys (Debian 12 ships 0.26) answer the graphics query but would show placeholder
/// glyphs. There pictures are placed directly instead ([`super::kitty_direct`]); `--graphics
/// kitty` still forces placeholders. Inside tmux a direct placement would not follow the pane,
/// so there half-blocks are drawn.
pub fn avoid_old_kitty(graphics: &mut Graphics, xtversion: Option<&str>) {
    if graphics.protocol() != ProtocolType::Kitty {
        return;
    }
    let Some(version) = xtversion.and_then(kitty_version) else {
        return;
    };
    if version >= (0, 28) {
        return;
    }
    if graphics.hints.tmux {
        graphics.picker.set_protocol_type(ProtocolType::Halfblocks);
        graphics.why = format!(
            "half-blocks: the terminal is kitty {}.{}, older than 0.28, and inside tmux its \
             pictures cannot be placed directly (upgrade kitty, or --graphics kitty to try anyway)",
            version.0, version.1
        );
    } else {
        graphics.kitty = KittyPlacement::Direct;
        graphics.why = format!(
            "kitty (direct placement): the terminal is kitty {}.{}, older than 0.28, which has \
             no unicode placeholders; pictures are placed at the cursor instead",
            version.0, version.1
        );
    }
}

/// `(major, minor)` from an XTVERSION answer such as `kitty(0.26.5)`.
fn kitty_version(xtversion: &str) -> Option<(u32, u32)> {
    let rest = xtversion.trim().strip_prefix("kitty(")?;
    let mut parts = rest.split(['.', ')']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Separates keys typed during the capability query from the terminal's answers, which share
/// stdin. Answers are escape sequences (CSI …, APC … ST, OSC … BEL); everything outside them is
/// the user's. Plain characters, Enter, Tab, Backspace, ctrl-letters, arrows and paging keys are
/// kept; anything more exotic typed in those few milliseconds is dropped.
#[derive(Debug, Default)]
pub struct TypeAhead {
    state: TypeState,
    csi: Vec<u8>,
    /// The DCS string being read, when the current string is one.
    dcs: Option<Vec<u8>>,
    pub keys: Vec<KeyEvent>,
    /// The terminal's name and version from its XTVERSION answer (`DCS >| kitty(0.26.5) ST`).
    pub xtversion: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum TypeState {
    #[default]
    Ground,
    Esc,
    Csi,
    /// APC, OSC, DCS, PM, SOS payloads: until BEL or ST.
    Str,
    StrEsc,
}

impl TypeAhead {
    fn end_string(&mut self) {
        if let Some(version) = self
            .dcs
            .take()
            .and_then(|d| d.strip_prefix(b">|").map(<[u8]>::to_vec))
        {
            self.xtversion = Some(String::from_utf8_lossy(&version).into_owned());
        }
    }

    pub fn push(&mut self, b: u8) {
        use crossterm::event::{KeyCode, KeyModifiers};
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        self.state = match (self.state, b) {
            (TypeState::Ground, 0x1b) => TypeState::Esc,
            (TypeState::Ground, b) => {
                let ev = match b {
                    b'\r' | b'\n' => Some(key(KeyCode::Enter)),
                    b'\t' => Some(key(KeyCode::Tab)),
                    0x7f | 0x08 => Some(key(KeyCode::Backspace)),
                    0x01..=0x1a => Some(KeyEvent::new(
                        KeyCode::Char(char::from(b - 1 + b'a')),
                        KeyModifiers::CONTROL,
                    )),
                    0x20..=0x7e => Some(key(KeyCode::Char(char::from(b)))),
                    _ => None,
                };
                self.keys.extend(ev);
                TypeState::Ground
            }
            (TypeState::Esc, b'[') => {
                self.csi.clear();
                TypeState::Csi
            }
            (TypeState::Esc, b'P') => {
                self.dcs = Some(Vec::new());
                TypeState::Str
            }
            (TypeState::Esc, b'_' | b']' | b'^' | b'X') => {
                self.dcs = None;
                TypeState::Str
            }
            (TypeState::Esc, _) => TypeState::Ground,
            (TypeState::Csi, 0x40..=0x7e) => {
                let code = match (self.csi.as_slice(), b) {
                    (b"", b'A') => Some(KeyCode::Up),
                    (b"", b'B') => Some(KeyCode::Down),
                    (b"", b'C') => Some(KeyCode::Right),
                    (b"", b'D') => Some(KeyCode::Left),
                    (b"", b'H') => Some(KeyCode::Home),
                    (b"", b'F') => Some(KeyCode::End),
                    (b"5", b'~') => Some(KeyCode::PageUp),
                    (b"6", b'~') => Some(KeyCode::PageDown),
                    _ => None,
                };
                self.keys.extend(code.map(key));
                TypeState::Ground
            }
            (TypeState::Csi, b) => {
                self.csi.push(b);
                TypeState::Csi
            }
            (TypeState::Str, 0x07) => {
                self.end_string();
                TypeState::Ground
            }
            (TypeState::Str, 0x1b) => TypeState::StrEsc,
            (TypeState::Str, b) => {
                if let Some(d) = self.dcs.as_mut().filter(|d| d.len() < 256) {
                    d.push(b);
                }
                TypeState::Str
            }
            (TypeState::StrEsc, b'\\') => {
                self.end_string();
                TypeState::Ground
            }
            (TypeState::StrEsc, _) => TypeState::Str,
        };
    }
}

/// Writes the capability query and reads the answer from stdin with a deadline, polling the file
/// descriptor instead of parking a thread on a blocking read: ratatui-image's own query leaves
/// such a thread behind when the terminal stays silent, and it then swallows the user's first key.
#[cfg(unix)]
fn query_terminal(
    timeout: Duration,
    is_tmux: bool,
    typed: &mut TypeAhead,
) -> Result<Picker, String> {
    use ratatui_image::picker::cap_parser::{Parser, QueryStdioOptions, Response};
    use std::io::Write;
    use std::time::Instant;

    let query = Parser::query(
        is_tmux,
        QueryStdioOptions {
            timeout,
            ..QueryStdioOptions::default()
        },
    );
    // XTVERSION first (terminals answer in order, and the status answer ends the wait): it tells
    // an old kitty from a new one. Terminals that do not know it ignore it.
    let query = format!("\x1b[>0q{query}");
    let mut out = std::io::stdout();
    out.write_all(query.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let mut parser = Parser::new();
    let (mut proto, mut cell) = (None, None);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the terminal did not answer in time".into());
        }
        let mut fds = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut fds, 1, ms) };
        if ready <= 0 {
            continue;
        }
        let mut buf = [0u8; 256];
        // SAFETY: reading into a local buffer of the given length.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return Err("stdin closed during the graphics query".into());
        }
        let bytes = &buf[..n as usize];
        for (i, &b) in bytes.iter().enumerate() {
            typed.push(b);
            for r in parser.push(char::from(b)) {
                match r {
                    Response::Status => {
                        // Keys typed after the answer, read in the same gulp.
                        bytes[i + 1..].iter().for_each(|&b| typed.push(b));
                        let cell = cell.or_else(cell_from_window).unwrap_or(FALLBACK_CELL);
                        return Ok(fixed_picker(
                            proto.unwrap_or(ProtocolType::Halfblocks),
                            cell,
                        ));
                    }
                    Response::Kitty => proto = Some(ProtocolType::Kitty),
                    Response::Sixel if proto.is_none() => proto = Some(ProtocolType::Sixel),
                    Response::CellSize(Some(size)) if plausible_cell(size) => cell = Some(size),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(not(unix))]
fn query_terminal(
    _timeout: Duration,
    _is_tmux: bool,
    _typed: &mut TypeAhead,
) -> Result<Picker, String> {
    Err("terminal queries are only supported on unix".into())
}

/// The cell size from the window's pixel size, where the terminal reports one.
fn cell_from_window() -> Option<(u16, u16)> {
    let w = crossterm::terminal::window_size().ok()?;
    (w.width > 0 && w.height > 0 && w.columns > 0 && w.rows > 0)
        .then(|| (w.width / w.columns, w.height / w.rows))
        .filter(|&cell| plausible_cell(cell))
}

/// The decision behind [`detect`], separated from the terminal I/O so it can be tested.
pub fn decide(
    choice: GraphicsChoice,
    queried: Result<Picker, String>,
    hints: EnvHints,
) -> Graphics {
    let asked = !matches!(&queried, Err(e) if e == NOT_ASKED);
    let (mut picker, answered, query_note) = match queried {
        Ok(p) => {
            // A picker from our own query answered (it returns only once the terminal did); one
            // from elsewhere says so through its capabilities.
            let answered =
                !p.capabilities().is_empty() || p.protocol_type() != ProtocolType::Halfblocks;
            let note = if answered {
                "the terminal answered the graphics query".to_string()
            } else {
                "the terminal did not answer the graphics query".to_string()
            };
            (p, answered, note)
        }
        Err(e) => (
            fixed_picker(ProtocolType::Halfblocks, FALLBACK_CELL),
            false,
            format!("the graphics query failed ({})", crate::http::snippet(&e)),
        ),
    };
    let detected = picker.protocol_type();
    let why = match choice.protocol() {
        Some(forced) => {
            picker.set_protocol_type(forced);
            format!(
                "{} forced by --graphics/config; {query_note}",
                choice.as_str()
            )
        }
        None => {
            let mut why = format!("{}: {query_note}", protocol_name(detected));
            match detected {
                ProtocolType::Kitty => why.push_str(" and supports the kitty graphics protocol"),
                ProtocolType::Sixel => why.push_str(" and reports sixel support"),
                ProtocolType::Iterm2 => why.push_str("; TERM_PROGRAM suggests iTerm2 images"),
                ProtocolType::Halfblocks => {
                    why.push_str("; no graphics protocol found, using coloured half-blocks");
                    if hints.tmux {
                        why.push_str(
                            " (inside tmux, pictures need `set -g allow-passthrough on` \
                             and a graphics-capable outer terminal)",
                        );
                    } else if hints.kitty_window_id && asked {
                        why.push_str(
                            " (KITTY_WINDOW_ID is set but kitty did not answer; try --graphics kitty)",
                        );
                    }
                }
            }
            why
        }
    };
    Graphics {
        picker,
        why,
        answered,
        hints,
        typed_ahead: Vec::new(),
        kitty: if choice == GraphicsChoice::KittyDirect {
            KittyPlacement::Direct
        } else {
            KittyPlacement::Placeholders
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hints from these environment variables only.
    fn hints_of(vars: &[(&str, &str)]) -> EnvHints {
        EnvHints::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_string())
        })
    }

    #[test]
    fn a_silent_graphics_terminal_is_told_on_screen_why_pictures_are_blocky() {
        let timed_out = || Err("the terminal did not answer in time".to_string());
        let kitty = decide(
            GraphicsChoice::Auto,
            timed_out(),
            hints_of(&[("TERM", "xterm-kitty"), ("KITTY_WINDOW_ID", "1")]),
        );
        let notice = kitty.fallback_notice().expect("a notice for kitty");
        assert_eq!(notice, "graphics query unanswered: try --graphics kitty");
        let wezterm = decide(
            GraphicsChoice::Auto,
            timed_out(),
            hints_of(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "WezTerm")]),
        );
        assert!(
            wezterm
                .fallback_notice()
                .is_some_and(|n| n.ends_with("try --graphics kitty|sixel|iterm2"))
        );
        // Nothing to say: a terminal with no such hints, tmux (its own hint is in the log),
        // a forced protocol, or a terminal that answered.
        let plain = decide(
            GraphicsChoice::Auto,
            timed_out(),
            hints_of(&[("TERM", "xterm-256color")]),
        );
        assert_eq!(plain.fallback_notice(), None);
        let tmux = decide(
            GraphicsChoice::Auto,
            timed_out(),
            hints_of(&[
                ("TERM", "tmux-256color"),
                ("TMUX", "x"),
                ("KITTY_WINDOW_ID", "1"),
            ]),
        );
        assert_eq!(tmux.fallback_notice(), None);
        let forced = decide(
            GraphicsChoice::Kitty,
            timed_out(),
            hints_of(&[("KITTY_WINDOW_ID", "1")]),
        );
        assert_eq!(forced.fallback_notice(), None);
        let answered = decide(
            GraphicsChoice::Auto,
            Ok(fixed_picker(ProtocolType::Kitty, (10, 20))),
            hints_of(&[("KITTY_WINDOW_ID", "1")]),
        );
        assert_eq!(answered.fallback_notice(), None);
    }

    #[test]
    fn kitty_outside_a_passing_tmux_gets_kitty_pictures() {
        let in_tmux = || {
            decide(
                GraphicsChoice::Auto,
                Err("the terminal did not answer in time".into()),
                hints_of(&[("TERM", "tmux-256color"), ("TMUX", "/tmp/t,1,0")]),
            )
        };
        let client = |termname: &str, passthrough: &str| TmuxClient {
            termname: termname.into(),
            passthrough: passthrough.into(),
        };
        for passthrough in ["on", "all"] {
            let mut g = in_tmux();
            kitty_through_tmux(&mut g, Some(&client("xterm-kitty", passthrough)));
            assert_eq!(g.protocol(), ProtocolType::Kitty, "{passthrough}");
            assert_eq!(g.kitty, KittyPlacement::Placeholders);
            assert!(g.why.contains("allow-passthrough"), "{}", g.why);
        }
        // Passthrough off: still half-blocks, and the way to pictures is named.
        let mut off = in_tmux();
        kitty_through_tmux(&mut off, Some(&client("xterm-kitty", "off")));
        assert_eq!(off.protocol(), ProtocolType::Halfblocks);
        assert!(
            off.why.contains("set -g allow-passthrough on"),
            "{}",
            off.why
        );
        // Another terminal, or tmux not answering: nothing changes.
        for other in [Some(client("xterm-256color", "on")), None] {
            let mut g = in_tmux();
            let before = g.why.clone();
            kitty_through_tmux(&mut g, other.as_ref());
            assert_eq!(g.protocol(), ProtocolType::Halfblocks);
            assert_eq!(g.why, before);
        }
    }

    #[test]
    fn a_terminal_that_was_not_asked_is_not_said_to_be_silent() {
        let kitty = || hints_of(&[("KITTY_WINDOW_ID", "1")]);
        let silent = decide(
            GraphicsChoice::Auto,
            Err("the terminal did not answer in time".into()),
            kitty(),
        );
        assert!(
            silent.why.contains("kitty did not answer"),
            "{}",
            silent.why
        );
        // `xmedia doctor | less`: stdout is a pipe, so the terminal was never asked.
        let piped = decide(GraphicsChoice::Auto, Err(NOT_ASKED.into()), kitty());
        assert!(piped.why.contains("not a terminal"), "{}", piped.why);
        assert!(!piped.why.contains("did not answer"), "{}", piped.why);
    }

    #[test]
    fn the_query_waits_longer_for_terminals_known_to_answer_and_over_ssh() {
        let patient = [
            vec![("TERM", "xterm-kitty")],
            vec![("TERM", "xterm-256color"), ("KITTY_WINDOW_ID", "3")],
            vec![("TERM", "xterm-256color"), ("TERM_PROGRAM", "WezTerm")],
            vec![("TERM", "xterm-256color"), ("TERM_PROGRAM", "iTerm.app")],
            vec![("TERM", "foot")],
            vec![
                ("TERM", "xterm"),
                ("SSH_CONNECTION", "10.0.0.2 5022 10.0.0.1 22"),
            ],
            vec![("TERM", "xterm"), ("SSH_TTY", "/dev/pts/3")],
        ];
        for vars in &patient {
            assert_eq!(
                query_timeout(&hints_of(vars)),
                QUERY_TIMEOUT_PATIENT,
                "{vars:?}"
            );
        }
        let quick = [
            vec![],
            vec![("TERM", "xterm-256color")],
            vec![
                ("TERM", "tmux-256color"),
                ("TMUX", "/tmp/tmux-0/default,1,0"),
            ],
            vec![("TERM", "dumb"), ("SSH_CONNECTION", "")],
        ];
        for vars in &quick {
            assert_eq!(query_timeout(&hints_of(vars)), QUERY_TIMEOUT, "{vars:?}");
        }
        assert!(
            hints_of(&[("SSH_TTY", "/dev/pts/1")])
                .describe()
                .contains("over ssh")
        );
    }

    #[test]
    fn xtversion_answers_are_read_and_old_kitty_places_pictures_directly() {
        use ratatui_image::picker::cap_parser::{Parser, Response};
        let answer = b"\x1bP>|kitty(0.26.5)\x1b\\\x1b_Gi=31;OK\x1b\\\x1b[?62;c\x1b[0n";
        let mut t = TypeAhead::default();
        let mut parser = Parser::new();
        let mut responses = Vec::new();
        for &b in answer {
            t.push(b);
            responses.extend(parser.push(char::from(b)));
        }
        assert_eq!(t.xtversion.as_deref(), Some("kitty(0.26.5)"));
        assert!(t.keys.is_empty(), "{:?}", t.keys);
        // The XTVERSION answer does not confuse ratatui-image's parser.
        assert!(responses.iter().any(|r| matches!(r, Response::Kitty)));
        assert!(responses.iter().any(|r| matches!(r, Response::Status)));

        let kitty_in = |hints: EnvHints| {
            decide(
                GraphicsChoice::Auto,
                Ok(fixed_picker(ProtocolType::Kitty, (10, 20))),
                hints,
            )
        };
        let kitty = || kitty_in(EnvHints::default());
        let mut g = kitty();
        avoid_old_kitty(&mut g, t.xtversion.as_deref());
        assert_eq!(g.protocol(), ProtocolType::Kitty);
        assert_eq!(g.kitty, KittyPlacement::Direct);
        assert_eq!(g.describe(), "kitty (direct placement)");
        assert!(
            g.why.contains("0.26") && g.why.contains("0.28"),
            "{}",
            g.why
        );
        // Inside tmux a direct placement would not follow the pane: half-blocks.
        let mut g = kitty_in(EnvHints::from_lookup(|k| {
            (k == "TMUX").then(|| "/tmp/tmux-0/default,1,0".to_string())
        }));
        avoid_old_kitty(&mut g, t.xtversion.as_deref());
        assert_eq!(g.protocol(), ProtocolType::Halfblocks);
        assert!(g.why.contains("tmux"), "{}", g.why);
        for newer in ["kitty(0.28.0)", "kitty(0.35.2)", "kitty(1.0.0)"] {
            let mut g = kitty();
            avoid_old_kitty(&mut g, Some(newer));
            assert_eq!(g.protocol(), ProtocolType::Kitty, "{newer}");
            assert_eq!(g.kitty, KittyPlacement::Placeholders, "{newer}");
        }
        // Other terminals and unknown answers change nothing.
        for other in [None, Some("WezTerm 20240203"), Some("kitty(garbage)")] {
            let mut g = kitty();
            avoid_old_kitty(&mut g, other);
            assert_eq!(g.protocol(), ProtocolType::Kitty, "{other:?}");
            assert_eq!(g.kitty, KittyPlacement::Placeholders, "{other:?}");
        }
    }

    #[test]
    fn keys_typed_during_the_query_are_kept_and_answers_are_not() {
        use crossterm::event::{KeyCode, KeyModifiers};
        let mut t = TypeAhead::default();
        // j, a kitty graphics answer (APC … ST), k, the cell-size answer (CSI 6;20;10t), an
        // arrow, the DA1 status answer (CSI ? 62;4 c), ctrl-c and q.
        let input = b"j\x1b_Gi=31;OK\x1b\\k\x1b[6;20;10t\x1b[B\x1b[?62;4c\x03q";
        input.iter().for_each(|&b| t.push(b));
        let codes: Vec<(KeyCode, KeyModifiers)> =
            t.keys.iter().map(|k| (k.code, k.modifiers)).collect();
        assert_eq!(
            codes,
            vec![
                (KeyCode::Char('j'), KeyModifiers::NONE),
                (KeyCode::Char('k'), KeyModifiers::NONE),
                (KeyCode::Down, KeyModifiers::NONE),
                (KeyCode::Char('c'), KeyModifiers::CONTROL),
                (KeyCode::Char('q'), KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn parses_choices() {
        assert_eq!("Kitty".parse::<GraphicsChoice>(), Ok(GraphicsChoice::Kitty));
        assert_eq!(
            "kitty-direct".parse::<GraphicsChoice>(),
            Ok(GraphicsChoice::KittyDirect)
        );
        assert!("vt340".parse::<GraphicsChoice>().is_err());
        // Forcing direct placement is kitty with direct placement.
        let g = decide(
            GraphicsChoice::KittyDirect,
            Err("no tty".into()),
            EnvHints::default(),
        );
        assert_eq!(g.protocol(), ProtocolType::Kitty);
        assert_eq!(g.kitty, KittyPlacement::Direct);
        assert!(g.why.starts_with("kitty-direct forced"), "{}", g.why);
    }

    #[test]
    fn failed_query_falls_back_to_halfblocks_and_says_tmux() {
        let hints = EnvHints::from_lookup(|k| match k {
            "TMUX" => Some("/tmp/tmux-0/default,1,0".into()),
            "TERM" => Some("tmux-256color".into()),
            _ => None,
        });
        let g = decide(GraphicsChoice::Auto, Err("no tty".into()), hints);
        assert_eq!(g.protocol(), ProtocolType::Halfblocks);
        assert!(g.why.contains("tmux"), "{}", g.why);
        let g = decide(
            GraphicsChoice::Sixel,
            Err("no tty".into()),
            EnvHints::default(),
        );
        assert_eq!(g.protocol(), ProtocolType::Sixel);
        assert_eq!(g.cell_px(), FALLBACK_CELL);
    }
}
