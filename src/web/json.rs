//! JSON at the edge: the browser's own `JSON.parse` and `JSON.stringify`
//! (fast, and no serde_json in the wasm), with serde-wasm-bindgen between
//! the parsed JS values and the protocol's serde types.

use js_sys::{JsString, Reflect};
use reactor_protocol::decode::{self, DecodeError, Tagged};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
function refuse(value, where, depth) {
  const t = typeof value;
  if (t === "function" || t === "symbol") throw new TypeError(`the message holds a ${t}${where}`);
  // Deeper than this is a cycle (JSON.stringify then says so) or no message.
  if (t !== "object" || value === null || depth > 64) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) refuse(value[i], ` at index ${i}`, depth + 1);
  } else {
    for (const key in value) refuse(value[key], ` at key "${key}"`, depth + 1);
  }
}
export function strict_envelope(scope, data) {
  if (data === undefined) throw new TypeError("the message is undefined");
  // JSON.stringify would drop these silently; its fast path stays fast
  // without a replacer.
  refuse(data, "", 0);
  return JSON.stringify({ scope, data });
}
export function utf8_length(text) {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // 2 bytes below 0x800, 3 above; a surrogate pair (2 units) is 4.
    if (unit > 0x7f) bytes += unit > 0x7ff && (unit < 0xd800 || unit > 0xdfff) ? 2 : 1;
  }
  return bytes;
}
"#)]
extern "C" {
    /// `{scope, data}` as JSON text. Throws a `TypeError` (or JSON's own
    /// error for cycles and BigInt) on anything JSON would drop or refuse.
    #[wasm_bindgen(catch)]
    fn strict_envelope(scope: &str, data: &JsValue) -> Result<JsString, JsValue>;
    fn utf8_length(text: &JsString) -> usize;
}

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string as it is: the text never enters wasm memory.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_js(text: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    fn stringify(value: &JsValue) -> JsString;
}

/// The `application` envelope of `message`, and its UTF-8 size; `Err` holds
/// why it is not JSON.
pub fn envelope_of(message: &JsValue) -> Result<(JsString, usize), String> {
    let text = strict_envelope("application", message).map_err(|e| describe(&e))?;
    let bytes = utf8_length(&text);
    Ok((text, bytes))
}

/// `value` as JSON text: serde-wasm-bindgen builds the JS value (`None` as
/// `null`, maps as objects, as serde_json writes them), `JSON.stringify` writes it.
pub fn to_json<T: Serialize>(value: &T) -> JsString {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    // Our own types always serialize; `null` is there only to need no panic.
    stringify(&value.serialize(&serializer).unwrap_or(JsValue::NULL))
}

/// `value` as a JS value for a browser API that takes a dictionary.
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// The parsed JSON of a JS string (the browser's error message if it is none).
pub fn parse(text: &JsValue) -> Result<JsValue, String> {
    parse_js(text).map_err(|e| describe(&e))
}

/// `T` from a parsed JSON value, or the field where it is not `T`.
pub fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T, DecodeError> {
    decode::decode(serde_wasm_bindgen::Deserializer::from(value))
}

/// A shape whose `type` names its variant: `type` is read here and only
/// that variant's struct is decoded.
pub fn decode_tagged<T: Tagged>(value: JsValue) -> Result<T, DecodeError> {
    let kind = Reflect::get(&value, &"type".into()).ok().and_then(|t| t.as_string());
    decode::decode_tagged(kind.as_deref(), serde_wasm_bindgen::Deserializer::from(value))
}

/// A JS value decoded as itself (an app's message body): it stays in JS.
#[derive(Deserialize)]
pub struct Opaque(#[serde(with = "serde_wasm_bindgen::preserve")] pub JsValue);

/// A thrown JS value as text, for error messages.
pub fn describe(error: &JsValue) -> String {
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    error.as_string().unwrap_or_else(|| error.unchecked_ref::<js_sys::Object>().to_string().into())
}
