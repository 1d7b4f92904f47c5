//! Chapter 10's induction heads on the seam: the two-layer and one-layer
//! `engine::labs::induction_heads::Trainer`s on the CPU, one `gpu::GpuInduction` each on
//! the GPU. The CPU side's trainers are the record either way: on the GPU path they take in
//! the weights each chunk copied aside every `EVAL_EVERY` steps (`Trainer::adopt`) and
//! evaluate them, so both backends show the engine's numbers for the same batches.

use engine::core::tensor::Tensor;
use engine::labs::induction_heads::{Batches, Trainer, EVAL_EVERY};
use gpu::{Gpu, GpuInduction};

use super::machine::{CpuModel, DeviceLost, GpuModel, Pending};

/// What one model's GPU chunk read back: each step's training loss (before its update),
/// and the weights after each step of the chunk that is a multiple of `EVAL_EVERY`.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    pub losses: Vec<f32>,
    pub snapshots: Vec<(usize, Vec<Tensor>)>,
}

/// What a GPU chunk read back for the two-layer and the one-layer model (none for a chunk
/// with nothing left to do). The CPU path records into its trainers and hands back `None`.
pub type InductionReading = Option<(Trained, Trained)>;

/// The CPU side: both trainers, stepped together a time budget at a time.
pub struct InductionCpu {
    pub two: Trainer,
    pub one: Trainer,
    /// The run's length in steps.
    pub length: usize,
    /// Milliseconds of training per CPU chunk (at least one step runs).
    budget_ms: f64,
    clock: fn() -> f64,
    /// Why training stopped early (a divergence), once it has.
    pub error: Option<String>,
}

impl InductionCpu {
    /// The pair, run for `length` steps, `budget_ms` of `clock` per CPU chunk.
    pub fn new(
        two: Trainer,
        one: Trainer,
        length: usize,
        budget_ms: f64,
        clock: fn() -> f64,
    ) -> InductionCpu {
        InductionCpu { two, one, length, budget_ms, clock, error: None }
    }

    /// Whether the run is over: its length reached, or stopped by an error.
    pub fn done(&self) -> bool {
        self.error.is_some() || self.two.step >= self.length
    }

    /// The GPU side: each model from its current weights, drawing the batches its trainer
    /// would draw next.
    pub fn to_gpu(&self, gpu: &Gpu) -> Result<InductionGpu, String> {
        let side = |t: &Trainer| -> Result<(GpuInduction, Batches), String> {
            Ok((GpuInduction::new(gpu, t.model.config, &t.model.params)?, t.batches()))
        };
        Ok(InductionGpu { two: side(&self.two)?, one: side(&self.one)? })
    }

    /// Takes in one model's chunk: the weights at each evaluated step, up to a loss that is
    /// no longer a finite number (there the run stops, as `Trainer::step` stops it).
    fn take(trainer: &mut Trainer, done: &Trained) -> Result<(), String> {
        let first = trainer.step;
        let bad = done.losses.iter().position(|l| !l.is_finite()).map(|i| first + i);
        for (step, params) in &done.snapshots {
            if bad.is_some_and(|b| *step > b) {
                break;
            }
            trainer.adopt(*step, params.clone())?;
        }
        match bad {
            Some(step) => {
                trainer.diverged = Some(step);
                Err(format!("Training diverged at step {step}: the loss is no longer a finite number."))
            }
            None => Ok(()),
        }
    }
}

impl CpuModel for InductionCpu {
    type Reading = InductionReading;

    fn train(&mut self, steps: usize) -> Pending<InductionReading> {
        let start = (self.clock)();
        let mut left = steps.min(self.length.saturating_sub(self.two.step));
        while self.error.is_none() && left > 0 {
            if let Err(e) = self.two.step().and_then(|_| self.one.step()) {
                self.error = Some(e);
            }
            left -= 1;
            if (self.clock)() - start >= self.budget_ms {
                break;
            }
        }
        Box::pin(std::future::ready(Ok(None)))
    }

    fn keep(&mut self, reading: &InductionReading) {
        if let Some((two, one)) = reading {
            let taken = InductionCpu::take(&mut self.two, two).and(InductionCpu::take(&mut self.one, one));
            if let Err(e) = taken {
                self.error = Some(e);
            }
        }
    }

    fn at(&self) -> u64 {
        self.two.step as u64
    }
}

/// The GPU side: each model in WGSL kernels, with the stream of batches it trains on.
pub struct InductionGpu {
    two: (GpuInduction, Batches),
    one: (GpuInduction, Batches),
}

impl GpuModel<InductionCpu> for InductionGpu {
    /// Queues the next steps (a whole number of evaluation intervals, up to `steps` and the
    /// run's end) on both models, then reads back their losses and weights.
    fn train(&mut self, steps: usize, cpu: &InductionCpu) -> Pending<InductionReading> {
        let left = cpu.length.saturating_sub(cpu.two.step);
        let n = (steps / EVAL_EVERY).max(1) * EVAL_EVERY;
        let n = n.min(left);
        if cpu.done() || n == 0 {
            return Box::pin(std::future::ready(Ok(None)));
        }
        let mut reads = vec![];
        for (net, stream) in [&mut self.two, &mut self.one] {
            let batches: Vec<_> = (0..n).map(|_| stream.next_batch()).collect();
            if let Err(e) = net.train(&batches) {
                // A batch the model refuses (it cannot happen with the trainer's own batches).
                return Box::pin(std::future::ready(Err(DeviceLost(e))));
            }
            reads.push((net.read_losses(), net.read_snapshots()));
        }
        Box::pin(async move {
            let mut out = vec![];
            for (losses, snapshots) in reads {
                out.push(Trained { losses: losses.await?, snapshots: snapshots.await? });
            }
            let one = out.pop();
            Ok(out.pop().zip(one))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::ready;

    use engine::labs::induction_heads::Config;

    use super::*;
    use crate::hooks::training_run::machine::{ready_now, Backend, Landed, Run};

    /// A stand-in for the GPU: copies of the trainers stepped by the engine, their weights
    /// kept every `EVAL_EVERY` steps, until the device is "lost" on chunk number `lost_on`.
    struct SimulatedGpu {
        two: Trainer,
        one: Trainer,
        chunks: usize,
        lost_on: usize,
    }

    impl GpuModel<InductionCpu> for SimulatedGpu {
        fn train(&mut self, steps: usize, _cpu: &InductionCpu) -> Pending<InductionReading> {
            self.chunks += 1;
            if self.chunks == self.lost_on {
                return Box::pin(ready(Err(DeviceLost("the driver was reset".into()))));
            }
            let run = |t: &mut Trainer| {
                let losses: Vec<f32> = (0..steps).map(|_| t.step().unwrap()).collect();
                Trained { losses, snapshots: vec![(t.step, t.model.params.clone())] }
            };
            Box::pin(ready(Ok(Some((run(&mut self.two), run(&mut self.one))))))
        }
    }

    fn pair(length: usize) -> InductionCpu {
        let config = Config { batch: 4, ..Config::two_layer(1) };
        let (two, one) =
            (Trainer::new(config).unwrap(), Trainer::new(Config { n_layers: 1, ..config }).unwrap());
        InductionCpu::new(two, one, length, 1e9, || 0.0)
    }

    /// Drives `run` in chunks of 10 steps until it is done; returns the handovers.
    fn train<G: GpuModel<InductionCpu>>(run: &mut Run<InductionCpu, G>) -> Vec<(String, u64)> {
        let mut handovers = vec![];
        while !run.cpu().done() {
            let (ticket, pending) = run.start(EVAL_EVERY).expect("no chunk is out");
            let answer = ready_now(pending).unwrap_or_else(|_| panic!("simulated chunks answer at once"));
            match run.land(ticket, answer) {
                Landed::Read(_) => {}
                Landed::HandedOver { reason, at } => handovers.push((reason, at)),
                Landed::Stale => panic!("the only chunk out cannot be stale"),
            }
        }
        handovers
    }

    #[test]
    fn gpu_chunks_record_into_the_trainers_and_a_lost_device_hands_them_to_the_cpu() {
        let mut alone: Run<InductionCpu, SimulatedGpu> = Run::new(pair(40), None);
        assert!(train(&mut alone).is_empty());
        assert_eq!(alone.cpu().two.history.len(), 5);

        let cpu = pair(40);
        let gpu = SimulatedGpu { two: cpu.two.clone(), one: cpu.one.clone(), chunks: 0, lost_on: 3 };
        let mut run = Run::new(cpu, Some(gpu));
        assert_eq!(run.backend(), Backend::Gpu);
        assert_eq!(train(&mut run), vec![("the driver was reset".to_string(), 20)]);
        assert_eq!(run.backend(), Backend::Cpu);
        let (handed, cpu_only) = (run.cpu(), alone.cpu());
        // Up to the handover the record is the CPU run's; the CPU then finished from step 20
        // (with fresh Adam moments) on the batches that came next.
        assert_eq!(handed.two.history[..3], cpu_only.two.history[..3]);
        assert_eq!(handed.one.history[..3], cpu_only.one.history[..3]);
        assert_eq!((handed.two.step, handed.two.history.len(), handed.error.clone()), (40, 5, None));
        assert_eq!(handed.two.batches(), cpu_only.two.batches());
    }

    #[test]
    fn a_loss_that_is_not_finite_stops_the_run_at_its_step() {
        let mut cpu = pair(40);
        let params = cpu.two.model.params.clone();
        let mut nan = params.clone();
        nan[0].data[0] = f32::NAN;
        let two = Trained {
            losses: vec![2.0; 7].into_iter().chain([f32::NAN; 13]).collect(),
            snapshots: vec![(10, params.clone()), (20, nan)],
        };
        let one = Trained { losses: vec![2.0; 20], snapshots: vec![(10, params.clone()), (20, params)] };
        cpu.keep(&Some((two, one)));
        assert_eq!(cpu.two.diverged, Some(7));
        assert_eq!(cpu.two.step, 0, "no weights after the bad step are taken");
        assert!(cpu.error.as_deref().is_some_and(|e| e.contains("diverged at step 7")), "{:?}", cpu.error);
        assert!(cpu.done());
    }
}
