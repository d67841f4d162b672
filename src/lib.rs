//! Reactor: a browser SDK for real-time AI video models, in Rust compiled
//! to WebAssembly. `core` decides, `web` talks to the browser, and this file
//! is the JavaScript surface.

pub mod core;
