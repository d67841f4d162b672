//! The coordinator's socket drops while waiting or ready: `resume` in the
//! background, status unchanged; giving up; RESUME_FAILED; URL lists.

use reactor_protocol::coordinator::{Assigned, ClientFrame, ErrorBody, ModelInfo, Queued, ResumeInfo, ServerFrame};
use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

const B: &str = "http://coord-b.test";

fn info() -> Option<ResumeInfo> {
    Some(ResumeInfo { token: "r-1".into(), grace: 15.0 })
}

fn queued(position: u32, resume: Option<ResumeInfo>) -> ServerFrame {
    ServerFrame::Queued(Queued { position, estimated_wait: Some(30.0), resume })
}

fn assigned_with_resume() -> ServerFrame {
    ServerFrame::Assigned(Assigned {
        session_id: "s-1".into(),
        model: ModelInfo { name: "echo".into() },
        capabilities: echo_capabilities(),
        ice_servers: vec![],
        resume: info(),
        schema: None,
    })
}

fn two_urls() -> Driver {
    Driver::with(Options { fallback_urls: vec![B.into()], ..options() })
}

/// Connected and waiting at position 3, with a resume token.
fn waiting(d: &mut Driver) {
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(queued(3, info()));
    assert_eq!(d.session.status(), Status::Waiting);
}

fn ready(d: &mut Driver) {
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(assigned_with_resume());
    d.signal();
    d.up();
    assert_eq!(d.session.status(), Status::Ready);
}

fn at(d: &mut Driver, now: f64, input: Input<String>) -> Vec<A> {
    let generation = d.session.generation();
    d.session.handle(now, generation, input);
    d.drain()
}

fn dropped() -> Input<String> {
    Input::SocketClosed { code: 1006, reason: String::new() }
}

fn reconnecting(actions: &[A]) -> Vec<(u32, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Reconnecting { link: LinkKind::Coordinator, attempt, delay_ms, .. }) => {
                Some((*attempt, *delay_ms))
            }
            _ => None,
        })
        .collect()
}

fn frames(actions: &[A]) -> Vec<&ClientFrame> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendFrame(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn opened(actions: &[A]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::OpenSocket { url } => Some(url.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn drop_while_waiting_resumes_in_the_background_and_keeps_the_place() {
    let mut d = Driver::new();
    waiting(&mut d);
    let actions = at(&mut d, NOW, dropped());
    assert_eq!(reconnecting(&actions), vec![(1, 0)]);
    assert!(frames(&actions).is_empty(), "no leave on a drop we mean to resume: {actions:?}");
    assert!(!actions.contains(&Action::Teardown));
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Resume, ms: 0 }));
    assert!(statuses(&actions).is_empty(), "status unchanged");
    assert_eq!(d.session.status(), Status::Waiting);
    assert_eq!(d.session.waiting_info().and_then(|w| w.position), Some(3));

    let actions = at(&mut d, NOW, Input::Timer(Timer::Resume));
    assert_eq!(opened(&actions), vec!["ws://coord.test/ws"]);
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Resume, ms: RESUME_ATTEMPT_TIMEOUT_MS }));
    assert!(http_requests(&actions).is_empty(), "resume needs no new token");
    let actions = at(&mut d, NOW + 40.0, Input::SocketOpen);
    assert_eq!(frames(&actions), vec![&ClientFrame::Resume { resume_token: "r-1".into() }]);
    let actions = at(&mut d, NOW + 50.0, Input::SocketFrame(ServerFrame::Resumed, None));
    assert!(actions.contains(&Action::CancelTimer(Timer::Resume)));
    assert!(actions.contains(&Action::Emit(Event::Reconnected {
        link: LinkKind::Coordinator,
        attempts: 1,
        downtime_ms: 50.0
    })));
    // The same place: nothing to tell; a new one is told as before.
    assert!(d.frame(queued(3, None)).is_empty());
    let actions = d.frame(queued(2, None));
    let info = WaitingInfo { position: Some(2), estimated_wait: Some(30.0) };
    assert_eq!(actions, vec![Action::Emit(Event::WaitingInfoChanged(info))]);
    assert_eq!(d.session.status(), Status::Waiting);
}

#[test]
fn a_machine_assigned_while_away_proceeds_as_usual() {
    let mut d = Driver::new();
    waiting(&mut d);
    at(&mut d, NOW, dropped());
    at(&mut d, NOW, Input::Timer(Timer::Resume));
    at(&mut d, NOW, Input::SocketOpen);
    at(&mut d, NOW, Input::SocketFrame(ServerFrame::Resumed, None));
    let actions = d.frame(assigned_with_resume());
    assert!(actions.iter().any(|a| matches!(a, Action::CreatePeer(_))));
    assert_eq!(http_requests(&actions)[0].url, "http://coord.test/sessions/s-1/transport/webrtc/connections");
    d.signal();
    d.up();
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn drop_while_ready_keeps_the_session_and_does_not_resignal() {
    let mut d = Driver::new();
    ready(&mut d);
    let actions = at(&mut d, NOW, dropped());
    assert_eq!(reconnecting(&actions), vec![(1, 0)]);
    assert!(statuses(&actions).is_empty() && !actions.contains(&Action::Teardown));
    assert!(!actions.iter().any(|a| matches!(a, Action::Emit(Event::StreamChanged(None)))));
    at(&mut d, NOW, Input::Timer(Timer::Resume));
    // Messages go on over the peer connection meanwhile.
    assert!(matches!(d.session.send_message(NOW, "\"hi\"".into(), 4, 0), Outcome::Pending(_)));
    assert_eq!(application_sends(&d.drain()).len(), 1);
    at(&mut d, NOW, Input::SocketOpen);
    let actions = at(&mut d, NOW + 900.0, Input::SocketFrame(ServerFrame::Resumed, None));
    assert!(actions.iter().any(|a| matches!(a, Action::Emit(Event::Reconnected { attempts: 1, .. }))));
    let actions = d.frame(assigned_with_resume());
    assert!(actions.is_empty(), "the same session again changes nothing: {actions:?}");
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn attempts_follow_the_policy_then_repeat_its_last_delay_until_the_grace_is_over() {
    let mut d = Driver::with(Options { reconnect: vec![0, 1_000, 4_000], ..options() });
    waiting(&mut d);
    let mut now = NOW;
    let mut seen = reconnecting(&at(&mut d, now, dropped()));
    let mut failed = Vec::new();
    for _ in 0..10 {
        let timer = d.drain();
        assert!(timer.is_empty());
        at(&mut d, now, Input::Timer(Timer::Resume));
        now += 100.0;
        let actions = at(&mut d, now, dropped());
        seen.extend(reconnecting(&actions));
        if !errors(&actions).is_empty() {
            failed = actions;
            break;
        }
        now += f64::from(seen.last().unwrap().1);
    }
    // 0, 1 s, 4 s, then 4 s again, the last one cut short to end at 15 s.
    assert_eq!(seen, vec![(1, 0), (2, 1_000), (3, 4_000), (4, 4_000), (5, 4_000), (6, 1_500)]);
    let err = assert_connect_failed(&d, &failed, ErrorCode::CoordinatorConnectionError);
    assert!(err.recoverable());
    let Failure::ResumeGaveUp { grace, attempts, .. } = *err.failure else { panic!("{:?}", err.failure) };
    assert_eq!((grace, attempts), (15.0, 6));
    assert!(err.message().contains("within its 15 s grace period (6 attempts; last: "), "{}", err.message());
    assert!(frames(&failed).is_empty(), "nothing sent on a dead socket");
}

#[test]
fn an_attempt_that_hangs_is_dropped_for_the_next() {
    let mut d = Driver::new();
    waiting(&mut d);
    at(&mut d, NOW, dropped());
    at(&mut d, NOW, Input::Timer(Timer::Resume));
    let actions = at(&mut d, NOW + 5_000.0, Input::Timer(Timer::Resume));
    assert!(actions.contains(&Action::CloseSocket));
    assert_eq!(reconnecting(&actions), vec![(2, 300)]);
}

#[test]
fn resume_failed_ends_with_its_code() {
    let mut d = Driver::new();
    ready(&mut d);
    at(&mut d, NOW, dropped());
    at(&mut d, NOW, Input::Timer(Timer::Resume));
    at(&mut d, NOW, Input::SocketOpen);
    let body = ErrorBody { code: ErrorCode::ResumeFailed.into(), message: "gone".into(), retry_after: None };
    let actions = d.frame(ServerFrame::Error(body));
    let errs = errors(&actions);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::ResumeFailed);
    assert!(errs[0].recoverable());
    assert!(actions.contains(&Action::Teardown));
    assert_eq!(d.session.status(), Status::Disconnected);
}

#[test]
fn reconnect_false_ends_at_the_drop_as_before() {
    let mut d = Driver::with(Options { reconnect: vec![], ..options() });
    waiting(&mut d);
    let actions = d.input(dropped());
    let errs = errors(&actions);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::CoordinatorConnectionError);
    assert!(reconnecting(&actions).is_empty());
    assert_eq!(d.session.status(), Status::Disconnected);
}

#[test]
fn no_grace_no_resume() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(queued(1, Some(ResumeInfo { token: "r".into(), grace: 0.0 })));
    let actions = d.input(dropped());
    assert!(reconnecting(&actions).is_empty());
    assert_eq!(errors(&actions)[0].code, ErrorCode::CoordinatorConnectionError);
}

#[test]
fn disconnect_while_resuming_stops_trying() {
    let mut d = Driver::new();
    waiting(&mut d);
    at(&mut d, NOW, dropped());
    assert_eq!(d.session.disconnect(NOW), Outcome::Done);
    let actions = d.drain();
    assert!(actions.contains(&Action::Teardown));
    assert!(frames(&actions).is_empty(), "no socket to say leave on");
    assert!(at(&mut d, NOW, Input::Timer(Timer::Resume)).is_empty());
}

#[test]
fn resume_attempts_go_round_the_url_list_and_signaling_follows() {
    let mut d = two_urls();
    ready(&mut d);
    at(&mut d, NOW, dropped());
    assert_eq!(opened(&at(&mut d, NOW, Input::Timer(Timer::Resume))), vec!["ws://coord-b.test/ws"]);
    at(&mut d, NOW, dropped());
    assert_eq!(opened(&at(&mut d, NOW + 300.0, Input::Timer(Timer::Resume))), vec!["ws://coord.test/ws"]);
    at(&mut d, NOW, dropped());
    assert_eq!(opened(&at(&mut d, NOW + 1_200.0, Input::Timer(Timer::Resume))), vec!["ws://coord-b.test/ws"]);
    at(&mut d, NOW, Input::SocketOpen);
    at(&mut d, NOW, Input::SocketFrame(ServerFrame::Resumed, None));
    // Whatever is signaled later (here the end of ICE gathering) goes through b's proxy.
    let actions = at(&mut d, NOW, Input::LocalCandidate(None));
    let url = &http_requests(&actions)[0].url;
    assert_eq!(url, "http://coord-b.test/sessions/s-1/transport/webrtc/connections/c-1/ice_candidates");
}

#[test]
fn token_failure_moves_to_the_next_url_but_a_refusal_does_not() {
    let mut d = two_urls();
    let actions = d.connect();
    assert_eq!(http_requests(&actions)[0].url, "http://coord.test/tokens");
    let failed = HttpResult::Failed(HttpFailure::Network("TypeError: Failed to fetch".into()));
    let actions = d.input(Input::Http { purpose: Purpose::Token, result: failed });
    assert!(errors(&actions).is_empty());
    assert_eq!(http_requests(&actions)[0].url, "http://coord-b.test/tokens");
    assert_eq!(d.token().iter().filter_map(|a| opened(std::slice::from_ref(a)).pop()).count(), 1);

    let mut d = two_urls();
    d.connect();
    let actions = d.http(Purpose::Token, 503, error_body(ErrorCode::CoordinatorConnectionError, None));
    assert_eq!(http_requests(&actions)[0].url, "http://coord-b.test/tokens");
    // Every URL failed: the last one's error.
    let actions = d.http(Purpose::Token, 503, error_body(ErrorCode::CoordinatorConnectionError, None));
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);

    let mut d = two_urls();
    d.connect();
    let actions = d.http(Purpose::Token, 401, error_body(ErrorCode::AuthenticationFailed, None));
    assert_connect_failed(&d, &actions, ErrorCode::AuthenticationFailed);
}

#[test]
fn a_socket_that_fails_before_admission_starts_over_at_the_next_url() {
    let mut d = two_urls();
    d.connect();
    d.token();
    let actions = d.input(dropped());
    assert!(errors(&actions).is_empty());
    assert!(actions.contains(&Action::CloseSocket));
    assert_eq!(http_requests(&actions)[0].url, "http://coord-b.test/tokens");
    let actions = d.token();
    assert_eq!(opened(&actions), vec!["ws://coord-b.test/ws"]);
    d.input(Input::SocketOpen);
    // Hello unanswered in time at b too: nothing left to try.
    let actions = d.input(Input::Timer(Timer::Step));
    assert_connect_failed(&d, &actions, ErrorCode::CoordinatorConnectionError);
}
