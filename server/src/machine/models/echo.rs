//! `echo`: returns the client's `webcam` as `main_video`, with brightness
//! and inversion applied, and echoes every application message.

use serde_json::{json, Value};

use super::{reply, Model, ModelKind, Outbox};
use crate::video::Frame;

#[derive(Default)]
pub struct Echo {
    /// Added to luma, as a fraction of full scale (-1..1).
    brightness: f64,
    invert: bool,
    last: Option<Frame>,
}

impl Echo {
    pub fn transform(&self, frame: &mut Frame) {
        let offset = (self.brightness * 255.0).round() as i32;
        if offset != 0 || self.invert {
            for p in frame.y.iter_mut() {
                let mut value = (*p as i32 + offset).clamp(0, 255);
                if self.invert {
                    value = 255 - value;
                }
                *p = value as u8;
            }
        }
        if self.invert {
            // Inverting chroma around its neutral point inverts the colours.
            for p in frame.u.iter_mut().chain(frame.v.iter_mut()) {
                *p = 255 - *p;
            }
        }
    }
}

impl Model for Echo {
    fn kind(&self) -> ModelKind {
        ModelKind::Echo
    }

    fn on_message(&mut self, message: &Value, out: &mut Outbox) {
        let kind = message.get("type").and_then(Value::as_str).unwrap_or("");
        let data = message.get("data").cloned().unwrap_or(Value::Null);
        match kind {
            "set_brightness" => {
                if let Some(b) = data.get("brightness").and_then(Value::as_f64) {
                    self.brightness = b.clamp(-1.0, 1.0);
                    out.push(reply("brightness_set", json!({ "brightness": self.brightness })));
                } else {
                    out.push(reply("error", json!({ "message": "set_brightness needs a number `brightness`" })));
                }
            }
            "set_invert" => {
                if let Some(invert) = data.get("invert").and_then(Value::as_bool) {
                    self.invert = invert;
                    out.push(reply("invert_set", json!({ "invert": self.invert })));
                } else {
                    out.push(reply("error", json!({ "message": "set_invert needs a boolean `invert`" })));
                }
            }
            _ => {}
        }
        out.push(reply("echo", message.clone()));
    }

    fn on_input(&mut self, frame: Frame) {
        self.last = Some(frame);
    }

    fn render(&mut self, _frame_number: u64) -> Option<Frame> {
        let mut frame = self.last.clone()?;
        self.transform(&mut frame);
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_confirmed_and_change_the_picture() {
        let mut echo = Echo::default();
        let mut out = Outbox::new();
        echo.on_message(&json!({"type":"set_brightness","data":{"brightness":0.25}}), &mut out);
        assert_eq!(out[0].kind, "brightness_set");
        assert_eq!(out[0].data, json!({"brightness":0.25}));
        assert_eq!(out[1].kind, "echo");
        assert!(echo.render(0).is_none(), "nothing to echo before the first input frame");
        echo.on_input(Frame::filled(4, 4, (100, 128, 128)));
        assert_eq!(echo.render(1).unwrap().y[0], 164);
        echo.on_message(&json!({"type":"set_invert","data":{"invert":true}}), &mut out);
        assert_eq!(echo.render(2).unwrap().y[0], 255 - 164);
    }

    #[test]
    fn other_messages_are_echoed_as_they_came() {
        let mut echo = Echo::default();
        let mut out = Outbox::new();
        echo.on_message(&json!({"hello":[1,2]}), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "echo");
        assert_eq!(out[0].data, json!({"hello":[1,2]}));
    }
}
