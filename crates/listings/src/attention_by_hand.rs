//! Chapter 3: single-head self-attention from scratch, on a small matrix type of its own.

use std::io::{self, Write};

// ANCHOR: mat
/// A dense row-major matrix: element (r, c) lives at data[r * cols + c].
#[derive(Clone, Debug)]
struct Mat {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Mat {
    fn from_rows(rows: &[&[f64]]) -> Self {
        let cols = rows[0].len();
        let mut data = Vec::with_capacity(rows.len() * cols);
        for r in rows {
            assert_eq!(r.len(), cols, "ragged rows");
            data.extend_from_slice(r);
        }
        Mat { rows: rows.len(), cols, data }
    }

    fn zeros(rows: usize, cols: usize) -> Self {
        Mat { rows, cols, data: vec![0.0; rows * cols] }
    }

    fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    fn set(&mut self, r: usize, c: usize, v: f64) {
        self.data[r * self.cols + c] = v;
    }

    /// (m, k) x (k, n) -> (m, n). Panics on a shape mismatch.
    fn matmul(&self, other: &Mat) -> Mat {
        assert_eq!(
            self.cols, other.rows,
            "shape mismatch: ({}, {}) x ({}, {})",
            self.rows, self.cols, other.rows, other.cols
        );
        let mut out = Mat::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(i, k);
                for j in 0..other.cols {
                    out.data[i * other.cols + j] += a * other.get(k, j);
                }
            }
        }
        out
    }

    fn transpose(&self) -> Mat {
        let mut out = Mat::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                out.set(c, r, self.get(r, c));
            }
        }
        out
    }

    fn scale(&self, s: f64) -> Mat {
        Mat { rows: self.rows, cols: self.cols, data: self.data.iter().map(|v| v * s).collect() }
    }

    fn add(&self, other: &Mat) -> Mat {
        assert_eq!((self.rows, self.cols), (other.rows, other.cols));
        let data = self.data.iter().zip(&other.data).map(|(a, b)| a + b).collect();
        Mat { rows: self.rows, cols: self.cols, data }
    }

    fn print(&self, out: &mut impl Write, name: &str) -> io::Result<()> {
        writeln!(out, "{name} ({} x {}):", self.rows, self.cols)?;
        for r in 0..self.rows {
            let cells: Vec<String> = (0..self.cols).map(|c| format!("{:>7.3}", self.get(r, c))).collect();
            writeln!(out, "  [{}]", cells.join(" "))?;
        }
        Ok(())
    }
}
// ANCHOR_END: mat

// ANCHOR: softmax
/// Numerically stable softmax of one slice, in place.
fn softmax_in_place(v: &mut [f64]) {
    // Subtracting the maximum leaves the result unchanged but keeps exp() <= 1.
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = libm::exp(*x - m); // exp(-inf) = 0, so masked entries vanish
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// Softmax applied to each row independently (over the key axis).
fn softmax_rows(m: &Mat) -> Mat {
    let mut out = m.clone();
    for row in out.data.chunks_mut(m.cols) {
        softmax_in_place(row);
    }
    out
}
// ANCHOR_END: softmax

// ANCHOR: mask
/// Additive causal mask: 0 on and below the diagonal, -inf above it.
fn causal_mask(n: usize) -> Mat {
    let mut m = Mat::zeros(n, n);
    for i in 0..n {
        for j in (i + 1)..n {
            m.set(i, j, f64::NEG_INFINITY);
        }
    }
    m
}
// ANCHOR_END: mask

// ANCHOR: attention
/// Single-head scaled dot-product self-attention.
/// x: (seq_len, d_model); wq, wk, wv: (d_model, d_k); mask: (seq_len, seq_len).
/// Returns (output, weights) with shapes (seq_len, d_k) and (seq_len, seq_len).
fn self_attention(x: &Mat, wq: &Mat, wk: &Mat, wv: &Mat, mask: Option<&Mat>) -> (Mat, Mat) {
    let q = x.matmul(wq); // (seq_len, d_k)
    let k = x.matmul(wk); // (seq_len, d_k)
    let v = x.matmul(wv); // (seq_len, d_k)

    let d_k = q.cols as f64;
    let mut scores = q.matmul(&k.transpose()).scale(1.0 / d_k.sqrt()); // (seq_len, seq_len)
    if let Some(m) = mask {
        scores = scores.add(m);
    }

    let weights = softmax_rows(&scores); // each row sums to 1
    let output = weights.matmul(&v); // (seq_len, d_k)
    (output, weights)
}

/// Runs the program, writing what it prints to `out`.
pub fn main(out: &mut impl Write) -> io::Result<()> {
    // Four tokens, d_model = 3.
    let x = Mat::from_rows(&[&[1.0, 0.0, 1.0], &[0.0, 2.0, 0.0], &[1.0, 1.0, 0.0], &[0.0, 1.0, 1.0]]);
    // Projections to d_k = 2.
    let wq = Mat::from_rows(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]]);
    let wk = Mat::from_rows(&[&[0.5, 1.0], &[1.0, 0.0], &[0.0, 0.5]]);
    let wv = Mat::from_rows(&[&[1.0, 0.0], &[0.0, 1.0], &[0.5, 0.5]]);

    let mask = causal_mask(4);
    mask.print(out, "causal mask M")?;

    // The scaled scores before masking, for inspection.
    let k = x.matmul(&wk);
    let raw = x.matmul(&wq).matmul(&k.transpose()).scale(1.0 / 2f64.sqrt());
    raw.print(out, "scores Q K^T / sqrt(d_k)")?;

    let (output, w) = self_attention(&x, &wq, &wk, &wv, Some(&mask));
    w.print(out, "attention weights")?;
    let sums: Vec<String> = w.data.chunks(w.cols).map(|r| format!("{:.3}", r.iter().sum::<f64>())).collect();
    writeln!(out, "row sums: [{}]", sums.join(", "))?;
    output.print(out, "output = weights V")?;
    Ok(())
}
// ANCHOR_END: attention

// ANCHOR: transposed_query
/// Multiplies the four tokens by a query projection stored transposed, (d_k, d_model) instead
/// of (d_model, d_k), and prints the first line of the panic it causes.
pub fn transposed_query(out: &mut impl Write) -> io::Result<()> {
    let x = Mat::from_rows(&[&[1.0, 0.0, 1.0], &[0.0, 2.0, 0.0], &[1.0, 1.0, 0.0], &[0.0, 1.0, 1.0]]);
    let wq_transposed = Mat::from_rows(&[&[1.0, 0.0, 1.0], &[0.0, 1.0, 1.0]]);
    let Err(panic) = std::panic::catch_unwind(|| x.matmul(&wq_transposed)) else {
        return writeln!(out, "no panic: the shapes matched");
    };
    let message = panic.downcast_ref::<String>().map_or("", |m| m.as_str());
    writeln!(out, "{}", message.lines().next().unwrap_or(""))
}
// ANCHOR_END: transposed_query
