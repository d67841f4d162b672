//! The `Reactor` class in a real browser, without a server: construction,
//! listeners, refusals and failures that need no machine. The full path
//! against the reference server is in tests/e2e/.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Promise, Reflect};
use reactor_sdk::Reactor;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn js(source: &str) -> JsValue {
    Function::new_no_args(&format!("return ({source});")).call0(&JsValue::NULL).unwrap()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

/// A JS array and a handler that pushes into it.
fn recorder() -> (Array, Function) {
    let seen = Array::new();
    let push = Function::new_with_args("seen", "return (x) => { seen.push(x); }").call1(&JsValue::NULL, &seen).unwrap();
    (seen, push.unchecked_into())
}

/// Nothing listens on port 9 of loopback: fetches fail at once.
fn options(extra: &str) -> JsValue {
    js(&format!(r#"{{ modelName: "echo", insecureApiKey: "k", coordinatorUrl: "http://127.0.0.1:9", {extra} }}"#))
}

async fn rejection(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect_err("the promise rejects")
}

#[wasm_bindgen_test]
fn bad_options_throw_naming_the_option() {
    let cases = [
        (r#"{ insecureApiKey: "k" }"#, "modelName"),
        (r#"{ modelName: "", insecureApiKey: "k" }"#, "modelName"),
        (r#"{ modelName: 7, insecureApiKey: "k" }"#, "modelName"),
        (r#"{ modelName: "m" }"#, "insecureApiKey"),
        (r#"{ modelName: "m", insecureApiKey: "k\nX-Other: 1" }"#, "insecureApiKey"),
        (r#"{ modelName: "m", insecureApiKey: "k", queueing: "yes" }"#, "queueing"),
        (r#"{ modelName: "m", insecureApiKey: "k", coordinatorUrl: "localhost:8080" }"#, "coordinatorUrl"),
        (r#"{ modelName: "m", insecureApiKey: "k", validateMessages: 1 }"#, "validateMessages"),
        (r#"{ modelName: "m", insecureApiKey: "k", reconnect: "yes" }"#, "reconnect"),
        (r#"{ modelName: "m", insecureApiKey: "k", reconnect: [0, "1"] }"#, "reconnect"),
        (r#"{ modelName: "m", insecureApiKey: "k", reconnect: [-5] }"#, "reconnect"),
        ("undefined", "options"),
    ];
    for (source, option) in cases {
        let err = Reactor::new(js(source)).err().unwrap_or_else(|| panic!("{source} is accepted"));
        assert_eq!(get(&err, "code"), "INVALID_OPTION", "{source}");
        assert_eq!(get(&err, "option"), option, "{source}");
        assert!(get(&err, "message").as_string().unwrap().contains(option));
    }
}

#[wasm_bindgen_test]
fn a_new_reactor_is_disconnected_with_nothing_to_report() {
    let reactor = Reactor::new(options("")).unwrap();
    assert_eq!(reactor.get_status(), "disconnected");
    assert!(reactor.get_waiting_info().is_undefined());
    assert!(reactor.get_last_error().is_undefined());
    assert!(reactor.get_schema().is_undefined(), "no schema before a machine is reached");
    let state = reactor.get_state();
    assert_eq!(get(&state, "status"), "disconnected");
    assert!(!Reflect::has(&state, &"lastError".into()).unwrap());
}

#[wasm_bindgen_test]
fn unknown_events_throw_and_removing_a_stranger_is_fine() {
    let reactor = Reactor::new(options("")).unwrap();
    let (_, handler) = recorder();
    let err = reactor.on("statuschanged", handler.clone()).unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert_eq!(
        get(&err, "message").as_string().unwrap(),
        "unknown event \"statuschanged\"; Reactor emits statusChanged, waitingInfoChanged, newMessage, fps, streamChanged, schemaReceived, error, reconnecting, reconnected, stats, connectionQuality",
        "names the real events"
    );
    assert!(reactor.off("nope", handler.clone()).is_err());
    reactor.off("error", handler).unwrap();
}

#[wasm_bindgen_test]
async fn no_stats_or_quality_without_a_peer_connection() {
    let reactor = Reactor::new(options("")).unwrap();
    assert!(JsFuture::from(reactor.get_stats()).await.unwrap().is_undefined());
    assert!(reactor.get_connection_quality().is_undefined());
    // Connecting (the coordinator is unreachable): still no peer connection.
    let connecting = reactor.connect();
    assert!(JsFuture::from(reactor.get_stats()).await.unwrap().is_undefined());
    let _ = JsFuture::from(connecting).await;
}

#[wasm_bindgen_test]
async fn send_before_ready_rejects_and_reports_the_same_error() {
    let reactor = Reactor::new(options("")).unwrap();
    let (errors, on_error) = recorder();
    reactor.on("error", on_error).unwrap();
    let err = rejection(reactor.send_message(js("{ type: 'x' }"))).await;
    assert_eq!(get(&err, "code"), "MESSAGE_SEND_FAILED");
    assert_eq!(errors.length(), 1);
    assert!(Object_is(&errors.get(0), &err), "the event carries the rejected error");
    assert!(Object_is(&reactor.get_last_error(), &err), "getLastError() returns that same object");
    let err = rejection(reactor.send_message(js("{ f() {} }"))).await;
    assert_eq!(get(&err, "code"), "INVALID_MESSAGE");
    assert_eq!(reactor.get_status(), "disconnected");
}

#[wasm_bindgen_test]
async fn an_unreachable_coordinator_fails_connect_and_leaves_it_usable() {
    let reactor = Reactor::new(options("queueing: true")).unwrap();
    let (statuses, on_status) = recorder();
    let (errors, on_error) = recorder();
    reactor.on("statusChanged", on_status).unwrap();
    reactor.on("error", on_error).unwrap();
    let err = rejection(reactor.connect()).await;
    assert_eq!(get(&err, "code"), "COORDINATOR_CONNECTION_ERROR");
    assert_eq!(get(&err, "recoverable"), true);
    assert_eq!(get(&err, "component"), "coordinator");
    assert_eq!(
        get(&err, "message"),
        "could not reach the coordinator at http://127.0.0.1:9: no connection, a refused one, or a CORS refusal \
         (TypeError: Failed to fetch)"
    );
    assert_eq!(statuses.to_vec(), vec![JsValue::from("connecting"), JsValue::from("disconnected")]);
    assert_eq!(errors.length(), 1);
    assert_eq!(reactor.get_status(), "disconnected");
    // The same object everywhere, and a second attempt walks the same path.
    assert!(Object_is(&reactor.get_last_error(), &err));
    let again = rejection(reactor.connect()).await;
    assert_eq!(get(&again, "code"), "COORDINATOR_CONNECTION_ERROR");
    assert_eq!(statuses.length(), 4);
}

#[wasm_bindgen_test]
async fn a_url_the_browser_cannot_fetch_fails_connect_saying_so() {
    // `new Request` refuses a URL with credentials in it.
    let reactor = Reactor::new(options(r#"coordinatorUrl: "http://user:pw@127.0.0.1:9""#)).unwrap();
    let err = rejection(reactor.connect()).await;
    assert_eq!(get(&err, "code"), "COORDINATOR_CONNECTION_ERROR");
    let message = get(&err, "message").as_string().unwrap();
    let says =
        "could not reach the coordinator at http://user:pw@127.0.0.1:9: the browser would not send the request (TypeError: ";
    assert!(message.starts_with(says), "{message}");
    assert_eq!(reactor.get_status(), "disconnected");
}

#[wasm_bindgen_test]
async fn connect_twice_and_disconnect_midway() {
    let reactor = Reactor::new(options("")).unwrap();
    let first = reactor.connect();
    let second = rejection(reactor.connect()).await;
    assert_eq!(get(&second, "code"), "ALREADY_CONNECTED");
    assert_eq!(reactor.get_status(), "connecting", "the refused call changed nothing");
    JsFuture::from(reactor.disconnect()).await.unwrap();
    let aborted = rejection(first).await;
    assert_eq!(get(&aborted, "code"), "CONNECTION_ABORTED");
    assert_eq!(reactor.get_status(), "disconnected");
    assert!(reactor.get_last_error().is_undefined(), "the user's own disconnect is not an error");
    JsFuture::from(reactor.disconnect()).await.unwrap();
}

#[allow(non_snake_case)]
fn Object_is(a: &JsValue, b: &JsValue) -> bool {
    js_sys::Object::is(a, b)
}
