//! Skip-gram with negative sampling, a minibatch at a time, without atomics
//! (`skip_gram.wgsl`): score every (pair, target) slot, sum each touched row's gradient from
//! the list of slots that touch it, move each row once. The lists are laid out by
//! [`crate::models::skip_gram`]; this file knows only where each section of them starts.

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::{GpuIndices, GpuTensor};

/// Matches `struct Settings` in skip_gram.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Layout {
    /// Which minibatch of the chunk a launch works on (set by [`SkipGramKernels::bind_batch`]).
    pub batch: u32,
    pub dim: u32,
    /// Targets per pair: 1 + the noise words.
    pub slots: u32,
    pub vocab: u32,
    /// Where each section of the plan (u32) starts.
    pub batches_at: u32,
    pub centres_at: u32,
    pub targets_at: u32,
    pub rates_at: u32,
    pub centre_rows_at: u32,
    pub centre_starts_at: u32,
    pub centre_items_at: u32,
    pub context_rows_at: u32,
    pub context_starts_at: u32,
    pub context_items_at: u32,
    /// Where each section of the scratch buffer (f32) starts.
    pub g_at: u32,
    pub loss_at: u32,
    pub delta_at: u32,
    pub mean_at: u32,
    pub pad: [u32; 2],
}

/// The five entry points, compiled once.
#[derive(Clone, Debug)]
pub struct SkipGramKernels {
    score: Kernel,
    centre_gradients: Kernel,
    update_contexts: Kernel,
    update_centres: Kernel,
    mean_loss: Kernel,
}

/// Invocations per workgroup (`@workgroup_size` of every entry point).
const GROUP: u32 = 64;

impl SkipGramKernels {
    pub fn new(gpu: &Gpu) -> SkipGramKernels {
        let source = [include_str!("math.wgsl"), include_str!("reduce.wgsl"), include_str!("skip_gram.wgsl")];
        let kernel = |entry| Kernel::new(gpu, "skip-gram", &source, entry);
        SkipGramKernels {
            score: kernel("score"),
            centre_gradients: kernel("centre_gradients"),
            update_contexts: kernel("update_contexts"),
            update_centres: kernel("update_centres"),
            mean_loss: kernel("mean_loss"),
        }
    }

    /// The four launches of minibatch `layout.batch` of a chunk, in order, for minibatches
    /// of up to `batch_pairs` pairs. `params` is [centre vectors; context vectors], each
    /// `[vocab, dim]`.
    pub fn bind_batch(
        &self,
        gpu: &Gpu,
        layout: Layout,
        batch_pairs: usize,
        plan: &GpuIndices,
        scratch: &GpuTensor,
        params: &GpuTensor,
    ) -> [Dispatch; 4] {
        let settings = uniform(gpu, "skip-gram settings", &layout);
        let buffers: [&dyn crate::kernel::Binding; 4] = [&settings, plan, scratch, params];
        let (dim, slots, vocab) = (layout.dim as usize, layout.slots as usize, layout.vocab as usize);
        // A minibatch touches at most one centre row per pair and one context row per slot,
        // and never more rows than there are words.
        let centre_rows = batch_pairs.min(vocab);
        let context_rows = (batch_pairs * slots).min(vocab);
        [
            self.score.bind(gpu, &buffers, [groups_for(batch_pairs * slots, GROUP), 1, 1]),
            self.centre_gradients.bind(gpu, &buffers, [groups_for(centre_rows * dim, GROUP), 1, 1]),
            self.update_contexts.bind(gpu, &buffers, [groups_for(context_rows * dim, GROUP), 1, 1]),
            self.update_centres.bind(gpu, &buffers, [groups_for(centre_rows * dim, GROUP), 1, 1]),
        ]
    }

    /// The chunk's mean loss per pair, into `scratch[layout.mean_at]`: one workgroup.
    pub fn bind_mean(&self, gpu: &Gpu, layout: Layout, plan: &GpuIndices, scratch: &GpuTensor) -> Dispatch {
        let settings = uniform(gpu, "skip-gram settings", &layout);
        self.mean_loss.bind(gpu, &[&settings, plan, scratch], [1, 1, 1])
    }
}
