//! How browser callbacks reach the core: every listener and every promise
//! ends in a [`Sink`], through the two helpers here, so each kind of
//! callback exists once in the wasm.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use web_sys::{Event, EventTarget};

use crate::core::Input;

/// Whatever consumes inputs: the driver, or a recorder in tests.
pub trait Feed {
    fn feed(&self, generation: u32, input: Input<JsValue>);
}

/// Where a callback of one connection puts what it saw. It holds its
/// target weakly (a callback must not keep a dropped `Reactor` alive) and
/// the connection's generation (so a torn-down connection cannot reach a
/// newer one).
#[derive(Clone)]
pub struct Sink {
    target: Weak<dyn Feed>,
    generation: u32,
}

impl Sink {
    pub fn new(target: Weak<dyn Feed>, generation: u32) -> Sink {
        Sink { target, generation }
    }

    pub fn push(&self, input: Input<JsValue>) {
        if let Some(target) = self.target.upgrade() {
            target.feed(self.generation, input);
        }
    }
}

/// Reads one browser event as an input, or as nothing.
pub type Reader = fn(&Event) -> Option<Input<JsValue>>;

/// Listens for `name` on `target` for as long as the returned listener lives.
pub fn listen(target: &EventTarget, name: &'static str, sink: &Sink, read: Reader) -> EventListener {
    let sink = sink.clone();
    // `EventListener::new` would pass the same default options, but through
    // a thread-local whose access check brings `core::fmt` code along.
    EventListener::new_with_options(target, name, EventListenerOptions::default(), move |event| {
        if let Some(input) = read(event) {
            sink.push(input);
        }
    })
}

/// What to make of a settled promise (`Err` holds the rejection): an
/// input, or nothing. A step of a longer chain starts the next promise with
/// [`when_settled`] and returns nothing.
pub type Then = Box<dyn FnOnce(Result<JsValue, JsValue>) -> Option<Input<JsValue>>>;

/// A promise being waited on: the continuation, where its input goes, and
/// the two callbacks the promise holds.
struct Waiting {
    sink: Sink,
    then: Then,
    _callbacks: [Closure<dyn FnMut(JsValue)>; 2],
}

type Slot = Rc<Cell<Option<Waiting>>>;

/// Runs `then` once `promise` settles; its input reaches the core only if
/// the connection is still the current one (the sink's generation says).
///
/// The slot owns the callbacks and the callbacks hold the slot, so a
/// promise in flight keeps its continuation alive with nothing forgotten;
/// the first call empties the slot, which drops the continuation and both
/// callbacks (wasm-bindgen frees the running one as it returns). Teardown
/// cancels nothing: a promise still pending then settles later, its
/// continuation runs against the closed resource (no callback is ever
/// called after being dropped, and every rejection is handled) and its
/// input is dropped by the generation check, as a late event's is. A
/// promise that never settles keeps its slot, as an awaited `JsFuture` did.
pub fn when_settled(sink: &Sink, promise: &Promise, then: Then) {
    let slot: Slot = Rc::default();
    let callbacks = [callback(&slot, true), callback(&slot, false)];
    let _ = promise.then2(&callbacks[0], &callbacks[1]);
    slot.set(Some(Waiting { sink: sink.clone(), then, _callbacks: callbacks }));
}

fn callback(slot: &Slot, fulfilled: bool) -> Closure<dyn FnMut(JsValue)> {
    let slot = slot.clone();
    Closure::new(move |value| {
        if let Some(Waiting { sink, then, .. }) = slot.take() {
            if let Some(input) = then(if fulfilled { Ok(value) } else { Err(value) }) {
                sink.push(input);
            }
        }
    })
}
