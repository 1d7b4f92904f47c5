//! Benchmark: the engine's matmul against the `matrixmultiply` crate, in one process.
//!
//! Run with `cargo xtask bench` (release build), or `cargo run --release -p engine --example
//! bench_matmul [rounds]`. Each product is first checked (the engine's kernel against the
//! one it replaced, bit for bit, and against matrixmultiply to rounding), then the three are
//! timed one after another in every round, so all see the same machine load; the medians
//! over rounds and their ratios are printed. Also times chapter 3's XOR run (10,000 epochs) on the CPU path.

use std::hint::black_box;
use std::time::Instant;

use engine::core::rng::Rng;
use engine::core::tensor::matmul::{TILE_COLS, TILE_ROWS};
use engine::core::tensor::{matmul_transposed, matmul_transposed_into, Tensor};
use engine::models::mlp::{Mlp, XorConfig};

/// Seconds this thread has spent running on a CPU (Linux: /proc/thread-self/schedstat), so
/// that time the two shared cores give to other jobs is not counted; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(stat.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
}

/// Seconds per call of `f` over `reps` calls: on-CPU time where the system reports it, else
/// wall time.
fn seconds_per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..reps {
        f();
    }
    let elapsed = match (cpu, thread_cpu_seconds()) {
        (Some(start), Some(end)) => end - start,
        _ => wall.elapsed().as_secs_f64(),
    };
    elapsed / reps as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Which vector instructions this build may use: the x86-64 baseline (SSE2) unless it was
/// built for a CPU with more (`-C target-cpu=native`, as `cargo xtask bench` builds it too).
fn build_description() -> &'static str {
    if cfg!(target_feature = "avx512f") {
        "for this CPU (AVX-512, AVX2; no fused multiply-add)"
    } else if cfg!(target_feature = "avx2") {
        "for this CPU (AVX2; no fused multiply-add)"
    } else if cfg!(target_feature = "avx") {
        "for this CPU (AVX; no fused multiply-add)"
    } else {
        "x86-64 baseline (SSE2) or another target's default"
    }
}

/// The 1-minute load average (Linux), to say how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// One product to time: op(A) `[m, k]` times op(B) `[k, n]`, `batch` times over.
struct Case {
    name: String,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    transpose_a: bool,
    transpose_b: bool,
}

impl Case {
    fn square(n: usize) -> Case {
        Case {
            name: format!("{n} x {n} x {n}"),
            batch: 1,
            m: n,
            k: n,
            n,
            transpose_a: false,
            transpose_b: false,
        }
    }

    /// The stored shape of an operand whose op is `[rows, cols]`.
    fn stored(&self, rows: usize, cols: usize, transposed: bool) -> Vec<usize> {
        let matrix = if transposed { [cols, rows] } else { [rows, cols] };
        if self.batch > 1 {
            vec![self.batch, matrix[0], matrix[1]]
        } else {
            matrix.to_vec()
        }
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(7);
    println!("# CPU matmul, native: engine::core::tensor::matmul_transposed, the kernel before (shipped");
    println!(
        "# i-p-j loop, copied below) and after (packed {TILE_ROWS} x {TILE_COLS} register tiles), and matrixmultiply::sgemm."
    );
    println!("# build: {}", build_description());
    println!("# {rounds} rounds, the three timed one after another in each round; medians over rounds.");
    let clock = if thread_cpu_seconds().is_some() { "this thread's on-CPU time" } else { "wall time" };
    println!("# clock: {clock}");
    println!("# load average at start: {}", load_average());
    println!("| product | after GFLOP/s | before GFLOP/s | matrixmultiply GFLOP/s | after / before | after / matrixmultiply |");
    println!("|---|---|---|---|---|---|");
    let mut cases: Vec<Case> = [64, 256, 512, 1024].into_iter().map(Case::square).collect();
    // The tiny GPT's products (8 windows of 64 tokens, d_model 64, d_ff 256, 4 heads of 16).
    let shape = |name: &str, batch, m, k, n, transpose_a, transpose_b| Case {
        name: name.to_owned(),
        batch,
        m,
        k,
        n,
        transpose_a,
        transpose_b,
    };
    cases.extend([
        shape("x·W1 [512, 64]·[64, 256]", 1, 512, 64, 256, false, false),
        shape("h·W2 [512, 256]·[256, 64]", 1, 512, 256, 64, false, false),
        shape("dY·W1ᵀ [512, 256]·[64, 256]ᵀ", 1, 512, 256, 64, false, true),
        shape("Xᵀ·dY [512, 64]ᵀ·[512, 256]", 1, 64, 512, 256, true, false),
        shape("Q·Kᵀ [32, 64, 16]·[32, 64, 16]ᵀ", 32, 64, 16, 64, false, true),
        shape("logits x·Eᵀ [512, 64]·[65, 64]ᵀ", 1, 512, 64, 65, false, true),
    ]);
    let mut rng = Rng::new(1);
    for case in &cases {
        let a_shape = case.stored(case.m, case.k, case.transpose_a);
        let b_shape = case.stored(case.k, case.n, case.transpose_b);
        let a = Tensor::from_vec(&a_shape, (0..a_shape.iter().product()).map(|_| rng.normal()).collect())
            .unwrap();
        let b = Tensor::from_vec(&b_shape, (0..b_shape.iter().product()).map(|_| rng.normal()).collect())
            .unwrap();
        let after =
            || matmul_transposed(black_box(&a), case.transpose_a, black_box(&b), case.transpose_b).unwrap();
        let before = || shipped_matmul_transposed(black_box(&a), black_box(&b), case);
        let mut c = vec![0.0f32; case.batch * case.m * case.n];

        // Check before timing: before and after agree bit for bit; matrixmultiply (which uses
        // fused multiply-adds where the CPU has them) agrees to rounding.
        let product = after();
        assert!(product.data.iter().zip(&before()).all(|(x, y)| x.to_bits() == y.to_bits()), "{}", case.name);
        sgemm(&a.data, &b.data, &mut c, case);
        let scale = product.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = product.data.iter().zip(&c).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst <= 1e-5 * scale * case.k as f32, "{}: matrixmultiply differs by {worst}", case.name);

        let flops = 2.0 * (case.batch * case.m * case.k * case.n) as f64;
        // About 4 GFLOP a round (0.1-0.2 s): the on-CPU clock advances in scheduler ticks.
        let reps = (4e9 / flops).clamp(1.0, 100_000.0) as usize;
        let (mut t_after, mut t_before, mut t_theirs) = (vec![], vec![], vec![]);
        for _ in 0..rounds {
            // Into a reused buffer, as the training tape calls it and as matrixmultiply writes
            // into `c`: the time is the product's, not the allocator's.
            let mut spare = Vec::new();
            t_after.push(seconds_per_call(reps, || {
                let (a, b) = (black_box(&a), black_box(&b));
                let product = matmul_transposed_into(
                    a,
                    case.transpose_a,
                    b,
                    case.transpose_b,
                    std::mem::take(&mut spare),
                );
                spare = black_box(product.unwrap()).data;
            }));
            t_before.push(seconds_per_call(reps, || drop(black_box(before()))));
            t_theirs
                .push(seconds_per_call(reps, || sgemm(black_box(&a.data), black_box(&b.data), &mut c, case)));
        }
        let (t_after, t_before, t_theirs) = (median(t_after), median(t_before), median(t_theirs));
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name,
            flops / t_after / 1e9,
            flops / t_before / 1e9,
            flops / t_theirs / 1e9,
            t_before / t_after,
            t_theirs / t_after
        );
    }
    println!("# load average at end: {}", load_average());

    let start = Instant::now();
    let mut mlp = Mlp::new(XorConfig::default());
    let losses = mlp.train(10_000);
    let secs = start.elapsed().as_secs_f64();
    println!("\n# XOR, 2-4-1, 10,000 full-batch epochs on the CPU path (autograd tape)");
    println!(
        "native: {:.1} ms ({:.1} µs per epoch), final loss {:.2e}",
        secs * 1e3,
        secs * 1e6 / 1e4,
        losses.last().copied().unwrap_or(f32::NAN)
    );
}

/// `matmul_transposed` as shipped before the tiled kernel: each batch entry's op(A) and op(B)
/// copied out as row-major blocks, then multiplied by `shipped_matmul_into`.
fn shipped_matmul_transposed(a: &Tensor, b: &Tensor, case: &Case) -> Vec<f32> {
    let (m, k, n) = (case.m, case.k, case.n);
    let packed = |t: &Tensor, rows: usize, cols: usize, transposed: bool, s: usize| {
        let (stored_rows, stored_cols) = if transposed { (cols, rows) } else { (rows, cols) };
        let start = if t.shape.len() == 3 { s * rows * cols } else { 0 };
        let block = &t.data[start..start + rows * cols];
        if transposed {
            let mut out = vec![0.0; rows * cols];
            for r in 0..stored_rows {
                for c in 0..stored_cols {
                    out[c * stored_rows + r] = block[r * stored_cols + c];
                }
            }
            out
        } else {
            block.to_vec()
        }
    };
    let mut data = vec![0.0; case.batch * m * n];
    for (s, c) in data.chunks_mut((m * n).max(1)).enumerate() {
        let a_block = packed(a, m, k, case.transpose_a, s);
        let b_block = packed(b, k, n, case.transpose_b, s);
        shipped_matmul_into(&a_block, &b_block, c, m, k, n);
    }
    data
}

/// The engine's matmul kernel before the tiled one (i-p-j loops, four rows of C at a time),
/// kept here as the "before" of the A/B comparison.
fn shipped_matmul_into(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    c.fill(0.0);
    if n == 0 {
        return;
    }
    let full_blocks = m / 4;
    let (blocked, remainder) = c.split_at_mut(full_blocks * 4 * n);
    for (block, c_rows) in blocked.chunks_exact_mut(4 * n).enumerate() {
        let i = block * 4;
        let (c0, rest) = c_rows.split_at_mut(n);
        let (c1, rest) = rest.split_at_mut(n);
        let (c2, c3) = rest.split_at_mut(n);
        for p in 0..k {
            let a_col = [a[i * k + p], a[(i + 1) * k + p], a[(i + 2) * k + p], a[(i + 3) * k + p]];
            let b_row = &b[p * n..(p + 1) * n];
            for j in 0..n {
                c0[j] += a_col[0] * b_row[j];
                c1[j] += a_col[1] * b_row[j];
                c2[j] += a_col[2] * b_row[j];
                c3[j] += a_col[3] * b_row[j];
            }
        }
    }
    for (r, c_row) in remainder.chunks_exact_mut(n).enumerate() {
        let i = full_blocks * 4 + r;
        for p in 0..k {
            let a_ip = a[i * k + p];
            for (c_ij, b_pj) in c_row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *c_ij += a_ip * b_pj;
            }
        }
    }
}

/// C = op(A)·op(B) for each batch entry through `matrixmultiply::sgemm`, an `unsafe fn` on raw
/// pointers and strides (a transpose is just swapped strides).
#[allow(unsafe_code)]
fn sgemm(a: &[f32], b: &[f32], c: &mut [f32], case: &Case) {
    let (m, k, n) = (case.m, case.k, case.n);
    // How far apart consecutive batch entries lie: 0 for a single matrix shared by the batch.
    let (a_step, b_step) = (if a.len() > m * k { m * k } else { 0 }, if b.len() > k * n { k * n } else { 0 });
    let last = case.batch.saturating_sub(1);
    assert!(a.len() >= a_step * last + m * k && b.len() >= b_step * last + k * n);
    assert!(c.len() >= case.batch * m * n);
    // Strides (row, column) of op(A) [m, k] and op(B) [k, n] in their stored row-major form.
    let (rsa, csa) = if case.transpose_a { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if case.transpose_b { (1, k as isize) } else { (n as isize, 1) };
    for s in 0..case.batch {
        // SAFETY: each batch entry's op(A), op(B) and C lie inside the slices (asserted
        // above), and the strides describe row-major matrices (or their transposes) there.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr().add(s * a_step),
                rsa,
                csa,
                b.as_ptr().add(s * b_step),
                rsb,
                csb,
                0.0,
                c.as_mut_ptr().add(s * m * n),
                n as isize,
                1,
            );
        }
    }
}
