//! HTTP requests the core asks for, over the browser's `fetch`.

use js_sys::Promise;
use reactor_protocol::coordinator::API_KEY_HEADER;
use reactor_protocol::json::ToJson;
use reactor_protocol::text;
use wasm_bindgen::prelude::*;
use web_sys::{Headers, RequestInit, Response};

use crate::core::{Body, HttpRequest, HttpResult, Input, Method, Reply, ReplyKind};

use super::json::{describe, from_text, read_answer};
use super::schema;
use super::sink::{when_settled, Sink};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in a window or a worker alike.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(url: &str, init: &RequestInit) -> Promise;
}

/// Sends `request`; its `Input::Http` arrives at `sink` once the reply's
/// text is in, or the request failed.
pub fn send(request: HttpRequest, sink: &Sink) {
    let purpose = request.purpose;
    let fetched = init(&request).map_or_else(|e| Promise::reject(&e), |init| fetch(&request.url, &init));
    let next = sink.clone();
    when_settled(
        sink,
        &fetched,
        Box::new(move |fetched| {
            let (status, text) = match fetched {
                Ok(response) => {
                    let response: Response = response.unchecked_into();
                    (response.status(), response.text())
                }
                Err(e) => (0, Err(e)),
            };
            // A failure goes on to the last step, as a rejection.
            let text = text.unwrap_or_else(|e| Promise::reject(&e));
            let schema_sink = next.clone();
            when_settled(
                &next,
                &text,
                Box::new(move |text| {
                    let result = match text {
                        Ok(text) => {
                            let text = text.as_string().unwrap_or_default();
                            let kind = purpose.reply_kind(status);
                            if kind == ReplyKind::Session {
                                schema::push(&schema_sink, &text);
                            }
                            HttpResult::Answered { status, reply: decode(kind, &text) }
                        }
                        Err(e) => HttpResult::Failed(describe(&e)),
                    };
                    Some(Input::Http { purpose, result })
                }),
            );
            None
        }),
    );
}

/// The `fetch` options for `request`.
fn init(request: &HttpRequest) -> Result<RequestInit, JsValue> {
    let init = RequestInit::new();
    init.set_method(match request.method {
        Method::Get => "GET",
        Method::Post => "POST",
    });
    let headers = Headers::new()?;
    if let Some(key) = &request.api_key {
        headers.set(API_KEY_HEADER, key)?;
    }
    if let Some(token) = &request.bearer {
        headers.set("Authorization", &text!("Bearer ", token))?;
    }
    let body = match &request.body {
        Body::Empty => None,
        Body::Offer(offer) => Some(offer.to_json()),
        Body::Candidates(candidates) => Some(candidates.to_json()),
    };
    if let Some(body) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    Ok(init)
}

fn decode(kind: ReplyKind, text: &str) -> Reply {
    let reply = match kind {
        ReplyKind::Token => read_answer(text).map(Reply::Token),
        ReplyKind::Session => read_answer(text).map(|d| Reply::Session(Box::new(d))),
        ReplyKind::Connection => read_answer(text).map(Reply::Connection),
        ReplyKind::Answer => read_answer(text).map(Reply::Answer),
        ReplyKind::Error => return from_text(text).map_or(Reply::Other, Reply::Error),
        ReplyKind::Ignored => return Reply::Other,
    };
    reply.unwrap_or_else(Reply::Unreadable)
}
