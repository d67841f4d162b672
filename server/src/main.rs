//! `reactor-server`: the reference coordinator with its simulated machines.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use reactor_server::config::{parse_machine_url, parse_machines, FileConfig};
use reactor_server::{Config, ModelKind};

/// The reference Reactor coordinator: API keys and tokens, one FIFO queue
/// per model, a signaling proxy, and simulated GPU machines that speak the
/// Reactor runtime's local API over WebRTC. Everything binds 127.0.0.1 by
/// default.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Coordinator address (HTTP, WebSocket, static files).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Accepted API key (repeatable). With none here nor in --config, the
    /// development key `dev-key` is accepted.
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,

    /// JSON config file: {"api_keys": [...], "max_sessions_per_key": N, "max_session_secs": N, "redis": URL}.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Simulated machines to start, as MODEL=COUNT,... (models: echo, generator).
    /// Use an empty string for none.
    #[arg(long, default_value = "echo=1", value_name = "SPEC")]
    machines: String,

    /// Register an external machine (e.g. a real Reactor runtime), as MODEL=URL (repeatable).
    #[arg(long = "machine-url", value_name = "MODEL=URL")]
    machine_urls: Vec<String>,

    /// Folder served at `/` (default: www/ of the workspace).
    #[arg(long, value_name = "DIR")]
    www: Option<PathBuf>,

    /// Folder served at `/pkg/` (default: pkg/ of the workspace).
    #[arg(long, value_name = "DIR")]
    pkg: Option<PathBuf>,

    /// Frames per second the simulated models emit.
    #[arg(long, default_value_t = 30)]
    fps: u32,

    /// Seconds a token from POST /tokens stays valid for a hello.
    #[arg(long, default_value_t = 300)]
    token_ttl: u64,

    /// End sessions after this many seconds (SESSION_TIME_LIMIT).
    #[arg(long, value_name = "SECS")]
    max_session_secs: Option<u64>,

    /// Sessions plus queue places one API key may hold at once (SESSION_LIMIT_REACHED).
    #[arg(long, value_name = "N")]
    max_sessions_per_key: Option<usize>,

    /// WebSocket ping period in seconds; clients silent for 3 periods are dropped.
    #[arg(long, default_value_t = 10)]
    heartbeat_secs: u64,

    /// Machine health check period in milliseconds.
    #[arg(long, default_value_t = 2000)]
    health_interval_ms: u64,

    /// Seconds the queue place or session of a client whose connection
    /// dropped is held for it to resume (0: given up at once).
    #[arg(long, default_value_t = 15.0)]
    resume_grace_secs: f64,

    /// Keep the shared state (tokens, queues, machines, sessions) in this
    /// Redis, e.g. redis://127.0.0.1:6379, so that several coordinator
    /// processes serve the same models and machines. Default: in memory.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
}

fn config_from(args: Args) -> Result<Config, String> {
    let mut config = Config { listen: args.listen, api_keys: args.api_keys, ..Config::default() };
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: FileConfig = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config.api_keys.extend(file.api_keys);
        config.max_sessions_per_key = file.max_sessions_per_key;
        config.max_session = file.max_session_secs.map(Duration::from_secs);
        config.redis = file.redis;
    }
    if args.redis.is_some() {
        config.redis = args.redis;
    }
    if let Some(url) = &config.redis {
        if !url.starts_with("redis://") {
            return Err(format!("--redis must be a redis://HOST:PORT URL, got `{url}`"));
        }
    }
    config.machines = parse_machines(&args.machines)?;
    config.machine_urls = args.machine_urls.iter().map(|s| parse_machine_url(s)).collect::<Result<_, _>>()?;
    if let Some(www) = args.www {
        config.www_dir = Some(www);
    }
    if let Some(pkg) = args.pkg {
        config.pkg_dir = Some(pkg);
    }
    config.fps = args.fps.clamp(1, 120);
    config.token_ttl = Duration::from_secs(args.token_ttl);
    if args.max_session_secs.is_some() {
        config.max_session = args.max_session_secs.map(Duration::from_secs);
    }
    if args.max_sessions_per_key.is_some() {
        config.max_sessions_per_key = args.max_sessions_per_key;
    }
    config.ws_heartbeat = Duration::from_secs(args.heartbeat_secs.max(1));
    config.health_interval = Duration::from_millis(args.health_interval_ms.max(50));
    config.resume_grace = Duration::try_from_secs_f64(args.resume_grace_secs)
        .map_err(|_| format!("--resume-grace-secs must be a number of seconds, got {}", args.resume_grace_secs))?;
    Ok(config)
}

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,str0m=warn,is=warn,dimpl=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();

    let config = match config_from(Args::parse()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("reactor-server: {error}");
            std::process::exit(2);
        }
    };
    let dev_key = config.api_keys.is_empty();
    let handle = match reactor_server::start(config.clone()).await {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("reactor-server: {error}");
            std::process::exit(1);
        }
    };
    if dev_key {
        println!("Development API key: {}", reactor_server::config::DEV_API_KEY);
    }
    for machine in &handle.machines {
        let kind = if machine.simulated { "simulated" } else { "external" };
        println!("Machine {} ({kind}) at {}", machine.model, machine.url);
    }
    let models: Vec<&str> = ModelKind::ALL.iter().map(|k| k.name()).collect();
    println!(
        "Coordinator at {} (WebSocket {}); simulated models: {}",
        handle.url(),
        handle.ws_url(),
        models.join(", ")
    );
    if let Some(www) = &config.www_dir {
        println!("Serving {} at / and {} at /pkg/", www.display(), config.pkg_dir.as_deref().unwrap_or(www).display());
    }

    stop_signal().await;
    tracing::info!("shutting down");
    handle.shutdown().await;
}
