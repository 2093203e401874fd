//! Thin: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use xmedia::cli::{Cli, Command};
use xmedia::config::process_env;
use xmedia::media::graphics::GraphicsChoice;
use xmedia::setup::{self, Fallback};

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    xmedia::logging::init();
    // `render` is one download and one picture: a runtime without worker threads starts faster.
    let mut builder = if matches!(cli.command, Some(Command::Render(_))) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xmedia: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli, started));
    // Do not wait for blocking work still running (a decode, an opener that hangs): the terminal
    // is already restored and the user asked to leave.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
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
        Some(Command::Render(args)) => {
            let mut err = std::io::stderr();
            // A picture is megabytes without a newline: written to the file descriptor itself,
            // not through stdout's line buffer, which searches every block for a newline.
            #[cfg(unix)]
            if let Ok(fd) = std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned() {
                let mut out = std::fs::File::from(fd);
                return xmedia::render_cmd::run(&args, &mut out, &mut err).await;
            }
            let mut out = std::io::stdout().lock();
            xmedia::render_cmd::run(&args, &mut out, &mut err).await
        }
        Some(Command::Doctor(args)) => doctor(args),
        None => browse(cli.target, started).await,
    }
}

async fn demo_server(args: xmedia::cli::DemoServerArgs) -> i32 {
    let env_faults = std::env::var(xmedia::demo::faults::ENV_VAR).ok();
    let latency = (args.latency_ms > 0).then_some(args.latency_ms);
    let faults =
        match xmedia::demo::faults::from_sources(latency, env_faults.as_deref(), &args.faults) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("xmedia: {e}");
                return 2;
            }
        };
    for line in faults.describe() {
        eprintln!("xmedia: fault: {line}");
    }
    let opts = xmedia::demo::DemoOptions {
        port: args.port,
        latency: std::time::Duration::ZERO,
        faults,
        prepare_pictures: true,
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
        hide_sensitive: file.hide_sensitive.unwrap_or(defaults.hide_sensitive),
        player: std::env::var("XMEDIA_PLAYER")
            .ok()
            .or_else(|| file.player.clone())
            .filter(|p| !p.trim().is_empty()),
        ..defaults
    };
    let mut guard = match xmedia::tui::TerminalGuard::enter() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("xmedia: {e}");
            return 1;
        }
    };
    // Ask the terminal what it can draw: after raw mode, before the event stream reads stdin.
    let choice = target
        .graphics
        .or_else(|| file_graphics(&session))
        .unwrap_or(GraphicsChoice::Auto);
    let graphics = xmedia::media::graphics::detect(choice);
    tracing::info!("graphics: {}, {}", graphics.describe(), graphics.why);
    let config = xmedia::app::AppConfig {
        header_pictures: graphics.protocol() != ratatui_image::picker::ProtocolType::Halfblocks,
        ..config
    };
    let mut app = xmedia::app::App::new(session.source.kind(), config);
    let downloader = xmedia::media::download::Downloader::new(
        session.source.http().media_client().clone(),
        &Default::default(),
    );
    let mut pipeline_config = xmedia::media::pipeline::PipelineConfig {
        kitty: graphics.kitty,
        ..Default::default()
    };
    if let Some(mb) = session.config.file.cache_mb {
        pipeline_config.cache_budget =
            usize::try_from(mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    }
    let images = xmedia::image_layer::ImageLayer::new(xmedia::media::pipeline::ImagePipeline::new(
        downloader,
        graphics.picker.clone(),
        pipeline_config,
    ));
    for n in &session.notices {
        app.update(xmedia::msg::Msg::Notice(n.clone()));
    }
    // One notice shows at a time: the session's (config or key warnings) come first.
    if let Some(n) = graphics
        .fallback_notice()
        .filter(|_| session.notices.is_empty())
    {
        app.update(xmedia::msg::Msg::Notice(n));
    }
    // Keys typed while the terminal was being asked about graphics come first.
    let typed_ahead: Vec<xmedia::msg::Msg> = graphics
        .typed_ahead
        .iter()
        .map(|k| xmedia::msg::Msg::Key(*k))
        .collect();
    let deps = xmedia::runtime::Deps {
        typed_ahead,
        source: session.source.clone(),
        opener: None,
        images: Some(images),
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

fn file_graphics(session: &setup::Session) -> Option<GraphicsChoice> {
    let raw = session.config.file.graphics.as_deref()?;
    match raw.parse() {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!("config graphics {raw:?}: {e}");
            None
        }
    }
}

/// `xmedia doctor`: graphics, config and keys, without printing any key.
fn doctor(args: xmedia::cli::DoctorArgs) -> i32 {
    let graphics = xmedia::media::graphics::detect_once(args.graphics);
    print!("{}", xmedia::doctor::report(&graphics));
    let path = args
        .config
        .unwrap_or_else(|| xmedia::config::default_path(&process_env));
    let mut status = 0;
    match xmedia::config::Config::load(&path) {
        Ok(c) => {
            let exists = if path.exists() {
                ""
            } else {
                " (not present: defaults)"
            };
            println!("config:    {}{exists}", path.display());
            for w in &c.warnings {
                println!("  warning: {w}");
            }
            for kind in xmedia::domain::ProviderKind::ALL {
                let state = match c.key(kind, &process_env) {
                    Ok(Some(_)) => format!(
                        "set (from {})",
                        c.key_source(kind, &process_env).unwrap_or_default()
                    ),
                    Ok(None) => format!("not set ({})", kind.key_env_var()),
                    Err(e) => {
                        status = 2;
                        format!("invalid: {e}")
                    }
                };
                println!("key:       {kind:<9} {state}");
            }
            match c.choose_provider(None, &process_env) {
                Ok(Some(k)) => println!("provider:  {k}"),
                Ok(None) => println!("provider:  none configured (xmedia opens the demo)"),
                Err(e) => println!("provider:  {e}"),
            }
        }
        Err(e) => {
            println!("config:    {e}");
            status = 2;
        }
    }
    status
}
