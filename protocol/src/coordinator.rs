//! The coordinator's own protocol: token exchange over HTTP, then one
//! WebSocket per client that queues it and tells it which machine it got.
//! PROTOCOL.md documents the flow; these are the exact shapes.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
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
    pub code: ErrorCode,
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

/// Frames the coordinator sends on the WebSocket.
///
/// `S` is the machine's `schema` in `assigned`, as in
/// [`SessionDescriptor`](crate::runtime::SessionDescriptor): the server
/// relays a `serde_json::Value`; the SDK reads the frame with the default
/// [`Empty`] and takes the schema from the parsed JS value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<S = Empty> {
    /// The client waits; sent on entry and again whenever its position changes.
    Queued {
        /// 1 = next in line.
        position: u32,
        /// Estimated seconds until assignment, from recent session lengths.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimated_wait: Option<f64>,
        /// On the first `queued` after `hello` only: what `resume` takes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<ResumeInfo>,
    },
    /// A machine is the client's: signal to it through the proxy under
    /// `/sessions/{session_id}/`.
    Assigned {
        session_id: String,
        model: ModelInfo,
        capabilities: Capabilities,
        /// Ready for `RTCConfiguration.iceServers`; empty on loopback.
        #[serde(default)]
        ice_servers: Vec<IceServer>,
        /// What `resume` takes, should this socket drop.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<ResumeInfo>,
        /// The machine's descriptor `schema` (the model's OpenAPI 3.1 document), as it sent it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<S>,
    },
    /// The answer to `resume`: the place or the session is this socket's
    /// again. A `queued` with the current position follows while waiting,
    /// and an `assigned` if the machine came while the socket was away.
    Resumed,
    /// Something ended the session or refused it; the coordinator closes the
    /// socket right after.
    Error(ErrorBody),
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
    use serde_json::json;

    #[test]
    fn frames_have_the_documented_shape() {
        let hello = ClientFrame::Hello { token: "t".into(), model: "echo".into(), queueing: true };
        assert_eq!(
            serde_json::to_value(&hello).unwrap(),
            json!({"type":"hello","token":"t","model":"echo","queueing":true})
        );
        let err: ServerFrame = ServerFrame::Error(ErrorBody {
            code: ErrorCode::NoCapacity,
            message: "busy".into(),
            retry_after: Some(5.0),
        });
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"type":"error","code":"NO_CAPACITY","message":"busy","retry_after":5.0})
        );
        let queued: ServerFrame = serde_json::from_value(json!({"type":"queued","position":3})).unwrap();
        assert_eq!(queued, ServerFrame::Queued { position: 3, estimated_wait: None, resume: None });
        let first: ServerFrame = ServerFrame::Queued {
            position: 1,
            estimated_wait: None,
            resume: Some(ResumeInfo { token: "r".into(), grace: 15.0 }),
        };
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            json!({"type":"queued","position":1,"resume":{"token":"r","grace":15.0}})
        );
        let resume = ClientFrame::Resume { resume_token: "r".into() };
        assert_eq!(serde_json::to_value(&resume).unwrap(), json!({"type":"resume","resume_token":"r"}));
        assert_eq!(serde_json::to_value(ServerFrame::<Empty>::Resumed).unwrap(), json!({"type":"resumed"}));
    }

    #[test]
    fn assigned_relays_the_machines_schema_and_reads_without_it() {
        let schema = json!({"openapi":"3.1.0","paths":{"/events/set_x":{"post":{}}}});
        let frame = ServerFrame::Assigned {
            session_id: "s".into(),
            model: ModelInfo { name: "echo".into() },
            capabilities: serde_json::from_value(json!({"tracks":[]})).unwrap(),
            ice_servers: Vec::new(),
            schema: Some(schema.clone()),
            resume: None,
        };
        let wire = serde_json::to_value(&frame).unwrap();
        assert_eq!(wire["schema"], schema, "relayed as the machine sent it");
        let opaque: ServerFrame = serde_json::from_value(wire).unwrap();
        assert!(matches!(opaque, ServerFrame::Assigned { schema: Some(Empty {}), .. }));
        let without: ServerFrame<serde_json::Value> = serde_json::from_value(json!({"type":"assigned",
            "session_id":"s","model":{"name":"echo"},"capabilities":{}}))
        .unwrap();
        assert!(matches!(without, ServerFrame::Assigned { schema: None, .. }));
    }
}
