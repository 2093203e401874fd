//! Configuration: the TOML file, API keys from the environment, and the checks that turn a bad
//! setting into an error that quotes the bad value (never the key itself).
//!
//! Precedence for each setting: command line, then environment, then the config file, then the
//! built-in default.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::domain::ProviderKind;
use crate::provider::ProviderConfig;
use crate::secret::Secret;

/// `XMEDIA_CONFIG` overrides where the config file is read from.
pub const CONFIG_ENV: &str = "XMEDIA_CONFIG";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error(
        "config file {path}: {reason}; fix that line (the README's \"Config file\" section lists every setting) or point XMEDIA_CONFIG at another file"
    )]
    Parse { path: String, reason: String },
    #[error(
        "no API key for {provider}: set {var} or put `key = \"…\"` under [{provider}] in {path}"
    )]
    MissingKey {
        provider: ProviderKind,
        var: &'static str,
        path: String,
    },
    #[error(
        "the {provider} key (from {origin}) contains spaces or control characters, which HTTP headers cannot carry; re-copy it"
    )]
    BadKey {
        provider: ProviderKind,
        origin: String,
    },
    #[error("invalid base URL {url:?} for {provider}: {reason}")]
    BadBaseUrl {
        provider: ProviderKind,
        url: String,
        reason: String,
    },
    #[error(
        "no provider is configured: set one of XMEDIA_KEYAPI_KEY, XMEDIA_AGNTDATA_KEY, XMEDIA_XAPI_TOKEN, or put a key in {path}, or run with --demo"
    )]
    NoProvider { path: String },
}

/// One `[keyapi]` / `[agntdata]` / `[xapi]` table.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    #[serde(alias = "token")]
    pub key: Option<String>,
    pub base_url: Option<String>,
}

/// Masks the key: `{config:?}` must be safe to log.
impl std::fmt::Debug for ProviderSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSection")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// The config file as written by the user. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Which provider to use when `--provider` is not given.
    pub provider: Option<ProviderKind>,
    pub keyapi: Option<ProviderSection>,
    pub agntdata: Option<ProviderSection>,
    pub xapi: Option<ProviderSection>,
    /// Tweets per request where the API lets us choose.
    pub page_size: Option<u32>,
    pub include_retweets: Option<bool>,
    /// Rows before the end of the list at which the next page is requested.
    pub prefetch_threshold: Option<usize>,
    /// `auto`, `kitty`, `sixel`, `iterm2` or `halfblocks`.
    pub graphics: Option<String>,
    /// Command used to play videos (e.g. `mpv`); the browser otherwise.
    pub player: Option<String>,
    /// Image cache budget in MiB.
    pub cache_mb: Option<u64>,
    /// Hide possibly-sensitive media until revealed.
    pub hide_sensitive: Option<bool>,
    /// Key overrides: `key spec = "action_name"`.
    #[serde(default)]
    pub keys: HashMap<String, String>,
}

/// The loaded file plus what the user should hear about it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub file: FileConfig,
    /// Where the file is (or would be).
    pub path: PathBuf,
    /// Non-fatal problems (e.g. a key file readable by others).
    pub warnings: Vec<String>,
}

/// Reads environment variables; a trait-free function pointer so tests can pass a map.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `$XMEDIA_CONFIG`, else `<config dir>/xmedia/config.toml` (Linux: `~/.config/xmedia/config.toml`,
/// macOS: `~/Library/Application Support/xmedia/config.toml`).
pub fn default_path(env: Env) -> PathBuf {
    if let Some(p) = env(CONFIG_ENV).filter(|p| !p.trim().is_empty()) {
        return PathBuf::from(p);
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("xmedia")
        .join("config.toml")
}

impl Config {
    /// Loads `path`; a missing file is an empty config, an unreadable or invalid one an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_path_buf(),
                    ..Self::default()
                });
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    path: shown,
                    reason: e.to_string(),
                });
            }
        };
        let file = Self::parse(&text).map_err(|reason| ConfigError::Parse {
            path: shown.clone(),
            reason,
        })?;
        let mut warnings = Vec::new();
        if file.has_keys() && readable_by_others(path) {
            warnings.push(format!(
                "{shown} holds API keys and is readable by other users; run: chmod 600 {shown}"
            ));
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            warnings,
        })
    }

    /// Parses TOML text. The error quotes the offending line, never a key's value: TOML errors
    /// show source, so for safety only the message and location are kept.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str::<FileConfig>(text).map_err(|e| {
            let span = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            format!("{}{span}", mask_values(e.message(), text))
        })
    }

    fn section(&self, kind: ProviderKind) -> Option<&ProviderSection> {
        match kind {
            ProviderKind::Keyapi => self.file.keyapi.as_ref(),
            ProviderKind::Agntdata => self.file.agntdata.as_ref(),
            ProviderKind::Xapi => self.file.xapi.as_ref(),
        }
    }

    /// Where `kind`'s key comes from: the environment variable's name, or the config file's path.
    /// Never the value; `None` when no key is set.
    pub fn key_source(&self, kind: ProviderKind, env: Env) -> Option<String> {
        if env(kind.key_env_var())
            .and_then(|v| Secret::new(&v))
            .is_some()
        {
            return Some(kind.key_env_var().to_string());
        }
        self.section(kind)
            .and_then(|s| s.key.as_deref())
            .and_then(Secret::new)
            .map(|_| self.path.display().to_string())
    }

    /// The key for `kind`: the environment variable, then the file. Blank means unset.
    pub fn key(&self, kind: ProviderKind, env: Env) -> Result<Option<Secret>, ConfigError> {
        let from_env = env(kind.key_env_var()).and_then(|v| Secret::new(&v));
        let (secret, source) = match from_env {
            Some(s) => (Some(s), kind.key_env_var().to_string()),
            None => (
                self.section(kind)
                    .and_then(|s| s.key.as_deref())
                    .and_then(Secret::new),
                self.path.display().to_string(),
            ),
        };
        match secret {
            Some(s) if !s.is_header_safe() => Err(ConfigError::BadKey {
                provider: kind,
                origin: source,
            }),
            other => Ok(other),
        }
    }

    /// Which provider to use: the explicit choice, then the file's `provider`, then the first of
    /// keyapi, agntdata, xapi that has a key.
    pub fn choose_provider(
        &self,
        explicit: Option<ProviderKind>,
        env: Env,
    ) -> Result<Option<ProviderKind>, ConfigError> {
        if let Some(k) = explicit.or(self.file.provider) {
            return Ok(Some(k));
        }
        for kind in ProviderKind::ALL {
            if self.key(kind, env)?.is_some() {
                return Ok(Some(kind));
            }
        }
        Ok(None)
    }

    /// The base URL for `kind`: explicit, then the file, then the API's own.
    pub fn base_url(&self, kind: ProviderKind, explicit: Option<&str>) -> Result<Url, ConfigError> {
        let raw = explicit
            .map(str::to_string)
            .or_else(|| self.section(kind).and_then(|s| s.base_url.clone()))
            .unwrap_or_else(|| ProviderConfig::default_base_url(kind).to_string());
        parse_base_url(kind, &raw)
    }

    /// A complete provider configuration, or the error that says what to set.
    pub fn provider_config(
        &self,
        kind: ProviderKind,
        base_url: Option<&str>,
        env: Env,
    ) -> Result<ProviderConfig, ConfigError> {
        let key = self
            .key(kind, env)?
            .ok_or_else(|| ConfigError::MissingKey {
                provider: kind,
                var: kind.key_env_var(),
                path: self.path.display().to_string(),
            })?;
        Ok(ProviderConfig {
            kind,
            base_url: self.base_url(kind, base_url)?,
            key,
            page_size: self.file.page_size.unwrap_or(default_page_size(kind)),
            include_retweets: self.file.include_retweets.unwrap_or(false),
        })
    }
}

impl FileConfig {
    fn has_keys(&self) -> bool {
        [&self.keyapi, &self.agntdata, &self.xapi]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.key.is_some()))
    }
}

/// `message` with every value written in `text` masked: serde quotes the offending value
/// ("invalid type: string \"…\"", "unknown variant `…`"), and that value may be a key typed on
/// the wrong line.
fn mask_values(message: &str, text: &str) -> String {
    let mut out = message.to_string();
    for line in text.lines() {
        let Some((_, rhs)) = line.split_once('=') else {
            continue;
        };
        for part in rhs.split(['"', '\'', '[', ']', '{', '}', ',']) {
            let v = part.trim();
            let harmless =
                v.len() < 4 || v.bytes().all(|b| b.is_ascii_digit()) || v == "true" || v == "false";
            if !harmless && out.contains(v) {
                out = out.replace(v, "…");
            }
        }
    }
    out
}

pub fn default_page_size(kind: ProviderKind) -> u32 {
    match kind {
        // The X API allows up to 100 per request, and every request is billed alike.
        ProviderKind::Xapi => 100,
        _ => 20,
    }
}

/// Accepts `https` anywhere and `http` only on loopback (the demo server, tests): a key must never
/// travel in clear text over a network.
pub fn parse_base_url(kind: ProviderKind, raw: &str) -> Result<Url, ConfigError> {
    let bad = |reason: &str| ConfigError::BadBaseUrl {
        provider: kind,
        url: crate::http::snippet(raw),
        reason: reason.into(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL are not allowed; use the key settings",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "use https (plain http is only allowed for 127.0.0.1/localhost)",
            ));
        }
        _ => return Err(bad("the scheme must be https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(url)
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn cfg(text: &str) -> Config {
        Config {
            file: Config::parse(text).expect("valid config"),
            path: PathBuf::from("/cfg/config.toml"),
            warnings: vec![],
        }
    }

    // RELIABILITY F2 F3 F11
    #[test]
    fn env_wins_over_file_and_blank_env_is_unset() {
        let c = cfg("[keyapi]\nkey = \"from-file\"\n");
        let env = env_of(&[("XMEDIA_KEYAPI_KEY", "from-env\n")]);
        let k = c
            .key(ProviderKind::Keyapi, &env)
            .expect("ok")
            .expect("some");
        assert_eq!(k.expose(), "from-env");
        let env = env_of(&[("XMEDIA_KEYAPI_KEY", "   ")]);
        let k = c
            .key(ProviderKind::Keyapi, &env)
            .expect("ok")
            .expect("some");
        assert_eq!(k.expose(), "from-file");
    }

    // RELIABILITY F1 F4
    #[test]
    fn missing_key_names_the_variable_and_bad_key_hides_it() {
        let c = cfg("");
        let env = env_of(&[]);
        let e = c
            .provider_config(ProviderKind::Xapi, None, &env)
            .expect_err("no key");
        assert!(e.to_string().contains("XMEDIA_XAPI_TOKEN"), "{e}");
        let env = env_of(&[("XMEDIA_XAPI_TOKEN", "SENTINEL with space")]);
        let e = c.key(ProviderKind::Xapi, &env).expect_err("bad key");
        assert!(!format!("{e} {e:?}").contains("SENTINEL"), "{e}");
    }

    #[test]
    fn provider_choice_order() {
        let c = cfg("");
        let env = env_of(&[("XMEDIA_XAPI_TOKEN", "t"), ("XMEDIA_AGNTDATA_KEY", "a")]);
        assert_eq!(
            c.choose_provider(None, &env),
            Ok(Some(ProviderKind::Agntdata))
        );
        assert_eq!(
            c.choose_provider(Some(ProviderKind::Xapi), &env),
            Ok(Some(ProviderKind::Xapi))
        );
        let c = cfg("provider = \"keyapi\"");
        assert_eq!(
            c.choose_provider(None, &env),
            Ok(Some(ProviderKind::Keyapi))
        );
        assert_eq!(cfg("").choose_provider(None, &env_of(&[])), Ok(None));
    }

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        let k = ProviderKind::Keyapi;
        assert!(parse_base_url(k, "https://api.example.com/v1").is_ok());
        assert!(parse_base_url(k, "http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url(k, "http://localhost:1").is_ok());
        assert!(parse_base_url(k, "http://api.example.com").is_err());
        assert!(parse_base_url(k, "https://user:pw@api.example.com").is_err());
        assert!(parse_base_url(k, "ftp://x").is_err());
        assert!(parse_base_url(k, "not a url").is_err());
    }

    // RELIABILITY F7
    #[test]
    fn unknown_fields_and_bad_values_are_reported_with_line() {
        let e = Config::parse("provider = \"keyapi\"\nbogus = 1\n").expect_err("unknown");
        assert!(e.contains("bogus") && e.contains("line 2"), "{e}");
        let e = Config::parse("provider = \"myspace\"").expect_err("bad enum");
        assert!(e.contains("myspace") || e.contains("variant"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_toml_is_named_with_its_line_and_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "provider = \"xapi\"\nx\n").expect("write");
        let e = Config::load(&p).expect_err("not TOML").to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
        assert!(e.contains("line 2"), "{e}");
        assert!(
            e.contains("Config file") && e.contains("XMEDIA_CONFIG"),
            "{e}"
        );
    }

    // RELIABILITY F5
    #[test]
    fn world_readable_file_with_keys_warns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[xapi]\ntoken = \"t\"\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let c = Config::load(&p).expect("load");
            assert!(c.warnings.iter().any(|w| w.contains("chmod 600")));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            assert!(Config::load(&p).expect("load").warnings.is_empty());
        }
        assert!(
            Config::load(&dir.path().join("missing.toml"))
                .expect("missing is empty")
                .file
                .provider
                .is_none()
        );
    }
}
