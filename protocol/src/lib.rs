//! Wire types shared by the Reactor wasm SDK and the reference server.
//!
//! Every shape that crosses a socket is defined here once, as serde types:
//! - [`coordinator`]: the token exchange and the coordinator WebSocket frames;
//! - [`runtime`]: the subset of the Reactor runtime's local API that the SDK
//!   and our simulated machines speak (HTTP signaling and data channels);
//! - [`error`]: every error code, with its component, recoverability and docs;
//! - [`decode`]: how a reader turns a parsed JSON value (a JS value in the
//!   browser, `serde_json::Value` on the server and in tests) into one of
//!   them, naming the field when it cannot.
//!
//! No I/O lives here.

pub mod coordinator;
pub mod decode;
pub mod error;
pub mod runtime;

pub use error::{Code, Component, ErrorCode};
