//! The coordinator reconciles each machine's own word about its session with
//! what it scheduled: at start and on every health check.

mod common;

use std::sync::atomic::Ordering;

use common::*;
use reactor_protocol::ErrorCode;

#[tokio::test]
async fn a_session_left_from_before_a_restart_is_stopped_before_the_machine_serves() {
    let mut double = FakeRuntime::start("echo").await;
    double.running.store(true, Ordering::SeqCst); // an earlier coordinator's client
    let server = start(config_with(&[("echo", &double)])).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    assert_eq!(double.next_call().await, Call::Stop, "the stale session goes first");
    assert_eq!(double.next_call().await, Call::Start);
    client.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_machine_serves_without_a_stop() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    assert_eq!(double.next_call().await, Call::Start);
    client.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_session_opened_behind_the_coordinators_back_is_not_cut() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    // A developer connects straight to the machine (local mode).
    double.running.store(true, Ordering::SeqCst);
    // Three health checks at 200 ms later, nothing has stopped it.
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(700), double.next_call()).await;
    assert!(quiet.is_err(), "the coordinator called the machine: {quiet:?}");
    assert!(double.running.load(Ordering::SeqCst));
    server.shutdown().await;
}

#[tokio::test]
async fn a_held_machine_that_lost_its_session_ends_it_and_serves_the_next() {
    let (mut double, server, token, mut client) = one_session().await;
    let mut next = Client::hello(&server, &token, "echo", true).await;
    next.expect_queued(1).await;
    // The runtime restarted under the client: healthy, but no session.
    double.running.store(false, Ordering::SeqCst);
    let body = client.expect_error().await;
    assert_eq!(body.code, ErrorCode::GpuConnectionError);
    assert_eq!(double.next_call().await, Call::Stop);
    assert_eq!(double.next_call().await, Call::Start);
    next.expect_assigned().await;
    server.shutdown().await;
}
