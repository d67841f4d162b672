//! Local mode: straight to one runtime, no token, no socket, no queue.

use super::harness::*;
use crate::core::*;
use reactor_protocol::decode::DecodeError;
use reactor_protocol::runtime::{SelectedTransport, SessionDescriptor, SessionModel};
use reactor_protocol::ErrorCode;

fn local() -> Driver {
    Driver::with(Options {
        local: true,
        api_key: String::new(),
        coordinator_url: "http://127.0.0.1:8081".into(),
        ..options()
    })
}

fn descriptor() -> Reply {
    Reply::Session(Box::new(SessionDescriptor {
        session_id: "local".into(),
        cluster: None,
        server_info: None,
        schema: None,
        state: "WAITING".into(),
        model: SessionModel { name: "echo".into() },
        selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
        capabilities: echo_capabilities(),
    }))
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
    let failed = HttpResult::Failed(HttpFailure::Network("TypeError: Failed to fetch".into()));
    let actions = d.input(Input::Http { purpose: Purpose::StartSession, result: failed });
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert!(
        matches!(&*err.failure, Failure::Unreachable { purpose: Purpose::StartSession, url, .. } if url.contains("127.0.0.1:8081"))
    );
    assert!(err.message().starts_with("could not reach the runtime at http://127.0.0.1:8081"), "{}", err.message());
    assert!(http_requests(&actions).is_empty(), "no session was started, so none is stopped");
}

#[test]
fn local_disconnect_is_done_when_the_runtime_stopped() {
    let mut d = local();
    d.connect();
    d.http(Purpose::StartSession, 200, descriptor());
    let Outcome::Pending(promise) = d.session.disconnect(NOW) else { panic!("waits for stop_session") };
    d.drain();
    let stopped = d.http(Purpose::StopSession, 200, Reply::Other);
    assert_eq!(stopped, vec![Action::Settle { promise, result: Ok(()) }]);
    assert_eq!(d.session.disconnect(NOW), Outcome::Done, "nothing left to stop");
}

#[test]
fn a_new_local_session_waits_for_the_old_one_to_stop() {
    let mut d = local();
    d.connect();
    d.http(Purpose::StartSession, 200, descriptor());
    d.session.disconnect(NOW);
    d.drain();
    let actions = d.connect();
    assert!(http_requests(&actions).is_empty(), "start_session must not overtake stop_session");
    // The stop's answer belongs to the old connection, and still counts.
    let old = d.session.generation() - 1;
    let stop = Input::Http {
        purpose: Purpose::StopSession,
        result: HttpResult::Failed(HttpFailure::Network("TypeError: Failed to fetch".into())),
    };
    d.session.handle(NOW, old, stop);
    let actions = d.drain();
    assert_eq!(http_requests(&actions)[0].purpose, Purpose::StartSession);
    assert!(
        actions.iter().any(|a| matches!(a, Action::Settle { result: Ok(()), .. })),
        "the old disconnect() resolves"
    );
}

#[test]
fn a_failed_local_connection_also_stops_the_runtime_session() {
    let mut d = local();
    d.connect();
    d.http(Purpose::StartSession, 200, descriptor());
    let actions = d.http(Purpose::RegisterConnection, 500, Reply::Other);
    assert!(http_requests(&actions).iter().any(|r| r.purpose == Purpose::StopSession));
    assert!(http_requests(&d.connect()).is_empty(), "deferred until the stop is answered");
}

#[test]
fn an_answer_that_does_not_read_fails_naming_what_came() {
    let mut d = local();
    d.connect();
    d.http(Purpose::StartSession, 200, descriptor());
    let why = DecodeError::at("connection_id", "invalid type: boolean `true`, expected a number or a string");
    let actions = d.http(Purpose::RegisterConnection, 201, Reply::Unreadable(why));
    let error = errors(&actions).pop().expect("an error event").clone();
    assert_eq!(error.code, ErrorCode::GpuConnectionFailed);
    assert_eq!(
        error.message(),
        "unreadable answer to the connection registration (HTTP 201): \
         at `connection_id`: invalid type: boolean `true`, expected a number or a string"
    );
    assert_eq!(d.session.status(), Status::Disconnected);
}
