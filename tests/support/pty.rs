#![allow(dead_code)]

//! Runs the real `xmedia` binary in a pseudo-terminal and reads its screen through a vt100
//! emulator, the way a user's terminal would.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

pub struct PtyApp {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    master: Box<dyn portable_pty::MasterPty + Send>,
}

impl PtyApp {
    pub fn spawn(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Self {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: cols * 8,
                pixel_height: rows * 16,
            })
            .expect("open pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_xmedia"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for var in [
            "XMEDIA_KEYAPI_KEY",
            "XMEDIA_AGNTDATA_KEY",
            "XMEDIA_XAPI_TOKEN",
            "TMUX",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn xmedia");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                lock(&r).extend_from_slice(&buf[..n]);
                let mut parser = lock(&p);
                // vt100 0.16 can overflow a row subtraction when bytes drawn for an older, larger
                // size land right after a resize (its bug, not the app's: a real terminal
                // clips). Start a fresh emulator of the same size; the app's next full frame
                // repaints it, which is what the tests read.
                let bytes = &buf[..n];
                let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parser.process(bytes)
                }))
                .is_ok();
                if !ok {
                    let (rows, cols) = parser.screen().size();
                    *parser = vt100::Parser::new(rows, cols, 0);
                }
            }
        });
        Self {
            child,
            writer,
            parser,
            raw,
            master: pair.master,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Resizes the terminal (the app gets SIGWINCH) and the emulator that reads its output.
    pub fn resize(&self, cols: u16, rows: u16) {
        // Emulator first: bytes drawn for the new size must land on a screen of that size.
        lock(&self.parser).screen_mut().set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: cols * 8,
                pixel_height: rows * 16,
            })
            .expect("resize pty");
    }

    /// The emulator's screen size as (rows, cols).
    pub fn size(&self) -> (u16, u16) {
        lock(&self.parser).screen().size()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// Sends a signal to the app (`libc::SIGTERM`, ...).
    #[cfg(unix)]
    pub fn signal(&self, sig: i32) {
        let pid = self.pid().expect("child pid");
        let pid = i32::try_from(pid).expect("pid fits");
        // SAFETY: kill(2) with our own child's pid.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig})");
    }

    /// Whether the pty is in raw mode (no line editing, no echo), read with tcgetattr on the
    /// master side, which shares its termios with the app's side on Linux. `None` if unreadable.
    #[cfg(unix)]
    pub fn raw_mode(&self) -> Option<bool> {
        let fd = self.master.as_raw_fd()?;
        // SAFETY: zeroed termios is a valid out-parameter for tcgetattr on a valid fd.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is the pty master we own; t is a local.
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return None;
        }
        Some(t.c_lflag & (libc::ICANON | libc::ECHO) == 0)
    }

    /// Whether the app exited (without waiting).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn screen(&self) -> String {
        lock(&self.parser).screen().contents()
    }

    pub fn raw(&self) -> Vec<u8> {
        lock(&self.raw).clone()
    }

    /// Waits until `pred` holds for the screen text; returns it, or panics with the last screen
    /// after `limit` (a liveness bound, not a speed assertion).
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_text(&self, text: &str, limit: Duration) -> String {
        self.wait_for(text, limit, |s| s.contains(text))
    }

    /// Waits until the app has written `bytes` (anywhere in its output so far, so a message
    /// already replaced on screen still counts); panics with the screen after `limit`.
    pub fn wait_written(&self, bytes: &[u8], limit: Duration) {
        let start = Instant::now();
        while !self.raw().windows(bytes.len()).any(|w| w == bytes) {
            if start.elapsed() > limit {
                panic!(
                    "timed out waiting for {:?} in the output; screen:\n{}",
                    String::from_utf8_lossy(bytes),
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; `None` if it did not within `limit` (then it is killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<u32> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader drain the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return Some(status.exit_code());
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the terminal is back to normal: main screen, cursor visible, no mouse reporting.
    pub fn terminal_restored(&self) -> bool {
        let p = lock(&self.parser);
        let s = p.screen();
        !s.alternate_screen()
            && !s.hide_cursor()
            && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes an executable shell script (a fake opener, player or launcher for the app to run).
pub fn write_script(path: &std::path::Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).expect("write script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}
