//! Redis mode: one task per machine of the shared pool in every process;
//! only the holder of the machine's lease calls it (start, stop, health),
//! so the calls keep their order as in one process. A lease not renewed
//! (its process died or lost Redis) expires, and another process's task
//! takes the machine over, acting on the state it finds.

use std::sync::Arc;
use std::time::Duration;

use reactor_protocol::coordinator::{Assigned, ModelInfo, ServerFrame};
use reactor_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot};

use super::super::health::Failures;
use super::super::machines::{check, decide, start_session, stop_session, Fix, SessionSeen};
use super::super::queue::{ClientId, MachineState};
use super::super::{error_body, tokens, MachineOp, Schema, Shared};
use super::store::{Lease, StoreResult};
use super::{lease_ttl, Cluster};

pub(super) async fn run(
    shared: Arc<Shared>,
    url: String,
    mut ops: mpsc::UnboundedReceiver<MachineOp>,
    checked: oneshot::Sender<()>,
) {
    let cluster = shared.cluster();
    let mut shutdown = shared.shutdown.clone();
    let period = shared.config.health_interval;
    let check_timeout = period.max(Duration::from_secs(1));
    let ttl = lease_ttl(period);
    let mut health = tokio::time::interval(period);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut holding = false;
    let mut failures = Failures::default();
    let mut checked = Some(checked);
    loop {
        tokio::select! {
            op = ops.recv() => match op {
                Some(_) if !holding => {}
                Some(MachineOp::Start { client }) => start(&shared, &url, client).await,
                Some(MachineOp::Reset) => reset(&shared, &url).await,
                None => return,
            },
            _ = health.tick() => {
                holding = match cluster.store.lease(&url, ttl).await {
                    Ok(Lease::Taken) => {
                        tracing::info!(url, "took the machine's lease");
                        failures.cleared();
                        true
                    }
                    Ok(Lease::Renewed) => true,
                    Ok(Lease::Elsewhere) => false,
                    Err(error) => {
                        tracing::warn!(url, %error, "cannot renew the machine's lease");
                        false
                    }
                };
                if holding {
                    health_check(&shared, &url, check_timeout, &mut failures, &ops).await;
                }
                if let Some(checked) = checked.take() {
                    let _ = checked.send(());
                }
            }
            _ = super::super::stopping(&mut shutdown) => {
                if holding {
                    logged(&url, cluster.store.release(&url).await);
                }
                return;
            }
        }
    }
}

async fn health_check(
    shared: &Shared,
    url: &str,
    timeout: Duration,
    failures: &mut Failures,
    ops: &mpsc::UnboundedReceiver<MachineOp>,
) {
    let store = &shared.cluster().store;
    let Ok(before) = store.machine_state(url).await else { return };
    let seen = check(shared, url, timeout).await;
    let Ok(state) = store.machine_state(url).await else { return };
    match seen {
        // Assigned or freed meanwhile, or a start or reset queued for this
        // task (not run yet): the answer may predate it.
        Ok(_) if state != before || !ops.is_empty() => failures.cleared(),
        Ok(session) => {
            failures.cleared();
            reconcile(shared, url, state, session).await;
        }
        Err(miss) => {
            let held = matches!(state, MachineState::Held(_));
            if failures.failed(miss, held) && state != MachineState::Down {
                tracing::warn!(url, "machine failed its health checks");
                logged(url, down(shared.cluster(), url).await);
            }
        }
    }
}

async fn reconcile(shared: &Shared, url: &str, state: MachineState, session: SessionSeen) {
    let cluster = shared.cluster();
    match decide(state, session) {
        Some(Fix::Ready) => logged(url, cluster.store.machine_ready(url).await),
        Some(Fix::Reset) => reset(shared, url).await,
        Some(Fix::Lost) => {
            let MachineState::Held(client) = state else { return };
            // Held but never started: the start call went to a process
            // whose lease has passed to this one.
            if cluster.store.client_field(client, "session").await.ok().flatten().is_none() {
                return start(shared, url, client).await;
            }
            tracing::warn!(url, client, "machine lost the session of its client");
            logged(url, down(cluster, url).await);
            reset(shared, url).await;
        }
        _ => {}
    }
}

fn logged<T>(url: &str, result: StoreResult<T>) {
    if let Err(error) = result {
        tracing::warn!(url, %error, "could not record the machine's state");
    }
}

async fn down(cluster: &Cluster, url: &str) -> StoreResult<bool> {
    let body = error_body(ErrorCode::GpuConnectionError, "the machine serving this session stopped answering");
    cluster.store.machine_down(url, &serde_json::to_string(&body).expect("serializes")).await
}

/// Starts the client's session if it still holds the machine and has none
/// (a start call may come twice: from pub/sub and from a health check).
async fn start(shared: &Shared, url: &str, client: ClientId) {
    let store = &shared.cluster().store;
    let held = matches!(store.machine_state(url).await, Ok(MachineState::Held(c)) if c == client);
    if !held || store.client_field(client, "session").await.ok().flatten().is_some() {
        return;
    }
    let Ok(Some(model)) = store.client_field(client, "model").await else { return };
    match start_session(shared, url).await {
        Ok((descriptor, ice_servers)) => {
            let resume = store.client_field(client, "resume").await.ok().flatten().unwrap_or_default();
            let session_id = tokens::random_hex(12);
            let frame: ServerFrame<Schema> = ServerFrame::Assigned(Assigned {
                session_id: session_id.clone(),
                model: ModelInfo { name: model.clone() },
                capabilities: descriptor.capabilities,
                ice_servers,
                resume: Some(shared.resume_info(&resume)),
                schema: descriptor.schema,
            });
            let json = serde_json::to_string(&frame).expect("frames serialize");
            match store.started(url, client, &session_id, &json).await {
                Ok(true) => tracing::info!(client, url, model, session_id, "session assigned"),
                // The client left while the machine started; a reset is on its way.
                Ok(false) => {}
                Err(error) => tracing::warn!(url, %error, "could not record a session"),
            }
        }
        Err(error) => {
            tracing::warn!(url, %error, "start_session failed");
            logged(url, store.assignment_failed(url, client).await);
        }
    }
}

async fn reset(shared: &Shared, url: &str) {
    let cluster = shared.cluster();
    if stop_session(shared, url).await {
        logged(url, cluster.store.machine_ready(url).await);
    } else {
        logged(url, down(cluster, url).await);
    }
}
