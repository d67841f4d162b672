//! The subset of the Reactor runtime's local API (2.x, JSON) that the SDK
//! uses and our simulated machines serve, shaped as reactor-runtime 2.10.1
//! really answers (the tests below pin its answers as they came). PROTOCOL.md
//! says where the coordinator differs on purpose.
//!
//! Reading is tolerant: unknown fields are ignored, an id may be a JSON
//! number or string, `emission_fps` may be `null`, and the parts the SDK
//! does not use (`track_map`, `schema`) are not required to have any shape.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

use crate::decode::{decode, unknown_type, DecodeError, Tagged};

/// A local runtime holds one session, always named this.
pub const LOCAL_SESSION_ID: &str = "local";
/// Label of the data channel for application and runtime messages.
pub const DATA_CHANNEL: &str = "data";
/// Label of the data channel for track control.
pub const CONTROL_CHANNEL: &str = "control";
/// The client must ping the runtime at least this often or be dropped.
pub const PING_TIMEOUT_MS: u32 = 20_000;
/// How often the SDK pings (well inside [`PING_TIMEOUT_MS`]).
pub const PING_INTERVAL_MS: u32 = 5_000;

/// Paths under `/sessions/{id}/transport/webrtc`.
pub mod paths {
    pub const START_SESSION: &str = "/start_session";
    pub const STOP_SESSION: &str = "/stop_session";
    pub const SESSION: &str = "/session";
    pub const HEALTH: &str = "/health";
    /// `/sessions/{id}` + this prefix + one of the suffixes below.
    pub const WEBRTC: &str = "/transport/webrtc";
    pub const ICE_SERVERS: &str = "/ice_servers";
    pub const CONNECTIONS: &str = "/connections";
    /// `/connections/{connection_id}` + this.
    pub const SDP_PARAMS: &str = "/sdp_params";
    /// `/connections/{connection_id}` + this.
    pub const ICE_CANDIDATES: &str = "/ice_candidates";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    Video,
    Audio,
}

/// Direction from the client's side: `recvonly` is model output,
/// `sendonly` is model input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackDirection {
    Sendonly,
    Recvonly,
}

/// A track the model declares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackInfo {
    pub name: String,
    pub kind: TrackKind,
    pub direction: TrackDirection,
}

/// A command the model accepts (2.10.1 sends none here: its commands are in
/// the descriptor's OpenAPI `schema`) in the `application` scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    #[serde(default)]
    pub protocol_version: String,
    #[serde(default)]
    pub tracks: Vec<TrackInfo>,
    #[serde(default)]
    pub commands: Vec<CommandInfo>,
    /// `null` when the runtime adapts its rate to the model.
    #[serde(default)]
    pub emission_fps: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionModel {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectedTransport {
    pub protocol: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub server_version: String,
}

/// `POST /start_session` and `GET /session`.
///
/// `S` is the model's `schema`: an OpenAPI 3.1 document (`paths
/// ["/events/<command>"]` with each command's JSON Schema, `webhooks
/// ["<message>"]`, `x-reactor.tracks`). The SDK keeps it opaque (the default
/// [`Empty`] reads any object and keeps nothing); the server holds a
/// `serde_json::Value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionDescriptor<S = Empty> {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<ServerInfo>,
    pub selected_transport: SelectedTransport,
    pub model: SessionModel,
    pub capabilities: Capabilities,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<S>,
    /// `READY` (no session), `WAITING` (session, no client), `STREAMING`.
    pub state: String,
}

/// Values of [`SessionDescriptor::state`] and [`Health::state`].
pub mod states {
    /// Loading the model: no session can start yet.
    pub const CREATED: &str = "CREATED";
    /// Idle: no session.
    pub const READY: &str = "READY";
    /// A session, no client connected.
    pub const WAITING: &str = "WAITING";
    /// A session with a client connected.
    pub const STREAMING: &str = "STREAMING";
    /// A session whose client went away.
    pub const ORPHANED: &str = "ORPHANED";
}

/// Body of a runtime's non-2xx answer (FastAPI's shape: `{"detail": ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeProblem {
    pub detail: String,
}

/// `GET /health`: `status` is `healthy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub model: String,
    pub state: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeCredentials {
    pub username: String,
    pub password: String,
}

/// An ICE server as the runtime lists it (`uris`; the browser wants `urls`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeIceServer {
    pub uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<RuntimeCredentials>,
}

/// `GET .../ice_servers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceServersResponse {
    pub ice_servers: Vec<RuntimeIceServer>,
}

/// One line of `track_mapping`: which offer `mid` carries which model track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackMapping {
    pub mid: String,
    pub name: String,
    pub kind: TrackKind,
    pub direction: TrackDirection,
}

/// A connection's id: the runtime mints a JSON integer (4 digits on
/// 2.10.1); a string is accepted too, as other machines may send one.
/// Read by hand rather than as an untagged enum, whose buffering costs the
/// wasm far more code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum ConnectionKey {
    Number(u64),
    Text(String),
}

/// The id as it goes in a URL path (`.../connections/{id}/...`).
impl fmt::Display for ConnectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionKey::Number(n) => write!(f, "{n}"),
            ConnectionKey::Text(text) => f.write_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for ConnectionKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl de::Visitor<'_> for Key {
            type Value = ConnectionKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ConnectionKey, E> {
                Ok(ConnectionKey::Number(n))
            }
            // serde-wasm-bindgen hands a JS integer over as an i64.
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ConnectionKey, E> {
                let n = u64::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))?;
                Ok(ConnectionKey::Number(n))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ConnectionKey, E> {
                Ok(ConnectionKey::Text(text.into()))
            }
        }
        deserializer.deserialize_any(Key)
    }
}

impl From<&str> for ConnectionKey {
    fn from(text: &str) -> Self {
        ConnectionKey::Text(text.into())
    }
}

impl From<u64> for ConnectionKey {
    fn from(n: u64) -> Self {
        ConnectionKey::Number(n)
    }
}

/// 202 answer to `POST .../sdp_params` (and what the SDK reads of the 201
/// answer to `POST .../connections`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionId {
    pub connection_id: ConnectionKey,
}

/// 201 answer to `POST .../connections`. The SDK needs only the id; the
/// runtime also sends a `track_map` shaped like [`Capabilities`] (an object,
/// not an array), which our machines fill the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewConnection {
    pub connection_id: ConnectionKey,
    pub track_map: Capabilities,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Body of `POST` (or `PUT`, renegotiation) `.../connections/{id}/sdp_params`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdpOffer {
    pub sdp_offer: String,
    pub track_mapping: Vec<TrackMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_info: Option<ClientInfo>,
}

/// 200 answer to `GET .../connections/{id}/sdp_params` (202 while pending).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdpAnswer {
    pub sdp_answer: String,
    pub connection_id: ConnectionKey,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default)]
    pub sdp_mline_index: Option<u16>,
}

/// Body of `POST .../connections/{id}/ice_candidates`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceCandidates {
    pub candidates: Vec<IceCandidate>,
    pub is_final: bool,
}

/// Scope of a message on the `data` channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Application,
    Runtime,
}

/// Every message on the `data` channel: `{"scope": ..., "data": ...}`.
/// Application `data` is whatever the model and the app agree on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub scope: Scope,
    pub data: T,
}

/// The `{"type": ..., "data": ...}` shape inside an [`Envelope`]: used by
/// our simulated models for application messages, and by the runtime for
/// what it sends the client ([`MEDIA_STATS`], [`MODEL_SCHEMA`]): the SDK
/// reads `type` first and decodes only the body it cares about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypedMessage<T> {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: T,
}

/// `runtime`-scope messages from the client to the runtime. What the runtime
/// sends back is a [`TypedMessage`] whose `type` is one of the constants
/// below, each named only there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RuntimeMessage {
    /// Keep-alive, at least every [`PING_TIMEOUT_MS`].
    Ping,
    /// Ask for the model's schema; the runtime answers with [`MODEL_SCHEMA`].
    RequestSchema,
}

/// Runtime → client, about every 5 s: a [`MediaStats`] body.
pub const MEDIA_STATS: &str = "mediaStats";

/// Runtime → client, the answer to `requestSchema`: the model's OpenAPI
/// document, the same as the session descriptor's `schema` (not modelled).
pub const MODEL_SCHEMA: &str = "modelSchema";

/// The body of a runtime's `mediaStats`: the part the SDK reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaStats {
    #[serde(default)]
    pub video: Option<VideoQos>,
}

/// The runtime's own score of the video it sends, 0 (bad) to 10.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoQos {
    #[serde(rename = "aggregateQos")]
    pub aggregate_qos: f64,
}

/// A track named in a control message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackRef {
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackEvent {
    ResumeTrack,
    PauseTrack,
    UnpublishTrack,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlMethod {
    PublishTrack,
}

/// An error in a control `response`, such as `PUBLISHER_SLOT_TAKEN`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// An object whose content is not modelled (`{}` on the wire).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// Messages on the `control` channel; each variant holds a struct of its
/// own, so a reader decodes just the one `type` names ([`Tagged`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlMessage {
    Notification(TrackNotification),
    Request(ControlRequest),
    Response(ControlResponse),
}

impl Tagged for ControlMessage {
    fn from_tagged<'de, D: Deserializer<'de>>(kind: &str, value: D) -> Result<Self, DecodeError> {
        match kind {
            "notification" => decode(value).map(ControlMessage::Notification),
            "request" => decode(value).map(ControlMessage::Request),
            "response" => decode(value).map(ControlMessage::Response),
            other => Err(unknown_type(other)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackNotification {
    pub event: TrackEvent,
    pub data: TrackRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlRequest {
    pub method: ControlMethod,
    pub request_id: String,
    pub data: TrackRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlResponse {
    pub method: ControlMethod,
    pub request_id: String,
    /// Always `{}` in the runtime's answers.
    #[serde(default)]
    pub data: Empty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ControlError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use serde_json::json;

    /// What reactor-runtime 2.10.1 sends and what does not read, with the
    /// field each failure names (the SDK's reader goes through `decode`).
    #[test]
    fn runtime_answers_read_tolerantly_and_failures_name_the_field() {
        let runtime = json!({"connection_id":1209,"track_map":{"protocol_version":"0.0.0","tracks":[],
            "commands":[],"emission_fps":null}});
        assert_eq!(decode::<ConnectionId, _>(&runtime).unwrap().connection_id, ConnectionKey::Number(1209));
        assert_eq!(decode::<ConnectionId, _>(json!({"connection_id":"c"})).unwrap().connection_id, "c".into());
        for (bad, problem) in [
            (json!({"connection_id":true}), "invalid type: boolean `true`, expected a number or a string"),
            (json!({"connection_id":12.5}), "invalid type: floating point `12.5`, expected a number or a string"),
            (json!({"connection_id":-1}), "invalid value: integer `-1`, expected a number or a string"),
        ] {
            let err = decode::<ConnectionId, _>(&bad).unwrap_err();
            assert_eq!((err.path.as_str(), err.problem.as_str()), ("connection_id", problem), "{bad}");
        }
        let missing = decode::<ConnectionId, _>(json!({"id":1855})).unwrap_err();
        assert_eq!((missing.path.as_str(), missing.problem.as_str()), (".", "missing field `connection_id`"));
        let descriptor = json!({"session_id":"local","state":"WAITING","model":"tint",
            "selected_transport":{},"capabilities":{}});
        assert_eq!(decode::<SessionDescriptor, _>(descriptor).unwrap_err().path, "model");
        let deep = json!({"session_id":"local","state":"WAITING","model":{"name":"m"},
            "selected_transport":{"protocol":"webrtc","version":"1.0"},"capabilities":{"tracks":"cam"}});
        assert_eq!(decode::<SessionDescriptor, _>(deep).unwrap_err().path, "capabilities.tracks");
    }

    #[test]
    fn data_channel_messages_match_the_runtime() {
        let ping = Envelope { scope: Scope::Runtime, data: RuntimeMessage::Ping };
        assert_eq!(serde_json::to_value(&ping).unwrap(), json!({"scope":"runtime","data":{"type":"ping"}}));
        let schema: Envelope<RuntimeMessage> =
            serde_json::from_value(json!({"scope":"runtime","data":{"type":"requestSchema"}})).unwrap();
        assert_eq!(schema.data, RuntimeMessage::RequestSchema);
        // What the runtime sends is no request: a client-side reader of
        // RuntimeMessage never mistakes it for one.
        for tag in [MEDIA_STATS, MODEL_SCHEMA] {
            let sent = json!({"scope":"runtime","data":{"type":tag,"data":{}}});
            assert!(serde_json::from_value::<Envelope<RuntimeMessage>>(sent.clone()).is_err(), "{tag}");
            let read: Envelope<TypedMessage<serde_json::Value>> = serde_json::from_value(sent).unwrap();
            assert_eq!(read.data.kind, tag);
        }
    }

    #[test]
    fn media_stats_read_the_runtime_score() {
        let text = json!({"type": MEDIA_STATS, "data": {"video": {"aggregateQos": 7, "fps": 29.5}, "audio": {}}});
        let message: TypedMessage<MediaStats> = serde_json::from_value(text).unwrap();
        assert_eq!(message.data.video, Some(VideoQos { aggregate_qos: 7.0 }));
        let without: TypedMessage<MediaStats> = serde_json::from_value(json!({"type": MEDIA_STATS})).unwrap();
        assert_eq!(without.data.video, None);
    }

    #[test]
    fn control_messages_match_the_runtime() {
        let resume = ControlMessage::Notification(TrackNotification {
            event: TrackEvent::ResumeTrack,
            data: TrackRef { name: "main_video".into() },
        });
        assert_eq!(
            serde_json::to_value(&resume).unwrap(),
            json!({"type":"notification","event":"resume_track","data":{"name":"main_video"}})
        );
        let request = ControlMessage::Request(ControlRequest {
            method: ControlMethod::PublishTrack,
            request_id: "r1".into(),
            data: TrackRef { name: "webcam".into() },
        });
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"type":"request","method":"publish_track","request_id":"r1","data":{"name":"webcam"}})
        );
        let response: ControlMessage =
            serde_json::from_value(json!({"type":"response","method":"publish_track","request_id":"r1","data":{}}))
                .unwrap();
        assert!(matches!(response, ControlMessage::Response(ControlResponse { error: None, .. })));
        let read = |value: serde_json::Value| {
            crate::decode::decode_tagged::<ControlMessage, _>(value.get("type").and_then(|t| t.as_str()), &value)
        };
        for message in [resume, request, response] {
            assert_eq!(read(serde_json::to_value(&message).unwrap()), Ok(message));
        }
        let taken = read(json!({"type":"response","method":"publish_track","request_id":"r2","data":{},
            "error":{"code":"PUBLISHER_SLOT_TAKEN"}}));
        assert!(
            matches!(taken, Ok(ControlMessage::Response(ControlResponse { error: Some(e), .. })) if e.code == "PUBLISHER_SLOT_TAKEN")
        );
        assert_eq!(read(json!({"type":"response","method":"drop_table","request_id":"r"})).unwrap_err().path, "method");
    }

    #[test]
    fn typed_messages_and_new_connections_round_trip() {
        let msg = Envelope {
            scope: Scope::Application,
            data: TypedMessage { kind: "brightness_set".into(), data: json!({"brightness":0.25}) },
        };
        let value = serde_json::to_value(&msg).unwrap();
        assert_eq!(value, json!({"scope":"application","data":{"type":"brightness_set","data":{"brightness":0.25}}}));
        assert_eq!(serde_json::from_value::<Envelope<TypedMessage<serde_json::Value>>>(value).unwrap(), msg);
        let bare: TypedMessage<serde_json::Value> = serde_json::from_value(json!({"type":"ping"})).unwrap();
        assert_eq!(bare.data, serde_json::Value::Null);
        let created = NewConnection {
            connection_id: 1855.into(),
            track_map: Capabilities {
                protocol_version: "0.0.0".into(),
                tracks: vec![TrackInfo {
                    name: "main_video".into(),
                    kind: TrackKind::Video,
                    direction: TrackDirection::Recvonly,
                }],
                commands: vec![],
                emission_fps: None,
            },
        };
        let value = serde_json::to_value(&created).unwrap();
        assert_eq!(
            value,
            json!({"connection_id":1855,"track_map":{"protocol_version":"0.0.0",
                "tracks":[{"name":"main_video","kind":"video","direction":"recvonly"}],"commands":[],"emission_fps":null}})
        );
        assert_eq!(serde_json::from_value::<NewConnection>(value.clone()).unwrap(), created);
        let id: ConnectionId = serde_json::from_value(value).unwrap();
        assert_eq!(id.connection_id, ConnectionKey::Number(1855));

        let problem = RuntimeProblem { detail: "no session".into() };
        assert_eq!(serde_json::to_value(&problem).unwrap(), json!({"detail":"no session"}));
    }

    #[test]
    fn signaling_bodies_match_the_runtime() {
        let offer = SdpOffer {
            sdp_offer: "v=0".into(),
            track_mapping: vec![TrackMapping {
                mid: "0".into(),
                name: "webcam".into(),
                kind: TrackKind::Video,
                direction: TrackDirection::Sendonly,
            }],
            client_info: None,
        };
        assert_eq!(
            serde_json::to_value(&offer).unwrap(),
            json!({"sdp_offer":"v=0","track_mapping":[{"mid":"0","name":"webcam","kind":"video","direction":"sendonly"}]})
        );
        let ice: IceServersResponse =
            serde_json::from_value(json!({"ice_servers":[{"uris":["stun:127.0.0.1:3478"]}]})).unwrap();
        assert_eq!(ice.ice_servers[0].uris[0], "stun:127.0.0.1:3478");
    }

    /// Answers of reactor-runtime 2.10.1, copied as they came (the `tint`
    /// model of tests/runtime-models/; `schema` shortened).
    const RUNTIME_DESCRIPTOR: &str = r#"{"session_id":"local","cluster":"local","server_info":{"server_version":"2.10.1"},"selected_transport":{"protocol":"webrtc","version":"1.0"},"model":{"name":"tint"},"capabilities":{"protocol_version":"0.0.0","tracks":[{"name":"cam","kind":"video","direction":"sendonly"},{"name":"styled","kind":"video","direction":"recvonly"}],"commands":[],"emission_fps":null},"schema":{"openapi":"3.1.0","info":{"title":"tint","version":"v0.0.0","description":""},"x-reactor":{"tracks":[{"name":"cam","kind":"video","direction":"in"},{"name":"styled","kind":"video","direction":"out"}]},"paths":{"/events/set_gain":{"post":{"operationId":"set_gain","summary":"Set gain","requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","properties":{"gain":{"type":"number","default":1.0,"minimum":0.0,"maximum":4.0}}}}}},"responses":{"202":{"description":"Event accepted"}}}}},"webhooks":{"painted":{"post":{"operationId":"painted","requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","properties":{"r":{"type":"integer"}},"required":["r"]}}}}}}}},"state":"WAITING"}"#;
    const RUNTIME_CONNECTION: &str = r#"{"connection_id":1209,"track_map":{"protocol_version":"0.0.0","tracks":[{"name":"cam","kind":"video","direction":"sendonly"},{"name":"styled","kind":"video","direction":"recvonly"}],"commands":[],"emission_fps":null}}"#;

    #[test]
    fn the_runtimes_own_answers_read() {
        let descriptor: SessionDescriptor<serde_json::Value> = serde_json::from_str(RUNTIME_DESCRIPTOR).unwrap();
        assert_eq!(descriptor.state, states::WAITING);
        assert_eq!(descriptor.capabilities.emission_fps, None);
        assert_eq!(descriptor.capabilities.tracks[0].name, "cam");
        assert_eq!(descriptor.schema.unwrap()["paths"]["/events/set_gain"]["post"]["operationId"], "set_gain");
        // The SDK's view: the schema is read as nothing in particular.
        let opaque: SessionDescriptor = serde_json::from_str(RUNTIME_DESCRIPTOR).unwrap();
        assert_eq!(opaque.schema, Some(Empty {}));
        assert_eq!(opaque.server_info.unwrap().server_version, "2.10.1");

        let created: NewConnection = serde_json::from_str(RUNTIME_CONNECTION).unwrap();
        assert_eq!(created.connection_id, ConnectionKey::Number(1209));
        assert_eq!(created.connection_id.to_string(), "1209");
        let id: ConnectionId = serde_json::from_str(RUNTIME_CONNECTION).unwrap();
        assert_eq!(id.connection_id, ConnectionKey::Number(1209));
        let answer: SdpAnswer = serde_json::from_str(r#"{"sdp_answer":"v=0","connection_id":1209}"#).unwrap();
        assert_eq!(answer.connection_id, 1209.into());
        let health: Health = serde_json::from_str(r#"{"status":"healthy","model":"tint","state":"READY"}"#).unwrap();
        assert_eq!(health.state, states::READY);
        let problem: RuntimeProblem = serde_json::from_str(r#"{"detail":"Connection not found"}"#).unwrap();
        assert_eq!(problem.detail, "Connection not found");
    }

    #[test]
    fn ids_may_be_strings_and_unknown_fields_are_ignored() {
        let id: ConnectionId = serde_json::from_value(json!({"connection_id":"c-1","future":[1]})).unwrap();
        assert_eq!(id.connection_id, ConnectionKey::Text("c-1".into()));
        assert_eq!(id.connection_id.to_string(), "c-1");
        assert!(serde_json::from_value::<ConnectionId>(json!({"connection_id":true})).is_err());
        let bare: SessionDescriptor = serde_json::from_value(json!({"session_id":"local",
            "selected_transport":{"protocol":"webrtc","version":"1.0"},"model":{"name":"m"},
            "capabilities":{"tracks":[]},"state":"WAITING"}))
        .unwrap();
        assert_eq!((bare.schema, bare.cluster, bare.capabilities.emission_fps), (None, None, None));
    }
}
