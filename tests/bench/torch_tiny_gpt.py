"""Chapter 5's tiny GPT trained with PyTorch on the CPU, one thread: the peer that
`cargo xtask bench` times beside the engine's own trainer (crates/engine/examples/bench_cpu_training.rs).

The same model and recipe as the engine's benchmark: vocabulary 65, context 64, d_model 64,
4 heads, 2 layers, d_ff 256, pre-norm, GELU (tanh approximation), attention projections
without biases, the output layer tied to the token embedding (107,840 parameters); batches
of 8 random windows of 64 tokens; AdamW (betas 0.9 and 0.999, eps 1e-8, decay 0.1 on the
matrices only), gradient clipping at norm 1, linear warmup over 10 steps and half a cosine to
a tenth of the peak over 100. The text is random "words" (runs of letters between token 0),
so the numbers measure speed, not learning. Initialization does not matter for speed.

Usage: python torch_tiny_gpt.py [steps]   (prints one line: "torch tokens/s: N ...")
"""

import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

VOCAB, CONTEXT, D_MODEL, HEADS, LAYERS, D_FF = 65, 64, 64, 4, 2, 256
BATCH, LEN = 8, 64
MAX_LR, MIN_LR, WARMUP, TOTAL = 3e-3, 3e-4, 10, 100


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL, eps=1e-5)
        self.w_q = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.w_k = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.w_v = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.w_o = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.ln2 = nn.LayerNorm(D_MODEL, eps=1e-5)
        self.w1 = nn.Linear(D_MODEL, D_FF)
        self.w2 = nn.Linear(D_FF, D_MODEL)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        split = lambda m: m.view(b, t, HEADS, d // HEADS).transpose(1, 2)
        q, k, v = split(self.w_q(h)), split(self.w_k(h)), split(self.w_v(h))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.w_o(a.transpose(1, 2).reshape(b, t, d))
        return x + self.w2(F.gelu(self.w1(self.ln2(x)), approximate="tanh"))


class TinyGpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, D_MODEL)
        self.position_embedding = nn.Embedding(CONTEXT, D_MODEL)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.final_ln = nn.LayerNorm(D_MODEL, eps=1e-5)

    def forward(self, ids):
        x = self.token_embedding(ids) + self.position_embedding.weight[: ids.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.final_ln(x) @ self.token_embedding.weight.T  # tied output layer


def lr_at(step):
    if step < WARMUP:
        return MAX_LR * step / WARMUP
    progress = min((step - WARMUP) / (TOTAL - WARMUP), 1.0)
    return MIN_LR + 0.5 * (MAX_LR - MIN_LR) * (1 + math.cos(math.pi * progress))


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    torch.manual_seed(1)
    model = TinyGpt()
    for p in model.parameters():  # GPT-2's scale, so the first loss is near ln 65 as the engine's
        if p.dim() == 2:
            nn.init.normal_(p, std=0.02)
    count = sum(p.numel() for p in model.parameters())
    assert count == 107_840, f"{count} parameters, the engine's model has 107,840"
    matrices = [p for p in model.parameters() if p.dim() == 2]
    others = [p for p in model.parameters() if p.dim() != 2]
    optimizer = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": 0.1}, {"params": others, "weight_decay": 0.0}],
        lr=MAX_LR, betas=(0.9, 0.999), eps=1e-8,
    )
    generator = torch.Generator().manual_seed(2)
    letters = torch.randint(1, 65, (100_000,), generator=generator)
    spaces = torch.randint(0, 6, (100_000,), generator=generator) == 0
    tokens = torch.where(spaces, torch.zeros_like(letters), letters)

    def step(i):
        starts = torch.randint(0, tokens.numel() - LEN, (BATCH,), generator=generator)
        windows = torch.stack([tokens[s : s + LEN + 1] for s in starts.tolist()])
        inputs, targets = windows[:, :-1], windows[:, 1:]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(i)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    step(0)  # first-touch allocations out of the timing, as in the engine's benchmark
    # Wall time, and the CPU time of the whole process (every thread PyTorch may have started;
    # time the shared cores give to other jobs is not counted).
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(1, steps + 1):
        loss = step(i)
    secs, cpu_secs = time.perf_counter() - start, time.process_time() - start_cpu
    print(
        f"torch tokens/s: {BATCH * LEN * steps / secs:.0f} ({secs * 1e3 / steps:.1f} ms per step, "
        f"{steps} steps, loss {loss:.3f}; torch {torch.__version__}, {torch.get_num_threads()} thread)"
    )
    print(f"torch on-CPU tokens/s: {BATCH * LEN * steps / cpu_secs:.0f} ({cpu_secs * 1e3 / steps:.1f} ms of CPU per step)")


if __name__ == "__main__":
    main()
