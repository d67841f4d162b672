//! HTTP requests the core asks for, over gloo-net's `fetch`: one task per
//! request, ending in one [`Input::Http`].

use gloo_net::http::{Request, RequestBuilder};
use reactor_protocol::coordinator::API_KEY_HEADER;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::core::{Body, HttpFailure, HttpRequest, HttpResult, Input, Method, Reply, ReplyKind};

use super::json::{decode, to_json};
use super::schema;
use super::sink::Sink;

/// Sends `request`; its `Input::Http` arrives at `sink` once the reply's
/// text is in, or the request failed.
pub fn send(request: HttpRequest, sink: &Sink) {
    let sink = sink.clone();
    spawn_local(async move {
        let purpose = request.purpose;
        let result = match fetch(&request).await {
            Ok((status, body)) => {
                let kind = purpose.reply_kind(status);
                if let (ReplyKind::Session, Some(body)) = (kind, &body) {
                    // Known to the core by the time the descriptor is handled.
                    schema::push(&sink, body);
                }
                HttpResult::Answered { status, reply: read(kind, body) }
            }
            Err(failure) => HttpResult::Failed(failure),
        };
        sink.push(Input::Http { purpose, result });
    });
}

/// The status, and the body parsed by the browser (`None`: not JSON).
async fn fetch(request: &HttpRequest) -> Result<(u16, Option<JsValue>), HttpFailure> {
    let mut builder = match request.method {
        Method::Get => Request::get(&request.url),
        Method::Post => Request::post(&request.url),
        Method::Put => Request::put(&request.url),
    };
    if let Some(key) = &request.api_key {
        builder = builder.header(API_KEY_HEADER, key);
    }
    if let Some(token) = &request.bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let unsendable = |e: gloo_net::Error| HttpFailure::Unsendable(e.to_string());
    let response = with_body(builder, &request.body).map_err(unsendable)?.send().await.map_err(failure)?;
    // `Response.json()`: the body never enters wasm memory as text.
    let status = response.status();
    let body = match web_sys::Response::from(response).json() {
        Ok(parsed) => JsFuture::from(parsed).await.ok(),
        Err(_) => None,
    };
    Ok((status, body))
}

/// What `fetch`'s rejection tells, by the error's name.
fn failure(error: gloo_net::Error) -> HttpFailure {
    let gloo_net::Error::JsError(js) = &error else { return HttpFailure::Other(error.to_string()) };
    let why = js.to_string();
    match js.name.as_str() {
        "TypeError" => HttpFailure::Network(why),
        "AbortError" | "TimeoutError" => HttpFailure::Aborted(why),
        _ => HttpFailure::Other(why),
    }
}

fn with_body(builder: RequestBuilder, body: &Body) -> Result<Request, gloo_net::Error> {
    let json = match body {
        Body::Empty => return builder.build(),
        Body::Offer(offer) => to_json(offer),
        Body::Candidates(candidates) => to_json(candidates),
    };
    builder.header("Content-Type", "application/json").body(JsValue::from(json))
}

/// The reply the core expects for `kind`. A 2xx body that is not its shape
/// is [`Reply::Unreadable`], naming the field; an error body that is not
/// ours is [`Reply::Other`] (the status then speaks).
fn read(kind: ReplyKind, body: Option<JsValue>) -> Reply {
    let Some(value) = body else {
        return if kind == ReplyKind::Error || kind == ReplyKind::Ignored { Reply::Other } else { not_json() };
    };
    let decoded = match kind {
        ReplyKind::Token => decode(value).map(Reply::Token),
        ReplyKind::Session => decode(value).map(|d| Reply::Session(Box::new(d))),
        ReplyKind::Connection => decode(value).map(Reply::Connection),
        ReplyKind::Answer => decode(value).map(Reply::Answer),
        ReplyKind::Error => return decode(value).map_or(Reply::Other, Reply::Error),
        ReplyKind::Ignored => return Reply::Other,
    };
    decoded.unwrap_or_else(Reply::Unreadable)
}

fn not_json() -> Reply {
    Reply::Unreadable(reactor_protocol::decode::DecodeError::at(".", "the body is not JSON"))
}
