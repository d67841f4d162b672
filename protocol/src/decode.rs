//! Turning a parsed JSON value into a wire shape, with the place it failed.
//!
//! Every reader (the SDK over the browser's `JSON.parse` output through
//! serde-wasm-bindgen, the server and the tests over `serde_json::Value`)
//! decodes through [`decode`] or [`decode_tagged`], so a bad answer is
//! reported with the field it went wrong at, the same way everywhere.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Deserializer};

use path::{Chain, Tracked};

mod path;

/// Why a value is not the shape it should be, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The field, as `capabilities.model.name`; `.` for the value itself.
    pub path: String,
    /// What was wrong there, as serde says it (`invalid type: …, expected …`).
    pub problem: String,
}

impl DecodeError {
    pub fn at(path: &str, problem: impl Into<String>) -> DecodeError {
        DecodeError { path: path.into(), problem: problem.into() }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.problem)
    }
}

/// `T` from `value`, or where and why not.
pub fn decode<'de, T: Deserialize<'de>, D: Deserializer<'de>>(value: D) -> Result<T, DecodeError> {
    let failed = Cell::new(None);
    T::deserialize(Tracked::new(value, &Chain::Root, &failed)).map_err(|e| failure(&failed, e))
}

/// Generic over the error type only: one copy for every type decoded.
#[inline(never)]
fn failure(failed: &Cell<Option<String>>, error: impl fmt::Display) -> DecodeError {
    let path = failed.take();
    let mut problem = error.to_string();
    // serde-wasm-bindgen's errors are JS `Error`s, whose text starts so.
    if problem.starts_with("Error: ") {
        problem.drain(.."Error: ".len());
    }
    DecodeError { path: path.unwrap_or_else(|| Chain::Root.to_string()), problem }
}

/// A shape sent as an object with a `type` member naming its variant.
///
/// The reader reads `type` itself and the shape decodes only the struct of
/// that variant. The same enums also derive serde's internally tagged
/// `Deserialize` (the server uses it), but that buffers the whole object into
/// serde's `Content` before choosing, which costs the wasm far more code.
pub trait Tagged: Sized {
    /// The variant named `kind`, decoded from the whole object `value`.
    fn from_tagged<'de, D: Deserializer<'de>>(kind: &str, value: D) -> Result<Self, DecodeError>;
}

/// `T` from an object whose `type` member was read as `kind` (`None`: it is
/// absent or not a string).
pub fn decode_tagged<'de, T: Tagged, D: Deserializer<'de>>(kind: Option<&str>, value: D) -> Result<T, DecodeError> {
    match kind {
        Some(kind) => T::from_tagged(kind, value),
        None => Err(DecodeError::at("type", "missing, or not a string")),
    }
}

/// The error for a `type` no variant has.
pub fn unknown_type(kind: &str) -> DecodeError {
    DecodeError::at("type", format!("unknown type `{kind}`"))
}
