//! The book's machine learning, written to be read.
//!
//! Everything a widget shows is computed here, in plain Rust with no DOM and no GPU, and
//! tested natively against the book's worked examples and against finite differences.
//! Transcendental functions come from `libm`, so a native test and the page in the browser
//! compute the same bits.

pub mod attention;
pub mod autograd;
pub mod backprop;
pub mod bugs;
pub mod checkpoint;
pub mod curve_fit;
pub mod dropout;
pub mod generate;
pub mod gpt_recipe;
pub mod init;
pub mod inside_adam;
pub mod linalg;
pub mod mlp;
pub mod norm_axes;
pub mod norm_race;
pub mod optim;
pub mod rng;
pub mod sampling;
pub mod surfaces;
pub mod tensor;
pub mod trace;
pub mod train;
pub mod transformer;
pub mod two_moons;
pub mod vocab;
pub mod weight_decay;
