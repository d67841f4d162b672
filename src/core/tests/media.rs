//! Publishing the camera and measuring the model's video.

use reactor_protocol::coordinator::{Assigned, ServerFrame};
use reactor_protocol::runtime::{
    ControlError, ControlMessage, ControlMethod, ControlRequest, ControlResponse, Empty, TrackEvent, TrackNotification,
    TrackRef,
};
use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

fn publish_request(actions: &[A]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::Send {
            channel: Channel::Control,
            message: Outgoing::Control(ControlMessage::Request(ControlRequest { request_id, data, .. })),
        } => {
            assert_eq!(data.name, "webcam", "the model's input track");
            Some(request_id.clone())
        }
        _ => None,
    })
}

fn response(request_id: &str, error: Option<ControlError>) -> Input<String> {
    Input::ControlResponse(ControlResponse {
        method: ControlMethod::PublishTrack,
        request_id: request_id.into(),
        data: Empty {},
        error,
    })
}

#[test]
fn publish_replaces_the_track_then_asks_for_the_slot() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    let actions = d.drain();
    assert_eq!(actions[0], Action::ReplaceTrack(Some("cam".into())), "no renegotiation: replaceTrack");
    let id = publish_request(&actions).expect("publish_track requested");
    assert!(actions.contains(&Action::SetTimer { timer: Timer::Publish, ms: 10_000 }));
    let answered = d.input(response(&id, None));
    assert!(answered.contains(&Action::Settle { promise, result: Ok(()) }));
    // Publishing again only swaps the track.
    assert_eq!(d.session.publish(NOW, Some("screen".into())), Outcome::Done);
    assert_eq!(d.drain(), vec![Action::ReplaceTrack(Some("screen".into()))]);
}

#[test]
fn a_refused_publish_rejects_and_stops_sending() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    let id = publish_request(&d.drain()).unwrap();
    let refusal = ControlError { code: "PUBLISHER_SLOT_TAKEN".into(), message: "someone else".into() };
    let actions = d.input(response(&id, Some(refusal)));
    assert!(actions.contains(&Action::ReplaceTrack(None)));
    let err = errors(&actions)[0].clone();
    assert_eq!(err.code, ErrorCode::PublishFailed);
    assert_eq!(err.message(), "the machine refused the video: PUBLISHER_SLOT_TAKEN someone else");
    assert!(actions.contains(&Action::Settle { promise, result: Err(err) }));
    assert_eq!(d.session.status(), Status::Ready, "the session carries on");
}

#[test]
fn a_refusal_without_a_message_reads_cleanly() {
    let mut d = Driver::new();
    d.reach_ready();
    pending(d.session.publish(NOW, Some("cam".into())));
    let id = publish_request(&d.drain()).unwrap();
    let refusal = ControlError { code: "NO_SLOT".into(), message: String::new() };
    let actions = d.input(response(&id, Some(refusal)));
    assert_eq!(errors(&actions)[0].message(), "the machine refused the video: NO_SLOT");
}

#[test]
fn a_publish_without_answer_times_out() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    let actions = d.input(Input::Timer(Timer::Publish));
    assert!(matches!(&settled(&actions)[..], [Err(e)] if e.code == ErrorCode::PublishFailed));
    assert!(actions.iter().any(|a| matches!(a, Action::Settle { promise: p, .. } if *p == promise)));
    assert!(actions.contains(&Action::ReplaceTrack(None)));
}

#[test]
fn answers_to_other_requests_are_ignored() {
    let mut d = Driver::new();
    d.reach_ready();
    pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    assert!(d.input(response("someone-else", None)).is_empty());
}

#[test]
fn publish_needs_a_video_track_and_ready() {
    let mut d = Driver::new();
    let err = d.session.publish(NOW, None).failed();
    assert_eq!(err.code, ErrorCode::InvalidStream);
    assert!(!err.recoverable());
    let err = d.session.publish(NOW, Some("cam".into())).failed();
    assert_eq!(err.code, ErrorCode::PublishFailed);
    assert_eq!(*err.failure, Failure::NotReady { call: "publishVideoStream", status: Status::Disconnected });
    assert!(!d.drain().iter().any(|a| matches!(a, Action::ReplaceTrack(_) | Action::Send { .. })));
}

#[test]
fn a_model_without_input_refuses_publish() {
    let mut caps = echo_capabilities();
    caps.tracks.retain(|t| t.name == "main_video");
    // A fresh session whose model only outputs video.
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    d.frame(ServerFrame::Assigned(Assigned {
        session_id: "s".into(),
        model: reactor_protocol::coordinator::ModelInfo { name: "generator".into() },
        capabilities: caps,
        ice_servers: vec![],
        resume: None,
        schema: None,
    }));
    d.http(Purpose::RegisterConnection, 201, Reply::Connection(conn()));
    d.input(Input::OfferReady { sdp: "v=0".into(), mids: vec![Some("0".into())] });
    d.http(Purpose::PostOffer, 202, Reply::Other);
    d.http(Purpose::GetAnswer, 200, Reply::Answer(answer()));
    d.up();
    assert_eq!(d.session.status(), Status::Ready);
    let err = d.session.publish(NOW, Some("cam".into())).failed();
    assert_eq!(*err.failure, Failure::NoVideoInput { model: "echo".into() });
    assert_eq!(err.message(), "the model echo takes no video input");
}

#[test]
fn unpublish_stops_sending_and_tells_the_runtime() {
    let mut d = Driver::new();
    d.reach_ready();
    d.session.unpublish(NOW);
    assert!(d.drain().is_empty(), "nothing published: a no-op");
    pending(d.session.publish(NOW, Some("cam".into())));
    let id = publish_request(&d.drain()).unwrap();
    d.input(response(&id, None));
    d.session.unpublish(NOW);
    let actions = d.drain();
    assert!(actions.contains(&Action::ReplaceTrack(None)));
    let notice = ControlMessage::Notification(TrackNotification {
        event: TrackEvent::UnpublishTrack,
        data: TrackRef { name: "webcam".into() },
    });
    assert!(actions.contains(&Action::Send { channel: Channel::Control, message: Outgoing::Control(notice) }));
    // Publishing again asks for the slot again.
    pending(d.session.publish(NOW, Some("cam".into())));
    assert!(publish_request(&d.drain()).is_some());
}

#[test]
fn unpublish_while_the_answer_is_pending_rejects_the_publish() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    d.session.unpublish(NOW);
    let actions = d.drain();
    assert!(matches!(actions.iter().find_map(|a| match a {
        Action::Settle { promise: p, result } if *p == promise => Some(result.clone()),
        _ => None,
    }), Some(Err(e)) if e.code == ErrorCode::PublishFailed));
}

#[test]
fn a_pending_publish_rejects_with_the_error_that_ended_the_connection() {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    let promise = pending(d.session.publish(NOW, Some("cam".into())));
    d.drain();
    let actions = d.input(Input::PeerState(PeerState::Failed));
    let err = errors(&actions)[0].clone();
    assert!(actions.contains(&Action::Settle { promise, result: Err(err) }));
}
