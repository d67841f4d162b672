//! The coordinator over real loopback sockets: tokens, hello, the queue,
//! the proxy and the machine lifecycle.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use reactor_protocol::coordinator::{
    Assigned, ClientFrame, CoordinatorStats, ErrorBody, ServerFrame, API_KEY_HEADER, STATS_PATH,
};
use reactor_protocol::{Code, ErrorCode};
use reactor_server::{Config, ModelKind, ServerHandle};

#[tokio::test]
async fn token_exchange_accepts_the_key_and_refuses_others() {
    let server = start(Config { api_keys: vec!["k1".into()], ..Config::for_tests() }).await;
    let ok = http().post(format!("{}/tokens", server.url())).header(API_KEY_HEADER, "k1").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert!(body["token"].as_str().unwrap().len() >= 32);
    assert_eq!(body["expires_in"], 300);

    for key in [Some("k2"), Some(""), None] {
        let mut request = http().post(format!("{}/tokens", server.url()));
        if let Some(key) = key {
            request = request.header(API_KEY_HEADER, key);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let body: ErrorBody = refused.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::AuthenticationFailed);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_dev_key_works_when_no_key_is_configured() {
    let server = start(Config::for_tests()).await;
    assert_eq!(server.api_keys, vec!["dev-key".to_string()]);
    token_for(&server, "dev-key").await;
    server.shutdown().await;
}

#[tokio::test]
async fn hello_with_a_bad_token_is_refused_then_closed() {
    let server = start(Config::for_tests()).await;
    let mut client = Client::hello(&server, "not-a-token", "echo", true).await;
    assert_eq!(client.expect_error().await.code, ErrorCode::AuthenticationFailed);
    assert!(client.expect_closed().await.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_model_is_refused_then_closed() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "nope", true).await;
    assert_eq!(client.expect_error().await.code, ErrorCode::UnknownModel);
    assert!(client.expect_closed().await.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn no_capacity_with_queueing_off() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut first = Client::hello(&server, &token, "echo", false).await;
    first.expect_assigned().await;
    let mut second = Client::hello(&server, &token, "echo", false).await;
    let body = second.expect_error().await;
    assert_eq!(body.code, ErrorCode::NoCapacity);
    assert!(body.retry_after.unwrap() >= 1.0);
    assert!(second.expect_closed().await.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn fifo_order_with_position_updates_on_every_change() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut c1 = Client::hello(&server, &token, "echo", true).await;
    c1.expect_assigned().await;
    let mut waiting = Vec::new();
    for expected in 1..=4 {
        let mut c = Client::hello(&server, &token, "echo", true).await;
        c.expect_queued(expected).await;
        waiting.push(c);
    }
    c1.leave().await;
    // The head gets the machine once it is reset; the rest move up by one.
    waiting[0].expect_assigned().await;
    waiting[1].expect_queued(1).await;
    waiting[2].expect_queued(2).await;
    waiting[3].expect_queued(3).await;
    let mut head = waiting.remove(0);
    head.send(&ClientFrame::Leave).await;
    head.expect_closed().await;
    waiting[0].expect_assigned().await;
    waiting[1].expect_queued(1).await;
    waiting[2].expect_queued(2).await;
    server.shutdown().await;
}

#[tokio::test]
async fn leaving_or_dropping_from_the_middle_moves_only_those_behind() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut holder = Client::hello(&server, &token, "echo", true).await;
    holder.expect_assigned().await;
    let mut q = Vec::new();
    for expected in 1..=5 {
        let mut c = Client::hello(&server, &token, "echo", true).await;
        c.expect_queued(expected).await;
        q.push(c);
    }
    let mut c5 = q.pop().unwrap();
    let mut c4 = q.pop().unwrap();
    let c3 = q.pop().unwrap();
    let c2 = q.pop().unwrap();
    let mut c1 = q.pop().unwrap();

    // Position 3 says leave: 4 and 5 move up, 1 and 2 hear nothing.
    c3.leave().await;
    c4.expect_queued(3).await;
    c5.expect_queued(4).await;
    // Position 2 just vanishes (socket dropped without a close frame).
    drop(c2);
    c4.expect_queued(2).await;
    c5.expect_queued(3).await;
    assert!(c1.try_frame(Duration::from_millis(300)).await.is_none(), "the head did not move");
    holder.leave().await;
    c1.expect_assigned().await;
    c4.expect_queued(1).await;
    c5.expect_queued(2).await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_proxy_only_forwards_for_the_sessions_token() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    let owner = token(&server).await;
    let other = token(&server).await;
    let mut client = Client::hello(&server, &owner, "echo", true).await;
    let session = client.expect_assigned().await;
    double.expect(&Call::Start).await;

    let url = format!("{}/sessions/{session}/transport/webrtc/connections", server.url());
    for auth in [None, Some(format!("Bearer {other}")), Some(owner.clone())] {
        let mut request = http().post(&url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.json::<ErrorBody>().await.unwrap().code, ErrorCode::AuthenticationFailed);
    }
    let unknown = http()
        .post(format!("{}/sessions/nope/transport/webrtc/connections", server.url()))
        .header("Authorization", format!("Bearer {owner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let ok = http()
        .post(&url)
        .header("Authorization", format!("Bearer {owner}"))
        .header("Content-Type", "application/json")
        .body("{\"x\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["connection_id"], 1855);
    double.expect(&Call::Webrtc("POST".into(), "connections".into(), "{\"x\":1}".into())).await;

    // Status codes pass through unchanged (202 while the answer is pending).
    let pending = http()
        .get(format!("{}/sessions/{session}/transport/webrtc/connections/1855/sdp_params", server.url()))
        .header("Authorization", format!("Bearer {owner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 202);

    // Once the session ends its proxy closes.
    client.leave().await;
    double.expect(&Call::Stop).await;
    let gone = http().post(&url).header("Authorization", format!("Bearer {owner}")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    server.shutdown().await;
}

#[tokio::test]
async fn session_end_stops_the_machine_and_hands_it_to_the_next() {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    let token = token(&server).await;
    let mut first = Client::hello(&server, &token, "echo", true).await;
    first.expect_assigned().await;
    assert_eq!(double.next_call().await, Call::Start);
    let mut second = Client::hello(&server, &token, "echo", true).await;
    second.expect_queued(1).await;

    // Dropping the socket ends the session just like `leave`.
    drop(first);
    assert_eq!(double.next_call().await, Call::Stop);
    assert_eq!(double.next_call().await, Call::Start);
    second.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_machine_dying_mid_session_ends_it_with_a_gpu_error() {
    let (mut double, server, token, mut client) = one_session().await;
    let mut waiting = Client::hello(&server, &token, "echo", true).await;
    waiting.expect_queued(1).await;

    double.healthy.store(false, Ordering::SeqCst);
    let body = client.expect_error().await;
    assert_eq!(body.code, ErrorCode::GpuConnectionError);
    assert!(body.code.recoverable());
    client.expect_closed().await;
    // The dead machine is out of the pool: the next client waits...
    assert!(waiting.try_frame(Duration::from_millis(500)).await.is_none());
    // ...until it is healthy again, reset, and handed over.
    double.healthy.store(true, Ordering::SeqCst);
    double.expect(&Call::Stop).await;
    waiting.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_held_machine_that_only_stays_silent_keeps_its_session_for_six_checks() {
    let (double, server, _, mut client) = one_session().await;
    assert_silence_ends_the_session_after_six_checks(&double, &mut client).await;
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_end_at_the_time_limit() {
    let server = start(Config { max_session: Some(Duration::from_millis(600)), ..Config::for_tests() }).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    client.expect_assigned().await;
    let mut next = Client::hello(&server, &token, "echo", true).await;
    next.expect_queued(1).await;
    let body = client.expect_error().await;
    assert_eq!(body.code, ErrorCode::SessionTimeLimit);
    client.expect_closed().await;
    next.expect_assigned().await;
    server.shutdown().await;
}

#[tokio::test]
async fn one_key_holds_at_most_its_limit() {
    let server =
        start(Config { api_keys: vec!["a".into(), "b".into()], max_sessions_per_key: Some(2), ..Config::for_tests() })
            .await;
    let a = token_for(&server, "a").await;
    let b = token_for(&server, "b").await;
    let mut a1 = Client::hello(&server, &a, "echo", true).await;
    a1.expect_assigned().await;
    let mut a2 = Client::hello(&server, &a, "echo", true).await;
    a2.expect_queued(1).await;
    let mut a3 = Client::hello(&server, &a, "echo", true).await;
    assert_eq!(a3.expect_error().await.code, ErrorCode::SessionLimitReached);
    let mut b1 = Client::hello(&server, &b, "echo", true).await;
    b1.expect_queued(2).await;
    // A freed place counts again.
    a2.leave().await;
    let mut a4 = Client::hello(&server, &a, "echo", true).await;
    a4.expect_queued(2).await;
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_tells_every_client_before_closing() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut holder = Client::hello(&server, &token, "echo", true).await;
    holder.expect_assigned().await;
    let mut waiter = Client::hello(&server, &token, "echo", true).await;
    waiter.expect_queued(1).await;
    let stopping = tokio::spawn(server.shutdown());
    for client in [&mut holder, &mut waiter] {
        let frames = client.expect_closed().await;
        assert!(
            matches!(
                frames.as_slice(),
                [ServerFrame::Error(ErrorBody { code: Code::Known(ErrorCode::CoordinatorShutdown), .. })]
            ),
            "{frames:?}"
        );
    }
    tokio::time::timeout(SOON, stopping).await.unwrap().unwrap();
}

#[tokio::test]
async fn silent_clients_are_dropped_by_the_heartbeat() {
    let server = start(Config { ws_heartbeat: Duration::from_millis(200), ..Config::for_tests() }).await;
    let token = token(&server).await;
    let mut holder = Client::hello(&server, &token, "echo", true).await;
    holder.expect_assigned().await;
    // The holder keeps reading (and so answering pings) in the background.
    let holder_reads = tokio::spawn(async move { holder.try_frame(Duration::from_secs(3)).await });
    let dead = Client::hello(&server, &token, "echo", true).await;
    let mut alive = Client::hello(&server, &token, "echo", true).await;
    alive.expect_queued(2).await;
    // `dead` never reads, so it never answers a ping and is dropped.
    alive.expect_queued(1).await;
    assert!(alive.try_frame(Duration::from_millis(300)).await.is_none(), "the holder kept its machine");
    assert!(holder_reads.await.unwrap().is_none());
    drop(dead);
    server.shutdown().await;
}

#[tokio::test]
async fn pools_keep_one_queue_per_model() {
    let server =
        start(Config { machines: vec![(ModelKind::Echo, 2), (ModelKind::Generator, 1)], ..Config::for_tests() }).await;
    let token = token(&server).await;
    let mut e1 = Client::hello(&server, &token, "echo", true).await;
    let mut e2 = Client::hello(&server, &token, "echo", true).await;
    let mut g1 = Client::hello(&server, &token, "generator", true).await;
    e1.expect_assigned().await;
    e2.expect_assigned().await;
    g1.expect_assigned().await;
    let mut e3 = Client::hello(&server, &token, "echo", true).await;
    e3.expect_queued(1).await;
    let mut g2 = Client::hello(&server, &token, "generator", true).await;
    g2.expect_queued(1).await;
    g1.leave().await;
    g2.expect_assigned().await;
    assert!(e3.try_frame(Duration::from_millis(300)).await.is_none());
    e2.leave().await;
    e3.expect_assigned().await;
    server.shutdown().await;
}

async fn stats(server: &ServerHandle) -> CoordinatorStats {
    let url = format!("{}{STATS_PATH}", server.url());
    http().get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn stats_count_what_is_open_and_every_client_admitted() {
    let double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    let idle = CoordinatorStats { sockets_open: 0, clients: 0, sessions: 0, clients_admitted: 0 };
    assert_eq!(stats(&server).await, idle);
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    client.expect_assigned().await;
    assert_eq!(
        stats(&server).await,
        CoordinatorStats { sockets_open: 1, clients: 1, sessions: 1, clients_admitted: 1 }
    );
    client.leave().await;
    let gone = CoordinatorStats { clients_admitted: 1, ..idle };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stats(&server).await != gone {
        assert!(tokio::time::Instant::now() < deadline, "still open: {:?}", stats(&server).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn assigned_carries_the_machines_schema() {
    let server = start(Config::for_tests()).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    let Some(ServerFrame::Assigned(Assigned { schema: Some(schema), .. })) =
        client.try_frame(Duration::from_secs(10)).await
    else {
        panic!("an assigned frame with a schema");
    };
    // The simulated echo machine's own document, relayed untouched.
    assert_eq!(schema, ModelKind::Echo.schema());
    assert_eq!(schema["openapi"], "3.1.0");
    assert!(schema["paths"]["/events/set_brightness"]["post"]["requestBody"].is_object());
    client.leave().await;
    server.shutdown().await;
}
