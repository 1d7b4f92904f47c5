// The tiny GPT's CPU training speed in the book's own page: chapter 5's panel, CPU backend,
// which trains in the page's Web Worker (crates/train-worker, the site's release build),
// in headless Chromium. Prints one line, "worker tokens/s: N ...": the panel's own figure
// (tokens trained over the time the worker spent training, checks left out).
// `cargo xtask bench worker` runs it in turns with the same requests answered natively
// (crates/train-worker/examples/bench_worker.rs) and prints the ratio.
//
// Environment: MLBOOK_DIST (the built site), MLBOOK_NPM (folder holding playwright-core),
// MLBOOK_WORKER_STEPS (steps to train; 40 unless set), MLBOOK_WORKER_SIZE (the panel's
// preset: tiny, small or large; small unless set).
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join, normalize } from "node:path";
import { childrenCpuSeconds } from "./cpu_time.mjs";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const { chromium } = require("playwright-core");
const steps = Number(process.env.MLBOOK_WORKER_STEPS ?? 40);
const size = process.env.MLBOOK_WORKER_SIZE ?? "small";

// dist/ served under /book/, as the browser suite serves it.
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const rel = path.startsWith("/book/") ? normalize(path.slice("/book/".length) || "index.html") : "..";
  const file = rel.startsWith("..") ? null : join(dist, rel);
  if (file && existsSync(file) && statSync(file).isFile()) {
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "content-length": body.length });
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/book/`;


const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--no-first-run", "--disable-background-networking"] });
try {
  const page = await (await browser.newContext({ serviceWorkers: "block" })).newPage();
  await page.goto(`${base}inference.html`);
  await page.waitForFunction(() => !document.getElementById("prerender"), null, { timeout: 120000 });
  await page.waitForSelector("article.chapter h1");
  // Widgets mount when scrolled near: bring the pending boxes into view until the trainer is there.
  for (let i = 0; i < 400 && !(await page.locator(".gpt-trainer").count()); i++) {
    await page.evaluate(() => document.querySelector(".widget-pending")?.scrollIntoView({ block: "center" }));
    await page.waitForTimeout(25);
  }
  await page.locator(".gpt-trainer").scrollIntoViewIfNeeded();
  await page.locator('select[data-name="gpt-backend"]').selectOption("cpu");
  await page.waitForFunction(() => document.querySelector(".gpt-trainer .backend-badge").dataset.backend === "cpu");
  const badge = await page.locator(".gpt-trainer .backend-badge").innerText();
  if (!badge.includes("Web Worker")) throw new Error(`the CPU run is not in the worker: "${badge}"`);
  await page.locator('select[data-name="gpt-size"]').selectOption(size);
  await page.locator('input[data-name="gpt-steps"]').fill(String(steps));
  await page.waitForFunction(() => !document.querySelector('[data-name="gpt-train"]').disabled, null, { timeout: 60000 });
  const cpuBefore = childrenCpuSeconds();
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= n, steps, { timeout: 600000 });
  const cpu = childrenCpuSeconds() - cpuBefore;
  const rate = Number(await page.locator('[data-value="gpt-tokens-per-s"]').innerText());
  if (!(rate > 0)) throw new Error(`no tokens/s shown: ${rate}`);
  const version = browser.version();
  console.log(`worker tokens/s: ${rate} (${size} preset, ${steps} steps of 8 x 64 tokens, in chapter 5's Web Worker; Chromium ${version})`);
  // The whole run, the last check (validation and a sample) included, over Chromium's CPU time.
  console.log(`worker on-CPU tokens/s: ${((steps * 8 * 64) / cpu).toFixed(0)} (${cpu.toFixed(2)} s of CPU for the run, every Chromium process counted)`);
} finally {
  await browser.close();
  server.close();
}
