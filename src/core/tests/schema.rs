//! The model's schema: kept from its arrival until teardown, announced once.

use reactor_protocol::ErrorCode;

use super::harness::*;
use crate::core::*;

#[test]
fn the_schema_is_held_and_announced_when_it_arrives_and_dropped_at_teardown() {
    let mut d = Driver::new();
    d.connect();
    d.token();
    d.input(Input::SocketOpen);
    assert_eq!(d.session.schema(), None);
    // The shell hands it over just before the `assigned` frame it came in.
    let actions = d.input(Input::Schema("schema-1".into()));
    assert_eq!(actions, vec![Action::Emit(Event::SchemaReceived)]);
    assert_eq!(d.session.schema(), Some(&"schema-1".to_string()));
    d.assigned();
    d.signal();
    d.up();
    assert_eq!(d.session.status(), Status::Ready);
    assert_eq!(d.session.schema(), Some(&"schema-1".to_string()), "kept while ready");
    assert_eq!(d.session.disconnect(NOW), Outcome::Done);
    assert_eq!(d.session.schema(), None, "a disconnected Reactor has no schema");
}

#[test]
fn a_schema_of_a_torn_down_connection_is_ignored() {
    let mut d = Driver::new();
    d.connect();
    let old = d.session.generation();
    d.session.disconnect(NOW);
    d.connect();
    d.drain();
    d.session.handle(NOW, old, Input::Schema("stale".into()));
    assert_eq!(d.drain(), vec![]);
    assert_eq!(d.session.schema(), None);
}

#[test]
fn an_unfit_command_is_reported_and_changes_nothing() {
    let mut d = Driver::with(Options { validate_messages: true, ..options() });
    assert!(d.session.validates_messages());
    d.reach_ready();
    let err =
        d.session.invalid_command(NOW, "`set_brightness`: parameter `brightness` must be at most 1, got 2".into());
    assert_eq!(err.code, ErrorCode::InvalidCommand);
    let why = "`set_brightness`: parameter `brightness` must be at most 1, got 2";
    assert_eq!(*err.failure, Failure::NotInSchema(why.into()));
    assert_eq!(err.message(), format!("{why}; nothing was sent"));
    assert_eq!(d.drain(), vec![Action::Emit(Event::Error(err.clone()))]);
    assert_eq!(d.session.last_error(), Some(&err));
    assert_eq!(d.session.status(), Status::Ready, "the session carries on");
}
