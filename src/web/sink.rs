use std::rc::Weak;

use crate::core::Input;
use wasm_bindgen::JsValue;

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
