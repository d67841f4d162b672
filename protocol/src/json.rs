//! Small, hand-written JSON for the shapes the wasm SDK sends and reads.
//!
//! The serde derives stay the definition of every shape (the server uses
//! them); this module exists because serde's generated deserializers are
//! the largest thing a wasm build can carry. Reading works over any host's
//! JSON value ([`JsonValue`]: a JS value in the browser, `serde_json::Value`
//! in tests); writing produces JSON text. The tests check every shape
//! against serde, so the two can never drift apart.

use alloc::string::String;
use alloc::vec::Vec;

use crate::coordinator::{ClientFrame, ErrorBody, IceServer, ModelInfo, ServerFrame, TokenResponse};
use crate::error::ErrorCode;
use crate::runtime::*;
use crate::text::head;

/// A parsed JSON value as some host holds it.
pub trait JsonValue: Sized {
    /// A member of an object; `None` when absent or `null`.
    fn field(&self, key: &str) -> Option<Self>;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    /// The items of an array.
    fn items(&self) -> Option<Vec<Self>>;
    /// The value as JSON text, for error messages.
    fn text(&self) -> String;
}

/// The JSON type a field must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Text,
    Number,
    TextOrNumber,
    Object,
}

impl Expect {
    fn fits<J: JsonValue>(self, v: &J) -> bool {
        let scalar = v.string().is_some() || v.number().is_some() || v.boolean().is_some();
        match self {
            Expect::Text => v.string().is_some(),
            Expect::Number => v.number().is_some(),
            Expect::TextOrNumber => v.string().is_some() || v.number().is_some(),
            Expect::Object => !scalar && v.items().is_none(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Expect::Text => "a string",
            Expect::Number => "a number",
            Expect::TextOrNumber => "a number or a string",
            Expect::Object => "an object",
        }
    }
}

/// Shapes the SDK reads.
pub trait FromJson: Sized {
    /// The members an answer must have, so that one that does not read can
    /// be named ([`why_unreadable`]).
    const FIELDS: &'static [(&'static str, Expect)] = &[];

    fn from_json<J: JsonValue>(value: &J) -> Option<Self>;
}

/// Why `value` did not read as a `T`: the first required member that is
/// missing or of another JSON type, with what came; else the whole value.
pub fn why_unreadable<T: FromJson, J: JsonValue>(value: &J) -> String {
    why_unreadable_of(value, T::FIELDS)
}

// One copy for every answer type, not one per type.
fn why_unreadable_of<J: JsonValue>(value: &J, fields: &[(&'static str, Expect)]) -> String {
    for &(key, expect) in fields {
        match value.field(key) {
            None => return crate::text!("`", key, "` is missing in ", head(&value.text(), SHOWN)),
            Some(got) if !expect.fits(&got) => {
                let expected = crate::text!(", expected ", expect.name());
                return crate::text!("`", key, "` is ", head(&got.text(), SHOWN), expected);
            }
            Some(_) => {}
        }
    }
    crate::text!("unexpected content: ", head(&value.text(), SHOWN))
}

/// How many bytes of an unreadable answer a message quotes.
pub const SHOWN: usize = 120;

fn string<J: JsonValue>(v: &J, key: &str) -> Option<String> {
    v.field(key)?.string()
}

fn opt_string<J: JsonValue>(v: &J, key: &str) -> Option<String> {
    v.field(key).and_then(|f| f.string())
}

fn opt_number<J: JsonValue>(v: &J, key: &str) -> Option<f64> {
    v.field(key).and_then(|f| f.number())
}

fn list<J: JsonValue, T: FromJson>(v: &J, key: &str) -> Option<Vec<T>> {
    each(v.field(key), T::from_json)
}

/// Every item of an array (none when `array` is absent) read by `read`;
/// `None` when any item does not read. A plain loop: `collect` into an
/// `Option<Vec<_>>` costs the wasm a generic adapter per item type.
fn each<J: JsonValue, T>(array: Option<J>, read: impl Fn(&J) -> Option<T>) -> Option<Vec<T>> {
    let mut out = Vec::new();
    if let Some(array) = array {
        for item in array.items()? {
            out.push(read(&item)?);
        }
    }
    Some(out)
}

/// A connection id: the runtime sends a JSON integer, others a string.
fn connection_key<J: JsonValue>(v: &J, key: &str) -> Option<ConnectionKey> {
    let value = v.field(key)?;
    match value.string() {
        Some(text) => Some(ConnectionKey::Text(text)),
        None => Some(ConnectionKey::Number(whole_u64(value.number()?)?)),
    }
}

fn whole_u64(n: f64) -> Option<u64> {
    // 2^53: past it an f64 no longer holds every integer.
    ((0.0..=9_007_199_254_740_992.0).contains(&n) && (n as u64) as f64 == n).then_some(n as u64)
}

fn whole(n: f64) -> Option<u32> {
    (n >= 0.0 && n <= u32::MAX as f64 && (n as u32) as f64 == n).then_some(n as u32)
}

impl FromJson for TokenResponse {
    const FIELDS: &'static [(&'static str, Expect)] = &[("token", Expect::Text), ("expires_in", Expect::Number)];
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        let expires_in = v.field("expires_in")?.number()?;
        Some(TokenResponse { token: string(v, "token")?, expires_in: expires_in as u64 })
    }
}

impl FromJson for ErrorBody {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        Some(ErrorBody {
            code: ErrorCode::parse(&string(v, "code")?)?,
            message: string(v, "message")?,
            retry_after: opt_number(v, "retry_after"),
        })
    }
}

impl FromJson for IceServer {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        let urls = each(Some(v.field("urls")?), |u| u.string())?;
        Some(IceServer { urls, username: opt_string(v, "username"), credential: opt_string(v, "credential") })
    }
}

impl FromJson for TrackInfo {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        let kind = match string(v, "kind")?.as_str() {
            "video" => TrackKind::Video,
            "audio" => TrackKind::Audio,
            _ => return None,
        };
        let direction = match string(v, "direction")?.as_str() {
            "sendonly" => TrackDirection::Sendonly,
            "recvonly" => TrackDirection::Recvonly,
            _ => return None,
        };
        Some(TrackInfo { name: string(v, "name")?, kind, direction })
    }
}

impl FromJson for Capabilities {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        Some(Capabilities {
            protocol_version: opt_string(v, "protocol_version").unwrap_or_default(),
            tracks: list(v, "tracks")?,
            // Not read: the SDK has no use for it, and 2.10.1 sends none
            // (a model's commands are in the descriptor's `schema`).
            commands: Vec::new(),
            emission_fps: opt_number(v, "emission_fps"),
        })
    }
}

impl FromJson for ServerFrame {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        match string(v, "type")?.as_str() {
            "queued" => Some(ServerFrame::Queued {
                position: whole(v.field("position")?.number()?)?,
                estimated_wait: opt_number(v, "estimated_wait"),
                // The SDK does not resume yet.
                resume: None,
            }),
            "assigned" => Some(ServerFrame::Assigned {
                session_id: string(v, "session_id")?,
                model: ModelInfo { name: string(&v.field("model")?, "name")? },
                capabilities: Capabilities::from_json(&v.field("capabilities")?)?,
                ice_servers: list(v, "ice_servers")?,
                resume: None,
                // Not read here: the SDK takes it from the parsed JS value.
                schema: None,
            }),
            "resumed" => Some(ServerFrame::Resumed),
            "error" => ErrorBody::from_json(v).map(ServerFrame::Error),
            _ => None,
        }
    }
}

impl FromJson for SessionDescriptor {
    const FIELDS: &'static [(&'static str, Expect)] = &[
        ("session_id", Expect::Text),
        ("state", Expect::Text),
        ("model", Expect::Object),
        ("selected_transport", Expect::Object),
        ("capabilities", Expect::Object),
    ];
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        let transport = v.field("selected_transport")?;
        // `cluster`, `server_info` and the `schema` are not used by the SDK.
        Some(SessionDescriptor {
            session_id: string(v, "session_id")?,
            cluster: None,
            server_info: None,
            schema: None,
            state: string(v, "state")?,
            model: SessionModel { name: string(&v.field("model")?, "name")? },
            selected_transport: SelectedTransport {
                protocol: string(&transport, "protocol")?,
                version: string(&transport, "version")?,
            },
            capabilities: Capabilities::from_json(&v.field("capabilities")?)?,
        })
    }
}

impl FromJson for ConnectionId {
    const FIELDS: &'static [(&'static str, Expect)] = &[("connection_id", Expect::TextOrNumber)];
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        Some(ConnectionId { connection_id: connection_key(v, "connection_id")? })
    }
}

impl FromJson for SdpAnswer {
    const FIELDS: &'static [(&'static str, Expect)] =
        &[("sdp_answer", Expect::Text), ("connection_id", Expect::TextOrNumber)];
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        Some(SdpAnswer { sdp_answer: string(v, "sdp_answer")?, connection_id: connection_key(v, "connection_id")? })
    }
}

impl FromJson for ControlMessage {
    fn from_json<J: JsonValue>(v: &J) -> Option<Self> {
        let method = || match string(v, "method")?.as_str() {
            "publish_track" => Some(ControlMethod::PublishTrack),
            _ => None,
        };
        let track = || Some(TrackRef { name: string(&v.field("data")?, "name")? });
        match string(v, "type")?.as_str() {
            "notification" => {
                let event = match string(v, "event")?.as_str() {
                    "resume_track" => TrackEvent::ResumeTrack,
                    "pause_track" => TrackEvent::PauseTrack,
                    "unpublish_track" => TrackEvent::UnpublishTrack,
                    _ => return None,
                };
                Some(ControlMessage::Notification { event, data: track()? })
            }
            "request" => Some(ControlMessage::Request {
                method: method()?,
                request_id: string(v, "request_id")?,
                data: track()?,
            }),
            "response" => Some(ControlMessage::Response {
                method: method()?,
                request_id: string(v, "request_id")?,
                data: Empty {},
                error: v.field("error").and_then(|e| {
                    Some(ControlError {
                        code: string(&e, "code")?,
                        message: opt_string(&e, "message").unwrap_or_default(),
                    })
                }),
            }),
            _ => None,
        }
    }
}

/// Shapes the SDK sends, as JSON text.
pub trait ToJson {
    fn write_json(&self, out: &mut Writer);

    fn to_json(&self) -> String {
        let mut writer = Writer::default();
        self.write_json(&mut writer);
        writer.out
    }
}

/// Writes JSON objects member by member.
#[derive(Default)]
pub struct Writer {
    out: String,
    fresh: bool,
}

impl Writer {
    fn open(&mut self) {
        self.out.push('{');
        self.fresh = true;
    }

    fn close(&mut self) {
        self.out.push('}');
        self.fresh = false;
    }

    fn key(&mut self, key: &str) {
        if !self.fresh {
            self.out.push(',');
        }
        self.fresh = false;
        self.quoted(key);
        self.out.push(':');
    }

    fn quoted(&mut self, text: &str) {
        self.out.push('"');
        for c in text.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.push_str("\\u00");
                    self.out.push(HEX[(c as usize) >> 4] as char);
                    self.out.push(HEX[(c as usize) & 15] as char);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.quoted(value);
    }

    fn opt_str(&mut self, key: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn uint(&mut self, key: &str, value: u32) {
        self.key(key);
        crate::text::push_decimal(&mut self.out, value.into());
    }

    fn object(&mut self, key: &str, value: &impl ToJson) {
        self.key(key);
        value.write_json(self);
    }

    fn array<T: ToJson>(&mut self, key: &str, items: &[T]) {
        self.key(key);
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            item.write_json(self);
        }
        self.out.push(']');
    }
}

impl ToJson for ClientFrame {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        match self {
            ClientFrame::Hello { token, model, queueing } => {
                w.str("type", "hello");
                w.str("token", token);
                w.str("model", model);
                w.bool("queueing", *queueing);
            }
            ClientFrame::Resume { resume_token } => {
                w.str("type", "resume");
                w.str("resume_token", resume_token);
            }
            ClientFrame::Leave => w.str("type", "leave"),
        }
        w.close();
    }
}

fn direction(direction: TrackDirection) -> &'static str {
    match direction {
        TrackDirection::Sendonly => "sendonly",
        TrackDirection::Recvonly => "recvonly",
    }
}

impl ToJson for TrackMapping {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.str("mid", &self.mid);
        w.str("name", &self.name);
        w.str("kind", if self.kind == TrackKind::Video { "video" } else { "audio" });
        w.str("direction", direction(self.direction));
        w.close();
    }
}

impl ToJson for ClientInfo {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.opt_str("sdk", &self.sdk);
        w.opt_str("version", &self.version);
        w.close();
    }
}

impl ToJson for SdpOffer {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.str("sdp_offer", &self.sdp_offer);
        w.array("track_mapping", &self.track_mapping);
        if let Some(info) = &self.client_info {
            w.object("client_info", info);
        }
        w.close();
    }
}

impl ToJson for IceCandidate {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.str("candidate", &self.candidate);
        match &self.sdp_mid {
            Some(mid) => w.str("sdp_mid", mid),
            None => {
                w.key("sdp_mid");
                w.out.push_str("null");
            }
        }
        match self.sdp_mline_index {
            Some(index) => w.uint("sdp_mline_index", index as u32),
            None => {
                w.key("sdp_mline_index");
                w.out.push_str("null");
            }
        }
        w.close();
    }
}

impl ToJson for IceCandidates {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.array("candidates", &self.candidates);
        w.bool("is_final", self.is_final);
        w.close();
    }
}

impl ToJson for Envelope<RuntimeMessage> {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.str("scope", if self.scope == Scope::Runtime { "runtime" } else { "application" });
        w.key("data");
        w.open();
        w.str(
            "type",
            match self.data {
                RuntimeMessage::Ping => "ping",
                RuntimeMessage::RequestSchema => "requestSchema",
                RuntimeMessage::ModelSchema => "modelSchema",
                RuntimeMessage::MediaStats => "mediaStats",
            },
        );
        w.close();
        w.close();
    }
}

impl ToJson for TrackRef {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        w.str("name", &self.name);
        w.close();
    }
}

impl ToJson for ControlMessage {
    fn write_json(&self, w: &mut Writer) {
        w.open();
        match self {
            ControlMessage::Notification { event, data } => {
                w.str("type", "notification");
                let event = match event {
                    TrackEvent::ResumeTrack => "resume_track",
                    TrackEvent::PauseTrack => "pause_track",
                    TrackEvent::UnpublishTrack => "unpublish_track",
                };
                w.str("event", event);
                w.object("data", data);
            }
            ControlMessage::Request { method: ControlMethod::PublishTrack, request_id, data } => {
                w.str("type", "request");
                w.str("method", "publish_track");
                w.str("request_id", request_id);
                w.object("data", data);
            }
            ControlMessage::Response { method: ControlMethod::PublishTrack, request_id, error, .. } => {
                w.str("type", "response");
                w.str("method", "publish_track");
                w.str("request_id", request_id);
                w.key("data");
                w.open();
                w.close();
                if let Some(error) = error {
                    w.key("error");
                    w.open();
                    w.str("code", &error.code);
                    w.str("message", &error.message);
                    w.close();
                }
            }
        }
        w.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::{json, Value};

    impl JsonValue for Value {
        fn field(&self, key: &str) -> Option<Self> {
            self.get(key).filter(|v| !v.is_null()).cloned()
        }
        fn string(&self) -> Option<String> {
            self.as_str().map(Into::into)
        }
        fn number(&self) -> Option<f64> {
            self.as_f64()
        }
        fn boolean(&self) -> Option<bool> {
            self.as_bool()
        }
        fn items(&self) -> Option<Vec<Self>> {
            self.as_array().cloned()
        }
        fn text(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }

    /// What we write is what serde writes.
    fn writes_like_serde<T: ToJson + Serialize>(value: &T) {
        let ours: Value = serde_json::from_str(&value.to_json()).expect("valid JSON");
        assert_eq!(ours, serde_json::to_value(value).unwrap());
    }

    /// What we read from serde's JSON is the value serde wrote.
    fn reads_like_serde<T: FromJson + Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(value: &T) {
        let json = serde_json::to_value(value).unwrap();
        assert_eq!(T::from_json(&json).as_ref(), Some(value), "{json}");
    }

    fn track(name: &str, direction: TrackDirection) -> TrackInfo {
        TrackInfo { name: name.into(), kind: TrackKind::Video, direction }
    }

    #[test]
    fn client_frames() {
        writes_like_serde(&ClientFrame::Hello { token: "t\"\\\n\u{1}é".into(), model: "echo".into(), queueing: true });
        writes_like_serde(&ClientFrame::Leave);
    }

    #[test]
    fn signaling_bodies() {
        let mapping = vec![
            TrackMapping {
                mid: "0".into(),
                name: "webcam".into(),
                kind: TrackKind::Video,
                direction: TrackDirection::Sendonly,
            },
            TrackMapping {
                mid: "1".into(),
                name: "main_video".into(),
                kind: TrackKind::Video,
                direction: TrackDirection::Recvonly,
            },
        ];
        let info = ClientInfo { sdk: Some("reactor-wasm".into()), version: None };
        writes_like_serde(&SdpOffer {
            sdp_offer: "v=0\r\n".into(),
            track_mapping: mapping.clone(),
            client_info: Some(info),
        });
        writes_like_serde(&SdpOffer { sdp_offer: "v=0".into(), track_mapping: vec![], client_info: None });
        let candidate = IceCandidate {
            candidate: "candidate:1 1 udp".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(65535),
        };
        let bare = IceCandidate { candidate: "c".into(), sdp_mid: None, sdp_mline_index: None };
        writes_like_serde(&IceCandidates { candidates: vec![candidate, bare], is_final: false });
        writes_like_serde(&IceCandidates { candidates: vec![], is_final: true });
    }

    #[test]
    fn channel_messages() {
        for data in [RuntimeMessage::Ping, RuntimeMessage::RequestSchema] {
            writes_like_serde(&Envelope { scope: Scope::Runtime, data });
        }
        let name = TrackRef { name: "main_video".into() };
        for event in [TrackEvent::ResumeTrack, TrackEvent::PauseTrack, TrackEvent::UnpublishTrack] {
            let message = ControlMessage::Notification { event, data: name.clone() };
            writes_like_serde(&message);
            reads_like_serde(&message);
        }
        let request =
            ControlMessage::Request { method: ControlMethod::PublishTrack, request_id: "r1".into(), data: name };
        writes_like_serde(&request);
        reads_like_serde(&request);
        let ok = ControlMessage::Response {
            method: ControlMethod::PublishTrack,
            request_id: "r1".into(),
            data: Empty {},
            error: None,
        };
        let taken = ControlMessage::Response {
            method: ControlMethod::PublishTrack,
            request_id: "r2".into(),
            data: Empty {},
            error: Some(ControlError { code: "PUBLISHER_SLOT_TAKEN".into(), message: "taken".into() }),
        };
        for response in [ok, taken] {
            writes_like_serde(&response);
            reads_like_serde(&response);
        }
    }

    #[test]
    fn coordinator_answers() {
        reads_like_serde(&TokenResponse { token: "tok".into(), expires_in: 300 });
        reads_like_serde(&ErrorBody { code: ErrorCode::NoCapacity, message: "busy".into(), retry_after: Some(2.5) });
        reads_like_serde(&ErrorBody { code: ErrorCode::AuthenticationFailed, message: "no".into(), retry_after: None });
        reads_like_serde(&ServerFrame::Queued { position: 3, estimated_wait: Some(40.0), resume: None });
        reads_like_serde(&ServerFrame::Queued { position: 1, estimated_wait: None, resume: None });
        reads_like_serde(&ServerFrame::Error(ErrorBody {
            code: ErrorCode::UnknownModel,
            message: "?".into(),
            retry_after: None,
        }));
        reads_like_serde(&ServerFrame::Assigned {
            session_id: "s1".into(),
            model: ModelInfo { name: "echo".into() },
            capabilities: Capabilities {
                protocol_version: "1.0".into(),
                tracks: vec![track("webcam", TrackDirection::Sendonly), track("main_video", TrackDirection::Recvonly)],
                commands: vec![],
                emission_fps: Some(30.0),
            },
            ice_servers: vec![IceServer {
                urls: vec!["stun:127.0.0.1:3478".into()],
                username: Some("u".into()),
                credential: Some("p".into()),
            }],
            resume: None,
            schema: None,
        });
    }

    #[test]
    fn runtime_answers() {
        reads_like_serde(&ConnectionId { connection_id: "c1".into() });
        reads_like_serde(&ConnectionId { connection_id: 1855.into() });
        reads_like_serde(&SdpAnswer { sdp_answer: "v=0".into(), connection_id: "c1".into() });
        reads_like_serde(&SdpAnswer { sdp_answer: "v=0".into(), connection_id: 1855.into() });
        reads_like_serde(&SessionDescriptor {
            session_id: "local".into(),
            cluster: None,
            server_info: None,
            schema: None,
            state: "running".into(),
            model: SessionModel { name: "echo".into() },
            selected_transport: SelectedTransport { protocol: "webrtc".into(), version: "1.0".into() },
            capabilities: Capabilities {
                protocol_version: String::new(),
                tracks: vec![],
                commands: vec![],
                emission_fps: None,
            },
        });
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        assert_eq!(ServerFrame::from_json(&json!({"type":"queued","position":-1})), None);
        assert_eq!(ServerFrame::from_json(&json!({"type":"queued","position":1.5})), None);
        assert_eq!(ServerFrame::from_json(&json!({"type":"party"})), None);
        assert_eq!(ErrorBody::from_json(&json!({"code":"NOT_A_CODE","message":"x"})), None);
        assert_eq!(TokenResponse::from_json(&json!({"token":5,"expires_in":1})), None);
        assert_eq!(
            Capabilities::from_json(&json!({"tracks":[{"name":"x","kind":"smell","direction":"sendonly"}]})),
            None
        );
        // Unknown members are ignored, as serde does.
        let extra = json!({"connection_id":"c","track_map":[],"future":true});
        assert_eq!(ConnectionId::from_json(&extra), Some(ConnectionId { connection_id: "c".into() }));
        // The runtime's own answer: an integer id, `track_map` an object.
        let runtime = json!({"connection_id":1209,"track_map":{"protocol_version":"0.0.0","tracks":[],
            "commands":[],"emission_fps":null}});
        assert_eq!(ConnectionId::from_json(&runtime), Some(ConnectionId { connection_id: 1209.into() }));
        assert_eq!(ConnectionId::from_json(&json!({"connection_id":12.5})), None);
        assert_eq!(ConnectionId::from_json(&json!({"connection_id":-1})), None);
    }

    #[test]
    fn what_does_not_read_is_named() {
        let why = why_unreadable::<ConnectionId, _>(&json!({"connection_id":true,"track_map":{}}));
        assert_eq!(why, "`connection_id` is true, expected a number or a string");
        let why = why_unreadable::<ConnectionId, _>(&json!({"id":1855}));
        assert_eq!(why, "`connection_id` is missing in {\"id\":1855}");
        let why = why_unreadable::<SessionDescriptor, _>(&json!({"session_id":"local","state":"WAITING",
            "model":"tint","selected_transport":{},"capabilities":{}}));
        assert_eq!(why, "`model` is \"tint\", expected an object");
        // Every member there, one deeper is wrong: the whole value, clipped.
        let deep = json!({"session_id":"local","state":"WAITING","model":{"name":"m"},
            "selected_transport":{"protocol":"webrtc","version":"1.0"},"capabilities":{"tracks":"cam"}});
        assert_eq!(SessionDescriptor::from_json(&deep), None);
        let why = why_unreadable::<SessionDescriptor, _>(&deep);
        assert!(why.starts_with("unexpected content: {"), "{why}");
        assert_eq!(why.len(), "unexpected content: ".len() + SHOWN);
    }
}
