//! Reactive logic the widgets share, as `use_*` functions and the plain state behind them:
//! the timer behind every Train and Play button ([`interval`]), the GPU request and its loss
//! ([`gpu`]), the chapter's shared tiny GPT ([`tiny_gpt`]), the CPU training worker's client
//! ([`cpu_runner`]), the browser's model storage ([`model_store`]) and the one training-run
//! seam every trainer uses ([`training_run`]), chapter 5's training session on it
//! ([`gpt_session`]) and chapter 9's shared word vectors ([`word_vectors`]) and chapter 4's GPT-2 vocabulary
//! ([`gpt2_vocabulary`]) and chapter 9's sentence encoder ([`minilm`]) and where it runs, CPU or WebGPU ([`minilm_backend`]), the plays' text, downloaded once ([`play_text`]), and the reader's solved
//! exercises ([`exercise_progress`]). No hook imports a widget.

pub mod cpu_runner;
pub mod exercise_progress;
pub mod gpt2_vocabulary;
pub mod gpt_session;
pub mod gpu;
pub mod interval;
pub mod minilm;
pub mod minilm_backend;
pub mod model_store;
pub mod play_text;
pub mod tiny_gpt;
pub mod training_run;
pub mod word_vectors;
