//! A client whose WebSocket drops keeps its queue place or its session for
//! the grace period and takes it back with `resume`, over real sockets.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use reactor_protocol::coordinator::{Assigned, ClientFrame, Queued, ResumeInfo, ServerFrame};
use reactor_protocol::ErrorCode;
use reactor_server::{Config, ServerHandle};
use tokio_tungstenite::tungstenite::Message;

/// A frame as the tests read it (the schema as JSON).
type Frame = ServerFrame<serde_json::Value>;

const GRACE: Duration = Duration::from_millis(1500);

fn with_grace(config: Config) -> Config {
    Config { resume_grace: GRACE, ..config }
}

/// Says hello and reads the first frame: its resume secret.
async fn join(server: &ServerHandle, token: &str) -> (Client, Frame, String) {
    let mut client = Client::hello(server, token, "echo", true).await;
    let frame = client.frame().await;
    let resume = match &frame {
        ServerFrame::Queued(Queued { resume: Some(ResumeInfo { token, grace }), .. })
        | ServerFrame::Assigned(Assigned { resume: Some(ResumeInfo { token, grace }), .. }) => {
            assert_eq!(*grace, GRACE.as_secs_f64());
            token.clone()
        }
        other => panic!("expected a first frame with a resume secret, got {other:?}"),
    };
    (client, frame, resume)
}

async fn resume(server: &ServerHandle, secret: &str) -> Client {
    let mut client = Client::connect(server).await;
    client.send(&ClientFrame::Resume { resume_token: secret.into() }).await;
    client
}

fn session_of(frame: &Frame) -> &str {
    match frame {
        ServerFrame::Assigned(Assigned { session_id, .. }) => session_id,
        other => panic!("expected assigned, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_waiting_client_keeps_its_place_and_takes_it_back() {
    let server = start(with_grace(Config::for_tests())).await;
    let token = token(&server).await;
    let (holder, _, _) = join(&server, &token).await;
    let (c1, _, secret) = join(&server, &token).await;
    let (mut c2, _, _) = join(&server, &token).await;

    drop(c1); // the connection breaks: no leave, no close frame
    assert!(c2.try_frame(GRACE / 2).await.is_none(), "nobody moves up while the place is held");
    let mut back = resume(&server, &secret).await;
    assert_eq!(back.frame().await, ServerFrame::Resumed);
    back.expect_queued(1).await;

    // The place is a real one: it gets the machine first.
    holder.leave().await;
    back.expect_assigned().await;
    c2.expect_queued(1).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_place_not_taken_back_in_time_is_given_up() {
    let server = start(with_grace(Config::for_tests())).await;
    let token = token(&server).await;
    let (_holder, _, _) = join(&server, &token).await;
    let (c1, _, secret) = join(&server, &token).await;
    let (mut c2, _, _) = join(&server, &token).await;

    drop(c1);
    c2.expect_queued(1).await; // after the grace period
    let mut late = resume(&server, &secret).await;
    let body = late.expect_error().await;
    assert_eq!(body.code, ErrorCode::ResumeFailed);
    assert!(body.code.recoverable());
    late.expect_closed().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_live_session_survives_its_socket_and_is_resumed() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(with_grace(config_with(&[("echo", &double)]))).await;
    let token = token(&server).await;
    let (c1, first, secret) = join(&server, &token).await;
    let session = session_of(&first).to_string();
    double.expect(&Call::Start).await;

    drop(c1);
    // The signaling proxy still serves the session meanwhile.
    let proxied = http()
        .post(format!("{}/sessions/{session}/transport/webrtc/connections", server.url()))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 201);
    let mut back = resume(&server, &secret).await;
    assert_eq!(back.frame().await, ServerFrame::Resumed);
    assert_eq!(session_of(&back.frame().await), session, "the same session, told again");
    // Past the first socket's grace period the session is still there.
    assert!(back.try_frame(GRACE * 2).await.is_none());
    while let Ok(call) = double.calls.try_recv() {
        assert_ne!(call, Call::Stop, "the machine was stopped");
    }
    back.leave().await;
    double.expect(&Call::Stop).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_session_whose_client_never_comes_back_is_stopped_and_handed_on() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(with_grace(config_with(&[("echo", &double)]))).await;
    let token = token(&server).await;
    let (c1, _, _) = join(&server, &token).await;
    double.expect(&Call::Start).await;
    let (mut next, _, _) = join(&server, &token).await;

    drop(c1);
    assert!(next.try_frame(GRACE / 2).await.is_none(), "the session is held for its client");
    assert_eq!(double.next_call().await, Call::Stop);
    next.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_machine_that_came_while_the_socket_was_away_is_told_on_resume() {
    let server = start(with_grace(Config::for_tests())).await;
    let token = token(&server).await;
    let (holder, _, _) = join(&server, &token).await;
    let (c1, _, secret) = join(&server, &token).await;
    drop(c1);
    holder.leave().await;
    let mut back = resume(&server, &secret).await;
    assert_eq!(back.frame().await, ServerFrame::Resumed);
    back.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_resume_takes_over_from_a_socket_not_known_dead_yet() {
    let server = start(with_grace(Config::for_tests())).await;
    let token = token(&server).await;
    let (_holder, _, _) = join(&server, &token).await;
    let (mut old, _, secret) = join(&server, &token).await;
    let (mut c2, _, _) = join(&server, &token).await;

    let mut new = resume(&server, &secret).await;
    assert_eq!(new.frame().await, ServerFrame::Resumed);
    new.expect_queued(1).await;
    // The old socket is closed without touching the place.
    assert!(old.expect_closed().await.is_empty());
    assert!(c2.try_frame(GRACE + GRACE / 2).await.is_none(), "the place stays taken");
    new.leave().await;
    c2.expect_queued(1).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_close_frame_is_leaving_not_dropping() {
    let server = start(with_grace(Config::for_tests())).await;
    let token = token(&server).await;
    let (_holder, _, _) = join(&server, &token).await;
    let (mut c1, _, secret) = join(&server, &token).await;
    let (mut c2, _, _) = join(&server, &token).await;
    c1.ws.send(Message::Close(None)).await.unwrap();
    c2.expect_queued(1).await;
    assert!(c2.try_frame(Duration::ZERO).await.is_none());
    let mut late = resume(&server, &secret).await;
    assert_eq!(late.expect_error().await.code, ErrorCode::ResumeFailed);
    server.shutdown().await;
}

#[tokio::test]
async fn an_error_while_the_socket_was_away_is_told_on_resume() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(with_grace(config_with(&[("echo", &double)]))).await;
    let token = token(&server).await;
    let (c1, _, secret) = join(&server, &token).await;
    double.expect(&Call::Start).await;
    drop(c1);
    double.healthy.store(false, Ordering::SeqCst);
    // Two failed checks take the machine down; the machine's task handles
    // the second one's outcome before it makes the third.
    for _ in 0..3 {
        double.expect(&Call::HealthRefused).await;
    }
    let mut back = resume(&server, &secret).await;
    assert_eq!(back.frame().await, ServerFrame::Resumed);
    assert_eq!(back.expect_error().await.code, ErrorCode::GpuConnectionError);
    back.expect_closed().await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_time_limit_counts_from_the_assignment_across_resumes() {
    let limit = Duration::from_millis(1200);
    let server = start(Config { max_session: Some(limit), ..with_grace(Config::for_tests()) }).await;
    let token = token(&server).await;
    let started = tokio::time::Instant::now();
    let (c1, _, secret) = join(&server, &token).await;
    drop(c1);
    let away = Duration::from_millis(700);
    tokio::time::sleep(away).await; // the time spent away is the point here
    let mut back = resume(&server, &secret).await;
    assert_eq!(back.frame().await, ServerFrame::Resumed);
    back.expect_assigned().await;
    assert_eq!(back.expect_error().await.code, ErrorCode::SessionTimeLimit);
    let took = started.elapsed();
    assert!(took < limit + away / 2, "the limit restarted on resume: {took:?}");
    server.shutdown().await;
}
