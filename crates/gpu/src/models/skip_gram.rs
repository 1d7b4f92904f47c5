//! Chapter 9's skip-gram with negative sampling on the GPU: the model of
//! `engine::models::skip_gram`, trained in minibatches as `SkipGram::apply_batched` trains it.
//!
//! The engine still draws every pair: `Sampler::draw` reads the subsampled text, picks the
//! noise words and the learning rate, from its seeded generator, so both sides train on the
//! same pairs in the same order. [`GpuSkipGram::train`] takes one chunk of them, lists for
//! each minibatch which rows it touches and which pairs touch each row (the [`Plan`]), uploads
//! that, and queues every minibatch's four launches in one submit. Nothing is read back until
//! the page asks: [`GpuSkipGram::read_loss`] (the chunk's mean loss per pair) and
//! [`GpuSkipGram::read_weights`] (both tables, to show neighbours or to go on on the CPU).
//!
//! Why minibatches: on a CPU, word2vec moves the rows of one pair before it reads the next.
//! A GPU reads thousands of pairs at once, and they share rows (a common word is a noise word
//! dozens of times in a thousand pairs), so it scores a whole minibatch at the same weights
//! and moves each row once by the sum of its pairs' gradients, added in the pairs' order:
//! deterministic, and the same arithmetic as the engine's `apply_batched`.

use std::future::Future;
use std::ops::Range;

use engine::core::tensor::ShapeError;
use engine::models::skip_gram::{Samples, SkipGram};

use crate::device::{Gpu, GpuError};
use crate::kernel::Dispatch;
use crate::kernels::skip_gram::{Layout, SkipGramKernels};
use crate::tensor::{read_back_from, GpuIndices, GpuTensor};

/// Rows touched by one minibatch, grouped: `rows[i]` is touched by `items[starts[i]..starts[i + 1]]`
/// (pair or slot indices of the chunk, in order). The groups of successive minibatches follow
/// one another, so `starts` has one more entry than `rows`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups {
    pub rows: Vec<u32>,
    pub starts: Vec<u32>,
    pub items: Vec<u32>,
}

impl Groups {
    /// Adds the groups of `keys[range]` (item i touches row keys[i]): rows in the order they
    /// first appear, each row's items in order. `slot_of` maps a row to its place in this
    /// minibatch (`u32::MAX` when not yet seen); it is left all `u32::MAX` again.
    fn add(&mut self, keys: &[u32], range: Range<usize>, slot_of: &mut [u32]) -> Range<usize> {
        let first_row = self.rows.len();
        let mut counts: Vec<u32> = Vec::new();
        for &row in &keys[range.clone()] {
            let slot = &mut slot_of[row as usize];
            if *slot == u32::MAX {
                *slot = counts.len() as u32;
                self.rows.push(row);
                counts.push(0);
            }
            counts[*slot as usize] += 1;
        }
        // Each row's items start where the previous row's end.
        let mut next: Vec<u32> = Vec::with_capacity(counts.len());
        let mut at = self.items.len() as u32;
        for count in counts {
            self.starts.push(at);
            next.push(at);
            at += count;
        }
        self.items.resize(at as usize, 0);
        for i in range {
            let slot = slot_of[keys[i] as usize] as usize;
            self.items[next[slot] as usize] = i as u32;
            next[slot] += 1;
        }
        for &row in &self.rows[first_row..] {
            slot_of[row as usize] = u32::MAX;
        }
        first_row..self.rows.len()
    }

    /// Closes the list: the end of the last row's items.
    fn finish(&mut self) {
        self.starts.push(self.items.len() as u32);
    }
}

/// What one chunk uploads besides the pairs themselves: per minibatch (first pair, pairs,
/// first centre row, centre rows, first context row, context rows), and the row groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub batches: Vec<[u32; 6]>,
    /// Centre rows; the items are pair indices.
    pub centres: Groups,
    /// Context rows; the items are slot indices (pair·slots + target).
    pub contexts: Groups,
}

impl Plan {
    /// Groups `samples` into minibatches of `batch` pairs over a vocabulary of `vocab` words.
    pub fn new(samples: &Samples, batch: usize, vocab: usize) -> Plan {
        let mut plan = Plan::default();
        let mut slot_of = vec![u32::MAX; vocab];
        let slots = samples.slots;
        for first in (0..samples.pairs()).step_by(batch.max(1)) {
            let pairs = first..(first + batch.max(1)).min(samples.pairs());
            let c = plan.centres.add(&samples.centres, pairs.clone(), &mut slot_of);
            let x = plan.contexts.add(&samples.targets, pairs.start * slots..pairs.end * slots, &mut slot_of);
            let len = |r: &Range<usize>| (r.end - r.start) as u32;
            plan.batches.push([
                pairs.start as u32,
                len(&pairs),
                c.start as u32,
                len(&c),
                x.start as u32,
                len(&x),
            ]);
        }
        plan.centres.finish();
        plan.contexts.finish();
        plan
    }
}

/// The skip-gram model on the GPU.
#[derive(Debug)]
pub struct GpuSkipGram {
    gpu: Gpu,
    /// Pairs per minibatch.
    pub batch: usize,
    /// The most pairs one chunk may hold.
    pub capacity: usize,
    dim: usize,
    vocab: usize,
    slots: usize,
    layout: Layout,
    /// Chunk header (pairs, minibatches), minibatch table, pairs and row groups, as u32.
    plan: GpuIndices,
    /// Each slot's g and loss, one minibatch's centre gradients, the chunk's mean loss.
    scratch: GpuTensor,
    /// The centre vectors, then the context vectors, each `[vocab, dim]`.
    params: GpuTensor,
    /// The four launches of each minibatch a chunk can hold, built once.
    batches: Vec<[Dispatch; 4]>,
    mean: Dispatch,
    /// Pairs trained so far.
    pub pairs: u64,
}

impl GpuSkipGram {
    /// `model`'s weights on the GPU, trained in minibatches of `batch` pairs, in chunks of up
    /// to `capacity` pairs (a chunk of n positions gives at most 2·window·n).
    pub fn new(
        gpu: &Gpu,
        model: &SkipGram,
        batch: usize,
        capacity: usize,
    ) -> Result<GpuSkipGram, ShapeError> {
        if batch == 0 || capacity == 0 {
            return Err(ShapeError::new(
                "skip-gram on the GPU: minibatches and chunks need at least one pair",
            ));
        }
        let (dim, vocab, slots) = (model.config.dim, model.vocab(), model.config.negatives + 1);
        let minibatches = capacity.div_ceil(batch);
        let mut at = 0u32;
        let mut section = |len: usize| {
            let start = at;
            at += len as u32;
            start
        };
        let (p, ps) = (capacity, capacity * slots);
        let _header = section(4);
        let mut layout = Layout {
            dim: dim as u32,
            slots: slots as u32,
            vocab: vocab as u32,
            batches_at: section(6 * minibatches),
            centres_at: section(p),
            targets_at: section(ps),
            rates_at: section(p),
            centre_rows_at: section(p),
            centre_starts_at: section(p + 1),
            centre_items_at: section(p),
            context_rows_at: section(ps),
            context_starts_at: section(ps + 1),
            context_items_at: section(ps),
            ..Layout::default()
        };
        let plan = GpuIndices::zeros(gpu, "skip-gram plan", at as usize);
        let mut at = 0u32;
        let mut section = |len: usize| {
            let start = at;
            at += len as u32;
            start
        };
        layout.g_at = section(ps);
        layout.loss_at = section(ps);
        layout.delta_at = section(batch.min(vocab) * dim);
        layout.mean_at = section(1);
        let scratch = GpuTensor::zeros(gpu, "skip-gram scratch", &[at as usize]);
        let params = GpuTensor::zeros(gpu, "skip-gram weights", &[2, vocab, dim]);
        let weights: Vec<f32> = model.centre.iter().chain(&model.context).copied().collect();
        gpu.queue.write_buffer(params.buffer(), 0, bytemuck::cast_slice(&weights));
        let kernels = SkipGramKernels::new(gpu);
        let batches = (0..minibatches as u32)
            .map(|b| kernels.bind_batch(gpu, Layout { batch: b, ..layout }, batch, &plan, &scratch, &params))
            .collect();
        let mean = kernels.bind_mean(gpu, layout, &plan, &scratch);
        Ok(GpuSkipGram {
            gpu: gpu.clone(),
            batch,
            capacity,
            dim,
            vocab,
            slots,
            layout,
            plan,
            scratch,
            params,
            batches,
            mean,
            pairs: 0,
        })
    }

    /// Queues one chunk of pairs (drawn by the engine's `Sampler::draw`): uploads them with
    /// their [`Plan`] and submits every minibatch's launches and the mean loss at once. An
    /// error, before anything is queued, for pairs that do not fit the model or the capacity.
    pub fn train(&mut self, samples: &Samples) -> Result<(), ShapeError> {
        let pairs = samples.pairs();
        if samples.slots != self.slots
            || samples.targets.len() != pairs * self.slots
            || samples.rates.len() != pairs
            || pairs > self.capacity
        {
            return Err(ShapeError::new(format!(
                "skip-gram on the GPU: {pairs} pairs of {} targets do not fit a chunk of at most {} pairs of {}",
                samples.slots, self.capacity, self.slots
            )));
        }
        if let Some(word) =
            samples.centres.iter().chain(&samples.targets).find(|&&w| w as usize >= self.vocab)
        {
            return Err(ShapeError::new(format!(
                "skip-gram on the GPU: word id {word} is outside the vocabulary of {}",
                self.vocab
            )));
        }
        let plan = Plan::new(samples, self.batch, self.vocab);
        let l = self.layout;
        let rates: Vec<u32> = samples.rates.iter().map(|r| r.to_bits()).collect();
        let table: Vec<u32> = plan.batches.concat();
        let header = [pairs as u32, plan.batches.len() as u32];
        let sections: [(u32, &[u32]); 11] = [
            (0, &header),
            (l.batches_at, &table),
            (l.centres_at, &samples.centres),
            (l.targets_at, &samples.targets),
            (l.rates_at, &rates),
            (l.centre_rows_at, &plan.centres.rows),
            (l.centre_starts_at, &plan.centres.starts),
            (l.centre_items_at, &plan.centres.items),
            (l.context_rows_at, &plan.contexts.rows),
            (l.context_starts_at, &plan.contexts.starts),
            (l.context_items_at, &plan.contexts.items),
        ];
        for (at, words) in sections {
            if !words.is_empty() {
                self.gpu.queue.write_buffer(self.plan.buffer(), 4 * at as u64, bytemuck::cast_slice(words));
            }
        }
        let mut dispatches: Vec<&Dispatch> = self.batches[..plan.batches.len()].iter().flatten().collect();
        dispatches.push(&self.mean);
        self.gpu.run(&dispatches);
        self.pairs += pairs as u64;
        Ok(())
    }

    /// How many launches a chunk of `pairs` pairs records: four per minibatch, and the mean
    /// loss.
    pub fn launches(&self, pairs: usize) -> usize {
        4 * pairs.div_ceil(self.batch) + 1
    }

    /// The latest chunk's mean loss per pair (what `SkipGram::apply_batched` returns).
    pub fn read_loss(&self) -> impl Future<Output = Result<f32, GpuError>> + 'static {
        let loss = read_back_from(&self.gpu, self.scratch.buffer(), 4 * self.layout.mean_at as u64, 1);
        async move { Ok(loss.await?[0]) }
    }

    /// The centre and the context vectors, each `[vocab, dim]` row-major, as the engine's
    /// `SkipGram::centre` and `SkipGram::context` hold them.
    pub fn read_weights(&self) -> impl Future<Output = Result<(Vec<f32>, Vec<f32>), GpuError>> + 'static {
        let len = self.vocab * self.dim;
        let both = read_back_from(&self.gpu, self.params.buffer(), 0, 2 * len);
        async move {
            let mut centre = both.await?;
            let context = centre.split_off(len);
            Ok((centre, context))
        }
    }

    /// The GPU this model runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_groups_each_minibatchs_rows_in_order() {
        // Three pairs of two slots, in minibatches of two pairs.
        let samples = Samples {
            slots: 2,
            centres: vec![4, 1, 4],
            targets: vec![0, 2, 2, 0, 3, 3],
            rates: vec![0.1; 3],
        };
        let plan = Plan::new(&samples, 2, 5);
        assert_eq!(plan.batches, vec![[0, 2, 0, 2, 0, 2], [2, 1, 2, 1, 2, 1]]);
        // Minibatch 0: centre 4 (pair 0), centre 1 (pair 1); minibatch 1: centre 4 (pair 2).
        assert_eq!(
            plan.centres,
            Groups { rows: vec![4, 1, 4], starts: vec![0, 1, 2, 3], items: vec![0, 1, 2] }
        );
        // Minibatch 0: row 0 from slots 0 and 3, row 2 from slots 1 and 2; minibatch 1: row 3
        // from slots 4 and 5.
        assert_eq!(
            plan.contexts,
            Groups { rows: vec![0, 2, 3], starts: vec![0, 2, 4, 6], items: vec![0, 3, 1, 2, 4, 5] }
        );
    }
}
