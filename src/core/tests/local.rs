//! Local mode: straight to one runtime, no token, no socket, no queue.

use super::harness::*;
use crate::core::*;
use reactor_protocol::runtime::{SelectedTransport, SessionDescriptor, SessionModel};
use reactor_protocol::ErrorCode;

fn local() -> Driver {
    Driver::with(Options { local: true, api_key: String::new(), coordinator_url: "http://127.0.0.1:8081".into(), ..options() })
}

fn descriptor() -> Reply {
    Reply::Session(SessionDescriptor {
        session_id: "local".into(),
        state: "running".into(),
        model: SessionModel { name: "echo".into() },
        selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
        capabilities: echo_capabilities(),
    })
}

#[test]
fn local_mode_starts_a_session_and_signals_directly() {
    let mut d = local();
    let actions = d.connect();
    let start = http_requests(&actions)[0].clone();
    assert_eq!(start.purpose, Purpose::StartSession);
    assert_eq!(start.url, "http://127.0.0.1:8081/start_session");
    assert_eq!(start.api_key, None);
    let actions = d.http(Purpose::StartSession, 200, descriptor());
    let register = http_requests(&actions)[0];
    assert_eq!(register.url, "http://127.0.0.1:8081/sessions/local/transport/webrtc/connections");
    assert_eq!(register.bearer, None);
    assert!(!actions.iter().any(|a| matches!(a, Action::OpenSocket { .. })));
    let mut actions = d.signal();
    actions.extend(d.up());
    assert_eq!(statuses(&actions), vec![Status::Ready]);
    assert_eq!(settled(&actions), vec![&Ok(())]);
}

#[test]
fn local_disconnect_stops_the_runtime_session() {
    let mut d = local();
    d.connect();
    d.http(Purpose::StartSession, 200, descriptor());
    d.session.disconnect(NOW);
    let actions = d.drain();
    let stop = http_requests(&actions);
    assert_eq!(stop[0].purpose, Purpose::StopSession);
    assert_eq!(stop[0].url, "http://127.0.0.1:8081/stop_session");
    assert!(!actions.iter().any(|a| matches!(a, Action::SendFrame(_))));
}

#[test]
fn local_runtime_unreachable() {
    let mut d = local();
    d.connect();
    let failed = HttpResult::Failed("Failed to fetch".into());
    let actions = d.input(Input::Http { purpose: Purpose::StartSession, result: failed });
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert!(err.message.contains("127.0.0.1:8081"));
    assert!(http_requests(&actions).is_empty(), "no session was started, so none is stopped");
}
