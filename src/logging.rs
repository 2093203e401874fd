//! Logs go to a file, never to the terminal the UI draws on.
//!
//! `XMEDIA_LOG` sets the filter (`info` by default, e.g. `xmedia=debug`); the file is
//! `<state dir>/xmedia/xmedia.log` (Linux: `~/.local/state/xmedia/xmedia.log`), or `XMEDIA_LOG_FILE`.
//! `XMEDIA_TRACE_STARTUP=1` adds how long the browser took to its first frame and to its first
//! frame with tweets (see `benches/startup.sh`).
//! Nothing in xmedia logs a key: keys live in `Secret`, whose formatting prints `***`.

use std::path::PathBuf;

pub fn log_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("XMEDIA_LOG_FILE") {
        return Some(PathBuf::from(p));
    }
    let dir = dirs::state_dir().or_else(dirs::cache_dir)?.join("xmedia");
    Some(dir.join("xmedia.log"))
}

/// Installs the file logger. Failing to open the file disables logging rather than the app.
pub fn init() {
    let Some(path) = log_path() else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("XMEDIA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}
