//! Chapter 10: the toy model of superposition of Elhage et al. (2022), "Toy Models of
//! Superposition".
//!
//! n features are squeezed into m < n hidden dimensions and read back out:
//!
//! ```text
//! h = W x            (W is m × n; column i, W_i, is feature i's direction)
//! x' = ReLU(Wᵀ h + b)
//! loss = mean over the batch of Σ_i I_i (x_i − x'_i)²
//! ```
//!
//! Feature i has importance I_i = decayⁱ and is zero with probability S (the sparsity),
//! otherwise uniform in [0, 1). The gradient is written out by hand ([`ToyModel::gradient`],
//! checked against finite differences in the tests) and the engine's Adam
//! ([`crate::core::optim::Optimizer`]) takes the steps.
//!
//! What a trained model shows: with dense features (S = 0) it keeps about m features, each
//! on its own orthogonal direction with ‖W_i‖ near 1, and drops the rest (‖W_i‖ near 0).
//! With sparse features it represents more than m, at the price of interference: with n = 5
//! and m = 2 the directions become antipodal pairs or a pentagon.

use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;

/// The largest number of features and hidden dimensions the lab accepts.
pub const MAX_FEATURES: usize = 40;
/// How many steps each logged loss averages.
pub const LOG_EVERY: usize = 25;

/// One toy model's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Features n.
    pub features: usize,
    /// Hidden dimensions m.
    pub hidden: usize,
    /// The probability S that a feature is zero in a sample.
    pub sparsity: f32,
    /// Feature i's importance is decayⁱ.
    pub decay: f32,
    /// Samples per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Seeds the initial weights and every batch.
    pub seed: u64,
}

impl Default for Config {
    /// The paper's two-dimensional picture: 5 features into 2 dimensions, importance 0.9ⁱ.
    fn default() -> Config {
        Config { features: 5, hidden: 2, sparsity: 0.9, decay: 0.9, batch: 256, lr: 0.01, seed: 1 }
    }
}

impl Config {
    /// Checks the settings, saying what is wrong in words the page can show.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=MAX_FEATURES).contains(&self.features) {
            return Err(format!("The number of features must be from 2 to {MAX_FEATURES}."));
        }
        if self.hidden < 1 || self.hidden >= self.features {
            return Err("The hidden dimensions m must be at least 1 and fewer than the features n.".into());
        }
        if !(0.0..1.0).contains(&self.sparsity) {
            return Err(
                "The sparsity S must be at least 0 and below 1 (at 1 every feature is always 0).".into()
            );
        }
        if !(self.decay > 0.0 && self.decay <= 1.0) {
            return Err("The importance decay must be above 0 and at most 1.".into());
        }
        if self.batch == 0 || !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err("The batch must be at least 1 and the learning rate above 0.".into());
        }
        Ok(())
    }

    /// The importances I_i = decayⁱ.
    pub fn importance(&self) -> Vec<f32> {
        (0..self.features).map(|i| libm::powf(self.decay, i as f32)).collect()
    }
}

/// Draws `batch` samples of `features` features: each is 0 with probability `sparsity`,
/// otherwise uniform in [0, 1). Row-major, one sample per row.
pub fn sample_batch(rng: &mut Rng, features: usize, batch: usize, sparsity: f32) -> Vec<f32> {
    (0..batch * features).map(|_| if rng.bernoulli(sparsity) { 0.0 } else { rng.uniform() }).collect()
}

/// What the page shows about a model at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// ‖W_i‖ for each feature: near 1 when the feature is represented, near 0 when dropped.
    pub norms: Vec<f32>,
    /// Σ_{j≠i} (Ŵ_i·W_j)² for each feature: how much the others leak into its direction
    /// (0 for a dropped feature).
    pub interference: Vec<f32>,
    /// WᵀW, n × n row-major: feature i read back along feature j's direction.
    pub gram: Vec<f32>,
    /// The output bias b.
    pub bias: Vec<f32>,
    /// The columns of W, one `Vec` of m numbers per feature.
    pub columns: Vec<Vec<f32>>,
}

impl Report {
    /// How many features have ‖W_i‖ above `threshold`.
    pub fn represented(&self, threshold: f32) -> usize {
        self.norms.iter().filter(|&&v| v > threshold).count()
    }
}

/// A toy model in training.
#[derive(Clone, Debug)]
pub struct ToyModel {
    pub config: Config,
    /// W, m × n row-major.
    pub w: Vec<f32>,
    /// b, n.
    pub b: Vec<f32>,
    importance: Vec<f32>,
    opt_w: Optimizer,
    opt_b: Optimizer,
    rng: Rng,
    steps: usize,
    pending: (f64, usize),
    /// The training loss averaged over each [`LOG_EVERY`] steps.
    pub losses: Vec<f32>,
}

impl ToyModel {
    /// A fresh model: W drawn from N(0, 2/(n + m)) (Xavier normal), b = 0.
    pub fn new(config: Config) -> Result<ToyModel, String> {
        config.validate()?;
        let (n, m) = (config.features, config.hidden);
        let mut rng = Rng::new(config.seed);
        let std = libm::sqrtf(2.0 / (n + m) as f32);
        let w = (0..m * n).map(|_| rng.normal_with(0.0, std)).collect();
        Ok(ToyModel {
            config,
            w,
            b: vec![0.0; n],
            importance: config.importance(),
            opt_w: Optimizer::new(Method::adam(), m * n),
            opt_b: Optimizer::new(Method::adam(), n),
            rng,
            steps: 0,
            pending: (0.0, 0),
            losses: Vec::new(),
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The model's output for one sample x: ReLU(WᵀW x + b).
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let (n, m) = (self.config.features, self.config.hidden);
        let h: Vec<f32> = (0..m).map(|k| (0..n).map(|j| self.w[k * n + j] * x[j]).sum()).collect();
        (0..n).map(|i| ((0..m).map(|k| self.w[k * n + i] * h[k]).sum::<f32>() + self.b[i]).max(0.0)).collect()
    }

    // ANCHOR: gradient
    /// The loss on a batch (row-major, n per sample) and its gradients with respect to W and b.
    ///
    /// With y = WᵀW x + b, x' = ReLU(y) and loss = (1/B) Σ I_i (x'_i − x_i)²:
    /// dL/dy_i = (2/B) I_i (x'_i − x_i) when y_i > 0, else 0; dL/db = dL/dy; and since W
    /// appears twice, dL/dW_ki = dL/dy_i · h_k + (W dL/dy)_k · x_i.
    pub fn gradient(&self, batch: &[f32]) -> (f32, Vec<f32>, Vec<f32>) {
        let (n, m) = (self.config.features, self.config.hidden);
        let samples = batch.len() / n;
        let scale = 1.0 / samples.max(1) as f32;
        let (mut loss, mut gw, mut gb) = (0.0f64, vec![0.0f32; m * n], vec![0.0f32; n]);
        let mut h = vec![0.0f32; m];
        let mut dy = vec![0.0f32; n];
        let mut g = vec![0.0f32; m];
        for x in batch.chunks_exact(n) {
            for (k, hk) in h.iter_mut().enumerate() {
                *hk = (0..n).map(|j| self.w[k * n + j] * x[j]).sum();
            }
            for i in 0..n {
                let y = (0..m).map(|k| self.w[k * n + i] * h[k]).sum::<f32>() + self.b[i];
                let out = y.max(0.0);
                let err = out - x[i];
                loss += f64::from(self.importance[i] * err * err);
                dy[i] = if y > 0.0 { 2.0 * scale * self.importance[i] * err } else { 0.0 };
                gb[i] += dy[i];
            }
            for (k, gk) in g.iter_mut().enumerate() {
                *gk = (0..n).map(|i| self.w[k * n + i] * dy[i]).sum();
            }
            for k in 0..m {
                for i in 0..n {
                    gw[k * n + i] += dy[i] * h[k] + g[k] * x[i];
                }
            }
        }
        ((loss / samples.max(1) as f64) as f32, gw, gb)
    }
    // ANCHOR_END: gradient

    /// Trains `steps` more steps, each on a fresh batch. Stops with a message if the loss or
    /// a weight stops being a finite number.
    pub fn train(&mut self, steps: usize) -> Result<(), String> {
        let c = self.config;
        for _ in 0..steps {
            let batch = sample_batch(&mut self.rng, c.features, c.batch, c.sparsity);
            let (loss, gw, gb) = self.gradient(&batch);
            if !loss.is_finite() {
                return Err(format!(
                    "Diverged at step {}: the loss is no longer a finite number.",
                    self.steps
                ));
            }
            self.opt_w.step(&mut self.w, &gw, c.lr).map_err(|e| e.to_string())?;
            self.opt_b.step(&mut self.b, &gb, c.lr).map_err(|e| e.to_string())?;
            if self.w.iter().chain(&self.b).any(|v| !v.is_finite()) {
                return Err(format!(
                    "Diverged at step {}: a weight is no longer a finite number.",
                    self.steps
                ));
            }
            self.steps += 1;
            self.pending.0 += f64::from(loss);
            self.pending.1 += 1;
            if self.pending.1 == LOG_EVERY {
                self.losses.push((self.pending.0 / LOG_EVERY as f64) as f32);
                self.pending = (0.0, 0);
            }
        }
        Ok(())
    }

    /// Feature norms, interference, WᵀW, the bias and W's columns.
    pub fn report(&self) -> Report {
        let (n, m) = (self.config.features, self.config.hidden);
        let columns: Vec<Vec<f32>> = (0..n).map(|i| (0..m).map(|k| self.w[k * n + i]).collect()).collect();
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let gram: Vec<f32> = (0..n * n).map(|ij| dot(&columns[ij / n], &columns[ij % n])).collect();
        let norms: Vec<f32> = (0..n).map(|i| libm::sqrtf(gram[i * n + i])).collect();
        let interference = (0..n)
            .map(|i| {
                if norms[i] <= 0.0 {
                    return 0.0;
                }
                (0..n).filter(|&j| j != i).map(|j| (gram[i * n + j] / norms[i]).powi(2)).sum()
            })
            .collect();
        Report { norms, interference, gram, bias: self.b.clone(), columns }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    fn trained(sparsity: f32, seed: u64, steps: usize) -> Report {
        let mut model = ToyModel::new(Config { sparsity, seed, ..Config::default() }).unwrap();
        model.train(steps).unwrap();
        model.report()
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let config = Config { features: 6, hidden: 3, sparsity: 0.3, decay: 0.8, ..Config::default() };
        let mut model = ToyModel::new(config).unwrap();
        model.b = vec![0.1, -0.05, 0.2, 0.0, 0.3, -0.1];
        let batch = sample_batch(&mut Rng::new(5), 6, 32, 0.3);
        let (_, gw, gb) = model.gradient(&batch);
        let h = 1e-3f32;
        let numeric = |model: &ToyModel, get: &dyn Fn(&mut ToyModel) -> &mut f32| {
            let (mut plus, mut minus) = (model.clone(), model.clone());
            *get(&mut plus) += h;
            *get(&mut minus) -= h;
            (plus.gradient(&batch).0 - minus.gradient(&batch).0) / (2.0 * h)
        };
        for p in 0..gw.len() {
            let fd = numeric(&model, &|m: &mut ToyModel| &mut m.w[p]);
            assert_close!(gw[p], fd, 2e-3, "dL/dW[{p}]");
        }
        for p in 0..gb.len() {
            let fd = numeric(&model, &|m: &mut ToyModel| &mut m.b[p]);
            assert_close!(gb[p], fd, 2e-3, "dL/db[{p}]");
        }
    }

    #[test]
    fn the_report_reads_w() {
        let config = Config { features: 3, hidden: 2, ..Config::default() };
        let mut model = ToyModel::new(config).unwrap();
        // Columns (1, 0), (−1, 0), (0, 0.5).
        model.w = vec![1.0, -1.0, 0.0, 0.0, 0.0, 0.5];
        let r = model.report();
        assert_eq!(r.norms, vec![1.0, 1.0, 0.5]);
        assert_eq!(r.gram, vec![1.0, -1.0, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 0.25]);
        // Antipodal features interfere fully with each other; the third with neither.
        assert_eq!(r.interference, vec![1.0, 1.0, 0.0]);
        assert_eq!(r.columns[2], vec![0.0, 0.5]);
        assert_eq!(r.represented(0.5), 2);
        // A sample with only feature 1 on comes back on feature 1 and is cut by the ReLU on 2.
        assert_eq!(model.forward(&[1.0, 0.0, 0.0]), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        let bad = |c: Config| ToyModel::new(c).unwrap_err();
        assert!(bad(Config { hidden: 5, ..Config::default() }).contains("fewer than"));
        assert!(bad(Config { features: 100, ..Config::default() }).contains("from 2 to 40"));
        assert!(bad(Config { sparsity: 1.0, ..Config::default() }).contains("below 1"));
        assert!(bad(Config { decay: 0.0, ..Config::default() }).contains("decay"));
        assert!(bad(Config { lr: f32::NAN, ..Config::default() }).contains("learning rate"));
        let mut wild = ToyModel::new(Config { lr: 1e30, ..Config::default() }).unwrap();
        assert!(wild.train(200).is_err() || wild.w.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn dense_features_keep_m_and_drop_the_rest() {
        let r = trained(0.0, 1, 3000);
        // The two most important features get orthogonal unit directions; the others vanish.
        assert_close!(r.norms[0], 1.0, 0.05);
        assert_close!(r.norms[1], 1.0, 0.05);
        assert!(r.norms[2..].iter().all(|&v| v < 0.1), "{:?}", r.norms);
        assert!(r.gram[1].abs() < 0.05, "W_0·W_1 = {}", r.gram[1]);
        assert_eq!(r.represented(0.5), 2);
        // A dropped feature is predicted by its mean through the bias: uniform on [0, 1), 0.5.
        assert!(r.bias[2..].iter().all(|&b| (b - 0.5).abs() < 0.05), "{:?}", r.bias);
    }

    /// The angle of each column of a two-dimensional W, in degrees from 0 to 360.
    fn angles(r: &Report) -> Vec<f32> {
        let mut a: Vec<f32> =
            r.columns.iter().map(|c| libm::atan2f(c[1], c[0]).to_degrees().rem_euclid(360.0)).collect();
        a.sort_by(f32::total_cmp);
        a
    }

    #[test]
    fn sparse_features_are_packed_in_superposition() {
        // S = 0.9, seed 1: all five features are represented, as a regular pentagon.
        let r = trained(0.9, 1, 3000);
        assert!(r.norms.iter().all(|&v| v > 1.0 && v < 1.2), "{:?}", r.norms);
        assert_eq!(r.represented(0.5), 5);
        let a = angles(&r);
        for (i, next) in a.iter().skip(1).chain([&(a[0] + 360.0)]).enumerate() {
            assert_close!(next - a[i], 72.0, 3.0, "gap after column {i}");
        }
        // Each feature now interferes with the others: Σ (Ŵ_i·W_j)² well above 1.
        assert!(r.interference.iter().all(|&v| v > 1.5), "{:?}", r.interference);
        // The negative bias is what filters the small interference out.
        assert!(r.bias.iter().all(|&b| b < -0.15), "{:?}", r.bias);
        // Other seeds also pack more than m = 2 features.
        for seed in 2..=4 {
            let r = trained(0.9, seed, 3000);
            assert!(r.represented(0.5) > 2, "seed {seed}: {:?}", r.norms);
        }
    }

    #[test]
    fn in_between_four_features_form_two_antipodal_pairs() {
        // S = 0.8, seed 1: four features kept, on two lines at right angles, each line shared
        // by two features pointing opposite ways; the least important feature is dropped.
        let r = trained(0.8, 1, 3000);
        assert_eq!(r.represented(0.5), 4, "{:?}", r.norms);
        assert!(r.norms[4] < 0.1);
        let kept = Report { columns: r.columns[..4].to_vec(), ..Report::default() };
        let a = angles(&kept);
        for (i, next) in a.iter().skip(1).chain([&(a[0] + 360.0)]).enumerate() {
            assert_close!(next - a[i], 90.0, 3.0, "gap after column {i}");
        }
    }
}
