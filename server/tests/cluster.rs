//! Several coordinators sharing one pool through a real Redis: FIFO order
//! and positions across processes, random churn with every invariant
//! checked, kill -9 of a coordinator, and a Redis restarted empty.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::redis_server::{ChildCoordinator, RedisServer};
use common::*;
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use reactor_protocol::coordinator::{Assigned, ClientFrame, Queued, ResumeInfo, ServerFrame};

/// A frame as the tests read it (the schema as JSON).
type Frame = ServerFrame<serde_json::Value>;
use reactor_protocol::ErrorCode;
use reactor_server::{Config, ServerHandle};
use tokio_tungstenite::tungstenite::Message;

fn shared_config(redis: &RedisServer, doubles: &[&FakeRuntime]) -> Config {
    Config {
        redis: Some(redis.url()),
        machines: vec![],
        machine_urls: doubles.iter().map(|d| ("echo".to_string(), d.url.clone())).collect(),
        ..Config::for_tests()
    }
}

async fn coordinators(redis: &RedisServer, doubles: &[&FakeRuntime], n: usize) -> Vec<ServerHandle> {
    let mut servers = Vec::new();
    for _ in 0..n {
        servers.push(start(shared_config(redis, doubles)).await);
    }
    servers
}

async fn shutdown(servers: Vec<ServerHandle>) {
    for server in servers {
        server.shutdown().await;
    }
}

#[tokio::test]
async fn two_coordinators_share_one_pool_in_fifo_order() {
    let redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let servers = coordinators(&redis, &[&double], 2).await;
    let (a, b) = (&servers[0], &servers[1]);
    // A token from one process opens the other's WebSocket too.
    let token = token(a).await;
    let mut c1 = Client::hello(a, &token, "echo", true).await;
    let session = c1.expect_assigned().await;
    double.expect(&Call::Start).await;
    // Any process proxies any session's signaling, for its token only.
    let proxied = |server: &ServerHandle, bearer: &str| {
        http()
            .post(format!("{}/sessions/{session}/transport/webrtc/connections", server.url()))
            .header("Authorization", format!("Bearer {bearer}"))
            .send()
    };
    assert_eq!(proxied(b, &token).await.unwrap().status(), 201);
    assert!(
        matches!(double.next_call().await, Call::Webrtc(method, path, _) if method == "POST" && path == "connections")
    );
    let other = common::token(b).await;
    assert_eq!(proxied(b, &other).await.unwrap().status(), 401);
    let c2 = Client::hello(b, &token, "echo", true).await;
    let mut c2 = expect_first_queued(c2, 1).await;
    let mut c3 = expect_first_queued(Client::hello(a, &token, "echo", true).await, 2).await;
    let mut c4 = expect_first_queued(Client::hello(b, &token, "echo", true).await, 3).await;

    c2.send(&ClientFrame::Leave).await;
    c2.expect_closed().await;
    // Wait estimates come from the shared state too: one 60 s turn (no
    // session has ended yet) per place. Each process works its own clients'
    // out when it hears of the change, a few milliseconds apart, and the
    // running session's remaining time shrinks meanwhile.
    let (e3, e4) = (queued_with_estimate(&mut c3, 1).await, queued_with_estimate(&mut c4, 2).await);
    assert!(e3 > 50.0 && e3 <= 60.0 && (e4 - e3 - 60.0).abs() < 0.5, "{e3} {e4}");

    c1.leave().await;
    double.expect(&Call::Stop).await;
    c3.expect_assigned().await;
    c4.expect_queued(1).await;
    shutdown(servers).await;
}

async fn queued_with_estimate(client: &mut Client, expected: u32) -> f64 {
    match client.frame().await {
        ServerFrame::Queued(Queued { position, estimated_wait: Some(wait), .. }) if position == expected => wait,
        other => panic!("expected queued {expected} with an estimate, got {other:?}"),
    }
}

async fn expect_first_queued(mut client: Client, expected: u32) -> Client {
    client.expect_queued(expected).await;
    client
}

#[tokio::test]
async fn three_coordinators_hand_machines_over_in_join_order() {
    let redis = RedisServer::start().await;
    let (mut d1, mut d2) = (FakeRuntime::start("echo").await, FakeRuntime::start("echo").await);
    let servers = coordinators(&redis, &[&d1, &d2], 3).await;
    let token = token(&servers[0]).await;
    let mut clients = Vec::new();
    for i in 0..9 {
        let mut client = Client::hello(&servers[i % 3], &token, "echo", true).await;
        match client.frame().await {
            ServerFrame::Assigned(Assigned { .. }) => assert!(i < 2, "client {i} was assigned"),
            ServerFrame::Queued(Queued { position, .. }) => assert_eq!(position as usize, i - 1),
            other => panic!("{other:?}"),
        }
        clients.push(client);
    }
    d1.expect(&Call::Start).await;
    d2.expect(&Call::Start).await;
    // Each holder leaves in turn: the head of the line, on whichever
    // process, gets the machine; everyone behind moves up by one.
    for next in 2..9 {
        let holder = clients.remove(0);
        holder.leave().await;
        clients[1].expect_assigned().await;
        for (rank, waiting) in clients.iter_mut().skip(2).enumerate() {
            waiting.expect_queued(rank as u32 + 1).await;
        }
        assert_eq!(clients.len(), 9 - next + 1);
    }
    shutdown(servers).await;
}

/// What the churn test knows of one client, as its reader task saw it.
#[derive(Default, Debug)]
struct Seen {
    position: Option<u32>,
    assigned: bool,
    error: Option<reactor_protocol::Code>,
    closed: bool,
    /// Told `resumed` on the fallback after its socket broke.
    resumed: bool,
}

struct Tracked {
    index: usize,
    seen: Arc<Mutex<Seen>>,
    leave: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Says hello, waits for the first frame, then follows the socket in a
/// task; if the socket breaks, the client resumes once at `fallback`.
async fn tracked(ws_url: &str, fallback: &str, token: &str, index: usize) -> Tracked {
    let mut client = Client::connect_to(ws_url).await;
    client.send(&ClientFrame::Hello { token: token.into(), model: "echo".into(), queueing: true }).await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let first = client.frame().await;
    let secret = secret_of(&first);
    record(&seen, first);
    let (leave, mut left) = tokio::sync::oneshot::channel();
    let follow = seen.clone();
    let fallback = fallback.to_string();
    let mut resumed = false;
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                message = client.ws.next() => match message {
                    Some(Ok(Message::Text(text))) => record(&follow, serde_json::from_str(&text).unwrap()),
                    Some(Ok(_)) => {}
                    _ if !resumed && follow.lock().unwrap().error.is_none() => {
                        resumed = true;
                        client = resume_at(&fallback, &secret).await;
                    }
                    _ => {
                        follow.lock().unwrap().closed = true;
                        return;
                    }
                },
                _ = &mut left => {
                    client.send(&ClientFrame::Leave).await;
                    client.expect_closed().await;
                    return;
                }
            }
        }
    });
    Tracked { index, seen, leave, task }
}

fn record(seen: &Mutex<Seen>, frame: Frame) {
    let mut seen = seen.lock().unwrap();
    match frame {
        ServerFrame::Queued(Queued { position, .. }) => seen.position = Some(position),
        ServerFrame::Assigned(Assigned { .. }) => {
            seen.assigned = true;
            seen.position = None;
        }
        ServerFrame::Error(body) => seen.error = Some(body.code),
        ServerFrame::Resumed => seen.resumed = true,
    }
}

/// Every invariant over the clients still there, or what breaks it.
async fn check_invariants(live: &[Tracked], machines: usize, redis: &RedisServer) -> Result<(), String> {
    use redis::AsyncCommands;
    let mut waiting = Vec::new();
    let mut holders = Vec::new();
    for client in live {
        let seen = client.seen.lock().unwrap();
        if seen.error.is_some() || seen.closed {
            return Err(format!("client {} lost: {seen:?}", client.index));
        }
        if seen.assigned {
            holders.push(client.index);
        } else {
            waiting.push((client.index, seen.position));
        }
    }
    if holders.len() > machines {
        return Err(format!("{} sessions on {machines} machines", holders.len()));
    }
    if !waiting.is_empty() && holders.len() < machines {
        return Err(format!("{} waiting while only {} of {machines} machines serve", waiting.len(), holders.len()));
    }
    if let (Some(last_holder), Some(first_waiting)) = (holders.iter().max(), waiting.first()) {
        if *last_holder > first_waiting.0 {
            return Err(format!("client {last_holder} got a machine before client {} (FIFO)", first_waiting.0));
        }
    }
    for (rank, (index, position)) in waiting.iter().enumerate() {
        if *position != Some(rank as u32 + 1) {
            return Err(format!("client {index} was told {position:?}, its rank is {}", rank + 1));
        }
    }
    let mut conn = redis.connection().await;
    let queued: usize = conn.zcard("reactor:queue:echo").await.unwrap();
    if queued != waiting.len() {
        return Err(format!("Redis queues {queued}, {} clients wait", waiting.len()));
    }
    let states: HashMap<String, String> = conn.hgetall("reactor:mstate").await.unwrap();
    let held: Vec<&String> = states.values().filter(|s| s.starts_with("held:")).collect();
    let distinct: HashSet<&&String> = held.iter().collect();
    if held.len() != holders.len() || distinct.len() != held.len() {
        return Err(format!("machine states {states:?} for {} sessions", holders.len()));
    }
    Ok(())
}

async fn echo_doubles(n: usize) -> Vec<FakeRuntime> {
    let mut doubles = Vec::new();
    for _ in 0..n {
        doubles.push(FakeRuntime::start("echo").await);
    }
    doubles
}

/// About two joins in five are followed by a leave, from anywhere in the
/// line or a machine.
async fn maybe_leave(rng: &mut rand::rngs::StdRng, live: &mut Vec<Tracked>) {
    if rng.random_bool(0.4) {
        let gone = live.remove(rng.random_range(0..live.len()));
        let _ = gone.leave.send(());
        gone.task.await.unwrap();
    }
}

/// Waits for every invariant to hold (updates may still be on their way).
async fn settled(live: &[Tracked], machines: usize, redis: &RedisServer) {
    let deadline = tokio::time::Instant::now() + SOON * 2;
    loop {
        let outcome = check_invariants(live, machines, redis).await;
        if outcome.is_ok() || tokio::time::Instant::now() > deadline {
            return outcome.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_thousand_clients_join_and_leave_at_random_across_three_processes() {
    const CLIENTS: usize = 1000;
    const MACHINES: usize = 3;
    let redis = RedisServer::start().await;
    let doubles = echo_doubles(MACHINES).await;
    let refs: Vec<&FakeRuntime> = doubles.iter().collect();
    let servers = coordinators(&redis, &refs, 3).await;
    let token = token(&servers[0]).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let mut live: Vec<Tracked> = Vec::new();
    for index in 0..CLIENTS {
        let server = &servers[rng.random_range(0..servers.len())];
        live.push(tracked(&server.ws_url(), &server.ws_url(), &token, index).await);
        maybe_leave(&mut rng, &mut live).await;
    }
    settled(&live, MACHINES, &redis).await;
    assert!(live.len() > 500, "the seed leaves a long line: {}", live.len());
    drop(live);
    shutdown(servers).await;
}

#[tokio::test]
async fn a_coordinator_killed_mid_churn_loses_nobody() {
    const CLIENTS: usize = 300;
    const MACHINES: usize = 3;
    let redis = RedisServer::start().await;
    let doubles = echo_doubles(MACHINES).await;
    let mut args = vec!["--redis".to_string(), redis.url()];
    for double in &doubles {
        args.extend(["--machine-url".to_string(), format!("echo={}", double.url)]);
    }
    args.extend(
        ["--health-interval-ms", "200", "--resume-grace-secs", "5", "--heartbeat-secs", "30"].map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(ChildCoordinator::start(&args).await);
    }
    let token = token_at(&children[0].url, reactor_server::config::DEV_API_KEY).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1313);
    let mut live: Vec<Tracked> = Vec::new();
    let mut alive = vec![0, 1, 2];
    for index in 0..CLIENTS {
        if index == CLIENTS / 2 {
            // Its clients resume on the next process; its machine leases expire.
            children[0].kill9();
            alive.remove(0);
        }
        let at = alive[rng.random_range(0..alive.len())];
        live.push(tracked(&children[at].ws_url, &children[1].ws_url, &token, index).await);
        maybe_leave(&mut rng, &mut live).await;
    }
    settled(&live, MACHINES, &redis).await;
    assert!(live.len() > 100, "the seed leaves a long line: {}", live.len());
    let resumed = live.iter().filter(|c| c.seen.lock().unwrap().resumed).count();
    assert!(resumed >= 5, "only {resumed} clients of the killed coordinator resumed");
}

async fn resume_at(ws_url: &str, secret: &str) -> Client {
    let mut client = Client::connect_to(ws_url).await;
    client.send(&ClientFrame::Resume { resume_token: secret.into() }).await;
    client
}

fn secret_of(frame: &Frame) -> String {
    match frame {
        ServerFrame::Queued(Queued { resume: Some(ResumeInfo { token, .. }), .. })
        | ServerFrame::Assigned(Assigned { resume: Some(ResumeInfo { token, .. }), .. }) => token.clone(),
        other => panic!("expected a frame with a resume secret, got {other:?}"),
    }
}

#[tokio::test]
async fn clients_of_a_killed_coordinator_resume_on_another_and_its_machine_is_taken_over() {
    let redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let machine = format!("echo={}", double.url);
    let args = [
        "--redis",
        &redis.url(),
        "--machine-url",
        &machine,
        "--health-interval-ms",
        "200",
        "--resume-grace-secs",
        "3",
        // Sockets not read for seconds here must not be dropped as silent.
        "--heartbeat-secs",
        "30",
    ];
    let mut a = ChildCoordinator::start(&args).await;
    let b = ChildCoordinator::start(&args).await;
    let token = token_at(&a.url, reactor_server::config::DEV_API_KEY).await;
    let hello = ClientFrame::Hello { token: token.clone(), model: "echo".into(), queueing: true };
    let mut on_a = Vec::new();
    let mut secrets = Vec::new();
    for _ in 0..3 {
        let mut client = Client::connect_to(&a.ws_url).await;
        client.send(&hello).await;
        secrets.push(client.frame().await);
        on_a.push(client);
    }
    assert!(matches!(secrets[0], ServerFrame::Assigned(Assigned { .. })), "{:?}", secrets[0]);
    assert!(matches!(secrets[2], ServerFrame::Queued(Queued { position: 2, .. })), "{:?}", secrets[2]);
    let (holder_secret, waiting_secret) = (secret_of(&secrets[0]), secret_of(&secrets[1]));
    double.expect(&Call::Start).await;
    let mut on_b = Client::connect_to(&b.ws_url).await;
    on_b.send(&hello).await;
    on_b.expect_queued(3).await;

    a.kill9();
    drop(on_a);
    let mut waiting = resume_at(&b.ws_url, &waiting_secret).await;
    assert_eq!(waiting.frame().await, ServerFrame::Resumed);
    waiting.expect_queued(1).await;
    let mut holder = resume_at(&b.ws_url, &holder_secret).await;
    assert_eq!(holder.frame().await, ServerFrame::Resumed);
    assert!(matches!(holder.frame().await, ServerFrame::Assigned(Assigned { .. })), "the session, told again");
    // The place nobody took back ends with its grace period.
    on_b.expect_queued(2).await;

    // The machine's lease passed to B: it stops the session and hands it on.
    holder.leave().await;
    double.expect(&Call::Stop).await;
    waiting.expect_assigned().await;
    on_b.expect_queued(1).await;
}

/// A session held on a machine in Redis mode, by a client on the process
/// that is not the first (the lease holder checks the machine's health):
/// (redis, the runtime, the two coordinators, the client).
async fn held_on_the_second_coordinator() -> (RedisServer, FakeRuntime, Vec<ServerHandle>, Client) {
    let redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let servers = coordinators(&redis, &[&double], 2).await;
    let token = token(&servers[1]).await;
    let mut client = Client::hello(&servers[1], &token, "echo", true).await;
    client.expect_assigned().await;
    double.expect(&Call::Start).await;
    (redis, double, servers, client)
}

/// The health rule of a held machine (server/src/coordinator/health.rs) holds
/// in Redis mode too: only silent, six checks; refusing, two.
#[tokio::test]
async fn in_redis_mode_a_held_machine_that_only_stays_silent_keeps_its_session_for_six_checks() {
    let (_redis, double, servers, mut client) = held_on_the_second_coordinator().await;
    assert_silence_ends_the_session_after_six_checks(&double, &mut client).await;
    client.expect_closed().await;
    shutdown(servers).await;
}

#[tokio::test]
async fn in_redis_mode_a_held_machine_that_refuses_is_out_after_two_checks() {
    let (_redis, mut double, servers, mut client) = held_on_the_second_coordinator().await;
    double.healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    let body = client.expect_error().await;
    assert_eq!(body.code, ErrorCode::GpuConnectionError);
    // Counted as the error arrives: two refusals ended it (a later check
    // may already be in, 200 ms on), far from the six a silent one gets.
    let mut refused = 0;
    while let Ok(call) = double.calls.try_recv() {
        refused += usize::from(call == Call::HealthRefused);
    }
    assert!((2..6).contains(&refused), "ended after {refused} refused checks");
    client.expect_closed().await;
    shutdown(servers).await;
}

#[tokio::test]
async fn a_redis_restarted_empty_ends_the_clients_it_held_and_serves_new_ones() {
    let mut redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let servers = coordinators(&redis, &[&double], 2).await;
    let token = token(&servers[0]).await;
    let mut holder = Client::hello(&servers[0], &token, "echo", true).await;
    holder.expect_assigned().await;
    double.expect(&Call::Start).await;
    let mut waiting = expect_first_queued(Client::hello(&servers[1], &token, "echo", true).await, 1).await;

    redis.restart().await;
    for client in [&mut holder, &mut waiting] {
        let body = client.expect_error().await;
        assert_eq!(body.code, ErrorCode::CoordinatorConnectionError);
        assert!(body.code.recoverable());
        client.expect_closed().await;
    }
    // Tokens were in Redis too: a new one, and the pool serves again once
    // the machine's stale session is stopped.
    let fresh = token_at(&servers[1].url(), &servers[1].api_keys[0]).await;
    let mut again = Client::hello(&servers[1], &fresh, "echo", true).await;
    double.expect(&Call::Stop).await;
    loop {
        match again.frame().await {
            ServerFrame::Assigned(Assigned { .. }) => break,
            ServerFrame::Queued(Queued { position: 1, .. }) => {}
            other => panic!("expected assigned, got {other:?}"),
        }
    }
    shutdown(servers).await;
}

#[tokio::test]
async fn a_coordinator_that_stops_hands_its_machines_to_another_at_once() {
    use redis::AsyncCommands;
    let redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let mut servers = coordinators(&redis, &[&double], 2).await;
    let lease = format!("reactor:lease:{}", double.url);
    let mut conn = redis.connection().await;
    let first: String = conn.get(&lease).await.unwrap();
    servers.remove(0).shutdown().await;
    // Well before the lease would expire (2 s), the other process holds it.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    loop {
        let holder: Option<String> = conn.get(&lease).await.unwrap();
        if holder.as_ref().is_some_and(|h| *h != first) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the lease is still {holder:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token = token(&servers[0]).await;
    let mut client = Client::hello(&servers[0], &token, "echo", true).await;
    client.expect_assigned().await;
    double.expect(&Call::Start).await;
    shutdown(servers).await;
}

#[tokio::test]
async fn while_redis_is_away_new_clients_get_clear_errors_and_it_serves_again_when_back() {
    let mut redis = RedisServer::start().await;
    let mut double = FakeRuntime::start("echo").await;
    let server = start(shared_config(&redis, &[&double])).await;
    let token = token(&server).await;
    let mut holder = Client::hello(&server, &token, "echo", true).await;
    holder.expect_assigned().await;
    double.expect(&Call::Start).await;

    redis.stop();
    let started = tokio::time::Instant::now();
    let response = http().post(format!("{}/tokens", server.url())).header("Reactor-API-Key", &server.api_keys[0]);
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: reactor_protocol::coordinator::ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::CoordinatorConnectionError);
    let mut late = Client::hello(&server, &token, "echo", true).await;
    let body = late.expect_error().await;
    assert_eq!(body.code, ErrorCode::CoordinatorConnectionError);
    assert!(started.elapsed() < Duration::from_secs(3), "the errors took {:?}", started.elapsed());
    // The session already attached is not ended by the outage...
    assert!(holder.try_frame(Duration::from_secs(2)).await.is_none());
    // ...but by the Redis that comes back without it; new clients are served.
    redis.restart().await;
    assert_eq!(holder.expect_error().await.code, ErrorCode::CoordinatorConnectionError);
    let fresh = common::token(&server).await;
    let mut again = Client::hello(&server, &fresh, "echo", true).await;
    loop {
        match again.frame().await {
            ServerFrame::Assigned(Assigned { .. }) => break,
            ServerFrame::Queued(Queued { position: 1, .. }) => {}
            other => panic!("expected assigned, got {other:?}"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_startup_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = Config { redis: Some(format!("redis://127.0.0.1:{port}")), ..Config::for_tests() };
    let started = tokio::time::timeout(SOON * 3, reactor_server::start(config)).await.expect("fails in time");
    let error = started.err().expect("no coordinator without its Redis").to_string();
    assert!(error.contains("--redis redis://127.0.0.1:"), "{error}");
}
