//! The failure of each step: the right code, one error event, a rejected
//! connect(), and everything torn down.

use reactor_protocol::coordinator::{ErrorBody, Queued, ServerFrame};
use reactor_protocol::decode::DecodeError;
use reactor_protocol::{Code, Component, ErrorCode};

use super::harness::*;
use crate::core::*;

#[test]
fn refused_key_fails_authentication_for_good() {
    let mut d = Driver::new();
    d.connect();
    let actions = d.http(Purpose::Token, 401, error_body(ErrorCode::AuthenticationFailed, None));
    let err = assert_connect_failed(&d, &actions, ErrorCode::AuthenticationFailed);
    assert!(!err.recoverable());
    assert_eq!(err.timestamp, NOW);
}

#[test]
fn refused_key_without_a_json_body_is_still_authentication() {
    let mut d = Driver::new();
    d.connect();
    let actions = d.http(Purpose::Token, 401, Reply::Other);
    assert_connect_failed(&d, &actions, ErrorCode::AuthenticationFailed);
}

#[test]
fn unreachable_coordinator() {
    let mut d = Driver::new();
    d.connect();
    let failed = HttpResult::Failed(HttpFailure::Network("TypeError: Failed to fetch".into()));
    let actions = d.input(Input::Http { purpose: Purpose::Token, result: failed });
    let err = assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert!(err.recoverable());
    let failure = HttpFailure::Network("TypeError: Failed to fetch".into());
    assert_eq!(*err.failure, Failure::Unreachable { purpose: Purpose::Token, url: URL.into(), failure });
    let why = "no connection, a refused one, or a CORS refusal (TypeError: Failed to fetch)";
    assert_eq!(err.message(), format!("could not reach the coordinator at {URL}: {why}"));
}

#[test]
fn each_http_failure_says_what_the_browser_told() {
    let words = "TypeError: Failed to fetch";
    let cases = [
        (HttpFailure::Unsendable(words.into()), "the browser would not send the request"),
        (HttpFailure::Network(words.into()), "no connection, a refused one, or a CORS refusal"),
        (HttpFailure::Aborted(words.into()), "the request was aborted"),
    ];
    for (failure, says) in cases {
        assert_eq!(failure.message(), format!("{says} ({words})"));
    }
    assert_eq!(HttpFailure::Other(words.into()).message(), words, "nothing more is known than the browser's words");
}

#[test]
fn token_server_error() {
    let mut d = Driver::new();
    d.connect();
    let actions = d.http(Purpose::Token, 500, Reply::Other);
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
}

#[test]
fn token_request_that_never_answers_times_out() {
    let mut d = Driver::new();
    let actions = d.connect();
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Step, ms: TOKEN_TIMEOUT_MS }));
    let actions = d.input(Input::Timer(Timer::Step));
    let err = assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert_eq!(*err.failure, Failure::TimedOut(Step::Token));
}

#[test]
fn socket_that_closes_before_opening() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    let actions = d.input(Input::SocketClosed { code: 1006, reason: String::new() });
    let err = assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert!(!actions.iter().any(|a| matches!(a, Action::SendFrame(_))), "nothing sent on a dead socket");
    assert_eq!(*err.failure, Failure::SocketClosed { code: 1006, reason: String::new() });
    assert_eq!(err.message(), "the coordinator closed the connection (code 1006)");
}

#[test]
fn socket_that_never_opens() {
    let mut d = Driver::new();
    d.connect();
    let actions = d.token();
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Step, ms: SOCKET_TIMEOUT_MS }));
    let actions = d.input(Input::Timer(Timer::Step));
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
}

#[test]
fn hello_that_gets_no_answer() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let actions = d.input(Input::Timer(Timer::Step));
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
}

#[test]
fn no_capacity_carries_retry_after() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let Reply::Error(body) = error_body(ErrorCode::NoCapacity, Some(7.5)) else { unreachable!() };
    let actions = d.frame(ServerFrame::Error(body));
    let err = assert_connect_failed(&d, &actions, ErrorCode::NoCapacity);
    assert_eq!(err.retry_after, Some(7.5));
    assert!(err.recoverable());
}

#[test]
fn unknown_model_and_bad_token_frames() {
    for code in [ErrorCode::UnknownModel, ErrorCode::AuthenticationFailed] {
        let mut d = Driver::new();
        d.connect();
        d.token();
        d.input(Input::SocketOpen);
        let Reply::Error(body) = error_body(code, None) else { unreachable!() };
        let actions = d.frame(ServerFrame::Error(body));
        assert_connect_failed(&d, &actions, code);
    }
}

#[test]
fn garbage_from_the_coordinator() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let actions = d.input(Input::SocketBadFrame(BadFrame::NotJson("not json".into())));
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
}

#[test]
fn a_long_garbage_frame_is_quoted_only_in_part() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    // 2-byte characters, so the cut must find a character boundary.
    d.input(Input::SocketBadFrame(BadFrame::NotJson("é".repeat(500))));
    let err = d.session.last_error().expect("an error");
    let message = err.message();
    let quoted = message.strip_prefix("the coordinator sent an unexpected frame: ").expect("the frame quoted");
    assert_eq!(quoted, "é".repeat(BAD_FRAME_SHOWN / 2));
}

#[test]
fn socket_dropped_while_queued() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(ServerFrame::Queued(Queued { position: 4, estimated_wait: None, resume: None }));
    let actions = d.input(Input::SocketClosed { code: 1001, reason: "going away".into() });
    let err = assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert_eq!(*err.failure, Failure::SocketClosed { code: 1001, reason: "going away".into() });
    assert_eq!(err.message(), "the coordinator closed the connection (code 1001: going away)");
}

#[test]
fn connection_registration_refused() {
    let mut d = Driver::new();
    d.reach_assigned();
    let actions = d.http(Purpose::RegisterConnection, 500, Reply::Other);
    assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
}

#[test]
fn proxy_refusing_the_token() {
    let mut d = Driver::new();
    d.reach_assigned();
    let actions = d.http(Purpose::RegisterConnection, 401, error_body(ErrorCode::AuthenticationFailed, None));
    assert_connect_failed(&d, &actions, ErrorCode::AuthenticationFailed);
}

#[test]
fn offer_refused() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    d.input(offer_ready());
    let actions = d.http(Purpose::PostOffer, 400, Reply::Other);
    assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
}

#[test]
fn machine_unreachable_during_signaling() {
    let mut d = Driver::new();
    d.reach_assigned();
    let failed = HttpResult::Failed(HttpFailure::Aborted("AbortError: aborted".into()));
    let actions = d.input(Input::Http { purpose: Purpose::RegisterConnection, result: failed });
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    let why = "the request was aborted (AbortError: aborted)";
    assert_eq!(err.message(), format!("signaling with the machine failed (the connection registration): {why}"));
}

#[test]
fn no_answer_from_the_machine() {
    let mut d = Driver::new();
    let actions = d.reach_assigned();
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Step, ms: SIGNALING_TIMEOUT_MS }));
    d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    d.input(offer_ready());
    d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    d.http(Purpose::GetAnswer, 202, Reply::Other);
    let actions = d.input(Input::Timer(Timer::Step));
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert_eq!(*err.failure, Failure::TimedOut(Step::Answer));
}

#[test]
fn browser_that_cannot_build_the_offer() {
    let mut d = Driver::new();
    d.reach_assigned();
    let failure = PeerFailure::Offer("InvalidStateError".into());
    let actions = d.input(Input::PeerFailed(failure.clone()));
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert_eq!(*err.failure, Failure::Peer(failure));
}

#[test]
fn offer_without_a_mid() {
    let mut d = Driver::new();
    d.reach_assigned();
    let actions = d.input(Input::OfferReady { sdp: "v=0".into(), mids: vec![Some("0".into()), None] });
    let err = assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert_eq!(*err.failure, Failure::Peer(PeerFailure::NoMid("main_video".into())));
}

#[test]
fn channel_that_never_opens() {
    let mut d = Driver::new();
    d.reach_assigned();
    let actions = d.signal();
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Step, ms: CONNECT_TIMEOUT_MS }));
    d.input(Input::PeerState(PeerState::Connected));
    d.input(Input::ChannelOpen(Channel::Control));
    let actions = d.input(Input::Timer(Timer::Step));
    assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
}

#[test]
fn ice_that_fails_before_ready() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.signal();
    let actions = d.input(Input::PeerState(PeerState::Failed));
    assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
}

#[test]
fn disconnected_peer_state_alone_is_not_fatal() {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    assert!(d.input(Input::PeerState(PeerState::Disconnected)).is_empty());
    assert_eq!(d.session.status(), Status::Ready);
}

/// After ready, breakage is reported but there is no connect() left to reject.
fn assert_broke(d: &Driver, actions: &[A], code: ErrorCode) {
    let errs = errors(actions);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, code);
    assert!(settled(actions).is_empty());
    assert!(actions.contains(&Action::Teardown));
    assert_eq!(statuses(actions), vec![Status::Disconnected]);
    assert_eq!(d.session.last_error().map(|e| e.code.clone()), Some(code.into()));
}

#[test]
fn peer_failing_after_ready() {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    let actions = d.input(Input::PeerState(PeerState::Failed));
    assert_broke(&d, &actions, ErrorCode::GpuConnectionError);
}

#[test]
fn channel_closing_after_ready() {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    let actions = d.input(Input::ChannelClosed(Channel::Data));
    assert_broke(&d, &actions, ErrorCode::GpuConnectionError);
}

#[test]
fn coordinator_dropping_after_ready() {
    let mut d = Driver::new();
    d.reach_ready();
    let actions = d.input(Input::SocketClosed { code: 1006, reason: String::new() });
    assert_broke(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert!(!actions.iter().any(|a| matches!(a, Action::SendFrame(_))));
}

#[test]
fn coordinator_ending_the_session_after_ready() {
    let mut d = Driver::new();
    d.reach_ready();
    let Reply::Error(body) = error_body(ErrorCode::SessionTimeLimit, None) else { unreachable!() };
    let actions = d.frame(ServerFrame::Error(body));
    assert_broke(&d, &actions, ErrorCode::SessionTimeLimit);
}

#[test]
fn a_failed_connection_can_connect_again() {
    let mut d = Driver::new();
    d.connect();
    d.http(Purpose::Token, 500, Reply::Other);
    let actions = d.reach_ready();
    assert_eq!(statuses(&actions), vec![Status::Connecting, Status::Waiting, Status::Ready]);
    assert!(d.session.last_error().is_some(), "the last error stays until the next one");
}

#[test]
fn an_error_code_from_a_newer_coordinator_keeps_its_code_and_message() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let body =
        ErrorBody { code: Code::Unknown("QUOTA_EXCEEDED".into()), message: "over quota".into(), retry_after: None };
    let actions = d.frame(ServerFrame::Error(body));
    let err = &errors(&actions)[0];
    assert_eq!(err.code, Code::Unknown("QUOTA_EXCEEDED".into()));
    assert_eq!(err.code.as_str(), "QUOTA_EXCEEDED");
    assert_eq!(*err.failure, Failure::Said("over quota".into()), "the coordinator's words, as they came");
    assert_eq!((err.component(), err.recoverable()), (Component::Coordinator, false));
    assert_eq!(d.session.status(), Status::Disconnected);
}

#[test]
fn a_frame_that_is_json_but_no_frame_says_where() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let error = DecodeError::at("position", "invalid value: integer `-1`, expected u32");
    let frame = BadFrame::Unreadable { text: r#"{"type":"queued","position":-1}"#.into(), error };
    let actions = d.input(Input::SocketBadFrame(frame));
    let err = assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
    assert!(matches!(&*err.failure, Failure::BadFrame(BadFrame::Unreadable { .. })));
    assert!(err.message().ends_with("(at `position`: invalid value: integer `-1`, expected u32)"), "{}", err.message());
}

#[test]
fn an_error_is_itself_and_not_an_equal_one() {
    let err = ReactorError::new(ErrorCode::ConnectionAborted, Failure::Disconnected, NOW);
    let again = ReactorError::new(ErrorCode::ConnectionAborted, Failure::Disconnected, NOW);
    assert!(err.is(&err.clone()), "a clone is the same error (one JS object for the event and the rejection)");
    assert_eq!(err, again);
    assert!(!err.is(&again), "an equal error made again is another one");
}
