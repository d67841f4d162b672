//! `ReactorError` as JavaScript sees it: an `Error` carrying `code`,
//! `message`, `timestamp`, `recoverable`, `component` and, when known,
//! `retryAfter`. The same shape is the `error` event's payload,
//! `getLastError()`'s value and every rejection's reason.

use js_sys::{Error, Reflect};
use reactor_protocol::ErrorCode;
use wasm_bindgen::JsValue;

use crate::core::{OptionError, ReactorError};

pub fn error_object(err: &ReactorError) -> JsValue {
    let js = Error::new(&err.message());
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&js, &JsValue::from_str(key), &value);
    };
    set("name", "ReactorError".into());
    set("code", err.code.as_str().into());
    set("timestamp", err.timestamp.into());
    set("recoverable", err.recoverable().into());
    set("component", err.component().as_str().into());
    if let Some(seconds) = err.retry_after {
        set("retryAfter", seconds.into());
    }
    js.into()
}

/// A bad constructor option, thrown by `new Reactor()`; `option` names it.
pub fn option_error(err: OptionError) -> JsValue {
    let reactor = ReactorError::said(ErrorCode::InvalidOption, err.message, js_sys::Date::now());
    let js = error_object(&reactor);
    let _ = Reflect::set(&js, &JsValue::from_str("option"), &err.option.into());
    js
}
