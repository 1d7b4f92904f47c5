//! Writes `assets/minilm/paragraphs.bin`: a MiniLM sentence vector for every paragraph of the
//! book (`cargo xtask data paragraphs`). Paragraphs whose text the old file already has keep
//! their vector; the others are encoded, on every core.

use std::path::Path;

use engine::labs::semantic_search::{embed, text_hash, VectorFile};
use engine::models::minilm::MiniLm;
use engine::models::wordpiece::WordPiece;

/// Paragraph vectors under their text hashes.
type Encoded = Vec<(u64, Vec<f32>)>;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("assets/minilm");
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("assets/minilm/{name}: {e}"));
    let model = MiniLm::from_bytes(&read("minilm-l6.bin")?)?;
    let vocab = String::from_utf8(read("vocab.txt")?).map_err(|e| e.to_string())?;
    let tokenizer = WordPiece::from_vocab(&vocab)?;
    let old = read("paragraphs.bin").ok().and_then(|b| VectorFile::from_bytes(&b).ok()).unwrap_or_default();
    let paragraphs = bookgen::render::book_paragraphs(&root)?;
    let texts: Vec<&str> = paragraphs.iter().map(|(_, p)| p.text.as_str()).collect();
    let missing: Vec<&str> =
        texts.iter().copied().filter(|t| !old.vectors.contains_key(&text_hash(t))).collect();
    eprintln!("{} paragraphs, {} to encode", texts.len(), missing.len());
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = missing.len().div_ceil(threads).max(1);
    let encoded: Vec<Result<Encoded, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = missing
            .chunks(per)
            .map(|chunk| {
                let (model, tokenizer) = (&model, &tokenizer);
                s.spawn(move || {
                    chunk.iter().map(|t| Ok((text_hash(t), embed(model, tokenizer, t)?))).collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a worker panicked".into()))).collect()
    });
    let mut fresh = std::collections::HashMap::new();
    for chunk in encoded {
        fresh.extend(chunk?);
    }
    let entries: Encoded = texts
        .iter()
        .map(|t| {
            let h = text_hash(t);
            let v =
                fresh.get(&h).or_else(|| old.vectors.get(&h)).cloned().expect("every paragraph has a vector");
            (h, v)
        })
        .collect();
    let bytes = VectorFile::to_bytes(model.config.hidden, &entries);
    std::fs::write(dir.join("paragraphs.bin"), &bytes).map_err(|e| e.to_string())?;
    eprintln!("wrote assets/minilm/paragraphs.bin ({} bytes)", bytes.len());
    Ok(())
}
