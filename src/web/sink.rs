//! How browser callbacks and tasks reach the core: every listener and every
//! awaited promise ends in a [`Sink`].

use std::rc::Weak;

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use web_sys::{Event, EventTarget};

use crate::core::Input;

/// Whatever consumes inputs: the driver, or a recorder in tests.
pub trait Feed {
    fn feed(&self, generation: u32, input: Input<JsValue>);

    /// An input of peer connection `peer` (or of its signaling).
    fn feed_peer(&self, generation: u32, _peer: u32, input: Input<JsValue>) {
        self.feed(generation, input)
    }
}

/// Where a callback or a task of one connection puts what it saw. It holds
/// its target weakly (a callback must not keep a dropped `Reactor` alive)
/// and the connection's generation: a task still awaiting a promise when
/// its connection is torn down feeds its input, and the core drops it
/// because that generation is gone. Tasks hold no borrow of anything, so
/// nothing is borrowed across an `.await`.
#[derive(Clone)]
pub struct Sink {
    target: Weak<dyn Feed>,
    generation: u32,
    /// The peer connection this sink's callbacks belong to, if any: the
    /// core drops what a replaced peer still says.
    peer: Option<u32>,
}

impl Sink {
    pub fn new(target: Weak<dyn Feed>, generation: u32) -> Sink {
        Sink { target, generation, peer: None }
    }

    /// The same sink, for the callbacks of peer connection `peer`.
    pub fn for_peer(&self, peer: u32) -> Sink {
        Sink { peer: Some(peer), ..self.clone() }
    }

    pub fn push(&self, input: Input<JsValue>) {
        if let Some(target) = self.target.upgrade() {
            match self.peer {
                Some(peer) => target.feed_peer(self.generation, peer, input),
                None => target.feed(self.generation, input),
            }
        }
    }
}

/// Reads one browser event as an input, or as nothing.
pub type Reader = fn(&Event) -> Option<Input<JsValue>>;

/// Listens for `name` on `target` for as long as the returned listener lives.
pub fn listen(target: &EventTarget, name: &'static str, sink: &Sink, read: Reader) -> EventListener {
    let sink = sink.clone();
    EventListener::new(target, name, move |event| {
        if let Some(input) = read(event) {
            sink.push(input);
        }
    })
}
