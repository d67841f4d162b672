//! Browser tests of the web shell's pieces (`wasm-pack test --headless --chrome`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use reactor_protocol::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::core::{Input, PeerPlan, ReactorError};

use super::errors::error_object;
use super::json::envelope_of;
use super::listeners::call_all;
use super::peer::Peer;
use super::sink::{Feed, Sink};

wasm_bindgen_test_configure!(run_in_browser);

fn js(source: &str) -> JsValue {
    Function::new_no_args(&format!("return ({source});")).call0(&JsValue::NULL).unwrap()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

#[wasm_bindgen_test]
fn envelopes_are_json_with_their_utf8_size() {
    let (text, bytes) = envelope_of(&js(r#"{ type: "say", data: { text: "héllo" } }"#)).unwrap();
    assert_eq!(String::from(text), r#"{"scope":"application","data":{"type":"say","data":{"text":"héllo"}}}"#);
    assert_eq!(bytes, r#"{"scope":"application","data":{"type":"say","data":{"text":"héllo"}}}"#.len());
    assert!(envelope_of(&js("null")).is_ok(), "null is JSON");
    assert!(envelope_of(&js("[1, 'two', false]")).is_ok());
}

#[wasm_bindgen_test]
fn what_json_would_drop_or_refuse_is_an_error() {
    let cases = [
        ("(() => { const o = {}; o.self = o; return o; })()", "circular"),
        ("({ n: 10n })", "BigInt"),
        ("() => 1", "function"),
        ("({ onClick() {} })", "onClick"),
        ("({ s: Symbol('x') })", "symbol"),
        ("undefined", "undefined"),
    ];
    for (source, says) in cases {
        let err = envelope_of(&js(source)).expect_err(source);
        assert!(err.contains(says), "{source}: {err}");
    }
}

#[wasm_bindgen_test]
fn errors_cross_as_error_objects_with_every_documented_field() {
    let mut err = ReactorError::said(ErrorCode::NoCapacity, "busy", 1234.0);
    let js_err = error_object(&err);
    assert!(js_err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&js_err, "code"), "NO_CAPACITY");
    assert_eq!(get(&js_err, "message"), "busy");
    assert_eq!(get(&js_err, "timestamp"), 1234.0);
    assert_eq!(get(&js_err, "recoverable"), true);
    assert_eq!(get(&js_err, "component"), "coordinator");
    assert!(!Reflect::has(&js_err, &"retryAfter".into()).unwrap(), "absent, not undefined");
    err.retry_after = Some(3.0);
    assert_eq!(get(&error_object(&err), "retryAfter"), 3.0);
}

#[wasm_bindgen_test]
fn a_throwing_handler_does_not_stop_the_others() {
    let seen = js("[]");
    let push = Function::new_with_args("seen", "return (x) => seen.push(x)").call1(&JsValue::NULL, &seen).unwrap();
    let throws = Function::new_with_args("x", "throw new Error('handler bug')");
    call_all(vec![throws, push.unchecked_into()], &"ready".into());
    assert_eq!(js_sys::Array::from(&seen).to_vec(), vec![JsValue::from("ready")]);
}

/// Records what a peer reports, instead of a driver.
#[derive(Default)]
struct Recorder {
    inputs: RefCell<Vec<Input<JsValue>>>,
}

impl Feed for Recorder {
    fn feed(&self, _generation: u32, input: Input<JsValue>) {
        self.inputs.borrow_mut().push(input);
    }
}

async fn next_tick(ms: i32) {
    let promise: js_sys::Promise = js(&format!("new Promise((resolve) => setTimeout(resolve, {ms}))")).unchecked_into();
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Waits (bounded) until the recorder holds an input that `pick` accepts.
async fn wait_for<T>(recorder: &Recorder, mut pick: impl FnMut(&Input<JsValue>) -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = recorder.inputs.borrow().iter().find_map(&mut pick) {
            return found;
        }
        next_tick(10).await;
    }
    panic!("the expected input never came");
}

#[wasm_bindgen_test]
async fn the_offer_puts_model_inputs_first_and_reports_their_mids() {
    let recorder = Rc::new(Recorder::default());
    let target: Weak<dyn Feed> = Rc::downgrade(&(recorder.clone() as Rc<dyn Feed>));
    let plan = PeerPlan { ice_servers: vec![], send: vec!["webcam".into()], receive: vec!["main_video".into()] };
    let peer = Peer::create(&plan, &Sink::new(target, 1)).unwrap();
    let (sdp, mids) = wait_for(&recorder, |i| match i {
        Input::OfferReady { sdp, mids } => Some((sdp.clone(), mids.clone())),
        _ => None,
    })
    .await;
    let mids: Vec<String> = mids.into_iter().map(|m| m.expect("every track has a mid")).collect();
    assert_eq!(mids.len(), 2);
    let video_lines: Vec<&str> =
        sdp.lines().filter(|l| l.starts_with("a=sendonly") || l.starts_with("a=recvonly")).collect();
    assert_eq!(video_lines, vec!["a=sendonly", "a=recvonly"], "input before output");
    assert!(sdp.contains("m=application"), "the data channels are negotiated");
    assert!(sdp.find(&format!("a=mid:{}", mids[0])) < sdp.find(&format!("a=mid:{}", mids[1])));
    // Candidates trickle in after the offer, ending with the end-of-gathering mark.
    wait_for(&recorder, |i| matches!(i, Input::LocalCandidate(None)).then_some(())).await;
    drop(peer);
}

#[wasm_bindgen_test]
async fn a_dropped_peer_reports_nothing_more() {
    let recorder = Rc::new(Recorder::default());
    let target: Weak<dyn Feed> = Rc::downgrade(&(recorder.clone() as Rc<dyn Feed>));
    let plan = PeerPlan { ice_servers: vec![], send: vec![], receive: vec!["main_video".into()] };
    drop(Peer::create(&plan, &Sink::new(target, 1)).unwrap());
    let seen = recorder.inputs.borrow().len();
    next_tick(300).await;
    let after: Vec<String> = recorder.inputs.borrow()[seen..].iter().map(|i| format!("{i:?}")).collect();
    // Only the offer, whose promises were already pending, may still finish.
    assert!(after.iter().all(|i| i.starts_with("OfferReady") || i.starts_with("PeerFailed")), "{after:?}");
}

/// The decoders over what the browser's `JSON.parse` makes, through
/// serde-wasm-bindgen: tolerant where the runtime differs, and every failure
/// names its field (protocol/tests/decoders.rs runs the same types on
/// arbitrary JSON natively).
#[wasm_bindgen_test]
fn parsed_json_decodes_through_serde_naming_the_field_that_fails() {
    use reactor_protocol::coordinator::{ServerFrame, TokenResponse};
    use reactor_protocol::runtime::{ConnectionId, ConnectionKey};

    use super::json::{decode, decode_tagged, parse};

    let parsed = |text: &str| parse(&JsValue::from_str(text)).unwrap();
    let id: ConnectionId = decode(parsed(r#"{"connection_id":1855,"track_map":{"tracks":[]}}"#)).unwrap();
    assert_eq!(id.connection_id, ConnectionKey::Number(1855));
    let id: ConnectionId = decode(parsed(r#"{"connection_id":"c-1"}"#)).unwrap();
    assert_eq!(id.connection_id, ConnectionKey::Text("c-1".into()));
    let frame: ServerFrame = decode_tagged(parsed(r#"{"type":"queued","position":2,"extra":[[[[{}]]]]}"#)).unwrap();
    assert!(matches!(frame, ServerFrame::Queued(q) if q.position == 2));

    let failures = [
        (decode::<ConnectionId>(parsed(r#"{"connection_id":true}"#)).unwrap_err(), "connection_id"),
        (decode::<ConnectionId>(parsed(r#"{"connection_id":12.5}"#)).unwrap_err(), "connection_id"),
        (decode::<TokenResponse>(parsed(r#"{"token":"t","expires_in":1e30}"#)).unwrap_err(), "expires_in"),
        (decode::<TokenResponse>(parsed(r#"{"token":5,"expires_in":1}"#)).unwrap_err(), "token"),
        (decode_tagged::<ServerFrame>(parsed(r#"{"type":"queued","position":-1}"#)).unwrap_err(), "position"),
        (decode_tagged::<ServerFrame>(parsed(r#"{"type":"party"}"#)).unwrap_err(), "type"),
        (decode_tagged::<ServerFrame>(parsed("[1,2]")).unwrap_err(), "type"),
        (
            decode_tagged::<ServerFrame>(parsed(
                r#"{"type":"assigned","session_id":"s","model":{"name":7},"capabilities":{}}"#,
            ))
            .unwrap_err(),
            "model.name",
        ),
    ];
    for (err, path) in failures {
        assert_eq!(err.path, path, "{err}");
    }
    let missing = decode::<ConnectionId>(parsed(r#"{"id":1}"#)).unwrap_err();
    assert_eq!(missing.problem, "missing field `connection_id`");
}
