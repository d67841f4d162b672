//! The coordinator WebSocket, over gloo-net. One task owns the socket;
//! dropping [`Socket`] ends its outgoing queue, and the task then sends
//! what was queued (the `leave` frame), drops the socket and so closes it.

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::future::{poll_fn, select, Either};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use reactor_protocol::coordinator::{ClientFrame, ServerFrame};
use wasm_bindgen_futures::spawn_local;

use crate::core::Input;

use super::json::{from_text, to_json};
use super::sink::Sink;

pub struct Socket {
    outgoing: UnboundedSender<String>,
}

impl Socket {
    pub fn open(url: &str, sink: Sink) -> Result<Socket, String> {
        let ws = WebSocket::open(url).map_err(|e| e.to_string())?;
        let (outgoing, rx) = unbounded();
        spawn_local(run(ws, rx, sink));
        Ok(Socket { outgoing })
    }

    pub fn send(&self, frame: &ClientFrame) {
        let _ = self.outgoing.unbounded_send(String::from(to_json(frame)));
    }
}

enum Step {
    Incoming(Option<Result<Message, WebSocketError>>),
    Outgoing(Option<String>),
}

async fn run(mut ws: WebSocket, mut rx: UnboundedReceiver<String>, sink: Sink) {
    // gloo-net's sink becomes ready when the socket leaves CONNECTING,
    // whether it opened or failed; only an open one is announced. A
    // teardown meanwhile closes it at once.
    let ready = poll_fn(|cx| futures_util::Sink::poll_ready(std::pin::Pin::new(&mut ws), cx));
    if let Either::Right(_) = select(ready, rx.next()).await {
        return;
    }
    if matches!(ws.state(), State::Open) {
        sink.push(Input::SocketOpen);
    }
    loop {
        let step = match select(ws.next(), rx.next()).await {
            Either::Left((incoming, _)) => Step::Incoming(incoming),
            Either::Right((outgoing, _)) => Step::Outgoing(outgoing),
        };
        match step {
            Step::Incoming(Some(Ok(Message::Text(text)))) => sink.push(frame(&text)),
            Step::Incoming(Some(Ok(Message::Bytes(_)))) => sink.push(Input::SocketBadFrame("a binary frame".into())),
            Step::Incoming(Some(Err(WebSocketError::ConnectionClose(close)))) => {
                sink.push(Input::SocketClosed { code: close.code, reason: close.reason });
                return;
            }
            // An `error` event is always followed by `close`.
            Step::Incoming(Some(Err(_))) => {}
            Step::Incoming(None) => {
                sink.push(Input::SocketClosed { code: 1006, reason: String::new() });
                return;
            }
            Step::Outgoing(Some(text)) => {
                let _ = ws.send(Message::Text(text)).await;
            }
            Step::Outgoing(None) => return,
        }
    }
}

fn frame(text: &str) -> Input<wasm_bindgen::JsValue> {
    match from_text::<ServerFrame>(text) {
        Some(frame) => Input::SocketFrame(frame),
        None => Input::SocketBadFrame(text.chars().take(200).collect()),
    }
}
