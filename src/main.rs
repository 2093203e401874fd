//! Thin: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use xmedia::cli::{Cli, Command};
use xmedia::config::process_env;
use xmedia::setup::{self, Fallback};

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    xmedia::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xmedia: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli, started));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn run(cli: Cli, started: std::time::Instant) -> i32 {
    match cli.command {
        Some(Command::Dump(args)) => {
            let session = match setup::open(&args.target, &process_env, Fallback::Fail).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("xmedia: {e}");
                    return 2;
                }
            };
            for n in &session.notices {
                eprintln!("xmedia: {n}");
            }
            let opts = xmedia::dump::DumpOptions {
                max_pages: if args.all {
                    None
                } else {
                    Some(args.pages.unwrap_or(1))
                },
                backoff: Default::default(),
            };
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr();
            xmedia::dump::run(&session.source, &opts, &mut out, &mut err).await
        }
        Some(Command::DemoServer(args)) => demo_server(args).await,
        None => browse(cli.target, started).await,
    }
}

async fn demo_server(args: xmedia::cli::DemoServerArgs) -> i32 {
    let opts = xmedia::demo::DemoOptions {
        port: args.port,
        latency: std::time::Duration::from_millis(args.latency_ms),
    };
    let server = match xmedia::demo::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xmedia: could not start the demo server: {e}");
            return 2;
        }
    };
    let base = server.base_url();
    println!("xmedia demo server on {base}");
    println!(
        "  account: @{} (user id {})",
        xmedia::demo::DEMO_HANDLE,
        xmedia::demo::DEMO_USER_ID
    );
    println!(
        "  try:     xmedia dump @{} --provider xapi --base-url {base} --all",
        xmedia::demo::DEMO_HANDLE
    );
    println!("  (any key works, e.g. XMEDIA_XAPI_TOKEN=demo; ctrl-c stops)");
    let _ = tokio::signal::ctrl_c().await;
    0
}

/// The full-screen browser. `started` is when the process started (for `XMEDIA_TRACE_STARTUP`).
async fn browse(target: xmedia::cli::Target, started: std::time::Instant) -> i32 {
    let session = match setup::open(&target, &process_env, Fallback::Demo).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xmedia: {e}");
            return 2;
        }
    };
    let file = &session.config.file;
    let keymap = match xmedia::keymap::Keymap::from_config(&file.keys) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("xmedia: config file {}: {e}", session.config.path.display());
            return 2;
        }
    };
    let defaults = xmedia::app::AppConfig::default();
    let config = xmedia::app::AppConfig {
        prefetch_threshold: file
            .prefetch_threshold
            .unwrap_or(defaults.prefetch_threshold),
        keymap,
        user_label: session.source.user().label(),
        demo: session.demo.is_some(),
        seed: fastrand::u64(..),
        ..defaults
    };
    let mut app = xmedia::app::App::new(session.source.kind(), config);
    let mut guard = match xmedia::tui::TerminalGuard::enter() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("xmedia: {e}");
            return 2;
        }
    };
    for n in &session.notices {
        app.update(xmedia::msg::Msg::Notice(n.clone()));
    }
    let deps = xmedia::runtime::Deps {
        source: session.source.clone(),
        opener: None,
        trace_startup: std::env::var_os("XMEDIA_TRACE_STARTUP")
            .is_some_and(|v| v == "1")
            .then_some(started),
    };
    let result = xmedia::runtime::run(&mut guard.terminal, &mut app, deps).await;
    drop(guard);
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("xmedia: terminal error: {e}");
            1
        }
    }
}
