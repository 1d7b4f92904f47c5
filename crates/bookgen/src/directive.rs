//! The one directive syntax that puts live things into prose.
//!
//! A directive is a line of its own, `{{#widget NAME}}`, `{{#include PATH:ANCHOR}}`, or
//! `{{#answer ID}}` inside an exercise (an answer box graded by the engine).
//! Parsing is a pure function so it can be tested without a browser or a build.

/// Every live widget the book knows. The app matches on this enum exhaustively, so a widget
/// named here cannot be forgotten there, and a name not listed here fails the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widget {
    /// Chapter 1: the 2-2-1 network's forward and backward pass, step by step.
    BackpropStepper,
    /// Chapter 3: XOR trained live, with its loss curve and decision surface.
    XorTrainer,
    /// Chapter 3: self-attention from editable matrices, every intermediate shown.
    AttentionLab,
    /// Chapter 3: the common bugs, switched on in a live run.
    BugInjector,
    /// Chapter 5: temperature, top-k and top-p over editable logits, with sampling.
    SamplingBench,
    /// Chapter 5: the memory a key-value cache needs.
    KvCacheCalculator,
    /// Chapter 8: learning-rate schedules, and the steps of a training run.
    ScheduleLab,
    /// Chapter 5: the tiny GPT generates (greedy, sampling, beam search as a tree).
    GenerationLab,
    /// Chapter 5: the same text generated with and without a KV cache, timed and counted.
    KvCacheTimer,
    /// Chapter 8: five optimizers race across a 2-D loss surface.
    OptimizerRace,
    /// Chapter 8: Adam's moments, corrections and step for one parameter.
    InsideAdam,
    /// Chapter 8: five optimizers train the same network on two moons.
    NetworkRace,
    /// Chapter 2: the one-layer transformer on a sentence, every matrix down to the loss.
    TransformerTrace,
    /// Chapter 7: a network overfits a noisy sine; train/validation curves, early stopping.
    OverfittingLab,
    /// Chapter 7: dropout masks step by step, the 1/(1 − p) scale, the expectation check.
    DropoutLab,
    /// Chapter 7: the shrink equation, and Adam + L2 against AdamW on one run.
    WeightDecayLab,
    /// Chapter 7: LayerNorm's rows against BatchNorm's columns on an editable batch.
    NormAxes,
    /// Chapter 5: train a tiny GPT on Shakespeare, on WebGPU or the CPU; save and load it.
    GptTrainer,
    /// Chapter 7: pre-norm against post-norm, with and without warmup, trained side by side.
    NormPlacementLab,
    /// Chapter 4: a transformer's parameters beside 12·L·d², and training memory per GPU.
    MemoryCalculator,
    /// Chapter 4: byte pair encoding trained merge by merge, with an encoder for typed words.
    BpeTrainer,
    /// Chapter 4: FP32 down to FP8 side by side, bit by bit, and a running sum in each.
    NumberFormats,
    /// Chapter 9: a − b + c on GloVe's vectors, and the analogy test set scored in the page.
    WordArithmetic,
    /// Chapter 9: nearest neighbours, and words mapped by PCA or by axes from word pairs.
    WordMap,
    /// Chapter 9: a gender direction, neutralize and equalize, and the lean that survives.
    BiasLab,
    /// Chapter 9: skip-gram trained on Shakespeare beside the factorized shifted-PPMI matrix.
    WordVectorTrainer,
    /// Chapter 6: a typed sentence under the bidirectional and the causal mask, pairs counted.
    AttentionMasks,
    /// Chapter 6: BERT's 15% and 80/10/10 corruption rolled on a passage, and over many rolls.
    MlmCorruption,
    /// Chapter 6: T5's span corruption, encoder input with sentinels and decoder target.
    SpanCorruption,
    /// Chapter 6: a masked-LM and a causal-LM character model trained side by side.
    MlmVsClm,
    /// Chapter 10: the toy model of superposition, n features in m dimensions, trained live.
    SuperpositionLab,
    /// Chapter 10: histograms of cosines between random vectors in 16, 256 and 4,096 dimensions.
    RandomCosines,
    /// Chapter 10: induction heads forming in a two-layer attention-only transformer, trained live.
    InductionHeads,
    /// Chapter 4: one network trained in FP32, BF16 and FP16 with and without loss scaling.
    MixedPrecisionLab,
    /// Chapter 4: data, tensor and pipeline parallelism, with GPipe and 1F1B as Gantt charts.
    ParallelismLab,
    /// Chapter 4: shingles, Jaccard, MinHash and banding, on two passages and on Shakespeare.
    NearDuplicates,
    /// Chapter 4: typed text cut into GPT-2's byte-level BPE tokens, with their ids.
    Gpt2Tokenizer,
    /// Chapter 11: exercise 11.2 live, one gradient from logits to new probabilities.
    OneGradient,
    /// Chapter 11: the KL-regularized optimum and DPO converging to it on a toy policy.
    DpoLab,
    /// Chapter 11: the knowledge stack's layers, their chapters and one live number each.
    KnowledgeStack,
    /// Chapter 10: the tiny GPT's residual streams decoded by the final LN and unembedding.
    LogitLens,
    /// Chapter 10: every head's attention weights beside α·‖v·W_O‖, and a head silenced.
    AttentionNorms,
    /// Chapter 10: linear probes per layer with a control task and a random-model baseline.
    Probes,
    /// Chapter 9: all-MiniLM-L6-v2 on typed sentences: one word's vectors across them, by layer.
    ContextualEmbeddings,
    /// Chapter 10: a sparse autoencoder trained on the toy model of superposition's activations.
    SparseAutoencoder,
    /// Chapter 10: a sparse autoencoder on the tiny GPT's residual stream, with top contexts.
    SaeTinyGpt,
    /// Chapter 9: the book's own paragraphs ranked by MiniLM cosine to a typed query.
    SemanticSearch,
}

impl Widget {
    /// All widgets, for error messages and tests.
    pub const ALL: &'static [Widget] = &[
        Widget::BackpropStepper,
        Widget::XorTrainer,
        Widget::AttentionLab,
        Widget::BugInjector,
        Widget::SamplingBench,
        Widget::KvCacheCalculator,
        Widget::ScheduleLab,
        Widget::GenerationLab,
        Widget::KvCacheTimer,
        Widget::OptimizerRace,
        Widget::InsideAdam,
        Widget::NetworkRace,
        Widget::TransformerTrace,
        Widget::OverfittingLab,
        Widget::DropoutLab,
        Widget::WeightDecayLab,
        Widget::NormAxes,
        Widget::GptTrainer,
        Widget::NormPlacementLab,
        Widget::MemoryCalculator,
        Widget::BpeTrainer,
        Widget::NumberFormats,
        Widget::WordArithmetic,
        Widget::WordMap,
        Widget::BiasLab,
        Widget::WordVectorTrainer,
        Widget::AttentionMasks,
        Widget::MlmCorruption,
        Widget::SpanCorruption,
        Widget::MlmVsClm,
        Widget::SuperpositionLab,
        Widget::RandomCosines,
        Widget::InductionHeads,
        Widget::MixedPrecisionLab,
        Widget::ParallelismLab,
        Widget::NearDuplicates,
        Widget::Gpt2Tokenizer,
        Widget::OneGradient,
        Widget::DpoLab,
        Widget::KnowledgeStack,
        Widget::LogitLens,
        Widget::AttentionNorms,
        Widget::Probes,
        Widget::ContextualEmbeddings,
        Widget::SparseAutoencoder,
        Widget::SaeTinyGpt,
        Widget::SemanticSearch,
    ];

    /// The name used in Markdown.
    pub fn name(self) -> &'static str {
        match self {
            Widget::BackpropStepper => "backprop-stepper",
            Widget::XorTrainer => "xor-trainer",
            Widget::AttentionLab => "attention-lab",
            Widget::BugInjector => "bug-injector",
            Widget::SamplingBench => "sampling-bench",
            Widget::KvCacheCalculator => "kv-cache-calculator",
            Widget::ScheduleLab => "schedule-lab",
            Widget::GenerationLab => "generation-lab",
            Widget::KvCacheTimer => "kv-cache-timer",
            Widget::OptimizerRace => "optimizer-race",
            Widget::InsideAdam => "inside-adam",
            Widget::NetworkRace => "network-race",
            Widget::TransformerTrace => "transformer-trace",
            Widget::OverfittingLab => "overfitting-lab",
            Widget::DropoutLab => "dropout-lab",
            Widget::WeightDecayLab => "weight-decay-lab",
            Widget::NormAxes => "norm-axes",
            Widget::GptTrainer => "gpt-trainer",
            Widget::NormPlacementLab => "norm-placement-lab",
            Widget::MemoryCalculator => "memory-calculator",
            Widget::BpeTrainer => "bpe-trainer",
            Widget::NumberFormats => "number-formats",
            Widget::WordArithmetic => "word-arithmetic",
            Widget::WordMap => "word-map",
            Widget::BiasLab => "bias-lab",
            Widget::WordVectorTrainer => "word-vector-trainer",
            Widget::AttentionMasks => "attention-masks",
            Widget::MlmCorruption => "mlm-corruption",
            Widget::SpanCorruption => "span-corruption",
            Widget::MlmVsClm => "mlm-vs-clm",
            Widget::SuperpositionLab => "superposition-lab",
            Widget::RandomCosines => "random-cosines",
            Widget::InductionHeads => "induction-heads",
            Widget::MixedPrecisionLab => "mixed-precision-lab",
            Widget::ParallelismLab => "parallelism-lab",
            Widget::NearDuplicates => "near-duplicates",
            Widget::Gpt2Tokenizer => "gpt2-tokenizer",
            Widget::OneGradient => "one-gradient",
            Widget::DpoLab => "dpo-lab",
            Widget::KnowledgeStack => "knowledge-stack",
            Widget::LogitLens => "logit-lens",
            Widget::AttentionNorms => "attention-norms",
            Widget::Probes => "probes",
            Widget::ContextualEmbeddings => "contextual-embeddings",
            Widget::SparseAutoencoder => "sparse-autoencoder",
            Widget::SaeTinyGpt => "sae-tiny-gpt",
            Widget::SemanticSearch => "semantic-search",
        }
    }

    /// Looks a widget up by its Markdown name.
    pub fn from_name(name: &str) -> Option<Widget> {
        Widget::ALL.iter().copied().find(|w| w.name() == name)
    }
}

/// The exercise parts with a numeric answer that the engine grades, by id (`1.1a` is the
/// first part of exercise 1.1). The same list as `engine::labs::exercises::IDS`, which the
/// app's tests check; an `{{#answer ID}}` with an id not listed here fails the build.
pub const ANSWER_IDS: &[&str] = &[
    "1.1a", "1.1b", "1.2", "1.3", "2.1", "2.2a", "2.2b", "3.2", "3.3", "4.1", "4.2", "4.4", "5.1", "5.2a",
    "5.2c", "5.3", "6.1", "6.2", "7.1", "7.2", "7.3", "8.3", "8.4b", "8.4c", "8.5", "9.1", "9.2", "9.3",
    "10.3", "10.4", "11.1", "11.2b", "11.2c",
];

/// A parsed directive line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    /// Mount a live widget here.
    Widget(Widget),
    /// Show the source between `// ANCHOR: name` and `// ANCHOR_END: name` of a repository file.
    Include { path: String, anchor: Option<String> },
    /// An answer box for the exercise part with this id, one of [`ANSWER_IDS`].
    Answer(String),
}

/// Parses one line. `None` means the line is ordinary prose; `Some(Err(..))` means it looks
/// like a directive but is wrong, which the build reports.
pub fn parse_directive(line: &str) -> Option<Result<Directive, String>> {
    let inner = line.trim().strip_prefix("{{#")?.strip_suffix("}}")?.trim();
    let (keyword, argument) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let argument = argument.trim();
    Some(match keyword {
        "widget" => match Widget::from_name(argument) {
            Some(widget) => Ok(Directive::Widget(widget)),
            None => {
                let known: Vec<&str> = Widget::ALL.iter().map(|w| w.name()).collect();
                Err(format!("unknown widget `{argument}`; known widgets: {}", known.join(", ")))
            }
        },
        "include" if !argument.is_empty() => {
            let (path, anchor) = match argument.rsplit_once(':') {
                Some((path, anchor)) => (path, Some(anchor.to_string())),
                None => (argument, None),
            };
            Ok(Directive::Include { path: path.to_string(), anchor })
        }
        "include" => Err("`{{#include}}` needs a path".to_string()),
        "answer" if ANSWER_IDS.contains(&argument) => Ok(Directive::Answer(argument.to_string())),
        "answer" => {
            Err(format!("unknown exercise `{argument}`; graded exercises: {}", ANSWER_IDS.join(", ")))
        }
        other => Err(format!("unknown directive `{{{{#{other}}}}}`; use widget, include or answer")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: Option<Result<Directive, &str>>) {
        let got = parse_directive(line);
        let expected = expected.map(|r| r.map_err(str::to_string));
        assert_eq!(got, expected, "line: {line:?}");
    }

    #[test]
    fn prose_is_not_a_directive() {
        check("Some prose with {{ braces }}.", None);
        check("", None);
        check("{{#widget backprop-stepper", None);
    }

    #[test]
    fn widgets_parse_by_name() {
        check("{{#widget backprop-stepper}}", Some(Ok(Directive::Widget(Widget::BackpropStepper))));
        check("  {{#widget   backprop-stepper }}  ", Some(Ok(Directive::Widget(Widget::BackpropStepper))));
    }

    #[test]
    fn unknown_widgets_and_keywords_are_errors() {
        let unknown = parse_directive("{{#widget warp-drive}}").unwrap().unwrap_err();
        assert!(unknown.contains("unknown widget `warp-drive`"), "{unknown}");
        assert!(unknown.contains("backprop-stepper"), "error lists known widgets: {unknown}");
        let empty = parse_directive("{{#widget}}").unwrap().unwrap_err();
        assert!(empty.contains("unknown widget ``"), "{empty}");
        let keyword = parse_directive("{{#plot x}}").unwrap().unwrap_err();
        assert!(keyword.contains("unknown directive `{{#plot}}`"), "{keyword}");
    }

    #[test]
    fn includes_take_a_path_and_an_optional_anchor() {
        check(
            "{{#include crates/engine/src/labs/backprop_stepper.rs:forward}}",
            Some(Ok(Directive::Include {
                path: "crates/engine/src/labs/backprop_stepper.rs".into(),
                anchor: Some("forward".into()),
            })),
        );
        check(
            "{{#include crates/engine/src/lib.rs}}",
            Some(Ok(Directive::Include { path: "crates/engine/src/lib.rs".into(), anchor: None })),
        );
        check("{{#include}}", Some(Err("`{{#include}}` needs a path")));
    }

    #[test]
    fn answers_name_a_graded_exercise() {
        check("{{#answer 1.1a}}", Some(Ok(Directive::Answer("1.1a".into()))));
        let unknown = parse_directive("{{#answer 1.9z}}").unwrap().unwrap_err();
        assert!(unknown.contains("unknown exercise `1.9z`"), "{unknown}");
        assert!(unknown.contains("1.1a"), "error lists the ids: {unknown}");
    }

    #[test]
    fn every_widget_name_round_trips() {
        for &widget in Widget::ALL {
            assert_eq!(Widget::from_name(widget.name()), Some(widget));
        }
    }
}
