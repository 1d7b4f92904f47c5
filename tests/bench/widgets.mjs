// The page's own CPU speed: widgets that compute on the page's thread (the app's module,
// `mlbook`, not the training worker), timed as a reader runs them, in the built site in
// headless Chromium. `cargo xtask bench page` runs it in rounds, alternating sites built
// differently, and prints the ratios.
//
// Three widgets, each from a fresh page, with no WebGPU (Playwright's default --disable-gpu),
// so every widget runs on the CPU:
// - chapter 9, contextual embeddings: MiniLM encoding a 20-token sentence, the widget's own
//   figure (`ce-ms`: the encoder's time for the last sentence typed), for several sentences
//   that differ in their first word (each is encoded once; the widget caches);
// - chapter 9, the word-vector trainer: skip-gram pairs trained over a fixed window (a tick of
//   1,500 corpus positions every 30 ms, so the wall rate is capped; the on-CPU rate is not),
//   with the passes set to the most it allows (50) so that the run outlasts the window;
// - chapter 10, the SAE on the tiny GPT: SAE steps over a fixed window (each tick trains for
//   40 ms, then yields).
// Before each window the page is left to go idle (the chapter's other widgets mounted on the
// way finish preparing their data). For each, Chromium's CPU time (user + system of every process this script started) over the
// same window, since the machine may be loaded: the on-CPU rates count everything the browser
// did meanwhile (painting, the tables), so they are lower bounds for the widget alone.
//
// Prints one line per figure, "LABEL: NUMBER (...)", for xtask to read.
//
// Environment: MLBOOK_DIST (the built site), MLBOOK_NPM (folder holding playwright-core),
// MLBOOK_PAGE_ONLY (only the widgets whose label contains one of its "|"-separated parts:
// minilm, skip-gram, sae-gpt), MLBOOK_PAGE_SECONDS (the training windows; 10 unless set),
// MLBOOK_PAGE_SENTENCES (MiniLM sentences timed; 6 unless set, at most 8).
import { createRequire } from "node:module";
import { join } from "node:path";
import { serveDist } from "../serve.mjs";
import { childrenCpuSeconds } from "./cpu_time.mjs";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const { chromium } = require("playwright-core");
const only = process.env.MLBOOK_PAGE_ONLY;
const seconds = Number(process.env.MLBOOK_PAGE_SECONDS ?? 10);
const sentences = Math.min(8, Number(process.env.MLBOOK_PAGE_SENTENCES ?? 6));


/** Wall seconds and Chromium's CPU seconds since `start()`. */
function stopwatch() {
  const wall = performance.now();
  const cpu = childrenCpuSeconds();
  return () => ({ wall: (performance.now() - wall) / 1000, cpu: childrenCpuSeconds() - cpu });
}

/** Waits until Chromium is nearly idle (under 5% of a core over half a second, at most 60 s):
 * the chapter's other widgets mounted on the way to this one may still be downloading and
 * preparing their data, which would be counted in the window otherwise. */
async function settle(page) {
  for (let i = 0; i < 120; i++) {
    const clock = stopwatch();
    await page.waitForTimeout(500);
    if (clock().cpu <= 0.025) return;
  }
  throw new Error("Chromium never went idle");
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const { base, server } = await serveDist(dist);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--no-first-run", "--disable-background-networking"] });

/** A fresh page on a chapter's own page, once the app has taken over the served text, with
 * the widget of class `widget` mounted (widgets mount when scrolled near). */
async function openWidget(slug, widget) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: "block" })).newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  await page.goto(`${base}${slug}.html`);
  await page.waitForFunction(() => !document.getElementById("prerender"));
  await page.waitForSelector("article.chapter h1");
  for (let i = 0; i < 400 && !(await page.locator(`.widget.${widget}`).count()); i++) {
    await page.evaluate(() => document.querySelector(".widget-pending")?.scrollIntoView({ block: "center" }));
    await page.waitForTimeout(25);
  }
  const box = page.locator(`.widget.${widget}`);
  await box.scrollIntoViewIfNeeded();
  return { page, box };
}

const checks = {
  /** MiniLM on the CPU: the widget's own time for each 20-token sentence. */
  async minilm() {
    const { page, box } = await openWidget("embeddings", "contextual");
    const number = (name) => box.locator(`[data-value="${name}"]`).first().getAttribute("data-number").then(Number);
    await box.locator('button[data-name="ce-load"]').click();
    await box.locator('[data-value="ce-word-cos-0-1"]').waitFor({ timeout: 180000 });
    const badge = await box.locator(".backend-badge").getAttribute("data-backend");
    if (badge !== "cpu") throw new Error(`MiniLM is not on the CPU: ${badge}`);
    await settle(page);
    const firstWords = ["The", "A", "One", "That", "This", "Every", "Some", "Each"].slice(0, sentences);
    const textarea = box.locator('textarea[data-name="ce-text"]');
    const times = [];
    const clock = stopwatch();
    for (const word of firstWords) {
      await textarea.fill(`${word} quick brown fox jumps over the lazy dog while the old farmer watched from his porch.`);
      // The tables, the WordPiece list and the timing are drawn together: once the list shows
      // the new sentence, the timing is its own.
      await page.waitForFunction(
        (start) => document.querySelector(".widget.contextual .ce-token-list li")?.textContent.includes(start),
        `[CLS] ${word.toLowerCase()} quick`,
        { timeout: 60000 },
      );
      const tokens = await number("ce-tokens");
      if (tokens !== 20) throw new Error(`"${word} quick brown fox ..." is ${tokens} tokens, not 20`);
      times.push(await number("ce-ms"));
    }
    const { cpu } = clock();
    console.log(`minilm ms per sentence: ${median(times).toFixed(1)} (median of ${times.length} 20-token sentences on the page's thread, the widget's figure; each: ${times.map((t) => t.toFixed(0)).join(", ")} ms)`);
    console.log(`minilm on-CPU ms per sentence: ${((cpu * 1000) / times.length).toFixed(1)} (${cpu.toFixed(2)} s of Chromium CPU for the ${times.length} sentences, typing and tables included)`);
    return page;
  },

  /** Skip-gram on the CPU: pairs trained in a window, per wall and per CPU second. */
  async "skip-gram"() {
    const { page, box } = await openWidget("embeddings", "word-vector-trainer");
    const pairs = () => box.locator('[data-value="wt-pairs"]').innerText().then((t) => Number(t.replace(/,/g, "")));
    await page.waitForFunction(() => !document.querySelector('.word-vector-trainer button[data-name="wt-train"]').disabled, null, { timeout: 60000 });
    // The most passes the widget allows, so that the run outlasts the window.
    await box.locator('input[data-name="wt-epochs"]').fill("50");
    await box.locator('input[data-name="wt-epochs"]').press("Tab");
    await settle(page);
    const train = box.locator('button[data-name="wt-train"]');
    await train.click();
    // A second of warm-up (the first chunks, the plot's first draws), then the window.
    await page.waitForFunction(() => Number(document.querySelector('[data-value="wt-pairs"]').innerText.replace(/,/g, "")) > 0, null, { timeout: 60000 });
    await page.waitForTimeout(1000);
    const before = await pairs();
    const clock = stopwatch();
    await page.waitForTimeout(seconds * 1000);
    const after = await pairs();
    const { wall, cpu } = clock();
    if ((await train.innerText()) !== "Pause") throw new Error("the run ended inside the window; shorten MLBOOK_PAGE_SECONDS");
    console.log(`skip-gram pairs/s: ${((after - before) / wall).toFixed(0)} (${(after - before).toLocaleString("en")} pairs in ${wall.toFixed(1)} s of wall time; capped by the widget's 30 ms tick)`);
    console.log(`skip-gram on-CPU pairs/s: ${((after - before) / cpu).toFixed(0)} (${cpu.toFixed(2)} s of Chromium CPU in the window)`);
    return page;
  },

  /** The SAE on the tiny GPT's layer-1 stream: steps in a window (40 ms of training a tick). */
  async "sae-gpt"() {
    const { page, box } = await openWidget("interpretability", "sae-gpt");
    const steps = () => box.locator('[data-value="sae-gpt-steps"]').innerText().then((t) => Number(t.replace(/,/g, "")) || 0);
    await settle(page);
    // The button works once the tiny GPT and the held-out text are downloaded.
    for (let i = 0; i < 120; i++) {
      await box.locator('button[data-name="sae-gpt-train"]').click();
      if ((await box.locator('[data-status="sae-gpt"]').innerText()).startsWith("Step")) break;
      await page.waitForTimeout(1000);
    }
    await page.waitForFunction(() => Number(document.querySelector('[data-value="sae-gpt-steps"]')?.innerText.replace(/,/g, "")) > 0, null, { timeout: 60000 });
    await page.waitForTimeout(1000);
    const before = await steps();
    const clock = stopwatch();
    // The window, or the run's end (1,000 steps) if sooner.
    await page
      .waitForFunction(() => document.querySelector('[data-status="sae-gpt"]')?.textContent.startsWith("Finished"), null, { timeout: seconds * 1000 })
      .catch(() => {});
    const after = await steps();
    const { wall, cpu } = clock();
    if (after - before < 10) throw new Error(`only ${after - before} SAE steps in the window`);
    console.log(`sae-gpt steps/s: ${((after - before) / wall).toFixed(1)} (${after - before} steps in ${wall.toFixed(1)} s of wall time, 40 ms of training a tick)`);
    console.log(`sae-gpt on-CPU steps/s: ${((after - before) / cpu).toFixed(1)} (${cpu.toFixed(2)} s of Chromium CPU in the window)`);
    return page;
  },
};

try {
  for (const [name, check] of Object.entries(checks)) {
    if (only && !only.split("|").some((part) => name.includes(part))) continue;
    const page = await check();
    if (page.errors.length) throw new Error(`${name}: ${page.errors.join("\n")}`);
    await page.context().close();
  }
  console.log(`(Chromium ${browser.version()}, ${dist})`);
} finally {
  await browser.close();
  server.close();
}
