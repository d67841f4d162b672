//! `generator`: no input; renders a square bouncing over a gradient, in a
//! colour and at a speed the client sets, with the prompt drawn as blocks,
//! and reports its frame counter every second.

use serde_json::{json, Value};

use super::{reply, Model, ModelKind, Outbox};
use crate::video::{rgb_to_yuv, Frame};

pub const WIDTH: usize = 320;
pub const HEIGHT: usize = 240;
const SQUARE: i64 = 48;

pub struct Generator {
    color: (u8, u8, u8),
    speed: f64,
    prompt: String,
    /// Distance travelled, in pixels, so speed changes do not jump.
    travelled: f64,
}

impl Default for Generator {
    fn default() -> Self {
        Generator { color: (255, 64, 32), speed: 1.0, prompt: String::new(), travelled: 0.0 }
    }
}

fn parse_color(value: &Value) -> Option<(u8, u8, u8)> {
    let hex = value.as_str()?.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

/// Position along a back-and-forth path of length `span`.
fn bounce(distance: f64, span: f64) -> f64 {
    let period = 2.0 * span;
    let d = distance.rem_euclid(period);
    if d < span {
        d
    } else {
        period - d
    }
}

impl Model for Generator {
    fn kind(&self) -> ModelKind {
        ModelKind::Generator
    }

    fn on_message(&mut self, message: &Value, out: &mut Outbox) {
        let kind = message.get("type").and_then(Value::as_str).unwrap_or("");
        let data = message.get("data").cloned().unwrap_or(Value::Null);
        match kind {
            "set_color" => match data.get("color").and_then(parse_color) {
                Some(color) => {
                    self.color = color;
                    out.push(reply("color_set", json!({ "color": data["color"] })));
                }
                None => out.push(reply("error", json!({ "message": "set_color needs `color` as \"#rrggbb\"" }))),
            },
            "set_speed" => match data.get("speed").and_then(Value::as_f64) {
                Some(speed) => {
                    self.speed = speed.clamp(0.0, 10.0);
                    out.push(reply("speed_set", json!({ "speed": self.speed })));
                }
                None => out.push(reply("error", json!({ "message": "set_speed needs a number `speed`" }))),
            },
            "set_prompt" => match data.get("prompt").and_then(Value::as_str) {
                Some(prompt) => {
                    self.prompt = prompt.chars().take(64).collect();
                    out.push(reply("prompt_set", json!({ "prompt": self.prompt })));
                }
                None => out.push(reply("error", json!({ "message": "set_prompt needs a string `prompt`" }))),
            },
            _ => out.push(reply("error", json!({ "message": format!("unknown command `{kind}`") }))),
        }
    }

    fn render(&mut self, _frame_number: u64) -> Option<Frame> {
        self.travelled += 4.0 * self.speed;
        let mut frame = Frame::filled(WIDTH, HEIGHT, (16, 128, 128));
        // A dim vertical gradient so the encoder has something to do.
        for row in 0..HEIGHT {
            let luma = 16 + (row * 48 / HEIGHT) as u8;
            frame.y[row * WIDTH..(row + 1) * WIDTH].fill(luma);
        }
        let x = bounce(self.travelled, (WIDTH as i64 - SQUARE) as f64) as i64;
        let y = bounce(self.travelled * 0.7, (HEIGHT as i64 - SQUARE) as f64) as i64;
        let (r, g, b) = self.color;
        frame.fill_rect(x, y, SQUARE, SQUARE, rgb_to_yuv(r, g, b));
        // The prompt as one white block per character along the bottom: no
        // font needed, and a test can count the blocks.
        for (i, ch) in self.prompt.chars().enumerate() {
            if !ch.is_whitespace() {
                frame.fill_rect(4 + i as i64 * 5, HEIGHT as i64 - 10, 4, 6, (235, 128, 128));
            }
        }
        Some(frame)
    }

    fn every_second(&mut self, frames_sent: u64, out: &mut Outbox) {
        out.push(reply("progress", json!({ "frame": frames_sent })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_commands_change_the_square() {
        let mut g = Generator::default();
        let mut out = Outbox::new();
        g.on_message(&json!({"type":"set_color","data":{"color":"#00ff00"}}), &mut out);
        assert_eq!(out[0].kind, "color_set");
        g.speed = 0.0;
        let frame = g.render(0).unwrap();
        let (y, _, _) = rgb_to_yuv(0, 255, 0);
        assert_eq!(frame.y[0], y, "the square starts in the top-left corner");
        g.on_message(&json!({"type":"set_color","data":{"color":"green"}}), &mut out);
        assert_eq!(out.last().unwrap().kind, "error");
    }

    #[test]
    fn bouncing_stays_inside() {
        for d in 0..1000 {
            let p = bounce(d as f64 * 3.3, 100.0);
            assert!((0.0..=100.0).contains(&p));
        }
    }
}
