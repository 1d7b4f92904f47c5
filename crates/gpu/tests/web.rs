//! The GPU cases in the browser: the same bodies as `match_engine.rs` (`common/cases.rs`),
//! on WebGPU in headless Chromium (SwiftShader when there is no GPU); `common/harness.rs`
//! makes each a `#[wasm_bindgen_test]`.
//!
//! Run by `cargo xtask test`, or by hand from crates/gpu (where `webdriver.json` is):
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$HOME/.cache/mlbook-tools/bin/wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p gpu --target wasm32-unknown-unknown --test web
//! ```
//! A browser without a WebGPU adapter FAILS these tests with a message; it never skips them.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

every_gpu_case!(gpu_tests);
