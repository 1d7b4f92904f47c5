// The browser half of `cargo xtask bench`: serves the bench page, our wasm-bindgen package
// (crates/bench-web) and TensorFlow.js from the per-user npm folder on 127.0.0.1, runs the
// page in one headless Chromium (WebGPU on, as in tests/browser/book.mjs), and prints
// Markdown tables for BENCHMARKS.md.
//
// Environment: MLBOOK_BENCH_PKG (wasm-bindgen's output for crates/bench-web), MLBOOK_NPM
// (folder holding playwright-core, @tensorflow/* and binaryen), MLBOOK_BENCH_QUICK=1 (fewer,
// shorter rounds: a smoke run, not figures to record), MLBOOK_BENCH_PARTS (comma-separated
// subset of wasm,webgpu,xor to run; all three by default), MLBOOK_BENCH_GPU_ROUNDS (timed
// WebGPU rounds per size, 3 by default; more under heavy load), MLBOOK_BENCH_SIZES
// (comma-separated square sizes, 64,256,512,1024 by default).

import { createServer } from "node:http";
import { readFileSync, existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { join, extname, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const npm = process.env.MLBOOK_NPM ?? ".";
const pkg = process.env.MLBOOK_BENCH_PKG ?? "target/bench-web";
const require = createRequire(join(npm, "package.json"));
const { chromium } = require("playwright-core");
const quick = process.env.MLBOOK_BENCH_QUICK === "1";
const parts = (process.env.MLBOOK_BENCH_PARTS ?? "wasm,webgpu,xor,gpt").split(",");
const settings = {
  parts,
  // Square sizes n; WebGPU races only the sizes that have a batch below (a SwiftShader product
  // at n = 1024 takes most of a minute).
  sizes: (process.env.MLBOOK_BENCH_SIZES ?? "64,256,512,1024").split(",").map(Number),
  rounds: quick ? 3 : 7,
  // A GPU round on a software adapter takes seconds at n = 512, so fewer of them.
  gpuRounds: Number(process.env.MLBOOK_BENCH_GPU_ROUNDS ?? 3),
  minMs: quick ? 100 : 300,
  // Warm-up calls per implementation, so V8 has tiered both modules up to optimized code
  // (a call that started in the baseline compiler's code finishes in it).
  warmups: 3,
  warmMs: quick ? 50 : 100,
  // GPU rounds queue this many products of size n, then read the last one back.
  batch: { 64: 20, 256: 5, 512: 2 },
  epochs: 10_000,
  // XOR on the GPU: epochs per submit before the losses are read back, as the chapter 3 widget.
  chunk: 100,
  xorCpuRuns: quick ? 1 : 5,
  xorGpuRuns: 1,
  // Chapter 5's tiny GPT: [preset, steps] (a small-preset step on a software adapter takes
  // seconds), with the GPU's steps queued `gptChunk` to a submit, as the panel does.
  gpt: quick ? [["tiny", 8]] : [["tiny", 24], ["small", 6]],
  gptChunk: 8,
};

// URL prefix -> folder. Nothing else is served, and the page may fetch nothing else.
const roots = [
  ["/pkg/", pkg],
  ["/tfjs/", join(npm, "node_modules", "@tensorflow")],
  ["/", here],
];
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const [prefix, folder] = roots.find(([p]) => path.startsWith(p));
  const rel = normalize(path.slice(prefix.length) || "index.html");
  const file = rel.startsWith("..") ? null : join(folder, rel);
  if (file && existsSync(file) && statSync(file).isFile()) {
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu"],
  ignoreDefaultArgs: ["--disable-gpu"],
});
const page = await browser.newPage();
const problems = [];
page.on("console", (m) => {
  if (m.text().startsWith("[bench]")) console.error(m.text());
  else if (m.type() === "error") problems.push(`console: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
page.on("request", (r) => {
  const url = new URL(r.url());
  if (!["data:", "blob:"].includes(url.protocol) && url.hostname !== "127.0.0.1") problems.push(`request left 127.0.0.1: ${r.url()}`);
});

let result;
try {
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
  result = await page.evaluate((s) => window.runBench(s), settings);
} catch (e) {
  problems.push(e.message);
}
await browser.close();
server.close();

if (result) report(result);
for (const p of problems) console.log(`problem: ${p}`);
process.exit(problems.length === 0 ? 0 : 1);

function report({ env, rows, xor, gpt }) {
  // Two decimals, or two significant digits below 1 (WebGPU on a software adapter is slow).
  const f = (x) => (Math.abs(x) >= 1 || x === 0 ? x.toFixed(2) : x.toPrecision(2));
  const spread = (xs) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
  console.log(`# In-browser benchmark, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`Chromium: ${env.userAgent}`);
  console.log(`TensorFlow.js ${env.tfjs}; tfjs-wasm SIMD ${env.tfjsWasmSimd ? "on" : "off"}, threads ${env.tfjsWasmThreads ? "on" : "off"} (crossOriginIsolated ${env.crossOriginIsolated})`);
  console.log(`ours (crates/bench-web): ${simdReport()}`);
  console.log(`our WebGPU adapter: ${env.ourAdapter}; tfjs-webgpu adapter: ${env.tfjsAdapter}`);
  console.log(`median of ${settings.rounds} rounds (GPU: ${settings.gpuRounds}) of >= ${settings.minMs} ms each, after ${settings.warmups} warm-up calls each (GPU: 1); a GPU batch is ${JSON.stringify(settings.batch)} products queued (by n), then one read-back awaited\n`);
  // A part that was not run shows as "–".
  const none = { ours: [NaN], theirs: [NaN], oursMedian: NaN, theirsMedian: NaN };
  const g2 = (x) => (Number.isNaN(x) ? "–" : f(x));
  const spread2 = (xs) => (xs.some(Number.isNaN) ? "–" : spread(xs));
  const e1 = (x) => (x === undefined ? "–" : x.toExponential(1));
  if (rows.some((r) => r.wasm || r.webgpu)) {
    console.log("| n | ours wasm GFLOP/s | tfjs-wasm GFLOP/s | ours / tfjs-wasm | ours WGSL GFLOP/s | tfjs-webgpu GFLOP/s | ours / tfjs-webgpu |");
    console.log("|---|---|---|---|---|---|---|");
    for (const r of rows) {
      const [w, g] = [r.wasm ?? none, r.webgpu ?? none];
      console.log(`| ${r.n} | ${g2(w.oursMedian)} | ${g2(w.theirsMedian)} | ${g2(w.oursMedian / w.theirsMedian)} | ${g2(g.oursMedian)} | ${g2(g.theirsMedian)} | ${g2(g.oursMedian / g.theirsMedian)} |`);
    }
    console.log("\nRange over the rounds (min–max GFLOP/s), and each product against the engine's (largest |difference| / largest |entry|):");
    for (const r of rows) {
      const [w, g] = [r.wasm ?? none, r.webgpu ?? none];
      console.log(`n=${r.n}: ours wasm ${spread2(w.ours)}, tfjs-wasm ${spread2(w.theirs)}, ours WGSL ${spread2(g.ours)}, tfjs-webgpu ${spread2(g.theirs)}; ` +
        `differences: ours WGSL ${e1(r.check.oursWgsl)}, tfjs-wasm ${e1(r.check.tfjsWasm)}, tfjs-webgpu ${e1(r.check.tfjsWebgpu)}`);
      // Round i of ours and of theirs ran back to back, so their ratio shares the load of
      // that moment; the median of those ratios is steadier than the ratio of the medians.
      for (const [label, peer, race] of [["wasm", "tfjs-wasm", r.wasm], ["WGSL", "tfjs-webgpu", r.webgpu]]) {
        if (!race) continue;
        const ratios = race.ours.map((x, i) => x / race.theirs[i]);
        console.log(`  ${label} rounds, ours: ${race.ours.map(f).join(", ")}; ${peer}: ${race.theirs.map(f).join(", ")}; ` +
          `round by round ours / ${peer}: ${ratios.map(f).join(", ")} (median ${f(median(ratios))})`);
      }
      for (const [who, d] of Object.entries(r.check)) if (!(d < 1e-4)) problems.push(`n=${r.n}: ${who} does not compute the engine's product (relative difference ${d})`);
    }
  }
  reportGpt(gpt);
  if (!settings.parts.includes("xor")) return;
  const ms = (runs) => median(runs.map((r) => r.ms));
  console.log(`\n# XOR, 2-4-1, ${settings.epochs} full-batch epochs (median of ${settings.xorCpuRuns} CPU runs, ${settings.xorGpuRuns} GPU run)`);
  console.log(`| backend | ms | µs per epoch | final loss | predictions |`);
  console.log("|---|---|---|---|---|");
  for (const [name, runs] of [["CPU (wasm, engine)", xor.cpu], [`WebGPU (${settings.chunk} epochs per submit + loss read-back)`, xor.gpu]]) {
    const last = runs[runs.length - 1];
    console.log(`| ${name} | ${ms(runs).toFixed(0)} | ${((ms(runs) * 1000) / settings.epochs).toFixed(1)} | ${last.loss.toExponential(2)} | ${last.predictions.map((p) => p.toFixed(3)).join(", ")} |`);
    runs.forEach((run) => run.predictions.forEach((p, i) => Math.abs(p - [0, 1, 1, 0][i]) < 0.1 || problems.push(`${name}: prediction ${i} = ${p}`)));
  }
  console.log(`WebGPU / CPU time: ${(ms(xor.gpu) / ms(xor.cpu)).toFixed(2)}`);
}

/** The tiny-GPT table: tokens/s on each backend, and how closely the two runs agree. */
function reportGpt(gpt) {
  if (!gpt.length) return;
  console.log(`\n# Chapter 5's tiny GPT: training tokens/s, the CPU (wasm, engine::models::train) and WebGPU (crates/gpu, ${settings.gptChunk} steps a submit), same weights and batches`);
  console.log("| preset | steps | CPU tokens/s | WebGPU tokens/s | WebGPU / CPU | largest loss difference |");
  console.log("|---|---|---|---|---|---|");
  for (const g of gpt) {
    const rate = (run) => run.tokens / (run.ms / 1000);
    const worst = Math.max(...g.cpu.losses.map((l, i) => Math.abs(l - g.gpu.losses[i])));
    console.log(`| ${g.preset} | ${g.steps} | ${rate(g.cpu).toFixed(0)} | ${rate(g.gpu).toFixed(0)} | ${(rate(g.gpu) / rate(g.cpu)).toFixed(2)} | ${worst.toExponential(1)} |`);
    if (!(worst < 1e-3) || g.gpu.losses.length !== g.steps) problems.push(`tiny GPT ${g.preset}: the GPU run does not match the CPU's (largest loss difference ${worst})`);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Whether our module uses wasm SIMD: binaryen's disassembler counts its f32x4 instructions. */
function simdReport() {
  try {
    const wat = execFileSync(join(npm, "node_modules", ".bin", "wasm-dis"), [join(pkg, "bench_web_bg.wasm")], { maxBuffer: 1 << 30 }).toString();
    const count = (wat.match(/f32x4\.(mul|add)/g) ?? []).length;
    return count > 0 ? `simd128 on (${count} f32x4.mul/add instructions in the module)` : "simd128 OFF (no f32x4 arithmetic in the module)";
  } catch (e) {
    return `SIMD unknown (wasm-dis failed: ${e.message.split("\n")[0]})`;
  }
}
