//! Simulated GPU machines: each an HTTP server on its own loopback port
//! speaking the subset of the Reactor runtime's local API that the SDK uses,
//! with WebRTC (str0m) and a model that behaves like a real one.

mod api;
mod backlog;
pub mod models;
mod rtc;

use std::net::{Ipv4Addr, SocketAddr};

use tokio::sync::watch;

pub use models::ModelKind;

/// A running simulated machine.
pub struct MachineHandle {
    pub kind: ModelKind,
    pub url: String,
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    state: std::sync::Arc<api::MachineState>,
}

impl MachineHandle {
    /// Stops its HTTP server and every WebRTC connection it holds.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.state.close_all();
        // Idle keep-alive connections (the coordinator's pooled client) can
        // hold a graceful shutdown open; nothing is in flight by now.
        if tokio::time::timeout(std::time::Duration::from_millis(500), &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

/// Starts a machine on `127.0.0.1:0`.
pub async fn spawn(kind: ModelKind, fps: u32) -> std::io::Result<MachineHandle> {
    spawn_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), kind, fps).await
}

pub async fn spawn_on(bind: SocketAddr, kind: ModelKind, fps: u32) -> std::io::Result<MachineHandle> {
    install_crypto();
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let (state, router) = api::router(kind, fps.max(1));
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(crate::no_delay(listener), router).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        if let Err(error) = served.await {
            tracing::error!(%error, "machine server failed");
        }
        task_state.close_all();
    });
    let url = format!("http://{addr}");
    tracing::info!(model = kind.name(), url, "simulated machine up");
    Ok(MachineHandle { kind, url, addr, stop, task, state })
}

/// str0m needs one process-wide crypto provider; the first machine sets it.
fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}
