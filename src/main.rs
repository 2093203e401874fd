//! Thin: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use xmedia::cli::{Cli, Command};
use xmedia::config::process_env;
use xmedia::setup::{self, Fallback};

fn main() -> ExitCode {
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
    let code = runtime.block_on(run(cli));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn run(cli: Cli) -> i32 {
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
        None => {
            eprintln!("xmedia: the terminal UI is not built yet; use `xmedia dump --demo`");
            2
        }
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
