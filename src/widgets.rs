//! Live widgets, one per file. Each calls `crates/engine` for every number it shows, builds
//! its inputs from `controls` and its drawings from `plot`, and imports no other widget.

pub mod attention_lab;
pub mod attention_masks;
pub mod attention_norms;
pub mod backprop_stepper;
pub mod bias_lab;
pub mod bpe_trainer;
pub mod bug_injector;
pub mod contextual_embeddings;
pub mod dpo_lab;
pub mod dropout_lab;
pub mod generation_lab;
pub mod gpt2_tokenizer;
pub mod gpt_trainer;
pub mod induction_heads;
pub mod inside_adam;
pub mod knowledge_stack;
pub mod kv_cache_calculator;
pub mod kv_cache_timer;
pub mod logit_lens;
pub mod memory_calculator;
pub mod mixed_precision_lab;
pub mod mlm_corruption;
pub mod mlm_vs_clm;
pub mod near_duplicates;
pub mod network_race;
pub mod norm_axes_lab;
pub mod norm_placement_lab;
pub mod number_formats;
pub mod one_gradient;
pub mod optimizer_race;
pub mod overfitting_lab;
pub mod parallelism_lab;
pub mod probes;
pub mod random_cosines;
pub mod sae_tiny_gpt;
pub mod sampling_bench;
pub mod schedule_lab;
pub mod semantic_search;
pub mod span_corruption;
pub mod sparse_autoencoder;
pub mod superposition_lab;
pub mod transformer_trace;
pub mod weight_decay_lab;
pub mod word_arithmetic;
pub mod word_map;
pub mod word_vector_trainer;
pub mod xor_trainer;

use leptos::prelude::*;

use crate::book::Widget;

/// The view for a widget named in a chapter. The match is exhaustive: a widget listed in
/// `bookgen::directive::Widget` cannot be missing here.
pub fn widget_view(widget: Widget) -> AnyView {
    match widget {
        Widget::BackpropStepper => view! { <backprop_stepper::BackpropStepper /> }.into_any(),
        Widget::XorTrainer => view! { <xor_trainer::XorTrainer /> }.into_any(),
        Widget::AttentionLab => view! { <attention_lab::AttentionLab /> }.into_any(),
        Widget::BugInjector => view! { <bug_injector::BugInjector /> }.into_any(),
        Widget::SamplingBench => view! { <sampling_bench::SamplingBench /> }.into_any(),
        Widget::KvCacheCalculator => view! { <kv_cache_calculator::KvCacheCalculator /> }.into_any(),
        Widget::ScheduleLab => view! { <schedule_lab::ScheduleLab /> }.into_any(),
        Widget::GenerationLab => view! { <generation_lab::GenerationLab /> }.into_any(),
        Widget::KvCacheTimer => view! { <kv_cache_timer::KvCacheTimer /> }.into_any(),
        Widget::OptimizerRace => view! { <optimizer_race::OptimizerRace /> }.into_any(),
        Widget::InsideAdam => view! { <inside_adam::InsideAdam /> }.into_any(),
        Widget::NetworkRace => view! { <network_race::NetworkRaceWidget /> }.into_any(),
        Widget::TransformerTrace => view! { <transformer_trace::TransformerTrace /> }.into_any(),
        Widget::OverfittingLab => view! { <overfitting_lab::OverfittingLab /> }.into_any(),
        Widget::DropoutLab => view! { <dropout_lab::DropoutLab /> }.into_any(),
        Widget::WeightDecayLab => view! { <weight_decay_lab::WeightDecayLab /> }.into_any(),
        Widget::NormAxes => view! { <norm_axes_lab::NormAxesLab /> }.into_any(),
        Widget::GptTrainer => view! { <gpt_trainer::GptTrainer /> }.into_any(),
        Widget::NormPlacementLab => view! { <norm_placement_lab::NormPlacementLab /> }.into_any(),
        Widget::MemoryCalculator => view! { <memory_calculator::MemoryCalculator /> }.into_any(),
        Widget::BpeTrainer => view! { <bpe_trainer::BpeTrainerLab /> }.into_any(),
        Widget::NumberFormats => view! { <number_formats::NumberFormats /> }.into_any(),
        Widget::WordArithmetic => view! { <word_arithmetic::WordArithmetic /> }.into_any(),
        Widget::ContextualEmbeddings => view! { <contextual_embeddings::ContextualEmbeddings /> }.into_any(),
        Widget::SemanticSearch => view! { <semantic_search::SemanticSearch /> }.into_any(),
        Widget::WordMap => view! { <word_map::WordMapLab /> }.into_any(),
        Widget::BiasLab => view! { <bias_lab::BiasLab /> }.into_any(),
        Widget::WordVectorTrainer => view! { <word_vector_trainer::WordVectorTrainer /> }.into_any(),
        Widget::AttentionMasks => view! { <attention_masks::AttentionMasks /> }.into_any(),
        Widget::MlmCorruption => view! { <mlm_corruption::MlmCorruption /> }.into_any(),
        Widget::MlmVsClm => view! { <mlm_vs_clm::MlmVsClm /> }.into_any(),
        Widget::SpanCorruption => view! { <span_corruption::SpanCorruption /> }.into_any(),
        Widget::SuperpositionLab => view! { <superposition_lab::SuperpositionLab /> }.into_any(),
        Widget::RandomCosines => view! { <random_cosines::RandomCosines /> }.into_any(),
        Widget::InductionHeads => view! { <induction_heads::InductionHeads /> }.into_any(),
        Widget::LogitLens => view! { <logit_lens::LogitLens /> }.into_any(),
        Widget::AttentionNorms => view! { <attention_norms::AttentionNorms /> }.into_any(),
        Widget::Probes => view! { <probes::Probes /> }.into_any(),
        Widget::MixedPrecisionLab => view! { <mixed_precision_lab::MixedPrecisionLab /> }.into_any(),
        Widget::ParallelismLab => view! { <parallelism_lab::ParallelismLab /> }.into_any(),
        Widget::NearDuplicates => view! { <near_duplicates::NearDuplicates /> }.into_any(),
        Widget::Gpt2Tokenizer => view! { <gpt2_tokenizer::Gpt2Tokenizer /> }.into_any(),
        Widget::OneGradient => view! { <one_gradient::OneGradient /> }.into_any(),
        Widget::DpoLab => view! { <dpo_lab::DpoLab /> }.into_any(),
        Widget::KnowledgeStack => view! { <knowledge_stack::KnowledgeStack /> }.into_any(),
        Widget::SparseAutoencoder => view! { <sparse_autoencoder::SparseAutoencoder /> }.into_any(),
        Widget::SaeTinyGpt => view! { <sae_tiny_gpt::SaeTinyGpt /> }.into_any(),
    }
}
