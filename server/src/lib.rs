//! The reference Reactor coordinator and its simulated machines.
//!
//! [`start`] runs everything in-process (what the binary and the
//! integration tests both use): simulated machines on their own loopback
//! ports, external machines by URL, and the coordinator in front of them.

pub mod config;
pub mod coordinator;
pub mod machine;
mod static_files;
pub mod video;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{header, HeaderName, Method};
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::Config;
pub use machine::ModelKind;

/// A machine the coordinator schedules.
#[derive(Clone, Debug)]
pub struct MachineInfo {
    pub model: String,
    pub url: String,
    /// Whether this process runs it (`--machines`) or it is external.
    pub simulated: bool,
}

/// The running server.
pub struct ServerHandle {
    /// Where the coordinator listens (the real port when 0 was asked).
    pub addr: SocketAddr,
    pub machines: Vec<MachineInfo>,
    pub api_keys: Vec<String>,
    stop: watch::Sender<bool>,
    shared: std::sync::Arc<coordinator::Shared>,
    server: tokio::task::JoinHandle<()>,
    simulated: Vec<machine::MachineHandle>,
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

impl ServerHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.addr, reactor_protocol::coordinator::WS_PATH)
    }

    /// Tells every client `COORDINATOR_SHUTDOWN`, closes their sockets, then
    /// stops the HTTP server and the simulated machines.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(5), self.shared.sockets_closed()).await.is_err() {
            tracing::warn!("some client sockets did not close in time");
        }
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(2), &mut server).await.is_err() {
            tracing::debug!("closing idle HTTP connections");
            server.abort();
        }
        for machine in self.simulated {
            machine.shutdown().await;
        }
    }
}

/// Starts the machines and the coordinator; returns once all listen.
pub async fn start(config: Config) -> Result<ServerHandle, Error> {
    let mut simulated = Vec::new();
    let mut machines = Vec::new();
    for &(kind, count) in &config.machines {
        for _ in 0..count {
            let handle = machine::spawn(kind, config.fps).await?;
            machines.push(MachineInfo { model: kind.name().to_string(), url: handle.url.clone(), simulated: true });
            simulated.push(handle);
        }
    }
    for (model, url) in &config.machine_urls {
        machines.push(MachineInfo { model: model.clone(), url: url.clone(), simulated: false });
    }

    let (stop, stopped) = watch::channel(false);
    let specs =
        machines.iter().map(|m| coordinator::MachineSpec { model: m.model.clone(), url: m.url.clone() }).collect();
    let api_keys = config.effective_api_keys();
    let (shared, router) = coordinator::build(config.clone(), specs, stopped.clone()).await?;
    let router = static_files::routes(router, config.www_dir.as_deref(), config.pkg_dir.as_deref())
        .layer(axum::extract::DefaultBodyLimit::max(config.max_proxy_body))
        .layer(cors());

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut stopped_server = stopped;
    let server = tokio::spawn(async move {
        let served = axum::serve(no_delay(listener), router).with_graceful_shutdown(async move {
            let _ = stopped_server.wait_for(|s| *s).await;
        });
        if let Err(error) = served.await {
            tracing::error!(%error, "coordinator server failed");
        }
    });
    tracing::info!(%addr, machines = machines.len(), "coordinator listening");
    Ok(ServerHandle { addr, machines, api_keys, stop, shared, server, simulated })
}

/// Any page may call the coordinator (the SDK runs on the app's origin).
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("reactor-api-key")])
        .max_age(Duration::from_secs(600))
}

/// `listener` with `TCP_NODELAY` on every accepted connection: queue updates
/// and signaling replies are small writes, and Nagle's algorithm would hold
/// one behind another's acknowledgement (up to 40 ms with delayed ACKs).
pub(crate) fn no_delay(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    })
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = super::no_delay(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().unwrap());
    }
}
