//! The signaling proxy: the browser only ever talks to the coordinator's
//! origin, and only the session's owner reaches its machine.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use reactor_protocol::runtime::{paths, LOCAL_SESSION_ID};
use reactor_protocol::ErrorCode;

use super::{error_response, Shared};

pub(crate) async fn forward(
    State(shared): State<Arc<Shared>>,
    Path((session_id, rest)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((owner_token, machine_url)) = shared.route(&session_id).await else {
        return error_response(StatusCode::NOT_FOUND, ErrorCode::AuthenticationFailed, "no such session");
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bearer.is_empty() || bearer != owner_token {
        return error_response(StatusCode::UNAUTHORIZED, ErrorCode::AuthenticationFailed, "not this session's token");
    }
    if body.len() > shared.config.max_proxy_body {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::GpuConnectionFailed, "request body too large");
    }
    let mut url = format!("{machine_url}/sessions/{LOCAL_SESSION_ID}{}/{rest}", paths::WEBRTC);
    if let Some(query) = query {
        url.push('?');
        url.push_str(&query);
    }
    let mut request = shared.http.request(method.clone(), &url).timeout(Duration::from_secs(30));
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, content_type.clone());
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(session_id, %url, %error, "machine unreachable through the proxy");
            return error_response(
                StatusCode::BAD_GATEWAY,
                ErrorCode::GpuConnectionFailed,
                "the machine did not answer",
            );
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    tracing::debug!(session_id, %method, rest, %status, "proxied");
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    } else {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response
}
