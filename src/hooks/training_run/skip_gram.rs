//! Chapter 9's skip-gram on the seam: `engine::models::skip_gram::SkipGram` on the CPU, one
//! pair at a time as word2vec trains; `gpu::GpuSkipGram` on the GPU, in minibatches of
//! [`GPU_BATCH`] pairs whose gradients are summed per row. The CPU side's sampler draws the
//! pairs either way, and on the GPU path it takes in each chunk's sampler and weights, so a
//! lost device hands the run to the CPU exactly where the last chunk read back left it.

use std::rc::Rc;

use engine::models::skip_gram::{Corpus, Sampler, SkipGram};
use gpu::{Gpu, GpuSkipGram};

use super::machine::{CpuModel, DeviceLost, GpuModel, Pending};

/// Pairs per GPU minibatch: every pair of a minibatch is scored at the same weights.
pub const GPU_BATCH: usize = 1024;

/// Where a run stands after a chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub epochs: usize,
    pub position: usize,
    pub pairs: u64,
    pub pass_len: usize,
}

impl Progress {
    fn of(sampler: &Sampler) -> Progress {
        Progress {
            epochs: sampler.epochs,
            position: sampler.position,
            pairs: sampler.pairs_seen,
            pass_len: sampler.pass_len(),
        }
    }
}

/// What a GPU chunk read back: the sampler after the chunk (drawn on the CPU) and the centre
/// and context vectors from the GPU.
#[derive(Debug)]
pub struct ReadBack {
    pub sampler: Sampler,
    pub centre: Vec<f32>,
    pub context: Vec<f32>,
}

/// What one chunk hands back.
#[derive(Clone, Debug)]
pub struct SkipGramReading {
    /// The chunk's mean loss per pair.
    pub loss: f32,
    pub progress: Progress,
    /// On the GPU, what was read back (the CPU side holds its own).
    pub state: Option<Rc<ReadBack>>,
}

/// The CPU side: the text and the model.
pub struct SkipGramCpu {
    pub corpus: Rc<Corpus>,
    pub model: SkipGram,
}

impl SkipGramCpu {
    /// Where the run stands.
    pub fn progress(&self) -> Progress {
        Progress::of(&self.model.sampler)
    }

    /// The GPU side, from the current weights, for chunks of up to `positions` words.
    pub fn to_gpu(&self, gpu: &Gpu, positions: usize) -> Result<SkipGramGpu, String> {
        let capacity = 2 * self.model.config.window * positions;
        let net = GpuSkipGram::new(gpu, &self.model, GPU_BATCH, capacity).map_err(|e| e.to_string())?;
        Ok(SkipGramGpu { net })
    }
}

impl CpuModel for SkipGramCpu {
    type Reading = SkipGramReading;

    /// `steps` is the number of words (positions) of the text to read.
    fn train(&mut self, steps: usize) -> Pending<SkipGramReading> {
        let loss = self.model.train(&self.corpus, steps);
        let reading = SkipGramReading { loss, progress: self.progress(), state: None };
        Box::pin(std::future::ready(Ok(reading)))
    }

    fn keep(&mut self, reading: &SkipGramReading) {
        if let Some(state) = &reading.state {
            self.model.sampler = state.sampler.clone();
            self.model.centre.clone_from(&state.centre);
            self.model.context.clone_from(&state.context);
        }
    }

    fn at(&self) -> u64 {
        self.model.sampler.pairs_seen
    }
}

/// The GPU side: the weights in a GPU buffer, trained by WGSL kernels.
pub struct SkipGramGpu {
    net: GpuSkipGram,
}

impl GpuModel<SkipGramCpu> for SkipGramGpu {
    /// Draws the next `steps` words' pairs from a copy of the CPU side's sampler, queues them,
    /// and reads back the chunk's loss and the weights.
    fn train(&mut self, steps: usize, cpu: &SkipGramCpu) -> Pending<SkipGramReading> {
        let mut sampler = cpu.model.sampler.clone();
        let samples = sampler.draw(&cpu.corpus, steps);
        if let Err(e) = self.net.train(&samples) {
            // Chunks are sized for the window when the run starts, so this cannot happen.
            return Box::pin(std::future::ready(Err(DeviceLost(e.to_string()))));
        }
        let (loss, weights) = (self.net.read_loss(), self.net.read_weights());
        let progress = Progress::of(&sampler);
        Box::pin(async move {
            let (loss, (centre, context)) = (loss.await?, weights.await?);
            Ok(SkipGramReading {
                loss,
                progress,
                state: Some(Rc::new(ReadBack { sampler, centre, context })),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::training_run::machine::{ready_now, Landed, Run};
    use engine::models::skip_gram::SkipGramConfig;

    fn cpu() -> SkipGramCpu {
        let corpus = Corpus::new(&"the king and the queen and the fool and the king ".repeat(20), 6).unwrap();
        let config =
            SkipGramConfig { dim: 8, window: 2, negatives: 2, subsample: 1.0, ..SkipGramConfig::default() };
        let model = SkipGram::new(&corpus, config).unwrap();
        SkipGramCpu { corpus: Rc::new(corpus), model }
    }

    /// A stand-in for the GPU: the engine's minibatched SGD on a copy of the model, read back
    /// whole after each chunk, until the device is "lost" on chunk `lost_on`.
    struct SimulatedGpu {
        model: SkipGram,
        chunks: usize,
        lost_on: usize,
    }

    impl GpuModel<SkipGramCpu> for SimulatedGpu {
        fn train(&mut self, steps: usize, cpu: &SkipGramCpu) -> Pending<SkipGramReading> {
            self.chunks += 1;
            if self.chunks == self.lost_on {
                return Box::pin(std::future::ready(Err(DeviceLost("the driver was reset".into()))));
            }
            let mut sampler = cpu.model.sampler.clone();
            let samples = sampler.draw(&cpu.corpus, steps);
            let loss = self.model.apply_batched(&samples, GPU_BATCH);
            let state = Some(Rc::new(ReadBack {
                sampler: sampler.clone(),
                centre: self.model.centre.clone(),
                context: self.model.context.clone(),
            }));
            Box::pin(std::future::ready(Ok(SkipGramReading {
                loss,
                progress: Progress::of(&sampler),
                state,
            })))
        }
    }

    #[test]
    fn gpu_chunks_move_the_cpu_sides_sampler_and_weights_and_a_lost_device_hands_over() {
        let start = cpu();
        let gpu = SimulatedGpu { model: start.model.clone(), chunks: 0, lost_on: 3 };
        let mut run = Run::new(start, Some(gpu));
        let mut pairs = Vec::new();
        for _ in 0..4 {
            let (ticket, pending) = run.start(20).unwrap();
            let Ok(answer) = ready_now(pending) else { panic!("answers at once") };
            match run.land(ticket, answer) {
                Landed::Read(reading) => pairs.push(reading.progress.pairs),
                Landed::HandedOver { at, .. } => assert_eq!(Some(&at), pairs.last()),
                Landed::Stale => panic!("nothing else is out"),
            }
        }
        // Two GPU chunks, the third lost, the fourth on the CPU from where the second left.
        assert_eq!(pairs.len(), 3);
        assert!(pairs[0] > 0 && pairs[1] > pairs[0] && pairs[2] > pairs[1]);
        let mut alone = cpu();
        alone.model.sampler.draw(&alone.corpus, 20);
        alone.model.sampler.draw(&alone.corpus, 20);
        alone.model.sampler.draw(&alone.corpus, 20);
        assert_eq!(run.cpu().model.sampler.pairs_seen, alone.model.sampler.pairs_seen);
    }
}
