//! Reactor: a browser SDK for real-time AI video models, in Rust compiled
//! to WebAssembly. `core` decides, `web` talks to the browser, and this file
//! is the JavaScript surface, mirroring the documented Reactor API.

#[cfg(target_arch = "wasm32")]
mod api;
pub mod core;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use api::Reactor;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
