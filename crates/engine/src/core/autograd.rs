//! Reverse-mode automatic differentiation on a tape.
//!
//! # How the tape works
//!
//! A [`Graph`] is a list of nodes, appended in the order the forward pass computes them. Each
//! node holds its value, the nodes it was computed from, and a *backward rule*: a closure that
//! takes the gradient of the final result with respect to the node's output and returns the
//! gradient with respect to each of its inputs (the chain rule for one operation). A [`Var`]
//! is just the position of a node in the list.
//!
//! A node can only be built from nodes that already exist, so every input sits earlier in the
//! list than the node that uses it: the list is already in topological order. That makes
//! [`Graph::backward`] a single loop. It sets d(loss)/d(loss) = 1 and walks the list from the
//! end to the start; at each node it calls the rule and *adds* the results into the inputs'
//! gradients. By the time the walk reaches a node, every node that used it has already been
//! visited, so its gradient is complete. Adding rather than overwriting is the multivariable
//! chain rule: a value used twice receives both contributions.
//!
//! Each op method below computes its forward value with a kernel from [`crate::core::tensor`] and,
//! right beside it, the backward rule. A rule captures by value whatever it needs from the
//! forward pass (PyTorch calls this "saved for backward").
//!
//! The tape is meant to be built fresh for each training step ("define by run", as in
//! PyTorch): put the current parameters in with [`Graph::param`], compute the loss, call
//! `backward`, read the gradients, and drop the graph.
//!
//! Ops whose operands can have mismatched shapes return `Result`; a mismatch is a
//! [`ShapeError`] with a message in words, never a panic.

use crate::core::rng::Rng;
use crate::core::tensor::{self, shape_str, sum_to_shape, Result, ShapeError, Tensor};

/// A handle to a node on a [`Graph`]'s tape: its position in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(usize);

impl Var {
    /// The node's position on the tape.
    pub fn index(self) -> usize {
        self.0
    }
}

/// What a backward rule is given: dL/d(output) and what the forward pass left behind.
struct Upstream<'a> {
    /// dL/d(output), the rule's to keep: it may overwrite it and return it as an input's
    /// gradient instead of allocating one.
    dy: Tensor,
    /// The values of the node's inputs, in order (no copies saved on the tape for these).
    inputs: &'a [&'a Tensor],
    /// The node's own value (softmax's rule needs its output).
    output: &'a Tensor,
    /// Tensors the op saved for its rule (GELU's slopes, layer norm's x̂).
    saved: &'a [Tensor],
    /// The tape's spare buffers, for new gradients.
    pool: &'a mut Pool,
}

/// Given dL/d(output) and the forward pass's values, returns dL/d(input) for each input, in
/// order. Rules hold only plain data, so a tape (and a `Trainer` that keeps one) can move
/// between threads.
type BackwardRule = Box<dyn Fn(Upstream<'_>) -> Result<Vec<Tensor>> + Send + Sync>;

/// Spare f32 buffers: the values and gradients of a tape that was [`Graph::reset`], handed
/// out again to the next step's tensors instead of fresh allocations. A training step builds
/// the same tensors of the same sizes every time, so after the first step almost every
/// buffer comes from here, and none goes back to the operating system to be faulted in again.
///
/// A buffer that stays unused for a whole step is let go at the next reset (every step asks
/// for the same sizes, so it is surplus), which keeps the pool from growing step after step.
#[derive(Default)]
pub struct Pool {
    /// Spare buffers, each with the step it was handed back in.
    free: Vec<(Vec<f32>, u64)>,
    /// Resets so far: the current step.
    step: u64,
}

impl Pool {
    /// An empty buffer with room for `len` numbers: the smallest spare one that fits and is
    /// not more than four times too large, or a new one.
    fn take(&mut self, len: usize) -> Vec<f32> {
        let mut best: Option<usize> = None;
        for (i, (buf, _)) in self.free.iter().enumerate() {
            let fits = buf.capacity() >= len && buf.capacity() <= 4 * len.max(16);
            if fits && best.is_none_or(|b| buf.capacity() < self.free[b].0.capacity()) {
                best = Some(i);
            }
        }
        match best {
            Some(i) => {
                let mut buf = self.free.swap_remove(i).0;
                buf.clear();
                buf
            }
            None => Vec::with_capacity(len),
        }
    }

    /// Keeps a buffer for later.
    fn give(&mut self, buf: Vec<f32>) {
        if buf.capacity() > 0 {
            self.free.push((buf, self.step));
        }
    }

    /// Starts the next step: lets go of the buffers that nobody took during the one that
    /// ends (those handed back before it began).
    fn next_step(&mut self) {
        let step = self.step;
        self.free.retain(|(_, given)| *given >= step);
        self.step += 1;
    }

    /// How many spare buffers there are.
    pub fn len(&self) -> usize {
        self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.free.is_empty()
    }

    /// A tensor of zeros in a spare buffer.
    fn zeros(&mut self, shape: &[usize]) -> Tensor {
        let len = shape.iter().product();
        let mut data = self.take(len);
        data.resize(len, 0.0);
        Tensor { shape: shape.to_vec(), data }
    }

    /// A copy of `t` in a spare buffer.
    fn copy(&mut self, t: &Tensor) -> Tensor {
        let mut data = self.take(t.len());
        data.extend_from_slice(&t.data);
        Tensor { shape: t.shape.clone(), data }
    }

    /// `t` summed down to `shape` (see [`sum_to_shape`]); `t` itself when it already has that
    /// shape (no copy), else its buffer is kept for later.
    fn reduce(&mut self, t: Tensor, shape: &[usize]) -> Result<Tensor> {
        if t.shape == shape {
            return Ok(t);
        }
        let sum = sum_to_shape(&t, shape)?;
        self.give(t.data);
        Ok(sum)
    }

    /// [`tensor::matmul_transposed`] into a spare buffer.
    fn matmul(&mut self, a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<Tensor> {
        let buf = self.take(tensor::matmul_len(a, ta, b, tb));
        tensor::matmul_transposed_into(a, ta, b, tb, buf)
    }
}

/// One entry on the tape.
struct Node {
    value: Tensor,
    inputs: Vec<Var>,
    /// Tensors the op kept for its backward rule.
    saved: Vec<Tensor>,
    /// `None` for leaves: inputs and parameters, which were not computed from anything.
    backward: Option<BackwardRule>,
    is_param: bool,
    /// dL/d(value), summed over every `backward` call since the last `zero_grad`. `None` until
    /// a backward pass reaches the node.
    grad: Option<Tensor>,
}

/// The tape: every value computed so far, in order, with how to differentiate it.
#[derive(Default)]
pub struct Graph {
    nodes: Vec<Node>,
    pool: Pool,
    /// Keep gradients for leaves only (inputs and parameters), as a training step needs;
    /// intermediate nodes' gradients are then handed to their rules and reused.
    leaf_grads_only: bool,
}

/// What [`Graph::batch_norm`] returns: the normalized output and the batch statistics used,
/// which a model keeps as running averages for use at inference time.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub output: Var,
    /// Per-feature mean over the batch.
    pub mean: Vec<f32>,
    /// Per-feature variance over the batch, dividing by the batch size (the biased estimate
    /// used to normalize; PyTorch's running variance uses n − 1 instead).
    pub var: Vec<f32>,
}

/// The logistic function 1 / (1 + e^−z), computed without overflow for large |z|.
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::expf(-z))
    } else {
        let e = libm::expf(z);
        e / (1.0 + e)
    }
}

/// GELU of one number, in the tanh approximation (see [`Graph::gelu`]); the tape-free
/// inference path uses it so both compute the same bits.
pub fn gelu(x: f32) -> f32 {
    x * gelu_gate(x).0
}

/// The share of x that GELU lets through, 0.5·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³).
///
/// It is computed as 1 / (1 + e^(−2u)), the logistic function of 2u: the same number, since
/// tanh(u) = (1 − e^(−2u)) / (1 + e^(−2u)), so 1 + tanh(u) = 2 / (1 + e^(−2u)). That takes one
/// exponential instead of a tanh, and [`exp_by_parts`] computes it with plain arithmetic, so
/// a loop over a whole tensor runs as SIMD instead of calling a library function per number.
/// Returns the gate and e^(−2u), which the slope needs too.
///
/// Past the exponential's range, where the tanh form's tanh(u) is exactly ±1, the results are
/// exact too: where −2u > 88 (x below about −10) the gate is 0, and where −2u < −87 (x above
/// about 10) e^(−2u) is 0 and the gate 1. Without that, the clamped exponential would leave a
/// gate of 6·10⁻³⁹ or an e^(−2u) of 1.6·10⁻³⁸ for every x beyond, and for huge x the value
/// x·gate, or the slope's term x·u'·e^(−2u), would not vanish.
#[inline(always)]
fn gelu_gate(x: f32) -> (f32, f32) {
    let minus_2u = -2.0 * gelu_inner(x);
    let e = exp_by_parts(minus_2u);
    if minus_2u > EXP_MAX {
        (0.0, e)
    } else if minus_2u < EXP_MIN {
        (1.0, 0.0)
    } else {
        (1.0 / (1.0 + e), e)
    }
}

/// √(2/π)·(x + 0.044715·x³), the argument of GELU's tanh.
#[inline(always)]
fn gelu_inner(x: f32) -> f32 {
    SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)
}

/// The range [`exp_by_parts`] computes e^x on: e^88 ≈ 1.65·10³⁸ is just below the largest
/// f32 (3.4·10³⁸), and e^−87 ≈ 1.6·10⁻³⁸ just above the smallest normal one (1.2·10⁻³⁸).
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;

/// e^x, within a unit in the last place of an f32 (a test checks it against libm's exp in
/// f64) for x in [−87, 88]; x is clamped to that range, so larger x gives e^88 (about 1.7e38)
/// and smaller gives e^−87, never infinity or zero.
///
/// Only multiplies, adds and bit operations, with no branches and no fused multiply-adds,
/// so the compiler turns a loop of them into SIMD code (four, eight or sixteen at a time,
/// whatever the target has) and every target computes the same bits. It splits x as
/// n·ln 2 + r with n a whole number and |r| ≤ ln 2 / 2, so e^x = 2^n · e^r:
/// - n is x/ln 2 rounded to the nearest whole number: adding 1.5·2²³ to it leaves no bits
///   for a fraction (and keeps n, plus 1.5·2²³, in the float's low bits);
/// - r = x − n·ln 2, with ln 2 split into a short part, whose product with n is exact, and
///   a small correction (Cody and Waite's reduction), so r keeps its precision;
/// - e^r is a polynomial, 1 + r + r²·P(r) with P of degree 5 (Cephes' coefficients for f32);
/// - 2^n is written straight into a float's exponent bits (n + 127).
#[inline(always)]
pub fn exp_by_parts(x: f32) -> f32 {
    const ROUNDER: f32 = 12_582_912.0; // 1.5·2²³
    const LN2_SHORT: f32 = 0.693_359_4; // 0.693359375: ln 2 to 9 bits
    const LN2_REST: f32 = -2.121_944_4e-4; // ln 2 − LN2_SHORT
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let shifted = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_SHORT - n * LN2_REST;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5; // Cephes writes 5.0000001e-1, which rounds to 0.5 in f32
    let e_r = p * r * r + r + 1.0;
    // `shifted`'s bits are those of 1.5·2²³, 0x4B40_0000, plus n: taking away 0x4B40_0000
    // and adding 127 (the exponent's bias) leaves 2^n's exponent field, shifted into place.
    let two_to_n = f32::from_bits(shifted.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    e_r * two_to_n
}

/// GELU of every element of `x`, and its slope there for the backward pass.
///
/// One exponential per element serves both the value (the same expression as the tape-free
/// [`gelu`], so the two agree bit for bit) and the slope. With e = e^(−2u) and the gate
/// g = 1 / (1 + e) = σ(2u), where u = inner(x) = √(2/π)·(x + 0.044715·x³): GELU(x) = x·g,
/// and its slope is g + x·σ'(2u)·2u' = g + 2·x·g·(1 − g)·inner'(x), with
/// inner'(x) = √(2/π)·(1 + 3·0.044715·x²). Since 1 − g = e·g, g·(1 − g) is computed as e·g²,
/// which keeps its precision where g is close to 1 (1 − g would lose it).
fn gelu_with_slopes(x: &Tensor, pool: &mut Pool) -> (Tensor, Tensor) {
    let mut y = Tensor { shape: x.shape.clone(), data: pool.take(x.len()) };
    let mut slope = Tensor { shape: x.shape.clone(), data: pool.take(x.len()) };
    // Sized first and written in place (not pushed), so the loop has no capacity checks
    // and runs as SIMD.
    y.data.resize(x.len(), 0.0);
    slope.data.resize(x.len(), 0.0);
    for ((y, slope), &v) in y.data.iter_mut().zip(&mut slope.data).zip(&x.data) {
        let (g, e) = gelu_gate(v);
        *y = v * g;
        let inner_slope = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * v * v);
        *slope = g + 2.0 * v * (e * g * g) * inner_slope;
    }
    (y, slope)
}

/// √(2/π), used by the tanh approximation of GELU.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_CUBIC: f32 = 0.044_715;

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// How many nodes are on the tape.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Empties the tape for the next step, keeping every value's and gradient's buffer for
    /// the tensors the next step builds.
    pub fn reset(&mut self) {
        self.pool.next_step();
        for node in self.nodes.drain(..) {
            self.pool.give(node.value.data);
            if let Some(grad) = node.grad {
                self.pool.give(grad.data);
            }
            for t in node.saved {
                self.pool.give(t.data);
            }
        }
    }

    /// The spare buffers waiting for the next step's tensors.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Gives a tensor's buffer to the tape for reuse (a gradient taken out with
    /// [`Graph::take_grad`], once it has been used).
    pub fn recycle(&mut self, t: Tensor) {
        self.pool.give(t.data);
    }

    /// Moves dL/dv out of the tape (`None` if no backward pass reached `v`).
    pub fn take_grad(&mut self, v: Var) -> Option<Tensor> {
        self.nodes[v.0].grad.take()
    }

    /// Only leaves (inputs and parameters) keep their gradients from now on; intermediate
    /// nodes' gradients are reused as the backward pass goes (a training step's setting).
    pub fn keep_leaf_grads_only(&mut self) {
        self.leaf_grads_only = true;
    }

    /// A parameter holding a copy of `value`, in a buffer of the tape's.
    pub fn param_copy(&mut self, value: &Tensor) -> Var {
        let copy = self.pool.copy(value);
        self.leaf(copy, true)
    }

    fn leaf(&mut self, value: Tensor, is_param: bool) -> Var {
        self.nodes.push(Node { value, inputs: vec![], saved: vec![], backward: None, is_param, grad: None });
        Var(self.nodes.len() - 1)
    }

    /// A constant input, such as a batch of data. It still receives a gradient, which the
    /// tests use and a page may show.
    pub fn input(&mut self, value: Tensor) -> Var {
        self.leaf(value, false)
    }

    /// A trainable parameter: a leaf that [`Graph::params`] lists.
    pub fn param(&mut self, value: Tensor) -> Var {
        self.leaf(value, true)
    }

    /// Every parameter, in the order they were added.
    pub fn params(&self) -> Vec<Var> {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].is_param).map(Var).collect()
    }

    /// The value a node holds.
    pub fn value(&self, v: Var) -> &Tensor {
        &self.nodes[v.0].value
    }

    /// dL/dv accumulated by `backward`, or `None` if no backward pass has reached `v`.
    pub fn grad(&self, v: Var) -> Option<&Tensor> {
        self.nodes[v.0].grad.as_ref()
    }

    /// Forgets every gradient. Gradients add up across `backward` calls until this is called.
    pub fn zero_grad(&mut self) {
        for node in &mut self.nodes {
            node.grad = None;
        }
    }

    /// Appends a computed node with its backward rule.
    fn record(
        &mut self,
        value: Tensor,
        inputs: &[Var],
        backward: impl Fn(Upstream<'_>) -> Result<Vec<Tensor>> + Send + Sync + 'static,
    ) -> Var {
        self.record_saving(value, inputs, vec![], backward)
    }

    /// [`Graph::record`] with tensors kept for the rule (given back to the pool on reset).
    fn record_saving(
        &mut self,
        value: Tensor,
        inputs: &[Var],
        saved: Vec<Tensor>,
        backward: impl Fn(Upstream<'_>) -> Result<Vec<Tensor>> + Send + Sync + 'static,
    ) -> Var {
        let backward: BackwardRule = Box::new(backward);
        self.nodes.push(Node {
            value,
            inputs: inputs.to_vec(),
            saved,
            backward: Some(backward),
            is_param: false,
            grad: None,
        });
        Var(self.nodes.len() - 1)
    }

    /// Fills in dL/dv for every node `v` that `loss` depends on. The loss must be a single
    /// number.
    pub fn backward(&mut self, loss: Var) -> Result<()> {
        let shape = &self.value(loss).shape;
        if self.value(loss).len() != 1 {
            return Err(ShapeError::new(format!(
                "backward: the loss must be a single number, but it has shape {}",
                shape_str(shape)
            )));
        }
        let seed = Tensor::filled(shape, 1.0);
        self.backward_from(loss, seed)
    }

    /// Backpropagates a given gradient `grad` = dL/d(output) for a tensor-valued output: the
    /// vector–Jacobian product. `backward(loss)` is this with `grad` = 1.
    pub fn backward_from(&mut self, output: Var, grad: Tensor) -> Result<()> {
        if grad.shape != self.value(output).shape {
            return Err(ShapeError::new(format!(
                "backward: the gradient has shape {} but the output has shape {}",
                shape_str(&grad.shape),
                shape_str(&self.value(output).shape)
            )));
        }
        // Gradients flowing in this pass only, so that a node's stored gradient (which adds up
        // across passes) is never sent backward twice.
        let mut pending: Vec<Option<Tensor>> = vec![None; output.0 + 1];
        pending[output.0] = Some(grad);
        for i in (0..=output.0).rev() {
            // Nodes the output does not depend on receive nothing and are skipped.
            let Some(grad) = pending[i].take() else {
                continue;
            };
            let node = &self.nodes[i];
            let Some(rule) = &node.backward else {
                add_into(&mut self.nodes[i].grad, grad, &mut self.pool)?;
                continue;
            };
            // The rule gets the gradient to keep; a copy is stored unless only leaves keep
            // theirs.
            let (dy, kept) =
                if self.leaf_grads_only { (grad, None) } else { (self.pool.copy(&grad), Some(grad)) };
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|v| &self.nodes[v.0].value).collect();
            let upstream = Upstream {
                dy,
                inputs: &inputs,
                output: &node.value,
                saved: &node.saved,
                pool: &mut self.pool,
            };
            let input_grads = rule(upstream)?;
            for (input, input_grad) in node.inputs.iter().zip(input_grads) {
                add_into(&mut pending[input.0], input_grad, &mut self.pool)?;
            }
            if let Some(grad) = kept {
                add_into(&mut self.nodes[i].grad, grad, &mut self.pool)?;
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Linear algebra and arithmetic
    // ---------------------------------------------------------------------------------------

    /// Matrix product A·B (matrices, or batches of matrices; see [`tensor::matmul_transposed`]).
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_transposed(a, false, b, false)
    }

    /// Matrix product op(A)·op(B), where op transposes its operand when its flag is set.
    pub fn matmul_transposed(&mut self, a: Var, transpose_a: bool, b: Var, transpose_b: bool) -> Result<Var> {
        let y = self.pool.matmul(&self.nodes[a.0].value, transpose_a, &self.nodes[b.0].value, transpose_b)?;
        Ok(self.record(y, &[a, b], move |u| {
            let (a_val, b_val, dy, pool) = (u.inputs[0], u.inputs[1], &u.dy, u.pool);
            // Write A' = op(A) and B' = op(B), so Y = A'B'. Then dA' = dY·B'ᵀ and dB' = A'ᵀ·dY,
            // and where op transposed an operand, its gradient is transposed back.
            let da = if transpose_a {
                pool.matmul(b_val, transpose_b, dy, true)? // (dY·B'ᵀ)ᵀ = B'·dYᵀ
            } else {
                pool.matmul(dy, false, b_val, !transpose_b)?
            };
            let db = if transpose_b {
                pool.matmul(dy, true, a_val, transpose_a)? // (A'ᵀ·dY)ᵀ = dYᵀ·A'
            } else {
                pool.matmul(a_val, !transpose_a, dy, false)?
            };
            pool.give(u.dy.data);
            // A single matrix used with every entry of a batch collects all their gradients.
            Ok(vec![pool.reduce(da, &a_val.shape)?, pool.reduce(db, &b_val.shape)?])
        }))
    }

    /// a + b, broadcasting (a bias row added to every row of a matrix, for example).
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        let buf = self.pool.take(self.nodes[a.0].value.len().max(self.nodes[b.0].value.len()));
        let y = self.nodes[a.0].value.zip_with_into(&self.nodes[b.0].value, "add", |x, y| x + y, buf)?;
        // dy/da = dy/db = 1, so each input gets dy, summed over the dimensions it was
        // broadcast along.
        Ok(self.record(y, &[a, b], move |u| {
            let (a_shape, b_shape) = (&u.inputs[0].shape, &u.inputs[1].shape);
            let db = if u.dy.shape == *b_shape { u.pool.copy(&u.dy) } else { sum_to_shape(&u.dy, b_shape)? };
            Ok(vec![u.pool.reduce(u.dy, a_shape)?, db])
        }))
    }

    /// a − b, broadcasting.
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = tensor::sub(self.value(a), self.value(b))?;
        Ok(self.record(y, &[a, b], move |u| {
            let (a_shape, b_shape) = (&u.inputs[0].shape, &u.inputs[1].shape);
            Ok(vec![sum_to_shape(&u.dy, a_shape)?, sum_to_shape(&u.dy.map(|g| -g), b_shape)?])
        }))
    }

    /// a · b elementwise, broadcasting.
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = tensor::mul(self.value(a), self.value(b))?;
        // d(ab)/da = b and d(ab)/db = a; each product is summed back to its input's shape.
        Ok(self.record(y, &[a, b], move |u| {
            let (a_val, b_val) = (u.inputs[0], u.inputs[1]);
            let da = sum_to_shape(&tensor::mul(&u.dy, b_val)?, &a_val.shape)?;
            let db = sum_to_shape(&tensor::mul(&u.dy, a_val)?, &b_val.shape)?;
            Ok(vec![da, db])
        }))
    }

    /// c · x for a constant c.
    pub fn scale(&mut self, x: Var, c: f32) -> Var {
        let y = self.value(x).map(|v| c * v);
        self.record(y, &[x], move |u| {
            let mut dx = u.dy;
            for g in &mut dx.data {
                *g *= c; // c·g: multiplication commutes exactly
            }
            Ok(vec![dx])
        })
    }

    /// The sum of all elements, as a scalar.
    pub fn sum(&mut self, x: Var) -> Var {
        let shape = self.value(x).shape.clone();
        let y = Tensor::scalar(self.value(x).sum());
        // Every element adds in with slope 1, so each receives the upstream gradient.
        self.record(y, &[x], move |u| Ok(vec![Tensor::filled(&shape, u.dy.data[0])]))
    }

    /// The mean of all elements, as a scalar.
    pub fn mean(&mut self, x: Var) -> Var {
        let shape = self.value(x).shape.clone();
        let n = self.value(x).len() as f32;
        let y = Tensor::scalar(self.value(x).mean());
        self.record(y, &[x], move |u| Ok(vec![Tensor::filled(&shape, u.dy.data[0] / n)]))
    }

    /// The same values in a new shape with the same element count.
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        let mut y = self.pool.copy(&self.nodes[x.0].value);
        if shape.iter().product::<usize>() != y.len() {
            y = y.reshape(shape)?; // the error, in words
        }
        y.shape = shape.to_vec();
        // The gradient is dy's numbers in the input's shape: the same buffer, relabelled.
        Ok(self.record(y, &[x], move |u| {
            let mut dx = u.dy;
            dx.shape.clone_from(&u.inputs[0].shape);
            Ok(vec![dx])
        }))
    }

    /// Swaps the last two dimensions (a matrix transpose, or one per batch entry).
    pub fn transpose(&mut self, x: Var) -> Result<Var> {
        let y = self.value(x).transpose()?;
        // Transposing is a rearrangement; the gradient is rearranged back.
        Ok(self.record(y, &[x], move |u| Ok(vec![u.dy.transpose()?])))
    }

    /// Reorders the dimensions (see [`Tensor::permute`]). Multi-head attention uses it to
    /// move the head dimension next to the batch and back.
    pub fn permute(&mut self, x: Var, axes: &[usize]) -> Result<Var> {
        let buf = self.pool.take(self.nodes[x.0].value.len());
        let y = self.nodes[x.0].value.permute_into(axes, buf)?;
        // A permutation only moves numbers, so the gradient is moved back by the inverse
        // permutation: input dimension axes[k] was output dimension k.
        let mut inverse = vec![0; axes.len()];
        for (k, &a) in axes.iter().enumerate() {
            inverse[a] = k;
        }
        Ok(self.record(y, &[x], move |u| {
            let buf = u.pool.take(u.dy.len());
            let dx = u.dy.permute_into(&inverse, buf)?;
            u.pool.give(u.dy.data);
            Ok(vec![dx])
        }))
    }

    // ---------------------------------------------------------------------------------------
    // Activations
    // ---------------------------------------------------------------------------------------

    /// ReLU(x) = max(x, 0).
    pub fn relu(&mut self, x: Var) -> Var {
        let y = self.value(x).map(|v| v.max(0.0));
        // Slope 1 where the input was positive, else 0 (0 at exactly 0, as most libraries do).
        let slope = self.value(x).map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        self.elementwise(y, x, slope)
    }

    /// GELU, in the tanh approximation used by GPT-2 and BERT:
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). (The exact GELU is x·Φ(x), with Φ the
    /// normal CDF; the two differ by less than 0.001.)
    pub fn gelu(&mut self, x: Var) -> Var {
        let (y, slope) = gelu_with_slopes(&self.nodes[x.0].value, &mut self.pool);
        self.elementwise(y, x, slope)
    }

    /// GELU(x + bias), broadcasting the bias (a row added to every row of x), as one node:
    /// the feed-forward block's first layer. The same numbers as [`Graph::add`] followed by
    /// [`Graph::gelu`], forward and backward, without the intermediate sum on the tape.
    pub fn add_gelu(&mut self, x: Var, bias: Var) -> Result<Var> {
        let buf = self.pool.take(self.nodes[x.0].value.len().max(self.nodes[bias.0].value.len()));
        let z = self.nodes[x.0].value.zip_with_into(&self.nodes[bias.0].value, "add", |x, y| x + y, buf)?;
        let (y, slope) = gelu_with_slopes(&z, &mut self.pool);
        self.pool.give(z.data);
        Ok(self.record_saving(y, &[x, bias], vec![slope], move |u| {
            // GELU's rule, dz = dy·GELU'(z); then the sum's: x gets dz, the bias dz summed
            // over the rows it was repeated along.
            let mut dz = u.dy;
            for (g, s) in dz.data.iter_mut().zip(&u.saved[0].data) {
                *g *= s;
            }
            let d_bias = sum_to_shape(&dz, &u.inputs[1].shape)?;
            Ok(vec![u.pool.reduce(dz, &u.inputs[0].shape)?, d_bias])
        }))
    }

    /// The logistic sigmoid, 1 / (1 + e^−x).
    pub fn sigmoid(&mut self, x: Var) -> Var {
        let y = self.value(x).map(sigmoid);
        // σ' = σ·(1 − σ), from the output.
        let slope = y.map(|s| s * (1.0 - s));
        self.elementwise(y, x, slope)
    }

    /// tanh(x).
    pub fn tanh(&mut self, x: Var) -> Var {
        let y = self.value(x).map(libm::tanhf);
        // tanh' = 1 − tanh², from the output.
        let slope = y.map(|t| 1.0 - t * t);
        self.elementwise(y, x, slope)
    }

    /// Records y = f(x) for a function f applied element by element, given each element's
    /// slope f'(x). The chain rule for such an op is just dx = dy · f'(x).
    fn elementwise(&mut self, y: Tensor, x: Var, slope: Tensor) -> Var {
        self.record_saving(y, &[x], vec![slope], move |u| {
            let mut dx = u.dy;
            for (g, s) in dx.data.iter_mut().zip(&u.saved[0].data) {
                *g *= s;
            }
            Ok(vec![dx])
        })
    }

    /// Dropout during training: each element is zeroed with probability `p` and the survivors
    /// are scaled by 1/(1 − p) ("inverted" dropout), so the expected value of every element is
    /// unchanged and nothing needs rescaling at inference time. When `training` is false this
    /// is the identity and records nothing. With p ≥ 1 everything is dropped.
    pub fn dropout(&mut self, x: Var, p: f32, rng: &mut Rng, training: bool) -> Var {
        if !training || p <= 0.0 {
            return x;
        }
        let keep_scale = if p >= 1.0 { 0.0 } else { 1.0 / (1.0 - p) };
        // The mask holds 0 for a dropped element and 1/(1 − p) for a kept one; y = mask · x is
        // elementwise with slope mask, so dropped elements pass no gradient back.
        let mask = self.value(x).map(|_| if rng.bernoulli(p) { 0.0 } else { keep_scale });
        let mut y = self.value(x).clone();
        for (v, m) in y.data.iter_mut().zip(&mask.data) {
            *v *= m;
        }
        self.elementwise(y, x, mask)
    }

    // ---------------------------------------------------------------------------------------
    // Softmax and losses
    // ---------------------------------------------------------------------------------------

    /// Softmax along each row (last dimension). Masked (−∞) entries get probability 0, and a
    /// fully masked row gives zeros rather than NaN.
    pub fn softmax_rows(&mut self, x: Var) -> Var {
        let mut y = self.pool.copy(&self.nodes[x.0].value);
        tensor::softmax_rows_in_place(&mut y);
        // Per row, the Jacobian is diag(y) − y·yᵀ, so dx_j = y_j·(dy_j − Σ_k dy_k·y_k).
        // Where y_j = 0 (masked entries, fully masked rows) the gradient is 0.
        self.record(y, &[x], move |u| {
            let mut dx = u.dy;
            for (dx_row, y_row) in dx.row_slices_mut().zip(u.output.row_slices()) {
                let dot: f32 = dx_row.iter().zip(y_row).map(|(g, y)| g * y).sum();
                for (g, &y) in dx_row.iter_mut().zip(y_row) {
                    *g = y * (*g - dot);
                }
            }
            Ok(vec![dx])
        })
    }

    /// softmax(c·x + mask) along each row, as one node: attention's weights from its scores,
    /// with `mask` a constant (−∞ where a query may not look) broadcast over x's leading
    /// dimensions. The same numbers as [`Graph::scale`], [`Graph::add`] with the mask as an
    /// input, and [`Graph::softmax_rows`], forward and backward, with two intermediates fewer on
    /// the tape and no gradient computed for the mask.
    pub fn scaled_masked_softmax_rows(&mut self, x: Var, c: f32, mask: &Tensor) -> Result<Var> {
        let mut scaled = self.pool.copy(&self.nodes[x.0].value);
        for v in &mut scaled.data {
            *v *= c;
        }
        let buf = self.pool.take(scaled.len());
        let mut y = scaled.zip_with_into(mask, "add", |x, y| x + y, buf)?;
        self.pool.give(std::mem::take(&mut scaled.data));
        if y.shape != scaled.shape {
            return Err(ShapeError::new(format!(
                "scaled_masked_softmax_rows: the mask {} must broadcast to the scores {}",
                shape_str(&mask.shape),
                shape_str(&scaled.shape)
            )));
        }
        tensor::softmax_rows_in_place(&mut y);
        Ok(self.record(y, &[x], move |u| {
            // Softmax's rule (see `softmax_rows`), then the scale's: dx = c·d(c·x).
            let mut dx = u.dy;
            for (dx_row, y_row) in dx.row_slices_mut().zip(u.output.row_slices()) {
                let dot: f32 = dx_row.iter().zip(y_row).map(|(g, y)| g * y).sum();
                for (g, &y) in dx_row.iter_mut().zip(y_row) {
                    *g = c * (y * (*g - dot));
                }
            }
            Ok(vec![dx])
        }))
    }

    /// Log-softmax along each row: log probabilities, computed stably. A fully masked row is
    /// −∞ throughout and passes no gradient.
    pub fn log_softmax_rows(&mut self, x: Var) -> Var {
        let y = tensor::log_softmax_rows(self.value(x));
        // y_j = x_j − log Σ_k e^(x_k), so dx_j = dy_j − softmax_j·Σ_k dy_k.
        self.record(y, &[x], move |u| {
            let mut dx = u.dy;
            for (dx_row, lp_row) in dx.row_slices_mut().zip(u.output.row_slices()) {
                if lp_row.iter().all(|&v| v == f32::NEG_INFINITY) {
                    dx_row.fill(0.0);
                    continue;
                }
                let total: f32 = dx_row.iter().sum();
                for (g, &lp) in dx_row.iter_mut().zip(lp_row) {
                    *g -= libm::expf(lp) * total;
                }
            }
            Ok(vec![dx])
        })
    }

    /// Cross-entropy of logits against integer class targets, averaged over rows.
    ///
    /// `logits` has shape `[rows, classes]` (or `[batch, positions, classes]`, treated as
    /// rows); `targets` has one class index per row. Rows whose target equals
    /// `ignore_index` (padding) count neither in the sum nor in the average; if every row is
    /// ignored the loss is 0.
    pub fn cross_entropy(
        &mut self,
        logits: Var,
        targets: &[usize],
        ignore_index: Option<usize>,
    ) -> Result<Var> {
        let z = self.value(logits);
        let (rows, classes) = (z.rows(), z.row_len());
        if targets.len() != rows {
            return Err(ShapeError::new(format!(
                "cross_entropy: logits {} have {rows} rows but {} targets were given",
                shape_str(&z.shape),
                targets.len()
            )));
        }
        let counted: Vec<bool> = targets.iter().map(|&t| Some(t) != ignore_index).collect();
        for (row, &t) in targets.iter().enumerate() {
            if counted[row] && t >= classes {
                return Err(ShapeError::new(format!(
                    "cross_entropy: target {t} in row {row} is not a class \
                     (there are {classes} classes)"
                )));
            }
        }
        let count = counted.iter().filter(|&&c| c).count();
        let log_probs = tensor::log_softmax_rows(z);
        // Loss = −(1/count) Σ over counted rows of log p(target).
        let mut total = 0.0;
        for row in 0..rows {
            if counted[row] {
                total -= log_probs.data[row * classes + targets[row]];
            }
        }
        let loss = if count == 0 { 0.0 } else { total / count as f32 };
        let targets = targets.to_vec();
        // For a counted row, dL/dz = (softmax(z) − onehot(target)) / count: the predicted
        // distribution minus the true one. Ignored rows get no gradient.
        Ok(self.record_saving(Tensor::scalar(loss), &[logits], vec![log_probs], move |u| {
            let log_probs = &u.saved[0];
            let mut dz = u.pool.zeros(&u.inputs[0].shape);
            for row in (0..rows).filter(|&row| counted[row]) {
                for j in 0..classes {
                    let p = libm::expf(log_probs.data[row * classes + j]);
                    let is_target = if j == targets[row] { 1.0 } else { 0.0 };
                    dz.data[row * classes + j] = (p - is_target) * u.dy.data[0] / count as f32;
                }
            }
            Ok(vec![dz])
        }))
    }

    /// Binary cross-entropy of logits z against targets y in [0, 1] (same shape), averaged
    /// over elements. Per element,
    /// −[y·ln σ(z) + (1 − y)·ln(1 − σ(z))] = max(z, 0) − z·y + ln(1 + e^−|z|),
    /// and the right-hand side never takes the log of a probability rounded to 0.
    pub fn bce_with_logits(&mut self, logits: Var, targets: &Tensor) -> Result<Var> {
        let z = self.value(logits);
        if z.shape != targets.shape {
            return Err(ShapeError::new(format!(
                "bce_with_logits: logits {} and targets {} must have the same shape",
                shape_str(&z.shape),
                shape_str(&targets.shape)
            )));
        }
        let per_element = z.zip_with(targets, "bce_with_logits", |z, y| {
            z.max(0.0) - z * y + libm::log1pf(libm::expf(-z.abs()))
        })?;
        let loss = Tensor::scalar(per_element.mean());
        // dL/dz = (σ(z) − y) / n: again the prediction minus the target.
        let n = z.len() as f32;
        let dloss_dz = z.zip_with(targets, "bce_with_logits", |z, y| (sigmoid(z) - y) / n)?;
        Ok(self.record(loss, &[logits], move |u| Ok(vec![dloss_dz.map(|g| g * u.dy.data[0])])))
    }

    // ---------------------------------------------------------------------------------------
    // Normalization
    // ---------------------------------------------------------------------------------------

    /// Normalizes each row to mean 0 and variance 1: x̂ = (x − μ) / √(σ² + eps), with μ and
    /// σ² (dividing by the row length) computed per row. Also returns each row's μ and σ².
    fn normalize_rows_with_stats(&mut self, x: Var, eps: f32) -> (Var, Vec<f32>, Vec<f32>) {
        let mut x_hat = self.value(x).clone();
        let d = x_hat.row_len() as f32;
        let (mut means, mut vars, mut inv_stds) = (vec![], vec![], vec![]);
        for row in x_hat.row_slices_mut() {
            let mean = row.iter().sum::<f32>() / d;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
            let inv_std = 1.0 / libm::sqrtf(var + eps);
            for v in row.iter_mut() {
                *v = (*v - mean) * inv_std;
            }
            means.push(mean);
            vars.push(var);
            inv_stds.push(inv_std);
        }
        // Every x_j moves the row's mean and variance too, which adds two correction terms:
        // dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), with σ = √(σ² + eps).
        let y = self.record(x_hat, &[x], move |u| {
            let mut dx = u.dy;
            for ((dx_row, xh_row), inv_std) in dx.row_slices_mut().zip(u.output.row_slices()).zip(&inv_stds) {
                let mean_g = dx_row.iter().sum::<f32>() / d;
                let mean_gx = dx_row.iter().zip(xh_row).map(|(g, xh)| g * xh).sum::<f32>() / d;
                for (g, &xh) in dx_row.iter_mut().zip(xh_row) {
                    *g = inv_std * (*g - mean_g - xh * mean_gx);
                }
            }
            Ok(vec![dx])
        });
        (y, means, vars)
    }

    /// Normalizes each row (last dimension) to mean 0 and variance 1, with no scale or shift.
    pub fn normalize_rows(&mut self, x: Var, eps: f32) -> Var {
        self.normalize_rows_with_stats(x, eps).0
    }

    /// Checks that gamma and beta are vectors with one entry per feature.
    fn check_scale_and_shift(&self, op: &str, x: Var, gamma: Var, beta: Var, features: usize) -> Result<()> {
        for (name, v) in [("gamma", gamma), ("beta", beta)] {
            if self.value(v).shape != [features] {
                return Err(ShapeError::new(format!(
                    "{op}: {name} has shape {} but x {} has {features} features",
                    shape_str(&self.value(v).shape),
                    shape_str(&self.value(x).shape)
                )));
            }
        }
        Ok(())
    }

    /// Layer norm: each row (one example's features) is normalized over its last dimension,
    /// then scaled by `gamma` and shifted by `beta` (both of shape `[features]`).
    ///
    /// Mathematically [`Graph::normalize_rows`], then [`Graph::mul`] by gamma and
    /// [`Graph::add`] of beta; recorded as one node that does the same arithmetic in the same
    /// order (so the same bits), one pass over each row forward and one backward.
    pub fn layer_norm(&mut self, x: Var, gamma: Var, beta: Var, eps: f32) -> Result<Var> {
        let features = self.value(x).row_len();
        self.check_scale_and_shift("layer_norm", x, gamma, beta, features)?;
        let (g, b) = (&self.nodes[gamma.0].value.data, &self.nodes[beta.0].value.data);
        let mut x_hat = self.pool.copy(&self.nodes[x.0].value);
        let mut y = Tensor { shape: x_hat.shape.clone(), data: self.pool.take(x_hat.len()) };
        let d = features as f32;
        let mut inv_stds = Vec::with_capacity(x_hat.rows());
        for row in x_hat.row_slices_mut() {
            let mean = row.iter().sum::<f32>() / d;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
            let inv_std = 1.0 / libm::sqrtf(var + eps);
            for v in row.iter_mut() {
                *v = (*v - mean) * inv_std;
            }
            inv_stds.push(inv_std);
            y.data.extend(row.iter().zip(g).zip(b).map(|((&xh, &g), &b)| xh * g + b));
        }
        Ok(self.record_saving(y, &[x, gamma, beta], vec![x_hat], move |u| {
            let g = &u.inputs[1].data;
            let mut dx = u.dy;
            let (mut d_gamma, mut d_beta) = (vec![0.0; features], vec![0.0; features]);
            for ((dx_row, xh_row), inv_std) in dx.row_slices_mut().zip(u.saved[0].row_slices()).zip(&inv_stds)
            {
                // The shift's rule: beta collects every row's dy. The scale's: gamma collects
                // dy·x̂ and x̂ receives dy·gamma.
                for (db, &gy) in d_beta.iter_mut().zip(dx_row.iter()) {
                    *db += gy;
                }
                for (dg, (&gy, &xh)) in d_gamma.iter_mut().zip(dx_row.iter().zip(xh_row)) {
                    *dg += gy * xh;
                }
                for (gy, &gm) in dx_row.iter_mut().zip(g) {
                    *gy *= gm;
                }
                // The normalization's rule, as in `normalize_rows_with_stats`.
                let mean_g = dx_row.iter().sum::<f32>() / d;
                let mean_gx = dx_row.iter().zip(xh_row).map(|(g, xh)| g * xh).sum::<f32>() / d;
                for (g, &xh) in dx_row.iter_mut().zip(xh_row) {
                    *g = inv_std * (*g - mean_g - xh * mean_gx);
                }
            }
            let d_gamma = Tensor { shape: vec![features], data: d_gamma };
            Ok(vec![dx, d_gamma, Tensor { shape: vec![features], data: d_beta }])
        }))
    }

    /// Batch norm in training mode: each feature (column of `x`, shape `[examples, features]`)
    /// is normalized over the batch, then scaled by `gamma` and shifted by `beta`.
    ///
    /// Batch norm and layer norm differ only in the axis they average over, and the code says
    /// so: transpose, normalize rows, transpose back.
    pub fn batch_norm(&mut self, x: Var, gamma: Var, beta: Var, eps: f32) -> Result<BatchNorm> {
        let features = match self.value(x).shape[..] {
            [_, features] => features,
            _ => {
                return Err(ShapeError::new(format!(
                    "batch_norm: expected x of shape [examples, features], got {}",
                    shape_str(&self.value(x).shape)
                )))
            }
        };
        self.check_scale_and_shift("batch_norm", x, gamma, beta, features)?;
        let per_feature = self.transpose(x)?;
        let (normalized, mean, var) = self.normalize_rows_with_stats(per_feature, eps);
        let x_hat = self.transpose(normalized)?;
        let scaled = self.mul(x_hat, gamma)?;
        let output = self.add(scaled, beta)?;
        Ok(BatchNorm { output, mean, var })
    }

    // ---------------------------------------------------------------------------------------
    // Lookup
    // ---------------------------------------------------------------------------------------

    /// Embedding lookup: row `indices[i]` of `table` (`[vocabulary, width]`) becomes row i of
    /// the output (`[indices.len(), width]`).
    pub fn embedding(&mut self, table: Var, indices: &[usize]) -> Result<Var> {
        let t = self.value(table);
        let (vocab, width) = match t.shape[..] {
            [vocab, width] => (vocab, width),
            _ => {
                return Err(ShapeError::new(format!(
                    "embedding: the table must be a matrix [vocabulary, width], got {}",
                    shape_str(&t.shape)
                )))
            }
        };
        if let Some(pos) = indices.iter().position(|&i| i >= vocab) {
            return Err(ShapeError::new(format!(
                "embedding: index {} at position {pos} is outside the table's {vocab} rows",
                indices[pos]
            )));
        }
        let mut data = self.pool.take(indices.len() * width);
        let t = &self.nodes[table.0].value;
        for &i in indices {
            data.extend_from_slice(&t.data[i * width..(i + 1) * width]);
        }
        let y = Tensor { shape: vec![indices.len(), width], data };
        let indices = indices.to_vec();
        // Table row i was copied to every position that asked for it, so its gradient is the
        // sum of the gradients at those positions: a scatter-add.
        Ok(self.record(y, &[table], move |u| {
            let dy = u.dy;
            let mut d_table = u.pool.zeros(&[vocab, width]);
            for (pos, &i) in indices.iter().enumerate() {
                for j in 0..width {
                    d_table.data[i * width + j] += dy.data[pos * width + j];
                }
            }
            u.pool.give(dy.data);
            Ok(vec![d_table])
        }))
    }
}

/// Puts `params` on a fresh tape, lets `loss` build a single-number loss from them, runs the
/// backward pass, and returns the loss with one gradient per parameter, in order (zeros for a
/// parameter the loss never reached). Every model's "loss and gradients" is this.
pub fn loss_and_grads<E: From<ShapeError>>(
    params: &[Tensor],
    loss: impl FnOnce(&mut Graph, &[Var]) -> std::result::Result<Var, E>,
) -> std::result::Result<(f32, Vec<Tensor>), E> {
    loss_and_grads_on(&mut Graph::new(), params, loss)
}

/// [`loss_and_grads`] on a tape kept from step to step: the tape is [`Graph::reset`] first,
/// so this step's tensors reuse the last step's buffers, and only the parameters' gradients
/// are kept. Give the gradients back with [`Graph::recycle`] once they have been used.
pub fn loss_and_grads_on<E: From<ShapeError>>(
    graph: &mut Graph,
    params: &[Tensor],
    loss: impl FnOnce(&mut Graph, &[Var]) -> std::result::Result<Var, E>,
) -> std::result::Result<(f32, Vec<Tensor>), E> {
    graph.reset();
    graph.keep_leaf_grads_only();
    let vars: Vec<Var> = params.iter().map(|p| graph.param_copy(p)).collect();
    let loss = loss(graph, &vars)?;
    graph.backward(loss)?;
    let grads = vars
        .iter()
        .zip(params)
        .map(|(&v, p)| graph.take_grad(v).unwrap_or_else(|| Tensor::zeros(&p.shape)))
        .collect();
    Ok((graph.value(loss).data[0], grads))
}

/// Adds `grad` into an optional running total (keeping the spent buffer in `pool`).
fn add_into(total: &mut Option<Tensor>, grad: Tensor, pool: &mut Pool) -> Result<()> {
    *total = Some(match total.take() {
        None => grad,
        // Same shapes (the usual case): add in place, sum + grad element by element as
        // `tensor::add` would, without allocating a third tensor.
        Some(mut sum) if sum.shape == grad.shape => {
            for (s, g) in sum.data.iter_mut().zip(&grad.data) {
                *s += g;
            }
            pool.give(grad.data);
            sum
        }
        Some(sum) => tensor::add(&sum, &grad)?,
    });
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
