//! One task per machine: it alone calls the machine, so `start_session`,
//! `stop_session` and health checks never overlap and keep their order.
//!
//! Each health check also reconciles what the machine says with what the
//! scheduler holds: a machine starts out resetting and serves once its first
//! check has seen it idle (a session left by an earlier coordinator is
//! stopped first); a held machine found idle lost its session under its
//! client. A session someone opens on a free machine behind the
//! coordinator's back (a developer in local mode) is not cut: the runtime
//! ends it when its client goes (its own timeout).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reactor_protocol::coordinator::IceServer;
use reactor_protocol::runtime::{paths, states, Health, IceServersResponse, SessionDescriptor, LOCAL_SESSION_ID};
use tokio::sync::{mpsc, oneshot};

use super::health::{Failures, Miss};
use super::queue::{ClientId, MachineId, MachineState};
use super::{MachineOp, Schema, Shared};

pub(crate) async fn run(
    shared: Arc<Shared>,
    id: MachineId,
    url: String,
    mut ops: mpsc::UnboundedReceiver<MachineOp>,
    checked: oneshot::Sender<()>,
) {
    let mut shutdown = shared.shutdown.clone();
    let period = shared.config.health_interval;
    let check_timeout = period.max(Duration::from_secs(1));
    // The first look decides whether the machine serves as it is, after a
    // reset, or not yet; the coordinator takes clients once every machine
    // has had it.
    match check(&shared, &url, check_timeout).await {
        Ok(session) => reconcile(&shared, id, &url, MachineState::Resetting, session).await,
        Err(_) => {
            tracing::warn!(machine = id, url, "machine not healthy at start");
            shared.with_scheduler(|s, ev| s.machine_down(id, ev));
        }
    }
    let _ = checked.send(());
    let mut health = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = Failures::default();
    loop {
        tokio::select! {
            op = ops.recv() => match op {
                Some(MachineOp::Start { client }) => start(&shared, id, &url, client).await,
                Some(MachineOp::Reset) => reset(&shared, id, &url).await,
                None => return,
            },
            _ = health.tick() => {
                let before = shared.lock().scheduler.machine_state(id);
                let seen = check(&shared, &url, check_timeout).await;
                let state = shared.lock().scheduler.machine_state(id);
                match seen {
                    // Assigned or freed meanwhile, or a start or reset queued
                    // for this task (not run yet): the answer may predate it.
                    Ok(_) if state != before || !ops.is_empty() => failures.cleared(),
                    Ok(session) => {
                        failures.cleared();
                        reconcile(&shared, id, &url, state, session).await;
                    }
                    Err(miss) => {
                        let held = matches!(state, MachineState::Held(_));
                        if failures.failed(miss, held) && state != MachineState::Down {
                            tracing::warn!(machine = id, url, "machine failed its health checks");
                            shared.with_scheduler(|s, ev| s.machine_down(id, ev));
                        }
                    }
                }
            }
            _ = super::stopping(&mut shutdown) => return,
        }
    }
}

/// What a healthy machine says of its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SessionSeen {
    Running,
    Idle,
    /// Still loading its model, or stopping: not to be handed out yet.
    Busy,
}

/// The runtime's states (2.10.1): `READY` is idle; `WAITING`, `STREAMING`
/// and `ORPHANED` hold a session; the others (`CREATED` while loading,
/// `CLOSING`) are neither yet.
fn session_seen(state: &str) -> SessionSeen {
    match state {
        states::READY => SessionSeen::Idle,
        states::WAITING | states::STREAMING | states::ORPHANED => SessionSeen::Running,
        _ => SessionSeen::Busy,
    }
}

/// What a health check calls for, from what the coordinator holds and
/// what the machine says (the same rule in memory and in Redis mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fix {
    /// Not yet seen since the coordinator started, or back from the dead.
    Ready,
    /// Healthy but not known clean: stop its session before it serves.
    Reset,
    /// Held, yet idle: the session was lost under its client.
    Lost,
}

pub(super) fn decide(state: MachineState, session: SessionSeen) -> Option<Fix> {
    match (state, session) {
        (MachineState::Resetting, SessionSeen::Idle) => Some(Fix::Ready),
        (MachineState::Resetting | MachineState::Down, SessionSeen::Running | SessionSeen::Idle) => Some(Fix::Reset),
        // A session opened behind the coordinator's back (local mode) is
        // not cut: the runtime ends it once its client is gone.
        (MachineState::Held(_), SessionSeen::Idle) => Some(Fix::Lost),
        _ => None,
    }
}

async fn reconcile(shared: &Shared, id: MachineId, url: &str, state: MachineState, session: SessionSeen) {
    match decide(state, session) {
        Some(Fix::Ready) => shared.with_scheduler(|s, ev| s.machine_ready(id, Instant::now(), ev)),
        Some(Fix::Reset) => {
            tracing::info!(machine = id, url, ?session, "machine healthy; resetting it before it serves");
            reset(shared, id, url).await;
        }
        Some(Fix::Lost) => {
            tracing::warn!(machine = id, url, ?state, "machine lost the session of its client");
            shared.with_scheduler(|s, ev| s.machine_down(id, ev));
            reset(shared, id, url).await;
        }
        _ => {}
    }
}

/// `Some` with what a machine says of its session when it is healthy.
pub(super) async fn check(shared: &Shared, url: &str, timeout: Duration) -> Result<SessionSeen, Miss> {
    let request = shared.http.get(format!("{url}{}", paths::HEALTH)).timeout(timeout).send();
    let response = match request.await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            tracing::debug!(url, status = %response.status(), "health check answered with an error");
            return Err(Miss::Refused);
        }
        Err(error) if error.is_timeout() => {
            tracing::debug!(url, "health check timed out");
            return Err(Miss::Silent);
        }
        Err(error) => {
            tracing::debug!(url, error = ?error, "health check refused");
            return Err(Miss::Refused);
        }
    };
    // A machine that answers but says nothing readable of its state is
    // taken to be idle, as before there was a reconcile.
    let state = match response.json::<Health>().await {
        Ok(health) => session_seen(&health.state),
        Err(_) => SessionSeen::Idle,
    };
    Ok(state)
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
pub(super) async fn start_session(
    shared: &Shared,
    url: &str,
) -> Result<(SessionDescriptor<Schema>, Vec<IceServer>), String> {
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

/// `stop_session`; true when the machine confirmed it.
pub(super) async fn stop_session(shared: &Shared, url: &str) -> bool {
    let stopped =
        shared.http.post(format!("{url}{}", paths::STOP_SESSION)).timeout(Duration::from_secs(10)).send().await;
    match stopped {
        Ok(r) if r.status().is_success() => true,
        other => {
            tracing::warn!(url, result = ?other.map(|r| r.status()), "stop_session failed");
            false
        }
    }
}

async fn reset(shared: &Shared, id: MachineId, url: &str) {
    if stop_session(shared, url).await {
        tracing::debug!(machine = id, "machine reset");
        shared.with_scheduler(|s, ev| s.machine_ready(id, Instant::now(), ev));
    } else {
        shared.with_scheduler(|s, ev| s.machine_down(id, ev));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_health_check_calls_for() {
        use MachineState::*;
        use SessionSeen::*;
        assert_eq!(decide(Resetting, Idle), Some(Fix::Ready));
        assert_eq!(decide(Resetting, Running), Some(Fix::Reset));
        assert_eq!(decide(Down, Idle), Some(Fix::Reset));
        assert_eq!(decide(Down, Running), Some(Fix::Reset));
        assert_eq!(decide(Held(7), Idle), Some(Fix::Lost));
        for fine in [
            (Free, Idle),
            (Free, Running),
            (Held(7), Running),
            (Free, Busy),
            (Resetting, Busy),
            (Down, Busy),
            (Held(7), Busy),
        ] {
            assert_eq!(decide(fine.0, fine.1), None, "{fine:?}");
        }
    }

    #[test]
    fn runtime_states_read_as_sessions() {
        assert_eq!(session_seen("READY"), SessionSeen::Idle);
        assert_eq!(session_seen("STREAMING"), SessionSeen::Running);
        assert_eq!(session_seen("CREATED"), SessionSeen::Busy);
    }
}
