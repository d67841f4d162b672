//! How browser callbacks reach the core: every listener and every async
//! task ends in a [`Sink`], through the two helpers here, so each kind of
//! callback exists once in the wasm.

use std::future::Future;
use std::pin::Pin;
use std::rc::Weak;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
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

/// A browser operation in flight, ending in an input or in nothing.
pub type Task = Pin<Box<dyn Future<Output = Option<Input<JsValue>>>>>;

/// Runs `task`; its input reaches the core only if the connection is still
/// the current one (the sink's generation says).
pub fn spawn(sink: &Sink, task: Task) {
    let sink = sink.clone();
    spawn_local(async move {
        if let Some(input) = task.await {
            sink.push(input);
        }
    });
}
