//! Chapter 3's XOR network on the seam: `engine::models::mlp::Mlp` on the CPU,
//! `gpu::GpuMlp` on the GPU, each chunk reading back the losses, the four predictions, the
//! decision surface and the weights.

use std::rc::Rc;

use engine::models::mlp::{Mlp, XorConfig, XOR_INPUTS};
use gpu::{Gpu, GpuMlp};

use super::machine::{CpuModel, GpuModel, Pending};

/// What the XOR trainer shows after a chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct XorReading {
    /// Each epoch's loss, in order.
    pub losses: Vec<f32>,
    /// The predictions for the four XOR inputs.
    pub predictions: Vec<f32>,
    /// The predictions over the decision-surface grid.
    pub surface: Vec<f32>,
    /// How many hidden units are dead (zero on all four inputs).
    pub dead: usize,
    /// The weights read back from the GPU (`None` on the CPU, which holds them already).
    pub weights: Option<Mlp>,
}

impl XorReading {
    /// What `net` shows, with the chunk's `losses`.
    fn of(net: &Mlp, grid: &[[f32; 2]], losses: Vec<f32>, weights: Option<Mlp>) -> XorReading {
        XorReading {
            losses,
            predictions: net.predict_many(&XOR_INPUTS),
            surface: net.predict_many(grid),
            dead: net.dead_hidden_units().iter().filter(|&&d| d).count(),
            weights,
        }
    }
}

/// The CPU side: the network, and the grid its decision surface is read on.
pub struct XorCpu {
    pub net: Mlp,
    grid: Rc<[[f32; 2]]>,
    epochs: u64,
}

impl XorCpu {
    /// A fresh network from `config`'s seed.
    pub fn new(config: XorConfig, grid: Rc<[[f32; 2]]>) -> XorCpu {
        XorCpu { net: Mlp::new(config), grid, epochs: 0 }
    }

    /// What the page shows before any training.
    pub fn reading(&self) -> XorReading {
        XorReading::of(&self.net, &self.grid, Vec::new(), None)
    }

    /// The GPU side, from the same initial weights.
    pub fn to_gpu(&self, gpu: &Gpu) -> XorGpu {
        XorGpu { net: GpuMlp::new(gpu, self.net.config), grid: self.grid.clone() }
    }
}

impl CpuModel for XorCpu {
    type Reading = XorReading;

    fn train(&mut self, steps: usize) -> Pending<XorReading> {
        let losses = self.net.train(steps);
        self.epochs += losses.len() as u64;
        let reading = XorReading::of(&self.net, &self.grid, losses, None);
        Box::pin(std::future::ready(Ok(reading)))
    }

    fn keep(&mut self, reading: &XorReading) {
        if let Some(weights) = &reading.weights {
            self.net = weights.clone();
            self.epochs += reading.losses.len() as u64;
        }
    }

    fn at(&self) -> u64 {
        self.epochs
    }
}

/// The GPU side: the network in WGSL kernels.
pub struct XorGpu {
    net: GpuMlp,
    grid: Rc<[[f32; 2]]>,
}

impl GpuModel<XorCpu> for XorGpu {
    fn train(&mut self, steps: usize, _cpu: &XorCpu) -> Pending<XorReading> {
        self.net.train(steps);
        let losses = self.net.read_losses();
        let predictions = self.net.read_predictions();
        let surface = self.net.predict_grid(&self.grid);
        let weights = self.net.weights();
        Box::pin(async move {
            let (losses, predictions, surface, weights) =
                (losses.await?, predictions.await?, surface.await?, weights.await?);
            let dead = weights.dead_hidden_units().iter().filter(|&&d| d).count();
            Ok(XorReading { losses, predictions, surface, dead, weights: Some(weights) })
        })
    }
}
