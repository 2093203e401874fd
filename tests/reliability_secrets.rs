//! RELIABILITY group F: secrets. The real binary with keys from the environment and from config
//! files, against a loopback server that records the `Authorization` header it got; every run's
//! stdout, stderr and log file (at TRACE level) are searched for the sentinel keys.

mod support {
    pub mod pty;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use xmedia::config::{Config, ConfigError};
use xmedia::domain::{ProviderKind, UserRef};
use xmedia::http::{HttpClient, HttpConfig};
use xmedia::provider::AnyProvider;
use xmedia::source::Source;
use xmedia::testing::{Reply, ScriptedServer};

const ENV_KEY: &str = "SENTINEL-ENV-KEY-7c1d";
const FILE_KEY: &str = "SENTINEL-FILE-KEY-4b2a";
/// Both keys share this, so one search finds either.
const SENTINEL: &str = "SENTINEL-";
const TWEETS: &str = "/2/users/42/tweets";

struct Run {
    out: Output,
    log: String,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
}

/// Runs the binary with no key variables but `env`, logging at TRACE into the temp dir, and
/// checks that no key appears in anything it wrote.
fn xmedia(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let log_path = dir.join("xmedia.log");
    let _ = std::fs::remove_file(&log_path);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmedia"));
    cmd.args(args)
        .env_remove("XMEDIA_KEYAPI_KEY")
        .env_remove("XMEDIA_AGNTDATA_KEY")
        .env_remove("XMEDIA_XAPI_TOKEN")
        .env("XMEDIA_CONFIG", dir.join("none.toml"))
        .env("XMEDIA_LOG_FILE", &log_path)
        .env("XMEDIA_LOG", "trace");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run xmedia");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let run = Run { out, log };
    for (what, text) in [
        ("stdout", run.stdout()),
        ("stderr", run.stderr()),
        ("log", run.log.clone()),
    ] {
        assert!(!text.contains(SENTINEL), "a key leaked to {what}: {text}");
    }
    run
}

async fn xmedia_async(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        xmedia(&dir, &a, &e)
    })
    .await
    .expect("join")
}

fn write_config(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(&p, text).expect("write config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = mode;
    p
}

fn one_page() -> Reply {
    Reply::json(
        200,
        json!({
            "data": [{"id": "10", "text": "t", "author_id": "42", "attachments": {"media_keys": ["m"]}}],
            "includes": {"media": [{"media_key": "m", "type": "photo", "url": "https://pbs.twimg.com/media/m.jpg"}]},
            "meta": {"result_count": 1}
        })
        .to_string(),
    )
}

/// `xmedia dump --user-id 42 --provider xapi --base-url <server> --config <config>`.
async fn dump(
    server: &ScriptedServer,
    dir: &Path,
    config: Option<&Path>,
    env: &[(&str, &str)],
) -> Run {
    let base = server.base_url();
    let config = config
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| dir.join("none.toml").display().to_string());
    xmedia_async(
        dir,
        &[
            "dump",
            "--user-id",
            "42",
            "--provider",
            "xapi",
            "--base-url",
            &base,
            "--config",
            &config,
        ],
        env,
    )
    .await
}

fn auth_headers(server: &ScriptedServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect()
}

#[test]
fn f1_no_key_anywhere_is_exit_2_naming_the_variables_and_the_config_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("none.toml").display().to_string();
    for args in [&["@nasa"][..], &["dump", "@nasa"][..]] {
        let run = xmedia(dir.path(), args, &[]);
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        let err = run.stderr();
        for var in [
            "XMEDIA_KEYAPI_KEY",
            "XMEDIA_AGNTDATA_KEY",
            "XMEDIA_XAPI_TOKEN",
        ] {
            assert!(err.contains(var), "{args:?}: {err}");
        }
        assert!(err.contains(&path), "{args:?} names the config file: {err}");
        assert!(
            !String::from_utf8_lossy(&run.out.stdout).contains("\x1b[?1049h"),
            "the TUI never started"
        );
    }
}

#[test]
fn f2_blank_variables_are_unset() {
    let dir = tempfile::tempdir().expect("tempdir");
    for blank in ["", "   ", " \t\n"] {
        let run = xmedia(
            dir.path(),
            &["dump", "@nasa"],
            &[("XMEDIA_XAPI_TOKEN", blank), ("XMEDIA_KEYAPI_KEY", blank)],
        );
        assert_eq!(run.code(), Some(2), "{blank:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("no provider is configured"),
            "{}",
            run.stderr()
        );
    }
}

/// A dump with `FILE_KEY` in a private config file and `XMEDIA_XAPI_TOKEN=env`: the
/// Authorization headers the server received (the dump must succeed).
async fn bearer_with_file_key_and_env(env: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        &format!("[xapi]\ntoken = \"{FILE_KEY}\"\n"),
        0o600,
    );
    let server = ScriptedServer::start().await.expect("server");
    server.push(TWEETS, one_page());
    let run = dump(
        &server,
        dir.path(),
        Some(&config),
        &[("XMEDIA_XAPI_TOKEN", env)],
    )
    .await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    auth_headers(&server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f2_f11_a_blank_variable_falls_back_to_the_file() {
    assert_eq!(
        bearer_with_file_key_and_env("  ").await,
        [format!("Bearer {FILE_KEY}")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f3_trailing_newlines_are_trimmed_and_the_request_succeeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ScriptedServer::start().await.expect("server");
    server.push(TWEETS, one_page());
    let env_key = format!("{ENV_KEY}\r\n");
    let run = dump(
        &server,
        dir.path(),
        None,
        &[("XMEDIA_XAPI_TOKEN", &env_key)],
    )
    .await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());

    // The same from a file written with `echo`.
    let config = write_config(
        dir.path(),
        &format!("[xapi]\ntoken = \"{FILE_KEY}\\n\"\n"),
        0o600,
    );
    server.push(TWEETS, one_page());
    let run = dump(&server, dir.path(), Some(&config), &[]).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(
        auth_headers(&server),
        [format!("Bearer {ENV_KEY}"), format!("Bearer {FILE_KEY}")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f4_keys_that_cannot_go_in_a_header_are_a_config_error_naming_the_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ScriptedServer::start().await.expect("server");
    for bad in [
        format!("{ENV_KEY}é"),
        format!("{ENV_KEY} second-word"),
        format!("{ENV_KEY}\u{7f}"),
    ] {
        let run = dump(&server, dir.path(), None, &[("XMEDIA_XAPI_TOKEN", &bad)]).await;
        assert_eq!(run.code(), Some(2), "{}", run.stderr());
        assert!(
            run.stderr().contains("from XMEDIA_XAPI_TOKEN"),
            "{}",
            run.stderr()
        );
        assert!(run.stderr().contains("re-copy"), "{}", run.stderr());
    }
    let config = write_config(
        dir.path(),
        &format!("[xapi]\ntoken = \"{FILE_KEY}\\u0000\"\n"),
        0o600,
    );
    let run = dump(&server, dir.path(), Some(&config), &[]).await;
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr().contains(&config.display().to_string()),
        "{}",
        run.stderr()
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f5_a_key_file_readable_by_others_warns_with_a_chmod_600_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ScriptedServer::start().await.expect("server");
    for (mode, warns) in [(0o644, true), (0o666, true), (0o640, true), (0o600, false)] {
        let config = write_config(
            dir.path(),
            &format!("[xapi]\ntoken = \"{FILE_KEY}\"\n"),
            mode,
        );
        server.push(TWEETS, one_page());
        let run = dump(&server, dir.path(), Some(&config), &[]).await;
        assert_eq!(run.code(), Some(0), "{}", run.stderr());
        let hint = format!("chmod 600 {}", config.display());
        assert_eq!(
            run.stderr().contains(&hint),
            warns,
            "{mode:o}: {}",
            run.stderr()
        );
    }
}

#[test]
fn f7_malformed_toml_names_file_and_line_but_not_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, line) in [
        (format!("[xapi]\ntoken = \"{FILE_KEY}\n"), 2),
        (format!("[xapi]\ntoken = {FILE_KEY}\n"), 2),
        (format!("page_size = 20\n[xapi]\ntoken = '{FILE_KEY}\n"), 3),
        (format!("xapi = \"{FILE_KEY}\"\n"), 1),
        (
            format!("[xapi]\ntoken = \"{FILE_KEY}\"\ntoken = \"{FILE_KEY}\"\n"),
            3,
        ),
        (format!("[xapi]\ntoken = [\"{FILE_KEY}\"]\n"), 2),
        (format!("[xapi]\napi_key = \"{FILE_KEY}\"\n"), 2),
        (format!("[xapi]\ntoken = {{ value = \"{FILE_KEY}\" }}\n"), 2),
        (format!("provider = \"{FILE_KEY}\"\n"), 1),
        (format!("page_size = \"{FILE_KEY}\"\n"), 1),
    ] {
        let config = write_config(dir.path(), &text, 0o600);
        let run = xmedia(
            dir.path(),
            &["dump", "@nasa", "--config", &config.display().to_string()],
            &[],
        );
        assert_eq!(run.code(), Some(2), "{text:?}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.contains(&config.display().to_string()),
            "{text:?}: {err}"
        );
        assert!(err.contains(&format!("line {line}")), "{text:?}: {err}");
        // Also the error value itself, whatever prints it.
        let e = Config::load(&config).expect_err("invalid");
        assert!(!format!("{e} {e:?}").contains(SENTINEL), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f8_debug_output_of_config_provider_and_client_never_holds_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        &format!("[xapi]\ntoken = \"{FILE_KEY}\"\n[keyapi]\nkey = \"{FILE_KEY}\"\n"),
        0o600,
    );
    let loaded = Config::load(&config).expect("load");
    let env = |k: &str| (k == "XMEDIA_AGNTDATA_KEY").then(|| ENV_KEY.to_string());
    let mut dumps = vec![format!("{loaded:?}"), format!("{loaded:#?}")];
    let http = HttpClient::new(&HttpConfig::default());
    for kind in ProviderKind::ALL {
        let pc = loaded
            .provider_config(kind, None, &env)
            .expect("provider config");
        assert!(pc.key.expose().starts_with(SENTINEL), "the key is there");
        dumps.push(format!("{pc:?} {pc:#?} {}", pc.key));
        dumps.push(format!("{:?}", pc.bearer_header()));
        let provider = AnyProvider::new(pc, http.clone());
        dumps.push(format!("{provider:?}"));
        let source = Source::new(provider, vec![], http.clone(), UserRef::handle("t"));
        dumps.push(format!("{source:?} {source:#?}"));
    }
    dumps.push(format!("{http:?}"));
    let errors = [
        loaded
            .key(ProviderKind::Xapi, &|_| Some(format!("{ENV_KEY} x")))
            .expect_err("bad key"),
        ConfigError::NoProvider {
            path: config.display().to_string(),
        },
    ];
    for e in &errors {
        dumps.push(format!("{e} {e:?}"));
    }
    for d in dumps {
        assert!(!d.contains(SENTINEL), "{d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f8_trace_logs_of_a_full_run_never_hold_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ScriptedServer::start().await.expect("server");
    server.push(TWEETS, one_page());
    let run = dump(&server, dir.path(), None, &[("XMEDIA_XAPI_TOKEN", ENV_KEY)]).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(auth_headers(&server), [format!("Bearer {ENV_KEY}")]);
    // The log was written at TRACE (so the search had something to look at).
    assert!(run.log.contains("TRACE"), "log: {}", run.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f9_error_paths_never_print_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let echo = format!("{{\"title\":\"Unauthorized\",\"detail\":\"bad token {ENV_KEY}\"}}");
    let cases: Vec<(Reply, i32)> = vec![
        (Reply::json(401, echo.clone()), 3),
        (Reply::json(403, echo.clone()), 3),
        (Reply::json(400, echo.clone()), 5),
        (
            Reply::text(400, format!("<html>proxy saw {ENV_KEY}</html>")),
            5,
        ),
        (
            Reply::json(200, format!("{{\"data\": [{{\"id\": \"{ENV_KEY}")),
            5,
        ),
        (Reply::json(200, format!("[\"{ENV_KEY}\"]")), 5),
    ];
    for (reply, code) in cases {
        let server = ScriptedServer::start().await.expect("server");
        // Enough copies for every retry.
        for _ in 0..6 {
            server.push(TWEETS, reply.clone());
        }
        let run = dump(&server, dir.path(), None, &[("XMEDIA_XAPI_TOKEN", ENV_KEY)]).await;
        assert_eq!(run.code(), Some(code), "{}", run.stderr());
        assert!(run.stderr().contains("xmedia: xapi"), "{}", run.stderr());
    }
    // Nobody listening: a network error.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{closed}");
    let run = xmedia_async(
        dir.path(),
        &[
            "dump",
            "--user-id",
            "42",
            "--provider",
            "xapi",
            "--base-url",
            &base,
        ],
        &[("XMEDIA_XAPI_TOKEN", ENV_KEY)],
    )
    .await;
    assert_eq!(run.code(), Some(5), "{}", run.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f9_the_status_bar_never_shows_the_key() {
    let server = ScriptedServer::start().await.expect("server");
    let echo = format!("{{\"title\":\"Unauthorized\",\"detail\":\"bad token {ENV_KEY}\"}}");
    server.push(TWEETS, Reply::json(401, echo));
    let dir = tempfile::tempdir().expect("tempdir");
    let base = server.base_url();
    let config = dir.path().join("none.toml").display().to_string();
    let log = dir.path().join("log").display().to_string();
    let screen_and_raw = tokio::task::spawn_blocking(move || {
        let mut app = support::pty::PtyApp::spawn(
            &["--user-id", "42", "--provider", "xapi", "--base-url", &base],
            &[
                ("XMEDIA_XAPI_TOKEN", ENV_KEY),
                ("XMEDIA_CONFIG", config.as_str()),
                ("XMEDIA_LOG_FILE", log.as_str()),
                ("XMEDIA_LOG", "trace"),
            ],
            200,
            30,
        );
        let screen = app.wait_text("unauthorized", Duration::from_secs(20));
        app.send(b"q");
        let code = app.wait_exit(Duration::from_secs(20));
        assert!(app.terminal_restored());
        (
            screen,
            app.raw(),
            code,
            std::fs::read_to_string(&log).unwrap_or_default(),
        )
    })
    .await
    .expect("join");
    let (screen, raw, code, log) = screen_and_raw;
    assert_eq!(code, Some(0));
    assert!(
        screen.contains("XMEDIA_XAPI_TOKEN") || screen.contains("***"),
        "{screen}"
    );
    assert!(!screen.contains(SENTINEL), "{screen}");
    assert!(!String::from_utf8_lossy(&raw).contains(SENTINEL));
    assert!(!log.contains(SENTINEL), "{log}");
}

#[test]
fn f11_doctor_shows_where_each_key_comes_from_without_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        &format!("[xapi]\ntoken = \"{FILE_KEY}\"\n[keyapi]\nkey = \"{FILE_KEY}\"\n"),
        0o600,
    );
    let path = config.display().to_string();
    let run = xmedia(
        dir.path(),
        &["doctor", "--config", &path],
        &[("XMEDIA_XAPI_TOKEN", ENV_KEY)],
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let out = run.stdout();
    let line = |kind: &str| {
        out.lines()
            .find(|l| l.starts_with("key:") && l.contains(kind))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("xapi").ends_with("set (from XMEDIA_XAPI_TOKEN)"),
        "{out}"
    );
    assert!(
        line("keyapi").ends_with(&format!("set (from {path})")),
        "{out}"
    );
    assert!(
        line("agntdata").contains("not set (XMEDIA_AGNTDATA_KEY)"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f11_the_variable_wins_over_the_file() {
    assert_eq!(
        bearer_with_file_key_and_env(ENV_KEY).await,
        [format!("Bearer {ENV_KEY}")]
    );
}
