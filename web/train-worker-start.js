// The CPU trainer's Web Worker (crates/train-worker): load the wasm-bindgen glue Trunk built,
// then its WebAssembly. Both paths resolve against this file, which sits beside them.
importScripts("train-worker.js");
wasm_bindgen("train-worker_bg.wasm");
