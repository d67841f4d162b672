use reactor_protocol::{Code, Component};

/// `ReactorError`: what the `error` event carries, what `getLastError()`
/// returns, and what rejected promises hold.
#[derive(Clone, Debug, PartialEq)]
pub struct ReactorError {
    /// A code from a newer coordinator that this SDK does not know stays as it came.
    pub code: Code,
    pub message: String,
    /// Milliseconds since the epoch, from the input that caused it.
    pub timestamp: f64,
    /// Seconds to wait before retrying, when the coordinator suggests it.
    pub retry_after: Option<f64>,
}

impl ReactorError {
    pub fn new(code: impl Into<Code>, message: impl Into<String>, timestamp: f64) -> Self {
        ReactorError { code: code.into(), message: message.into(), timestamp, retry_after: None }
    }

    pub fn component(&self) -> Component {
        self.code.component()
    }

    pub fn recoverable(&self) -> bool {
        self.code.recoverable()
    }
}
