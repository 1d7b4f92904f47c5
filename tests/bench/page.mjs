// The bench page's side of `cargo xtask bench`: races our wasm and WGSL matmuls against
// TensorFlow.js's wasm and WebGPU backends, and times XOR's 10,000 epochs on our two
// backends. bench.mjs calls window.runBench() and prints the tables.
//
// How a race is run: for each size n, first a check that all four implementations compute
// the same product of the same two matrices (from the engine's seeded generator), then one
// warm-up round each (compiles pipelines, fills caches; discarded), then ROUNDS rounds,
// alternating ours and theirs (and which goes first), each round running products until
// at least MIN_MS have passed. The reported rate is the median round.

import init, * as ours from "./pkg/bench_web.js";

const tf = window.tf;
const log = (message) => console.log(`[bench] ${message}`);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const gflops = (n, count, ms) => (2 * n ** 3 * count) / (ms * 1e-3) / 1e9;

/** Largest |x - reference| over the largest |reference|: 0 when they agree exactly. */
function relativeDifference(x, reference) {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(x[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return x.length === reference.length ? worst / scale : Infinity;
}

/**
 * One timed round of tfjs-wasm, timed as ours is: products one after another until minMs
 * have passed. The wasm backend computes each product when tf.matMul is called.
 */
function tfjsWasmRound(n, a, b, minMs) {
  const start = performance.now();
  let count = 0;
  for (;;) {
    tf.matMul(a, b).dispose();
    count++;
    const ms = performance.now() - start;
    if (ms >= minMs) return gflops(n, count, ms);
  }
}

/**
 * One timed round of tfjs-webgpu, timed as ours is: batches of `batch` products queued,
 * then the last product read back with `await data()` (when it is known the GPU is done),
 * until minMs have passed.
 */
async function tfjsWebgpuRound(n, a, b, batch, minMs) {
  const start = performance.now();
  let count = 0;
  for (;;) {
    const products = [];
    for (let k = 0; k < batch; k++) products.push(tf.matMul(a, b));
    await products[batch - 1].data();
    products.forEach((p) => p.dispose());
    count += batch;
    const ms = performance.now() - start;
    if (ms >= minMs) return gflops(n, count, ms);
  }
}

/** `warmups` unmeasured calls each, then `rounds` rounds alternating who goes first. */
async function race(oursRound, theirsRound, { rounds, minMs, warmMs, warmups }) {
  for (let w = 0; w < warmups; w++) {
    await oursRound(warmMs);
    await theirsRound(warmMs);
  }
  const result = { ours: [], theirs: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ["theirs", "ours"] : ["ours", "theirs"];
    for (const who of order) result[who].push(await (who === "ours" ? oursRound : theirsRound)(minMs));
  }
  return { ...result, oursMedian: median(result.ours), theirsMedian: median(result.theirs) };
}

window.runBench = async ({ parts, sizes, rounds, gpuRounds, minMs, warmMs, warmups, batch, epochs, chunk, xorCpuRuns, xorGpuRuns, gpt: gptPresets, gptChunk }) => {
  await init();
  const settings = { rounds, minMs, warmMs, warmups };
  const env = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: window.crossOriginIsolated,
    tfjs: tf.version_core,
    ourAdapter: await ours.gpu_adapter(),
  };

  // tfjs-wasm, single-threaded: no SharedArrayBuffer without cross-origin isolation (we
  // serve no COOP/COEP headers), and the threads flag is forced off as well.
  tf.wasm.setWasmPaths("tfjs/tfjs-backend-wasm/dist/");
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  await tf.setBackend("wasm");
  await tf.ready();
  env.tfjsWasmSimd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  env.tfjsWasmThreads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");

  const inputs = new Map(sizes.map((n) => [n, { a: ours.bench_matrix(n, 1), b: ours.bench_matrix(n, 2) }]));
  const references = new Map(sizes.map((n) => [n, ours.cpu_matmul(inputs.get(n).a, inputs.get(n).b, n)]));
  const rows = new Map(sizes.map((n) => [n, { n, check: {} }]));

  for (const n of parts.includes("wasm") ? sizes : []) {
    const { a, b } = inputs.get(n);
    const [ta, tb] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
    const product = tf.matMul(ta, tb);
    rows.get(n).check.tfjsWasm = relativeDifference(product.dataSync(), references.get(n));
    product.dispose();
    log(`wasm n=${n}`);
    rows.get(n).wasm = await race((ms) => ours.cpu_matmul_gflops(n, ms), (ms) => tfjsWasmRound(n, ta, tb, ms), settings);
    ta.dispose();
    tb.dispose();
  }

  await tf.setBackend("webgpu");
  await tf.ready();
  const info = tf.backend().adapterInfo ?? {};
  env.tfjsAdapter = `${info.vendor ?? "?"} ${info.architecture ?? ""}`.trim();
  for (const n of parts.includes("webgpu") ? sizes.filter((n) => batch[n]) : []) {
    const { a, b } = inputs.get(n);
    const [ta, tb] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
    const product = tf.matMul(ta, tb);
    rows.get(n).check.tfjsWebgpu = relativeDifference(await product.data(), references.get(n));
    product.dispose();
    rows.get(n).check.oursWgsl = relativeDifference(await ours.gpu_matmul(a, b, n), references.get(n));
    log(`webgpu n=${n}`);
    rows.get(n).webgpu = await race(
      (ms) => ours.gpu_matmul_gflops(n, batch[n], ms),
      (ms) => tfjsWebgpuRound(n, ta, tb, batch[n], ms),
      { ...settings, rounds: gpuRounds, warmups: 1 },
    );
    ta.dispose();
    tb.dispose();
  }

  // XOR: several CPU runs (each well under a second); the GPU run on a software adapter
  // takes over a minute.
  const xor = { cpu: [], gpu: [] };
  for (let r = 0; r < (parts.includes("xor") ? xorCpuRuns : 0); r++) {
    const run = ours.cpu_xor(epochs);
    xor.cpu.push({ ms: run.ms, loss: run.loss, predictions: [...run.predictions] });
  }
  for (let r = 0; r < (parts.includes("xor") ? xorGpuRuns : 0); r++) {
    log(`xor on WebGPU, run ${r + 1}`);
    const run = await ours.gpu_xor(epochs, chunk);
    xor.gpu.push({ ms: run.ms, loss: run.loss, predictions: [...run.predictions] });
  }

  // Chapter 5's tiny GPT: the same steps on each backend, one after the other.
  const gpt = [];
  for (const [preset, steps] of parts.includes("gpt") ? gptPresets : []) {
    log(`tiny GPT ${preset}, ${steps} steps on the CPU, then on WebGPU`);
    const cpu = ours.cpu_gpt(preset, steps);
    const gpu = await ours.gpu_gpt(preset, steps, gptChunk);
    const copy = (run) => ({ ms: run.ms, tokens: run.tokens, losses: [...run.losses] });
    gpt.push({ preset, steps, cpu: copy(cpu), gpu: copy(gpu) });
  }
  return { env, rows: [...rows.values()], xor, gpt };
};

window.benchReady = true;
