//! The normal path and everything the user can do along it.

use reactor_protocol::coordinator::{ClientFrame, Queued, ServerFrame};
use reactor_protocol::runtime::{
    ControlMessage, RuntimeMessage, TrackDirection, TrackEvent, TrackNotification, TrackRef,
};
use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

#[test]
fn connect_asks_for_a_token_with_the_key_in_a_header() {
    let mut d = Driver::new();
    let actions = d.connect();
    assert_eq!(statuses(&actions), vec![Status::Connecting]);
    let requests = http_requests(&actions);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].purpose, Purpose::Token);
    assert_eq!(requests[0].method, Method::Post);
    assert_eq!(requests[0].url, format!("{URL}/tokens"));
    assert_eq!(requests[0].api_key.as_deref(), Some("key-1"));
    assert!(!requests[0].url.contains("key-1"), "the key never goes in a URL");
}

#[test]
fn token_opens_the_socket_and_open_sends_hello_and_waits() {
    let mut d = Driver::new();
    d.connect();
    let actions = d.token();
    assert!(actions.contains(&Action::OpenSocket { url: "ws://coord.test/ws".into() }));
    assert_eq!(d.session.status(), Status::Connecting);
    let actions = d.input(Input::SocketOpen);
    let hello = ClientFrame::Hello { token: "tok-1".into(), model: "echo".into(), queueing: true };
    assert!(actions.contains(&Action::SendFrame(hello)));
    assert_eq!(statuses(&actions), vec![Status::Waiting]);
    assert_eq!(d.session.waiting_info(), Some(WaitingInfo { position: None, estimated_wait: None }));
}

#[test]
fn https_coordinator_uses_wss() {
    assert_eq!(ws_url("https://example.test"), "wss://example.test/ws");
    assert_eq!(ws_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
}

#[test]
fn queue_positions_are_announced_once_per_change() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    let first = d.frame(ServerFrame::Queued(Queued { position: 3, estimated_wait: Some(12.0), resume: None }));
    assert!(first.contains(&Action::CancelTimer(Timer::Step)), "no deadline while queued");
    let info = WaitingInfo { position: Some(3), estimated_wait: Some(12.0) };
    assert!(first.contains(&Action::Emit(Event::WaitingInfoChanged(info))));
    assert_eq!(d.session.waiting_info(), Some(info));
    let same = d.frame(ServerFrame::Queued(Queued { position: 3, estimated_wait: Some(12.0), resume: None }));
    assert!(same.is_empty(), "no event without a change: {same:?}");
    let next = d.frame(ServerFrame::Queued(Queued { position: 1, estimated_wait: None, resume: None }));
    let info = WaitingInfo { position: Some(1), estimated_wait: None };
    assert_eq!(next, vec![Action::Emit(Event::WaitingInfoChanged(info))]);
    assert_eq!(d.session.status(), Status::Waiting);
}

#[test]
fn assignment_plans_inputs_before_outputs_and_registers_through_the_proxy() {
    let mut d = Driver::new();
    let actions = d.reach_assigned();
    let plan = actions.iter().find_map(|a| match a {
        Action::CreatePeer(plan) => Some(plan.clone()),
        _ => None,
    });
    let plan = plan.expect("a peer is created");
    assert_eq!(plan.send, vec!["webcam".to_string()]);
    assert_eq!(plan.receive, vec!["main_video".to_string()]);
    assert_eq!(plan.ice_servers[0].urls, vec!["stun:127.0.0.1:3478".to_string()]);
    let requests = http_requests(&actions);
    let register = requests.last().unwrap();
    assert_eq!(register.purpose, Purpose::RegisterConnection);
    assert_eq!(register.url, format!("{URL}/sessions/s-1/transport/webrtc/connections"));
    assert_eq!(register.bearer.as_deref(), Some("tok-1"));
    assert_eq!(d.session.status(), Status::Waiting);
}

#[test]
fn the_offer_waits_for_the_connection_id_and_maps_mids_to_tracks() {
    let mut d = Driver::new();
    d.reach_assigned();
    assert!(http_requests(&d.input(offer_ready())).is_empty(), "no connection id yet");
    let actions = d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    let post = http_requests(&actions);
    assert_eq!(post.len(), 1);
    assert_eq!(post[0].url, format!("{URL}/sessions/s-1/transport/webrtc/connections/c-1/sdp_params"));
    let Body::Offer(offer) = &post[0].body else { panic!("an offer body") };
    assert_eq!(offer.sdp_offer, "v=0 offer");
    let mapping: Vec<_> = offer.track_mapping.iter().map(|m| (m.mid.as_str(), m.name.as_str(), m.direction)).collect();
    assert_eq!(mapping, vec![("0", "webcam", TrackDirection::Sendonly), ("1", "main_video", TrackDirection::Recvonly)]);
}

#[test]
fn the_offer_goes_out_when_the_connection_id_comes_first_too() {
    let mut d = Driver::new();
    d.reach_assigned();
    assert!(http_requests(&d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()))).is_empty());
    let post = d.input(offer_ready());
    assert_eq!(http_requests(&post)[0].purpose, Purpose::PostOffer);
}

#[test]
fn the_answer_is_polled_until_it_is_ready() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    d.input(offer_ready());
    let actions = d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    assert_eq!(http_requests(&actions)[0].purpose, Purpose::GetAnswer);
    assert_eq!(http_requests(&actions)[0].method, Method::Get);
    // Soon at first, then less often: 10, 20, 40, 80, then every 100 ms.
    let mut waits = Vec::new();
    for _ in 0..6 {
        match d.http(Purpose::GetAnswer, 202, Reply::Other).as_slice() {
            [Action::SetTimer { timer: Timer::AnswerPoll, ms }] => waits.push(*ms),
            other => panic!("{other:?}"),
        }
        let again = d.input(Input::Timer(Timer::AnswerPoll));
        assert_eq!(http_requests(&again)[0].purpose, Purpose::GetAnswer);
    }
    assert_eq!(waits, [ANSWER_POLL_FIRST_MS, 20, 40, 80, ANSWER_POLL_MS, ANSWER_POLL_MS]);
    let done = d.http(Purpose::GetAnswer, 200, Reply::Answer(answer()));
    assert!(done.contains(&Action::SetRemoteAnswer("v=0 answer".into())));
}

#[test]
fn candidates_wait_for_the_offer_then_trickle() {
    let mut d = Driver::new();
    d.reach_assigned();
    let candidate = |n: &str| reactor_protocol::runtime::IceCandidate {
        candidate: format!("candidate:{n}"),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    };
    assert!(d.input(Input::LocalCandidate(Some(candidate("a")))).is_empty());
    d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    d.input(offer_ready());
    assert!(d.input(Input::LocalCandidate(Some(candidate("b")))).is_empty(), "offer not accepted yet");
    let actions = d.http(Purpose::PostOffer, 202, Reply::Connection(conn()));
    let requests = http_requests(&actions);
    let Body::Candidates(batch) = &requests[1].body else { panic!("candidates posted: {actions:?}") };
    assert_eq!(requests[1].url, format!("{URL}/sessions/s-1/transport/webrtc/connections/c-1/ice_candidates"));
    assert_eq!(batch.candidates.len(), 2);
    assert!(!batch.is_final);
    let later = d.input(Input::LocalCandidate(Some(candidate("c"))));
    let Body::Candidates(one) = &http_requests(&later)[0].body else { panic!() };
    assert_eq!(one.candidates, vec![candidate("c")]);
    let end = d.input(Input::LocalCandidate(None));
    let Body::Candidates(last) = &http_requests(&end)[0].body else { panic!() };
    assert!(last.is_final && last.candidates.is_empty());
}

#[test]
fn ready_needs_peer_and_both_channels_and_resumes_outputs() {
    let mut d = Driver::new();
    d.reach_assigned();
    d.signal();
    assert!(statuses(&d.input(Input::PeerState(PeerState::Connected))).is_empty());
    assert!(statuses(&d.input(Input::ChannelOpen(Channel::Data))).is_empty());
    let actions = d.input(Input::ChannelOpen(Channel::Control));
    let resume = ControlMessage::Notification(TrackNotification {
        event: TrackEvent::ResumeTrack,
        data: TrackRef { name: "main_video".into() },
    });
    assert!(actions.contains(&Action::Send { channel: Channel::Control, message: Outgoing::Control(resume) }));
    assert_eq!(statuses(&actions), vec![Status::Ready]);
    assert_eq!(settled(&actions), vec![&Ok(())]);
    assert!(
        actions.contains(&Action::Send { channel: Channel::Data, message: Outgoing::Runtime(RuntimeMessage::Ping) })
    );
    assert_eq!(d.session.waiting_info(), None, "not waiting any more");
}

#[test]
fn the_whole_path_announces_each_status_once() {
    let mut d = Driver::new();
    let mut actions = d.reach_ready();
    actions.extend(d.input(Input::PeerState(PeerState::Connected)));
    assert_eq!(statuses(&actions), vec![Status::Connecting, Status::Waiting, Status::Ready]);
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert_eq!(statuses(&actions), vec![Status::Disconnected]);
    assert_eq!(actions.first(), Some(&Action::SendFrame(ClientFrame::Leave)), "leave first");
    assert!(actions.contains(&Action::Teardown));
    assert!(settled(&actions).is_empty(), "connect() had already resolved");
    assert!(errors(&actions).is_empty());
}

#[test]
fn ping_repeats_while_ready() {
    let mut d = Driver::new();
    d.reach_ready();
    let actions = d.input(Input::Timer(Timer::Ping));
    assert_eq!(
        actions,
        vec![
            Action::Send { channel: Channel::Data, message: Outgoing::Runtime(RuntimeMessage::Ping) },
            Action::SetTimer { timer: Timer::Ping, ms: reactor_protocol::runtime::PING_INTERVAL_MS },
        ]
    );
}

#[test]
fn connect_while_connecting_or_ready_is_refused_without_side_effects() {
    let mut d = Driver::new();
    d.connect();
    let err = d.session.connect(NOW).failed();
    assert_eq!(err.code, ErrorCode::AlreadyConnected);
    assert!(d.drain().is_empty());
    d.token();
    d.input(Input::SocketOpen);
    d.session.connect(NOW).failed();
    assert_eq!(d.session.status(), Status::Waiting);
    let mut d = Driver::new();
    d.reach_ready();
    d.session.connect(NOW).failed();
    assert!(d.drain().is_empty());
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn disconnect_while_waiting_leaves_the_queue_and_aborts_connect() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(ServerFrame::Queued(Queued { position: 2, estimated_wait: None, resume: None }));
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert!(actions.contains(&Action::SendFrame(ClientFrame::Leave)));
    assert!(actions.contains(&Action::Teardown));
    let settled = settled(&actions);
    assert!(matches!(settled[0], Err(e) if e.code == ErrorCode::ConnectionAborted));
    assert_eq!(settled.len(), 1);
    assert!(errors(&actions).is_empty(), "the user's own disconnect is no error event");
    assert_eq!(d.session.last_error(), None);
    assert_eq!(d.session.waiting_info(), None);
}

#[test]
fn disconnect_before_the_socket_opened_sends_no_leave() {
    let mut d = Driver::new();
    d.connect();
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert!(!actions.iter().any(|a| matches!(a, Action::SendFrame(_))));
    assert!(actions.contains(&Action::Teardown));
}

#[test]
fn disconnect_is_safe_any_number_of_times() {
    let mut d = Driver::new();
    d.session.disconnect(NOW);
    assert!(d.drain().is_empty());
    d.reach_ready();
    d.session.disconnect(NOW);
    d.drain();
    d.session.disconnect(NOW);
    assert!(d.drain().is_empty());
    assert_eq!(d.session.status(), Status::Disconnected);
}

#[test]
fn inputs_of_a_torn_down_connection_never_reach_the_next() {
    let mut d = Driver::new();
    d.connect();
    let old = d.session.generation();
    d.session.disconnect(NOW);
    d.connect();
    let token = reactor_protocol::coordinator::TokenResponse { token: "old".into(), expires_in: 1 };
    let stale = Input::Http {
        purpose: Purpose::Token,
        result: HttpResult::Answered { status: 200, reply: Reply::Token(token) },
    };
    d.session.handle(NOW, old, stale);
    assert!(d.drain().is_empty());
    d.session.handle(NOW, old, Input::SocketClosed { code: 1006, reason: String::new() });
    assert!(d.drain().is_empty());
    assert_eq!(d.session.status(), Status::Connecting);
}

#[test]
fn reconnect_after_disconnect_walks_the_same_path() {
    let mut d = Driver::new();
    d.reach_ready();
    d.session.disconnect(NOW);
    d.drain();
    let actions = d.reach_ready();
    assert_eq!(statuses(&actions), vec![Status::Connecting, Status::Waiting, Status::Ready]);
}

#[test]
fn the_model_video_is_shown_and_withdrawn_on_teardown() {
    let mut d = Driver::new();
    d.reach_ready();
    let actions = d.input(Input::RemoteTrack("track-1".into()));
    assert_eq!(actions[0], Action::Emit(Event::StreamChanged(Some("track-1".into()))));
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert!(actions.contains(&Action::Emit(Event::StreamChanged(None))));
    d.reach_ready();
    d.session.disconnect(NOW);
    assert!(!d.drain().contains(&Action::Emit(Event::StreamChanged(None))), "no stream was shown this time");
}
