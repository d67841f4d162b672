//! One task per machine: it alone calls the machine, so `start_session`,
//! `stop_session` and health checks never overlap and keep their order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reactor_protocol::coordinator::IceServer;
use reactor_protocol::runtime::{paths, IceServersResponse, SessionDescriptor, LOCAL_SESSION_ID};
use tokio::sync::mpsc;

use super::queue::{ClientId, MachineId, MachineState};
use super::{MachineOp, Schema, Shared};

/// Consecutive failed health checks before a machine is declared dead.
const FAILED_CHECKS: u32 = 2;

pub(crate) async fn run(shared: Arc<Shared>, id: MachineId, url: String, mut ops: mpsc::UnboundedReceiver<MachineOp>) {
    let mut shutdown = shared.shutdown.clone();
    let mut health = tokio::time::interval(shared.config.health_interval);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let check_timeout = shared.config.health_interval.max(Duration::from_secs(1));
    let mut failures = 0u32;
    loop {
        tokio::select! {
            op = ops.recv() => match op {
                Some(MachineOp::Start { client }) => start(&shared, id, &url, client).await,
                Some(MachineOp::Reset) => reset(&shared, id, &url).await,
                None => return,
            },
            _ = health.tick() => {
                let healthy = check(&shared, &url, check_timeout).await;
                let state = shared.lock().scheduler.machine_state(id);
                if healthy {
                    failures = 0;
                    if state == MachineState::Down {
                        tracing::info!(machine = id, url, "machine healthy again");
                        reset(&shared, id, &url).await;
                    }
                } else {
                    failures += 1;
                    if failures == FAILED_CHECKS && state != MachineState::Down {
                        tracing::warn!(machine = id, url, "machine failed its health checks");
                        shared.with_scheduler(|s, ev| s.machine_down(id, ev));
                    }
                }
            }
            _ = super::stopping(&mut shutdown) => return,
        }
    }
}

async fn check(shared: &Shared, url: &str, timeout: Duration) -> bool {
    let request = shared.http.get(format!("{url}{}", paths::HEALTH)).timeout(timeout).send();
    matches!(request.await, Ok(r) if r.status().is_success())
}

async fn start(shared: &Shared, id: MachineId, url: &str, client: ClientId) {
    match start_session(shared, url).await {
        Ok((descriptor, ice_servers)) => {
            shared.started(id, client, descriptor.capabilities, descriptor.schema, ice_servers)
        }
        Err(error) => {
            tracing::warn!(machine = id, url, %error, "start_session failed");
            shared.with_scheduler(|s, ev| s.assignment_failed(client, id, Instant::now(), ev));
        }
    }
}

/// The descriptor keeps the machine's `schema` byte for byte (its keys in
/// the machine's order: a form built from it lists parameters as the model
/// declares them), for the `assigned` frame.
async fn start_session(shared: &Shared, url: &str) -> Result<(SessionDescriptor<Schema>, Vec<IceServer>), String> {
    let timeout = Duration::from_secs(30);
    let response = shared
        .http
        .post(format!("{url}{}", paths::START_SESSION))
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("start_session answered {}", response.status()));
    }
    let descriptor: SessionDescriptor<Schema> = response.json().await.map_err(|e| e.to_string())?;
    let ice_url = format!("{url}/sessions/{LOCAL_SESSION_ID}{}{}", paths::WEBRTC, paths::ICE_SERVERS);
    // A runtime without the call still works on loopback: no servers.
    let ice = match shared.http.get(ice_url).timeout(timeout).send().await {
        Ok(r) if r.status().is_success() => {
            r.json::<IceServersResponse>().await.map(|r| r.ice_servers).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let ice_servers = ice
        .into_iter()
        .map(|s| IceServer {
            urls: s.uris,
            username: s.credentials.as_ref().map(|c| c.username.clone()),
            credential: s.credentials.map(|c| c.password),
        })
        .collect();
    Ok((descriptor, ice_servers))
}

async fn reset(shared: &Shared, id: MachineId, url: &str) {
    let stopped =
        shared.http.post(format!("{url}{}", paths::STOP_SESSION)).timeout(Duration::from_secs(10)).send().await;
    match stopped {
        Ok(r) if r.status().is_success() => {
            tracing::debug!(machine = id, "machine reset");
            shared.with_scheduler(|s, ev| s.machine_ready(id, Instant::now(), ev));
        }
        other => {
            tracing::warn!(machine = id, url, result = ?other.map(|r| r.status()), "stop_session failed");
            shared.with_scheduler(|s, ev| s.machine_down(id, ev));
        }
    }
}
