//! `xmedia doctor`: what the terminal can show, and why.

use std::fmt::Write;

use crate::media::graphics::Graphics;

/// The graphics part of the doctor report, one fact a line.
pub fn report(graphics: &Graphics) -> String {
    let mut s = String::new();
    let (cw, ch) = graphics.cell_px();
    let hints = &graphics.hints;
    let _ = writeln!(s, "graphics:  {}", graphics.describe());
    let _ = writeln!(s, "  why:     {}", graphics.why);
    let _ = writeln!(
        s,
        "  cell:    {cw}x{ch} px{}",
        if graphics.answered {
            ""
        } else {
            " (assumed or from the window size; the terminal did not report it)"
        }
    );
    let term = hints
        .term
        .as_deref()
        .map(crate::sanitize::line)
        .unwrap_or_else(|| "(unset)".into());
    let _ = writeln!(s, "  TERM:    {term}");
    let program = hints
        .term_program
        .as_deref()
        .map(crate::sanitize::line)
        .unwrap_or_else(|| "(unset)".into());
    let _ = writeln!(s, "  TERM_PROGRAM: {program}");
    let tmux = if hints.tmux {
        if graphics.picker.tmux_detected() {
            "yes: images go through tmux passthrough (`set -g allow-passthrough on`)"
        } else {
            "yes ($TMUX set): if pictures look wrong, `set -g allow-passthrough on` or use --graphics halfblocks"
        }
    } else if hints.screen {
        "no, but GNU screen is: it drops graphics; expect halfblocks"
    } else {
        "no"
    };
    let _ = writeln!(s, "  tmux:    {tmux}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::graphics::{EnvHints, GraphicsChoice, decide};

    #[test]
    fn report_names_protocol_cell_and_tmux() {
        let hints = EnvHints::from_lookup(|k| match k {
            "TERM" => Some("screen-256color".into()),
            "TMUX" => Some("/tmp/x".into()),
            _ => None,
        });
        let g = decide(GraphicsChoice::Auto, Err("no tty".into()), hints);
        let r = report(&g);
        assert!(r.contains("graphics:  halfblocks"), "{r}");
        assert!(r.contains("10x20 px"), "{r}");
        assert!(r.contains("tmux:    yes"), "{r}");
        assert!(r.contains("TERM:    screen-256color"), "{r}");
    }
}
