//! The coordinator: API keys and tokens, one FIFO queue per model over a
//! pool of machines (each just a URL speaking the runtime local API), the
//! client WebSockets and the signaling proxy.

mod cluster;
mod health;
mod machines;
mod proxy;
pub mod queue;
pub mod tokens;
mod ws;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use reactor_protocol::coordinator::{
    Assigned, CoordinatorStats, ErrorBody, IceServer, Queued, ResumeInfo, ServerFrame, TokenResponse, API_KEY_HEADER,
    STATS_PATH,
};
use reactor_protocol::runtime::Capabilities;
use reactor_protocol::ErrorCode;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::config::Config;
use queue::{ClientId, Event, Join, MachineId, Scheduler};
use tokens::Tokens;

/// A machine's descriptor `schema`, relayed as the machine wrote it.
pub(crate) type Schema = Box<RawValue>;

/// What the coordinator tells one client's WebSocket task.
///
/// Kept to a few words: on every hand-over one `Queued` goes to each waiting
/// client, and the channel blocks holding them are touched under the lock.
#[derive(Debug)]
pub(crate) enum ToClient {
    /// A new place in line (the task builds the `queued` frame).
    Queued {
        position: u32,
        estimated_wait: Option<f64>,
    },
    Frame(Box<ServerFrame<Schema>>),
    /// Send this error frame, then close.
    Fatal(Box<ErrorBody>),
}

/// What a machine's own task must do, in order.
#[derive(Debug)]
pub(crate) enum MachineOp {
    Start { client: ClientId },
    Reset,
}

struct MachineEntry {
    url: String,
    ops: mpsc::UnboundedSender<MachineOp>,
}

struct ClientEntry {
    key: String,
    token: String,
    model: String,
    /// The secret of `resume`.
    resume: String,
    /// The socket task serving it; `None` while its socket is away.
    link: Option<mpsc::UnboundedSender<ToClient>>,
    /// Counts the sockets it has had: a task or timer of an earlier one
    /// must not end the place of a later one.
    epoch: u64,
    /// The `assigned` frame and when it came, sent again on `resume`.
    assigned: Option<(ServerFrame<Schema>, Instant)>,
    /// An error that ended it while its socket was away, told on `resume`.
    fatal: Option<ErrorBody>,
}

impl ClientEntry {
    /// Tells the socket task, if there is one. What a socket that is away
    /// misses, `resume` makes good: the current position, the assignment
    /// again, and a fatal error kept here.
    fn tell(&mut self, message: ToClient) {
        let undelivered = match &self.link {
            Some(link) => link.send(message).err().map(|e| e.0),
            None => Some(message),
        };
        if let Some(ToClient::Fatal(body)) = undelivered {
            self.fatal = Some(*body);
        }
    }
}

/// How a client's socket ended, as its task saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SocketEnd {
    /// `leave`, a close frame, an error frame sent, the time limit, shutdown:
    /// the place or session is over.
    Left,
    /// The connection broke or went silent: the client may `resume` within
    /// the grace period.
    Dropped,
    /// A `resume` on another socket took over; nothing to do.
    Superseded,
}

/// An assigned session, as the proxy needs it.
struct Session {
    client: ClientId,
    machine: MachineId,
    token: String,
}

struct Inner {
    tokens: Tokens,
    scheduler: Scheduler,
    machines: Vec<MachineEntry>,
    clients: HashMap<ClientId, ClientEntry>,
    sessions: HashMap<String, Session>,
    /// Resume secret → client.
    resumes: HashMap<String, ClientId>,
    per_key: HashMap<String, usize>,
    next_client: ClientId,
}

pub(crate) struct Shared {
    pub config: Config,
    inner: Mutex<Inner>,
    /// Every call to a machine (health checks, start and stop, the
    /// signaling proxy) goes on a new connection; none is kept. A runtime
    /// frozen for a moment closes, on waking, the keep-alive connections it
    /// thinks idle, and resets one whose request it has not read yet: on a
    /// pooled connection that reset failed a re-offer made during the
    /// freeze, or read as a refused health check, which ends a held session
    /// after two checks instead of six silent ones.
    pub http: reqwest::Client,
    pub shutdown: watch::Receiver<bool>,
    live_sockets: AtomicUsize,
    sockets_gone: Notify,
    /// Redis mode: the state shared with other coordinator processes.
    cluster: Option<cluster::Cluster>,
}

/// A registered machine, as given to [`build`].
pub struct MachineSpec {
    pub model: String,
    pub url: String,
}

/// Builds the coordinator's state and router, and spawns one task per
/// machine (health checks, start and reset calls); returns once every
/// machine has been looked at once, so that the first clients find the
/// pool as it really is. Fails only when `config.redis` cannot be used.
pub(crate) async fn build(
    config: Config,
    machines: Vec<MachineSpec>,
    shutdown: watch::Receiver<bool>,
) -> Result<(Arc<Shared>, Router<()>), crate::Error> {
    let cluster = match &config.redis {
        Some(url) => Some(cluster::Cluster::connect(url, &machines).await.map_err(|e| format!("--redis {url}: {e}"))?),
        None => None,
    };
    let in_memory = cluster.is_none();
    let mut scheduler = Scheduler::new();
    let mut receivers = Vec::new();
    let mut entries = Vec::new();
    // In Redis mode the pool is in Redis and its tasks in `cluster`.
    for spec in machines.iter().filter(|_| in_memory) {
        let id = scheduler.add_machine(&spec.model);
        // Until its first health check says it is idle (see `machines`).
        scheduler.reclaim(id);
        let (tx, rx) = mpsc::unbounded_channel();
        entries.push(MachineEntry { url: spec.url.clone(), ops: tx });
        receivers.push((id, spec.url.clone(), rx));
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(std::time::Duration::from_secs(2))
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client");
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            tokens: Tokens::new(config.effective_api_keys(), config.token_ttl),
            scheduler,
            machines: entries,
            clients: HashMap::new(),
            sessions: HashMap::new(),
            resumes: HashMap::new(),
            per_key: HashMap::new(),
            next_client: 1,
        }),
        config,
        http,
        shutdown,
        live_sockets: AtomicUsize::new(0),
        sockets_gone: Notify::new(),
        cluster,
    });
    if in_memory {
        let mut checks = Vec::new();
        for (id, url, rx) in receivers {
            let (checked, check) = oneshot::channel();
            checks.push(check);
            tokio::spawn(machines::run(shared.clone(), id, url, rx, checked));
        }
        for check in checks {
            let _ = check.await;
        }
    } else {
        cluster::Cluster::run(&shared).await;
    }
    let router = Router::new()
        .route(reactor_protocol::coordinator::TOKENS_PATH, post(issue_token))
        .route(reactor_protocol::coordinator::WS_PATH, get(ws::upgrade))
        .route(STATS_PATH, get(stats))
        .route("/sessions/{session_id}/transport/webrtc/{*rest}", any(proxy::forward))
        .with_state(shared.clone());
    Ok((shared, router))
}

async fn issue_token(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let key = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Some(cluster) = &shared.cluster {
        return issue_shared_token(&shared, cluster, key).await;
    }
    let mut inner = shared.lock();
    match inner.tokens.issue(key, Instant::now()) {
        Some(token) => {
            let expires_in = inner.tokens.ttl().as_secs();
            Json(TokenResponse { token, expires_in }).into_response()
        }
        None => error_response(StatusCode::UNAUTHORIZED, ErrorCode::AuthenticationFailed, "invalid API key"),
    }
}

/// Redis mode: the key is checked here, the token kept in Redis.
async fn issue_shared_token(shared: &Shared, cluster: &cluster::Cluster, key: &str) -> Response {
    if !shared.lock().tokens.accepts(key) {
        return error_response(StatusCode::UNAUTHORIZED, ErrorCode::AuthenticationFailed, "invalid API key");
    }
    let token = tokens::random_hex(32);
    let ttl = shared.config.token_ttl;
    match cluster.issue_token(&token, key, ttl).await {
        Ok(()) => Json(TokenResponse { token, expires_in: ttl.as_secs() }).into_response(),
        Err(body) => (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response(),
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<CoordinatorStats> {
    let sockets_open = shared.live_sockets.load(Ordering::SeqCst) as u64;
    let inner = shared.lock();
    Json(CoordinatorStats {
        sockets_open,
        clients: inner.clients.len() as u64,
        sessions: inner.sessions.len() as u64,
        clients_admitted: inner.next_client - 1,
    })
}

pub(crate) fn error_body(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody { code: code.into(), message: message.into(), retry_after: None }
}

/// Why a `hello` or `resume` is refused: the same words in both modes.
mod refusal {
    use super::{error_body, ErrorBody, ErrorCode};

    pub fn bad_token() -> ErrorBody {
        error_body(ErrorCode::AuthenticationFailed, "invalid or expired token")
    }

    pub fn unknown_model(model: &str) -> ErrorBody {
        error_body(ErrorCode::UnknownModel, format!("no model named `{model}` is served here"))
    }

    pub fn limit_reached(limit: usize) -> ErrorBody {
        error_body(
            ErrorCode::SessionLimitReached,
            format!("this API key already holds {limit} session(s) or queue place(s)"),
        )
    }

    pub fn no_capacity(model: &str, retry_after: f64) -> ErrorBody {
        ErrorBody {
            code: ErrorCode::NoCapacity.into(),
            message: format!("every {model} machine is busy and queueing is off"),
            retry_after: Some(retry_after.ceil()),
        }
    }

    pub fn resume_gone() -> ErrorBody {
        let message =
            "the coordinator no longer holds this place or session (its grace period passed, or it restarted)";
        error_body(ErrorCode::ResumeFailed, message)
    }
}

pub(crate) fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, Json(error_body(code, message))).into_response()
}

/// A socket that [`Shared::join`] or [`Shared::resume`] attached to a client.
pub(crate) struct Admitted {
    pub client: ClientId,
    pub epoch: u64,
    pub rx: mpsc::UnboundedReceiver<ToClient>,
    /// Frames to send at once: `queued` when the client waits (nothing while
    /// its machine starts); on `resume`, `resumed` and what it missed.
    pub first: Vec<ServerFrame<Schema>>,
    /// When the session was assigned, for the time limit.
    pub assigned_at: Option<Instant>,
    /// An error to send after `first`, then close.
    pub fatal: Option<ErrorBody>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not take the whole coordinator down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared state; only Redis-mode tasks ask for it.
    fn cluster(&self) -> &cluster::Cluster {
        self.cluster.as_ref().expect("Redis mode")
    }

    /// Checks a hello and puts the client in line (or on a machine).
    pub async fn join(&self, token: &str, model: &str, queueing: bool) -> Result<Admitted, ErrorBody> {
        match &self.cluster {
            Some(cluster) => cluster.join(self, token, model, queueing).await,
            None => self.join_here(token, model, queueing),
        }
    }

    /// A `resume` frame: this socket takes over the client's place or session.
    pub async fn resume(&self, resume: &str) -> Result<Admitted, ErrorBody> {
        match &self.cluster {
            Some(cluster) => cluster.resume(resume).await,
            None => self.resume_here(resume),
        }
    }

    /// The socket task of `epoch` ended (see [`SocketEnd`]).
    pub async fn socket_ended(self: &Arc<Self>, client: ClientId, epoch: u64, end: SocketEnd) {
        match &self.cluster {
            Some(cluster) => cluster.socket_ended(self, client, epoch, end).await,
            None => self.socket_ended_here(client, epoch, end),
        }
    }

    /// Where the proxy sends a session's signaling, if the token owns it.
    pub async fn route(&self, session_id: &str) -> Option<(String, String)> {
        match &self.cluster {
            Some(cluster) => cluster.route(session_id).await,
            None => self.route_here(session_id),
        }
    }

    fn join_here(&self, token: &str, model: &str, queueing: bool) -> Result<Admitted, ErrorBody> {
        let now = Instant::now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(key) = inner.tokens.check(token, now).map(str::to_string) else {
            return Err(refusal::bad_token());
        };
        if !inner.scheduler.has_model(model) {
            return Err(refusal::unknown_model(model));
        }
        if let Some(limit) = self.config.max_sessions_per_key {
            if inner.per_key.get(&key).copied().unwrap_or(0) >= limit {
                return Err(refusal::limit_reached(limit));
            }
        }
        let client = inner.next_client;
        inner.next_client += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let resume = tokens::random_hex(16);
        let mut events = Vec::new();
        let first = match inner.scheduler.join(client, model, queueing, now, &mut events) {
            Join::UnknownModel => unreachable!("checked above"),
            Join::NoCapacity { retry_after } => return Err(refusal::no_capacity(model, retry_after)),
            Join::Assigned => vec![],
            Join::Queued { position, estimated_wait } => {
                let resume = Some(self.resume_info(&resume));
                vec![ServerFrame::Queued(Queued { position, estimated_wait, resume })]
            }
        };
        let entry = ClientEntry {
            key: key.clone(),
            token: token.to_string(),
            model: model.to_string(),
            resume: resume.clone(),
            link: Some(tx),
            epoch: 0,
            assigned: None,
            fatal: None,
        };
        inner.clients.insert(client, entry);
        inner.resumes.insert(resume, client);
        *inner.per_key.entry(key).or_default() += 1;
        apply(inner, events);
        Ok(Admitted { client, epoch: 0, rx, first, assigned_at: None, fatal: None })
    }

    pub(crate) fn resume_info(&self, token: &str) -> ResumeInfo {
        ResumeInfo { token: token.to_string(), grace: self.config.resume_grace.as_secs_f64() }
    }

    /// A `resume` frame: this socket takes over the client's place or
    /// session (from a dropped socket, or one that is not known dead yet).
    fn resume_here(&self, resume: &str) -> Result<Admitted, ErrorBody> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let gone = refusal::resume_gone;
        let client = *inner.resumes.get(resume).ok_or_else(gone)?;
        let position = inner.scheduler.position_of(client);
        let model = inner.clients.get(&client).map(|e| e.model.clone()).ok_or_else(gone)?;
        let estimated_wait = position.and_then(|p| inner.scheduler.estimate(&model, p, Instant::now()));
        let entry = inner.clients.get_mut(&client).ok_or_else(gone)?;
        let (tx, rx) = mpsc::unbounded_channel();
        // The old task, if any, sees its channel close and ends as superseded.
        entry.link = Some(tx);
        entry.epoch += 1;
        let assigned_at = entry.assigned.as_ref().map(|(_, at)| *at);
        let assigned = entry.assigned.as_ref().map(|(frame, _)| frame.clone());
        let first = resumed_frames(position.map(|p| (p, estimated_wait)), assigned);
        tracing::info!(client, epoch = entry.epoch, "client resumed");
        Ok(Admitted { client, epoch: entry.epoch, rx, first, assigned_at, fatal: entry.fatal.take() })
    }

    /// The socket task of `epoch` ended. A dropped socket keeps the place
    /// or session for the grace period, so that `resume` can take it back.
    fn socket_ended_here(self: &Arc<Self>, client: ClientId, epoch: u64, end: SocketEnd) {
        let grace = self.config.resume_grace;
        let detached = {
            let mut inner = self.lock();
            let Some(entry) = inner.clients.get_mut(&client) else { return };
            if entry.epoch != epoch || end == SocketEnd::Superseded {
                return;
            }
            let keep = end == SocketEnd::Dropped && !grace.is_zero();
            if keep {
                entry.link = None;
            }
            keep
        };
        if !detached {
            return self.leave(client);
        }
        tracing::info!(client, grace_secs = grace.as_secs_f64(), "client socket dropped; holding its place");
        let shared = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let expired = {
                let inner = shared.lock();
                inner.clients.get(&client).is_some_and(|e| e.epoch == epoch && e.link.is_none())
            };
            if expired {
                tracing::info!(client, "grace period over; the place is given up");
                shared.leave(client);
            }
        });
    }

    /// The client's socket is gone or it said `leave`: idempotent.
    pub fn leave(&self, client: ClientId) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(entry) = inner.clients.remove(&client) else { return };
        inner.resumes.remove(&entry.resume);
        if let Some(count) = inner.per_key.get_mut(&entry.key) {
            *count -= 1;
            if *count == 0 {
                inner.per_key.remove(&entry.key);
            }
        }
        inner.sessions.retain(|_, s| s.client != client);
        if *self.shutdown.borrow() {
            // Everyone is being told COORDINATOR_SHUTDOWN; new places are moot.
            inner.scheduler.stop_position_updates();
        }
        let mut events = Vec::new();
        inner.scheduler.leave(client, Instant::now(), &mut events);
        tracing::debug!(client, model = entry.model, "client left");
        apply(inner, events);
    }

    fn route_here(&self, session_id: &str) -> Option<(String, String)> {
        let inner = self.lock();
        let session = inner.sessions.get(session_id)?;
        Some((session.token.clone(), inner.machines[session.machine].url.clone()))
    }

    /// Called by a machine task once `start_session` answered.
    fn started(
        &self,
        machine: MachineId,
        client: ClientId,
        capabilities: Capabilities,
        schema: Option<Schema>,
        ice_servers: Vec<IceServer>,
    ) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if inner.scheduler.machine_of(client) != Some(machine) {
            // The client left while the machine started; a reset is queued.
            return;
        }
        let resume = match inner.clients.get(&client) {
            Some(entry) => self.resume_info(&entry.resume),
            None => return,
        };
        let session_id = tokens::random_hex(12);
        let model = inner.scheduler.machine_model(machine).to_string();
        tracing::info!(client, machine, model, session_id, "session assigned");
        let frame = ServerFrame::Assigned(Assigned {
            session_id: session_id.clone(),
            model: reactor_protocol::coordinator::ModelInfo { name: model },
            capabilities,
            ice_servers,
            resume: Some(resume),
            schema,
        });
        let Some(entry) = inner.clients.get_mut(&client) else { return };
        entry.assigned = Some((frame.clone(), Instant::now()));
        entry.tell(ToClient::Frame(Box::new(frame)));
        let token = entry.token.clone();
        inner.sessions.insert(session_id, Session { client, machine, token });
    }

    fn with_scheduler(&self, f: impl FnOnce(&mut Scheduler, &mut Vec<Event>)) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut events = Vec::new();
        f(&mut inner.scheduler, &mut events);
        apply(inner, events);
    }

    fn socket_opened(&self) {
        self.live_sockets.fetch_add(1, Ordering::SeqCst);
    }

    fn socket_closed(&self) {
        if self.live_sockets.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.sockets_gone.notify_waiters();
        }
    }

    /// Waits until every client socket has been told and closed.
    pub async fn sockets_closed(&self) {
        loop {
            let notified = self.sockets_gone.notified();
            if self.live_sockets.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// What a `resume` is answered with, in both modes: `resumed`, then the
/// current place while waiting, or the assignment again.
pub(crate) fn resumed_frames(
    queued: Option<(u32, Option<f64>)>,
    assigned: Option<ServerFrame<Schema>>,
) -> Vec<ServerFrame<Schema>> {
    let mut frames = vec![ServerFrame::Resumed];
    if let Some((position, estimated_wait)) = queued {
        frames.push(ServerFrame::Queued(Queued { position, estimated_wait, resume: None }));
    }
    frames.extend(assigned);
    frames
}

/// Performs the scheduler's events; cheap and non-blocking, so it runs
/// under the lock and keeps their order.
fn apply(inner: &mut Inner, events: Vec<Event>) {
    for event in events {
        match event {
            Event::Assign { client, machine } => {
                let _ = inner.machines[machine].ops.send(MachineOp::Start { client });
            }
            Event::Reset { machine } => {
                let _ = inner.machines[machine].ops.send(MachineOp::Reset);
            }
            Event::Position { client, position, estimated_wait } => {
                if let Some(entry) = inner.clients.get_mut(&client) {
                    entry.tell(ToClient::Queued { position, estimated_wait });
                }
            }
            Event::Lost { client, machine } => {
                tracing::warn!(client, machine, "machine lost mid-session");
                inner.sessions.retain(|_, s| s.client != client);
                if let Some(entry) = inner.clients.get_mut(&client) {
                    entry.assigned = None;
                    entry.tell(ToClient::Fatal(Box::new(error_body(
                        ErrorCode::GpuConnectionError,
                        "the machine serving this session stopped answering",
                    ))));
                }
            }
        }
    }
}

/// Resolves once shutdown has begun (at once if it already has).
pub(crate) async fn stopping(rx: &mut watch::Receiver<bool>) {
    // The borrow guard wait_for returns is not Send: drop it here.
    let _ = rx.wait_for(|stop| *stop).await.is_ok();
}
