//! Chapter 8's network race: two interleaved half-moons, and one small network trained on
//! them by each optimizer from the same initial weights.
//!
//! Two moons is a classic toy classification set: two crescents of points, one per class,
//! hooked into each other so that no straight line separates them. A 2-16-1 tanh network
//! learns the curved boundary in a few hundred full-batch steps, which is just long enough
//! for the optimizers' differences to show in the loss curves.

use crate::core::optim::Method;
use crate::core::rng::Rng;
use crate::labs::optimizer_race::Racer;
use crate::models::mlp::{Activation, Init, Mlp, XorConfig};

/// Labelled 2-D points for binary classification.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub points: Vec<[f32; 2]>,
    /// 0 or 1, one per point.
    pub labels: Vec<f32>,
}

// ANCHOR: two_moons
/// `per_moon` points on each of two half circles of radius 1, the second flipped and shifted
/// into the first's hollow, then jittered by normal noise of standard deviation `noise`.
/// The upper moon is class 0, the lower class 1. The whole set is centred on the origin.
pub fn two_moons(per_moon: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut data = Dataset { points: Vec::new(), labels: Vec::new() };
    for label in [0.0, 1.0] {
        for i in 0..per_moon {
            // Evenly spaced angles from 0 to π along the half circle.
            let angle = std::f32::consts::PI * i as f32 / (per_moon.max(2) - 1) as f32;
            let (sin, cos) = (libm::sinf(angle), libm::cosf(angle));
            let [x, y] = if label == 0.0 { [cos, sin] } else { [1.0 - cos, 0.5 - sin] };
            // Shift by (−0.5, −0.25) so the two moons together are centred on the origin.
            let x = x - 0.5 + noise * rng.normal();
            let y = y - 0.25 + noise * rng.normal();
            data.points.push([x, y]);
            data.labels.push(label);
        }
    }
    data
}
// ANCHOR_END: two_moons

/// The seed of the race's initial weights: every optimizer starts from this network.
pub const RACE_SEED: u64 = 1;

/// The race's network: 2-16-1, tanh hidden units, Xavier initialization, seeded the same
/// for every optimizer so that only the update rule differs.
pub fn race_config(racer: Racer) -> XorConfig {
    XorConfig {
        hidden: 16,
        activation: Activation::Tanh,
        init: Init::Xavier,
        method: racer.method,
        lr: racer.lr,
        seed: RACE_SEED,
    }
}

/// The race's contestants as the page first shows them, in the chapter's order: SGD,
/// momentum, RMSProp, Adam, AdamW. The rates are ones each rule handles well here:
/// the sign-based rules take far smaller steps than the gradient-based ones.
pub fn default_racers() -> [Racer; 5] {
    [
        Racer { method: Method::Sgd, lr: 0.5 },
        Racer { method: Method::momentum(), lr: 0.5 },
        Racer { method: Method::rmsprop(), lr: 0.01 },
        Racer { method: Method::adam(), lr: 0.02 },
        Racer { method: Method::adamw(0.01), lr: 0.02 },
    ]
}

/// The race's data: 100 points per moon, noise 0.1, seed 0.
pub fn race_data() -> Dataset {
    two_moons(100, 0.1, 0)
}

/// A mean cross-entropy above this counts as diverged. A network that answers 0.5 for every
/// point scores ln 2 ≈ 0.69; a mean loss of 10 means that, on average, it gives the right
/// class a probability of about e⁻¹⁰ ≈ 0.00005. Cross-entropy grows only linearly in the
/// logits, so a run blown up by a huge learning rate can stay finite forever; this bound
/// catches it.
pub const DIVERGED_LOSS: f32 = 10.0;

/// Several copies of one network, each trained by its own optimizer on the same data.
#[derive(Clone, Debug)]
pub struct NetworkRace {
    pub data: Dataset,
    pub nets: Vec<Mlp>,
    /// Each network's loss before each of its steps.
    pub losses: Vec<Vec<f32>>,
    /// The step whose loss was not finite or above [`DIVERGED_LOSS`], for each run that
    /// diverged.
    pub diverged_at: Vec<Option<usize>>,
}

// ANCHOR: network_race
impl NetworkRace {
    /// One network per racer, all starting from the weights seeded by [`RACE_SEED`].
    pub fn new(data: Dataset, racers: &[Racer]) -> NetworkRace {
        let nets: Vec<Mlp> = racers.iter().map(|&r| Mlp::new(race_config(r))).collect();
        let n = nets.len();
        NetworkRace { data, nets, losses: vec![Vec::new(); n], diverged_at: vec![None; n] }
    }

    /// Trains every network that has not diverged for `steps` more full-batch steps.
    pub fn advance(&mut self, steps: usize) {
        for i in 0..self.nets.len() {
            for _ in 0..steps {
                if self.diverged_at[i].is_some() {
                    break;
                }
                let (points, labels) = (&self.data.points, &self.data.labels);
                let loss = self.nets[i].step_on(points, labels).unwrap_or(f32::NAN);
                self.record(i, &[loss]);
            }
        }
    }

    /// Appends losses computed elsewhere (the GPU) to run `i`, stopping at the first one
    /// that is not finite or above [`DIVERGED_LOSS`]: from there on the run has diverged.
    pub fn record(&mut self, i: usize, losses: &[f32]) {
        for &loss in losses {
            if self.diverged_at[i].is_some() {
                return;
            }
            if loss.is_finite() && loss <= DIVERGED_LOSS {
                self.losses[i].push(loss);
            } else {
                self.diverged_at[i] = Some(self.losses[i].len() + 1);
            }
        }
    }
}
// ANCHOR_END: network_race

impl NetworkRace {
    /// The fraction of the data set that network `i` classifies correctly (probability above
    /// 0.5 means class 1).
    pub fn accuracy(&self, i: usize) -> f32 {
        let probs = self.nets[i].predict_many(&self.data.points);
        let correct = probs.iter().zip(&self.data.labels).filter(|&(&p, &y)| (p > 0.5) == (y > 0.5)).count();
        correct as f32 / self.data.labels.len().max(1) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_free_moons_lie_on_their_circles() {
        let d = two_moons(50, 0.0, 0);
        assert_eq!(d.points.len(), 100);
        assert_eq!(d.labels.iter().filter(|&&y| y == 1.0).count(), 50);
        for (p, &y) in d.points.iter().zip(&d.labels) {
            // Undo the shift; class 0 circles (0, 0), class 1 circles (1, 0.5), radius 1.
            let centre = if y == 0.0 { [0.0, 0.0] } else { [1.0, 0.5] };
            let (dx, dy) = (p[0] + 0.5 - centre[0], p[1] + 0.25 - centre[1]);
            assert!((libm::hypotf(dx, dy) - 1.0).abs() < 1e-5, "{p:?}");
        }
        // The ends of the first moon: angle 0 at (1, 0) and angle π at (−1, 0), shifted.
        assert_eq!(d.points[0], [0.5, -0.25]);
        assert!((d.points[49][0] + 1.5).abs() < 1e-6);
        // Centred: the mean of all points is the origin (up to the moons' symmetry).
        let mean_x: f32 = d.points.iter().map(|p| p[0]).sum::<f32>() / 100.0;
        let mean_y: f32 = d.points.iter().map(|p| p[1]).sum::<f32>() / 100.0;
        assert!(mean_x.abs() < 1e-5 && mean_y.abs() < 1e-5, "{mean_x} {mean_y}");
    }

    #[test]
    fn the_noise_is_seeded() {
        assert_eq!(two_moons(30, 0.1, 4), two_moons(30, 0.1, 4));
        assert_ne!(two_moons(30, 0.1, 4), two_moons(30, 0.1, 5));
    }

    fn racers() -> Vec<Racer> {
        vec![Racer { method: Method::Sgd, lr: 0.5 }, Racer { method: Method::adam(), lr: 0.02 }]
    }

    #[test]
    fn every_racer_starts_from_the_same_network() {
        let race = NetworkRace::new(two_moons(50, 0.1, 0), &racers());
        assert_eq!(race.nets[0].w1, race.nets[1].w1);
        assert_eq!(race.nets[0].w2, race.nets[1].w2);
        let mut race = race;
        race.advance(1);
        // Same weights, same data: the same first loss, whatever the optimizer.
        assert_eq!(race.losses[0][0], race.losses[1][0]);
        assert_ne!(race.nets[0].w1, race.nets[1].w1);
    }

    #[test]
    fn both_optimizers_learn_the_moons() {
        let mut race = NetworkRace::new(two_moons(100, 0.1, 0), &racers());
        race.advance(600);
        for i in 0..2 {
            assert_eq!(race.losses[i].len(), 600);
            assert!(race.losses[i][599] < 0.5 * race.losses[i][0], "run {i}: {:?}", race.losses[i].last());
            assert!(race.accuracy(i) > 0.85, "run {i}: accuracy {}", race.accuracy(i));
        }
    }

    #[test]
    fn a_diverging_run_stops_and_says_when() {
        // SGD at the page's largest learning rate, 100.
        let mut race = NetworkRace::new(two_moons(50, 0.1, 0), &[Racer { method: Method::Sgd, lr: 100.0 }]);
        race.advance(50);
        let at = race.diverged_at[0].expect("lr 100 diverges");
        assert_eq!(race.losses[0].len(), at - 1);
        assert!(race.losses[0].iter().all(|l| l.is_finite()));
        // Recording from elsewhere follows the same rule.
        let mut other = NetworkRace::new(two_moons(5, 0.1, 0), &racers());
        other.record(1, &[0.7, 0.6, f32::INFINITY, 0.5]);
        assert_eq!((other.losses[1].clone(), other.diverged_at[1]), (vec![0.7, 0.6], Some(3)));
    }

    /// The page's default race: every optimizer lowers the loss and classifies most points.
    #[test]
    fn the_default_race_learns() {
        let mut race = NetworkRace::new(race_data(), &default_racers());
        race.advance(400);
        for i in 0..5 {
            let (first, last) = (race.losses[i][0], race.losses[i][399]);
            assert!(race.diverged_at[i].is_none() && last < 0.6 * first, "run {i}: {first} → {last}");
            assert!(race.accuracy(i) > 0.8, "run {i}: accuracy {}", race.accuracy(i));
        }
    }

    #[test]
    fn step_on_refuses_mismatched_targets() {
        let mut net = Mlp::new(race_config(racers()[0]));
        let d = two_moons(5, 0.0, 0);
        assert!(net.step_on(&d.points, &d.labels[..9]).is_err());
        assert!(net.step_on(&d.points, &d.labels).is_ok());
    }
}
