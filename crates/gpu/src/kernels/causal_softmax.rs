//! Causal softmax for attention, forward and backward, in place (`causal_softmax.wgsl`):
//! scores are scaled, the future is masked out, and each row becomes a distribution over
//! the positions a query may look at. [`CausalSoftmax::bind_forward_masked`] takes the
//! engine's other masks too (`Attention::Bidirectional`, `Attention::SeesNext`) as one
//! uniform: how many keys past the query are visible.

use engine::core::tensor::{shape_str, ShapeError};
use engine::models::transformer::Attention;

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// Matches `struct Dims` in causal_softmax.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    seq_len: u32,
    scale: f32,
    /// Keys visible past the query: 0 causal, 1 sees-next, seq_len − 1 bidirectional.
    reach: u32,
}

/// The forward and backward pipelines, compiled once.
#[derive(Clone, Debug)]
pub struct CausalSoftmax {
    forward: Kernel,
    backward: Kernel,
}

impl CausalSoftmax {
    pub fn new(gpu: &Gpu) -> CausalSoftmax {
        let source = [include_str!("causal_softmax.wgsl")];
        CausalSoftmax {
            forward: Kernel::new(gpu, "causal softmax forward", &source, "forward"),
            backward: Kernel::new(gpu, "causal softmax backward", &source, "backward"),
        }
    }

    /// Binds scores ← causal softmax(scores·scale), in place. `scores` holds square
    /// `[seq_len, seq_len]` matrices one after another (shape `[.., seq_len]`, rows a
    /// multiple of seq_len).
    pub fn bind_forward(
        &self,
        gpu: &Gpu,
        scores: &GpuTensor,
        seq_len: usize,
        scale: f32,
    ) -> Result<Dispatch, ShapeError> {
        self.bind_forward_masked(gpu, scores, seq_len, scale, Attention::Causal)
    }

    /// Binds scores ← softmax(scores·scale + `attention`'s mask), in place, row by row:
    /// `Attention::mask` without building it. The backward pass is the same for every
    /// mask (a hidden key's weight is 0, so is its gradient).
    pub fn bind_forward_masked(
        &self,
        gpu: &Gpu,
        scores: &GpuTensor,
        seq_len: usize,
        scale: f32,
        attention: Attention,
    ) -> Result<Dispatch, ShapeError> {
        let mut dims = Self::dims(scores, seq_len, scale)?;
        dims.reach = match attention {
            Attention::Causal => 0,
            Attention::SeesNext => 1,
            Attention::Bidirectional => dims.seq_len - 1,
        };
        let rows = dims.rows as usize;
        let dims = uniform(gpu, "causal softmax dims", &dims);
        Ok(self.forward.bind(gpu, &[&dims, scores], [groups_for(rows, GROUP), 1, 1]))
    }

    /// Binds grad ← dL/dscores from grad = dL/dweights, in place, given the forward pass's
    /// weights `probs` (same shape).
    pub fn bind_backward(
        &self,
        gpu: &Gpu,
        probs: &GpuTensor,
        grad: &GpuTensor,
        seq_len: usize,
        scale: f32,
    ) -> Result<Dispatch, ShapeError> {
        let dims = Self::dims(probs, seq_len, scale)?;
        if grad.shape != probs.shape {
            return Err(ShapeError::new(format!(
                "causal softmax: gradient {} and weights {} must have the same shape",
                shape_str(&grad.shape),
                shape_str(&probs.shape)
            )));
        }
        let rows = dims.rows as usize;
        let dims = uniform(gpu, "causal softmax dims", &dims);
        Ok(self.backward.bind(gpu, &[&dims, grad, probs], [groups_for(rows, GROUP), 1, 1]))
    }

    fn dims(scores: &GpuTensor, seq_len: usize, scale: f32) -> Result<Dims, ShapeError> {
        let len = scores.len();
        if seq_len == 0 || !len.is_multiple_of(seq_len * seq_len) {
            return Err(ShapeError::new(format!(
                "causal softmax: scores {} are not whole [{seq_len}, {seq_len}] matrices",
                shape_str(&scores.shape)
            )));
        }
        Ok(Dims { rows: (len / seq_len) as u32, seq_len: seq_len as u32, scale, reach: 0 })
    }
}
