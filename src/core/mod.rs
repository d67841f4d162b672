//! The sans-IO core: every decision the SDK makes, in plain Rust with no
//! browser API, so `cargo test` can drive every path in milliseconds.
//! `src/web/` feeds it [`Input`]s and carries out its [`Action`]s.

mod error;
mod io;
mod link;
mod options;
mod session;
mod status;

pub use error::ReactorError;
pub use io::*;
pub use options::{OptionError, OptionValue, Options, RawOptions, DEFAULT_COORDINATOR_URL};
pub use session::*;
pub use status::{Status, WaitingInfo};

/// The oldest entry of a first-in-first-out queue. The SDK's queues (actions,
/// held messages, inputs) hold a handful of entries, and a `Vec` shifting
/// them costs the wasm less than `VecDeque`'s generic ring-buffer code.
pub fn pop_front<T>(queue: &mut Vec<T>) -> Option<T> {
    (!queue.is_empty()).then(|| queue.remove(0))
}

#[cfg(test)]
mod tests;
