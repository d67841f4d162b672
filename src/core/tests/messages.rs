//! Messages both ways.

use reactor_protocol::runtime::Scope;
use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

#[test]
fn send_when_ready_goes_on_the_data_channel_and_settles_when_the_browser_took_it() {
    let mut d = Driver::new();
    d.reach_ready();
    let envelope = "{\"scope\":\"application\"}".to_string();
    let promise = pending(d.session.send_message(NOW, envelope.clone(), 24, 0));
    let message = Outgoing::Application { envelope, promise };
    assert_eq!(d.drain(), vec![Action::Send { channel: Channel::Data, message }], "not settled before the answer");
    d.session.sent(NOW, promise, Ok(0));
    assert_eq!(d.drain(), vec![Action::Settle { promise, result: Ok(()) }]);
}

#[test]
fn send_before_ready_is_refused_and_reported() {
    let mut d = Driver::new();
    let err = d.session.send_message(NOW, "m".into(), 1, 0).failed();
    assert_eq!(err.code, ErrorCode::MessageSendFailed);
    assert_eq!(*err.failure, Failure::NotReady { call: "sendMessage", status: Status::Disconnected });
    assert_eq!(err.message(), "sendMessage() needs status ready, but it is disconnected");
    let actions = d.drain();
    assert_eq!(actions, vec![Action::Emit(Event::Error(err.clone()))]);
    assert_eq!(d.session.last_error(), Some(&err));
    d.connect();
    d.session.send_message(NOW, "m".into(), 1, 0).failed();
    assert_eq!(d.session.status(), Status::Connecting, "a refused send changes nothing else");
}

#[test]
fn too_large_is_refused_and_the_connection_stays() {
    let mut d = Driver::new();
    d.reach_ready();
    d.input(Input::MaxMessageSize(1000));
    let err = d.session.send_message(NOW, "big".into(), 1001, 0).failed();
    assert_eq!(err.code, ErrorCode::MessageTooLarge);
    assert_eq!(*err.failure, Failure::TooLarge { bytes: 1001, max: 1000 });
    let actions = d.drain();
    assert!(!actions.iter().any(|a| matches!(a, Action::Send { .. } | Action::Teardown)));
    assert_eq!(d.session.status(), Status::Ready);
    pending(d.session.send_message(NOW, "fits".into(), 1000, 0));
    assert_eq!(application_sends(&d.drain()).len(), 1);
}

#[test]
fn application_messages_surface_and_runtime_ones_do_not() {
    let mut d = Driver::new();
    d.reach_ready();
    let app = d.input(Input::DataMessage { scope: Some(Scope::Application), data: "hi".into() });
    assert_eq!(app, vec![Action::Emit(Event::NewMessage("hi".into()))]);
    assert!(d.input(Input::DataMessage { scope: Some(Scope::Runtime), data: "stats".into() }).is_empty());
    assert!(d.input(Input::DataMessage { scope: None, data: "junk".into() }).is_empty());
}

#[test]
fn a_message_that_is_not_json_is_reported_and_nothing_sent() {
    let mut d = Driver::new();
    d.reach_ready();
    let err = d.session.invalid_message(NOW, "cyclic object value".into());
    assert_eq!(err.code, ErrorCode::InvalidMessage);
    assert_eq!(*err.failure, Failure::NotJson("cyclic object value".into()));
    assert_eq!(err.message(), "the message cannot be sent as JSON (cyclic object value); nothing was sent");
    assert_eq!(d.drain(), vec![Action::Emit(Event::Error(err.clone()))]);
    assert_eq!(d.session.status(), Status::Ready);
    assert_eq!(d.session.last_error(), Some(&err));
}

#[test]
fn a_send_the_browser_refuses_is_reported_and_rejects() {
    let mut d = Driver::new();
    d.reach_ready();
    let promise = pending(d.session.send_message(NOW, "m".into(), 1, 0));
    d.drain();
    d.session.sent(NOW, promise, Err("InvalidStateError".into()));
    let actions = d.drain();
    let err = errors(&actions)[0].clone();
    assert_eq!(err.code, ErrorCode::MessageSendFailed);
    assert_eq!(*err.failure, Failure::ChannelRefused("InvalidStateError".into()));
    assert_eq!(
        actions,
        vec![Action::Emit(Event::Error(err.clone())), Action::Settle { promise, result: Err(err.clone()) }]
    );
    assert_eq!(d.session.last_error(), Some(&err));
    assert_eq!(d.session.status(), Status::Ready, "the channel's own close event ends the session, if it closes");
}
