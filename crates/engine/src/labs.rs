//! The chapter labs: one module per widget, named after it. Each holds the experiment its
//! widget shows, so the widget only formats and lays out.

pub mod alignment;
pub mod attention_lab;
pub mod attention_norms;
pub mod backprop_stepper;
pub mod bug_injector;
pub mod contextual_embeddings;
pub mod dropout_lab;
pub mod exercises;
pub mod induction_heads;
pub mod inside_adam;
pub mod knowledge_stack;
pub mod kv_cache_timer;
pub mod logit_lens;
pub mod masked_lm;
pub mod memory_calculator;
pub mod mixed_precision;
pub mod mlm_vs_clm;
pub mod near_duplicates;
pub mod network_race;
pub mod norm_axes_lab;
pub mod norm_placement_lab;
pub mod number_formats;
pub mod one_gradient;
pub mod optimizer_race;
pub mod overfitting_lab;
pub mod parallelism;
pub mod probes;
pub mod random_cosines;
pub mod semantic_search;
pub mod sparse_autoencoder;
pub mod superposition;
pub mod transformer_trace;
pub mod weight_decay_lab;
