//! Helpers for the integration tests: a WebSocket client that speaks the
//! coordinator protocol, and a test double of a runtime machine.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use reactor_protocol::coordinator::{Assigned, ClientFrame, Queued, ServerFrame, TokenResponse, API_KEY_HEADER};
use reactor_protocol::runtime::{
    states, Capabilities, Health, IceServersResponse, NewConnection, SelectedTransport, SessionDescriptor,
    SessionModel, TrackDirection, TrackInfo, TrackKind,
};
use reactor_server::{Config, ServerHandle};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub mod redis_server;

/// Generous bound for anything that should happen "now".
pub const SOON: Duration = Duration::from_secs(10);

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

pub async fn start(config: Config) -> ServerHandle {
    init_logs();
    reactor_server::start(config).await.expect("server starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub async fn token(server: &ServerHandle) -> String {
    token_for(server, &server.api_keys[0]).await
}

pub async fn token_for(server: &ServerHandle, key: &str) -> String {
    token_at(&server.url(), key).await
}

/// A token from the coordinator at `url` (`http://…`).
pub async fn token_at(url: &str, key: &str) -> String {
    let response = http().post(format!("{url}/tokens")).header(API_KEY_HEADER, key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json::<TokenResponse>().await.unwrap().token
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(server: &ServerHandle) -> Client {
        Client::connect_to(&server.ws_url()).await
    }

    /// Connects to a coordinator's WebSocket URL (`ws://…/ws`).
    pub async fn connect_to(ws_url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("ws connects");
        Client { ws }
    }

    /// Connects and says hello.
    pub async fn hello(server: &ServerHandle, token: &str, model: &str, queueing: bool) -> Client {
        let mut client = Client::connect(server).await;
        client.send(&ClientFrame::Hello { token: token.into(), model: model.into(), queueing }).await;
        client
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).unwrap();
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next coordinator frame; panics on timeout or close.
    /// The next frame, its `schema` (in `assigned`) kept as JSON.
    pub async fn frame(&mut self) -> ServerFrame<serde_json::Value> {
        self.try_frame(SOON).await.expect("a frame before the timeout")
    }

    pub async fn try_frame(&mut self, wait: Duration) -> Option<ServerFrame<serde_json::Value>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??;
            match next.ok()? {
                Message::Text(text) => return Some(serde_json::from_str(&text).expect("a ServerFrame")),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    pub async fn expect_queued(&mut self, expected: u32) {
        match self.frame().await {
            ServerFrame::Queued(Queued { position, .. }) => assert_eq!(position, expected),
            other => panic!("expected queued {expected}, got {other:?}"),
        }
    }

    /// Waits for `assigned`; returns the session id.
    pub async fn expect_assigned(&mut self) -> String {
        match self.frame().await {
            ServerFrame::Assigned(Assigned { session_id, .. }) => session_id,
            other => panic!("expected assigned, got {other:?}"),
        }
    }

    pub async fn expect_error(&mut self) -> reactor_protocol::coordinator::ErrorBody {
        match self.frame().await {
            ServerFrame::Error(body) => body,
            other => panic!("expected an error frame, got {other:?}"),
        }
    }

    /// The server closes the socket (after any frames, which are returned).
    pub async fn expect_closed(&mut self) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + SOON;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => panic!("socket still open; got {frames:?}"),
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return frames,
                Ok(Some(Ok(Message::Text(text)))) => frames.push(serde_json::from_str(&text).unwrap()),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Sends `leave` and waits for the close.
    pub async fn leave(mut self) {
        self.send(&ClientFrame::Leave).await;
        self.expect_closed().await;
    }
}

/// What the runtime double was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Start,
    Stop,
    /// A health check answered 503 (the double was switched unhealthy).
    HealthRefused,
    /// method and path under `/sessions/local/transport/webrtc`, and the body.
    Webrtc(String, String, String),
}

/// A test double that speaks the runtime local API over HTTP and reports
/// every call; its health can be switched off to play a dying machine.
pub struct FakeRuntime {
    pub url: String,
    pub addr: SocketAddr,
    pub calls: mpsc::UnboundedReceiver<Call>,
    pub healthy: Arc<AtomicBool>,
    /// While set, `/health` never answers: a frozen or starved machine.
    pub silent: Arc<AtomicBool>,
    /// Whether a session runs (what `/health` says); tests may set it to
    /// play a session started behind the coordinator's back, or lost.
    pub running: Arc<AtomicBool>,
    /// How many health checks the double has answered healthy.
    answered: watch::Receiver<u64>,
}

impl FakeRuntime {
    pub async fn start(model: &str) -> FakeRuntime {
        let (tx, calls) = mpsc::unbounded_channel();
        let healthy = Arc::new(AtomicBool::new(true));
        let silent = Arc::new(AtomicBool::new(false));
        let model = model.to_string();
        let capabilities = Capabilities {
            protocol_version: "0.0.0".into(),
            tracks: vec![TrackInfo {
                name: "main_video".into(),
                kind: TrackKind::Video,
                direction: TrackDirection::Recvonly,
            }],
            commands: vec![],
            emission_fps: None,
        };
        let track_map = capabilities.clone();
        // Shaped as reactor-runtime 2.10.1 answers (the schema left out).
        let descriptor: SessionDescriptor = SessionDescriptor {
            session_id: "local".into(),
            cluster: Some("local".into()),
            server_info: None,
            schema: None,
            state: "WAITING".into(),
            model: SessionModel { name: model.clone() },
            selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
            capabilities,
        };
        let (t1, t2, t3, t4, t5) = (tx.clone(), tx.clone(), tx.clone(), tx.clone(), tx.clone());
        let (h, quiet) = (healthy.clone(), silent.clone());
        // Health tells whether a session runs, as the runtime's does.
        let running = Arc::new(AtomicBool::new(false));
        let (r1, r2, r3) = (running.clone(), running.clone(), running.clone());
        let health_model = model.clone();
        let (answer_count, answered) = watch::channel(0u64);
        let app = Router::new()
            .route(
                "/start_session",
                post(move || {
                    let _ = t1.send(Call::Start);
                    r1.store(true, Ordering::SeqCst);
                    let d = descriptor.clone();
                    async move { Json(d) }
                }),
            )
            .route(
                "/stop_session",
                post(move || {
                    let _ = t2.send(Call::Stop);
                    r2.store(false, Ordering::SeqCst);
                    async { Json(()) }
                }),
            )
            .route(
                "/health",
                get(move || {
                    let ok = h.load(Ordering::SeqCst);
                    let silent = quiet.load(Ordering::SeqCst);
                    let state = if r3.load(Ordering::SeqCst) { states::WAITING } else { states::READY };
                    let model = health_model.clone();
                    let answer_count = answer_count.clone();
                    async move {
                        if silent {
                            std::future::pending::<()>().await;
                        }
                        if ok {
                            answer_count.send_modify(|n| *n += 1);
                            Json(Health { status: "healthy".into(), model, state: state.into() }).into_response()
                        } else {
                            let _ = t5.send(Call::HealthRefused);
                            StatusCode::SERVICE_UNAVAILABLE.into_response()
                        }
                    }
                }),
            )
            .route(
                "/sessions/local/transport/webrtc/ice_servers",
                get(|| async { Json(IceServersResponse { ice_servers: vec![] }) }),
            )
            .route(
                "/sessions/local/transport/webrtc/connections",
                post(move |body: String| {
                    let _ = t3.send(Call::Webrtc("POST".into(), "connections".into(), body));
                    let track_map = track_map.clone();
                    async move { (StatusCode::CREATED, Json(NewConnection { connection_id: 1855.into(), track_map })) }
                }),
            )
            .route(
                "/sessions/local/transport/webrtc/connections/{id}/sdp_params",
                get(move || {
                    let _ = t4.send(Call::Webrtc("GET".into(), "sdp_params".into(), String::new()));
                    async { (StatusCode::ACCEPTED, Json(serde_json::Value::Null)) }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeRuntime { url: format!("http://{addr}"), addr, calls, healthy, silent, running, answered }
    }

    pub async fn next_call(&mut self) -> Call {
        tokio::time::timeout(SOON, self.calls.recv()).await.expect("a call in time").expect("double alive")
    }

    /// Waits for a health check answered after this call: one that found
    /// the double neither silent nor unhealthy.
    pub async fn next_answered_check(&self) {
        let mut answered = self.answered.clone();
        answered.mark_unchanged();
        tokio::time::timeout(SOON, answered.changed()).await.expect("a check answered in time").expect("double alive");
    }

    /// Waits for a call of this kind, skipping others.
    pub async fn expect(&mut self, wanted: &Call) {
        loop {
            if &self.next_call().await == wanted {
                return;
            }
        }
    }
}

/// The health rule of a held machine that only stays silent
/// (server/src/coordinator/health.rs), at the test config's checks (every
/// 200 ms, each waiting 1 s): three silent checks hold `client`'s session,
/// an answer again resets the count, and six in a row end it, not fewer.
pub async fn assert_silence_ends_the_session_after_six_checks(double: &FakeRuntime, client: &mut Client) {
    double.silent.store(true, Ordering::SeqCst);
    assert!(client.try_frame(Duration::from_millis(3_200)).await.is_none(), "the session holds");
    // The check pending when the silence ends still times out, up to 1 s
    // later: wait for the answer itself, not for a guess at its time.
    double.silent.store(false, Ordering::SeqCst);
    double.next_answered_check().await;
    assert!(client.try_frame(Duration::from_millis(300)).await.is_none(), "and an answer again counts");

    double.silent.store(true, Ordering::SeqCst);
    let silent_since = std::time::Instant::now();
    let body = client.expect_error().await;
    assert_eq!(body.code, reactor_protocol::ErrorCode::GpuConnectionError);
    let after = silent_since.elapsed();
    assert!(after >= Duration::from_millis(5_000), "ended after {after:?} of silence");
}

/// Test config with one machine per (model, url) double and no simulated ones.
/// A coordinator in front of one fake `echo` runtime, and a client whose
/// session has started on it: (the runtime, the server, the token, the client).
pub async fn one_session() -> (FakeRuntime, ServerHandle, String, Client) {
    let mut double = FakeRuntime::start("echo").await;
    let server = start(config_with(&[("echo", &double)])).await;
    let token = token(&server).await;
    let mut client = Client::hello(&server, &token, "echo", true).await;
    client.expect_assigned().await;
    double.expect(&Call::Start).await;
    (double, server, token, client)
}

pub fn config_with(doubles: &[(&str, &FakeRuntime)]) -> Config {
    Config {
        machines: vec![],
        machine_urls: doubles.iter().map(|(m, d)| (m.to_string(), d.url.clone())).collect(),
        ..Config::for_tests()
    }
}
