//! Chapter 4's parallelism: how data, tensor and pipeline parallelism split a training step
//! across GPUs, what each GPU holds, what each sends per step, and the pipeline's schedule
//! (GPipe and 1F1B) simulated op by op, with its bubble.

use crate::labs::memory_calculator::ModelShape;

/// One forward or backward pass of one micro-batch on one pipeline stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The forward pass of micro-batch i.
    Forward(usize),
    /// The backward pass of micro-batch i.
    Backward(usize),
}

/// A pass placed in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slot {
    pub pass: Pass,
    pub start: f64,
    pub end: f64,
}

/// The order each stage runs its passes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Huang et al. (2019): every forward pass, then every backward pass.
    GPipe,
    /// One forward, one backward (PipeDream-Flush, Narayanan et al., 2021): after a short
    /// warm-up of forwards, each stage alternates, so it holds the activations of only a
    /// few micro-batches at once.
    OneFOneB,
}

/// A simulated pipeline step.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Per stage, its passes in the order they ran.
    pub stages: Vec<Vec<Slot>>,
    /// When the last pass ends.
    pub makespan: f64,
}

impl Timeline {
    /// The share of stage time spent waiting: 1 − busy / (stages × makespan).
    pub fn bubble_fraction(&self) -> f64 {
        let busy: f64 = self.stages.iter().flatten().map(|s| s.end - s.start).sum();
        1.0 - busy / (self.stages.len() as f64 * self.makespan)
    }

    /// Per stage, the most micro-batches whose activations it held at once (forward done,
    /// backward not yet).
    pub fn peak_in_flight(&self) -> Vec<usize> {
        self.stages
            .iter()
            .map(|slots| {
                let mut held: usize = 0;
                let mut peak = 0;
                for slot in slots {
                    match slot.pass {
                        Pass::Forward(_) => held += 1,
                        Pass::Backward(_) => held = held.saturating_sub(1),
                    }
                    peak = peak.max(held);
                }
                peak
            })
            .collect()
    }
}

/// The order of passes stage `stage` of `stages` runs for `micro_batches` micro-batches.
fn stage_order(schedule: Schedule, stage: usize, stages: usize, micro_batches: usize) -> Vec<Pass> {
    match schedule {
        Schedule::GPipe => {
            (0..micro_batches).map(Pass::Forward).chain((0..micro_batches).map(Pass::Backward)).collect()
        }
        Schedule::OneFOneB => {
            let warmup = (stages - stage - 1).min(micro_batches);
            let mut order: Vec<Pass> = (0..warmup).map(Pass::Forward).collect();
            let (mut next_forward, mut next_backward) = (warmup, 0);
            while next_backward < micro_batches {
                if next_forward < micro_batches {
                    order.push(Pass::Forward(next_forward));
                    next_forward += 1;
                }
                order.push(Pass::Backward(next_backward));
                next_backward += 1;
            }
            order
        }
    }
}

/// Runs a pipeline step: each stage takes its passes in its schedule's order, a forward pass
/// waits for the stage before it, a backward pass for the stage after it. A forward takes
/// `forward_time`, a backward `backward_time` (about twice as long in practice).
/// None for zero stages or micro-batches.
pub fn simulate(
    schedule: Schedule,
    stages: usize,
    micro_batches: usize,
    forward_time: f64,
    backward_time: f64,
) -> Option<Timeline> {
    if stages == 0 || micro_batches == 0 {
        return None;
    }
    let orders: Vec<Vec<Pass>> =
        (0..stages).map(|s| stage_order(schedule, s, stages, micro_batches)).collect();
    // When each pass finished, per stage and micro-batch.
    let mut forward_done = vec![vec![None::<f64>; micro_batches]; stages];
    let mut backward_done = vec![vec![None::<f64>; micro_batches]; stages];
    let mut next = vec![0; stages];
    let mut free_at = vec![0.0; stages];
    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); stages];
    // Each sweep places every pass whose inputs are ready; every sweep places at least one,
    // because the schedules above never wait on a pass that waits on them.
    while next.iter().zip(&orders).any(|(n, o)| n < &o.len()) {
        let mut placed = false;
        for s in 0..stages {
            while let Some(&pass) = orders[s].get(next[s]) {
                let ready = match pass {
                    Pass::Forward(_) if s == 0 => Some(0.0),
                    Pass::Forward(i) => forward_done[s - 1][i],
                    Pass::Backward(i) if s + 1 == stages => forward_done[s][i],
                    Pass::Backward(i) => backward_done[s + 1][i],
                };
                let Some(ready) = ready else { break };
                let start = f64::max(ready, free_at[s]);
                let end = start + if matches!(pass, Pass::Forward(_)) { forward_time } else { backward_time };
                match pass {
                    Pass::Forward(i) => forward_done[s][i] = Some(end),
                    Pass::Backward(i) => backward_done[s][i] = Some(end),
                }
                free_at[s] = end;
                slots[s].push(Slot { pass, start, end });
                next[s] += 1;
                placed = true;
            }
        }
        if !placed {
            return None;
        }
    }
    let makespan = free_at.iter().copied().fold(0.0, f64::max);
    Some(Timeline { stages: slots, makespan })
}

/// The textbook bubble for p stages and m micro-batches: (p − 1) / (m + p − 1).
pub fn bubble_formula(stages: usize, micro_batches: usize) -> f64 {
    (stages as f64 - 1.0) / (micro_batches + stages - 1) as f64
}

/// A way of splitting training across `data × tensor × pipeline` GPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Replicas, each seeing a different part of the batch.
    pub data: u64,
    /// GPUs sharing every weight matrix (Megatron-style column and row blocks).
    pub tensor: u64,
    /// Stages, each holding a contiguous block of layers.
    pub pipeline: u64,
    /// Micro-batches per step through the pipeline.
    pub micro_batches: u64,
    /// Sequences per micro-batch.
    pub micro_batch_size: u64,
    /// Tokens per sequence.
    pub seq_len: u64,
}

/// What one GPU holds and sends in one training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerGpuTraffic {
    /// Parameters on this GPU: its stage's share of the layers, its tensor slice of each.
    pub params: f64,
    /// Bytes sent for the gradient all-reduce across data-parallel replicas.
    pub data_bytes: f64,
    /// Bytes sent for the all-reduces inside every layer across tensor-parallel GPUs.
    pub tensor_bytes: f64,
    /// Bytes of activations (forward) and their gradients (backward) sent to the
    /// neighbouring stage.
    pub pipeline_bytes: f64,
}

/// Bytes one GPU sends in a ring all-reduce of `bytes` over `n` GPUs: 2·(n − 1)/n · bytes.
pub fn ring_all_reduce(bytes: f64, n: u64) -> f64 {
    if n <= 1 {
        0.0
    } else {
        2.0 * (n - 1) as f64 / n as f64 * bytes
    }
}

impl Layout {
    /// GPUs in all.
    pub fn gpus(&self) -> u64 {
        self.data * self.tensor * self.pipeline
    }

    /// The layers on each pipeline stage (once [`Layout::check`] passes, an exact split).
    pub fn layers_per_stage(&self, shape: &ModelShape) -> u64 {
        shape.layers / self.pipeline.max(1)
    }

    /// The attention heads on each tensor-parallel GPU (an exact split once checked).
    pub fn heads_per_gpu(&self, shape: &ModelShape) -> u64 {
        shape.heads / self.tensor.max(1)
    }

    /// Checks the layout fits the model; the message says what to change.
    pub fn check(&self, shape: &ModelShape) -> Result<(), String> {
        if [self.data, self.tensor, self.pipeline, self.micro_batches, self.micro_batch_size, self.seq_len]
            .contains(&0)
        {
            return Err(
                "Every degree, the micro-batch count, size and sequence length must be at least 1.".into()
            );
        }
        if !shape.layers.is_multiple_of(self.pipeline) {
            return Err(format!(
                "{} layers do not split evenly into {} stages.",
                shape.layers, self.pipeline
            ));
        }
        if !shape.heads.is_multiple_of(self.tensor) {
            return Err(format!("{} heads do not split evenly across {} GPUs.", shape.heads, self.tensor));
        }
        Ok(())
    }

    /// Per GPU, with 16-bit gradients and activations. Megatron's tensor parallelism
    /// all-reduces the b·s·h activations twice per layer going forward and twice going back;
    /// a stage boundary passes b·s·h values each way per micro-batch. Embeddings are counted
    /// as spread evenly like the layers, a simplification the page states.
    pub fn traffic(&self, shape: &ModelShape) -> PerGpuTraffic {
        let params = shape.params().total() as f64 / (self.tensor * self.pipeline) as f64;
        let activation = (self.micro_batch_size * self.seq_len * shape.d_model) as f64 * 2.0;
        let layers_here = shape.layers as f64 / self.pipeline as f64;
        let micro = self.micro_batches as f64;
        PerGpuTraffic {
            params,
            data_bytes: ring_all_reduce(params * 2.0, self.data),
            tensor_bytes: micro * layers_here * 4.0 * ring_all_reduce(activation, self.tensor),
            pipeline_bytes: if self.pipeline > 1 { micro * 2.0 * activation } else { 0.0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schedules_have_the_textbook_bubble() {
        for (p, m) in [(4, 8), (2, 1), (8, 32), (3, 5)] {
            for schedule in [Schedule::GPipe, Schedule::OneFOneB] {
                let t = simulate(schedule, p, m, 1.0, 2.0).unwrap();
                assert_eq!(t.makespan, 3.0 * (m + p - 1) as f64, "{schedule:?} p={p} m={m}");
                let bubble = t.bubble_fraction();
                assert!((bubble - bubble_formula(p, m)).abs() < 1e-12, "{schedule:?} {bubble}");
                // Every stage runs every pass once.
                for slots in &t.stages {
                    assert_eq!(slots.len(), 2 * m);
                }
            }
        }
    }

    #[test]
    fn one_f_one_b_holds_fewer_activations() {
        let gpipe = simulate(Schedule::GPipe, 4, 8, 1.0, 2.0).unwrap();
        let one_f_one_b = simulate(Schedule::OneFOneB, 4, 8, 1.0, 2.0).unwrap();
        assert_eq!(gpipe.peak_in_flight(), [8, 8, 8, 8]);
        assert_eq!(one_f_one_b.peak_in_flight(), [4, 3, 2, 1]);
    }

    #[test]
    fn passes_wait_for_their_neighbours() {
        let t = simulate(Schedule::OneFOneB, 3, 4, 1.0, 2.0).unwrap();
        let find = |s: usize, pass: Pass| *t.stages[s].iter().find(|slot| slot.pass == pass).unwrap();
        for i in 0..4 {
            for s in 1..3 {
                assert!(find(s, Pass::Forward(i)).start >= find(s - 1, Pass::Forward(i)).end);
                assert!(find(s - 1, Pass::Backward(i)).start >= find(s, Pass::Backward(i)).end);
            }
        }
        assert!(simulate(Schedule::GPipe, 0, 4, 1.0, 2.0).is_none());
    }

    #[test]
    fn traffic_per_gpu() {
        let shape = ModelShape::GPT2_SMALL;
        let layout =
            Layout { data: 4, tensor: 2, pipeline: 3, micro_batches: 8, micro_batch_size: 2, seq_len: 1024 };
        assert_eq!(layout.check(&shape), Ok(()));
        assert_eq!(layout.gpus(), 24);
        assert_eq!((layout.layers_per_stage(&shape), layout.heads_per_gpu(&shape)), (4, 6));
        let t = layout.traffic(&shape);
        let params = 124_439_808.0 / 6.0;
        assert_eq!(t.params, params);
        // Ring all-reduce of 16-bit gradients over 4 replicas: 2·3/4 of them.
        assert_eq!(t.data_bytes, 1.5 * params * 2.0);
        let activation = 2.0 * 1024.0 * 768.0 * 2.0;
        assert_eq!(t.tensor_bytes, 8.0 * 4.0 * 4.0 * activation);
        assert_eq!(t.pipeline_bytes, 8.0 * 2.0 * activation);
        let alone = Layout { data: 1, tensor: 1, pipeline: 1, ..layout }.traffic(&shape);
        assert_eq!((alone.data_bytes, alone.tensor_bytes, alone.pipeline_bytes), (0.0, 0.0, 0.0));
        let bad = Layout { pipeline: 5, ..layout };
        assert!(bad.check(&shape).unwrap_err().contains("5 stages"));
    }
}
