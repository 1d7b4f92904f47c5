//! The one training-run seam: a model's CPU side and GPU side, and a plain state machine
//! that trains whichever is in use a chunk at a time, hands back what each chunk read back,
//! and, when the GPU is lost, goes on on the CPU from the weights last read back.
//!
//! Nothing here is reactive: the machine is plain Rust, tested natively with real CPU models
//! and a simulated device loss. [`super::use_training_run`] puts it on the page.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use gpu::{Gpu, GpuError};

/// Where a widget trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Cpu,
    Gpu,
}

impl Backend {
    /// The value of the backend menu's option.
    pub fn value(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }

    /// The short name the page prints.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "CPU",
            Backend::Gpu => "GPU",
        }
    }
}

/// Where a run trains: the CPU, or a GPU device the browser gave.
#[derive(Clone, Debug)]
pub enum Device {
    Cpu,
    Gpu(Box<Gpu>),
}

/// Why a device stopped answering, in words for the reader.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceLost(pub String);

impl From<GpuError> for DeviceLost {
    fn from(error: GpuError) -> DeviceLost {
        DeviceLost(error.to_string())
    }
}

/// What a chunk of training will read back, once the device has answered. On the CPU it is
/// ready at once; on the GPU it waits for the read-back buffers.
pub type Pending<R> = Pin<Box<dyn Future<Output = Result<R, DeviceLost>>>>;

/// A model's CPU side. It always works, and on the GPU path it holds the weights last read
/// back, so a lost device hands the run over to it.
pub trait CpuModel {
    /// What one chunk hands back: the losses, and whatever the page shows.
    type Reading: 'static;
    /// Trains up to `steps` steps and reads back what the page shows.
    fn train(&mut self, steps: usize) -> Pending<Self::Reading>;
    /// Takes in what a GPU chunk read back: the losses it records and the weights, when the
    /// reading carries them.
    fn keep(&mut self, reading: &Self::Reading);
    /// The step the CPU side's weights are at: where a handed-over run goes on from.
    fn at(&self) -> u64;
}

/// A model's GPU side: the same model, trained by WGSL kernels. It may look at the CPU side
/// (which networks of a race are still live, say) to decide what to queue.
pub trait GpuModel<C: CpuModel> {
    /// Queues up to `steps` steps and the reads of what the page shows.
    fn train(&mut self, steps: usize, cpu: &C) -> Pending<C::Reading>;
}

/// Which chunk an answer belongs to. Every chunk of every run gets its own, so an answer
/// meant for a run that was reset or left the GPU can never pass for a current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

impl Ticket {
    fn next() -> Ticket {
        static ISSUED: AtomicU64 = AtomicU64::new(0);
        Ticket(ISSUED.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// What became of a chunk once its answer came.
#[derive(Debug, PartialEq)]
pub enum Landed<R> {
    /// The chunk's reading; the CPU side has taken in its weights.
    Read(R),
    /// The GPU was lost while the chunk was out. Its results are gone; the run now trains on
    /// the CPU from the weights at step `at`.
    HandedOver { reason: String, at: u64 },
    /// The answer to a chunk the run no longer waits for (after a handover); dropped.
    Stale,
}

/// One training run: a model on the CPU, or on the GPU with its CPU side kept up to date.
pub struct Run<C: CpuModel, G: GpuModel<C>> {
    cpu: C,
    gpu: Option<G>,
    running: bool,
    out: Option<Ticket>,
    left_gpu_at: Option<u64>,
}

impl<C: CpuModel, G: GpuModel<C>> Run<C, G> {
    /// A paused run of `cpu`, or of `gpu` when there is one (built from `cpu`'s weights).
    pub fn new(cpu: C, gpu: Option<G>) -> Run<C, G> {
        Run { cpu, gpu, running: false, out: None, left_gpu_at: None }
    }

    /// A paused run on `device`: `to_gpu` builds the GPU side from the CPU side. If it cannot,
    /// the run is on the CPU and the second value says why.
    pub fn on(
        device: &Device,
        cpu: C,
        to_gpu: impl FnOnce(&C, &Gpu) -> Result<G, String>,
    ) -> (Run<C, G>, Option<String>) {
        let (gpu, why) = match device {
            Device::Cpu => (None, None),
            Device::Gpu(gpu) => match to_gpu(&cpu, gpu) {
                Ok(g) => (Some(g), None),
                Err(why) => (None, Some(why)),
            },
        };
        (Run::new(cpu, gpu), why)
    }

    /// Where the run trains now.
    pub fn backend(&self) -> Backend {
        if self.gpu.is_some() {
            Backend::Gpu
        } else {
            Backend::Cpu
        }
    }

    /// The CPU side: on the GPU path, as of the last chunk read back.
    pub fn cpu(&self) -> &C {
        &self.cpu
    }

    /// The CPU side, to change.
    pub fn cpu_mut(&mut self) -> &mut C {
        &mut self.cpu
    }

    /// The GPU side, while the run is on the GPU.
    pub fn gpu(&self) -> Option<&G> {
        self.gpu.as_ref()
    }

    /// Whether the reader has the run going (the timer asks for chunks while it is).
    pub fn running(&self) -> bool {
        self.running
    }

    /// Resumes (or starts) the run.
    pub fn play(&mut self) {
        self.running = true;
    }

    /// Pauses the run; a chunk already out still lands.
    pub fn pause(&mut self) {
        self.running = false;
    }

    /// Whether a chunk is out and not yet answered.
    pub fn busy(&self) -> bool {
        self.out.is_some()
    }

    /// Sends out the next chunk of up to `steps` steps, unless one is still out.
    pub fn start(&mut self, steps: usize) -> Option<(Ticket, Pending<C::Reading>)> {
        if self.out.is_some() {
            return None;
        }
        let pending = match &mut self.gpu {
            Some(gpu) => gpu.train(steps, &self.cpu),
            None => self.cpu.train(steps),
        };
        let ticket = Ticket::next();
        self.out = Some(ticket);
        Some((ticket, pending))
    }

    /// Records the answer to chunk `ticket`. A GPU reading updates the CPU side; a lost
    /// device hands the run over to the CPU.
    pub fn land(&mut self, ticket: Ticket, answer: Result<C::Reading, DeviceLost>) -> Landed<C::Reading> {
        if self.out != Some(ticket) {
            return Landed::Stale;
        }
        self.out = None;
        match answer {
            Ok(reading) => {
                if self.gpu.is_some() {
                    self.cpu.keep(&reading);
                }
                Landed::Read(reading)
            }
            Err(DeviceLost(reason)) => {
                let at = self.hand_over().unwrap_or_else(|| self.cpu.at());
                Landed::HandedOver { reason, at }
            }
        }
    }

    /// Leaves the GPU (it was lost): the run goes on on the CPU from the weights last read
    /// back, and a chunk still out on the GPU becomes stale. Returns the step it went on
    /// from; asked again, the same step. `None` for a run that never left a GPU.
    pub fn hand_over(&mut self) -> Option<u64> {
        if self.gpu.take().is_some() {
            self.out = None;
            self.left_gpu_at = Some(self.cpu.at());
        }
        self.left_gpu_at
    }
}

/// Answers at once when the pending reading is already there (always, on the CPU), so the
/// page can record it in the same tick; otherwise hands the future back to be awaited.
pub fn ready_now<R>(mut pending: Pending<R>) -> Result<Result<R, DeviceLost>, Pending<R>> {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match pending.as_mut().poll(&mut context) {
        std::task::Poll::Ready(answer) => Ok(answer),
        std::task::Poll::Pending => Err(pending),
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use engine::core::optim::Method;
    use engine::models::mlp::{Mlp, XorConfig};

    use super::*;
    use crate::hooks::training_run::race::RaceCpu;
    use crate::hooks::training_run::xor::{XorCpu, XorReading};

    /// A stand-in for the GPU: the XOR network trained by the CPU engine, read back whole
    /// after every chunk, until the device is "lost" on chunk number `lost_on`.
    struct SimulatedGpu {
        net: Mlp,
        chunks: usize,
        lost_on: usize,
    }

    impl GpuModel<XorCpu> for SimulatedGpu {
        fn train(&mut self, steps: usize, cpu: &XorCpu) -> Pending<XorReading> {
            self.chunks += 1;
            if self.chunks == self.lost_on {
                // The device went away: nothing of this chunk comes back.
                return Box::pin(std::future::ready(Err(DeviceLost("the driver was reset".into()))));
            }
            let losses = self.net.train(steps);
            let reading = XorReading {
                losses,
                predictions: Vec::new(),
                surface: Vec::new(),
                dead: 0,
                weights: Some(self.net.clone()),
            };
            // The real GPU side never reads the CPU side's weights; neither does this one.
            let _ = cpu;
            Box::pin(std::future::ready(Ok(reading)))
        }
    }

    fn config() -> XorConfig {
        XorConfig { method: Method::adam(), lr: 0.05, ..XorConfig::default() }
    }

    fn grid() -> Rc<[[f32; 2]]> {
        vec![[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]].into()
    }

    fn on_simulated_gpu(lost_on: usize) -> Run<XorCpu, SimulatedGpu> {
        let cpu = XorCpu::new(config(), grid());
        let gpu = SimulatedGpu { net: cpu.net.clone(), chunks: 0, lost_on };
        Run::new(cpu, Some(gpu))
    }

    /// Drives `run` chunk by chunk until `epochs` losses have landed; returns them and the
    /// handovers seen on the way.
    fn train<G: GpuModel<XorCpu>>(run: &mut Run<XorCpu, G>, epochs: usize) -> (Vec<f32>, Vec<(String, u64)>) {
        let (mut losses, mut handovers) = (Vec::new(), Vec::new());
        while losses.len() < epochs {
            let (ticket, pending) = run.start(100.min(epochs - losses.len())).expect("no chunk is out");
            let answer = ready_now(pending).unwrap_or_else(|_| panic!("simulated chunks answer at once"));
            match run.land(ticket, answer) {
                Landed::Read(reading) => losses.extend(reading.losses),
                Landed::HandedOver { reason, at } => handovers.push((reason, at)),
                Landed::Stale => panic!("the only chunk out cannot be stale"),
            }
        }
        (losses, handovers)
    }

    #[test]
    fn a_lost_device_hands_over_and_the_cpu_finishes_the_run_it_would_have_run() {
        let mut cpu_only: Run<XorCpu, SimulatedGpu> = Run::new(XorCpu::new(config(), grid()), None);
        let (expected, none) = train(&mut cpu_only, 1_000);
        assert!(none.is_empty());

        let mut run = on_simulated_gpu(4);
        assert_eq!(run.backend(), Backend::Gpu);
        let (losses, handovers) = train(&mut run, 1_000);
        // The fourth chunk was lost: three chunks of 100 had been read back.
        assert_eq!(handovers, vec![("the driver was reset".to_string(), 300)]);
        assert_eq!(run.backend(), Backend::Cpu);
        assert_eq!(run.cpu().at(), 1_000);
        // The CPU went on from the weights read back at epoch 300, so the run is the one the
        // CPU alone trains, loss for loss and weight for weight.
        assert_eq!(losses, expected);
        assert_eq!(run.cpu().net, cpu_only.cpu().net);
        assert!(losses[999] < losses[0]);
    }

    #[test]
    fn a_gpu_chunk_brings_the_cpu_side_up_to_date() {
        let mut run = on_simulated_gpu(usize::MAX);
        let (ticket, pending) = run.start(50).unwrap();
        let Ok(answer) = ready_now(pending) else { panic!("answers at once") };
        let Landed::Read(reading) = run.land(ticket, answer) else { panic!("a reading") };
        assert_eq!(run.cpu().at(), 50);
        assert_eq!(Some(&run.cpu().net), reading.weights.as_ref());
    }

    #[test]
    fn one_chunk_at_a_time_and_a_new_run_takes_no_answer_meant_for_the_old_one() {
        let mut run = on_simulated_gpu(usize::MAX);
        let (old, pending) = run.start(10).unwrap();
        assert!(run.busy() && run.start(10).is_none(), "a second chunk waits for the first");
        let Ok(answer) = ready_now(pending) else { panic!("answers at once") };

        run = Run::new(XorCpu::new(config(), grid()), None);
        assert!(!run.busy() && !run.running());
        assert_eq!(run.land(old, answer), Landed::Stale);
        assert_eq!(run.cpu().at(), 0, "the old run's answer did not land in the new one");
        let (new, _) = run.start(10).unwrap();
        assert_ne!(new, old);
    }

    #[test]
    fn a_device_lost_between_chunks_hands_over_once_and_drops_the_chunk_out() {
        let mut run = on_simulated_gpu(usize::MAX);
        train(&mut run, 200);
        let (ticket, pending) = run.start(100).unwrap();
        assert_eq!(run.hand_over(), Some(200));
        assert_eq!(run.hand_over(), Some(200), "asked again: the same step");
        let Ok(answer) = ready_now(pending) else { panic!("answers at once") };
        assert_eq!(run.land(ticket, answer), Landed::Stale);
        assert_eq!((run.backend(), run.cpu().at()), (Backend::Cpu, 200));
    }

    #[test]
    fn pause_and_resume_leave_the_run_where_it_was() {
        let mut run: Run<XorCpu, SimulatedGpu> = Run::new(XorCpu::new(config(), grid()), None);
        assert!(!run.running());
        run.play();
        let (ticket, pending) = run.start(30).unwrap();
        run.pause();
        // A chunk out when the reader pauses still lands.
        let Ok(answer) = ready_now(pending) else { panic!("answers at once") };
        assert!(matches!(run.land(ticket, answer), Landed::Read(_)));
        assert!(!run.running());
        run.play();
        assert!(run.running());
        assert_eq!(run.cpu().at(), 30);
    }

    #[test]
    fn a_cpu_device_builds_no_gpu_side_and_hands_nothing_over() {
        let (run, why) =
            Run::<XorCpu, SimulatedGpu>::on(&Device::Cpu, XorCpu::new(config(), grid()), |_, _| {
                unreachable!("the CPU needs no GPU side")
            });
        assert_eq!((run.backend(), why), (Backend::Cpu, None));
        let mut run = run;
        assert_eq!(run.hand_over(), None, "a run that never had a GPU hands nothing over");
    }

    #[test]
    fn the_race_stops_at_its_length_and_takes_in_gpu_readings() {
        use engine::labs::network_race::{default_racers, race_data, NetworkRace};
        let racers = default_racers();
        let mut cpu = RaceCpu::new(NetworkRace::new(race_data(), &racers[..2]), 30);
        let Ok(Ok(_)) = ready_now(cpu.train(20)) else { panic!("the CPU answers at once") };
        let Ok(Ok(_)) = ready_now(cpu.train(20)) else { panic!("the CPU answers at once") };
        assert_eq!((cpu.steps(), cpu.done()), (30, true));

        let mut gpu_like = RaceCpu::new(NetworkRace::new(race_data(), &racers[..2]), 30);
        let weights = cpu.race.nets[1].clone();
        gpu_like.keep(&vec![(1, cpu.race.losses[1].clone(), weights.clone())]);
        assert_eq!(gpu_like.race.losses[1], cpu.race.losses[1]);
        assert_eq!(gpu_like.race.nets[1], weights);
        assert_eq!(gpu_like.at(), 30);
        assert!(!gpu_like.done(), "network 0 has not run");
    }

    #[test]
    fn a_reading_still_on_its_way_is_handed_back_to_await() {
        let pending: Pending<()> = Box::pin(std::future::pending());
        assert!(ready_now(pending).is_err());
    }
}
