use std::rc::Weak;

use crate::core::Input;
use wasm_bindgen::JsValue;

use super::driver::Driver;

/// Where a callback of one connection puts what it saw. It holds the
/// driver weakly (a callback must not keep a dropped `Reactor` alive) and
/// the connection's generation (so a torn-down connection cannot reach a
/// newer one).
#[derive(Clone)]
pub struct Sink {
    pub(super) driver: Weak<Driver>,
    pub(super) generation: u32,
}

impl Sink {
    pub fn push(&self, input: Input<JsValue>) {
        if let Some(driver) = self.driver.upgrade() {
            driver.feed(self.generation, input);
        }
    }
}
