//! The coordinator's own protocol: token exchange over HTTP, then one
//! WebSocket per client that queues it and tells it which machine it got.
//! PROTOCOL.md documents the flow; these are the exact shapes.

use serde::{Deserialize, Deserializer, Serialize};

use crate::decode::{decode, unknown_type, DecodeError, Tagged};
use crate::error::Code;
use crate::runtime::{Capabilities, Empty};

/// `POST` here with the API key in [`API_KEY_HEADER`] to get a [`TokenResponse`].
pub const TOKENS_PATH: &str = "/tokens";
/// The request header that carries the API key (never the URL).
pub const API_KEY_HEADER: &str = "Reactor-API-Key";
/// The coordinator's WebSocket endpoint.
pub const WS_PATH: &str = "/ws";
/// Prefix of the signaling proxy: `/sessions/{session_id}/transport/webrtc/...`
/// is forwarded to the assigned machine's `/sessions/local/transport/webrtc/...`.
/// Requests must carry `Authorization: Bearer {token}` of the session's owner.
pub const SESSIONS_PATH: &str = "/sessions";
/// `GET`: [`CoordinatorStats`], read-only, no key needed (what tests and
/// operators check to see that nothing is left open).
pub const STATS_PATH: &str = "/stats";

/// Answer to `GET /stats`: the coordinator's view of its clients right now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordinatorStats {
    /// WebSockets open now.
    pub sockets_open: u64,
    /// Clients admitted by `hello` and not gone (queued or holding a machine).
    pub clients: u64,
    /// Sessions assigned and not ended.
    pub sessions: u64,
    /// Every client ever admitted by `hello`, since the start.
    pub clients_admitted: u64,
}

/// Answer to `POST /tokens`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: String,
    /// Seconds until the token stops being accepted by `hello`.
    pub expires_in: u64,
}

/// The JSON body of every non-2xx coordinator HTTP answer, and the payload
/// of the WebSocket `error` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A code this SDK may not know yet (a newer coordinator's) stays as it came.
    pub code: Code,
    pub message: String,
    /// Suggested delay before trying again, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
}

/// Frames the client sends on the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame, and the only one the coordinator waits for.
    Hello { token: String, model: String, queueing: bool },
    /// The first frame of a new socket in place of `hello`: re-attaches
    /// the queue place or the session that a dropped socket left behind,
    /// within the coordinator's grace period.
    Resume { resume_token: String },
    /// The client leaves: its queue place or its session ends now.
    Leave,
}

/// Frames the coordinator sends on the WebSocket. Each variant holds a
/// struct of its own, so a reader decodes just the one `type` names
/// ([`Tagged`]).
///
/// `S` is the machine's `schema` in `assigned`, as in
/// [`SessionDescriptor`](crate::runtime::SessionDescriptor): the server
/// relays it as the machine sent it; the SDK reads the frame with the
/// default [`Empty`] and takes the schema from the parsed JS value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<S = Empty> {
    /// The client waits; sent on entry and again whenever its position changes.
    Queued(Queued),
    /// A machine is the client's.
    Assigned(Assigned<S>),
    /// The answer to `resume`: the place or the session is this socket's
    /// again. A `queued` with the current position follows while waiting,
    /// and an `assigned` if the machine came while the socket was away.
    Resumed,
    /// Something ended the session or refused it; the coordinator closes the
    /// socket right after.
    Error(ErrorBody),
}

impl Tagged for ServerFrame {
    fn from_tagged<'de, D: Deserializer<'de>>(kind: &str, value: D) -> Result<Self, DecodeError> {
        match kind {
            "queued" => decode(value).map(ServerFrame::Queued),
            "assigned" => decode(value).map(ServerFrame::Assigned),
            "error" => decode(value).map(ServerFrame::Error),
            "resumed" => Ok(ServerFrame::Resumed),
            other => Err(unknown_type(other)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    /// 1 = next in line.
    pub position: u32,
    /// Estimated seconds until assignment, from recent session lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_wait: Option<f64>,
    /// On the first `queued` after `hello` only: what `resume` takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeInfo>,
}

/// Signal to the machine through the proxy under `/sessions/{session_id}/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assigned<S = Empty> {
    pub session_id: String,
    pub model: ModelInfo,
    pub capabilities: Capabilities,
    /// Ready for `RTCConfiguration.iceServers`; empty on loopback.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// What `resume` takes, should this socket drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeInfo>,
    /// The machine's descriptor `schema` (the model's OpenAPI 3.1 document), as it sent it.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub schema: Option<S>,
}

/// How a client gets its place or session back after its socket dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResumeInfo {
    /// Secret to the client; send it in a `resume` frame.
    pub token: String,
    /// How long the coordinator holds the place or session of a dropped
    /// socket, in seconds.
    pub grace: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
}

/// An ICE server in the browser's own shape (`urls`, not the runtime's `uris`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_tagged;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn frames_have_the_documented_shape() {
        let hello = ClientFrame::Hello { token: "t".into(), model: "echo".into(), queueing: true };
        assert_eq!(
            serde_json::to_value(&hello).unwrap(),
            json!({"type":"hello","token":"t","model":"echo","queueing":true})
        );
        let err: ServerFrame = ServerFrame::Error(ErrorBody {
            code: ErrorCode::NoCapacity.into(),
            message: "busy".into(),
            retry_after: Some(5.0),
        });
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"type":"error","code":"NO_CAPACITY","message":"busy","retry_after":5.0})
        );
        let queued: ServerFrame = serde_json::from_value(json!({"type":"queued","position":3})).unwrap();
        assert_eq!(queued, ServerFrame::Queued(Queued { position: 3, estimated_wait: None, resume: None }));
        let first: ServerFrame = ServerFrame::Queued(Queued {
            position: 1,
            estimated_wait: None,
            resume: Some(ResumeInfo { token: "r".into(), grace: 15.0 }),
        });
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            json!({"type":"queued","position":1,"resume":{"token":"r","grace":15.0}})
        );
        assert_eq!(read(serde_json::to_value(&first).unwrap()), Ok(first));
        let resume = ClientFrame::Resume { resume_token: "r".into() };
        assert_eq!(serde_json::to_value(&resume).unwrap(), json!({"type":"resume","resume_token":"r"}));
        assert_eq!(serde_json::to_value(ServerFrame::<Empty>::Resumed).unwrap(), json!({"type":"resumed"}));
        assert_eq!(read(json!({"type":"resumed"})), Ok(ServerFrame::Resumed));
    }

    /// What the SDK's reader makes of `value` (it reads `type` first).
    fn read(value: serde_json::Value) -> Result<ServerFrame, DecodeError> {
        decode_tagged(value.get("type").and_then(|t| t.as_str()), &value)
    }

    #[test]
    fn frames_read_by_their_type_match_serde() {
        let frames = [
            ServerFrame::Queued(Queued { position: 3, estimated_wait: Some(40.0), resume: None }),
            ServerFrame::Assigned(Assigned {
                session_id: "s1".into(),
                model: ModelInfo { name: "echo".into() },
                capabilities: Capabilities::default(),
                ice_servers: vec![IceServer {
                    urls: vec!["stun:x".into()],
                    username: None,
                    credential: Some("p".into()),
                }],
                schema: None,
                resume: None,
            }),
            ServerFrame::Error(ErrorBody {
                code: ErrorCode::UnknownModel.into(),
                message: "?".into(),
                retry_after: None,
            }),
        ];
        for frame in frames {
            assert_eq!(read(serde_json::to_value(&frame).unwrap()), Ok(frame));
        }
    }

    #[test]
    fn what_does_not_fit_is_refused_naming_the_field() {
        let at = |value| read(value).unwrap_err().path;
        assert_eq!(at(json!({"type":"queued","position":-1})), "position");
        assert_eq!(at(json!({"type":"queued","position":1.5})), "position");
        assert_eq!(at(json!({"type":"party"})), "type");
        assert_eq!(at(json!({"position":1})), "type");
        assert_eq!(
            at(
                json!({"type":"assigned","session_id":"s","model":{"name":"m"},"capabilities":{"tracks":[{"name":"x","kind":"smell","direction":"sendonly"}]}})
            ),
            "capabilities.tracks"
        );
        let token: Result<TokenResponse, _> = decode(json!({"token":"t","expires_in":1.5}));
        assert_eq!(token.unwrap_err().path, "expires_in");
    }

    #[test]
    fn an_unknown_code_keeps_its_code_and_message() {
        let frame = read(json!({"type":"error","code":"QUOTA_EXCEEDED","message":"over quota"})).unwrap();
        let ServerFrame::Error(body) = frame else { panic!("{frame:?}") };
        assert_eq!(body.code, Code::Unknown("QUOTA_EXCEEDED".into()));
        assert_eq!(body.message, "over quota");
        assert_eq!(serde_json::to_value(&body.code).unwrap(), json!("QUOTA_EXCEEDED"));
    }

    #[test]
    fn assigned_relays_the_machines_schema_and_reads_without_it() {
        let schema = json!({"openapi":"3.1.0","paths":{"/events/set_x":{"post":{}}}});
        let frame = ServerFrame::Assigned(Assigned {
            session_id: "s".into(),
            model: ModelInfo { name: "echo".into() },
            capabilities: serde_json::from_value(json!({"tracks":[]})).unwrap(),
            ice_servers: Vec::new(),
            schema: Some(schema.clone()),
            resume: None,
        });
        let wire = serde_json::to_value(&frame).unwrap();
        assert_eq!(wire["schema"], schema, "relayed as the machine sent it");
        let opaque: ServerFrame = serde_json::from_value(wire).unwrap();
        assert!(matches!(opaque, ServerFrame::Assigned(Assigned { schema: Some(Empty {}), .. })));
        let without: ServerFrame<serde_json::Value> = serde_json::from_value(json!({"type":"assigned",
            "session_id":"s","model":{"name":"echo"},"capabilities":{}}))
        .unwrap();
        assert!(matches!(without, ServerFrame::Assigned(Assigned { schema: None, .. })));
    }
}
