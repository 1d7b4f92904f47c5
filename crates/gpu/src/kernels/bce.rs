//! Binary cross-entropy with logits: the loss value and dL/dz in one pass (`bce.wgsl`).

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Matches `struct Settings` in bce.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Settings {
    len: u32,
}

/// The BCE pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct Bce {
    kernel: Kernel,
}

impl Bce {
    pub fn new(gpu: &Gpu) -> Bce {
        let source = [include_str!("math.wgsl"), include_str!("reduce.wgsl"), include_str!("bce.wgsl")];
        Bce { kernel: Kernel::new(gpu, "bce", &source, "main") }
    }

    /// Binds loss ← mean BCE(logits, targets) and grad ← dL/dlogits. `loss` has one element;
    /// `targets` and `grad` have the shape of `logits`.
    pub fn bind(
        &self,
        gpu: &Gpu,
        logits: &GpuTensor,
        targets: &GpuTensor,
        loss: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<Dispatch, ShapeError> {
        if targets.shape != logits.shape || grad.shape != logits.shape || loss.len() != 1 {
            return Err(ShapeError::new(format!(
                "bce_with_logits: logits {}, targets {} and gradient {} must have one shape, \
                 and the loss {} one element",
                shape_str(&logits.shape),
                shape_str(&targets.shape),
                shape_str(&grad.shape),
                shape_str(&loss.shape)
            )));
        }
        let settings = Settings { len: logits.len() as u32 };
        let settings = uniform(gpu, "bce settings", &settings);
        // A single workgroup: see the note at the top of bce.wgsl.
        Ok(self.kernel.bind(gpu, &[&settings, logits, targets, loss, grad], [1, 1, 1]))
    }
}
