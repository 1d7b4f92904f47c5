//! The book's stand-alone programs.
//!
//! A chapter shows Rust in two ways: the engine's own code, included straight from
//! `crates/engine`, and small programs that explain an idea the engine does not need (a BPE
//! trainer, BF16 rounding, a gradient check). The second kind lives here, one module per
//! program, so that every line a reader sees compiles and runs.
//!
//! Each program writes its output to any [`std::io::Write`]: `examples/NAME.rs` is the
//! `main` a reader runs (`cargo run -p listings --example NAME`), and the test
//! `tests/quoted_output.rs` runs the same function and compares what it writes with the
//! output the chapter quotes under that command.

use std::io::{self, Write};

pub mod adam_scalar;
pub mod analogy;
pub mod attention_by_hand;
pub mod bf16;
pub mod bpe;
pub mod causal_weights;
pub mod float_limits;
pub mod gradient_check;
pub mod mlm_masking;
pub mod momentum_steps;
pub mod neutralize;
pub mod norms_and_dropout;
pub mod random_cosines;
pub mod sampling_pipeline;
pub mod sgd_ravine;
pub mod toy_embeddings;
pub mod warmup_cosine;
pub mod xor_by_hand;

/// Runs the example called `name` with its command-line `args`, writing its output to `out`.
/// Returns an error for a name that is not one of the examples, or arguments it refuses.
pub fn run_example(name: &str, args: &[&str], out: &mut impl Write) -> io::Result<()> {
    match (name, args) {
        ("adam_scalar", []) => adam_scalar::main(out),
        ("analogy", []) => analogy::main(out),
        ("attention_by_hand", []) => attention_by_hand::main(out),
        ("bf16", []) => bf16::main(out),
        ("bpe", []) => bpe::main(out),
        ("causal_weights", []) => causal_weights::main(out),
        ("float_limits", []) => float_limits::main(out),
        ("gradient_check", []) => gradient_check::main(out),
        ("mlm_masking", []) => mlm_masking::main(out),
        ("momentum_steps", []) => momentum_steps::main(out),
        ("neutralize", []) => neutralize::main(out),
        ("norms_and_dropout", []) => norms_and_dropout::main(out),
        ("random_cosines", []) => random_cosines::main(out),
        ("sampling_pipeline", []) => sampling_pipeline::main(out),
        ("sgd_ravine", []) => sgd_ravine::main(out),
        ("xor_stuck_runs", []) => xor_by_hand::stuck_runs(out),
        ("transposed_query", []) => attention_by_hand::transposed_query(out),
        ("warmup_cosine", []) => warmup_cosine::main(out),
        ("xor_by_hand", [seed]) => match seed.parse() {
            Ok(seed) => xor_by_hand::main(seed, out),
            Err(_) => Err(io::Error::other(format!("xor_by_hand: `{seed}` is not a seed"))),
        },
        _ => Err(io::Error::other(format!("no example `{name}` taking {} arguments", args.len()))),
    }
}
