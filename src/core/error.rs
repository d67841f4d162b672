use reactor_protocol::{Component, ErrorCode};

/// `ReactorError`: what the `error` event carries, what `getLastError()`
/// returns, and what rejected promises hold.
#[derive(Clone, Debug, PartialEq)]
pub struct ReactorError {
    pub code: ErrorCode,
    pub message: String,
    /// Milliseconds since the epoch, from the input that caused it.
    pub timestamp: f64,
    /// Seconds to wait before retrying, when the coordinator suggests it.
    pub retry_after: Option<f64>,
}

impl ReactorError {
    pub fn new(code: ErrorCode, message: impl Into<String>, timestamp: f64) -> Self {
        ReactorError { code, message: message.into(), timestamp, retry_after: None }
    }

    pub fn component(&self) -> Component {
        self.code.component()
    }

    pub fn recoverable(&self) -> bool {
        self.code.recoverable()
    }
}
