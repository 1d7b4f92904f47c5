//! Chapter 5's tiny GPT on the seam. The CPU side is the training worker ([`CpuRunner`],
//! which holds an `engine::models::train::Trainer`); the GPU side is `gpu::GpuTransformer`
//! with a CPU trainer beside it that draws the batches (the ones the CPU would draw). The
//! recipe, the same on both, is `engine::models::gpt_recipe`.
//!
//! # Keeping the page responsive
//! Both sides work away from the page's thread; the page only sends requests and records
//! answers. On the CPU, each chunk asks the worker for about
//! [`WORKER_BUDGET_MS`](crate::hooks::cpu_runner::WORKER_BUDGET_MS) of steps and awaits the
//! losses. On the GPU, a chunk queues its steps in one submit and awaits their losses; the
//! chunk grows while chunks come back quickly and shrinks when they do not ([`next_chunk`]).
//! Every [`EVAL_EVERY`](engine::models::gpt_recipe::EVAL_EVERY) steps the model is scored on
//! a fixed held-out slice and writes a short sample, in the worker on both paths (the GPU
//! path sends it the weights it read back). Those read-back weights are also what a lost
//! GPU hands over to the CPU.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use engine::models::checkpoint::Checkpoint;
use engine::models::gpt_recipe::{evaluate, next_stop, Corpus, Eval, Settings, BATCH, CONTEXT};
use engine::models::train::Trainer;
use engine::models::transformer::{ModelError, Transformer};
use gpu::{Gpu, GpuTransformer, TrainSettings};
use train_worker::{Reply, Request};

use super::machine::{CpuModel, GpuModel, Pending};
use crate::browser::now_ms;
use crate::hooks::cpu_runner::CpuRunner;

/// The most steps one GPU submit may carry.
pub const MAX_CHUNK: usize = 32;

/// The recipe for the GPU.
pub fn gpu_settings(s: &Settings) -> TrainSettings {
    TrainSettings::from_config(&s.train_config())
}

/// How many steps the next GPU submit carries: double the last chunk when it came back in
/// under 60 ms, halve it past 250 ms, within 1..=[`MAX_CHUNK`].
pub fn next_chunk(last: usize, millis: f64) -> usize {
    let next = if millis < 60.0 {
        last * 2
    } else if millis > 250.0 {
        last / 2
    } else {
        last
    };
    next.clamp(1, MAX_CHUNK)
}

/// Training throughput: tokens processed over the time spent training (not the pauses
/// between timer ticks, nor validation and sampling).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throughput {
    pub tokens: u64,
    pub millis: f64,
}

impl Throughput {
    pub fn add(&mut self, steps: usize, millis: f64) {
        self.tokens += (steps * BATCH * CONTEXT) as u64;
        self.millis += millis;
    }

    pub fn per_second(&self) -> Option<f64> {
        (self.millis > 0.0).then(|| self.tokens as f64 * 1000.0 / self.millis)
    }
}

/// Where the CPU runner will be: it starts after the training text arrives, and a GPU run
/// may begin before then (its checks run on the page until the worker is there).
pub type RunnerSlot = Rc<RefCell<Option<Rc<CpuRunner>>>>;

/// Why a chunk did not train, other than a lost device.
#[derive(Clone, Debug, PartialEq)]
pub enum Trouble {
    /// The model refused: the numbers blew up, or (never expected) a setting was refused.
    Model(ModelError),
    /// The CPU trainer has not started yet.
    NoRunner,
    /// The CPU trainer could not start the run: what the page says.
    NotStarted(String),
    /// The CPU trainer stopped: the sentence says why.
    Stopped(String),
    /// The CPU trainer answered a different question (never expected).
    OutOfTurn(String),
}

/// What one chunk hands back.
#[derive(Clone, Debug, PartialEq)]
pub struct GptReading {
    /// Each step's training loss, in order.
    pub losses: Vec<f32>,
    /// Steps the run has taken, this chunk's included.
    pub steps: u64,
    /// Milliseconds spent training (not checking).
    pub millis: f64,
    /// The check, when the chunk reached one: held-out loss and sample, or why it failed.
    pub check: Option<Result<Eval, ModelError>>,
    /// The weights read back from the GPU at a check, and their step.
    pub weights: Option<(Transformer, u64)>,
    /// Why the chunk did not train, if it did not.
    pub trouble: Option<Trouble>,
}

impl GptReading {
    fn trouble(trouble: Trouble) -> GptReading {
        GptReading {
            losses: Vec::new(),
            steps: 0,
            millis: 0.0,
            check: None,
            weights: None,
            trouble: Some(trouble),
        }
    }
}

/// What the worker still has to be told before it trains this run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Start {
    /// Start from the seed's initial weights.
    FromSeed,
    /// Start from the weights read back from the GPU (a handover).
    FromWeights,
    /// Started.
    Sent,
}

/// The CPU side: the run in the worker. On the GPU path it holds the weights last read back,
/// and a handover starts the worker's run from them.
pub struct GptCpu {
    runner: RunnerSlot,
    corpus: Rc<Corpus>,
    settings: Settings,
    start: Start,
    weights: Option<(Transformer, u64)>,
}

impl GptCpu {
    /// A run of `settings` in the runner `runner` holds (or will), from the seed's initial
    /// weights; the worker is told with the first chunk.
    pub fn new(runner: RunnerSlot, corpus: Rc<Corpus>, settings: Settings) -> GptCpu {
        GptCpu { runner, corpus, settings, start: Start::FromSeed, weights: None }
    }

    /// Whether the worker has been told about this run (so it holds this run's model).
    pub fn started(&self) -> bool {
        self.start == Start::Sent
    }

    /// The worker that runs the CPU side, once it has started.
    pub fn runner(&self) -> Option<Rc<CpuRunner>> {
        self.runner.borrow().clone()
    }

    /// The weights last read back from the GPU, and their step.
    pub fn weights(&self) -> Option<&(Transformer, u64)> {
        self.weights.as_ref()
    }

    /// Takes newer weights read back from the GPU (when the panel publishes its model).
    pub fn keep_weights(&mut self, model: Transformer, step: u64) {
        self.weights = Some((model, step));
        self.start = Start::FromWeights;
    }

    /// The GPU side for this run, from the same initial weights: refused (with the reason)
    /// when the GPU cannot train this model.
    pub fn to_gpu(&self, gpu: &Gpu, trainer: Trainer) -> Result<GptGpu, String> {
        let model = GpuTransformer::new(gpu, &trainer.model, gpu_settings(&self.settings))
            .map_err(|e| e.to_string())?;
        Ok(GptGpu {
            model,
            trainer,
            chunk: Rc::new(Cell::new(1)),
            runner: self.runner.clone(),
            corpus: self.corpus.clone(),
            seed: self.settings.seed,
        })
    }

    /// The request that starts this run in the worker, if it is still to be sent.
    fn start_request(&self) -> Result<Option<Request>, String> {
        let from = match (self.start, &self.weights) {
            (Start::Sent, _) => return Ok(None),
            (Start::FromSeed, _) | (Start::FromWeights, None) => None,
            (Start::FromWeights, Some((model, step))) => {
                let checkpoint =
                    Checkpoint::new(model.clone(), self.corpus.vocab.clone()).map_err(|e| format!("{e}."))?;
                Some((checkpoint.to_bytes(), *step))
            }
        };
        Ok(Some(Request::Start { settings: self.settings, from }))
    }
}

impl CpuModel for GptCpu {
    type Reading = GptReading;

    /// Asks the worker for one slice of training (starting the run first if it has not
    /// been); `steps` is not needed, as the worker stops at the next check by itself.
    fn train(&mut self, _steps: usize) -> Pending<GptReading> {
        let Some(runner) = self.runner() else {
            return Box::pin(std::future::ready(Ok(GptReading::trouble(Trouble::NoRunner))));
        };
        let start = match self.start_request() {
            Ok(request) => request.map(|r| runner.call(r)),
            Err(why) => {
                return Box::pin(std::future::ready(Ok(GptReading::trouble(Trouble::NotStarted(why)))))
            }
        };
        self.start = Start::Sent;
        let train = runner.call(Request::Train { budget_ms: runner.budget_ms() });
        Box::pin(async move {
            if let Some(started) = start {
                match started.await {
                    Ok(Reply::Accepted) => {}
                    Ok(Reply::Refused(why)) | Err(why) => {
                        let says = format!("The CPU trainer could not start this run: {why}");
                        return Ok(GptReading::trouble(Trouble::NotStarted(says)));
                    }
                    Ok(other) => return Ok(GptReading::trouble(Trouble::OutOfTurn(format!("{other:?}")))),
                }
            }
            Ok(match train.await {
                Ok(Reply::Trained(t)) => GptReading {
                    check: t.error.map(Err).or(t.eval.map(Ok)),
                    losses: t.losses,
                    steps: t.steps,
                    millis: t.millis,
                    weights: None,
                    trouble: None,
                },
                Ok(Reply::Refused(why)) | Err(why) => GptReading::trouble(Trouble::Stopped(why)),
                Ok(other) => GptReading::trouble(Trouble::OutOfTurn(format!("{other:?}"))),
            })
        })
    }

    fn keep(&mut self, reading: &GptReading) {
        if let Some((model, step)) = &reading.weights {
            self.keep_weights(model.clone(), *step);
        }
    }

    fn at(&self) -> u64 {
        self.weights.as_ref().map_or(0, |(_, step)| *step)
    }
}

/// The GPU side: the model in WGSL kernels, and a CPU trainer that draws its batches.
pub struct GptGpu {
    model: GpuTransformer,
    trainer: Trainer,
    chunk: Rc<Cell<usize>>,
    runner: RunnerSlot,
    corpus: Rc<Corpus>,
    seed: u64,
}

impl GptGpu {
    /// Steps queued on the GPU so far.
    pub fn steps(&self) -> u64 {
        self.model.steps()
    }

    /// Reads the model back from the GPU.
    pub fn read_model(
        &self,
    ) -> impl std::future::Future<Output = Result<Transformer, gpu::GpuError>> + 'static {
        self.model.read_model()
    }
}

impl GpuModel<GptCpu> for GptGpu {
    /// Queues up to `steps` steps (as many as the chunk control allows, never past the next
    /// check) in one submit, then awaits their losses and, at a check, the weights, which the
    /// worker scores.
    fn train(&mut self, steps: usize, _cpu: &GptCpu) -> Pending<GptReading> {
        let done = self.model.steps();
        let stop = next_stop(done, self.trainer.config.total_steps);
        let count = self.chunk.get().min(steps).min(stop.saturating_sub(done) as usize).max(1);
        let batches: Vec<_> = (0..count).map(|_| self.trainer.draw_batch()).collect();
        if let Err(e) = self.model.train(&batches) {
            return Box::pin(std::future::ready(Ok(GptReading::trouble(Trouble::Model(e)))));
        }
        let done = done + count as u64;
        let read_losses = self.model.read_losses();
        let read_model = (done == stop).then(|| self.model.read_model());
        let (chunk, runner, corpus, seed) =
            (self.chunk.clone(), self.runner.borrow().clone(), self.corpus.clone(), self.seed);
        let started = now_ms();
        Box::pin(async move {
            let losses = read_losses.await?;
            let millis = now_ms() - started;
            let model = match read_model {
                Some(read) => Some(read.await?),
                None => None,
            };
            chunk.set(next_chunk(count, millis));
            let (check, weights) = match model {
                Some(model) => {
                    let check = check_off_page(runner, &corpus, model.clone(), done, seed).await;
                    (Some(check), Some((model, done)))
                }
                None => (None, None),
            };
            Ok(GptReading { losses, steps: done, millis, check, weights, trouble: None })
        })
    }
}

/// The check for weights read back from the GPU: in the worker when it answers, so the
/// page's thread stays free; here otherwise.
async fn check_off_page(
    runner: Option<Rc<CpuRunner>>,
    corpus: &Corpus,
    model: Transformer,
    step: u64,
    seed: u64,
) -> Result<Eval, ModelError> {
    if let (Some(runner), Ok(checkpoint)) = (runner, Checkpoint::new(model.clone(), corpus.vocab.clone())) {
        if let Ok(Reply::Trained(t)) =
            runner.call(Request::Check { model: checkpoint.to_bytes(), step, seed }).await
        {
            match (t.eval, t.error) {
                (Some(eval), _) => return Ok(eval),
                (None, Some(error)) => return Err(error),
                (None, None) => {}
            }
        }
    }
    evaluate(&model, corpus, step, seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::models::gpt_recipe::WEIGHT_DECAY;

    #[test]
    fn both_backends_get_the_same_recipe() {
        let s = Settings { total_steps: 200, ..Settings::default() };
        let cpu = s.train_config();
        let gpu = gpu_settings(&s);
        assert_eq!((gpu.batch, gpu.len), (cpu.batch, cpu.len));
        assert_eq!(gpu.method, engine::core::optim::Method::adamw(WEIGHT_DECAY));
        assert_eq!(gpu.max_grad_norm, Some(cpu.clip_norm));
        assert_eq!(cpu.warmup_steps, 20);
        for step in [0, 10, 20, 100, 199, 250] {
            assert_eq!(gpu.schedule.lr_at(step), cpu.schedule().lr_at(step));
        }
        assert_eq!(cpu.schedule().lr_at(20), 3e-3);
        assert!((cpu.schedule().lr_at(200) - 3e-4).abs() < 1e-9);
    }

    #[test]
    fn gpu_chunks_grow_when_fast_and_shrink_when_slow() {
        assert_eq!(next_chunk(1, 10.0), 2);
        assert_eq!(next_chunk(32, 10.0), MAX_CHUNK);
        assert_eq!(next_chunk(8, 100.0), 8);
        assert_eq!(next_chunk(8, 400.0), 4);
        assert_eq!(next_chunk(1, 400.0), 1);
    }

    #[test]
    fn throughput_counts_tokens_over_training_time() {
        let mut t = Throughput::default();
        assert_eq!(t.per_second(), None);
        t.add(2, 500.0);
        t.add(1, 250.0);
        // 3 steps of 8 × 64 tokens in 0.75 s.
        assert_eq!(t.tokens, 1_536);
        assert!((t.per_second().unwrap() - 2_048.0).abs() < 1e-9);
    }
}
