//! Trains the MLM and CLM pair that chapter 6 ships: `cargo xtask train-mlm-clm`.
//!
//! The race of `engine::labs::mlm_vs_clm`, as the page runs it (the same two models, the
//! same initial weights, the same seeded batches, the same learning rates), only longer.
//! The last tenth of the play text is held out. The run writes `mlm.bin`, `clm.bin` and a
//! `REPORT.md` with the held-out numbers. Everything is seeded and the number of steps is
//! fixed, so the same command writes the same bytes on any machine with the same compiler.
//!
//! Usage: train_mlm_clm <text> <out dir> [steps]

use std::sync::Arc;
use std::time::Instant;

use engine::core::optim::warmup_steps;
use engine::labs::mlm_vs_clm::{
    blanks, model_config, Corpus, Race, Settings, BATCH, CLIP_NORM, CONTEXT, HELD_OUT_SEED, HELD_OUT_WINDOWS,
    MASK_CHAR, MAX_LR, WEIGHT_DECAY,
};
use engine::models::train::unigram_entropy;

/// Seeds the shared initial weights and the batches.
const SEED: u64 = 1;
/// Seeds the corruption and the blank of every held-out window in the report's scores.
const SCORE_SEED: u64 = 6;
/// The page's blanks: how many, and their seed (the widget's `ACCURACY_BLANKS`, `BLANK_SEED`).
const PAGE_BLANKS: usize = 256;
const PAGE_BLANK_SEED: u64 = 3;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(text_path), Some(out_dir)) = (args.first(), args.get(1)) else {
        return Err("usage: train_mlm_clm <text> <out dir> [steps]".into());
    };
    let steps: u64 = match args.get(2) {
        Some(s) => s.parse().map_err(|_| format!("steps: {s:?} is not a whole number"))?,
        None => 20_000,
    };
    let text = std::fs::read_to_string(text_path).map_err(|e| format!("{text_path}: {e}"))?;
    let corpus = Arc::new(Corpus::from_text(&text)?);
    let settings = Settings { seed: SEED, total_steps: steps, leaky: false };
    let mut race = Race::new_long(Arc::clone(&corpus), settings).map_err(|e| e.to_string())?;
    let config = model_config(corpus.model_vocab());
    eprintln!(
        "{} parameters per model, {} tokens, {} training and {} held-out characters, {steps} steps",
        config.param_count(),
        config.vocab,
        corpus.train.len(),
        corpus.held_out.len()
    );

    let started = Instant::now();
    let mut clock = || started.elapsed().as_secs_f64() * 1e3;
    while !race.finished() {
        race.train_for(f64::INFINITY, 1_000, &mut clock).map_err(|e| e.to_string())?;
        let (r, h) = (race.records.last().copied(), race.checks.last().copied());
        if let (Some(r), Some(h)) = (r, h) {
            eprintln!(
                "step {:>6}  training MLM {:.4} CLM {:.4}  held-out (step {}) MLM {:.4} CLM {:.4}  {:.0} s",
                r.step + 1,
                r.mlm_loss,
                r.clm_loss,
                h.step,
                h.mlm,
                h.clm,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    let (mlm, clm) = race.checkpoints().map_err(|e| e.to_string())?;
    let out = std::path::Path::new(out_dir);
    std::fs::create_dir_all(out).map_err(|e| format!("{out_dir}: {e}"))?;
    for (name, ck) in [("mlm.bin", &mlm), ("clm.bin", &clm)] {
        std::fs::write(out.join(name), ck.to_bytes()).map_err(|e| format!("{out_dir}/{name}: {e}"))?;
    }

    // Read back from the bytes, as the page and the tests do.
    let shipped = Race::from_checkpoints(Arc::clone(&corpus), Settings::default(), &mlm, &clm)
        .map_err(|e| e.to_string())?;
    let page = shipped.checks[0];
    let (page_mlm, page_clm) =
        shipped.fill_accuracy(&blanks(PAGE_BLANKS, PAGE_BLANK_SEED)).map_err(|e| e.to_string())?;
    let all = shipped.score_held_out(SCORE_SEED).map_err(|e| e.to_string())?;
    let (all_mlm, all_clm) = all.accuracy();
    let last = race.records.last().copied().ok_or("no step was taken")?;
    let report = format!(
        "# The shipped MLM and CLM pair\n\n\
         Written by `cargo xtask train-mlm-clm` (crates/engine/examples/train_mlm_clm.rs); do not edit by hand.\n\n\
         - Models: two of chapter 6's race, {} parameters each; {} tokens (the play text's {} characters and `[MASK]`, stored as {MASK_CHAR:?}); context {}; d_model {}; {} heads; {} layer; d_ff {}; pre-norm; GELU; output tied to the embedding. The MLM model reads through the bidirectional mask, the CLM model through the causal mask.\n\
         - Training: {steps} steps, both models from the same initial weights (seed {SEED}) on the same {BATCH} windows of {CONTEXT} characters per step; the MLM model graded at BERT's 15% of each window (80/10/10 corruption), {} positions in all, the CLM model at every position, {} in all. AdamW, peak learning rate {MAX_LR}, warmup {} steps, cosine to a tenth; weight decay {WEIGHT_DECAY} on matrices; gradient norm clipped to {CLIP_NORM}.\n\
         - Data: `assets/shakespeare/tragedies.txt`, first 90% for training ({} characters), last 10% held out ({} characters).\n\
         - Held-out loss, all {} whole windows of the held-out tenth (corruption and blanks seeded with {SCORE_SEED}): MLM {:.4} nats at the {} chosen positions; CLM {:.4} nats per character over {} characters (unigram entropy of the training text: {:.4}; uniform over the {} tokens: {:.4}).\n\
         - Fill in the blank, one blank per held-out window ({} blanks): top-1 accuracy MLM {:.2}% ({} right), CLM {:.2}% ({} right).\n\
         - The page's view ({HELD_OUT_WINDOWS} held-out windows, corruption seeded with {HELD_OUT_SEED}; {PAGE_BLANKS} blanks seeded with {PAGE_BLANK_SEED}): held-out MLM {:.4}, CLM {:.4}; fill-in-the-blank MLM {:.2}%, CLM {:.2}%.\n\
         - Training time: {seconds:.0} s of wall-clock time for both models on one thread (native, release).\n",
        config.param_count(),
        config.vocab,
        corpus.vocab.len(),
        config.context,
        config.d_model,
        config.n_heads,
        config.n_layers,
        config.d_ff,
        last.mlm_signals,
        last.clm_signals,
        warmup_steps(steps, 0.1),
        corpus.train.len(),
        corpus.held_out.len(),
        all.windows,
        all.mlm_loss,
        all.mlm_graded,
        all.clm_loss,
        all.clm_graded,
        unigram_entropy(&corpus.train),
        config.vocab,
        libm::log(config.vocab as f64),
        all.windows,
        100.0 * all_mlm,
        all.mlm_hits,
        100.0 * all_clm,
        all.clm_hits,
        page.mlm,
        page.clm,
        100.0 * page_mlm,
        100.0 * page_clm,
    );
    std::fs::write(out.join("REPORT.md"), &report).map_err(|e| format!("{out_dir}/REPORT.md: {e}"))?;
    eprintln!("{report}");
    Ok(())
}
