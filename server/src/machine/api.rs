//! The machine's HTTP side: the runtime local API (session lifecycle and
//! WebRTC signaling). One session at a time, always named `local`. Every
//! answer, errors included, has the shape and JSON types reactor-runtime
//! 2.10.1 gives (tests/runtime/conformance.test.mjs compares the two).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use reactor_protocol::runtime::{
    states, ConnectionId, ConnectionKey, Empty, Health, IceCandidates, IceServersResponse, NewConnection,
    RuntimeProblem, SdpAnswer, SdpOffer, SelectedTransport, ServerInfo, SessionDescriptor, SessionModel,
};
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;

use super::models::ModelKind;
use super::rtc::{self, RtcCmd};

enum Answer {
    /// No offer yet, or the answer is being built.
    Pending,
    Ready(String),
    /// The offer could not be answered (logged when it happened).
    Failed,
}

struct Connection {
    answer: Answer,
    /// The connection's WebRTC thread, once an offer arrived.
    rtc: Option<rtc::RtcHandle>,
    /// Candidates that arrived before the offer.
    early_candidates: Vec<String>,
}

struct Inner {
    running: bool,
    connections: HashMap<u64, Connection>,
}

pub(crate) struct MachineState {
    kind: ModelKind,
    fps: u32,
    inner: Mutex<Inner>,
}

impl MachineState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn descriptor(&self, state: &str) -> SessionDescriptor<Value> {
        SessionDescriptor {
            session_id: reactor_protocol::runtime::LOCAL_SESSION_ID.into(),
            cluster: Some("local".into()),
            server_info: Some(ServerInfo { server_version: SERVER_VERSION.into() }),
            selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
            model: SessionModel { name: self.kind.name().into() },
            capabilities: self.kind.capabilities(),
            schema: Some(self.kind.schema()),
            state: state.into(),
        }
    }

    /// The runtime's lifecycle state: `READY` with no session, `WAITING`
    /// for a client, `STREAMING` while one is connected.
    fn state(&self) -> &'static str {
        let inner = self.lock();
        if !inner.running {
            states::READY
        } else if inner.connections.values().any(|c| c.rtc.as_ref().is_some_and(|r| r.is_alive())) {
            states::STREAMING
        } else {
            states::WAITING
        }
    }

    /// Ends every WebRTC connection (session stop or machine shutdown).
    pub fn close_all(&self) {
        let mut inner = self.lock();
        for (_, connection) in inner.connections.drain() {
            if let Some(rtc) = connection.rtc {
                rtc.send(RtcCmd::Close);
            }
        }
    }
}

type Shared = Arc<MachineState>;

/// What `server_info.server_version` says: which simulated machine this is.
const SERVER_VERSION: &str = concat!("reactor-wasm-sim/", env!("CARGO_PKG_VERSION"));

pub(crate) fn router(kind: ModelKind, fps: u32) -> (Shared, Router) {
    let state =
        Arc::new(MachineState { kind, fps, inner: Mutex::new(Inner { running: false, connections: HashMap::new() }) });
    let webrtc = "/sessions/{session_id}/transport/webrtc";
    let router = Router::new()
        .route("/start_session", post(start_session))
        .route("/stop_session", post(stop_session))
        .route("/session", get(session))
        .route("/health", get(health))
        .route(&format!("{webrtc}/ice_servers"), get(ice_servers))
        .route(&format!("{webrtc}/connections"), post(new_connection))
        .route(
            &format!("{webrtc}/connections/{{connection_id}}/sdp_params"),
            post(post_offer).put(post_offer).get(get_answer),
        )
        .route(&format!("{webrtc}/connections/{{connection_id}}/ice_candidates"), post(candidates))
        // The SDK's local mode talks to a machine straight from a page.
        .layer(CorsLayer::very_permissive())
        .with_state(state.clone());
    (state, router)
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(RuntimeProblem { detail: message.to_string() })).into_response()
}

/// FastAPI's answer to a request it cannot validate (the runtime is a
/// FastAPI app): 422 with a list of what is wrong where.
fn invalid(location: [&str; 2], message: &str, input: Value) -> Response {
    let detail = json!([{"type": "value_error", "loc": location, "msg": message, "input": input}]);
    (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": detail }))).into_response()
}

const SESSION_NOT_FOUND: &str = "Session not found";
const CONNECTION_NOT_FOUND: &str = "Connection not found";
const UNKNOWN_CONNECTION: &str = "Unknown connection; register via POST .../connections first";

async fn start_session(State(state): State<Shared>) -> Json<SessionDescriptor<Value>> {
    {
        let mut inner = state.lock();
        if !inner.running {
            inner.running = true;
            tracing::info!(model = state.kind.name(), "session started");
        }
    }
    Json(state.descriptor(state.state()))
}

async fn stop_session(State(state): State<Shared>) -> Json<()> {
    state.close_all();
    let mut inner = state.lock();
    if inner.running {
        inner.running = false;
        tracing::info!(model = state.kind.name(), "session stopped");
    }
    Json(())
}

async fn session(State(state): State<Shared>) -> Json<SessionDescriptor<Value>> {
    Json(state.descriptor(state.state()))
}

async fn health(State(state): State<Shared>) -> Json<Health> {
    Json(Health { status: "healthy".into(), model: state.kind.name().into(), state: state.state().into() })
}

/// Loopback needs no ICE servers; a dead one would only stall gathering.
async fn ice_servers() -> Json<IceServersResponse> {
    Json(IceServersResponse { ice_servers: Vec::new() })
}

fn is_local(session_id: &str) -> bool {
    session_id == reactor_protocol::runtime::LOCAL_SESSION_ID
}

/// The connection id and the JSON body of a request on the local session,
/// or the answer refusing it, as the runtime would (404, or FastAPI's 422).
// The error is the HTTP answer itself, returned straight to axum: boxing it
// would only add an allocation.
#[allow(clippy::result_large_err)]
fn local_body<T: serde::de::DeserializeOwned>(session_id: &str, id: &str, body: &[u8]) -> Result<(u64, T), Response> {
    let id = local_connection(session_id, id)?;
    let body = serde_json::from_slice(body).map_err(|error| {
        invalid(["body", ""], &error.to_string(), Value::String(String::from_utf8_lossy(body).into()))
    })?;
    Ok((id, body))
}

/// The connection id of a path on the local session (the runtime's are
/// integers), or the answer refusing it.
#[allow(clippy::result_large_err)]
fn local_connection(session_id: &str, id: &str) -> Result<u64, Response> {
    if !is_local(session_id) {
        return Err(problem(StatusCode::NOT_FOUND, SESSION_NOT_FOUND));
    }
    id.parse().map_err(|_| {
        invalid(
            ["path", "connection_id"],
            "Input should be a valid integer, unable to parse string as an integer",
            id.into(),
        )
    })
}

/// A fresh 4-digit id, as the runtime mints them (1001 is its reserved one).
fn mint_id(taken: &HashMap<u64, Connection>) -> u64 {
    loop {
        let id = rand::random_range(1000..10_000);
        if id != 1001 && !taken.contains_key(&id) {
            return id;
        }
    }
}

async fn new_connection(State(state): State<Shared>, Path(session_id): Path<String>) -> Response {
    if !is_local(&session_id) {
        return problem(StatusCode::NOT_FOUND, SESSION_NOT_FOUND);
    }
    let mut inner = state.lock();
    if !inner.running {
        return problem(StatusCode::BAD_REQUEST, "No session running");
    }
    let connection_id = mint_id(&inner.connections);
    inner
        .connections
        .insert(connection_id, Connection { answer: Answer::Pending, rtc: None, early_candidates: Vec::new() });
    tracing::debug!(connection_id, "connection registered");
    let created = NewConnection { connection_id: connection_id.into(), track_map: state.kind.capabilities() };
    (StatusCode::CREATED, Json(created)).into_response()
}

async fn post_offer(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (connection_id, offer): (u64, SdpOffer) = match local_body(&session_id, &connection_id, &body) {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    {
        let mut inner = state.lock();
        let Some(connection) = inner.connections.get_mut(&connection_id) else {
            return problem(StatusCode::NOT_FOUND, UNKNOWN_CONNECTION);
        };
        match &connection.rtc {
            // As the runtime: a new offer on a live connection replaces its
            // transport and keeps the session (its reconnect); until the new
            // answer is ready, the old one is what `GET` serves…
            Some(rtc) if rtc.is_alive() => rtc.send(RtcCmd::Offer { offer, reply }),
            // …and a connection whose peer went is forgotten.
            Some(_) => {
                inner.connections.remove(&connection_id);
                return problem(StatusCode::NOT_FOUND, UNKNOWN_CONNECTION);
            }
            None => {
                let candidates = std::mem::take(&mut connection.early_candidates);
                let model = state.kind.instantiate();
                connection.rtc =
                    Some(rtc::spawn(connection_id.to_string(), offer, candidates, model, state.fps, reply));
                connection.answer = Answer::Pending;
            }
        }
    }
    let waiting = state.clone();
    let id = connection_id;
    tokio::spawn(async move {
        let result = answer.await.unwrap_or_else(|_| Err("the connection ended before answering".into()));
        let mut inner = waiting.lock();
        if let Some(connection) = inner.connections.get_mut(&id) {
            connection.answer = match result {
                Ok(sdp) => Answer::Ready(sdp),
                Err(error) => {
                    tracing::warn!(connection_id = id, error, "offer refused");
                    Answer::Failed
                }
            };
        }
    });
    (StatusCode::ACCEPTED, Json(ConnectionId { connection_id: connection_id.into() })).into_response()
}

async fn get_answer(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
) -> Response {
    let connection_id = match local_connection(&session_id, &connection_id) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let mut inner = state.lock();
    let Some(connection) = inner.connections.get(&connection_id) else {
        return problem(StatusCode::NOT_FOUND, CONNECTION_NOT_FOUND);
    };
    match &connection.answer {
        // The runtime's "not yet": 202 with a `null` body.
        Answer::Pending => (StatusCode::ACCEPTED, Json(Value::Null)).into_response(),
        Answer::Ready(sdp) => {
            Json(SdpAnswer { sdp_answer: sdp.clone(), connection_id: ConnectionKey::Number(connection_id) })
                .into_response()
        }
        // The runtime forgets a connection whose offer it could not answer.
        Answer::Failed => {
            inner.connections.remove(&connection_id);
            problem(StatusCode::NOT_FOUND, CONNECTION_NOT_FOUND)
        }
    }
}

async fn candidates(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (connection_id, candidates): (u64, IceCandidates) = match local_body(&session_id, &connection_id, &body) {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let mut inner = state.lock();
    // The runtime takes candidates for a connection it does not know, and drops them.
    let Some(connection) = inner.connections.get_mut(&connection_id) else {
        return (StatusCode::ACCEPTED, Json(Empty {})).into_response();
    };
    let lines = candidates.candidates.into_iter().map(|c| c.candidate).filter(|c| !c.is_empty());
    match &connection.rtc {
        Some(rtc) => {
            for line in lines {
                rtc.send(RtcCmd::Candidate(line));
            }
        }
        None => connection.early_candidates.extend(lines),
    }
    (StatusCode::ACCEPTED, Json(Empty {})).into_response()
}
