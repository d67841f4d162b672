//! Everything `start` needs, with defaults that keep the server on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::machine::ModelKind;

/// The key accepted when none is configured, so a fresh checkout works.
pub const DEV_API_KEY: &str = "dev-key";

#[derive(Clone, Debug)]
pub struct Config {
    /// Coordinator HTTP + WebSocket address.
    pub listen: SocketAddr,
    /// Accepted API keys; empty means [`DEV_API_KEY`] only.
    pub api_keys: Vec<String>,
    /// Simulated machines to start: (model, count).
    pub machines: Vec<(ModelKind, usize)>,
    /// External machines: (model, base URL).
    pub machine_urls: Vec<(String, String)>,
    /// Served at `/`; `None` serves nothing there.
    pub www_dir: Option<PathBuf>,
    /// Served at `/pkg/`.
    pub pkg_dir: Option<PathBuf>,
    pub token_ttl: Duration,
    /// Sessions are ended with `SESSION_TIME_LIMIT` after this long.
    pub max_session: Option<Duration>,
    /// Sessions and queue places one API key may hold at once.
    pub max_sessions_per_key: Option<usize>,
    /// WebSocket ping period; a client silent for three periods is dropped.
    pub ws_heartbeat: Duration,
    /// How often machines are asked for `/health`.
    pub health_interval: Duration,
    /// Frames per second the simulated models emit.
    pub fps: u32,
    /// How long a hello may take after the socket opens.
    pub hello_timeout: Duration,
    /// Largest WebSocket message accepted from a client.
    pub max_ws_message: usize,
    /// Largest request body the signaling proxy forwards.
    pub max_proxy_body: usize,
    /// How long the place or session of a client whose socket dropped is
    /// held for its `resume`; zero ends it at once.
    pub resume_grace: Duration,
    /// `redis://HOST:PORT`: keep the shared state there, so that several
    /// coordinator processes serve the same queues and machines; `None`
    /// keeps it in this process's memory.
    pub redis: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let root = workspace_root();
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            api_keys: Vec::new(),
            machines: vec![(ModelKind::Echo, 1)],
            machine_urls: Vec::new(),
            www_dir: Some(root.join("www")),
            pkg_dir: Some(root.join("pkg")),
            token_ttl: Duration::from_secs(300),
            max_session: None,
            max_sessions_per_key: None,
            ws_heartbeat: Duration::from_secs(10),
            health_interval: Duration::from_secs(2),
            fps: 30,
            hello_timeout: Duration::from_secs(10),
            max_ws_message: 16 * 1024,
            max_proxy_body: 256 * 1024,
            resume_grace: Duration::from_secs(15),
            redis: None,
        }
    }
}

impl Config {
    /// A config for tests: ephemeral port, no static files, fast timers.
    pub fn for_tests() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            www_dir: None,
            pkg_dir: None,
            ws_heartbeat: Duration::from_secs(1),
            health_interval: Duration::from_millis(200),
            // Tests that need the grace period ask for one.
            resume_grace: Duration::ZERO,
            ..Config::default()
        }
    }

    pub fn effective_api_keys(&self) -> Vec<String> {
        if self.api_keys.is_empty() {
            vec![DEV_API_KEY.to_string()]
        } else {
            self.api_keys.clone()
        }
    }
}

/// The workspace root: where this crate was built from if it still exists,
/// else the current directory.
pub fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built.join("Cargo.toml").exists() {
        built.canonicalize().unwrap_or(built)
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }
}

/// The optional JSON config file (`--config`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub api_keys: Vec<String>,
    #[serde(default)]
    pub max_sessions_per_key: Option<usize>,
    #[serde(default)]
    pub max_session_secs: Option<u64>,
    /// As `--redis`.
    #[serde(default)]
    pub redis: Option<String>,
}

/// Parses `echo=2,generator=1`.
pub fn parse_machines(spec: &str) -> Result<Vec<(ModelKind, usize)>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (model, count) = part.split_once('=').unwrap_or((part, "1"));
        let kind = ModelKind::parse(model.trim()).ok_or_else(|| format!("unknown simulated model `{model}`"))?;
        let count: usize = count.trim().parse().map_err(|_| format!("bad machine count in `{part}`"))?;
        out.push((kind, count));
    }
    Ok(out)
}

/// Parses `MODEL=URL`.
pub fn parse_machine_url(spec: &str) -> Result<(String, String), String> {
    let (model, url) = spec.split_once('=').ok_or_else(|| format!("expected MODEL=URL, got `{spec}`"))?;
    let url = url.trim().trim_end_matches('/');
    if !url.starts_with("http://") {
        return Err(format!("machine URL must be http://…, got `{url}`"));
    }
    Ok((model.trim().to_string(), url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_specs_parse() {
        assert_eq!(
            parse_machines("echo=2, generator=1").unwrap(),
            vec![(ModelKind::Echo, 2), (ModelKind::Generator, 1)]
        );
        assert_eq!(parse_machines("echo").unwrap(), vec![(ModelKind::Echo, 1)]);
        assert!(parse_machines("nope=1").is_err());
        assert_eq!(
            parse_machine_url("echo=http://127.0.0.1:8081/").unwrap(),
            ("echo".to_string(), "http://127.0.0.1:8081".to_string())
        );
        assert!(parse_machine_url("echo").is_err());
    }
}
