//! The session state machine: every decision of the SDK, no browser.
//! Here: the state, `connect`/`disconnect`, input dispatch, timers, failure
//! and teardown. Reaching the machine is in `signaling`, the peer connection
//! in `machine`, then `messages`, `publish` and `stats`.

mod failover;
mod machine;
mod messages;
mod outbox;
mod publish;
mod recovery;
mod resume;
mod retry;
mod signaling;
mod stats;

pub use outbox::{SEND_BUFFER_HIGH, SEND_BUFFER_LOW, SEND_QUEUE_BYTES, SEND_QUEUE_MESSAGES};
pub use recovery::{ATTEMPT_CONNECT_MS, ATTEMPT_SIGNALING_MS, GRACE_MS};
pub use resume::RESUME_ATTEMPT_TIMEOUT_MS;
pub use signaling::ws_url;

use reactor_protocol::coordinator::ClientFrame;
use reactor_protocol::runtime::{paths, RuntimeMessage, Scope, PING_INTERVAL_MS};
use reactor_protocol::ErrorCode;

use super::io::*;
use super::link::Link;
use std::collections::VecDeque;

use super::{Failure, Options, ReactorError, Status, Step, WaitingInfo};

/// How long each step before `ready` may take.
pub const TOKEN_TIMEOUT_MS: u32 = 10_000;
pub const SOCKET_TIMEOUT_MS: u32 = 10_000;
/// From `hello` to the first `queued` or `assigned` frame.
pub const HELLO_TIMEOUT_MS: u32 = 10_000;
/// From assignment to the machine's SDP answer.
pub const SIGNALING_TIMEOUT_MS: u32 = 20_000;
/// From the answer to `ready`.
pub const CONNECT_TIMEOUT_MS: u32 = 20_000;
/// Asking a machine for its answer again: after this first, then twice as
/// long each time up to [`ANSWER_POLL_MS`]. A machine often has the answer
/// within tens of ms of the offer, and each wait is time to `ready`.
pub const ANSWER_POLL_FIRST_MS: u32 = 10;
pub const ANSWER_POLL_MS: u32 = 100;
/// Until the browser says otherwise; the smallest size every browser takes.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 65_536;

// One per session, so `Link`'s size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Phase {
    Idle,
    /// `POST /tokens` in flight.
    Token,
    /// WebSocket opening.
    Socket {
        token: String,
    },
    /// `hello` sent; queued or about to be.
    Queue {
        token: String,
        heard: bool,
    },
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
    /// `sendMessage()`s waiting: for `ready` (development mode), for a
    /// paused link, or for the data channel to drain.
    outbox: outbox::Outbox<V>,
    publishing: publish::Publishing<V>,
    stats: stats::Stats,
    /// The time of the input being handled.
    now: f64,
    /// Local mode: `stop_session` is in flight; these `disconnect()`s wait
    /// for it, and a new `start_session` must not overtake it.
    stopping: Option<Vec<PromiseId>>,
    start_deferred: bool,
    /// The model's schema, from its arrival until teardown.
    schema: Option<V>,
    /// Tag of the current peer connection (see [`Session::handle_peer`]).
    peer: u32,
    /// The machine link is being re-made.
    recovery: Option<recovery::Recovery>,
    /// Taking the coordinator back after its socket dropped.
    resume: resume::Resume,
    /// Which URL of a `coordinatorUrl` list is in use.
    urls: failover::Urls,
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
            outbox: outbox::Outbox::default(),
            publishing: publish::Publishing::default(),
            stats: stats::Stats::default(),
            now: 0.0,
            stopping: None,
            start_deferred: false,
            schema: None,
            peer: 0,
            recovery: None,
            resume: resume::Resume::default(),
            urls: failover::Urls::default(),
        }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// `undefined` unless waiting.
    pub fn waiting_info(&self) -> Option<WaitingInfo> {
        self.waiting.filter(|_| self.status == Status::Waiting)
    }

    /// The schema of the machine reached, once it arrived; `None` when disconnected.
    pub fn schema(&self) -> Option<&V> {
        self.schema.as_ref()
    }

    /// Whether `sendMessage` checks commands against [`Self::schema`].
    pub fn validates_messages(&self) -> bool {
        self.options.validate_messages
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
            let failure = Failure::AlreadyConnected(self.status);
            return Outcome::Failed(ReactorError::new(ErrorCode::AlreadyConnected, failure, now));
        }
        let promise = self.promise();
        self.connect_promise = Some(promise);
        self.generation = self.generation.wrapping_add(1);
        self.set_status(Status::Connecting);
        if self.options.local {
            self.phase = Phase::StartSession;
            if self.stopping.is_some() {
                self.start_deferred = true;
            } else {
                self.start_session();
            }
            self.set_timer(Timer::Step, TOKEN_TIMEOUT_MS);
        } else {
            self.request_token();
        }
        Outcome::Pending(promise)
    }

    fn start_session(&mut self) {
        let url = format!("{}{}", self.options.coordinator_url, paths::START_SESSION);
        self.actions.push_back(Action::Http(plain_request(Purpose::StartSession, url)));
    }

    /// The runtime answered `stop_session` (whatever it said, the session is
    /// over for us): waiting `disconnect()`s resolve, a deferred start goes.
    fn on_stopped(&mut self) {
        for promise in self.stopping.take().unwrap_or_default() {
            self.settle(promise, Ok(()));
        }
        if std::mem::take(&mut self.start_deferred) {
            self.start_session();
        }
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
    /// reported as an `error`. In local mode it is done when the runtime has
    /// stopped the session, so that a `connect()` right after starts afresh.
    pub fn disconnect(&mut self, now: f64) -> Outcome {
        let err = ReactorError::new(ErrorCode::ConnectionAborted, Failure::Disconnected, now);
        self.reject_pending(&err);
        if !matches!(self.phase, Phase::Idle) {
            self.teardown();
        }
        if self.stopping.is_none() {
            return Outcome::Done;
        }
        let promise = self.promise();
        self.stopping.get_or_insert_with(Vec::new).push(promise);
        Outcome::Pending(promise)
    }

    /// Rejects every promise still waiting on this connection.
    fn reject_pending(&mut self, err: &ReactorError) {
        if let Some(promise) = self.connect_promise.take() {
            self.settle(promise, Err(err.clone()));
        }
        self.drop_waiting(err);
        self.drop_publish(err);
    }

    /// Feeds one browser input. Inputs of an older connection are dropped.
    pub fn handle(&mut self, now: f64, generation: u32, input: Input<V>) {
        // The one answer that outlives its connection.
        if let Input::Http { purpose: Purpose::StopSession, .. } = input {
            return self.on_stopped();
        }
        if generation != self.generation || matches!(self.phase, Phase::Idle) {
            return;
        }
        self.now = now;
        match input {
            Input::Http { purpose, result } => self.on_http(now, purpose, result),
            Input::SocketOpen => self.on_socket_open(),
            Input::SocketFrame(frame, schema) => {
                if let Some(schema) = schema {
                    self.on_schema(schema);
                }
                self.on_frame(now, frame)
            }
            Input::SocketBadFrame(frame) => {
                self.fail(ReactorError::new(ErrorCode::CoordinatorConnectionError, Failure::BadFrame(frame), now));
            }
            Input::SocketClosed { code, reason } => self.on_socket_closed(now, code, reason),
            Input::Timer(timer) => self.on_timer(now, timer),
            Input::OfferReady { sdp, mids } => self.on_offer(now, sdp, mids),
            Input::LocalCandidate(candidate) => {
                if let Phase::Machine(link) = &mut self.phase {
                    if let Some(request) = link.add_candidate(candidate) {
                        self.actions.push_back(Action::Http(request));
                    }
                }
            }
            Input::PeerFailed(failure) => self.link_dropped(now, Failure::Peer(failure)),
            Input::PeerState(state) => self.on_peer_state(now, state),
            Input::MaxMessageSize(size) => self.max_message_size = size,
            Input::SendBufferLow => self.on_send_buffer_low(),
            Input::ChannelOpen(channel) => self.on_channel_open(channel),
            Input::ChannelClosed(channel) => self.link_dropped(now, Failure::ChannelClosed(channel)),
            Input::RuntimeQos(qos) => self.on_runtime_qos(qos),
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
            Input::ControlResponse(response) => self.on_control(now, response),
            Input::Schema(schema) => self.on_schema(schema),
            Input::Stats { sample, promise } => self.on_stats(sample, promise),
        }
    }

    fn on_schema(&mut self, schema: V) {
        self.schema = Some(schema);
        self.actions.push_back(Action::Emit(Event::SchemaReceived));
    }

    fn on_timer(&mut self, now: f64, timer: Timer) {
        // A coordinator too slow to let us in: the next URL may not be.
        if timer == Timer::Step && self.before_admission() && self.fail_over() {
            return;
        }
        match (timer, &self.phase) {
            (Timer::Ping, Phase::Machine(_)) => self.ping(),
            (Timer::Stats, Phase::Machine(_)) => self.read_stats(),
            (Timer::Publish, Phase::Machine(_)) => self.publish_timed_out(now),
            (Timer::Grace, Phase::Machine(_)) => self.grace_over(now),
            (Timer::Reconnect, Phase::Machine(_)) => self.start_attempt(),
            (Timer::Step, Phase::Machine(link)) if self.recovery.is_some() => {
                let step = if link.answer_set { Step::NewConnection } else { Step::NewAnswer };
                self.attempt_failed(now, Failure::TimedOut(step));
            }
            (Timer::Resume, _) => self.on_resume_timer(now),
            (Timer::AnswerPoll, Phase::Machine(link)) => {
                let request = link.get_answer();
                self.actions.push_back(Action::Http(request));
            }
            (Timer::Step, phase) => {
                let (code, step) = match phase {
                    Phase::Token => (ErrorCode::CoordinatorConnectionError, Step::Token),
                    Phase::Socket { .. } => (ErrorCode::CoordinatorConnectionError, Step::Socket),
                    Phase::Queue { .. } => (ErrorCode::CoordinatorConnectionError, Step::Hello),
                    Phase::StartSession => (ErrorCode::GpuConnectionFailed, Step::StartSession),
                    Phase::Machine(link) if !link.answer_set => (ErrorCode::GpuConnectionFailed, Step::Answer),
                    Phase::Machine(_) => (ErrorCode::GpuConnectionFailed, Step::Connection),
                    Phase::Idle => return,
                };
                self.fail(ReactorError::new(code, Failure::TimedOut(step), now));
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
    fn fail_machine(&mut self, now: f64, why: Failure) {
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
        // (While its start is in flight there is nothing to stop yet, and a
        // start the runtime already answered is harmless: it is idempotent.)
        if self.options.local && !matches!(self.phase, Phase::StartSession) {
            let url = format!("{}{}", self.options.coordinator_url, paths::STOP_SESSION);
            self.actions.push_back(Action::Http(plain_request(Purpose::StopSession, url)));
            self.stopping.get_or_insert_with(Vec::new);
        }
        self.start_deferred = false;
        self.recovery = None;
        self.actions.push_back(Action::Teardown);
        self.phase = Phase::Idle;
        self.waiting = None;
        self.schema = None;
        self.resume = resume::Resume::default();
        self.urls = failover::Urls::default();
        self.publishing = publish::Publishing::default();
        self.end_stats();
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
