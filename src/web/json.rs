//! JSON through the browser's own `JSON`: fast, and no serde_json in the wasm.

use js_sys::{Array, JsString, Reflect, JSON};
use reactor_protocol::json::{why_unreadable, FromJson, JsonValue, ToJson, SHOWN};
use reactor_protocol::text::head;
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

/// The `application` envelope of `message`, and its UTF-8 size; `Err` holds
/// why it is not JSON.
pub fn envelope_of(message: &JsValue) -> Result<(JsString, usize), String> {
    let text = strict_envelope("application", message).map_err(|e| describe(&e))?;
    let bytes = utf8_length(&text);
    Ok((text, bytes))
}

pub fn to_json<T: ToJson>(value: &T) -> JsString {
    JsString::from(value.to_json())
}

pub fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok()
}

pub fn from_text<T: FromJson>(text: &str) -> Option<T> {
    parse(text).and_then(|v| T::from_json(&Js(v)))
}

/// `text` read as a `T`; `Err` says which member did not read and what came.
pub fn read_answer<T: FromJson>(text: &str) -> Result<T, String> {
    let Some(value) = parse(text).map(Js) else {
        return Err(reactor_protocol::text!("not JSON: ", head(text, SHOWN)));
    };
    T::from_json(&value).ok_or_else(|| why_unreadable::<T, _>(&value))
}

/// A parsed JS value, read by the protocol's decoders.
struct Js(JsValue);

impl JsonValue for Js {
    fn field(&self, key: &str) -> Option<Self> {
        let value = Reflect::get(&self.0, &JsValue::from_str(key)).ok()?;
        (!value.is_undefined() && !value.is_null()).then_some(Js(value))
    }
    fn string(&self) -> Option<String> {
        self.0.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.0.as_bool()
    }
    fn text(&self) -> String {
        JSON::stringify(&self.0).map(String::from).unwrap_or_default()
    }
    fn items(&self) -> Option<Vec<Self>> {
        if !Array::is_array(&self.0) {
            return None;
        }
        let array: &Array = self.0.unchecked_ref();
        let mut items = Vec::new();
        for i in 0..array.length() {
            items.push(Js(array.get(i)));
        }
        Some(items)
    }
}

/// A thrown JS value as text, for error messages.
pub fn describe(error: &JsValue) -> String {
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    error.as_string().unwrap_or_else(|| error.unchecked_ref::<js_sys::Object>().to_string().into())
}
