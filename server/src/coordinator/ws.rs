//! One task per client WebSocket: hello, then queue updates and the
//! assignment pushed from the coordinator, until someone ends it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use reactor_protocol::coordinator::{ClientFrame, ErrorBody, ServerFrame};
use reactor_protocol::ErrorCode;
use tokio::time::{sleep_until, Instant};

use super::{error_body, Shared, ToClient};

/// Missed heartbeats before a silent client counts as gone.
const MISSED_HEARTBEATS: u32 = 3;

pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let max = shared.config.max_ws_message;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| async move {
        shared.socket_opened();
        serve(&shared, socket).await;
        shared.socket_closed();
    })
}

type Sink = SplitSink<WebSocket, Message>;

async fn send(sink: &mut Sink, frame: &ServerFrame) -> bool {
    let json = serde_json::to_string(frame).expect("frames serialize");
    sink.send(Message::Text(json.into())).await.is_ok()
}

/// Sends the error frame, then closes: the client always learns why.
async fn refuse(sink: &mut Sink, body: ErrorBody) {
    tracing::debug!(code = body.code.as_str(), message = body.message, "closing client socket");
    send(sink, &ServerFrame::Error(body)).await;
    let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
}

/// The first text frame, skipping pings.
async fn next_frame(stream: &mut SplitStream<WebSocket>) -> Option<Result<ClientFrame, String>> {
    loop {
        match stream.next().await? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).map_err(|e| e.to_string())),
            Ok(Message::Binary(_)) => return Some(Err("binary frames are not part of the protocol".into())),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn serve(shared: &Shared, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let mut shutdown = shared.shutdown.clone();
    let hello = tokio::select! {
        hello = tokio::time::timeout(shared.config.hello_timeout, next_frame(&mut stream)) => hello,
        _ = super::stopping(&mut shutdown) => {
            refuse(&mut sink, error_body(ErrorCode::CoordinatorShutdown, "the coordinator is shutting down")).await;
            return;
        }
    };
    let (token, model, queueing) = match hello {
        Ok(Some(Ok(ClientFrame::Hello { token, model, queueing }))) => (token, model, queueing),
        Ok(None) => return,
        Ok(Some(Ok(ClientFrame::Leave))) => return,
        Ok(Some(Err(error))) => {
            let message = format!("expected a hello frame: {error}");
            refuse(&mut sink, error_body(ErrorCode::CoordinatorConnectionError, message)).await;
            return;
        }
        Err(_) => {
            refuse(&mut sink, error_body(ErrorCode::CoordinatorConnectionError, "no hello frame in time")).await;
            return;
        }
    };
    let admitted = match shared.join(&token, &model, queueing) {
        Ok(admitted) => admitted,
        Err(body) => {
            refuse(&mut sink, body).await;
            return;
        }
    };
    let client = admitted.client;
    tracing::info!(client, model, queueing, "client joined");
    let mut rx = admitted.rx;
    if let Some(frame) = admitted.first {
        if !send(&mut sink, &frame).await {
            shared.leave(client);
            return;
        }
    }

    let period = shared.config.ws_heartbeat;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    let mut last_heard = Instant::now();
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Leave) => {
                            let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
                            break;
                        }
                        // A second hello or noise changes nothing.
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            event = rx.recv() => match event {
                Some(ToClient::Frame(frame)) => {
                    if matches!(frame, ServerFrame::Assigned { .. }) {
                        deadline = shared.config.max_session.map(|max| Instant::now() + max);
                    }
                    if !send(&mut sink, &frame).await {
                        break;
                    }
                }
                Some(ToClient::Fatal(body)) => {
                    refuse(&mut sink, body).await;
                    break;
                }
                None => break,
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > period * MISSED_HEARTBEATS {
                    tracing::info!(client, "client stopped answering heartbeats");
                    break;
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = async { sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                let max = shared.config.max_session.unwrap_or_default();
                refuse(&mut sink, error_body(
                    ErrorCode::SessionTimeLimit,
                    format!("sessions last at most {} s", max.as_secs_f64()),
                )).await;
                break;
            }
            _ = super::stopping(&mut shutdown) => {
                refuse(&mut sink, error_body(ErrorCode::CoordinatorShutdown, "the coordinator is shutting down")).await;
                break;
            }
        }
    }
    shared.leave(client);
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}
