//! Chapter 3: the XOR network written out by hand, every shape in a comment.

use std::io::{self, Write};

use std::collections::BTreeMap;

use engine::core::rng::Rng;

// ANCHOR: params
const N: usize = 4; // batch size: all four XOR rows
const D_IN: usize = 2; // input features
const H: usize = 4; // hidden units

struct Params {
    w1: [[f64; H]; D_IN], // (2, 4)
    b1: [f64; H],         // (1, 4)
    w2: [f64; H],         // (4, 1), stored as a flat column
    b2: f64,              // (1, 1)
}

impl Params {
    /// He initialization: N(0, 1) scaled by sqrt(2 / fan_in); biases start at zero.
    fn he_init(rng: &mut Rng) -> Self {
        let s1 = (2.0 / D_IN as f64).sqrt();
        let s2 = (2.0 / H as f64).sqrt();
        let mut w1 = [[0.0; H]; D_IN];
        for row in w1.iter_mut() {
            for w in row.iter_mut() {
                *w = f64::from(rng.normal()) * s1;
            }
        }
        let mut w2 = [0.0; H];
        for w in w2.iter_mut() {
            *w = f64::from(rng.normal()) * s2;
        }
        Params { w1, b1: [0.0; H], w2, b2: 0.0 }
    }
}
// ANCHOR_END: params

// ANCHOR: forward
/// Everything the backward pass will need, saved during the forward pass.
struct Cache {
    z1: [[f64; H]; N], // (4, 4) hidden pre-activations
    a1: [[f64; H]; N], // (4, 4) hidden activations
    a2: [f64; N],      // (4, 1) predictions
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-z))
}

fn forward(p: &Params, x: &[[f64; D_IN]; N]) -> Cache {
    let mut z1 = [[0.0; H]; N];
    let mut a1 = [[0.0; H]; N];
    let mut a2 = [0.0; N];
    for n in 0..N {
        // Z1 = X W1 + b1, then ReLU
        for j in 0..H {
            let mut s = p.b1[j];
            for i in 0..D_IN {
                s += x[n][i] * p.w1[i][j];
            }
            z1[n][j] = s;
            a1[n][j] = s.max(0.0);
        }
        // z2 = A1 W2 + b2, then sigmoid
        let mut z2 = p.b2;
        for j in 0..H {
            z2 += a1[n][j] * p.w2[j];
        }
        a2[n] = sigmoid(z2);
    }
    Cache { z1, a1, a2 }
}
// ANCHOR_END: forward

// ANCHOR: loss
/// Mean binary cross-entropy; eps keeps ln away from ln(0).
fn bce_loss(a2: &[f64; N], y: &[f64; N]) -> f64 {
    let eps = 1e-8;
    let mut total = 0.0;
    for n in 0..N {
        total += y[n] * libm::log(a2[n] + eps) + (1.0 - y[n]) * libm::log(1.0 - a2[n] + eps);
    }
    -total / N as f64
}
// ANCHOR_END: loss

// ANCHOR: backward
struct Grads {
    w1: [[f64; H]; D_IN],
    b1: [f64; H],
    w2: [f64; H],
    b2: f64,
}

fn backward(p: &Params, x: &[[f64; D_IN]; N], y: &[f64; N], c: &Cache) -> Grads {
    let inv_n = 1.0 / N as f64;

    // Output error: dZ2 = A2 - Y, shape (4, 1)
    let mut dz2 = [0.0; N];
    for n in 0..N {
        dz2[n] = c.a2[n] - y[n];
    }

    // dW2 = A1^T dZ2 / N: (4, 4)^T x (4, 1) -> (4, 1)
    // db2 = mean of dZ2 over the batch
    let mut w2 = [0.0; H];
    let mut b2 = 0.0;
    for n in 0..N {
        for j in 0..H {
            w2[j] += c.a1[n][j] * dz2[n] * inv_n;
        }
        b2 += dz2[n] * inv_n;
    }

    // dA1 = dZ2 W2^T: (4, 1) x (1, 4) -> (4, 4)
    // dZ1 = dA1 * 1[Z1 > 0]   (ReLU derivative, elementwise)
    let mut dz1 = [[0.0; H]; N];
    for n in 0..N {
        for j in 0..H {
            let da1 = dz2[n] * p.w2[j];
            dz1[n][j] = if c.z1[n][j] > 0.0 { da1 } else { 0.0 };
        }
    }

    // dW1 = X^T dZ1 / N: (2, 4) x (4, 4) -> (2, 4)
    // db1 = column means of dZ1, shape (1, 4)
    let mut w1 = [[0.0; H]; D_IN];
    let mut b1 = [0.0; H];
    for n in 0..N {
        for j in 0..H {
            for i in 0..D_IN {
                w1[i][j] += x[n][i] * dz1[n][j] * inv_n;
            }
            b1[j] += dz1[n][j] * inv_n;
        }
    }

    Grads { w1, b1, w2, b2 }
}
// ANCHOR_END: backward

// ANCHOR: training
fn update(p: &mut Params, g: &Grads, lr: f64) {
    for i in 0..D_IN {
        for j in 0..H {
            p.w1[i][j] -= lr * g.w1[i][j];
        }
    }
    for j in 0..H {
        p.b1[j] -= lr * g.b1[j];
        p.w2[j] -= lr * g.w2[j];
    }
    p.b2 -= lr * g.b2;
}

/// Hidden units whose pre-activation is <= 0 for every input in the batch.
/// Such a unit outputs 0 everywhere and receives zero gradient: it is dead.
fn dead_units(c: &Cache) -> Vec<usize> {
    (0..H).filter(|&j| (0..N).all(|n| c.z1[n][j] <= 0.0)).collect()
}

/// Trains the network from `seed`, writing what it prints to `out`.
pub fn main(seed: u64, out: &mut impl Write) -> io::Result<()> {
    let x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = [0.0, 1.0, 1.0, 0.0];

    let mut rng = Rng::new(seed);
    let mut p = Params::he_init(&mut rng);
    let lr = 0.5;
    writeln!(out, "seed {seed}: dead hidden units at start = {:?}", dead_units(&forward(&p, &x)))?;

    for epoch in 0..10_000 {
        let cache = forward(&p, &x);
        let loss = bce_loss(&cache.a2, &y);
        let grads = backward(&p, &x, &y, &cache);
        update(&mut p, &grads, lr);
        if epoch % 2_000 == 0 {
            writeln!(out, "epoch {epoch:>5}: loss = {loss:.4}")?;
        }
    }

    let c = forward(&p, &x);
    writeln!(out, "after training: loss = {:.4}", bce_loss(&c.a2, &y))?;
    writeln!(out, "dead hidden units at end = {:?}", dead_units(&c))?;
    let preds: Vec<String> = c.a2.iter().map(|v| format!("{v:.4}")).collect();
    writeln!(out, "predictions = [{}]", preds.join(", "))?;
    Ok(())
}
// ANCHOR_END: training

// ANCHOR: stuck_runs
/// Trains from seeds 0 to 999 and counts the runs whose final loss stays above 0.01, grouped
/// by the loss (to four decimals) they end on.
pub fn stuck_runs(out: &mut impl Write) -> io::Result<()> {
    let x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = [0.0, 1.0, 1.0, 0.0];
    let mut plateaus: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..1_000 {
        let mut p = Params::he_init(&mut Rng::new(seed));
        for _ in 0..10_000 {
            let cache = forward(&p, &x);
            let grads = backward(&p, &x, &y, &cache);
            update(&mut p, &grads, 0.5);
        }
        let loss = bce_loss(&forward(&p, &x).a2, &y);
        if loss > 0.01 {
            *plateaus.entry(format!("{loss:.4}")).or_default() += 1;
        }
    }
    writeln!(out, "stuck runs out of 1000: {}", plateaus.values().sum::<usize>())?;
    for (loss, runs) in &plateaus {
        writeln!(out, "  final loss {loss}: {runs} runs")?;
    }
    Ok(())
}
// ANCHOR_END: stuck_runs
