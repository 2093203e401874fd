//! The terminal: entering and leaving raw mode and the alternate screen, and making sure the user
//! gets their terminal back whatever happens (normal exit, error, or a panic on any thread).

use std::io::{self, IsTerminal, Stdout, Write};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "xmedia needs an interactive terminal (stdin and stdout must be a TTY); for scripts use `xmedia dump`"
    )]
    NotATerminal,
    #[error("could not set up the terminal: {0}")]
    Io(#[from] io::Error),
}

/// Restores the terminal when dropped, so an early return or `?` cannot leave it in raw mode.
pub struct TerminalGuard {
    pub terminal: Term,
}

impl TerminalGuard {
    pub fn enter() -> Result<Self, TuiError> {
        if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
            return Err(TuiError::NotATerminal);
        }
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        // Clear with a plain escape rather than `Terminal::clear`, which first asks the terminal
        // for the cursor position and, in a terminal that never answers, blanks startup for 2 s.
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableMouseCapture,
            Clear(ClearType::All)
        ) {
            restore();
            return Err(e.into());
        }
        let mut terminal = match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        let _ = terminal.hide_cursor();
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// On a panic anywhere (UI thread, tokio task, decoder thread): restore the terminal, print the
/// report on the normal screen, and exit. Exiting rather than unwinding matters for tasks: tokio
/// would catch their panic and the app would go on drawing into a cooked terminal.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A decoder bug on a hostile picture: that picture fails, the app goes on.
            if crate::media::contain::note_contained_panic(info) {
                return;
            }
            // Hold stdout until the process exits, so the UI thread cannot draw another frame
            // into the restored terminal while a task's panic is being reported (the lock is
            // reentrant: `restore` below takes it again on this thread).
            let _stdout = io::stdout().lock();
            restore();
            previous(info);
            eprintln!(
                "xmedia crashed; the terminal has been restored. Please report this with the message above."
            );
            std::process::exit(101);
        }));
    });
}
