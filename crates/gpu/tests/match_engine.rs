//! The GPU cases natively: every kernel against the CPU reference in crates/engine, at
//! ragged sizes, each with a stated tolerance; then the XOR network and the transformer
//! against the engine's. The cases are in `common/cases.rs`, written once for here and for
//! the browser (`web.rs`); `common/harness.rs` makes each a `#[test]`.
//!
//! These need a GPU adapter (any Vulkan device; Mesa's software lavapipe will do). Without
//! one they FAIL with a message saying so.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod common;

every_gpu_case!(gpu_tests);

/// The shipped all-MiniLM-L6-v2 (`assets/minilm/`, 23.3 MB: natively only) on the GPU against
/// the engine, on chapter 9's four "bank" sentences in one padded batch: every layer's hidden
/// states within MINILM_SHIPPED, and each sentence vector to cosine > 0.9999.
#[test]
fn gpu_minilm_on_the_shipped_weights_matches_the_engine() {
    use engine::labs::contextual_embeddings::BANKS;
    use engine::models::minilm::{cosine, MiniLm};
    use engine::models::wordpiece::WordPiece;

    let asset = |name: &str| format!("{}/../../assets/minilm/{name}", env!("CARGO_MANIFEST_DIR"));
    let model = MiniLm::from_bytes(&std::fs::read(asset("minilm-l6.bin")).expect("the shipped weights"))
        .expect("valid weights");
    let vocab = std::fs::read_to_string(asset("vocab.txt")).expect("the shipped vocabulary");
    let tokenizer = WordPiece::from_vocab(&vocab).expect("a valid vocabulary");
    let ids: Vec<Vec<u32>> = BANKS.iter().map(|s| tokenizer.encode(s, model.config.positions).ids).collect();
    let batch: Vec<&[u32]> = ids.iter().map(|i| &i[..]).collect();
    let encoder = gpu::GpuMiniLm::new(common::gpu(), &model);
    let on_gpu = pollster::block_on(encoder.forward(&batch).expect("valid ids")).expect("read back");
    let mut largest = 0.0f32;
    let mut worst = 1.0f32;
    for (ids, g) in batch.iter().zip(&on_gpu) {
        let c = model.forward(ids).expect("valid ids");
        for (l, (g, c)) in g.states.iter().zip(&c.states).enumerate() {
            largest = largest.max(common::largest_difference(g, c));
            engine::assert_close!(g, c, common::MINILM_SHIPPED, "{} tokens, layer {l}", ids.len());
        }
        let cos = cosine(&g.sentence_vector(), &c.sentence_vector());
        worst = worst.min(cos);
        assert!(cos > 0.9999, "{} tokens: sentence vectors' cosine {cos}", ids.len());
    }
    println!("shipped MiniLM: largest hidden-state difference {largest:e}, worst sentence cosine {worst}");
}
