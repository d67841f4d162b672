//! Every decoder the SDK uses, fed arbitrary JSON: wrong types, missing and
//! extra fields, huge numbers, deep nesting. None may panic, and every
//! failure must name its field: a place that exists in what came, or the
//! missing field.

use proptest::prelude::*;
use reactor_protocol::coordinator::{ErrorBody, ServerFrame, TokenResponse};
use reactor_protocol::decode::{decode, decode_tagged, DecodeError};
use reactor_protocol::runtime::{ConnectionId, ControlResponse, Envelope, SdpAnswer, SessionDescriptor};
use serde_json::{json, Map, Value};

/// A decoder, keeping only whether it read.
type Decoder = fn(&Value) -> Result<(), DecodeError>;

/// Each decoder the SDK runs on what machines and the coordinator send.
fn decoders() -> Vec<(&'static str, Decoder)> {
    vec![
        ("TokenResponse", |v| decode::<TokenResponse, _>(v).map(drop)),
        ("ErrorBody", |v| decode::<ErrorBody, _>(v).map(drop)),
        ("SessionDescriptor", |v| decode::<SessionDescriptor, _>(v).map(drop)),
        ("ConnectionId", |v| decode::<ConnectionId, _>(v).map(drop)),
        ("SdpAnswer", |v| decode::<SdpAnswer, _>(v).map(drop)),
        ("ControlResponse", |v| decode::<ControlResponse, _>(v).map(drop)),
        ("Envelope", |v| decode::<Envelope<Value>, _>(v).map(drop)),
        ("ServerFrame", |v| decode_tagged::<ServerFrame, _>(v.get("type").and_then(Value::as_str), v).map(drop)),
    ]
}

/// A valid answer of each shape, to break one field of.
fn valid() -> Vec<(&'static str, Value)> {
    let capabilities = json!({"protocol_version":"1.0","tracks":[{"name":"main_video","kind":"video",
        "direction":"recvonly"}],"commands":[{"name":"set_brightness"}],"emission_fps":30.0});
    vec![
        ("TokenResponse", json!({"token":"t","expires_in":300})),
        ("ErrorBody", json!({"code":"NO_CAPACITY","message":"busy","retry_after":2.5})),
        (
            "SessionDescriptor",
            json!({"session_id":"local","state":"WAITING","model":{"name":"echo"},"cluster":"c",
            "server_info":{"server_version":"2.10.1"},"selected_transport":{"protocol":"webrtc","version":"1.0"},
            "capabilities":capabilities,"schema":{"openapi":"3.1.0"}}),
        ),
        ("ConnectionId", json!({"connection_id":1855})),
        ("SdpAnswer", json!({"sdp_answer":"v=0","connection_id":"c1"})),
        (
            "ControlResponse",
            json!({"method":"publish_track","request_id":"r1","data":{},"error":{"code":"X","message":"m"}}),
        ),
        ("Envelope", json!({"scope":"application","data":{"anything":[1,2]}})),
        (
            "ServerFrame",
            json!({"type":"assigned","session_id":"s","model":{"name":"echo"},"capabilities":capabilities,
            "ice_servers":[{"urls":["stun:127.0.0.1:3478"],"username":"u"}]}),
        ),
    ]
}

fn decoder(name: &str) -> Decoder {
    decoders().into_iter().find(|(n, _)| *n == name).unwrap().1
}

/// Whether `path` (`a.b.c`, `.` for the root) names a place in `value`.
fn exists(value: &Value, path: &str) -> bool {
    path == "." || path.split('.').try_fold(value, |at, key| at.get(key)).is_some()
}

/// The place exists in what came, or it is the `type` a tagged frame lacks.
fn names_its_field(value: &Value, err: &DecodeError) -> bool {
    (exists(value, &err.path) || err.path == "type") && !err.problem.is_empty()
}

/// Any JSON, favouring what breaks decoders: wrong types, huge numbers,
/// the fields the shapes have, deep nesting.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_string()),
        Just("token".to_string()),
        Just("connection_id".to_string()),
        Just("capabilities".to_string()),
        Just("tracks".to_string()),
        Just("code".to_string()),
        "[a-z_]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(1e300), Just(-1e300), Just(1.5), Just(-0.0), Just(4_294_967_296.0), any::<f64>()]
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        prop_oneof![
            Just("queued".to_string()),
            Just("assigned".to_string()),
            Just("error".to_string()),
            Just("video".to_string()),
            Just("NO_CAPACITY".to_string()),
            ".{0,20}"
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `depth` arrays and objects, one inside the other.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |v, i| if i % 2 == 0 { json!([v]) } else { json!({ "tracks": v }) })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics_and_failures_name_a_place_in_it(value in any_json()) {
        for (name, decode) in decoders() {
            if let Err(err) = decode(&value) {
                prop_assert!(names_its_field(&value, &err), "{name}: {err} for {value}");
            }
        }
    }

    #[test]
    fn a_field_replaced_by_anything_is_named_when_it_fails(pick in any::<prop::sample::Index>(), with in any_json()) {
        for (name, value) in valid() {
            decoder(name)(&value).unwrap_or_else(|e| panic!("{name} reads its valid answer: {e}"));
            let Value::Object(fields) = &value else { unreachable!() };
            let key = pick.get(&fields.keys().cloned().collect::<Vec<_>>()).clone();
            let mut broken = fields.clone();
            broken.insert(key.clone(), with.clone());
            let broken = Value::Object(broken);
            // A `type` replaced by another frame's name picks that frame's struct,
            // whose own missing fields are then rightly named instead.
            let retagged = key == "type" && with.is_string();
            if let (Err(err), false) = (decoder(name)(&broken), retagged) {
                let at_key = err.path == key || err.path.starts_with(&format!("{key}."));
                prop_assert!(at_key, "{name}: `{key}` replaced by {with}, but the error says {err}");
            }
        }
    }

    #[test]
    fn a_missing_field_is_named(pick in any::<prop::sample::Index>()) {
        for (name, value) in valid() {
            let Value::Object(fields) = &value else { unreachable!() };
            let key = pick.get(&fields.keys().cloned().collect::<Vec<_>>()).clone();
            let mut broken: Map<String, Value> = fields.clone();
            broken.remove(&key);
            if let Err(err) = decoder(name)(&Value::Object(broken)) {
                let named = err.problem == format!("missing field `{key}`") || (key == "type" && err.path == "type");
                prop_assert!(named, "{name} without `{key}`: {err}");
            }
        }
    }
}

#[test]
fn deep_nesting_and_extra_fields_are_harmless() {
    for (name, value) in valid() {
        let Value::Object(mut fields) = value else { unreachable!() };
        fields.insert("future".into(), nested(100));
        let extra = Value::Object(fields);
        decoder(name)(&extra).unwrap_or_else(|e| panic!("{name} ignores an unknown, deeply nested field: {e}"));
    }
    for (name, decode) in decoders() {
        let err = decode(&nested(100)).expect_err(name);
        assert!(names_its_field(&nested(100), &err), "{name}: {err}");
    }
}
