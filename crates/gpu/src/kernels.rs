//! The kernels: one operation per pair of files, `op.rs` (shapes, settings, launch size)
//! beside `op.wgsl` (the arithmetic). `math.wgsl` (a sigmoid and a tanh that never overflow) and
//! `reduce.wgsl` (a workgroup tree sum) are WGSL helpers that some kernels put in front of
//! their own source. Each kernel is checked against its CPU reference in crates/engine by the
//! crate's tests; the table in the crate's documentation lists which.

pub mod activation;
pub mod add;
pub mod add_bias;
pub mod attention;
pub mod batched_matmul;
pub mod bce;
pub mod causal_softmax;
pub mod col_sum;
pub mod cross_entropy;
pub mod embedding;
pub mod layer_norm;
pub mod matmul;
pub mod optim;
pub mod skip_gram;
