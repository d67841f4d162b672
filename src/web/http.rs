//! HTTP requests the core asks for, over gloo-net's fetch.

use gloo_net::http::{Request, RequestBuilder};
use reactor_protocol::coordinator::API_KEY_HEADER;

use crate::core::{Body, HttpRequest, HttpResult, Method, Reply, ReplyKind};

use super::json::{from_text, to_json};

pub async fn send(request: HttpRequest) -> HttpResult {
    let builder = match request.method {
        Method::Get => Request::get(&request.url),
        Method::Post => Request::post(&request.url),
    };
    match with_body(with_headers(builder, &request), &request.body) {
        Ok(built) => match built.send().await {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                HttpResult::Answered { status, reply: decode(request.purpose.reply_kind(status), &text) }
            }
            Err(e) => HttpResult::Failed(e.to_string()),
        },
        Err(e) => HttpResult::Failed(e.to_string()),
    }
}

fn with_headers(mut builder: RequestBuilder, request: &HttpRequest) -> RequestBuilder {
    if let Some(key) = &request.api_key {
        builder = builder.header(API_KEY_HEADER, key);
    }
    if let Some(token) = &request.bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    builder
}

fn with_body(builder: RequestBuilder, body: &Body) -> Result<Request, gloo_net::Error> {
    let json = match body {
        Body::Empty => return builder.build(),
        Body::Offer(offer) => to_json(offer),
        Body::Candidates(candidates) => to_json(candidates),
    };
    builder.header("Content-Type", "application/json").body(json)
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
