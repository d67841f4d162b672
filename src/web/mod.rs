//! The browser shell: turns browser callbacks into core inputs and carries
//! out core actions. No decisions live here; see `crate::core`.

mod connection;
mod driver;
mod errors;
mod http;
mod json;
mod listeners;
mod peer;
mod schema;
mod sink;
mod socket;
mod stats;

pub use driver::Driver;
pub use errors::option_error;
pub use listeners::EventName;

#[cfg(test)]
mod tests;
