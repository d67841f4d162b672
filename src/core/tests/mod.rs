//! Native tests of the core: every status transition and every failure.

mod backpressure;
mod connect;
mod development;
mod failures;
mod harness;
mod local;
mod media;
mod messages;
mod options;
mod recovery;
mod resume;
mod schema;
mod stats;
