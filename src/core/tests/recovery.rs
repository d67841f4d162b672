//! Machine link recovery: what starts it, the policy (delays, attempts,
//! the give-up code), what the user sees meanwhile, and what survives.

use reactor_protocol::runtime::{
    ConnectionId, ControlMessage, ControlMethod, ControlRequest, ControlResponse, Empty, TrackEvent, TrackNotification,
    TrackRef,
};
use reactor_protocol::ErrorCode;
use std::rc::Rc;

use super::harness::*;
use crate::core::*;

fn reconnecting(actions: &[A]) -> Vec<(u32, u32, Failure)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Reconnecting { link: LinkKind::Machine, attempt, delay_ms, reason }) => {
                Some((*attempt, *delay_ms, (**reason).clone()))
            }
            _ => None,
        })
        .collect()
}

fn reconnected(actions: &[A]) -> Vec<(u32, f64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Reconnected { link: LinkKind::Machine, attempts, downtime_ms }) => {
                Some((*attempts, *downtime_ms))
            }
            _ => None,
        })
        .collect()
}

/// The answer of the transport a runtime builds for a re-offer.
fn fresh_answer() -> reactor_protocol::runtime::SdpAnswer {
    reactor_protocol::runtime::SdpAnswer { sdp_answer: "v=0 new transport".into(), connection_id: "c-1".into() }
}

/// The runtime's yes to `publish_track` request `id`.
fn granted(id: &str) -> Input<String> {
    Input::ControlResponse(ControlResponse {
        method: ControlMethod::PublishTrack,
        request_id: id.into(),
        data: Empty {},
        error: None,
    })
}

fn created_peers(actions: &[A]) -> usize {
    actions.iter().filter(|a| matches!(a, Action::CreatePeer(_))).count()
}

fn with_delays(delays: &[u32]) -> Driver {
    Driver::with(Options { reconnect: delays.to_vec(), ..options() })
}

/// From the dropped link to the new peer's offer posted: the actions of the attempt.
fn attempt(d: &mut Driver) -> Vec<A> {
    let mut all = d.input(Input::Timer(Timer::Reconnect));
    all.extend(d.input(offer_ready()));
    all
}

/// The attempt's answer applied and the new link up.
fn attempt_succeeds(d: &mut Driver) -> Vec<A> {
    let mut all = d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    all.extend(d.http(Purpose::GetAnswer, 200, Reply::Answer(fresh_answer())));
    all.extend(d.up());
    all
}

#[test]
fn a_failed_peer_is_re_made_on_the_same_connection() {
    let mut d = Driver::new();
    d.reach_ready();
    let first_peer = d.session.peer();
    let actions = d.input(Input::PeerState(PeerState::Failed));
    assert_eq!(statuses(&actions), vec![Status::Connecting]);
    assert_eq!(reconnecting(&actions), vec![(1, 0, Failure::PeerEnded(PeerState::Failed))]);
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Reconnect, ms: 0 }));
    assert!(errors(&actions).is_empty() && !actions.contains(&Action::Teardown), "{actions:#?}");
    assert!(actions.contains(&Action::CancelTimer(Timer::Ping)));

    let actions = attempt(&mut d);
    assert_eq!(created_peers(&actions), 1);
    assert_ne!(d.session.peer(), first_peer, "a new peer, a new tag");
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Step, ms: ATTEMPT_SIGNALING_MS }));
    let requests = http_requests(&actions);
    assert_eq!(requests.len(), 1, "no new registration: {actions:#?}");
    assert_eq!(requests[0].method, Method::Put);
    assert_eq!(requests[0].url, format!("{URL}/sessions/s-1/transport/webrtc/connections/c-1/sdp_params"));
    assert_eq!(requests[0].bearer.as_deref(), Some("tok-1"), "through the coordinator's proxy");

    let answered = d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    assert_eq!(http_requests(&answered)[0].purpose, Purpose::GetAnswer);
    let applied = d.http(Purpose::GetAnswer, 200, Reply::Answer(fresh_answer()));
    assert!(applied.contains(&Action::SetTimer { timer: Timer::Step, ms: ATTEMPT_CONNECT_MS }));
    assert_eq!(d.session.status(), Status::Connecting, "not ready before the link is up");

    let up = d.up();
    assert_eq!(statuses(&up), vec![Status::Ready]);
    assert_eq!(reconnected(&up), vec![(1, 0.0)]);
    assert!(up.contains(&Action::CancelTimer(Timer::Step)));
    let resume = ControlMessage::Notification(TrackNotification {
        event: TrackEvent::ResumeTrack,
        data: TrackRef { name: "main_video".into() },
    });
    assert!(up.contains(&Action::Send { channel: Channel::Control, message: Outgoing::Control(resume) }));
    assert!(!up.iter().any(|a| matches!(a, Action::Emit(Event::SchemaReceived))), "the same session, the same schema");
}

#[test]
fn disconnected_that_comes_back_within_the_grace_changes_nothing() {
    let mut d = Driver::new();
    d.reach_ready();
    let actions = d.input(Input::PeerState(PeerState::Disconnected));
    assert_eq!(actions, vec![Action::SetTimer { timer: Timer::Grace, ms: GRACE_MS }]);
    let actions = d.input(Input::PeerState(PeerState::Connected));
    assert_eq!(actions, vec![Action::CancelTimer(Timer::Grace)]);
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn disconnected_past_the_grace_is_re_made() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Disconnected));
    let actions = d.input(Input::Timer(Timer::Grace));
    assert_eq!(statuses(&actions), vec![Status::Connecting]);
    assert_eq!(reconnecting(&actions)[0].2, Failure::StayedDisconnected(GRACE_MS));
    assert_eq!(Failure::StayedDisconnected(GRACE_MS).message(), "the peer connection stayed disconnected for 2000 ms");
}

#[test]
fn a_channel_closing_on_its_own_is_re_made() {
    for channel in [Channel::Data, Channel::Control] {
        let mut d = Driver::new();
        d.reach_ready();
        let actions = d.input(Input::ChannelClosed(channel));
        assert_eq!(statuses(&actions), vec![Status::Connecting]);
        assert_eq!(reconnecting(&actions).len(), 1);
    }
}

#[test]
fn before_ready_a_drop_still_fails_the_connect() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.signal();
    let actions = d.input(Input::ChannelClosed(Channel::Data));
    assert_connect_failed(&d, &actions, ErrorCode::GpuConnectionFailed);
    assert!(reconnecting(&actions).is_empty());
}

#[test]
fn attempts_follow_the_delays_then_give_up_with_gpu_connection_error() {
    let mut d = with_delays(&[10, 20]);
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    // The machine does not answer the first attempt in time.
    let actions = d.input(Input::Timer(Timer::Step));
    assert_eq!(reconnecting(&actions), vec![(2, 20, Failure::TimedOut(Step::NewAnswer))]);
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Reconnect, ms: 20 }));
    assert!(errors(&actions).is_empty());
    // The second answers, but its link never comes up.
    attempt(&mut d);
    d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    d.http(Purpose::GetAnswer, 200, Reply::Answer(fresh_answer()));
    let actions = d.input(Input::Timer(Timer::Step));
    let errs = errors(&actions);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::GpuConnectionError);
    let last = Some(Rc::new(Failure::TimedOut(Step::NewConnection)));
    let dropped = Rc::new(Failure::PeerEnded(PeerState::Failed));
    assert_eq!(*errs[0].failure, Failure::RecoveryGaveUp { dropped, attempts: 2, last });
    assert_eq!(
        errs[0].message(),
        "the machine connection dropped (the peer connection failed) and 2 attempt(s) to re-make it failed \
         (the last: the new connection did not come up in time)"
    );
    assert!(actions.contains(&Action::Teardown));
    assert_eq!(statuses(&actions), vec![Status::Disconnected]);
    assert!(reconnecting(&actions).is_empty(), "no third attempt");
}

#[test]
fn failures_of_an_attempt_count_as_that_attempt() {
    type Failure = Box<dyn Fn(&mut Driver) -> Vec<A>>;
    let failures: Vec<Failure> = vec![
        Box::new(|d| {
            d.input(Input::Http {
                purpose: Purpose::PostOffer,
                result: HttpResult::Failed(HttpFailure::Network("TypeError: Failed to fetch".into())),
            })
        }),
        Box::new(|d| d.http(Purpose::PostOffer, 502, error_body(ErrorCode::GpuConnectionFailed, None))),
        Box::new(|d| d.http(Purpose::PostOffer, 500, Reply::Other)),
        Box::new(|d| d.input(Input::PeerFailed(PeerFailure::Answer("bad answer".into())))),
        Box::new(|d| d.input(Input::PeerState(PeerState::Failed))),
        Box::new(|d| d.input(Input::ChannelClosed(Channel::Control))),
    ];
    for fail in failures {
        let mut d = with_delays(&[0, 0]);
        d.reach_ready();
        d.input(Input::PeerState(PeerState::Failed));
        attempt(&mut d);
        let actions = fail(&mut d);
        assert_eq!(reconnecting(&actions).len(), 1, "a second attempt: {actions:#?}");
        assert!(errors(&actions).is_empty());
        assert_eq!(d.session.status(), Status::Connecting);
    }
}

#[test]
fn a_runtime_that_forgot_the_connection_gets_a_new_one_in_the_same_session() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    // The runtime's own 404 (not an error body of the coordinator's).
    let actions = d.http(Purpose::PostOffer, 404, Reply::Other);
    let requests = http_requests(&actions);
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].purpose, requests[0].method), (Purpose::RegisterConnection, Method::Post));
    let new_id = ConnectionId { connection_id: "c-2".into() };
    let actions = d.http(Purpose::RegisterConnection, 201, Reply::Connection(new_id));
    let requests = http_requests(&actions);
    assert_eq!((requests[0].purpose, requests[0].method), (Purpose::PostOffer, Method::Post));
    assert!(requests[0].url.ends_with("/connections/c-2/sdp_params"), "{}", requests[0].url);
    assert!(matches!(&requests[0].body, Body::Offer(offer) if offer.sdp_offer == "v=0 offer"));
    let up = attempt_succeeds(&mut d);
    assert_eq!(reconnected(&up).len(), 1);
}

#[test]
fn a_replaced_peer_and_its_signaling_cannot_reach_the_new_one() {
    let mut d = Driver::new();
    d.reach_ready();
    let old = d.session.peer();
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    let generation = d.session.generation();
    // The old peer comes back, and a late answer of its own arrives.
    for input in [
        Input::PeerState(PeerState::Connected),
        Input::ChannelOpen(Channel::Data),
        Input::ChannelOpen(Channel::Control),
        Input::Http {
            purpose: Purpose::GetAnswer,
            result: HttpResult::Answered { status: 200, reply: Reply::Answer(fresh_answer()) },
        },
        Input::ChannelClosed(Channel::Data),
    ] {
        d.session.handle_peer(NOW, generation, old, input);
        assert!(d.drain().is_empty());
    }
    assert_eq!(d.session.status(), Status::Connecting);
    // The new one's count.
    let new = d.session.peer();
    d.session.handle_peer(
        NOW,
        generation,
        new,
        Input::Http { purpose: Purpose::PostOffer, result: HttpResult::Answered { status: 202, reply: Reply::Other } },
    );
    assert_eq!(http_requests(&d.drain())[0].purpose, Purpose::GetAnswer);
    let up = attempt_succeeds(&mut d);
    assert_eq!(reconnected(&up).len(), 1);
}

#[test]
fn downtime_is_measured_from_the_drop() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    let g = d.session.generation();
    d.session.handle(NOW + 100.0, g, Input::Timer(Timer::Reconnect));
    d.input(offer_ready());
    d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    d.http(Purpose::GetAnswer, 200, Reply::Answer(fresh_answer()));
    d.input(Input::PeerState(PeerState::Connected));
    d.input(Input::ChannelOpen(Channel::Data));
    d.session.handle(NOW + 750.0, g, Input::ChannelOpen(Channel::Control));
    assert_eq!(reconnected(&d.drain()), vec![(1, 750.0)]);
}

#[test]
fn messages_during_recovery_are_refused_as_for_any_status_but_ready() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    let err = d.session.send_message(NOW, "{}".into(), 2, 0).failed();
    assert_eq!(err.code, ErrorCode::MessageSendFailed);
    assert_eq!(*err.failure, Failure::NotReady { call: "sendMessage", status: Status::Connecting });
}

#[test]
fn development_mode_holds_messages_until_the_link_is_back() {
    let mut d = Driver::with(Options { development: true, ..options() });
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    let promise = pending(d.session.send_message(NOW, "held".into(), 4, 0));
    assert!(application_sends(&d.drain()).is_empty());
    attempt(&mut d);
    let up = attempt_succeeds(&mut d);
    assert_eq!(application_sends(&up), vec![("held".to_string(), promise)]);
}

#[test]
fn a_published_camera_is_published_again_on_the_new_connection() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    let actions = d.input(granted("publish-1"));
    assert!(actions.contains(&Action::Settle { promise, result: Ok(()) }));
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    let up = attempt_succeeds(&mut d);
    let controls: Vec<&ControlMessage> = up
        .iter()
        .filter_map(|a| match a {
            Action::Send { channel: Channel::Control, message: Outgoing::Control(m) } => Some(m),
            _ => None,
        })
        .collect();
    let webcam = TrackRef { name: "webcam".into() };
    let unpublish =
        ControlMessage::Notification(TrackNotification { event: TrackEvent::UnpublishTrack, data: webcam.clone() });
    let publish = ControlMessage::Request(ControlRequest {
        method: ControlMethod::PublishTrack,
        request_id: "publish-2".into(),
        data: webcam,
    });
    assert_eq!(controls[1..], [&unpublish, &publish], "after resume_track: {controls:#?}");
    // The answer settles nothing anyone waits for, and leaves it published.
    let actions = d.input(granted("publish-2"));
    assert!(errors(&actions).is_empty() && settled(&actions).is_empty());
}

#[test]
fn a_publish_in_flight_when_the_link_dropped_is_answered_after_it() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    let dropped = d.input(Input::PeerState(PeerState::Failed));
    assert!(settled(&dropped).is_empty(), "still waiting");
    assert!(dropped.contains(&Action::CancelTimer(Timer::Publish)));
    attempt(&mut d);
    attempt_succeeds(&mut d);
    let actions = d.input(granted("publish-2"));
    assert!(actions.contains(&Action::Settle { promise, result: Ok(()) }));
}

#[test]
fn disconnect_during_recovery_stops_it() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    assert_eq!(d.session.disconnect(NOW), Outcome::Done);
    let actions = d.drain();
    assert!(actions.contains(&Action::Teardown));
    assert!(errors(&actions).is_empty(), "the caller's own doing");
    assert!(d.input(Input::Timer(Timer::Reconnect)).is_empty());
    assert_eq!(d.session.status(), Status::Disconnected);
}

#[test]
fn a_recovered_session_recovers_again_with_a_fresh_policy() {
    let mut d = with_delays(&[0]);
    d.reach_ready();
    for _ in 0..3 {
        let actions = d.input(Input::PeerState(PeerState::Failed));
        assert_eq!(reconnecting(&actions)[0].0, 1, "attempts count from 1 again");
        attempt(&mut d);
        attempt_succeeds(&mut d);
        assert_eq!(d.session.status(), Status::Ready);
    }
}

#[test]
fn the_new_video_track_is_announced() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::RemoteTrack("video-1".into()));
    let dropped = d.input(Input::PeerState(PeerState::Failed));
    assert!(
        !dropped.iter().any(|a| matches!(a, Action::Emit(Event::StreamChanged(_)))),
        "the frozen picture stays until the new one"
    );
    attempt(&mut d);
    attempt_succeeds(&mut d);
    let actions = d.input(Input::RemoteTrack("video-2".into()));
    assert!(actions.contains(&Action::Emit(Event::StreamChanged(Some("video-2".into())))));
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Stats, ms: 1000 }), "fps measured again");
}

#[test]
fn without_a_policy_disconnected_sets_no_grace_and_a_drop_ends_the_session() {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    assert!(d.input(Input::PeerState(PeerState::Disconnected)).is_empty());
    let actions = d.input(Input::ChannelClosed(Channel::Data));
    assert!(reconnecting(&actions).is_empty());
    assert_eq!(errors(&actions)[0].code, ErrorCode::GpuConnectionError);
    assert!(actions.contains(&Action::Teardown));
}

#[test]
fn the_replaced_connection_s_answer_is_not_taken_for_the_new_one() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    // The runtime still serves the old answer while it builds the new transport.
    let actions = d.http(Purpose::GetAnswer, 200, Reply::Answer(answer()));
    assert_eq!(actions, vec![Action::SetTimer { timer: Timer::AnswerPoll, ms: ANSWER_POLL_FIRST_MS }]);
    let actions = d.http(Purpose::GetAnswer, 200, Reply::Answer(fresh_answer()));
    assert!(actions.contains(&Action::SetRemoteAnswer("v=0 new transport".into())));
}

#[test]
fn messages_waiting_for_the_channel_go_out_on_the_new_one() {
    let mut d = Driver::new();
    d.reach_ready();
    // The channel is backed up: these wait in the SDK, never handed to it.
    let promise = pending(d.session.send_message(NOW, "waiting".into(), 7, SEND_BUFFER_HIGH));
    assert!(application_sends(&d.drain()).is_empty());
    d.input(Input::PeerState(PeerState::Failed));
    attempt(&mut d);
    let up = attempt_succeeds(&mut d);
    assert_eq!(application_sends(&up), vec![("waiting".to_string(), promise)]);
}

#[test]
fn a_get_stats_the_replaced_peer_was_reading_still_settles() {
    let mut d = Driver::new();
    d.reach_ready();
    let old_peer = d.session.peer();
    let promise = pending(d.session.get_stats());
    d.drain();
    d.input(Input::PeerState(PeerState::Failed));
    // The old peer's reading comes back after it was replaced.
    d.session.handle_peer(NOW, d.session.generation(), old_peer, Input::Stats { sample: None, promise: Some(promise) });
    let actions = d.drain();
    assert!(
        actions.iter().any(|a| matches!(a, Action::StatsReady { promise: p, report: None } if *p == promise)),
        "{actions:?}"
    );
}
