//! Chapter 10's probes on the tiny GPT: linear (softmax-regression) classifiers trained on the
//! frozen model's residual stream, after the embeddings and after each layer, to read off
//! properties of the text.
//!
//! Each property is a label per character position, derived from the text itself
//! ([`Task`]). Each probe is trained on the first three quarters of the positions and scored
//! on the last quarter. Two baselines keep the accuracies honest: Hewitt and Liang's control
//! task (the same probe on labels assigned at random per character type, drawn from the real
//! labels' frequencies, so only memorising characters can solve it; selectivity is real minus
//! control accuracy), and the same probe on a randomly initialised model of the same shape.
//! [`ProbeRun`] trains one probe per call, so a page can spread the work over frames.

use crate::core::optim::{Method, Optimizer};
use crate::core::rng::Rng;
use crate::models::transformer::{Result, Transformer};
use crate::models::transformer_inspect::inspect;

/// Positions probed: the first 2,048 held-out characters (each with the one after it).
pub const POSITIONS: usize = 2_048;
/// Windows of this many characters are run through the model.
pub const WINDOW: usize = 64;
/// Adam steps per probe (full batch).
pub const STEPS: usize = 150;
/// Adam's learning rate.
pub const LR: f32 = 0.05;
/// The seed of the random model and of the control labels.
pub const SEED: u64 = 1;

/// A property of the character at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// The character is a vowel (a, e, i, o, u, either case).
    Vowel,
    /// The character is a letter and so is the one before it: inside a word, not its start.
    InsideWord,
    /// The character is an upper-case letter.
    Upper,
    /// How far into its line the character is: 0–9, 10–19, 20–29, 30 or more.
    LinePosition,
    /// The next character is a space.
    NextSpace,
}

pub const TASKS: [Task; 5] =
    [Task::Vowel, Task::InsideWord, Task::Upper, Task::LinePosition, Task::NextSpace];

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Vowel => "is a vowel",
            Task::InsideWord => "inside a word",
            Task::Upper => "upper case",
            Task::LinePosition => "position in the line (4 buckets)",
            Task::NextSpace => "next character is a space",
        }
    }

    pub fn classes(self) -> usize {
        if self == Task::LinePosition {
            4
        } else {
            2
        }
    }

    /// The label of position `i` of `text` (which must have a character after `i`).
    pub fn label(self, text: &[char], i: usize) -> usize {
        let c = text[i];
        let yes = match self {
            Task::Vowel => "aeiouAEIOU".contains(c),
            Task::InsideWord => c.is_alphabetic() && i > 0 && text[i - 1].is_alphabetic(),
            Task::Upper => c.is_uppercase(),
            Task::LinePosition => {
                let since = text[..i].iter().rev().take_while(|&&p| p != '\n').count();
                return (since / 10).min(3);
            }
            Task::NextSpace => text[i + 1] == ' ',
        };
        usize::from(yes)
    }
}

/// The control task's labels: every character type gets one label, drawn from the real
/// labels' frequencies, and every position of that character carries it.
pub fn control_labels(ids: &[usize], real: &[usize], classes: usize, vocab: usize, seed: u64) -> Vec<usize> {
    let mut counts = vec![0usize; classes];
    for &y in real {
        counts[y] += 1;
    }
    let mut rng = Rng::new(seed);
    let per_type: Vec<usize> = (0..vocab)
        .map(|_| {
            let mut u = rng.uniform() * real.len() as f32;
            for (class, &n) in counts.iter().enumerate() {
                if u < n as f32 {
                    return class;
                }
                u -= n as f32;
            }
            classes - 1
        })
        .collect();
    ids.iter().take(real.len()).map(|&t| per_type[t]).collect()
}

/// The residual stream after the embeddings and after each layer, `[stream][position·d]`,
/// for the first `positions` characters of `ids`, run in windows of [`WINDOW`].
pub fn hidden_states(model: &Transformer, ids: &[usize], positions: usize) -> Result<Vec<Vec<f32>>> {
    let streams = model.config.n_layers + 1;
    let mut out = vec![Vec::with_capacity(positions * model.config.d_model); streams];
    let window = WINDOW.min(model.config.context);
    let mut start = 0;
    while start < positions {
        let end = (start + window).min(positions);
        let seen = inspect(model, &ids[start..end], None)?;
        for (s, stream) in out.iter_mut().enumerate() {
            // Stream 2s of the inspection is the one after layer s's MLP (0: embeddings).
            stream.extend_from_slice(&seen.residuals[2 * s].data);
        }
        start = end;
    }
    Ok(out)
}

/// Trains a softmax-regression probe on the first `train` rows of `x` (`[n, d]`) and returns
/// its accuracy on the rest. Features are standardised with the training rows' mean and
/// spread.
pub fn probe_accuracy(x: &[f32], d: usize, y: &[usize], classes: usize, train: usize) -> f64 {
    let n = y.len();
    let mut mean = vec![0.0f32; d];
    let mut spread = vec![0.0f32; d];
    for row in x.chunks(d).take(train) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / train as f32;
        }
    }
    for row in x.chunks(d).take(train) {
        for ((s, v), m) in spread.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m) / train as f32;
        }
    }
    let spread: Vec<f32> = spread.iter().map(|s| libm::sqrtf(s + 1e-6)).collect();
    let z: Vec<f32> = x
        .chunks(d)
        .flat_map(|row| row.iter().zip(&mean).zip(&spread).map(|((v, m), s)| (v - m) / s).collect::<Vec<_>>())
        .collect();
    // Weights [d + 1, classes], the last row the bias.
    let mut w = vec![0.0f32; (d + 1) * classes];
    let mut grad = vec![0.0f32; w.len()];
    let mut opt = Optimizer::new(Method::adam(), w.len());
    let scores = |w: &[f32], row: &[f32]| -> Vec<f32> {
        (0..classes)
            .map(|k| {
                w[d * classes + k] + row.iter().enumerate().map(|(r, v)| v * w[r * classes + k]).sum::<f32>()
            })
            .collect()
    };
    for _ in 0..STEPS {
        grad.fill(0.0);
        for (row, &label) in z.chunks(d).zip(y).take(train) {
            let s = scores(&w, row);
            let max = s.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let e: Vec<f32> = s.iter().map(|v| libm::expf(v - max)).collect();
            let total: f32 = e.iter().sum();
            for k in 0..classes {
                let g = (e[k] / total - if k == label { 1.0 } else { 0.0 }) / train as f32;
                for (r, v) in row.iter().enumerate() {
                    grad[r * classes + k] += v * g;
                }
                grad[d * classes + k] += g;
            }
        }
        // Shapes always match (both are (d + 1)·classes long).
        let _ = opt.step(&mut w, &grad, LR);
    }
    let right = z
        .chunks(d)
        .zip(y)
        .skip(train)
        .filter(|(row, &label)| {
            let s = scores(&w, row);
            (0..classes).fold(0, |best, k| if s[k] > s[best] { k } else { best }) == label
        })
        .count();
    right as f64 / (n - train).max(1) as f64
}

/// The accuracy of always answering the training rows' most common label, on the test rows.
pub fn majority_accuracy(y: &[usize], classes: usize, train: usize) -> f64 {
    let mut counts = vec![0usize; classes];
    for &label in &y[..train] {
        counts[label] += 1;
    }
    let best = (0..classes).fold(0, |b, k| if counts[k] > counts[b] { k } else { b });
    y[train..].iter().filter(|&&l| l == best).count() as f64 / (y.len() - train).max(1) as f64
}

/// Which probe a result is: the trained model on the real labels or the control labels, or
/// the random model on the real labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Real,
    Control,
    RandomModel,
}

pub const VARIANTS: [Variant; 3] = [Variant::Real, Variant::Control, Variant::RandomModel];

/// Every probe, trained one per [`ProbeRun::step`].
#[derive(Clone, Debug)]
pub struct ProbeRun {
    d: usize,
    /// `[stream]` hidden states of the trained and of the random model.
    trained: Vec<Vec<f32>>,
    random: Vec<Vec<f32>>,
    /// `[task]` real and control labels.
    real: Vec<Vec<usize>>,
    control: Vec<Vec<usize>>,
    /// The training rows (the rest are the test rows).
    pub train: usize,
    /// `[task][variant][stream]`, filled as probes finish.
    pub accuracy: Vec<Vec<Vec<Option<f64>>>>,
    next: usize,
}

impl ProbeRun {
    /// Runs both models over the first [`POSITIONS`] characters of `text` (ids `ids`, with at
    /// least one more character after them) and prepares every probe.
    pub fn new(model: &Transformer, text: &[char], ids: &[usize]) -> Result<ProbeRun> {
        let positions = POSITIONS.min(ids.len().saturating_sub(1)).min(text.len().saturating_sub(1));
        if positions < 8 {
            return Err(crate::models::transformer::ModelError::invalid("the text is too short to probe"));
        }
        let random_model = Transformer::new(model.config, SEED)?;
        let trained = hidden_states(model, ids, positions)?;
        let random = hidden_states(&random_model, ids, positions)?;
        let real: Vec<Vec<usize>> =
            TASKS.iter().map(|t| (0..positions).map(|i| t.label(text, i)).collect()).collect();
        let control = TASKS
            .iter()
            .zip(&real)
            .map(|(t, y)| control_labels(ids, y, t.classes(), model.config.vocab, SEED))
            .collect();
        let streams = model.config.n_layers + 1;
        Ok(ProbeRun {
            d: model.config.d_model,
            trained,
            random,
            real,
            control,
            train: positions * 3 / 4,
            accuracy: vec![vec![vec![None; streams]; VARIANTS.len()]; TASKS.len()],
            next: 0,
        })
    }

    /// How many probes there are in all.
    pub fn total(&self) -> usize {
        TASKS.len() * VARIANTS.len() * self.trained.len()
    }

    /// How many are trained.
    pub fn finished(&self) -> usize {
        self.next
    }

    pub fn done(&self) -> bool {
        self.next >= self.total()
    }

    /// Trains the next probe; does nothing once [`ProbeRun::done`].
    pub fn step(&mut self) {
        if self.done() {
            return;
        }
        let streams = self.trained.len();
        let (task, rest) = (self.next / (VARIANTS.len() * streams), self.next % (VARIANTS.len() * streams));
        let (variant, stream) = (rest / streams, rest % streams);
        let (x, y) = match VARIANTS[variant] {
            Variant::Real => (&self.trained[stream], &self.real[task]),
            Variant::Control => (&self.trained[stream], &self.control[task]),
            Variant::RandomModel => (&self.random[stream], &self.real[task]),
        };
        let acc = probe_accuracy(x, self.d, y, TASKS[task].classes(), self.train);
        self.accuracy[task][variant][stream] = Some(acc);
        self.next += 1;
    }

    /// The majority-class accuracy of each task on the test rows.
    pub fn majority(&self) -> Vec<f64> {
        TASKS.iter().zip(&self.real).map(|(t, y)| majority_accuracy(y, t.classes(), self.train)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::logit_lens::held_out_slice;
    use crate::models::transformer_inspect::tests::shipped;

    const TEXT: &str = include_str!("../../../../assets/shakespeare/tragedies.txt");

    #[test]
    fn labels_follow_their_definitions() {
        let text: Vec<char> = "Ham.\nTo be, or not".chars().collect();
        let of = |t: Task| (0..text.len() - 1).map(|i| t.label(&text, i)).collect::<Vec<_>>();
        assert_eq!(of(Task::Vowel), [0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(of(Task::InsideWord), [0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
        assert_eq!(of(Task::Upper), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(of(Task::NextSpace), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]);
        assert_eq!(of(Task::LinePosition)[..6], [0, 0, 0, 0, 0, 0]);
        let long: Vec<char> = format!("\n{}", "a".repeat(40)).chars().collect();
        let buckets: Vec<usize> =
            [1, 10, 11, 21, 31, 39].iter().map(|&i| Task::LinePosition.label(&long, i)).collect();
        assert_eq!(buckets, [0, 0, 1, 2, 3, 3]);
    }

    #[test]
    fn control_labels_are_one_per_character_type() {
        let ids = [0, 1, 2, 0, 1, 2, 3, 3];
        let real = [0, 1, 1, 0, 1, 1, 0, 1];
        let control = control_labels(&ids, &real, 2, 4, 1);
        assert_eq!(control[0], control[3]);
        assert_eq!(control[1], control[4]);
        assert_eq!(control[6], control[7]);
    }

    #[test]
    fn a_probe_learns_a_linearly_separable_label() {
        // Label = sign of the first feature; the second is noise.
        let mut rng = Rng::new(3);
        let x: Vec<f32> = (0..400).map(|_| rng.normal()).collect();
        let y: Vec<usize> = x.chunks(2).map(|r| usize::from(r[0] > 0.0)).collect();
        assert!(probe_accuracy(&x, 2, &y, 2, 150) > 0.97);
    }

    #[test]
    fn probes_on_the_shipped_model() {
        let ckpt = shipped();
        let ids = held_out_slice(TEXT, &ckpt.vocab).unwrap();
        let text: Vec<char> = ckpt.vocab.decode(&ids).unwrap().chars().collect();
        let mut run = ProbeRun::new(&ckpt.model, &text, &ids).unwrap();
        assert_eq!(run.total(), 45);
        while !run.done() {
            run.step();
        }
        let acc = |t: usize, v: usize| run.accuracy[t][v].iter().map(|a| a.unwrap()).collect::<Vec<f64>>();
        // [task] → (real, control, random model), each after the embeddings, layer 1, layer 2.
        let pinned: [[[f64; 3]; 3]; 5] = [
            [[1.0000, 0.9883, 0.9863], [1.0000, 0.9121, 0.8828], [0.9941, 0.9941, 0.9844]],
            [[0.8516, 0.9883, 0.9863], [1.0000, 0.8633, 0.8105], [0.8262, 0.8301, 0.8223]],
            [[1.0000, 1.0000, 0.9922], [1.0000, 0.9961, 0.9863], [0.9746, 0.9766, 0.9688]],
            [[0.2988, 0.3750, 0.5000], [1.0000, 0.8848, 0.8320], [0.3027, 0.3262, 0.2969]],
            [[0.8535, 0.8926, 0.9023], [1.0000, 0.9531, 0.9355], [0.8105, 0.8242, 0.8301]],
        ];
        for (t, task) in TASKS.iter().enumerate() {
            for v in 0..3 {
                crate::assert_close!(acc(t, v), pinned[t][v].to_vec(), 5e-5, "{} variant {v}", task.name());
            }
        }
        crate::assert_close!(run.majority(), vec![0.7090, 0.5840, 0.9453, 0.2520, 0.8379], 5e-5);
        assert_eq!(run.train, 1_536);
    }
}
