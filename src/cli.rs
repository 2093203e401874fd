//! The command line. `xmedia @handle` opens the browser; subcommands are headless tools.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::domain::ProviderKind;

#[derive(Debug, Parser)]
#[command(
    name = "xmedia",
    version,
    about = "Browse an X (Twitter) account's photos, videos and GIFs in the terminal",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an account's media tweets as JSON Lines (no terminal UI).
    Dump(DumpArgs),
    /// Draw a picture exactly as the preview pane would (to check a terminal, or to time it).
    Render(crate::render_cmd::RenderArgs),
    /// Report the terminal's graphics support, the config file and which keys are set.
    Doctor(DoctorArgs),
    /// Serve the bundled demo account over HTTP on 127.0.0.1 in all three providers' formats.
    DemoServer(DemoServerArgs),
}

/// Whose media, from where. Shared by the browser and `dump`.
#[derive(Debug, Clone, Default, Args)]
pub struct Target {
    /// The account, e.g. @nasa (the @ is optional).
    pub handle: Option<String>,
    /// The numeric user id (agntdata needs it; saves a lookup on the X API).
    #[arg(long, value_name = "ID")]
    pub user_id: Option<String>,
    /// Which API to use (default: the config file's `provider`, else the first with a key).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// Override the provider's API root, e.g. http://127.0.0.1:8080 for `xmedia demo-server`.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Use the bundled demo account, served from a loopback server: no key, no network.
    #[arg(long)]
    pub demo: bool,
    /// Include retweets (X API; excluded by default).
    #[arg(long)]
    pub include_retweets: bool,
    /// Config file (default: $XMEDIA_CONFIG, else ~/.config/xmedia/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How to draw pictures (default: the config's `graphics`, else ask the terminal).
    #[arg(long, value_enum)]
    pub graphics: Option<crate::media::graphics::GraphicsChoice>,
    /// Delay every demo-server answer by this much (with --demo), to watch prefetching work.
    #[arg(long, value_name = "MS", requires = "demo")]
    pub demo_latency_ms: Option<u64>,
    /// Make the demo server misbehave (with --demo; repeatable), e.g. status=429,429,200 or
    /// hostile-text. Also read from $XMEDIA_DEMO_FAULTS. See docs/FAULTS.md.
    #[arg(long = "fault", value_name = "SPEC", requires = "demo",
          value_parser = crate::demo::faults::validate_spec)]
    pub faults: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub target: Target,
    /// Stop after this many pages (default 1).
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub pages: Option<u32>,
    /// Fetch every page until the end.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Force a protocol, to see what detection would say about it.
    #[arg(long, value_enum, default_value_t = crate::media::graphics::GraphicsChoice::Auto)]
    pub graphics: crate::media::graphics::GraphicsChoice,
    /// Config file (default: $XMEDIA_CONFIG, else ~/.config/xmedia/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoServerArgs {
    /// Port on 127.0.0.1 (default: a random free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Inject a fault (repeatable), e.g. status=429,429,200 or hostile-images. Also read from
    /// $XMEDIA_DEMO_FAULTS. See docs/FAULTS.md.
    #[arg(long = "fault", value_name = "SPEC", value_parser = crate::demo::faults::validate_spec)]
    pub faults: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_browser_dump_and_server_forms() {
        let c = Cli::try_parse_from(["xmedia", "@nasa", "--provider", "xapi"]).expect("parse");
        assert_eq!(c.target.handle.as_deref(), Some("@nasa"));
        assert_eq!(c.target.provider, Some(ProviderKind::Xapi));
        let c = Cli::try_parse_from(["xmedia", "dump", "--demo", "--all"]).expect("parse");
        assert!(matches!(c.command, Some(Command::Dump(ref d)) if d.all && d.target.demo));
        assert!(Cli::try_parse_from(["xmedia", "dump", "--pages", "2", "--all"]).is_err());
        let c = Cli::try_parse_from(["xmedia", "demo-server", "--port", "8080"]).expect("parse");
        assert!(matches!(
            c.command,
            Some(Command::DemoServer(DemoServerArgs { port: 8080, .. }))
        ));
        assert!(Cli::try_parse_from(["xmedia", "--demo-latency-ms", "5"]).is_err());
        let c = Cli::try_parse_from([
            "xmedia",
            "--demo",
            "--fault",
            "stall",
            "--fault",
            "truncate=2",
        ])
        .expect("parse");
        assert_eq!(c.target.faults, ["stall", "truncate=2"]);
        assert!(Cli::try_parse_from(["xmedia", "--fault", "stall"]).is_err());
        let e = Cli::try_parse_from(["xmedia", "demo-server", "--fault", "nope"])
            .expect_err("bad fault");
        assert!(e.to_string().contains("hostile-images"), "{e}");
    }
}
