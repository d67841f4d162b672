//! One task per client WebSocket: hello, then queue updates and the
//! assignment pushed from the coordinator, until someone ends it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use reactor_protocol::coordinator::{ClientFrame, ErrorBody, Queued, ServerFrame};
use reactor_protocol::ErrorCode;
use tokio::time::{sleep_until, Instant};

use super::{error_body, Shared, SocketEnd, ToClient};

/// Missed heartbeats before a silent client counts as gone.
const MISSED_HEARTBEATS: u32 = 3;

/// Bytes read from a client socket at a time (see `upgrade`).
const READ_BUFFER: usize = 4 * 1024;

pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let max = shared.config.max_ws_message;
    // tungstenite zero-fills up to `read_buffer_size` (128 KiB by default)
    // before every read attempt: with thousands of queued clients that memset
    // dominated each round of position updates and held 128 KiB per socket.
    // Client frames are small; a bigger one still grows the buffer as needed.
    ws.max_message_size(max).max_frame_size(max).read_buffer_size(READ_BUFFER).on_upgrade(move |socket| async move {
        shared.socket_opened();
        serve(&shared, socket).await;
        shared.socket_closed();
    })
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame<super::Schema>) -> bool {
    let json = serde_json::to_string(frame).expect("frames serialize");
    socket.send(Message::Text(json.into())).await.is_ok()
}

/// Sends the error frame, then closes: the client always learns why.
async fn refuse(socket: &mut WebSocket, body: ErrorBody) {
    tracing::debug!(code = body.code.as_str(), message = body.message, "closing client socket");
    send(socket, &ServerFrame::Error(body)).await;
    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
}

/// The first text frame, skipping pings.
async fn next_frame(socket: &mut WebSocket) -> Option<Result<ClientFrame, String>> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).map_err(|e| e.to_string())),
            Ok(Message::Binary(_)) => return Some(Err("binary frames are not part of the protocol".into())),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// The socket is not split into halves: select! drops the read future
/// before a branch's handler runs, so handlers send on the same socket and
/// no lock sits between reading and writing on every frame.
async fn serve(shared: &Arc<Shared>, mut socket: WebSocket) {
    let mut shutdown = shared.shutdown.clone();
    let first = tokio::select! {
        first = tokio::time::timeout(shared.config.hello_timeout, next_frame(&mut socket)) => first,
        _ = super::stopping(&mut shutdown) => {
            refuse(&mut socket, error_body(ErrorCode::CoordinatorShutdown, "the coordinator is shutting down")).await;
            return;
        }
    };
    let admitted = match first {
        Ok(Some(Ok(ClientFrame::Hello { token, model, queueing }))) => {
            let admitted = shared.join(&token, &model, queueing).await;
            if let Ok(admitted) = &admitted {
                tracing::info!(client = admitted.client, model, queueing, "client joined");
            }
            admitted
        }
        Ok(Some(Ok(ClientFrame::Resume { resume_token }))) => shared.resume(&resume_token).await,
        Ok(None) | Ok(Some(Ok(ClientFrame::Leave))) => return,
        Ok(Some(Err(error))) => {
            let message = format!("expected a hello frame: {error}");
            Err(error_body(ErrorCode::CoordinatorConnectionError, message))
        }
        Err(_) => Err(error_body(ErrorCode::CoordinatorConnectionError, "no hello frame in time")),
    };
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(body) => return refuse(&mut socket, body).await,
    };
    let (client, epoch) = (admitted.client, admitted.epoch);
    let end = attached(shared, &mut socket, admitted).await;
    shared.socket_ended(client, epoch, end).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
}

/// Serves a client's place or session on this socket until one of them
/// ends it; says how.
async fn attached(shared: &Shared, socket: &mut WebSocket, admitted: super::Admitted) -> SocketEnd {
    let super::Admitted { client, mut rx, first, assigned_at, fatal, .. } = admitted;
    for frame in &first {
        if !send(socket, frame).await {
            return SocketEnd::Dropped;
        }
    }
    if let Some(body) = fatal {
        refuse(socket, body).await;
        return SocketEnd::Left;
    }
    let period = shared.config.ws_heartbeat;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    let mut last_heard = Instant::now();
    let session_deadline =
        |since: std::time::Instant| shared.config.max_session.map(|max| Instant::from_std(since) + max);
    let mut deadline: Option<Instant> = assigned_at.and_then(session_deadline);
    let mut shutdown = shared.shutdown.clone();
    // Pinned once: a fresh wait per loop turn would register and drop a
    // waiter on the shared shutdown channel for every frame sent.
    let stop = super::stopping(&mut shutdown);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            // In this order, without a random start: a wake-up for a new
            // position (10,000 of them per hand-over) is served by the first
            // poll instead of polling the socket and the timers first.
            biased;
            event = rx.recv() => match event {
                Some(ToClient::Queued { position, estimated_wait }) => {
                    let queued = ServerFrame::Queued(Queued { position, estimated_wait, resume: None });
                    if !send(socket, &queued).await {
                        return SocketEnd::Dropped;
                    }
                }
                Some(ToClient::Frame(frame)) => {
                    if matches!(*frame, ServerFrame::Assigned(_)) && deadline.is_none() {
                        deadline = session_deadline(std::time::Instant::now());
                    }
                    if !send(socket, &frame).await {
                        return SocketEnd::Dropped;
                    }
                }
                Some(ToClient::Fatal(body)) => {
                    refuse(socket, *body).await;
                    return SocketEnd::Left;
                }
                None => return SocketEnd::Superseded,
            },
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    // A second hello or noise changes nothing.
                    if let Ok(ClientFrame::Leave) = serde_json::from_str::<ClientFrame>(&text) {
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
                        return SocketEnd::Left;
                    }
                }
                // A close frame is deliberate (the page went away); a broken
                // connection may come back.
                Some(Ok(Message::Close(_))) => return SocketEnd::Left,
                Some(Err(_)) | None => return SocketEnd::Dropped,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > period * MISSED_HEARTBEATS {
                    tracing::info!(client, "client stopped answering heartbeats");
                    return SocketEnd::Dropped;
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return SocketEnd::Dropped;
                }
            }
            _ = async { sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                let max = shared.config.max_session.unwrap_or_default();
                refuse(socket, error_body(
                    ErrorCode::SessionTimeLimit,
                    format!("sessions last at most {} s", max.as_secs_f64()),
                )).await;
                return SocketEnd::Left;
            }
            _ = &mut stop => {
                refuse(socket, error_body(ErrorCode::CoordinatorShutdown, "the coordinator is shutting down")).await;
                return SocketEnd::Left;
            }
        }
    }
}
