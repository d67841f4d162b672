use reactor_protocol::{Code, Component};

use std::rc::Rc;

use super::failure::Failure;

/// `ReactorError`: what the `error` event carries, what `getLastError()`
/// returns, and what rejected promises hold.
#[derive(Clone, Debug, PartialEq)]
pub struct ReactorError {
    /// A code from a newer coordinator that this SDK does not know stays as it came.
    pub code: Code,
    /// Why, as a value; [`ReactorError::message`] is its text. Shared, not
    /// copied: the `error` event, the last error and a rejection are one error.
    pub failure: Rc<Failure>,
    /// Milliseconds since the epoch, from the input that caused it.
    pub timestamp: f64,
    /// Seconds to wait before retrying, when the coordinator suggests it.
    pub retry_after: Option<f64>,
}

impl ReactorError {
    pub fn new(code: impl Into<Code>, failure: Failure, timestamp: f64) -> Self {
        ReactorError { code: code.into(), failure: Rc::new(failure), timestamp, retry_after: None }
    }

    /// An error in someone else's words: the coordinator's, or a bad option's description.
    pub fn said(code: impl Into<Code>, words: impl Into<String>, timestamp: f64) -> Self {
        Self::new(code, Failure::Said(words.into()), timestamp)
    }

    /// The same error (a clone of it), not merely an equal one.
    pub fn is(&self, other: &ReactorError) -> bool {
        Rc::ptr_eq(&self.failure, &other.failure)
    }

    pub fn message(&self) -> String {
        self.failure.message()
    }

    pub fn component(&self) -> Component {
        self.code.component()
    }

    pub fn recoverable(&self) -> bool {
        self.code.recoverable()
    }
}
