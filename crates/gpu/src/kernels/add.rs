//! Elementwise out += x, in place (`add.wgsl`): the residual connections of a transformer.

use engine::core::tensor::{shape_str, ShapeError};

use crate::device::Gpu;
use crate::kernel::{groups_for, uniform, Dispatch, Kernel};
use crate::tensor::GpuTensor;

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP: u32 = 64;

/// The add pipeline, compiled once.
#[derive(Clone, Debug)]
pub struct Add {
    kernel: Kernel,
}

impl Add {
    pub fn new(gpu: &Gpu) -> Add {
        Add { kernel: Kernel::new(gpu, "add", &[include_str!("add.wgsl")], "main") }
    }

    /// Binds out ← out + x for two tensors of the same shape.
    pub fn bind(&self, gpu: &Gpu, x: &GpuTensor, out: &GpuTensor) -> Result<Dispatch, ShapeError> {
        if x.shape != out.shape {
            return Err(ShapeError::new(format!(
                "add: {} and {} must have the same shape",
                shape_str(&x.shape),
                shape_str(&out.shape)
            )));
        }
        let len = x.len();
        let dims = uniform(gpu, "add dims", &(len as u32));
        Ok(self.kernel.bind(gpu, &[&dims, x, out], [groups_for(len, GROUP), 1, 1]))
    }
}
