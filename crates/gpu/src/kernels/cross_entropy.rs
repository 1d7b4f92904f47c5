//! Cross-entropy over rows of logits against target classes: the mean loss and dL/dlogits
//! in one launch (`cross_entropy.wgsl`). A language model's loss: one row per position,
//! the target being the next token; a masked LM's: the chosen positions only, the others'
//! targets being [`NOT_GRADED`] (the mean is over the graded rows).

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{uniform, Dispatch, Kernel};
use crate::tensor::{GpuIndices, GpuTensor};

/// A target that grades nothing: the row adds no loss and gets no gradient
/// (`engine::labs::masked_lm::NOT_A_TARGET` as uploaded, `usize::MAX as u32`).
pub const NOT_GRADED: u32 = u32::MAX;

/// Matches `struct Dims` in cross_entropy.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    rows: u32,
    classes: u32,
}

/// The cross-entropy pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    kernel: Kernel,
}

impl CrossEntropy {
    pub fn new(gpu: &Gpu) -> CrossEntropy {
        let source = [include_str!("reduce.wgsl"), include_str!("cross_entropy.wgsl")];
        CrossEntropy { kernel: Kernel::new(gpu, "cross entropy", &source, "main") }
    }

    /// Binds loss ← mean cross-entropy and grad ← dL/dlogits, for `logits` `[rows, classes]`,
    /// one target per row (each below `classes` or [`NOT_GRADED`]: the caller checks), `loss` of one element
    /// and `grad` shaped like `logits`.
    pub fn bind(
        &self,
        gpu: &Gpu,
        logits: &GpuTensor,
        targets: &GpuIndices,
        loss: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        let [rows, classes] = logits.shape[..] else {
            return Err(ShapeError::new(format!(
                "cross_entropy: expected logits [rows, classes], got {}",
                shape_str(&logits.shape)
            )));
        };
        if targets.len() != rows || grad.shape != logits.shape || loss.len() != 1 {
            return Err(ShapeError::new(format!(
                "cross_entropy: logits {} need {rows} targets (got {}), a gradient of their \
                 shape (got {}) and a one-element loss (got {})",
                shape_str(&logits.shape),
                targets.len(),
                shape_str(&grad.shape),
                shape_str(&loss.shape)
            )));
        }
        let dims = Dims { rows: rows as u32, classes: classes as u32 };
        let dims = uniform(gpu, "cross entropy dims", &dims);
        // A single workgroup: see the note at the top of cross_entropy.wgsl.
        Ok(self.kernel.bind(gpu, &[&dims, logits, targets, loss, grad], [1, 1, 1]))
    }
}
