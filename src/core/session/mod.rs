//! The session state machine: every decision of the SDK, no browser.
//! Connecting and signaling live here; messages, publishing and statistics
//! in the submodules.

mod messages;
mod publish;
mod stats;

use std::collections::VecDeque;

use reactor_protocol::coordinator::{ClientFrame, ErrorBody, ServerFrame, TOKENS_PATH, WS_PATH};
use reactor_protocol::runtime::{
    paths, Capabilities, ControlMessage, RuntimeMessage, Scope, TrackDirection, TrackEvent, TrackKind, TrackRef,
    LOCAL_SESSION_ID, PING_INTERVAL_MS,
};
use reactor_protocol::ErrorCode;

use super::io::*;
use super::link::Link;
use super::{Options, ReactorError, Status, WaitingInfo};

/// How long each step before `ready` may take.
pub const TOKEN_TIMEOUT_MS: u32 = 10_000;
pub const SOCKET_TIMEOUT_MS: u32 = 10_000;
/// From `hello` to the first `queued` or `assigned` frame.
pub const HELLO_TIMEOUT_MS: u32 = 10_000;
/// From assignment to the machine's SDP answer.
pub const SIGNALING_TIMEOUT_MS: u32 = 20_000;
/// From the answer to `ready`.
pub const CONNECT_TIMEOUT_MS: u32 = 20_000;
pub const ANSWER_POLL_MS: u32 = 100;
/// Until the browser says otherwise; the smallest size every browser takes.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 65_536;

#[derive(Debug)]
enum Phase {
    Idle,
    /// `POST /tokens` in flight.
    Token,
    /// WebSocket opening.
    Socket { token: String },
    /// `hello` sent; queued or about to be.
    Queue { token: String, heard: bool },
    /// Local mode: `POST /start_session` in flight.
    StartSession,
    Machine(Link),
}

pub struct Session<V> {
    options: Options,
    generation: u32,
    status: Status,
    phase: Phase,
    socket_open: bool,
    waiting: Option<WaitingInfo>,
    last_error: Option<ReactorError>,
    showing_stream: bool,
    max_message_size: usize,
    actions: VecDeque<Action<V>>,
    next_promise: PromiseId,
    connect_promise: Option<PromiseId>,
    /// Development mode: messages waiting for `ready`.
    held: VecDeque<messages::Held<V>>,
    publishing: publish::Publishing<V>,
    stats: stats::Stats,
    /// The time of the input being handled.
    now: f64,
}

impl<V> Session<V> {
    pub fn new(options: Options) -> Self {
        Session {
            options,
            generation: 0,
            status: Status::Disconnected,
            phase: Phase::Idle,
            socket_open: false,
            waiting: None,
            last_error: None,
            showing_stream: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            actions: VecDeque::new(),
            next_promise: 0,
            connect_promise: None,
            held: VecDeque::new(),
            publishing: publish::Publishing::default(),
            stats: stats::Stats::default(),
            now: 0.0,
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// `undefined` unless waiting.
    pub fn waiting_info(&self) -> Option<WaitingInfo> {
        self.waiting.filter(|_| self.status == Status::Waiting)
    }

    pub fn last_error(&self) -> Option<&ReactorError> {
        self.last_error.as_ref()
    }

    /// Tag for inputs: the web shell passes it back with every input of the
    /// connection it belongs to.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The next thing for the web shell to do.
    pub fn poll_action(&mut self) -> Option<Action<V>> {
        self.actions.pop_front()
    }

    /// `connect()`: refused (nothing changes) when already connecting or
    /// connected; otherwise pending until `ready` or failure.
    pub fn connect(&mut self, now: f64) -> Outcome {
        if !matches!(self.phase, Phase::Idle) {
            let message = format!("connect() was called while {}", self.status.as_str());
            return Outcome::Failed(ReactorError::new(ErrorCode::AlreadyConnected, message, now));
        }
        let promise = self.promise();
        self.connect_promise = Some(promise);
        self.generation = self.generation.wrapping_add(1);
        self.set_status(Status::Connecting);
        let url = &self.options.coordinator_url;
        if self.options.local {
            self.phase = Phase::StartSession;
            let request = plain_request(Purpose::StartSession, format!("{url}{}", paths::START_SESSION));
            self.actions.push_back(Action::Http(request));
        } else {
            self.phase = Phase::Token;
            let mut request = plain_request(Purpose::Token, format!("{url}{TOKENS_PATH}"));
            request.api_key = Some(self.options.api_key.clone());
            self.actions.push_back(Action::Http(request));
        }
        self.set_timer(Timer::Step, TOKEN_TIMEOUT_MS);
        Outcome::Pending(promise)
    }

    fn promise(&mut self) -> PromiseId {
        self.next_promise = self.next_promise.wrapping_add(1);
        self.next_promise
    }

    fn settle(&mut self, promise: PromiseId, result: Result<(), ReactorError>) {
        self.actions.push_back(Action::Settle { promise, result });
    }

    /// `disconnect()`: leaves whatever was reached, at once. What was
    /// still pending (`connect()`, held messages, a publish) rejects with
    /// `CONNECTION_ABORTED`; that is the caller's own doing, so it is not
    /// reported as an `error`.
    pub fn disconnect(&mut self, now: f64) {
        let err = ReactorError::new(ErrorCode::ConnectionAborted, "disconnect() was called", now);
        self.reject_pending(&err);
        if !matches!(self.phase, Phase::Idle) {
            self.teardown();
        }
    }

    /// Rejects every promise still waiting on this connection.
    fn reject_pending(&mut self, err: &ReactorError) {
        if let Some(promise) = self.connect_promise.take() {
            self.settle(promise, Err(err.clone()));
        }
        self.drop_held(err);
        self.drop_publish(err);
    }

    /// Feeds one browser input. Inputs of an older connection are dropped.
    pub fn handle(&mut self, now: f64, generation: u32, input: Input<V>) {
        if generation != self.generation || matches!(self.phase, Phase::Idle) {
            return;
        }
        self.now = now;
        match input {
            Input::Http { purpose, result } => self.on_http(now, purpose, result),
            Input::SocketOpen => self.on_socket_open(),
            Input::SocketFrame(frame) => self.on_frame(now, frame),
            Input::SocketBadFrame(what) => {
                let message = format!("the coordinator sent an unexpected frame: {what}");
                self.fail(ReactorError::new(ErrorCode::CoordinatorConnectionError, message, now));
            }
            Input::SocketClosed { code, reason } => {
                self.socket_open = false;
                let message = format!("the coordinator closed the connection (code {code}{}{reason})", sep(&reason));
                self.fail(ReactorError::new(ErrorCode::CoordinatorConnectionError, message, now));
            }
            Input::Timer(timer) => self.on_timer(now, timer),
            Input::OfferReady { sdp, mids } => self.on_offer(now, sdp, mids),
            Input::LocalCandidate(candidate) => {
                if let Phase::Machine(link) = &mut self.phase {
                    if let Some(request) = link.add_candidate(candidate) {
                        self.actions.push_back(Action::Http(request));
                    }
                }
            }
            Input::PeerFailed(why) => self.fail_machine(now, why),
            Input::PeerState(state) => self.on_peer_state(now, state),
            Input::MaxMessageSize(size) => self.max_message_size = size,
            Input::ChannelOpen(channel) => self.on_channel_open(channel),
            Input::ChannelClosed(channel) => {
                let name = channel_name(channel);
                self.fail_machine(now, format!("the `{name}` data channel closed"));
            }
            Input::DataMessage { scope, data } => {
                // Runtime messages (mediaStats, modelSchema) are the SDK's own business.
                if scope == Some(Scope::Application) {
                    self.actions.push_back(Action::Emit(Event::NewMessage(data)));
                }
            }
            Input::RemoteTrack(track) => {
                self.showing_stream = true;
                self.actions.push_back(Action::Emit(Event::StreamChanged(Some(track))));
                self.start_stats();
            }
            Input::Control(message) => self.on_control(now, message),
            Input::Stats { frames_decoded, at_ms } => self.on_stats(frames_decoded, at_ms),
        }
    }

    fn on_http(&mut self, now: f64, purpose: Purpose, result: HttpResult) {
        let (status, reply) = match result {
            HttpResult::Answered { status, reply } => (status, reply),
            HttpResult::Failed(why) => return self.fail(unreachable_error(purpose, &self.options, why, now)),
        };
        match (purpose, reply) {
            (_, Reply::Error(body)) => self.fail(from_body(body, now)),
            (_, Reply::Other) if !is_success(status) => self.fail(status_error(purpose, status, now)),
            (Purpose::Token, Reply::Token(token)) => {
                if let Phase::Token = self.phase {
                    self.phase = Phase::Socket { token: token.token };
                    let url = ws_url(&self.options.coordinator_url);
                    self.actions.push_back(Action::OpenSocket { url });
                    self.set_timer(Timer::Step, SOCKET_TIMEOUT_MS);
                }
            }
            (Purpose::StartSession, Reply::Session(descriptor)) => {
                let base = format!("{}/sessions/{LOCAL_SESSION_ID}{}", self.options.coordinator_url, paths::WEBRTC);
                self.start_link(base, None, descriptor.capabilities, Vec::new());
            }
            (Purpose::RegisterConnection, Reply::Connection(c)) => {
                if let Phase::Machine(link) = &mut self.phase {
                    if let Some(request) = link.set_connection_id(c.connection_id) {
                        self.actions.push_back(Action::Http(request));
                    }
                }
            }
            (Purpose::PostOffer, _) => {
                if let Phase::Machine(link) = &mut self.phase {
                    let answer = link.get_answer();
                    let candidates = link.offer_posted();
                    self.actions.push_back(Action::Http(answer));
                    self.actions.extend(candidates.map(Action::Http));
                }
            }
            (Purpose::GetAnswer, Reply::Answer(answer)) => {
                if let Phase::Machine(link) = &mut self.phase {
                    link.answer_set = true;
                    self.actions.push_back(Action::SetRemoteAnswer(answer.sdp_answer));
                    self.set_timer(Timer::Step, CONNECT_TIMEOUT_MS);
                }
            }
            (Purpose::GetAnswer, _) => self.set_timer(Timer::AnswerPoll, ANSWER_POLL_MS),
            (Purpose::StopSession | Purpose::PostCandidates, _) => {}
            (purpose, _) => {
                let message = format!("unexpected answer to {} (HTTP {status})", purpose.describe());
                self.fail(ReactorError::new(error_code_for(purpose), message, now));
            }
        }
    }

    fn on_socket_open(&mut self) {
        if let Phase::Socket { token } = &self.phase {
            let token = token.clone();
            self.socket_open = true;
            self.actions.push_back(Action::SendFrame(ClientFrame::Hello {
                token: token.clone(),
                model: self.options.model_name.clone(),
                queueing: self.options.queueing,
            }));
            self.phase = Phase::Queue { token, heard: false };
            self.waiting = Some(WaitingInfo { position: None, estimated_wait: None });
            self.set_status(Status::Waiting);
            self.set_timer(Timer::Step, HELLO_TIMEOUT_MS);
        }
    }

    fn on_frame(&mut self, now: f64, frame: ServerFrame) {
        match frame {
            ServerFrame::Error(body) => self.fail(from_body(body, now)),
            ServerFrame::Queued { position, estimated_wait } => {
                let Phase::Queue { heard, .. } = &mut self.phase else { return };
                if !*heard {
                    *heard = true;
                    // Waiting in the queue has no deadline; the coordinator has answered.
                    self.actions.push_back(Action::CancelTimer(Timer::Step));
                }
                let info = WaitingInfo { position: Some(position), estimated_wait };
                if self.waiting != Some(info) {
                    self.waiting = Some(info);
                    self.actions.push_back(Action::Emit(Event::WaitingInfoChanged(info)));
                }
            }
            ServerFrame::Assigned { session_id, capabilities, ice_servers, .. } => {
                let Phase::Queue { token, .. } = &self.phase else { return };
                let token = token.clone();
                let base = format!("{}/sessions/{session_id}{}", self.options.coordinator_url, paths::WEBRTC);
                self.start_link(base, Some(token), capabilities, ice_servers);
            }
        }
    }

    fn start_link(
        &mut self,
        base: String,
        bearer: Option<String>,
        capabilities: Capabilities,
        ice_servers: Vec<reactor_protocol::coordinator::IceServer>,
    ) {
        let videos = |direction| {
            let tracks = capabilities.tracks.iter();
            let tracks = tracks.filter(move |t| t.kind == TrackKind::Video && t.direction == direction);
            tracks.map(|t| t.name.clone()).collect::<Vec<_>>()
        };
        let plan = PeerPlan { ice_servers, send: videos(TrackDirection::Sendonly), receive: videos(TrackDirection::Recvonly) };
        let link = Link::new(base, bearer, plan.clone());
        self.actions.push_back(Action::CreatePeer(plan));
        self.actions.push_back(Action::Http(link.register()));
        self.phase = Phase::Machine(link);
        self.set_timer(Timer::Step, SIGNALING_TIMEOUT_MS);
    }

    fn on_offer(&mut self, now: f64, sdp: String, mids: Vec<Option<String>>) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match link.set_offer(sdp, mids) {
            Ok(request) => self.actions.extend(request.map(Action::Http)),
            Err(why) => self.fail_machine(now, why),
        }
    }

    fn on_peer_state(&mut self, now: f64, state: PeerState) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match state {
            PeerState::Connected => {
                link.peer_connected = true;
                self.check_ready();
            }
            PeerState::Failed | PeerState::Closed => {
                let state = if state == PeerState::Failed { "failed" } else { "closed" };
                self.fail_machine(now, format!("the peer connection {state}"))
            }
            // `disconnected` is often transient; `failed` follows if it is not.
            PeerState::New | PeerState::Connecting | PeerState::Disconnected => {}
        }
    }

    fn on_channel_open(&mut self, channel: Channel) {
        let Phase::Machine(link) = &mut self.phase else { return };
        match channel {
            Channel::Data => link.data_open = true,
            Channel::Control => {
                link.control_open = true;
                // Outputs start paused on the runtime until resumed.
                let outputs = link.plan.receive.clone();
                for name in outputs {
                    let event = TrackEvent::ResumeTrack;
                    let message = ControlMessage::Notification { event, data: TrackRef { name } };
                    self.send(Channel::Control, Outgoing::Control(message));
                }
            }
        }
        self.check_ready();
    }

    fn check_ready(&mut self) {
        let Phase::Machine(link) = &mut self.phase else { return };
        if link.ready || !link.is_up() {
            return;
        }
        link.ready = true;
        self.actions.push_back(Action::CancelTimer(Timer::Step));
        self.ping();
        self.set_status(Status::Ready);
        if let Some(promise) = self.connect_promise.take() {
            self.settle(promise, Ok(()));
        }
        self.deliver_held();
    }

    fn on_timer(&mut self, now: f64, timer: Timer) {
        match (timer, &self.phase) {
            (Timer::Ping, Phase::Machine(_)) => self.ping(),
            (Timer::Stats, Phase::Machine(_)) => self.read_stats(),
            (Timer::Publish, Phase::Machine(_)) => self.publish_timed_out(now),
            (Timer::AnswerPoll, Phase::Machine(link)) => {
                let request = link.get_answer();
                self.actions.push_back(Action::Http(request));
            }
            (Timer::Step, phase) => {
                let (code, message) = match phase {
                    Phase::Token => (ErrorCode::CoordinatorConnectionError, "the coordinator did not answer the token request in time"),
                    Phase::Socket { .. } => (ErrorCode::CoordinatorConnectionError, "the coordinator's WebSocket did not open in time"),
                    Phase::Queue { .. } => (ErrorCode::CoordinatorConnectionError, "the coordinator did not answer hello in time"),
                    Phase::StartSession => (ErrorCode::GpuConnectionFailed, "the machine did not start a session in time"),
                    Phase::Machine(link) if !link.answer_set => (ErrorCode::GpuConnectionFailed, "the machine did not answer the offer in time"),
                    Phase::Machine(_) => (ErrorCode::GpuConnectionFailed, "the machine connection did not come up in time"),
                    Phase::Idle => return,
                };
                self.fail(ReactorError::new(code, message, now));
            }
            _ => {}
        }
    }

    fn ping(&mut self) {
        self.send(Channel::Data, Outgoing::Runtime(RuntimeMessage::Ping));
        self.set_timer(Timer::Ping, PING_INTERVAL_MS);
    }

    fn send(&mut self, channel: Channel, message: Outgoing<V>) {
        self.actions.push_back(Action::Send { channel, message });
    }

    fn set_timer(&mut self, timer: Timer, ms: u32) {
        self.actions.push_back(Action::SetTimer { timer, ms });
    }

    fn set_status(&mut self, status: Status) {
        if self.status != status {
            self.status = status;
            self.actions.push_back(Action::Emit(Event::StatusChanged(status)));
        }
    }

    /// Records and announces an error; returns it for a rejection.
    fn report(&mut self, err: ReactorError) -> ReactorError {
        self.last_error = Some(err.clone());
        self.actions.push_back(Action::Emit(Event::Error(err.clone())));
        err
    }

    /// A failure on the machine side: before ready the connection could
    /// not be made, after ready it broke.
    fn fail_machine(&mut self, now: f64, why: String) {
        let ready = matches!(&self.phase, Phase::Machine(link) if link.ready);
        let code = if ready { ErrorCode::GpuConnectionError } else { ErrorCode::GpuConnectionFailed };
        self.fail(ReactorError::new(code, why, now));
    }

    /// Ends the connection because of `err`; whatever waited on it
    /// rejects with that same error.
    fn fail(&mut self, err: ReactorError) {
        let err = self.report(err);
        self.reject_pending(&err);
        self.teardown();
    }

    fn teardown(&mut self) {
        if self.socket_open {
            self.actions.push_back(Action::SendFrame(ClientFrame::Leave));
            self.socket_open = false;
        }
        // A local runtime keeps one session; free it for the next connect.
        if self.options.local && !matches!(self.phase, Phase::StartSession) {
            let url = format!("{}{}", self.options.coordinator_url, paths::STOP_SESSION);
            self.actions.push_back(Action::Http(plain_request(Purpose::StopSession, url)));
        }
        self.actions.push_back(Action::Teardown);
        self.phase = Phase::Idle;
        self.waiting = None;
        self.publishing = publish::Publishing::default();
        self.stats = stats::Stats::default();
        if self.showing_stream {
            self.showing_stream = false;
            self.actions.push_back(Action::Emit(Event::StreamChanged(None)));
        }
        self.set_status(Status::Disconnected);
    }
}

fn plain_request(purpose: Purpose, url: String) -> HttpRequest {
    HttpRequest { purpose, method: Method::Post, url, api_key: None, bearer: None, body: Body::Empty }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn sep(reason: &str) -> &'static str {
    if reason.is_empty() { "" } else { ": " }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Data => reactor_protocol::runtime::DATA_CHANNEL,
        Channel::Control => reactor_protocol::runtime::CONTROL_CHANNEL,
    }
}

/// `http(s)://host` → `ws(s)://host/ws`.
pub fn ws_url(coordinator_url: &str) -> String {
    let rest = coordinator_url.strip_prefix("http").unwrap_or(coordinator_url);
    format!("ws{rest}{WS_PATH}")
}

/// The code for a failed step when the server gave no code of its own.
fn error_code_for(purpose: Purpose) -> ErrorCode {
    match purpose {
        Purpose::Token => ErrorCode::CoordinatorConnectionError,
        _ => ErrorCode::GpuConnectionFailed,
    }
}

fn from_body(body: ErrorBody, now: f64) -> ReactorError {
    let mut err = ReactorError::new(body.code, body.message, now);
    err.retry_after = body.retry_after;
    err
}

fn status_error(purpose: Purpose, status: u16, now: f64) -> ReactorError {
    if purpose == Purpose::Token && (status == 401 || status == 403) {
        let message = format!("the coordinator refused the API key (HTTP {status})");
        return ReactorError::new(ErrorCode::AuthenticationFailed, message, now);
    }
    ReactorError::new(error_code_for(purpose), format!("{} failed with HTTP {status}", purpose.describe()), now)
}

fn unreachable_error(purpose: Purpose, options: &Options, why: String, now: f64) -> ReactorError {
    let url = &options.coordinator_url;
    let message = match purpose {
        Purpose::Token => format!("could not reach the coordinator at {url}: {why}"),
        Purpose::StartSession => format!("could not reach the runtime at {url}: {why}"),
        _ => format!("signaling with the machine failed ({}): {why}", purpose.describe()),
    };
    ReactorError::new(error_code_for(purpose), message, now)
}
