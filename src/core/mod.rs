//! The sans-IO core: every decision the SDK makes, in plain Rust with no
//! browser API, so `cargo test` can drive every path in milliseconds.
//! `src/web/` feeds it [`Input`]s and carries out its [`Action`]s.

mod error;
mod failure;
mod io;
mod link;
mod metrics;
mod options;
mod quality;
mod session;
mod status;

pub use error::ReactorError;
pub use failure::{Failure, Step, BAD_FRAME_SHOWN};
pub use io::*;
pub use metrics::{Inbound, RuntimeQos, StatsReport, StatsSample};
pub use options::{
    OptionError, OptionValue, Options, RawOptions, DEFAULT_COORDINATOR_URL, DEFAULT_RECONNECT_DELAYS_MS,
    MAX_RECONNECT_ATTEMPTS, MAX_RECONNECT_DELAY_MS,
};
pub use quality::{Limit, Quality, Verdict};
pub use session::*;
pub use status::{Status, WaitingInfo};

#[cfg(test)]
mod tests;
