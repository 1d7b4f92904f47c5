//! Chapter 5's KV-cache race: the same greedy text written with and without the cache, each
//! step's multiply-adds from the decoder's own tally and its time from a clock the caller
//! passes in (the browser's, or a fake one in tests), so the lab knows nothing of the page.

use crate::core::rng::Rng;
use crate::models::generate::{Decoder, Decoding};
use crate::models::transformer::{Result, Transformer};

/// One decoding run: the tokens it wrote and, per step, its cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub tokens: Vec<usize>,
    /// Multiply-adds counted for each step's logits.
    pub multiply_adds: Vec<u64>,
    /// Milliseconds each step took (median over the repeats).
    pub millis: Vec<f64>,
}

impl Run {
    /// Multiply-adds over the whole run.
    pub fn total_multiply_adds(&self) -> u64 {
        self.multiply_adds.iter().sum()
    }

    /// Milliseconds over the whole run.
    pub fn total_millis(&self) -> f64 {
        self.millis.iter().sum()
    }
}

/// The middle value (the upper one of the two middles for an even count); 0 for no values.
/// A median ignores the odd slow reading a busy machine's clock gives.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Generates `count` greedy tokens after `prompt`, with or without a cache, `repeats` times,
/// timing each step with `clock` (milliseconds); each step's time is the median over the
/// repeats.
pub fn timed_run(
    model: &Transformer,
    prompt: &[usize],
    count: usize,
    use_cache: bool,
    repeats: usize,
    clock: &mut dyn FnMut() -> f64,
) -> Result<Run> {
    let mut times = vec![Vec::with_capacity(repeats); count];
    let mut run = Run { tokens: vec![], multiply_adds: vec![], millis: vec![] };
    for repeat in 0..repeats.max(1) {
        let mut decoder = Decoder::new(model, prompt, use_cache)?;
        let mut rng = Rng::new(0);
        let (mut tokens, mut counts) = (vec![], vec![]);
        for step in 0..count {
            let started = clock();
            let (token, _) = Decoding::Greedy.choose(decoder.logits(), &mut rng)?;
            decoder.push(model, token)?;
            times[step].push(clock() - started);
            tokens.push(token);
            counts.push(decoder.last_step_multiply_adds());
        }
        if repeat == 0 {
            run.tokens = tokens;
            run.multiply_adds = counts;
        }
    }
    run.millis = times.into_iter().map(median).collect();
    Ok(run)
}

/// The two runs of one race.
#[derive(Clone, Debug, PartialEq)]
pub struct KvRace {
    pub uncached: Run,
    pub cached: Run,
}

impl KvRace {
    /// Runs the race: without the cache first, then with it.
    pub fn run(
        model: &Transformer,
        prompt: &[usize],
        count: usize,
        repeats: usize,
        clock: &mut dyn FnMut() -> f64,
    ) -> Result<KvRace> {
        let uncached = timed_run(model, prompt, count, false, repeats, clock)?;
        let cached = timed_run(model, prompt, count, true, repeats, clock)?;
        Ok(KvRace { uncached, cached })
    }

    /// Whether both ways wrote the same tokens (greedy decoding must).
    pub fn same_text(&self) -> bool {
        self.cached.tokens == self.uncached.tokens
    }

    /// How many times more multiply-adds the uncached run did.
    pub fn work_ratio(&self) -> f64 {
        self.uncached.total_multiply_adds() as f64 / self.cached.total_multiply_adds().max(1) as f64
    }

    /// How many times longer the uncached run took.
    pub fn time_ratio(&self) -> f64 {
        self.uncached.total_millis() / self.cached.total_millis().max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::transformer::{Activation, Norm, TransformerConfig};

    #[test]
    fn both_ways_write_the_same_text_and_the_cache_does_less_work() {
        let config = TransformerConfig {
            vocab: 7,
            context: 16,
            d_model: 8,
            n_heads: 2,
            n_layers: 2,
            d_ff: 16,
            norm: Norm::Pre,
            activation: Activation::Gelu,
            eps: 1e-5,
        };
        let model = Transformer::new(config, 3).unwrap();
        let mut t = 0.0;
        let mut clock = move || {
            t += 1.0;
            t
        };
        let uncached = timed_run(&model, &[1, 2], 10, false, 3, &mut clock).unwrap();
        let cached = timed_run(&model, &[1, 2], 10, true, 3, &mut clock).unwrap();
        assert_eq!(uncached.tokens, cached.tokens);
        assert_eq!(cached.millis, vec![1.0; 10], "the fake clock ticks once per reading");
        assert!(uncached.total_multiply_adds() > 3 * cached.total_multiply_adds());
        // Step costs: constant-ish with the cache, growing without.
        assert!(uncached.multiply_adds[9] > uncached.multiply_adds[0]);

        let race = KvRace { uncached, cached };
        assert!(race.same_text());
        assert!(race.work_ratio() > 3.0);
        assert_eq!(race.time_ratio(), 1.0, "one tick a step both ways");
        let raced = KvRace::run(&model, &[1, 2], 10, 3, &mut clock).unwrap();
        assert_eq!(raced.cached.tokens, race.cached.tokens);
    }

    #[test]
    fn medians_take_the_middle_reading() {
        assert_eq!(median(vec![3.0, 1.0, 100.0]), 3.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 3.0, "the upper middle of an even count");
        assert_eq!(median(vec![]), 0.0);
    }
}
