//! The networks the chapters run on the GPU, built from [`crate::kernels`]: chapter 3's
//! MLP (also chapter 8's two-moons race), the engine's decoder-only transformer, chapter 9's
//! MiniLM sentence encoder (forward only) and skip-gram word vectors, and chapter 10's
//! attention-only transformer. Each has the same parameters as its engine model and is
//! checked against it.

pub mod induction;
pub mod minilm;
pub mod mlp;
pub mod skip_gram;
pub mod transformer;
