//! Why something failed, as values: what the web shell reports
//! ([`PeerFailure`], [`HttpFailure`], [`BadFrame`]) and what the core
//! decides ([`Failure`]). Tests match on these; the text a user reads is
//! made from them here and nowhere else.

use std::rc::Rc;

use reactor_protocol::decode::DecodeError;

use super::io::{BadFrame, Channel, HttpFailure, PeerFailure, PeerState, Purpose};
use super::{Status, SEND_QUEUE_BYTES, SEND_QUEUE_MESSAGES};

/// How much of an unexpected coordinator frame an error message quotes.
pub const BAD_FRAME_SHOWN: usize = 200;

/// Why the core ended a connection, refused a call, or re-made a link.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Words from outside the core, as they came: the coordinator's own
    /// `error` (frame or HTTP body), or a bad option's description.
    Said(String),

    // ---- reaching the machine
    /// A request got no answer.
    Unreachable {
        purpose: Purpose,
        url: String,
        failure: HttpFailure,
    },
    /// An answer with an error status and no error body of ours.
    Status {
        purpose: Purpose,
        status: u16,
    },
    /// A body that should have been read and is not the shape it should be.
    Unreadable {
        purpose: Purpose,
        status: u16,
        error: DecodeError,
    },
    /// A successful answer that is not the one the step needs.
    Unexpected {
        purpose: Purpose,
        status: u16,
    },
    BadFrame(BadFrame),
    TimedOut(Step),
    /// The coordinator's socket closed without an `error` of its own.
    SocketClosed {
        code: u16,
        reason: String,
    },
    /// The coordinator stayed away for its whole grace period.
    ResumeGaveUp {
        grace: f64,
        attempts: u32,
        last: Rc<Failure>,
    },

    // ---- the machine link
    Peer(PeerFailure),
    /// `connectionState` came to `failed` or `closed`.
    PeerEnded(PeerState),
    ChannelClosed(Channel),
    /// `disconnected` for longer than the grace of this many ms.
    StayedDisconnected(u32),
    /// A re-offer's signaling request got no answer.
    ReofferUnanswered {
        purpose: Purpose,
        failure: HttpFailure,
    },
    /// A re-offer's signaling request was refused, with the runtime's words when it gave some.
    ReofferRefused {
        purpose: Purpose,
        status: u16,
        message: Option<String>,
    },
    /// The link dropped and the `reconnect` policy is spent.
    RecoveryGaveUp {
        dropped: Rc<Failure>,
        attempts: u32,
        last: Option<Rc<Failure>>,
    },

    // ---- calls refused; nothing was sent
    AlreadyConnected(Status),
    /// `disconnect()` ended what was pending.
    Disconnected,
    NotReady {
        call: &'static str,
        status: Status,
    },
    /// The message is not JSON: the browser's words.
    NotJson(String),
    /// The message does not fit the model's schema: names the parameter.
    NotInSchema(String),
    TooLarge {
        bytes: usize,
        max: usize,
    },
    /// The SDK's send queue is at its bound ([`SEND_QUEUE_MESSAGES`], [`SEND_QUEUE_BYTES`]).
    QueueFull {
        queued: usize,
        queued_bytes: usize,
        bytes: usize,
    },
    /// `RTCDataChannel.send` threw: the browser's words.
    ChannelRefused(String),
    NoVideoTrack,
    NoVideoInput {
        model: String,
    },
    /// A publish still waiting when `unpublishVideoStream()` came.
    Unpublished,
    VideoRefused {
        code: String,
        message: String,
    },
}

/// A step that has a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Token,
    Socket,
    Hello,
    StartSession,
    Answer,
    Connection,
    /// The answer to a re-offer, during recovery.
    NewAnswer,
    NewConnection,
    Resume,
    Publish,
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Said(words) => words.clone(),
            Failure::Unreachable { purpose, url, failure } => {
                let why = failure.message();
                match purpose {
                    Purpose::Token => format!("could not reach the coordinator at {url}: {why}"),
                    Purpose::StartSession => format!("could not reach the runtime at {url}: {why}"),
                    _ => format!("signaling with the machine failed ({}): {why}", purpose.describe()),
                }
            }
            Failure::Status { purpose: Purpose::Token, status: status @ (401 | 403) } => {
                format!("the coordinator refused the API key (HTTP {status})")
            }
            Failure::Status { purpose, status } => format!("{} failed with HTTP {status}", purpose.describe()),
            Failure::Unreadable { purpose, status, error } => {
                format!("unreadable answer to {} (HTTP {status}): {error}", purpose.describe())
            }
            Failure::Unexpected { purpose, status } => {
                format!("unexpected answer to {} (HTTP {status})", purpose.describe())
            }
            Failure::BadFrame(frame) => frame.message(),
            Failure::TimedOut(step) => step.late().into(),
            Failure::SocketClosed { code, reason } => {
                let sep = if reason.is_empty() { "" } else { ": " };
                format!("the coordinator closed the connection (code {code}{sep}{reason})")
            }
            Failure::ResumeGaveUp { grace, attempts, last } => format!(
                "lost the coordinator and could not resume within its {grace} s grace period ({attempts} attempts; last: {})",
                last.message()
            ),
            Failure::Peer(failure) => failure.message(),
            Failure::PeerEnded(state) => {
                format!("the peer connection {}", if *state == PeerState::Failed { "failed" } else { "closed" })
            }
            Failure::ChannelClosed(channel) => format!("the `{}` data channel closed", channel.name()),
            Failure::StayedDisconnected(ms) => format!("the peer connection stayed disconnected for {ms} ms"),
            Failure::ReofferUnanswered { purpose, failure } => {
                format!("{} failed: {}", purpose.describe(), failure.message())
            }
            Failure::ReofferRefused { purpose, status, message } => {
                let (sep, words) = message.as_deref().map_or(("", ""), |m| (": ", m));
                format!("{} failed with HTTP {status}{sep}{words}", purpose.describe())
            }
            Failure::RecoveryGaveUp { dropped, attempts, last } => format!(
                "the machine connection dropped ({}) and {attempts} attempt(s) to re-make it failed (the last: {})",
                dropped.message(),
                last.as_ref().map_or_else(|| "none made".into(), |last| last.message())
            ),
            Failure::AlreadyConnected(status) => format!("connect() was called while {}", status.as_str()),
            Failure::Disconnected => "disconnect() was called".into(),
            Failure::NotReady { call, status } => format!("{call}() needs status ready, but it is {}", status.as_str()),
            Failure::NotJson(why) => format!("the message cannot be sent as JSON ({why}); nothing was sent"),
            Failure::NotInSchema(why) => format!("{why}; nothing was sent"),
            Failure::TooLarge { bytes, max } => format!(
                "the message is {bytes} bytes, more than the data channel's maximum of {max} bytes; nothing was sent"
            ),
            Failure::QueueFull { queued, queued_bytes, bytes } => format!(
                "{queued} messages ({queued_bytes} bytes) already wait for the data channel, and this one ({bytes} bytes) would pass the SDK's bound of {SEND_QUEUE_MESSAGES} messages or {SEND_QUEUE_BYTES} bytes; nothing of it was sent (await earlier sendMessage() calls)"
            ),
            Failure::ChannelRefused(why) => format!("the data channel refused the message ({why}); nothing was sent"),
            Failure::NoVideoTrack => "publishVideoStream() needs a MediaStream with a video track".into(),
            Failure::NoVideoInput { model } => format!("the model {model} takes no video input"),
            Failure::Unpublished => "unpublishVideoStream() was called first".into(),
            Failure::VideoRefused { code, message } => {
                let sep = if message.is_empty() { "" } else { " " };
                format!("the machine refused the video: {code}{sep}{message}")
            }
        }
    }
}

impl Step {
    fn late(self) -> &'static str {
        match self {
            Step::Token => "the coordinator did not answer the token request in time",
            Step::Socket => "the coordinator's WebSocket did not open in time",
            Step::Hello => "the coordinator did not answer hello in time",
            Step::StartSession => "the machine did not start a session in time",
            Step::Answer => "the machine did not answer the offer in time",
            Step::Connection => "the machine connection did not come up in time",
            Step::NewAnswer => "the machine did not answer the new offer in time",
            Step::NewConnection => "the new connection did not come up in time",
            Step::Resume => "the coordinator did not answer resume in time",
            Step::Publish => "the machine did not answer publish_track in time",
        }
    }
}

impl PeerFailure {
    pub fn message(&self) -> String {
        match self {
            PeerFailure::Create(why) => format!("the browser refused the peer connection: {why}"),
            PeerFailure::Offer(why) => format!("the browser could not make an offer: {why}"),
            PeerFailure::Answer(why) => format!("the machine's answer was refused: {why}"),
            PeerFailure::NoMid(track) => format!("the browser assigned no mid to track `{track}`"),
        }
    }
}

impl HttpFailure {
    /// Why there is no answer, for the message of the step that failed.
    pub fn message(&self) -> String {
        match self {
            HttpFailure::Unsendable(why) => format!("the browser would not send the request ({why})"),
            HttpFailure::Network(why) => format!("no connection, a refused one, or a CORS refusal ({why})"),
            HttpFailure::Aborted(why) => format!("the request was aborted ({why})"),
            HttpFailure::Other(why) => why.clone(),
        }
    }
}

impl BadFrame {
    pub fn message(&self) -> String {
        let prefix = "the coordinator sent an unexpected frame";
        match self {
            BadFrame::Binary => format!("{prefix}: a binary frame"),
            BadFrame::NotJson(text) => format!("{prefix}: {}", head(text, BAD_FRAME_SHOWN)),
            BadFrame::Unreadable { text, error } => format!("{prefix}: {} ({error})", head(text, BAD_FRAME_SHOWN)),
        }
    }
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
