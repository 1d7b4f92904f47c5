//! Chapter 8's network race on the seam: `engine::labs::network_race::NetworkRace` on the
//! CPU, one `gpu::GpuMlp` per optimizer on the GPU. The CPU side's race is the record either
//! way: on the GPU path it takes in each chunk's losses and weights.

use engine::labs::network_race::{race_config, NetworkRace};
use engine::labs::optimizer_race::Racer;
use engine::models::mlp::Mlp;
use gpu::{Gpu, GpuMlp};

use super::machine::{CpuModel, DeviceLost, GpuModel, Pending};

/// What a GPU chunk read back for each network it trained: its index, its losses, its
/// weights. Empty on the CPU, whose race records itself.
pub type RaceReading = Vec<(usize, Vec<f32>, Mlp)>;

/// The CPU side: the race, run for `length` steps.
pub struct RaceCpu {
    pub race: NetworkRace,
    length: usize,
}

impl RaceCpu {
    /// A race of `racers` over `length` steps, all from the same initial weights.
    pub fn new(race: NetworkRace, length: usize) -> RaceCpu {
        RaceCpu { race, length }
    }

    /// The steps the longest run has taken.
    pub fn steps(&self) -> usize {
        self.race.losses.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Whether every network has run its length or diverged.
    pub fn done(&self) -> bool {
        self.race
            .losses
            .iter()
            .zip(&self.race.diverged_at)
            .all(|(l, d)| d.is_some() || l.len() >= self.length)
    }

    /// Which networks still train: not diverged, and short of the race's length.
    fn live(&self) -> Vec<bool> {
        let race = &self.race;
        race.diverged_at.iter().zip(&race.losses).map(|(d, l)| d.is_none() && l.len() < self.length).collect()
    }

    /// The GPU side: one network per racer on `gpu`, on the race's data.
    pub fn to_gpu(&self, gpu: &Gpu, racers: &[Racer]) -> Result<RaceGpu, String> {
        let data = &self.race.data;
        let nets = racers
            .iter()
            .map(|&r| GpuMlp::on_data(gpu, race_config(r), &data.points, &data.labels))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| error.message)?;
        Ok(RaceGpu { nets })
    }
}

impl CpuModel for RaceCpu {
    type Reading = RaceReading;

    fn train(&mut self, steps: usize) -> Pending<RaceReading> {
        let left = self.length.saturating_sub(self.steps());
        self.race.advance(steps.min(left));
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn keep(&mut self, reading: &RaceReading) {
        for (j, losses, weights) in reading {
            self.race.record(*j, losses);
            self.race.nets[*j] = weights.clone();
        }
    }

    fn at(&self) -> u64 {
        self.steps() as u64
    }
}

/// The GPU side: one network per optimizer in WGSL kernels.
pub struct RaceGpu {
    nets: Vec<GpuMlp>,
}

impl GpuModel<RaceCpu> for RaceGpu {
    /// Queues the steps on every live network, then reads back losses and weights.
    fn train(&mut self, steps: usize, cpu: &RaceCpu) -> Pending<RaceReading> {
        let reads: Vec<_> = self
            .nets
            .iter_mut()
            .zip(cpu.live())
            .enumerate()
            .filter(|(_, (_, live))| *live)
            .map(|(j, (net, _))| {
                net.train(steps);
                (j, net.read_losses(), net.weights())
            })
            .collect();
        Box::pin(async move {
            let mut reading = Vec::with_capacity(reads.len());
            for (j, losses, weights) in reads {
                reading.push((j, losses.await.map_err(DeviceLost::from)?, weights.await?));
            }
            Ok(reading)
        })
    }
}
