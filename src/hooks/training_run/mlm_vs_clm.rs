//! Chapter 6's race of objectives on the seam: `engine::labs::mlm_vs_clm::Race` on the CPU,
//! one `gpu::GpuTransformer` per model (MLM, CLM, and the leaky one if asked) on the GPU.
//! The CPU side's race is the record either way: it draws every batch, and on the GPU path
//! it takes in each chunk's losses and weights (`Race::record_steps`) and runs the held-out
//! checks, so both backends start from the same weights and see the same batches.

use engine::labs::mlm_vs_clm::{Objective, Race, Trained};
use gpu::{Gpu, GpuTransformer, TrainSettings};

use super::machine::{CpuModel, DeviceLost, GpuModel, Pending};

/// What a GPU chunk read back: each model's losses and weights (none for a chunk that had
/// nothing left to do). The CPU path records into its race directly and hands back `None`.
pub type MlmReading = Option<Trained>;

/// The CPU side: the race, trained a time budget at a time.
pub struct MlmCpu {
    pub race: Race,
    /// Milliseconds of training per chunk on the CPU (at least one step runs).
    budget_ms: f64,
    clock: fn() -> f64,
    /// Why training stopped, once it has (a divergence, or a GPU chunk that did not fit).
    pub error: Option<String>,
}

impl MlmCpu {
    /// `race`, stepped for `budget_ms` of `clock` per CPU chunk.
    pub fn new(race: Race, budget_ms: f64, clock: fn() -> f64) -> MlmCpu {
        MlmCpu { race, budget_ms, clock, error: None }
    }

    /// The GPU side: each model of the race, from its current weights, with its recipe.
    pub fn to_gpu(&self, gpu: &Gpu) -> Result<MlmGpu, String> {
        let race = &self.race;
        let mut models = vec![(Objective::Mlm, &race.mlm.model), (Objective::Clm, &race.clm.model)];
        if let Some(l) = &race.leaky {
            models.push((Objective::Leaky, &l.model));
        }
        let nets = models
            .into_iter()
            .map(|(o, m)| GpuTransformer::new(gpu, m, TrainSettings::for_race(race, o)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(MlmGpu { nets })
    }
}

impl CpuModel for MlmCpu {
    type Reading = MlmReading;

    fn train(&mut self, steps: usize) -> Pending<MlmReading> {
        if self.error.is_none() && !self.race.finished() {
            let mut clock = self.clock;
            if let Err(e) = self.race.train_for(self.budget_ms, steps as u64, &mut clock) {
                self.error = Some(e.to_string());
            }
        }
        Box::pin(std::future::ready(Ok(None)))
    }

    fn keep(&mut self, reading: &MlmReading) {
        if let Some(done) = reading {
            if let Err(e) = self.race.record_steps(done.clone()) {
                self.error = Some(e.to_string());
            }
        }
    }

    fn at(&self) -> u64 {
        self.race.steps()
    }
}

/// The GPU side: the race's models in WGSL kernels, [MLM, CLM, leaky?].
pub struct MlmGpu {
    nets: Vec<GpuTransformer>,
}

impl GpuModel<MlmCpu> for MlmGpu {
    /// Queues the race's next batches (up to `steps`, stopping at the next held-out check)
    /// on every model, then reads back their losses and weights.
    fn train(&mut self, steps: usize, cpu: &MlmCpu) -> Pending<MlmReading> {
        let batches = if cpu.error.is_some() { vec![] } else { cpu.race.upcoming(steps as u64) };
        if batches.is_empty() {
            return Box::pin(std::future::ready(Ok(None)));
        }
        let (clm, mlm): (Vec<_>, Vec<_>) = batches.into_iter().unzip();
        let mut reads = vec![];
        for (i, net) in self.nets.iter_mut().enumerate() {
            let queued = net.train(if i == 0 { &mlm } else { &clm });
            if let Err(e) = queued {
                // A batch the model refuses (it cannot happen with the race's own batches).
                return Box::pin(std::future::ready(Err(DeviceLost(e.to_string()))));
            }
            reads.push((net.read_losses(), net.read_model()));
        }
        Box::pin(async move {
            let mut out = vec![];
            for (losses, model) in reads {
                out.push((losses.await?, model.await?));
            }
            let mut out = out.into_iter();
            let (Some((mlm_losses, mlm)), Some((clm_losses, clm))) = (out.next(), out.next()) else {
                return Ok(None);
            };
            let (leaky_losses, leaky) = out.next().unzip();
            Ok(Some(Trained { mlm, clm, leaky, mlm_losses, clm_losses, leaky_losses }))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::ready;
    use std::sync::Arc;

    use engine::labs::mlm_vs_clm::{Corpus, Settings};

    use super::*;
    use crate::hooks::training_run::machine::{ready_now, Backend, Landed, Run};

    /// A stand-in for the GPU: a copy of the race stepped by the engine, read back whole after
    /// every chunk, until the device is "lost" on chunk number `lost_on`.
    struct SimulatedGpu {
        race: Race,
        chunks: usize,
        lost_on: usize,
    }

    impl GpuModel<MlmCpu> for SimulatedGpu {
        fn train(&mut self, steps: usize, cpu: &MlmCpu) -> Pending<MlmReading> {
            self.chunks += 1;
            if self.chunks == self.lost_on {
                return Box::pin(ready(Err(DeviceLost("the driver was reset".into()))));
            }
            let n = cpu.race.upcoming(steps as u64).len() as u64;
            let before = self.race.records.len();
            let mut clock = || 0.0;
            self.race.train_for(f64::INFINITY, n, &mut clock).unwrap();
            let new = &self.race.records[before..];
            Box::pin(ready(Ok(Some(Trained {
                mlm: self.race.mlm.model.clone(),
                clm: self.race.clm.model.clone(),
                leaky: None,
                mlm_losses: new.iter().map(|r| r.mlm_loss).collect(),
                clm_losses: new.iter().map(|r| r.clm_loss).collect(),
                leaky_losses: None,
            }))))
        }
    }

    fn race(total_steps: u64) -> Race {
        let text = include_str!("../../../assets/shakespeare/tragedies.txt");
        let corpus = Arc::new(Corpus::from_text(text).unwrap());
        Race::new(corpus, Settings { total_steps, ..Settings::default() }).unwrap()
    }

    /// Drives `run` in chunks of up to 25 steps until the race is finished; returns the
    /// handovers seen on the way.
    fn train<G: GpuModel<MlmCpu>>(run: &mut Run<MlmCpu, G>) -> Vec<(String, u64)> {
        let mut handovers = vec![];
        while !run.cpu().race.finished() {
            let (ticket, pending) = run.start(25).expect("no chunk is out");
            let answer = ready_now(pending).unwrap_or_else(|_| panic!("simulated chunks answer at once"));
            match run.land(ticket, answer) {
                Landed::Read(_) => {}
                Landed::HandedOver { reason, at } => handovers.push((reason, at)),
                Landed::Stale => panic!("the only chunk out cannot be stale"),
            }
            assert_eq!(run.cpu().error, None);
        }
        handovers
    }

    #[test]
    fn gpu_chunks_record_into_the_race_and_a_lost_device_hands_it_to_the_cpu() {
        let mut cpu_only: Run<MlmCpu, SimulatedGpu> = Run::new(MlmCpu::new(race(60), 1e9, || 0.0), None);
        assert!(train(&mut cpu_only).is_empty());

        let gpu = SimulatedGpu { race: race(60), chunks: 0, lost_on: 3 };
        let mut run = Run::new(MlmCpu::new(race(60), 1e9, || 0.0), Some(gpu));
        assert_eq!(run.backend(), Backend::Gpu);
        // Chunks end at the held-out checks: 25 and 50 steps were read back, the third chunk lost.
        assert_eq!(train(&mut run), vec![("the driver was reset".to_string(), 50)]);
        assert_eq!(run.backend(), Backend::Cpu);
        let (on_gpu, alone) = (&run.cpu().race, &cpu_only.cpu().race);
        assert_eq!(on_gpu.records[..50], alone.records[..50]);
        assert_eq!(on_gpu.checks[..3], alone.checks[..3]);
        // The CPU finished the run from the weights at step 50 (with fresh AdamW moments).
        assert_eq!((on_gpu.steps(), on_gpu.checks.last().map(|h| h.step)), (60, Some(60)));
    }
}
