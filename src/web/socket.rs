//! The coordinator WebSocket. Its listeners only turn browser events into
//! core inputs; dropping [`Socket`] detaches them and closes the socket
//! (after whatever was already sent, such as `leave`).

use gloo_events::EventListener;
use reactor_protocol::coordinator::{ClientFrame, ServerFrame};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use crate::core::{BadFrame, Input};

use super::json::{decode_tagged, describe, parse, to_json};
use super::schema;
use super::sink::{listen, Sink};

pub struct Socket {
    ws: WebSocket,
    _listeners: [EventListener; 3],
}

impl Socket {
    pub fn open(url: &str, sink: &Sink) -> Result<Socket, String> {
        let ws = WebSocket::new(url).map_err(|e| describe(&e))?;
        // An `error` event is always followed by `close`, which says more.
        let listeners = [
            listen(&ws, "open", sink, |_| Some(Input::SocketOpen)),
            listen(&ws, "message", sink, frame),
            listen(&ws, "close", sink, closed),
        ];
        Ok(Socket { ws, _listeners: listeners })
    }

    pub fn send(&self, frame: &ClientFrame) {
        // Only called once the core saw `open`; a closing socket drops it,
        // and its `close` event tells the core.
        let _ = self.ws.send_with_str(&String::from(to_json(frame)));
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.ws.close();
    }
}

fn closed(event: &Event) -> Option<Input<JsValue>> {
    let event: &CloseEvent = event.unchecked_ref();
    Some(Input::SocketClosed { code: event.code(), reason: event.reason() })
}

fn frame(event: &Event) -> Option<Input<JsValue>> {
    let data = event.unchecked_ref::<MessageEvent>().data();
    if !data.is_string() {
        return Some(Input::SocketBadFrame(BadFrame::Binary));
    }
    let text = || data.as_string().unwrap_or_default();
    Some(match parse(&data) {
        Err(_) => Input::SocketBadFrame(BadFrame::NotJson(text())),
        Ok(value) => match decode_tagged::<ServerFrame>(value.clone()) {
            Ok(frame) => {
                let schema = matches!(frame, ServerFrame::Assigned(_)).then(|| schema::of(&value)).flatten();
                Input::SocketFrame(frame, schema)
            }
            Err(error) => Input::SocketBadFrame(BadFrame::Unreadable { text: text(), error }),
        },
    })
}
