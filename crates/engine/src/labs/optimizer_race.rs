//! Chapter 8's race: optimizers walking on two-parameter loss surfaces.
//!
//! With only two parameters a loss is a landscape we can draw, and an optimizer's run is a
//! path across it. Each surface here isolates one difficulty that real networks have in
//! millions of dimensions: a narrow valley (ill conditioning), Rosenbrock's curved valley, a
//! saddle point, and a shallow basin beside a deeper one. [`race`] starts several optimizers
//! from the same point and records where each one goes. The updates are made by
//! [`crate::core::optim::Optimizer`], the same code that trains the book's networks: the surface
//! only supplies the gradient.

use crate::core::optim::{Method, Optimizer};

/// A two-parameter loss with a known formula and gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// f = ½(x² + 25y²): the chapter's narrow valley, curvature 1 along x and 25 along y.
    Valley,
    /// f = (1 − x)² + 100(y − x²)²: a curved, flat-bottomed valley; the minimum is at (1, 1).
    Rosenbrock,
    /// f = ½x² + ¼y⁴ − ½y²: a saddle at the origin (downhill only along y), minima at (0, ±1).
    Saddle,
    /// f = (x² − 1)² + ½x + y²: a shallow basin near x = 0.93 and a deeper one near x = −1.06.
    TwoBasins,
}

/// The rectangle drawn for a surface: x from `x.0` to `x.1`, y from `y.0` to `y.1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Bounds {
    /// Whether `p` lies inside the rectangle (edges included).
    pub fn contains(&self, p: [f64; 2]) -> bool {
        (self.x.0..=self.x.1).contains(&p[0]) && (self.y.0..=self.y.1).contains(&p[1])
    }
}

impl Surface {
    /// Every surface, in the order the page lists them.
    pub const ALL: [Surface; 4] = [Surface::Valley, Surface::Rosenbrock, Surface::Saddle, Surface::TwoBasins];

    /// A short name for the page.
    pub fn name(self) -> &'static str {
        match self {
            Surface::Valley => "narrow valley",
            Surface::Rosenbrock => "Rosenbrock",
            Surface::Saddle => "saddle",
            Surface::TwoBasins => "two basins",
        }
    }

    /// A stable identifier (for form values and tests).
    pub fn key(self) -> &'static str {
        match self {
            Surface::Valley => "valley",
            Surface::Rosenbrock => "rosenbrock",
            Surface::Saddle => "saddle",
            Surface::TwoBasins => "two-basins",
        }
    }

    /// Looks a surface up by [`Surface::key`].
    pub fn from_key(key: &str) -> Option<Surface> {
        Surface::ALL.into_iter().find(|s| s.key() == key)
    }

    // ANCHOR: surfaces
    /// The loss at `p = [x, y]`.
    pub fn value(self, p: [f64; 2]) -> f64 {
        let [x, y] = p;
        match self {
            Surface::Valley => 0.5 * (x * x + 25.0 * y * y),
            Surface::Rosenbrock => (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
            Surface::Saddle => 0.5 * x * x + 0.25 * y.powi(4) - 0.5 * y * y,
            Surface::TwoBasins => (x * x - 1.0).powi(2) + 0.5 * x + y * y,
        }
    }

    /// The gradient [∂f/∂x, ∂f/∂y] at `p`, differentiated by hand from [`Surface::value`].
    pub fn gradient(self, p: [f64; 2]) -> [f64; 2] {
        let [x, y] = p;
        match self {
            Surface::Valley => [x, 25.0 * y],
            Surface::Rosenbrock => {
                let inner = y - x * x; // the valley floor is y = x²
                [-2.0 * (1.0 - x) - 400.0 * x * inner, 200.0 * inner]
            }
            Surface::Saddle => [x, y * y * y - y],
            Surface::TwoBasins => [4.0 * x * (x * x - 1.0) + 0.5, 2.0 * y],
        }
    }
    // ANCHOR_END: surfaces

    /// The rectangle the page draws.
    pub fn bounds(self) -> Bounds {
        match self {
            Surface::Valley => Bounds { x: (-11.0, 11.0), y: (-4.0, 4.0) },
            Surface::Rosenbrock => Bounds { x: (-2.0, 2.0), y: (-1.0, 3.0) },
            Surface::Saddle => Bounds { x: (-2.5, 2.5), y: (-2.0, 2.0) },
            Surface::TwoBasins => Bounds { x: (-2.0, 2.2), y: (-1.5, 1.5) },
        }
    }

    /// Where the race starts until the reader picks another point.
    pub fn default_start(self) -> [f64; 2] {
        match self {
            // The chapter's starting point.
            Surface::Valley => [10.0, 1.0],
            Surface::Rosenbrock => [-1.5, 2.0],
            // Almost exactly on the ridge: only a sliver of gradient points off it.
            Surface::Saddle => [2.0, 0.01],
            Surface::TwoBasins => [2.0, 1.0],
        }
    }

    /// The lowest value of the surface, to compare a run's loss against.
    pub fn minimum(self) -> f64 {
        match self {
            Surface::Valley | Surface::Rosenbrock => 0.0,
            Surface::Saddle => -0.25,
            // At the deeper basin's bottom, x ≈ −1.0575, where 4x(x² − 1) = −½.
            Surface::TwoBasins => -0.514_754,
        }
    }

    /// The surface sampled on a `columns` x `rows` grid over its bounds, row by row from
    /// the top (largest y), each row from left to right: the input for contour lines.
    pub fn grid(self, columns: usize, rows: usize) -> Vec<f64> {
        let b = self.bounds();
        let (columns, rows) = (columns.max(2), rows.max(2));
        let mut values = Vec::with_capacity(columns * rows);
        for row in 0..rows {
            let y = b.y.1 - (b.y.1 - b.y.0) * row as f64 / (rows - 1) as f64;
            for column in 0..columns {
                let x = b.x.0 + (b.x.1 - b.x.0) * column as f64 / (columns - 1) as f64;
                values.push(self.value([x, y]));
            }
        }
        values
    }
}

/// One contestant: an update rule and its learning rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Racer {
    pub method: Method,
    pub lr: f32,
}

/// Where one optimizer went.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The start, then the point after each step, up to the last finite one.
    pub points: Vec<[f32; 2]>,
    /// The loss at each point.
    pub losses: Vec<f64>,
    /// The step at which the run left the finite world (or [`ESCAPE`]), if it did.
    pub diverged_at: Option<usize>,
}

impl Path {
    /// The loss at the latest point no later than `step`.
    pub fn loss_at(&self, step: usize) -> f64 {
        self.losses[step.min(self.losses.len() - 1)]
    }
}

/// A run whose coordinates grow past this size has diverged: every surface is drawn within
/// a few units of the origin, so such a point is hopelessly lost (and its loss would soon
/// overflow anyway).
pub const ESCAPE: f64 = 1e4;

// ANCHOR: race
/// Runs `racer` for up to `steps` steps from `start`, stopping early if it diverges.
pub fn descend(surface: Surface, start: [f64; 2], racer: Racer, steps: usize) -> Path {
    // The two coordinates are the parameters; one optimizer holds their state.
    let mut optimizer = Optimizer::new(racer.method, 2);
    let mut params = [start[0] as f32, start[1] as f32];
    let as_f64 = |p: [f32; 2]| [p[0] as f64, p[1] as f64];
    let mut path =
        Path { points: vec![params], losses: vec![surface.value(as_f64(params))], diverged_at: None };
    for step in 1..=steps {
        let g = surface.gradient(as_f64(params));
        let grads = [g[0] as f32, g[1] as f32];
        optimizer.step(&mut params, &grads, racer.lr).expect("two parameters and two gradients");
        let loss = surface.value(as_f64(params));
        let lost = params.iter().any(|c| !c.is_finite() || c.abs() as f64 > ESCAPE);
        if lost || !loss.is_finite() {
            path.diverged_at = Some(step);
            break;
        }
        path.points.push(params);
        path.losses.push(loss);
    }
    path
}

/// Starts every racer from the same point on the same surface; returns their paths in order.
pub fn race(surface: Surface, start: [f64; 2], racers: &[Racer], steps: usize) -> Vec<Path> {
    racers.iter().map(|&racer| descend(surface, start, racer, steps)).collect()
}
// ANCHOR_END: race

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn gradients_match_finite_differences() {
        let h = 1e-6;
        for surface in Surface::ALL {
            for p in [[0.3, -0.7], [-1.2, 0.4], [1.5, 1.9], [-0.05, 0.02]] {
                let g = surface.gradient(p);
                for i in 0..2 {
                    let (mut plus, mut minus) = (p, p);
                    plus[i] += h;
                    minus[i] -= h;
                    let numeric = (surface.value(plus) - surface.value(minus)) / (2.0 * h);
                    assert_close!(g[i], numeric, 1e-5 * (1.0 + numeric.abs()));
                }
            }
        }
    }

    #[test]
    fn each_surface_has_its_stated_minimum() {
        assert_close!(Surface::Valley.value([0.0, 0.0]), 0.0, 0.0);
        assert_close!(Surface::Rosenbrock.value([1.0, 1.0]), 0.0, 0.0);
        assert_eq!(Surface::Rosenbrock.gradient([1.0, 1.0]), [0.0, 0.0]);
        assert_close!(Surface::Saddle.value([0.0, 1.0]), -0.25, 0.0);
        // The saddle's origin is flat but not a minimum: f(0, y) < 0 for small y.
        assert_eq!(Surface::Saddle.gradient([0.0, 0.0]), [0.0, 0.0]);
        assert!(Surface::Saddle.value([0.0, 0.1]) < 0.0);
        // Two basins: the gradient vanishes near x = −1.0575 (deep) and x = 0.9304 (shallow).
        let deep = [-1.057_454, 0.0];
        let shallow = [0.930_4, 0.0];
        assert_close!(Surface::TwoBasins.gradient(deep)[0], 0.0, 1e-3);
        assert_close!(Surface::TwoBasins.gradient(shallow)[0], 0.0, 1e-3);
        assert_close!(Surface::TwoBasins.value(deep), Surface::TwoBasins.minimum(), 1e-4);
        assert!(Surface::TwoBasins.value(shallow) > Surface::TwoBasins.value(deep) + 0.99);
        for s in Surface::ALL {
            assert!(s.bounds().contains(s.default_start()));
            assert_eq!(Surface::from_key(s.key()), Some(s));
        }
    }

    #[test]
    fn the_grid_runs_from_the_top_left() {
        let g = Surface::Valley.grid(3, 2);
        // Top row y = 4: x = −11, 0, 11. Bottom row y = −4.
        assert_eq!(g, vec![260.5, 200.0, 260.5, 260.5, 200.0, 260.5]);
    }

    fn first_points(method: Method, lr: f32, steps: usize) -> Vec<[f32; 2]> {
        descend(Surface::Valley, [10.0, 1.0], Racer { method, lr }, steps).points
    }

    /// Each optimizer's first steps on the valley from (10, 1), where ∇f = (x, 25y) = (10, 25).
    #[test]
    fn first_steps_by_hand() {
        // SGD, η = 0.07: the chapter's table, (9.3, −0.75) then (8.649, 0.5625).
        let p = first_points(Method::Sgd, 0.07, 2);
        assert_close!(p[1].map(f64::from), [9.3, -0.75], 1e-6);
        assert_close!(p[2].map(f64::from), [8.649, 0.5625], 1e-5);
        // Momentum (EMA form), β = 0.5, η = 0.2: v = 0.5·(10, 25) = (5, 12.5), θ = (9, −1.5).
        // Then ∇f = (9, −37.5), v = (2.5 + 4.5, 6.25 − 18.75) = (7, −12.5), θ = (7.6, 1).
        let p = first_points(Method::Momentum { beta: 0.5 }, 0.2, 2);
        assert_close!(p[1].map(f64::from), [9.0, -1.5], 1e-6);
        assert_close!(p[2].map(f64::from), [7.6, 1.0], 1e-5);
        // RMSProp, β = 0.9: s = 0.1·g², so the step is η·g/(√0.1·|g|) = η·√10 per coordinate.
        let p = first_points(Method::RmsProp { beta: 0.9, eps: 1e-8 }, 0.01, 1);
        let step = 0.01 * 10f64.sqrt();
        assert_close!(p[1].map(f64::from), [10.0 - step, 1.0 - step], 1e-5);
        // Adam: the first step is η·sign(g) in each coordinate.
        let p = first_points(Method::adam(), 0.1, 1);
        assert_close!(p[1].map(f64::from), [9.9, 0.9], 1e-6);
        // Adam's second step: g = (9.9, 22.5). m = 0.9·0.1·g1 + 0.1·g2, v likewise with g².
        //   x: m = 0.9 + 0.99 = 1.89, m̂ = 1.89/0.19 = 9.947368;
        //      v = 0.999·0.1 + 0.001·98.01 = 0.19791, v̂ = 0.19791/0.001999 = 99.004502,
        //      step = 0.1·9.947368/9.950101 = 0.0999725, x = 9.8000275.
        //   y: m = 2.25 + 2.25 = 4.5, m̂ = 23.684211; v = 0.624375 + 0.50625 = 1.130625,
        //      v̂ = 565.595298, √v̂ = 23.782247, step = 0.0995878, y = 0.8004122.
        let p = first_points(Method::adam(), 0.1, 2);
        assert_close!(p[2].map(f64::from), [9.800_027_5, 0.800_412_2], 2e-6);
        // AdamW, λ = 0.1: Adam's step plus η·λ·θ = 0.1·0.1·(10, 1) = (0.1, 0.01).
        let p = first_points(Method::adamw(0.1), 0.1, 1);
        assert_close!(p[1].map(f64::from), [9.8, 0.89], 1e-6);
    }

    #[test]
    fn race_gives_every_racer_the_same_start() {
        let racers = [Racer { method: Method::Sgd, lr: 0.07 }, Racer { method: Method::adam(), lr: 0.1 }];
        let paths = race(Surface::Valley, [10.0, 1.0], &racers, 50);
        assert_eq!(paths.len(), 2);
        for path in &paths {
            assert_eq!(path.points[0], [10.0, 1.0]);
            assert_eq!(path.points.len(), 51);
            assert_eq!(path.losses.len(), 51);
            assert_eq!(path.diverged_at, None);
            assert_close!(path.losses[0], 62.5, 0.0);
            assert!(path.loss_at(50) < 62.5);
        }
        // SGD, as the chapter works out: after six steps f = 21.3258.
        assert_close!(paths[0].losses[6], 21.3258, 1e-3);
    }

    #[test]
    fn divergence_is_caught_and_dated() {
        // η = 0.09 on the valley: y is multiplied by −1.25 each step, so |y| passes 10⁴ when
        // 1.25^k > 10⁴, at k = 42. The path keeps the 41 steps before it.
        let path = descend(Surface::Valley, [10.0, 1.0], Racer { method: Method::Sgd, lr: 0.09 }, 200);
        assert_eq!(path.diverged_at, Some(42));
        assert_eq!(path.points.len(), 42);
        assert!(path.losses.iter().all(|l| l.is_finite()));
        // Rosenbrock with η = 10: ∇f(−1.5, 2) = (−155, −50), so the first step lands at
        // (1548.5, 502), still inside 10⁴; the gradient there is about 1.5·10¹², and the second
        // step flies off. Nothing panics.
        let path = descend(Surface::Rosenbrock, [-1.5, 2.0], Racer { method: Method::Sgd, lr: 10.0 }, 200);
        assert_eq!(path.diverged_at, Some(2));
        assert_eq!(path.points.len(), 2);
        assert_close!(path.points[1].map(f64::from), [1548.5, 502.0], 1e-3);
        assert_eq!(path.loss_at(100), path.losses[1]);
    }

    #[test]
    fn adam_escapes_the_saddle_faster_than_sgd() {
        // From (2, 0.01) the pull off the ridge is only y³ − y ≈ −0.01. SGD multiplies y by
        // about 1 + η per step; Adam's normalized steps move y by about η from the start.
        let sgd = descend(Surface::Saddle, [2.0, 0.01], Racer { method: Method::Sgd, lr: 0.1 }, 30);
        let adam = descend(Surface::Saddle, [2.0, 0.01], Racer { method: Method::adam(), lr: 0.1 }, 30);
        assert!(sgd.points[30][1].abs() < 0.2, "SGD y = {}", sgd.points[30][1]);
        assert!(adam.points[30][1].abs() > 0.9, "Adam y = {}", adam.points[30][1]);
    }
}
