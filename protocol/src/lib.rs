//! Wire types shared by the Reactor wasm SDK and the reference server.
//!
//! Every shape that crosses a socket is defined here once:
//! - [`coordinator`]: the token exchange and the coordinator WebSocket frames;
//! - [`runtime`]: the subset of the Reactor runtime's local API that the SDK
//!   and our simulated machines speak (HTTP signaling and data channels);
//! - [`error`]: every error code, with its component, recoverability and docs.
//!
//! No I/O lives here, only serde types, so that the wasm SDK can depend on it
//! without growing. For the same reason, [`text!`] builds the SDK's messages
//! in place of `format!` (see [`mod@text`]).
#![no_std]
extern crate alloc;

pub mod coordinator;
pub mod error;
pub mod json;
pub mod runtime;
pub mod text;

pub use error::{Component, ErrorCode};
