//! Development mode: sends and publishes before `ready` are held and
//! delivered in order once ready.

use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

fn dev() -> Driver {
    Driver::with(Options { development: true, ..options() })
}

fn app_sends(actions: &[A]) -> Vec<String> {
    application_sends(actions).into_iter().map(|(envelope, _)| envelope).collect()
}

#[test]
fn held_messages_go_out_in_order_at_ready() {
    let mut d = dev();
    let first = d.session.send_message(NOW, "one".into(), 3, 0);
    d.connect();
    let second = d.session.send_message(NOW, "two".into(), 3, 0);
    assert!(matches!((&first, &second), (Outcome::Pending(_), Outcome::Pending(_))));
    assert!(app_sends(&d.drain()).is_empty(), "nothing sent before ready");
    let mut actions = d.token();
    actions.extend(d.input(Input::SocketOpen));
    actions.extend(d.assigned());
    actions.extend(d.signal());
    actions.extend(d.up());
    // One at a time: each goes out once the channel answered for the one before.
    assert_eq!(app_sends(&actions), vec!["one".to_string()]);
    let (Outcome::Pending(a), Outcome::Pending(b)) = (first, second) else { unreachable!() };
    let ready_at = actions.iter().position(|x| *x == Action::Emit(Event::StatusChanged(Status::Ready))).unwrap();
    let first_send =
        actions.iter().position(|x| matches!(x, Action::Send { message: Outgoing::Application { .. }, .. })).unwrap();
    assert!(ready_at < first_send, "delivered once ready");
    assert_eq!(application_sends(&actions)[0].1, a, "each send carries its own promise");
    let settles_a_or_b = |x: &A| matches!(x, Action::Settle { promise, .. } if *promise == a || *promise == b);
    assert!(!actions.iter().any(settles_a_or_b), "settled by the browser's answer, not before");
    d.session.sent(NOW, a, Ok(0));
    let next = d.drain();
    assert_eq!(next[0], Action::Settle { promise: a, result: Ok(()) });
    assert_eq!(application_sends(&next), vec![("two".to_string(), b)]);
    d.session.sent(NOW, b, Ok(0));
    assert_eq!(d.drain(), vec![Action::Settle { promise: b, result: Ok(()) }]);
}

#[test]
fn a_held_message_the_browser_refuses_at_ready_rejects() {
    let mut d = dev();
    let promise = pending(d.session.send_message(NOW, "m".into(), 1, 0));
    let actions = d.reach_ready();
    assert_eq!(application_sends(&actions), vec![("m".to_string(), promise)]);
    d.session.sent(NOW, promise, Err("InvalidStateError".into()));
    let actions = d.drain();
    assert!(matches!(&settled(&actions)[..], [Err(e)] if e.code == ErrorCode::MessageSendFailed));
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn held_messages_reject_with_the_failure_that_ended_the_attempt() {
    let mut d = dev();
    d.connect();
    let Outcome::Pending(promise) = d.session.send_message(NOW, "m".into(), 1, 0) else { panic!() };
    let actions = d.http(Purpose::Token, 500, Reply::Other);
    let err = errors(&actions)[0].clone();
    assert!(actions.contains(&Action::Settle { promise, result: Err(err) }));
    assert_eq!(errors(&actions).len(), 1, "one error event, not one per message");
}

#[test]
fn disconnect_drops_what_is_held() {
    let mut d = dev();
    let Outcome::Pending(promise) = d.session.send_message(NOW, "m".into(), 1, 0) else { panic!() };
    let Outcome::Pending(video) = d.session.publish(NOW, Some("cam".into())) else { panic!() };
    d.session.disconnect(NOW);
    let actions = d.drain();
    for p in [promise, video] {
        assert!(actions.iter().any(|a| matches!(a, Action::Settle { promise: x, result: Err(e) } if *x == p && e.code == ErrorCode::ConnectionAborted)));
    }
    d.reach_ready();
    assert!(app_sends(&d.drain()).is_empty());
}

#[test]
fn a_held_message_too_large_for_the_channel_is_refused_at_ready() {
    let mut d = dev();
    let Outcome::Pending(promise) = d.session.send_message(NOW, "huge".into(), 10_000_000, 0) else { panic!() };
    let actions = d.reach_ready();
    assert!(actions.iter().any(|a| matches!(a, Action::Settle { promise: p, result: Err(e) } if *p == promise && e.code == ErrorCode::MessageTooLarge)));
    assert!(app_sends(&actions).is_empty());
    assert_eq!(d.session.status(), Status::Ready);
}

#[test]
fn a_held_publish_goes_out_at_ready_and_the_latest_track_wins() {
    let mut d = dev();
    d.connect();
    let Outcome::Pending(first) = d.session.publish(NOW, Some("cam-1".into())) else { panic!() };
    let Outcome::Pending(second) = d.session.publish(NOW, Some("cam-2".into())) else { panic!() };
    assert!(d.drain().contains(&Action::Settle { promise: first, result: Ok(()) }), "superseded");
    let mut actions = d.token();
    actions.extend(d.input(Input::SocketOpen));
    actions.extend(d.assigned());
    actions.extend(d.signal());
    actions.extend(d.up());
    assert!(actions.contains(&Action::ReplaceTrack(Some("cam-2".into()))));
    assert!(!actions.contains(&Action::ReplaceTrack(Some("cam-1".into()))));
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Settle { promise, .. } if *promise == second)),
        "waits for the runtime"
    );
}

#[test]
fn outside_development_mode_nothing_is_held() {
    let mut d = Driver::new();
    d.connect();
    assert_eq!(d.session.send_message(NOW, "m".into(), 1, 0).failed().code, ErrorCode::MessageSendFailed);
    assert_eq!(d.session.publish(NOW, Some("cam".into())).failed().code, ErrorCode::PublishFailed);
}
