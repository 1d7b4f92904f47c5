//! Chapter 4's memory calculator: how many parameters a transformer has, counted tensor by
//! tensor, and how many bytes training it takes per GPU: weights, gradients, Adam's two
//! moments and the FP32 master copy, the activations kept for the backward pass, and how
//! ZeRO's three stages shard the model states across data-parallel GPUs.
//!
//! Counts are exact integers (u64), so LLaMA-7B's 6,738,415,616 parameters come out to the
//! last digit; bytes are f64 only where a division by the GPU count can leave a fraction.

use crate::models::transformer::{Norm, TransformerConfig};

/// The feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ffn {
    /// Two matrices, d × hidden and hidden × d (GPT-2, the book's tiny GPT).
    Mlp { hidden: u64 },
    /// SwiGLU: three matrices, two d × hidden (gate and up) and one hidden × d (LLaMA).
    SwiGlu { hidden: u64 },
}

/// How a layer normalizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// LayerNorm: a gain γ and a bias β per feature.
    LayerNorm,
    /// RMSNorm: a gain only.
    RmsNorm,
}

/// Everything about a model's shape that decides its parameter count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelShape {
    /// Transformer blocks.
    pub layers: u64,
    /// Width of the residual stream, d.
    pub d_model: u64,
    /// Tokens in the vocabulary.
    pub vocab: u64,
    /// Longest sequence; counts only when positions are learned.
    pub context: u64,
    /// Query heads.
    pub heads: u64,
    /// Key/value heads: equal to `heads` for ordinary attention, fewer with grouped-query
    /// attention (K and V are then d × kv_heads·head_dim).
    pub kv_heads: u64,
    /// The feed-forward block and its hidden width.
    pub ffn: Ffn,
    /// The output layer reuses the token embedding (tied) or has its own matrix.
    pub tied_embeddings: bool,
    /// A learned position embedding (GPT-2), or none (rotary positions, LLaMA).
    pub learned_positions: bool,
    /// LayerNorm or RMSNorm.
    pub norm: NormKind,
    /// A norm after the last block (pre-norm models have one).
    pub final_norm: bool,
    /// Biases on the four attention projections.
    pub attention_bias: bool,
    /// Biases on the feed-forward matrices.
    pub ffn_bias: bool,
}

/// A parameter count split the way the chapter discusses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamCount {
    /// Token embedding table, V × d.
    pub token_embedding: u64,
    /// Learned positions, context × d (0 with rotary positions).
    pub position_embedding: u64,
    /// Attention projections and their biases, all layers.
    pub attention: u64,
    /// Feed-forward matrices and their biases, all layers.
    pub feed_forward: u64,
    /// Every norm's gains (and biases), including the final norm.
    pub norms: u64,
    /// The untied output layer, V × d (0 when tied).
    pub output: u64,
}

impl ParamCount {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.token_embedding
            + self.position_embedding
            + self.attention
            + self.feed_forward
            + self.norms
            + self.output
    }
}

impl ModelShape {
    /// GPT-2 small: 12 layers of width 768, learned positions, tied embeddings, biases
    /// everywhere. 124,439,808 parameters.
    pub const GPT2_SMALL: ModelShape = ModelShape {
        layers: 12,
        d_model: 768,
        vocab: 50_257,
        context: 1024,
        heads: 12,
        kv_heads: 12,
        ffn: Ffn::Mlp { hidden: 3072 },
        tied_embeddings: true,
        learned_positions: true,
        norm: NormKind::LayerNorm,
        final_norm: true,
        attention_bias: true,
        ffn_bias: true,
    };

    /// LLaMA-7B: 32 layers of width 4096, SwiGLU with hidden size 11,008, RMSNorm, rotary
    /// positions, untied output, no biases. 6,738,415,616 parameters.
    pub const LLAMA_7B: ModelShape = ModelShape {
        layers: 32,
        d_model: 4096,
        vocab: 32_000,
        context: 2048,
        heads: 32,
        kv_heads: 32,
        ffn: Ffn::SwiGlu { hidden: 11_008 },
        tied_embeddings: false,
        learned_positions: false,
        norm: NormKind::RmsNorm,
        final_norm: true,
        attention_bias: false,
        ffn_bias: false,
    };

    /// LLaMA-2-70B: 80 layers of width 8192, 64 query heads sharing 8 key/value heads,
    /// SwiGLU with hidden size 28,672. 68,976,648,192 parameters.
    pub const LLAMA2_70B: ModelShape = ModelShape {
        layers: 80,
        d_model: 8192,
        vocab: 32_000,
        context: 4096,
        heads: 64,
        kv_heads: 8,
        ffn: Ffn::SwiGlu { hidden: 28_672 },
        tied_embeddings: false,
        learned_positions: false,
        norm: NormKind::RmsNorm,
        final_norm: true,
        attention_bias: false,
        ffn_bias: false,
    };

    /// The shape of one of the book's own transformers (crates/engine's
    /// [`TransformerConfig`]): learned positions, tied output, LayerNorm, biases on the
    /// feed-forward block only, a final norm when pre-norm.
    pub fn of_engine(config: &TransformerConfig) -> ModelShape {
        ModelShape {
            layers: config.n_layers as u64,
            d_model: config.d_model as u64,
            vocab: config.vocab as u64,
            context: config.context as u64,
            heads: config.n_heads as u64,
            kv_heads: config.n_heads as u64,
            ffn: Ffn::Mlp { hidden: config.d_ff as u64 },
            tied_embeddings: true,
            learned_positions: true,
            norm: NormKind::LayerNorm,
            final_norm: config.norm == Norm::Pre,
            attention_bias: false,
            ffn_bias: true,
        }
    }

    /// Checks the shape makes sense; the message says what to change.
    pub fn check(&self) -> Result<(), String> {
        let ModelShape { layers, d_model, vocab, heads, kv_heads, .. } = *self;
        if layers == 0 || d_model == 0 || vocab == 0 || heads == 0 || kv_heads == 0 {
            return Err("Layers, width, vocabulary and heads must all be at least 1.".into());
        }
        if d_model % heads != 0 {
            return Err(format!("The width {d_model} must divide evenly among {heads} heads."));
        }
        if heads % kv_heads != 0 {
            return Err(format!("{heads} query heads cannot share {kv_heads} key/value heads evenly."));
        }
        Ok(())
    }

    /// The parameters, tensor by tensor, summed by kind.
    pub fn params(&self) -> ParamCount {
        let d = self.d_model;
        let head_dim = d / self.heads.max(1);
        let kv_width = self.kv_heads * head_dim;
        // W_Q and W_O are d × d; W_K and W_V are d × kv_width (d × d without grouping).
        let mut attention = 2 * d * d + 2 * d * kv_width;
        if self.attention_bias {
            attention += 2 * d + 2 * kv_width;
        }
        let feed_forward = match self.ffn {
            Ffn::Mlp { hidden } => 2 * d * hidden + if self.ffn_bias { hidden + d } else { 0 },
            Ffn::SwiGlu { hidden } => 3 * d * hidden + if self.ffn_bias { 2 * hidden + d } else { 0 },
        };
        let per_norm = match self.norm {
            NormKind::LayerNorm => 2 * d,
            NormKind::RmsNorm => d,
        };
        let norms = self.layers * 2 * per_norm + if self.final_norm { per_norm } else { 0 };
        ParamCount {
            token_embedding: self.vocab * d,
            position_embedding: if self.learned_positions { self.context * d } else { 0 },
            attention: self.layers * attention,
            feed_forward: self.layers * feed_forward,
            norms,
            output: if self.tied_embeddings { 0 } else { self.vocab * d },
        }
    }

    /// The back-of-envelope estimate 12·L·d²: 4d² of attention and 8d² of feed-forward per
    /// layer, nothing else.
    pub fn twelve_l_d_squared(&self) -> u64 {
        12 * self.layers * self.d_model * self.d_model
    }

    /// How many parameters the exact count has beyond 12·L·d² (negative when the estimate
    /// is too high, e.g. for a feed-forward block narrower than 4d).
    pub fn estimate_gap(&self) -> i128 {
        self.params().total() as i128 - self.twelve_l_d_squared() as i128
    }

    /// The gap as a share of the exact count: 0.044 for LLaMA-7B.
    pub fn estimate_gap_share(&self) -> f64 {
        self.estimate_gap() as f64 / self.params().total().max(1) as f64
    }
}

/// Bytes each parameter carries during mixed-precision training with Adam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateBytes {
    /// The 16-bit weights the forward and backward passes use.
    pub weights: u64,
    /// Gradients: 2 in BF16, 4 in FP32.
    pub gradients: u64,
    /// The FP32 master copy the optimizer updates.
    pub master: u64,
    /// Adam's first and second moments, FP32 each.
    pub adam_moments: u64,
}

impl StateBytes {
    /// The ZeRO paper's accounting: BF16 weights and gradients, FP32 master and moments.
    pub const MIXED_16: StateBytes = StateBytes { weights: 2, gradients: 2, master: 4, adam_moments: 8 };
    /// The same with FP32 gradients: 18 bytes.
    pub const MIXED_FP32_GRADIENTS: StateBytes =
        StateBytes { weights: 2, gradients: 4, master: 4, adam_moments: 8 };

    /// Bytes per parameter in all.
    pub fn total(&self) -> u64 {
        self.weights + self.gradients + self.master + self.adam_moments
    }

    /// The optimizer's own states: master copy and moments.
    pub fn optimizer(&self) -> u64 {
        self.master + self.adam_moments
    }
}

/// ZeRO (Rajbhandari et al., 2020): which model states are sharded across the data-parallel
/// GPUs. Stage 0 is plain data parallelism, every GPU holding everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZeroStage {
    /// Nothing sharded.
    Zero0,
    /// Optimizer states sharded.
    Zero1,
    /// Optimizer states and gradients sharded.
    Zero2,
    /// Optimizer states, gradients and weights sharded.
    Zero3,
}

/// Model-state bytes on one GPU, term by term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerGpu {
    /// 16-bit weights.
    pub weights: f64,
    /// Gradients.
    pub gradients: f64,
    /// FP32 master weights and Adam's moments.
    pub optimizer: f64,
}

impl PerGpu {
    /// All model states on one GPU.
    pub fn total(&self) -> f64 {
        self.weights + self.gradients + self.optimizer
    }
}

/// Model-state bytes per GPU for `params` parameters on `gpus` data-parallel GPUs.
pub fn model_states_per_gpu(params: u64, bytes: StateBytes, stage: ZeroStage, gpus: u64) -> PerGpu {
    let n = params as f64;
    let share = |sharded: bool| if sharded { gpus.max(1) as f64 } else { 1.0 };
    PerGpu {
        weights: n * bytes.weights as f64 / share(stage >= ZeroStage::Zero3),
        gradients: n * bytes.gradients as f64 / share(stage >= ZeroStage::Zero2),
        optimizer: n * bytes.optimizer() as f64 / share(stage >= ZeroStage::Zero1),
    }
}

/// How much of the forward pass is kept for the backward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recompute {
    /// Everything the backward pass needs is stored.
    None,
    /// Only the attention scores, softmax and dropout mask are recomputed (the terms that
    /// grow with the sequence length squared).
    Selective,
    /// Only each layer's input is stored; the layer's forward pass runs again in backward.
    Full,
}

/// Bytes of activations one GPU keeps for the backward pass, for a batch of `micro_batch`
/// sequences of `seq_len` tokens, with 16-bit activations and no tensor or sequence
/// parallelism. Korthikanti et al. (2022), "Reducing Activation Recomputation in Large
/// Transformer Models": per layer s·b·h·(34 + 5·a·s/h) bytes with everything stored,
/// 34·s·b·h with selective recomputation, and 2·s·b·h (the layer's input) with full
/// recomputation. Their count is for GPT-style blocks with a 4h MLP and dropout.
pub fn activation_bytes(shape: &ModelShape, seq_len: u64, micro_batch: u64, recompute: Recompute) -> f64 {
    let (s, b, h, a) = (seq_len as f64, micro_batch as f64, shape.d_model as f64, shape.heads as f64);
    let per_layer = match recompute {
        Recompute::None => s * b * h * (34.0 + 5.0 * a * s / h),
        Recompute::Selective => 34.0 * s * b * h,
        Recompute::Full => 2.0 * s * b * h,
    };
    per_layer * shape.layers as f64
}

/// The memory of one A100 or H100 card, 80 GB.
pub const CARD_80_GB: f64 = 80e9;

/// How a model is trained, beside its shape: everything else the memory per GPU depends on.
/// The sequence length is the shape's `context`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Training {
    /// Sequences each GPU processes at once.
    pub micro_batch: u64,
    /// Bytes per parameter for the model states.
    pub bytes: StateBytes,
    /// How much of the forward pass is recomputed in the backward pass.
    pub recompute: Recompute,
    /// Which model states are sharded.
    pub zero: ZeroStage,
    /// Data-parallel GPUs sharing the states.
    pub gpus: u64,
}

/// One GPU's memory during training, term by term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Weights, gradients and optimizer states on this GPU.
    pub states: PerGpu,
    /// Activations kept for the backward pass (ZeRO does not shard them: each GPU keeps its
    /// own micro-batch's).
    pub activations: f64,
}

impl Budget {
    /// Everything on one GPU.
    pub fn total(&self) -> f64 {
        self.states.total() + self.activations
    }

    /// Whether it all fits on a card of `card_bytes`.
    pub fn fits(&self, card_bytes: f64) -> bool {
        self.total() <= card_bytes
    }
}

/// The memory per GPU for training `shape` as `training` says.
pub fn budget(shape: &ModelShape, training: &Training) -> Budget {
    Budget {
        states: model_states_per_gpu(shape.params().total(), training.bytes, training.zero, training.gpus),
        activations: activation_bytes(shape, shape.context, training.micro_batch, training.recompute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::gpt_recipe::Size;
    use crate::models::train::{TrainConfig, Trainer};
    use crate::models::transformer::Transformer;

    #[test]
    fn the_presets_have_their_published_counts() {
        assert_eq!(ModelShape::GPT2_SMALL.params().total(), 124_439_808);
        assert_eq!(ModelShape::LLAMA_7B.params().total(), 6_738_415_616);
        assert_eq!(ModelShape::LLAMA2_70B.params().total(), 68_976_648_192);
        for shape in [ModelShape::GPT2_SMALL, ModelShape::LLAMA_7B, ModelShape::LLAMA2_70B] {
            assert_eq!(shape.check(), Ok(()));
        }
    }

    #[test]
    fn llama_7b_against_twelve_l_d_squared_as_the_chapter_works_it_out() {
        let shape = ModelShape::LLAMA_7B;
        let p = shape.params();
        assert_eq!(shape.twelve_l_d_squared(), 6_442_450_944);
        assert_eq!(p.total() - shape.twelve_l_d_squared(), 295_964_672);
        // The gap: both embedding tables, SwiGLU's extra 1,048,576 per layer, the norms.
        assert_eq!(p.token_embedding + p.output, 262_144_000);
        assert_eq!(p.feed_forward - 32 * 8 * 4096 * 4096, 33_554_432);
        assert_eq!(p.norms, 262_144 + 4_096);
        assert_eq!(p.attention, 32 * 4 * 4096 * 4096);
    }

    #[test]
    fn bytes_per_parameter_and_the_chapters_examples() {
        assert_eq!(StateBytes::MIXED_16.total(), 16);
        assert_eq!(StateBytes::MIXED_FP32_GRADIENTS.total(), 18);
        // 7B at 18 bytes: 126 GB; at 16 bytes under ZeRO-3 on 8 GPUs: 14 GB each.
        let seven_b = 7_000_000_000;
        let plain = model_states_per_gpu(seven_b, StateBytes::MIXED_FP32_GRADIENTS, ZeroStage::Zero0, 8);
        assert_eq!(plain.total(), 126e9);
        let zero3 = model_states_per_gpu(seven_b, StateBytes::MIXED_16, ZeroStage::Zero3, 8);
        assert_eq!(zero3.total(), 14e9);
        // The 70B exercise: 1,260 GB in all, 19.7 GB per GPU on 64 GPUs under ZeRO-3.
        let seventy_b = 70_000_000_000;
        let all = model_states_per_gpu(seventy_b, StateBytes::MIXED_FP32_GRADIENTS, ZeroStage::Zero0, 1);
        assert_eq!(all.total(), 1.26e12);
        let shard = model_states_per_gpu(seventy_b, StateBytes::MIXED_FP32_GRADIENTS, ZeroStage::Zero3, 64);
        assert!((shard.total() / 1e9 - 19.6875).abs() < 1e-9);
    }

    #[test]
    fn each_zero_stage_shards_one_more_state() {
        let (n, bytes) = (1_000_000, StateBytes::MIXED_16);
        let at = |stage| model_states_per_gpu(n, bytes, stage, 4);
        assert_eq!(at(ZeroStage::Zero0), PerGpu { weights: 2e6, gradients: 2e6, optimizer: 12e6 });
        assert_eq!(at(ZeroStage::Zero1), PerGpu { weights: 2e6, gradients: 2e6, optimizer: 3e6 });
        assert_eq!(at(ZeroStage::Zero2), PerGpu { weights: 2e6, gradients: 0.5e6, optimizer: 3e6 });
        assert_eq!(at(ZeroStage::Zero3), PerGpu { weights: 0.5e6, gradients: 0.5e6, optimizer: 3e6 });
    }

    #[test]
    fn activations_shrink_with_recomputation() {
        let shape = ModelShape::GPT2_SMALL;
        let none = activation_bytes(&shape, 1024, 1, Recompute::None);
        let selective = activation_bytes(&shape, 1024, 1, Recompute::Selective);
        let full = activation_bytes(&shape, 1024, 1, Recompute::Full);
        // s·b·h·(34 + 5as/h) per layer: 1024·768·(34 + 5·12·1024/768) = 1024·768·114.
        assert_eq!(none, 12.0 * 1024.0 * 768.0 * 114.0);
        assert_eq!(selective, 12.0 * 34.0 * 1024.0 * 768.0);
        assert_eq!(full, 12.0 * 2.0 * 1024.0 * 768.0);
    }

    #[test]
    fn the_calculator_counts_the_engines_real_tensors() {
        for size in [Size::Tiny, Size::Small, Size::Large] {
            let config = size.config(65);
            let model = Transformer::new(config, 1).unwrap();
            let real: usize = model.params.iter().map(|t| t.data.len()).sum();
            let shape = ModelShape::of_engine(&config);
            assert_eq!(shape.params().total(), real as u64, "{size:?}");
            // Adam keeps two moments per parameter: the trainer's optimizers hold exactly that.
            let tokens: Vec<usize> = (0..4096).map(|i| i % 65).collect();
            let train = TrainConfig {
                batch: 2,
                len: 16,
                max_lr: 1e-3,
                min_lr: 1e-4,
                warmup_steps: 1,
                total_steps: 10,
                weight_decay: 0.1,
                clip_norm: 1.0,
                seed: 1,
            };
            let trainer = Trainer::new(model, tokens, train).unwrap();
            let moments: usize =
                trainer.optimizers.iter().map(|o| o.first_moment.len() + o.second_moment.len()).sum();
            assert_eq!(moments as u64, 2 * shape.params().total(), "{size:?}");
        }
    }

    #[test]
    fn the_gap_and_the_budget_for_the_presets() {
        assert_eq!(ModelShape::LLAMA_7B.estimate_gap(), 295_964_672);
        assert!((ModelShape::LLAMA_7B.estimate_gap_share() - 0.043_922).abs() < 1e-6);
        let narrow = ModelShape { ffn: Ffn::Mlp { hidden: 768 }, ..ModelShape::GPT2_SMALL };
        assert!(narrow.estimate_gap() < 0);
        // LLaMA-7B's exact count at 18 bytes on one GPU: 121.3 GB of states.
        let one = Training {
            micro_batch: 1,
            bytes: StateBytes::MIXED_FP32_GRADIENTS,
            recompute: Recompute::Full,
            zero: ZeroStage::Zero0,
            gpus: 1,
        };
        let seven = budget(&ModelShape::LLAMA_7B, &one);
        assert_eq!(seven.states.total(), 121_291_481_088.0);
        assert_eq!(seven.activations, 32.0 * 2.0 * 2048.0 * 4096.0);
        assert_eq!(seven.total(), 121_291_481_088.0 + 536_870_912.0);
        assert!(!seven.fits(CARD_80_GB));
        // At 16 bytes, ZeRO-3 on 8 GPUs divides every state by 8.
        let sharded = Training { bytes: StateBytes::MIXED_16, zero: ZeroStage::Zero3, gpus: 8, ..one };
        let eighth = budget(&ModelShape::LLAMA_7B, &sharded);
        assert_eq!(eighth.states.total(), 13_476_831_232.0);
        assert!(eighth.fits(CARD_80_GB));
        // GPT-2 small with nothing recomputed: the test above's 1024·768·114 per layer.
        let gpt2 = Training { recompute: Recompute::None, ..one };
        assert_eq!(budget(&ModelShape::GPT2_SMALL, &gpt2).activations, 12.0 * 1024.0 * 768.0 * 114.0);
    }

    #[test]
    fn bad_shapes_are_explained() {
        let odd = ModelShape { heads: 5, ..ModelShape::GPT2_SMALL };
        assert!(odd.check().unwrap_err().contains("divide evenly"));
        let grouped = ModelShape { kv_heads: 5, ..ModelShape::GPT2_SMALL };
        assert!(grouped.check().unwrap_err().contains("share"));
        let empty = ModelShape { layers: 0, ..ModelShape::GPT2_SMALL };
        assert!(empty.check().is_err());
    }
}
