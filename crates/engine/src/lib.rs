//! The book's machine learning, written to be read.
//!
//! Everything a widget shows is computed here, in plain Rust with no DOM and no GPU, and
//! tested natively against the book's worked examples and against finite differences.
//! Transcendental functions come from `libm`, so a native test and the page in the browser
//! compute the same bits.
//!
//! Three layers, each using only the ones above it:
//! - [`core`]: tensors, the autograd tape, optimizers, initialization, the seeded RNG and
//!   linear algebra: what every model is built from.
//! - [`models`]: the book's models and what runs them: the XOR network, the transformer,
//!   training, generation, sampling, vocabularies and checkpoints.
//! - [`labs`]: one module per chapter widget, named after it, holding the experiment that
//!   widget shows, every number of it computed here.

pub mod core;
pub mod labs;
pub mod models;
