//! Turns the command line and the config file into a ready `Source`, starting the bundled demo
//! server when asked. Shared by the browser and `dump`, so both resolve keys, providers and the
//! demo the same way.

use crate::cli::Target;
use crate::config::{self, Config, ConfigError, Env};
use crate::demo::{self, DemoOptions, DemoServer};
use crate::domain::{ProviderKind, UserRef};
use crate::http::{HttpClient, HttpConfig};
use crate::provider::{AnyProvider, ProviderConfig};
use crate::secret::Secret;
use crate::source::Source;

/// A source ready to page, and the demo server behind it (kept alive as long as this is).
pub struct Session {
    pub source: Source,
    pub config: Config,
    pub demo: Option<DemoServer>,
    /// Things to tell the user (config warnings, "showing the demo because…").
    pub notices: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("could not start the demo server: {0}")]
    Demo(String),
}

/// What to do when nothing names an account and no key is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The browser: open the demo and say so.
    Demo,
    /// `dump`: a usage error.
    Fail,
}

pub async fn open(
    target: &Target,
    env: Env<'_>,
    fallback: Fallback,
) -> Result<Session, SetupError> {
    let path = target
        .config
        .clone()
        .unwrap_or_else(|| config::default_path(env));
    let config = Config::load(&path)?;
    let mut notices = config.warnings.clone();
    let chosen = config.choose_provider(target.provider, env)?;
    let nothing_named = target.handle.is_none() && target.user_id.is_none();
    let use_demo = target.demo
        || (fallback == Fallback::Demo
            && nothing_named
            && target.base_url.is_none()
            && chosen.is_none_or(|k| config.key(k, env).ok().flatten().is_none()));
    let http = HttpClient::new(&HttpConfig::default());
    if use_demo {
        if !target.demo {
            notices.push(
                "no API key configured: showing the bundled demo account (see README: Keys)".into(),
            );
        }
        return open_demo(target, env, config, http, notices).await;
    }
    let kind = chosen.ok_or_else(|| ConfigError::NoProvider {
        path: config.path.display().to_string(),
    })?;
    let pc = config.provider_config(kind, target.base_url.as_deref(), env)?;
    let user = user_ref(target)?;
    let resolvers = resolvers(&config, kind, env, &http);
    let provider = AnyProvider::new(with_retweets(pc, target.include_retweets), http.clone());
    Ok(Session {
        source: Source::new(provider, resolvers, http, user),
        config,
        demo: None,
        notices,
    })
}

fn with_retweets(mut pc: ProviderConfig, flag: bool) -> ProviderConfig {
    pc.include_retweets |= flag;
    pc
}

fn user_ref(target: &Target) -> Result<UserRef, SetupError> {
    let handle = target
        .handle
        .as_deref()
        .map(|h| h.trim().trim_start_matches('@').to_string())
        .filter(|h| !h.is_empty());
    if let Some(h) = &handle
        && !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(SetupError::Usage(format!(
            "{:?} is not an X handle (letters, digits and _ only)",
            crate::http::snippet(h)
        )));
    }
    let id = target
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(id) = id
        && !id.chars().all(|c| c.is_ascii_digit())
    {
        return Err(SetupError::Usage(format!(
            "--user-id must be numeric, got {:?}",
            crate::http::snippet(id)
        )));
    }
    if handle.is_none() && id.is_none() {
        return Err(SetupError::Usage(
            "name an account: xmedia @handle (or --user-id ID), or try --demo".into(),
        ));
    }
    Ok(UserRef {
        handle,
        id: id.map(str::to_string),
    })
}

/// The other configured providers, X API first (a cheap lookup), for resolving handles.
fn resolvers(
    config: &Config,
    chosen: ProviderKind,
    env: Env,
    http: &HttpClient,
) -> Vec<AnyProvider> {
    [ProviderKind::Xapi, ProviderKind::Keyapi]
        .into_iter()
        .filter(|k| *k != chosen)
        .filter_map(|k| config.provider_config(k, None, env).ok())
        .map(|pc| AnyProvider::new(pc, http.clone()))
        .collect()
}

async fn open_demo(
    target: &Target,
    env: Env<'_>,
    config: Config,
    http: HttpClient,
    mut notices: Vec<String>,
) -> Result<Session, SetupError> {
    let faults = demo::faults::from_sources(
        target.demo_latency_ms,
        env(demo::faults::ENV_VAR).as_deref(),
        &target.faults,
    )
    .map_err(SetupError::Usage)?;
    if faults.is_active() {
        notices.push(format!("demo faults on: {faults}"));
    }
    let server = demo::start(DemoOptions {
        port: 0,
        latency: std::time::Duration::ZERO,
        faults,
        prepare_pictures: true,
    })
    .await
    .map_err(|e| SetupError::Demo(e.to_string()))?;
    // The X API format carries every field (alt text, sensitivity), so it shows the most.
    let kind = target.provider.unwrap_or(ProviderKind::Xapi);
    let base_url = config::parse_base_url(kind, &server.base_url())?;
    let key = Secret::new("demo-key").ok_or_else(|| SetupError::Demo("empty demo key".into()))?;
    let pc = ProviderConfig {
        kind,
        base_url,
        key,
        page_size: config::default_page_size(kind),
        include_retweets: target.include_retweets,
    };
    // agntdata takes only ids; the demo knows its own, so no lookup is spent.
    let user = UserRef {
        handle: Some(demo::DEMO_HANDLE.to_string()),
        id: (kind == ProviderKind::Agntdata).then(|| demo::DEMO_USER_ID.to_string()),
    };
    let provider = AnyProvider::new(pc, http.clone());
    Ok(Session {
        source: Source::new(provider, vec![], http, user),
        config,
        demo: Some(server),
        notices,
    })
}
