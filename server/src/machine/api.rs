//! The machine's HTTP side: the runtime local API (session lifecycle and
//! WebRTC signaling). One session at a time, always named `local`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use reactor_protocol::runtime::{
    ConnectionId, Health, IceCandidates, IceServersResponse, NewConnection, RuntimeProblem, SdpAnswer, SdpOffer,
    SelectedTransport, SessionDescriptor, SessionModel,
};
use tower_http::cors::CorsLayer;

use super::models::ModelKind;
use super::rtc::{self, RtcCmd};
use crate::coordinator::tokens::random_hex;

enum Answer {
    /// No offer yet, or the answer is being built.
    Pending,
    Ready(String),
    Failed(String),
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
    connections: HashMap<String, Connection>,
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

    fn descriptor(&self, running: bool) -> SessionDescriptor {
        SessionDescriptor {
            session_id: reactor_protocol::runtime::LOCAL_SESSION_ID.into(),
            state: if running { "running" } else { "idle" }.into(),
            model: SessionModel { name: self.kind.name().into() },
            selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
            capabilities: self.kind.capabilities(self.fps),
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

async fn start_session(State(state): State<Shared>) -> Json<SessionDescriptor> {
    let mut inner = state.lock();
    if !inner.running {
        inner.running = true;
        tracing::info!(model = state.kind.name(), "session started");
    }
    Json(state.descriptor(true))
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

async fn session(State(state): State<Shared>) -> Json<SessionDescriptor> {
    let running = state.lock().running;
    Json(state.descriptor(running))
}

async fn health(State(state): State<Shared>) -> Json<Health> {
    let running = state.lock().running;
    Json(Health {
        status: "ok".into(),
        model: state.kind.name().into(),
        state: if running { "running" } else { "idle" }.into(),
    })
}

/// Loopback needs no ICE servers; a dead one would only stall gathering.
async fn ice_servers() -> Json<IceServersResponse> {
    Json(IceServersResponse { ice_servers: Vec::new() })
}

fn is_local(session_id: &str) -> bool {
    session_id == reactor_protocol::runtime::LOCAL_SESSION_ID
}

/// The JSON body of a request on the local session, or the answer refusing it.
// The error is the HTTP answer itself, returned straight to axum: boxing it
// would only add an allocation.
#[allow(clippy::result_large_err)]
fn local_body<T: serde::de::DeserializeOwned>(session_id: &str, body: &[u8], what: &str) -> Result<T, Response> {
    if !is_local(session_id) {
        return Err(problem(StatusCode::NOT_FOUND, "unknown session"));
    }
    serde_json::from_slice(body).map_err(|error| problem(StatusCode::BAD_REQUEST, &format!("bad {what} body: {error}")))
}

async fn new_connection(State(state): State<Shared>, Path(session_id): Path<String>) -> Response {
    if !is_local(&session_id) {
        return problem(StatusCode::NOT_FOUND, "unknown session");
    }
    let mut inner = state.lock();
    if !inner.running {
        return problem(StatusCode::BAD_REQUEST, "no session is running");
    }
    let connection_id = random_hex(8);
    inner
        .connections
        .insert(connection_id.clone(), Connection { answer: Answer::Pending, rtc: None, early_candidates: Vec::new() });
    tracing::debug!(connection_id, "connection registered");
    let track_map = state.kind.capabilities(state.fps).tracks;
    (StatusCode::CREATED, Json(NewConnection { connection_id, track_map })).into_response()
}

async fn post_offer(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let offer: SdpOffer = match local_body(&session_id, &body, "sdp_params") {
        Ok(offer) => offer,
        Err(refusal) => return refusal,
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    {
        let mut inner = state.lock();
        let Some(connection) = inner.connections.get_mut(&connection_id) else {
            return problem(StatusCode::NOT_FOUND, "unknown connection");
        };
        connection.answer = Answer::Pending;
        // A live connection renegotiates in place; a dead or new one starts over.
        let reuse = connection.rtc.as_ref().is_some_and(|r| r.is_alive());
        if reuse {
            connection.rtc.as_ref().expect("checked").send(RtcCmd::Offer { offer, reply });
        } else {
            let candidates = std::mem::take(&mut connection.early_candidates);
            let model = state.kind.instantiate();
            connection.rtc = Some(rtc::spawn(connection_id.clone(), offer, candidates, model, state.fps, reply));
        }
    }
    let waiting = state.clone();
    let id = connection_id.clone();
    tokio::spawn(async move {
        let result = answer.await.unwrap_or_else(|_| Err("the connection ended before answering".into()));
        let mut inner = waiting.lock();
        if let Some(connection) = inner.connections.get_mut(&id) {
            connection.answer = match result {
                Ok(sdp) => Answer::Ready(sdp),
                Err(error) => {
                    tracing::warn!(connection_id = id, error, "offer refused");
                    Answer::Failed(error)
                }
            };
        }
    });
    (StatusCode::ACCEPTED, Json(ConnectionId { connection_id })).into_response()
}

async fn get_answer(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
) -> Response {
    if !is_local(&session_id) {
        return problem(StatusCode::NOT_FOUND, "unknown session");
    }
    let inner = state.lock();
    let Some(connection) = inner.connections.get(&connection_id) else {
        return problem(StatusCode::NOT_FOUND, "unknown connection");
    };
    match &connection.answer {
        Answer::Pending => (StatusCode::ACCEPTED, Json(ConnectionId { connection_id })).into_response(),
        Answer::Ready(sdp) => Json(SdpAnswer { sdp_answer: sdp.clone(), connection_id }).into_response(),
        Answer::Failed(error) => problem(StatusCode::BAD_REQUEST, error),
    }
}

async fn candidates(
    State(state): State<Shared>,
    Path((session_id, connection_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let candidates: IceCandidates = match local_body(&session_id, &body, "ice_candidates") {
        Ok(candidates) => candidates,
        Err(refusal) => return refusal,
    };
    let mut inner = state.lock();
    let Some(connection) = inner.connections.get_mut(&connection_id) else {
        return problem(StatusCode::NOT_FOUND, "unknown connection");
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
    (StatusCode::ACCEPTED, Json(ConnectionId { connection_id })).into_response()
}
