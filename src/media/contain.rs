//! Keeps a bug in a third-party decoder or encoder from taking the app down.
//!
//! The JPEG, PNG, GIF and WebP decoders and the protocol encoders parse bytes written by strangers.
//! They are fuzzed upstream, and still new panics are found in them every few months (index out of
//! bounds in progressive-JPEG scans, overflow in debug builds, …). The app's panic hook restores
//! the terminal and exits on any panic, which is right for a bug in xmedia itself but wrong for one
//! in a decoder fed a hostile picture: that picture should become "image unavailable" and the app
//! should carry on.
//!
//! [`contained`] runs a closure with a thread-local flag set and catches its unwinding; panic hooks
//! ask [`note_contained_panic`] first, which records the message for the error and tells them to
//! stay quiet (no terminal restore, no exit, nothing printed over the UI). The picture work is
//! plain computation over owned buffers, so nothing is left half-updated when it unwinds.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use super::MediaError;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work` (decode, resize, encode of one picture); a panic inside becomes
/// [`MediaError::Crashed`] with the panic's message and location.
pub fn contained<T>(work: impl FnOnce() -> Result<T, MediaError>) -> Result<T, MediaError> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let noted = LAST.with(|l| l.borrow_mut().take());
            let message = noted.unwrap_or_else(|| payload_text(payload.as_ref()));
            tracing::warn!(%message, "a picture decoder/encoder panicked; picture skipped");
            Err(MediaError::Crashed(message))
        }
    }
}

/// Whether the current thread is inside [`contained`].
pub fn is_contained() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// For panic hooks: when the panic happens inside [`contained`], records its message for the
/// error and returns `true` (the hook should then do nothing else). `false` for any other panic.
pub fn note_contained_panic(info: &PanicHookInfo<'_>) -> bool {
    if !is_contained() {
        return false;
    }
    let mut text = payload_text(info.payload());
    if let Some(at) = info.location() {
        text.push_str(&format!(" at {}:{}", short_path(at.file()), at.line()));
    }
    LAST.with(|l| *l.borrow_mut() = Some(text));
    true
}

/// Wraps the current panic hook so contained panics print nothing (for the commands that run
/// without the TUI's own hook, e.g. `xmedia render`, and for tests). Idempotent.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !note_contained_panic(info) {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    // One short line: it is shown in the preview pane.
    let line: String = text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(160)
        .collect();
    crate::sanitize::line(&line)
}

/// `…/zune-jpeg-0.5.15/src/mcu_prog.rs` → `zune-jpeg-0.5.15/src/mcu_prog.rs`: the crate and file
/// are what a bug report needs; the home directory is not.
fn short_path(file: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    match parts.iter().rposition(|p| *p == "src") {
        Some(i) => parts[i.saturating_sub(1)..].join("/"),
        _ => parts.last().copied().unwrap_or(file).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_becomes_an_error_and_the_thread_goes_on() {
        let r: Result<(), MediaError> = contained(|| {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 3;
            // An out-of-bounds index, as decoder bugs do.
            Err(MediaError::Decode(format!("{}", v[i])))
        });
        let e = r.expect_err("contained");
        let text = e.to_string();
        assert!(matches!(e, MediaError::Crashed(_)), "{e:?}");
        assert!(text.contains("index out of bounds"), "{text}");
        assert!(text.contains("src/media/contain.rs"), "{text}");
        assert!(!is_contained());
        // Ordinary results pass through untouched.
        assert_eq!(contained(|| Ok(7)), Ok(7));
        assert_eq!(
            contained::<()>(|| Err(MediaError::Cancelled)),
            Err(MediaError::Cancelled)
        );
    }

    #[test]
    fn panics_outside_are_not_claimed() {
        assert!(!is_contained());
        let r = std::thread::spawn(|| {
            install_hook();
            panic!("not contained");
        })
        .join();
        assert!(r.is_err(), "an ordinary panic still unwinds its thread");
    }

    #[test]
    fn paths_are_shortened_to_the_crate() {
        assert_eq!(
            short_path(
                "/root/.cargo/registry/src/index.crates.io-1/zune-jpeg-0.5.15/src/mcu_prog.rs"
            ),
            "zune-jpeg-0.5.15/src/mcu_prog.rs"
        );
        assert_eq!(short_path("lib.rs"), "lib.rs");
    }
}
