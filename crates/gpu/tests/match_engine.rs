//! The GPU cases natively: every kernel against the CPU reference in crates/engine, at
//! ragged sizes, each with a stated tolerance; then the XOR network and the transformer
//! against the engine's. The cases are in `common/cases.rs`, written once for here and for
//! the browser (`web.rs`); `common/harness.rs` makes each a `#[test]`.
//!
//! These need a GPU adapter (any Vulkan device; Mesa's software lavapipe will do). Without
//! one they FAIL with a message saying so.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod common;

every_gpu_case!(gpu_tests);
