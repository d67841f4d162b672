//! The model's schema stays a JS value: the runtime's OpenAPI 3.1 document
//! is normalized and checked in JS (here, folded into the glue), never
//! decoded into Rust. README "Schema" documents the shape.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::core::Input;

use super::sink::Sink;

#[wasm_bindgen(inline_js = r##"
// A local `$ref` ("#/components/schemas/X") resolved, else `s` itself.
const at = (doc, s) => (s?.$ref?.startsWith?.("#/") ? s.$ref.slice(2).split("/").reduce((o, k) => o?.[k], doc) : s) ?? s;
const entry = (doc, name, op) => {
  const post = op?.post ?? {};
  const schema = at(doc, post.requestBody?.content?.["application/json"]?.schema) ?? { type: "object" };
  const parameters = {};
  for (const [p, s] of Object.entries(schema.properties ?? {})) parameters[p] = at(doc, s);
  return { name, description: post.description ?? post.summary, parameters, required: schema.required ?? [], schema };
};
export function normalize_schema(doc) {
  if (doc === null || typeof doc !== "object") return undefined;
  const commands = [];
  const messages = [];
  for (const [path, op] of Object.entries(doc.paths ?? {})) {
    if (path.startsWith("/events/")) commands.push(entry(doc, path.slice(8), op));
  }
  for (const [name, op] of Object.entries(doc.webhooks ?? {})) messages.push(entry(doc, name, op));
  return { commands, messages, tracks: doc["x-reactor"]?.tracks ?? [], openapi: doc };
}
const is = (t, v) =>
  t === "integer" ? Number.isInteger(v)
  : t === "null" ? v === null
  : t === "array" ? Array.isArray(v)
  : t === "object" ? v !== null && typeof v === "object" && !Array.isArray(v)
  : typeof v === t;
// The keywords a model's parameters use (pydantic: type, anyOf for optional, enum, ge/le, max_length, pattern).
function bad(s, v) {
  const types = [s.type ?? s.anyOf?.map((x) => x.type) ?? []].flat();
  const got = `, got ${JSON.stringify(v)}`;
  if (types.length && !types.some((t) => is(t, v))) return `must be ${types.join(" or ")}${got}`;
  if (s.enum && !s.enum.includes(v)) return `must be one of ${JSON.stringify(s.enum)}${got}`;
  if (v < s.minimum) return `must be at least ${s.minimum}${got}`;
  if (v > s.maximum) return `must be at most ${s.maximum}${got}`;
  if (v?.length > s.maxLength) return `must be at most ${s.maxLength} long${got}`;
  if (typeof v === "string" && s.pattern && !new RegExp(s.pattern, "u").test(v)) return `must match ${s.pattern}${got}`;
}
export function check_command(schema, message) {
  const type = message?.type;
  const command = schema.commands.find((c) => c.name === type);
  const names = schema.commands.map((c) => c.name).join(", ");
  if (!command) return [null, `the model has no command ${JSON.stringify(type)} (it takes: ${names})`];
  const data = message.data ?? {};
  if (!is("object", data)) return [null, `\`${type}\`: data must be an object`];
  for (const p of command.required) if (!(p in data)) return [p, `\`${type}\`: parameter \`${p}\` is required`];
  for (const [p, v] of Object.entries(data)) {
    const s = command.parameters[p];
    const why = s ? bad(s, v) : command.schema.additionalProperties === false && "is not one it takes";
    if (why) return [p, `\`${type}\`: parameter \`${p}\` ${why}`];
  }
}
"##)]
extern "C" {
    /// `{commands, messages, tracks, openapi}`, or `undefined` when `doc` is no object.
    fn normalize_schema(doc: &JsValue) -> JsValue;
    /// `undefined` when `message` fits `schema`, else `[parameter | null, why]`.
    fn check_command(schema: &JsValue, message: &JsValue) -> JsValue;
}

/// The normalized schema in a parsed descriptor or `assigned` frame.
pub fn of(parsed: &JsValue) -> Option<JsValue> {
    let raw = Reflect::get(parsed, &"schema".into()).ok()?;
    let schema = normalize_schema(&raw);
    (!schema.is_undefined()).then_some(schema)
}

/// Why `message` does not fit `schema`: the parameter (if one is to blame) and a sentence naming it.
pub fn check(schema: &JsValue, message: &JsValue) -> Option<(JsValue, String)> {
    let problem = check_command(schema, message);
    if problem.is_undefined() {
        return None;
    }
    let parameter = Reflect::get_u32(&problem, 0).unwrap_or(JsValue::NULL);
    let why = Reflect::get_u32(&problem, 1).ok()?.as_string()?;
    Some((parameter, why))
}

/// Hands the core the schema of a parsed descriptor before the descriptor
/// itself, so it is known by the time that answer is handled.
pub fn push(sink: &Sink, descriptor: &JsValue) {
    if let Some(schema) = of(descriptor) {
        sink.push(Input::Schema(schema));
    }
}
