//! The book's models and what runs them.

pub mod bpe;
pub mod byte_bpe;
pub mod checkpoint;
pub mod generate;
pub mod gpt_recipe;
pub mod minilm;
pub mod mlp;
pub mod sampling;
pub mod skip_gram;
pub mod train;
pub mod transformer;
pub mod transformer_inspect;
pub mod vocab;
pub mod word_vectors;
pub mod wordpiece;
