//! The coordinator WebSocket. Its listeners only turn browser events into
//! core inputs; dropping [`Socket`] detaches them and closes the socket
//! (after whatever was already sent, such as `leave`).

use gloo_events::EventListener;
use reactor_protocol::coordinator::{ClientFrame, ServerFrame};
use reactor_protocol::json::ToJson;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::core::Input;

use super::json::{describe, from_text};
use super::sink::Sink;

pub struct Socket {
    ws: WebSocket,
    _listeners: [EventListener; 3],
}

impl Socket {
    pub fn open(url: &str, sink: Sink) -> Result<Socket, String> {
        let ws = WebSocket::new(url).map_err(|e| describe(&e))?;
        let on_open = {
            let sink = sink.clone();
            EventListener::new(&ws, "open", move |_| sink.push(Input::SocketOpen))
        };
        let on_message = {
            let sink = sink.clone();
            EventListener::new(&ws, "message", move |event| {
                let data = event.unchecked_ref::<MessageEvent>().data();
                sink.push(frame(data));
            })
        };
        // An `error` event is always followed by `close`, which says more.
        let on_close = EventListener::new(&ws, "close", move |event| {
            let event: &CloseEvent = event.unchecked_ref();
            sink.push(Input::SocketClosed { code: event.code(), reason: event.reason() });
        });
        Ok(Socket { ws, _listeners: [on_open, on_message, on_close] })
    }

    pub fn send(&self, frame: &ClientFrame) {
        // Only called once the core saw `open`; a closing socket drops it,
        // and its `close` event tells the core.
        let _ = self.ws.send_with_str(&frame.to_json());
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.ws.close();
    }
}

fn frame(data: JsValue) -> Input<JsValue> {
    let Some(text) = data.as_string() else {
        return Input::SocketBadFrame("a binary frame".into());
    };
    match from_text::<ServerFrame>(&text) {
        Some(frame) => Input::SocketFrame(frame),
        None => Input::SocketBadFrame(text.chars().take(200).collect()),
    }
}
