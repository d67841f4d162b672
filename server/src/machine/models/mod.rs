//! The simulated models: what they declare, and how they answer messages
//! and make frames.

mod echo;
mod generator;

use reactor_protocol::runtime::{Capabilities, TrackDirection, TrackInfo, TrackKind, TypedMessage};
use serde_json::{json, Value};

pub use echo::Echo;
pub use generator::Generator;

use crate::video::Frame;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Video-to-video: the client's `webcam` back as `main_video`, transformed.
    Echo,
    /// No input: renders its own animation as `main_video`.
    Generator,
}

/// Messages a model sends back, in the `{"type","data"}` shape.
pub type Outbox = Vec<TypedMessage<Value>>;

pub fn reply(kind: &str, data: Value) -> TypedMessage<Value> {
    TypedMessage { kind: kind.to_string(), data }
}

impl ModelKind {
    pub const ALL: [ModelKind; 2] = [ModelKind::Echo, ModelKind::Generator];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Echo => "echo",
            ModelKind::Generator => "generator",
        }
    }

    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the runtime's descriptor says: the tracks; no `commands` (they
    /// are in [`ModelKind::schema`]) and `emission_fps` `null`, as 2.10.1 sends.
    pub fn capabilities(self) -> Capabilities {
        let video = |name: &str, direction| TrackInfo { name: name.into(), kind: TrackKind::Video, direction };
        let tracks = match self {
            ModelKind::Echo => {
                vec![video("webcam", TrackDirection::Sendonly), video("main_video", TrackDirection::Recvonly)]
            }
            ModelKind::Generator => vec![video("main_video", TrackDirection::Recvonly)],
        };
        Capabilities { protocol_version: "0.0.0".into(), tracks, commands: Vec::new(), emission_fps: None }
    }

    /// The model's OpenAPI 3.1 document, in the runtime's shape: a command
    /// per `paths["/events/<name>"]`, a message per `webhooks["<name>"]`.
    pub fn schema(self) -> Value {
        let (commands, messages) = match self {
            ModelKind::Echo => (
                vec![
                    command(
                        "set_brightness",
                        "added to every pixel's luma; 0 leaves it unchanged",
                        json!({"brightness": {"type": "number", "default": 0.0, "minimum": -1.0, "maximum": 1.0}}),
                    ),
                    command(
                        "set_invert",
                        "inverts the picture",
                        json!({"invert": {"type": "boolean", "default": false}}),
                    ),
                ],
                vec![
                    message("brightness_set", json!({"brightness": {"type": "number"}})),
                    message("invert_set", json!({"invert": {"type": "boolean"}})),
                    message("echo", json!({})),
                    message("error", json!({"message": {"type": "string"}})),
                ],
            ),
            ModelKind::Generator => (
                vec![
                    command(
                        "set_color",
                        "colour of the moving square, \"#rrggbb\"",
                        json!({"color": {"type": "string", "default": "#ff4020", "pattern": "^#[0-9a-fA-F]{6}$"}}),
                    ),
                    command(
                        "set_speed",
                        "how fast the square moves (1 = default)",
                        json!({"speed": {"type": "number", "default": 1.0, "minimum": 0.0, "maximum": 10.0}}),
                    ),
                    command(
                        "set_prompt",
                        "text drawn on the frame",
                        json!({"prompt": {"type": "string", "default": "", "maxLength": 64}}),
                    ),
                ],
                vec![
                    message("color_set", json!({"color": {"type": "string"}})),
                    message("speed_set", json!({"speed": {"type": "number"}})),
                    message("prompt_set", json!({"prompt": {"type": "string"}})),
                    message("progress", json!({"frame": {"type": "integer"}})),
                    message("error", json!({"message": {"type": "string"}})),
                ],
            ),
        };
        let tracks: Vec<Value> = self
            .capabilities()
            .tracks
            .iter()
            .map(|t| {
                let direction = if t.direction == TrackDirection::Sendonly { "in" } else { "out" };
                json!({"name": t.name, "kind": "video", "direction": direction})
            })
            .collect();
        json!({
            "openapi": "3.1.0",
            "info": {"title": self.name(), "version": "v0.0.0", "description": ""},
            "x-reactor": {"tracks": tracks},
            "paths": Value::Object(commands.into_iter().collect()),
            "webhooks": Value::Object(messages.into_iter().collect()),
            // The runtime's documents always carry this (files for a model);
            // our models take none, but the document has the same parts.
            "components": {"schemas": {"ReactorUploadReference": {
                "type": "object", "format": "reactor-upload-reference",
                "description": "Reference to a file uploaded via the Reactor presigned-URL protocol.",
                "properties": {"upload_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                    "mime_type": {"type": "string"}, "size": {"type": "integer"}},
                "required": ["upload_id", "name", "mime_type", "size"]}}},
        })
    }

    pub fn instantiate(self) -> Box<dyn Model> {
        match self {
            ModelKind::Echo => Box::new(Echo::default()),
            ModelKind::Generator => Box::new(Generator::default()),
        }
    }
}

/// A model running for one connection.
pub trait Model: Send {
    /// Which model this is (its `modelSchema` comes from the kind).
    fn kind(&self) -> ModelKind;

    /// An application message arrived (`data` of the envelope).
    fn on_message(&mut self, message: &Value, out: &mut Outbox);

    /// A decoded frame of the client's input track.
    fn on_input(&mut self, _frame: Frame) {}

    /// The next output frame, or `None` to skip this tick (no input yet).
    fn render(&mut self, frame_number: u64) -> Option<Frame>;

    /// Called about every second: progress and the like.
    fn every_second(&mut self, _frames_sent: u64, _out: &mut Outbox) {}
}

/// `paths["/events/<name>"]`: the command's parameters as JSON Schema.
fn command(name: &str, summary: &str, properties: Value) -> (String, Value) {
    let body = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": properties}}}});
    let post = json!({"operationId": name, "summary": summary, "requestBody": body,
        "responses": {"202": {"description": "Event accepted"}}});
    (format!("/events/{name}"), json!({ "post": post }))
}

/// `webhooks["<name>"]`: a message the model sends.
fn message(name: &str, properties: Value) -> (String, Value) {
    let required: Vec<&String> = properties.as_object().map(|p| p.keys().collect()).unwrap_or_default();
    let schema = json!({"type": "object", "properties": properties, "required": required});
    let body = json!({"required": true, "content": {"application/json": {"schema": schema}}});
    (name.to_string(), json!({"post": {"operationId": name, "requestBody": body}}))
}
