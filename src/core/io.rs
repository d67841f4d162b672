//! What goes into the core and what comes out. The web shell turns browser
//! callbacks into [`Input`]s and carries out [`Action`]s; the core never
//! touches the browser. `V` is an opaque JS value (a message body or a
//! track) that the core stores and hands back but never looks into.

use reactor_protocol::coordinator::{ClientFrame, ErrorBody, IceServer, ServerFrame, TokenResponse};
use reactor_protocol::decode::DecodeError;
use reactor_protocol::runtime::{
    ConnectionId, ControlMessage, ControlResponse, IceCandidate, IceCandidates, RuntimeMessage, Scope, SdpAnswer,
    SdpOffer, SessionDescriptor,
};

use super::metrics::{StatsReport, StatsSample};
use super::quality::Verdict;
use super::{Failure, ReactorError, Status, WaitingInfo};

/// Why an HTTP request was made; its answer comes back with the same tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Token,
    StartSession,
    StopSession,
    RegisterConnection,
    PostOffer,
    GetAnswer,
    PostCandidates,
}

/// Which body shape to decode from an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    Token,
    Session,
    Connection,
    Answer,
    /// Not read.
    Ignored,
    Error,
}

impl Purpose {
    /// For error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Purpose::Token => "the token request",
            Purpose::StartSession => "start_session",
            Purpose::StopSession => "stop_session",
            Purpose::RegisterConnection => "the connection registration",
            Purpose::PostOffer => "the offer",
            Purpose::GetAnswer => "the answer request",
            Purpose::PostCandidates => "the ICE candidates",
        }
    }

    /// Signaling of one machine link: its answer belongs to the peer it was
    /// made for (a replaced peer's answers must not reach the next one).
    pub fn is_signaling(self) -> bool {
        matches!(self, Purpose::RegisterConnection | Purpose::PostOffer | Purpose::GetAnswer | Purpose::PostCandidates)
    }

    /// The shape the answer of `status` carries.
    pub fn reply_kind(self, status: u16) -> ReplyKind {
        match (self, status) {
            (Purpose::Token, 200..=299) => ReplyKind::Token,
            (Purpose::StartSession, 200..=299) => ReplyKind::Session,
            (Purpose::RegisterConnection, 200..=299) => ReplyKind::Connection,
            (Purpose::GetAnswer, 200) => ReplyKind::Answer,
            (_, 200..=299) => ReplyKind::Ignored,
            _ => ReplyKind::Error,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// A new offer on an existing connection (the runtime's reconnect).
    Put,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Empty,
    Offer(SdpOffer),
    Candidates(IceCandidates),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    pub purpose: Purpose,
    pub method: Method,
    pub url: String,
    /// Sent as `Reactor-API-Key` (token exchange only).
    pub api_key: Option<String>,
    /// Sent as `Authorization: Bearer` (signaling through the coordinator).
    pub bearer: Option<String>,
    pub body: Body,
}

/// A decoded HTTP answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Token(TokenResponse),
    /// Boxed: the descriptor is by far the largest answer.
    Session(Box<SessionDescriptor>),
    Connection(ConnectionId),
    Answer(SdpAnswer),
    Error(ErrorBody),
    /// A 2xx whose body is not read, or an error whose body is not ours.
    Other,
    /// A body that should have been read and is not the shape it should be.
    Unreadable(DecodeError),
}

#[derive(Clone, Debug, PartialEq)]
pub enum HttpResult {
    Answered {
        status: u16,
        reply: Reply,
    },
    /// No answer, so no status.
    Failed(HttpFailure),
}

/// Why a request got no answer, as far as the browser tells. Each holds
/// the browser's own words (`TypeError: Failed to fetch`), for the message only.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpFailure {
    /// The browser would not make the request (`new Request` threw: a URL it cannot parse).
    Unsendable(String),
    /// `fetch` rejected with a `TypeError`: no connection, a refused one, or
    /// a CORS refusal (the browser does not say which).
    Network(String),
    /// `fetch` rejected with an `AbortError` or a `TimeoutError`.
    Aborted(String),
    /// `fetch` rejected with anything else.
    Other(String),
}

/// A coordinator frame the SDK cannot read.
#[derive(Clone, Debug, PartialEq)]
pub enum BadFrame {
    Binary,
    /// Not JSON: the text as it came.
    NotJson(String),
    /// JSON, but not a frame: the text, and where it differs.
    Unreadable {
        text: String,
        error: DecodeError,
    },
}

/// A peer operation the browser refused, with the browser's words.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerFailure {
    /// `new RTCPeerConnection` (or a transceiver or channel on it).
    Create(String),
    /// `createOffer` or `setLocalDescription`.
    Offer(String),
    /// `setRemoteDescription` of the machine's answer.
    Answer(String),
    /// The browser gave a planned track no mid.
    NoMid(String),
}

/// Timers the core asks for; setting one again replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The deadline of the current connection step.
    Step,
    /// Poll `GET sdp_params` again.
    AnswerPoll,
    /// Send the runtime keep-alive.
    Ping,
    /// Read the peer's statistics (`fps`, `stats`, `connectionQuality`).
    Stats,
    /// Give up waiting for the runtime's answer to `publish_track`.
    Publish,
    /// How long a ready peer may stay `disconnected` before it is re-made.
    Grace,
    /// The delay before the next attempt to re-make the machine link.
    Reconnect,
    /// The next attempt to re-open the coordinator's socket, then that
    /// attempt's deadline.
    Resume,
}

/// The two data channels of a machine connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Data,
    Control,
}

impl Channel {
    /// Its label on the peer connection.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Data => reactor_protocol::runtime::DATA_CHANNEL,
            Channel::Control => reactor_protocol::runtime::CONTROL_CHANNEL,
        }
    }
}

/// `RTCPeerConnection.connectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// What the browser saw; tagged by the web shell with the connection
/// generation so a torn-down connection cannot reach a newer one.
#[derive(Debug)]
pub enum Input<V> {
    Http {
        purpose: Purpose,
        result: HttpResult,
    },
    SocketOpen,
    /// A frame, and the schema an `assigned` frame carried (the shell's JS object).
    SocketFrame(ServerFrame, Option<V>),
    SocketBadFrame(BadFrame),
    SocketClosed {
        code: u16,
        reason: String,
    },
    Timer(Timer),
    /// `createOffer` + `setLocalDescription` done; `mids` in the order of
    /// [`PeerPlan::send`] then [`PeerPlan::receive`].
    OfferReady {
        sdp: String,
        mids: Vec<Option<String>>,
    },
    /// A local ICE candidate; `None` when gathering is complete.
    LocalCandidate(Option<IceCandidate>),
    PeerFailed(PeerFailure),
    PeerState(PeerState),
    /// `RTCSctpTransport.maxMessageSize`, once known.
    MaxMessageSize(usize),
    /// `bufferedamountlow` on the `data` channel: its buffer fell to
    /// [`SEND_BUFFER_LOW`](super::SEND_BUFFER_LOW).
    SendBufferLow,
    ChannelOpen(Channel),
    ChannelClosed(Channel),
    /// A message on the `data` channel; `scope` is `None` when absent or unknown.
    DataMessage {
        scope: Option<Scope>,
        data: V,
    },
    /// The model's video track arrived.
    RemoteTrack(V),
    /// The runtime's answer to a control request: the one control message
    /// a runtime sends the client.
    ControlResponse(ControlResponse),
    /// The model's schema (the shell's JS object, built from the `schema`
    /// of the session descriptor), just before the descriptor's answer.
    Schema(V),
    /// The peer's statistics, read for [`Action::ReadStats`] with the same
    /// `promise`; `None` when there was no peer or no report to read.
    Stats {
        sample: Option<StatsSample>,
        promise: Option<PromiseId>,
    },
    /// The runtime's `mediaStats`: its `video.aggregateQos` (0..10).
    RuntimeQos(f64),
}

/// Names a JS promise the core will settle later with [`Action::Settle`].
pub type PromiseId = u32;

/// What a method call comes to, at once.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Done: resolve now.
    Done,
    /// Settled later by [`Action::Settle`] with this id.
    Pending(PromiseId),
    /// Refused: reject now with this error.
    Failed(ReactorError),
}

/// What the peer connection must look like: send transceivers (model
/// inputs) first, then receive ones (model outputs), then the channels.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerPlan {
    pub ice_servers: Vec<IceServer>,
    pub send: Vec<String>,
    pub receive: Vec<String>,
}

/// A message to put on a data channel.
#[derive(Debug, PartialEq)]
pub enum Outgoing<V> {
    /// An already-serialized application envelope (JSON text). The shell
    /// answers with [`Session::sent`](super::Session::sent) whether the
    /// browser took it (and the channel's `bufferedAmount` then), which
    /// settles `promise`.
    Application {
        envelope: V,
        promise: PromiseId,
    },
    Runtime(RuntimeMessage),
    Control(ControlMessage),
}

/// Which link of a live session dropped and is being re-made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// The coordinator's WebSocket.
    Coordinator,
    /// The peer connection to the machine.
    Machine,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Coordinator => "coordinator",
            LinkKind::Machine => "machine",
        }
    }
}

/// Events for the app's listeners.
#[derive(Debug, PartialEq)]
pub enum Event<V> {
    StatusChanged(Status),
    WaitingInfoChanged(WaitingInfo),
    NewMessage(V),
    StreamChanged(Option<V>),
    Fps(f64),
    /// About every 2 s once ready.
    Stats(StatsReport),
    /// The smoothed verdict, when it changes.
    ConnectionQuality(Verdict),
    /// The model's schema arrived; [`Session::schema`](super::Session::schema) holds it.
    SchemaReceived,
    Error(ReactorError),
    /// Attempt `attempt` (from 1) to re-make `link` starts after `delay_ms`.
    Reconnecting {
        link: LinkKind,
        attempt: u32,
        delay_ms: u32,
        reason: std::rc::Rc<Failure>,
    },
    /// `link` is back, at attempt `attempts`, `downtime_ms` after it dropped.
    Reconnected {
        link: LinkKind,
        attempts: u32,
        downtime_ms: f64,
    },
}

#[derive(Debug, PartialEq)]
pub enum Action<V> {
    Emit(Event<V>),
    /// Settle a promise handed out as [`Outcome::Pending`].
    Settle {
        promise: PromiseId,
        result: Result<(), ReactorError>,
    },
    Http(HttpRequest),
    OpenSocket {
        url: String,
    },
    /// Drop the coordinator socket (its listeners first), keeping the rest.
    CloseSocket,
    SendFrame(ClientFrame),
    SetTimer {
        timer: Timer,
        ms: u32,
    },
    CancelTimer(Timer),
    CreatePeer(PeerPlan),
    SetRemoteAnswer(String),
    /// `replaceTrack` on the send transceiver of the model's first input.
    ReplaceTrack(Option<V>),
    /// Read the peer's statistics; answer with [`Input::Stats`], passing
    /// `promise` back (`Some` for a `getStats()` call).
    ReadStats {
        promise: Option<PromiseId>,
    },
    /// Resolve a `getStats()` promise (`None`: `undefined`).
    StatsReady {
        promise: PromiseId,
        report: Option<StatsReport>,
    },
    Send {
        channel: Channel,
        message: Outgoing<V>,
    },
    /// Drop every browser resource of the current connection: socket,
    /// peer, channels, timers, listeners.
    Teardown,
}
