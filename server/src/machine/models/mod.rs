//! The simulated models: what they declare, and how they answer messages
//! and make frames.

mod echo;
mod generator;

use reactor_protocol::runtime::{Capabilities, CommandInfo, TrackDirection, TrackInfo, TrackKind, TypedMessage};
use serde_json::Value;

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

    pub fn capabilities(self, fps: u32) -> Capabilities {
        let video = |name: &str, direction| TrackInfo { name: name.into(), kind: TrackKind::Video, direction };
        let command =
            |name: &str, description: &str| CommandInfo { name: name.into(), description: Some(description.into()) };
        let (tracks, commands) = match self {
            ModelKind::Echo => (
                vec![video("webcam", TrackDirection::Sendonly), video("main_video", TrackDirection::Recvonly)],
                vec![
                    command("set_brightness", "{brightness: -1..1} added to every pixel's luma; 0 leaves it unchanged"),
                    command("set_invert", "{invert: bool} inverts the picture"),
                ],
            ),
            ModelKind::Generator => (
                vec![video("main_video", TrackDirection::Recvonly)],
                vec![
                    command("set_color", "{color: \"#rrggbb\"} colour of the moving square"),
                    command("set_speed", "{speed: 0..10} how fast the square moves (1 = default)"),
                    command("set_prompt", "{prompt: string} text drawn on the frame"),
                ],
            ),
        };
        Capabilities { protocol_version: "1.0".into(), tracks, commands, emission_fps: Some(fps as f64) }
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
    /// An application message arrived (`data` of the envelope).
    fn on_message(&mut self, message: &Value, out: &mut Outbox);

    /// A decoded frame of the client's input track.
    fn on_input(&mut self, _frame: Frame) {}

    /// The next output frame, or `None` to skip this tick (no input yet).
    fn render(&mut self, frame_number: u64) -> Option<Frame>;

    /// Called about every second: progress and the like.
    fn every_second(&mut self, _frames_sent: u64, _out: &mut Outbox) {}
}
