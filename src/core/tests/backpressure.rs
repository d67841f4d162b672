//! Backpressure: `sendMessage()` waits for the data channel to drain, in
//! order, up to a bound; what waits is rejected with the error that ended
//! the connection.

use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

const FULL: usize = SEND_BUFFER_HIGH;

fn ready() -> Driver {
    let mut d = Driver::new();
    d.reach_ready();
    d
}

/// Ready, with `reconnect: false`: a closing channel ends the session.
fn ready_without_reconnect() -> Driver {
    let mut d = Driver::without_reconnect();
    d.reach_ready();
    d
}

/// The envelopes sent in `actions`, answering each as taken with `buffered`
/// after it, until the core sends no more; returns them in order.
fn take_all(d: &mut Driver, actions: Vec<A>, buffered: usize) -> Vec<String> {
    let mut sent = Vec::new();
    let mut next = application_sends(&actions);
    while !next.is_empty() {
        let mut more = Vec::new();
        for (envelope, promise) in next {
            sent.push(envelope);
            d.session.sent(NOW, promise, Ok(buffered));
            more.extend(application_sends(&d.drain()));
        }
        next = more;
    }
    sent
}

#[test]
fn below_the_threshold_a_message_goes_out_at_once() {
    let mut d = ready();
    let promise = pending(d.session.send_message(NOW, "a".into(), 1, FULL - 1));
    assert_eq!(application_sends(&d.drain()), vec![("a".to_string(), promise)]);
}

#[test]
fn above_the_threshold_messages_wait_and_go_out_in_order_on_bufferedamountlow() {
    let mut d = ready();
    let promises: Vec<PromiseId> =
        ["a", "b", "c"].iter().map(|m| pending(d.session.send_message(NOW, m.to_string(), 1, FULL))).collect();
    let actions = d.drain();
    assert!(application_sends(&actions).is_empty(), "nothing sent while the channel is full");
    assert!(settled(&actions).is_empty() && errors(&actions).is_empty(), "pending, not refused");
    let low = d.input(Input::SendBufferLow);
    assert_eq!(application_sends(&low), vec![("a".to_string(), promises[0])], "one at a time");
    assert_eq!(take_all(&mut d, low, 0), vec!["a", "b", "c"]);
    assert!(d.input(Input::SendBufferLow).is_empty(), "nothing left");
}

#[test]
fn a_message_sent_while_others_wait_queues_behind_them_even_with_room() {
    let mut d = ready();
    pending(d.session.send_message(NOW, "first".into(), 1, FULL));
    d.drain();
    pending(d.session.send_message(NOW, "second".into(), 1, 0));
    let actions = d.drain();
    // The room lets the head go early; the new message stays behind it.
    assert_eq!(application_sends(&actions).iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), vec!["first"]);
    assert_eq!(take_all(&mut d, actions, 0), vec!["first", "second"]);
}

#[test]
fn sending_stops_while_the_channel_is_full_and_goes_on_at_the_next_low_event() {
    let mut d = ready();
    for m in ["a", "b", "c"] {
        pending(d.session.send_message(NOW, m.into(), 1, FULL));
    }
    let low = d.input(Input::SendBufferLow);
    let (_, a) = application_sends(&low)[0].clone();
    d.session.sent(NOW, a, Ok(FULL));
    let actions = d.drain();
    assert_eq!(actions, vec![Action::Settle { promise: a, result: Ok(()) }], "b waits: the channel is full again");
    let low = d.input(Input::SendBufferLow);
    assert_eq!(take_all(&mut d, low, 0), vec!["b", "c"]);
}

#[test]
fn a_message_past_the_byte_bound_is_refused_at_once_and_the_others_still_go() {
    let mut d = ready();
    d.input(Input::MaxMessageSize(usize::MAX));
    let half = SEND_QUEUE_BYTES / 2;
    pending(d.session.send_message(NOW, "a".into(), half, FULL));
    pending(d.session.send_message(NOW, "b".into(), SEND_QUEUE_BYTES - half, FULL));
    d.drain();
    let err = d.session.send_message(NOW, "c".into(), 1, FULL).failed();
    assert_eq!(err.code, ErrorCode::MessageSendFailed);
    let half_left = SEND_QUEUE_BYTES - half;
    assert_eq!(*err.failure, Failure::QueueFull { queued: 2, queued_bytes: half + half_left, bytes: 1 });
    assert!(err.message().contains(&SEND_QUEUE_BYTES.to_string()) && err.message().contains("nothing"));
    assert_eq!(d.drain(), vec![Action::Emit(Event::Error(err))], "reported, nothing sent");
    assert_eq!(d.session.status(), Status::Ready);
    let low = d.input(Input::SendBufferLow);
    assert_eq!(take_all(&mut d, low, 0), vec!["a", "b"]);
    pending(d.session.send_message(NOW, "d".into(), SEND_QUEUE_BYTES, FULL));
    assert!(errors(&d.drain()).is_empty(), "the room is back once they went out");
}

#[test]
fn a_message_past_the_count_bound_is_refused() {
    let mut d = ready();
    for i in 0..SEND_QUEUE_MESSAGES {
        pending(d.session.send_message(NOW, i.to_string(), 1, FULL));
    }
    d.drain();
    let err = d.session.send_message(NOW, "one more".into(), 1, FULL).failed();
    assert_eq!(err.code, ErrorCode::MessageSendFailed);
    assert_eq!(
        *err.failure,
        Failure::QueueFull { queued: SEND_QUEUE_MESSAGES, queued_bytes: SEND_QUEUE_MESSAGES, bytes: 1 }
    );
    let low = d.input(Input::SendBufferLow);
    let sent = take_all(&mut d, low, 0);
    assert_eq!(sent.len(), SEND_QUEUE_MESSAGES);
    assert!(sent.iter().enumerate().all(|(i, m)| *m == i.to_string()), "in order");
}

#[test]
fn a_message_too_large_is_refused_at_once_even_while_others_wait() {
    let mut d = ready();
    d.input(Input::MaxMessageSize(1000));
    pending(d.session.send_message(NOW, "a".into(), 10, FULL));
    let err = d.session.send_message(NOW, "big".into(), 1001, FULL).failed();
    assert_eq!(err.code, ErrorCode::MessageTooLarge);
    let low = d.input(Input::SendBufferLow);
    assert_eq!(take_all(&mut d, low, 0), vec!["a"]);
}

#[test]
fn what_waits_rejects_with_the_error_that_ended_the_connection() {
    let mut d = ready_without_reconnect();
    let promises: Vec<PromiseId> =
        (0..3).map(|i| pending(d.session.send_message(NOW, i.to_string(), 1, FULL))).collect();
    d.drain();
    let actions = d.input(Input::ChannelClosed(Channel::Data));
    let err = errors(&actions)[0].clone();
    assert_eq!(err.code, ErrorCode::GpuConnectionError);
    assert_eq!(errors(&actions).len(), 1, "one error event, not one per message");
    for promise in promises {
        assert!(actions.contains(&Action::Settle { promise, result: Err(err.clone()) }), "promise {promise}");
    }
    assert!(application_sends(&actions).is_empty());
    // The next connection starts with nothing waiting.
    d.reach_ready();
    assert!(d.input(Input::SendBufferLow).is_empty());
}

#[test]
fn disconnect_rejects_what_waits_with_connection_aborted() {
    let mut d = ready();
    let promise = pending(d.session.send_message(NOW, "a".into(), 1, FULL));
    d.drain();
    d.session.disconnect(NOW);
    let actions = d.drain();
    assert!(actions.iter().any(|a| matches!(a, Action::Settle { promise: p, result: Err(e) } if *p == promise && e.code == ErrorCode::ConnectionAborted)));
}

#[test]
fn a_refusal_stops_sending_and_the_channels_close_rejects_the_rest() {
    let mut d = ready_without_reconnect();
    for m in ["a", "b"] {
        pending(d.session.send_message(NOW, m.into(), 1, FULL));
    }
    let low = d.input(Input::SendBufferLow);
    let (_, a) = application_sends(&low)[0].clone();
    d.session.sent(NOW, a, Err("InvalidStateError".into()));
    let actions = d.drain();
    assert!(application_sends(&actions).is_empty(), "b is not thrown at a closing channel");
    assert!(matches!(&settled(&actions)[..], [Err(e)] if e.code == ErrorCode::MessageSendFailed));
    let closed = d.input(Input::ChannelClosed(Channel::Data));
    assert!(matches!(&settled(&closed)[..], [Err(e)] if e.code == ErrorCode::GpuConnectionError));
}

#[test]
fn paused_sending_holds_everything_until_resumed() {
    let mut d = ready();
    d.session.pause_sending();
    for m in ["a", "b"] {
        pending(d.session.send_message(NOW, m.into(), 1, 0));
    }
    assert!(application_sends(&d.drain()).is_empty(), "held although the channel has room");
    assert!(application_sends(&d.input(Input::SendBufferLow)).is_empty(), "a low event does not open the gate");
    d.session.resume_sending();
    let actions = d.drain();
    assert_eq!(take_all(&mut d, actions, 0), vec!["a", "b"]);
}
