//! HTTP requests the core asks for, over the browser's `fetch`.

use js_sys::Promise;
use reactor_protocol::coordinator::API_KEY_HEADER;
use reactor_protocol::json::ToJson;
use reactor_protocol::text;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::core::{Body, HttpRequest, HttpResult, Method, Reply, ReplyKind};

use super::json::{describe, from_text};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in a window or a worker alike.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(url: &str, init: &RequestInit) -> Promise;
}

pub async fn send(request: HttpRequest) -> HttpResult {
    match exchange(&request).await {
        Ok((status, text)) => HttpResult::Answered { status, reply: decode(request.purpose.reply_kind(status), &text) },
        Err(e) => HttpResult::Failed(describe(&e)),
    }
}

async fn exchange(request: &HttpRequest) -> Result<(u16, String), JsValue> {
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
    let response: Response = JsFuture::from(fetch(&request.url, &init)).await?.unchecked_into();
    let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    Ok((response.status(), text))
}

fn decode(kind: ReplyKind, text: &str) -> Reply {
    let reply = match kind {
        ReplyKind::Token => from_text(text).map(Reply::Token),
        ReplyKind::Session => from_text(text).map(Reply::Session),
        ReplyKind::Connection => from_text(text).map(Reply::Connection),
        ReplyKind::Answer => from_text(text).map(Reply::Answer),
        ReplyKind::Error => from_text(text).map(Reply::Error),
        ReplyKind::Ignored => None,
    };
    reply.unwrap_or(Reply::Other)
}
