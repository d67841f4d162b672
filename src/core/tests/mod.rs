//! Native tests of the core: every status transition and every failure.

mod harness;
mod connect;
mod failures;
mod messages;
mod local;
mod options;
mod media;
mod development;
