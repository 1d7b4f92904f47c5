//! The networks the chapters train on the GPU, built from [`crate::kernels`]: chapter 3's
//! MLP (also chapter 8's two-moons race), the engine's decoder-only transformer, and
//! chapter 10's attention-only transformer. Each has
//! the same parameters as its engine model and is checked against it step by step.

pub mod induction;
pub mod mlp;
pub mod transformer;
