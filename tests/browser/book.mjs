// The browser suite: serves dist/ from a sub-path (/book/) on 127.0.0.1, drives Debian's
// Chromium with playwright-core, and checks what a reader sees. Prints "N passed, N failed".
//
// Environment: MLBOOK_DIST (the built site), MLBOOK_NPM (folder holding playwright-core),
// MLBOOK_SCREENSHOTS (optional folder: save light, dark and phone screenshots of every chapter).

import { createServer } from "node:http";
import { readFileSync, existsSync, statSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, extname, normalize } from "node:path";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const { chromium } = require("playwright-core");
const shots = process.env.MLBOOK_SCREENSHOTS;

// The chapters, from the same SUMMARY.md and Markdown the build used.
const summary = readFileSync("content/SUMMARY.md", "utf8");
const chapters = [...summary.matchAll(/^- \[(.+?)\]\((\d+-([a-z0-9-]+))\.md\)$/gm)].map((m) => {
  const markdown = readFileSync(`content/${m[2]}.md`, "utf8");
  return { slug: m[3], title: markdown.match(/^# (.+)$/m)[1].trim(), hasMath: /\$/.test(markdown) };
});

// A static host that serves dist/ under /book/ and answers unknown paths with 404.html.
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".woff2": "font/woff2" };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file = null;
  if (path.startsWith("/book/")) {
    const rel = normalize(path.slice("/book/".length) || "index.html");
    if (!rel.startsWith("..")) file = join(dist, rel.endsWith("/") || rel === "." ? "index.html" : rel);
  }
  if (file && existsSync(file) && statSync(file).isFile()) {
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  } else {
    res.writeHead(404, { "content-type": "text/html" });
    res.end(readFileSync(join(dist, "404.html")));
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/book/`;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  // WebGPU on (SwiftShader's software adapter in headless Chromium); Playwright's default
  // --disable-gpu would hide it.
  args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu"],
  ignoreDefaultArgs: ["--disable-gpu"],
});

let passed = 0;
let failed = 0;
const problems = [];

/** A fresh page that records console errors, page errors and requests leaving 127.0.0.1. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => m.type() === "error" && page.errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => page.errors.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.hostname !== "127.0.0.1") page.errors.push(`request left 127.0.0.1: ${r.url()}`);
  });
  return page;
}

async function test(name, body) {
  const page = await newPage();
  try {
    await body(page);
    const errors = page.errors.filter((e) => !e.includes("404 (Not Found)") || !name.includes("404"));
    if (errors.length) throw new Error(errors.join("\n"));
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    problems.push(`${name}: ${e.message}`);
    console.log(`FAIL ${name}\n     ${e.message.split("\n").join("\n     ")}`);
  } finally {
    await page.context().close();
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function openChapter(page, slug, hash = "") {
  await page.goto(`${base}?ch=${slug}${hash}`);
  await page.waitForSelector("article.chapter h1");
}

const value = (page, name) => page.locator(`[data-value="${name}"]`).first().innerText().then(Number);

// ---------------------------------------------------------------- every chapter renders
for (const chapter of chapters) {
  await test(`chapter ${chapter.slug} renders its title and math`, async (page) => {
    await openChapter(page, chapter.slug);
    const h1 = await page.locator("article.chapter h1").innerText();
    expect(h1 === chapter.title, `title "${h1}" != "${chapter.title}"`);
    if (chapter.hasMath) {
      const maths = await page.locator("article.chapter math").count();
      expect(maths > 0, "no <math> elements");
      const box = await page.locator("article.chapter math").first().boundingBox();
      expect(box && box.height > 5 && box.width > 5, `math is not laid out: ${JSON.stringify(box)}`);
    }
    const current = await page.locator('.toc a[aria-current="page"]').innerText();
    expect(current.length > 0, "sidebar does not mark the current chapter");
  });
}

// ---------------------------------------------------------------- the reading shell
await test("cover lists every chapter and arrow keys turn pages", async (page) => {
  await page.goto(base);
  await page.waitForSelector(".cover .chapter-list");
  expect((await page.locator(".cover .chapter-list li").count()) === chapters.length, "cover chapter count");
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[0].slug}"]`);
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[1].slug}"]`);
  expect(page.url().endsWith(`?ch=${chapters[1].slug}`), `url ${page.url()}`);
  await page.keyboard.press("ArrowLeft");
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[0].slug}"]`);
  await page.goBack();
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[1].slug}"]`);
});

await test("previous/next links and the sidebar navigate without reloading", async (page) => {
  await openChapter(page, chapters[2].slug);
  await page.evaluate(() => (window.__sameDocument = true));
  await page.locator(".pager-next").click();
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[3].slug}"]`);
  await page.locator(".pager-prev").click();
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[2].slug}"]`);
  await page.locator(".toc a", { hasText: "Synthesis" }).first().click();
  await page.waitForSelector(`article.chapter[data-chapter="synthesis"]`);
  expect(await page.evaluate(() => window.__sameDocument === true), "navigation reloaded the page");
});

await test("a deep link to a section survives a reload from the /book/ sub-path", async (page) => {
  await openChapter(page, chapters[0].slug);
  const id = await page.locator("article.chapter h2[id]").nth(3).getAttribute("id");
  await openChapter(page, chapters[0].slug, `#${id}`);
  await page.waitForFunction((id) => Math.abs(document.getElementById(id).getBoundingClientRect().top) < 120, id, { timeout: 5000 });
  await page.reload();
  await page.waitForSelector("article.chapter h1");
  await page.waitForFunction((id) => Math.abs(document.getElementById(id).getBoundingClientRect().top) < 120, id, { timeout: 5000 });
  const anchor = await page.locator(`#${id} a.anchor`).getAttribute("href");
  expect(anchor === `#${id}`, `heading anchor ${anchor}`);
  await page.waitForFunction((id) => document.querySelector(`.toc-sections a.active`)?.getAttribute("href")?.endsWith(`#${id}`), id, { timeout: 5000 });
});

await test("theme toggle overrides the system and is remembered", async (page) => {
  await openChapter(page, chapters[0].slug);
  const before = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.locator(".theme-toggle").click();
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  expect(theme === "dark", `data-theme ${theme}`);
  const after = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(before !== after, "background did not change");
  await page.reload();
  await page.waitForSelector("article.chapter h1");
  expect((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "theme not remembered");
});

await test("unknown chapters and unknown paths get a real 404", async (page) => {
  await page.goto(`${base}?ch=no-such-chapter`);
  await page.waitForSelector(".not-found h1");
  expect((await page.locator(".not-found li").count()) === chapters.length, "404 lists the chapters");
  const response = await page.goto(`${base}missing/page.html`);
  expect(response.status() === 404, `status ${response.status()}`);
  expect((await page.locator("h1").innerText()).includes("does not exist"), "404 page text");
  page.errors = page.errors.filter((e) => !e.includes("404"));
});

await test("exercises reveal their worked answers", async (page) => {
  await openChapter(page, chapters[0].slug);
  const answer = page.locator("section.exercise details.answer").first();
  expect(!(await answer.evaluate((d) => d.open)), "answer starts closed");
  await answer.locator("summary").click();
  expect(await answer.evaluate((d) => d.open), "answer opens");
  expect((await answer.locator(".details-body").innerText()).length > 40, "answer has content");
});

// ---------------------------------------------------------------- chapter 1, live
await test("backprop stepper shows the engine's numbers at every stage", async (page) => {
  await openChapter(page, "backpropagation");
  const expected = [
    ["a1_1", 0.6], ["y_hat", 0.764498], ["loss", 0.268536], ["delta2", -0.235502],
    ["dW2_1", -0.141301], ["delta1_2", -0.105976], ["dW1_12", -0.0471], ["W2_1", 0.470651],
  ];
  for (let stage = 0; stage < 8; stage++) {
    if (stage > 0) await page.getByRole("button", { name: "Next stage →" }).click();
    await page.waitForSelector(`.bp-stage[data-stage="${stage}"]`);
    const [name, want] = expected[stage];
    const got = await value(page, name);
    expect(Math.abs(got - want) < 1e-6, `stage ${stage + 1}: ${name} = ${got}, expected ${want}`);
    expect((await page.locator(".bp-stage .equations math").count()) > 0, `stage ${stage + 1} has no equation`);
    expect((await page.locator(".bp-diagram .lit").count()) > 0, `stage ${stage + 1} lights nothing`);
  }
  // The finite-difference column agrees with backprop.
  await page.getByRole("button", { name: /Output gradients/ }).click();
  const fd = Number(await page.locator('[data-check="W2_1"]').innerText());
  expect(Math.abs(fd - -0.141301) < 1e-6, `finite difference ${fd}`);
  // The derivation of delta = y_hat - y unfolds with numbers.
  await page.getByRole("button", { name: /Output error/ }).click();
  await page.locator(".bp-stage details.derivation summary").click();
  expect((await page.locator(".bp-stage details.derivation").innerText()).includes("1.308048"), "derivation numbers");
});

await test("editing an input recomputes everything downstream", async (page) => {
  await openChapter(page, "backpropagation");
  await page.getByRole("button", { name: /Loss/ }).first().click();
  await page.locator('input[data-name="y"]').fill("0");
  await page.waitForFunction(() => Math.abs(Number(document.querySelector('[data-value="loss"]').innerText) - 1.446) < 1e-3);
  await page.locator('input[data-name="W1_11"]').fill("-0.6");
  await page.getByRole("button", { name: /Hidden layer/ }).click();
  expect((await value(page, "a1_1")) === 0, "a dead unit shows 0");
});

await test("bad input gets an inline message, keeps the last good numbers, never panics", async (page) => {
  await openChapter(page, "backpropagation");
  await page.getByRole("button", { name: /Output/ }).first().click();
  const good = await value(page, "y_hat");
  for (const bad of ["", "abc", "1e400", "-", "NaN"]) {
    for (const name of ["W1_11", "x2", "lr"]) {
      await page.locator(`input[data-name="${name}"]`).fill(bad);
      const message = await page.locator(`[data-error-for="${name}"]`).innerText();
      expect(message.length > 5, `no message for ${JSON.stringify(bad)} in ${name}`);
      expect((await page.locator(`input[data-name="${name}"]`).getAttribute("aria-invalid")) === "true", "aria-invalid");
      expect((await value(page, "y_hat")) === good, `y_hat changed after ${JSON.stringify(bad)}`);
    }
  }
  await page.locator('input[data-name="y"]').fill("2");
  expect((await page.locator('[data-error-for="y"]').innerText()).includes("between 0 and 1"), "label range message");
  await page.locator('input[data-name="W1_11"]').fill("0.15");
  expect((await page.locator('[data-error-for="W1_11"]').innerText()) === "", "message clears");
});

await test("training plots a falling loss, and extreme settings do not crash", async (page) => {
  await openChapter(page, "backpropagation");
  await page.getByRole("button", { name: "Train 200 steps" }).click();
  await page.waitForFunction(() => document.querySelector(".bp-status").innerText.startsWith("Trained 200"), null, { timeout: 20000 });
  const caption = await page.locator(".bp-curve figcaption").innerText();
  const [first, last] = caption.match(/(\d+\.\d+) → (\d+\.\d+)/).slice(1).map(Number);
  expect(Math.abs(first - 0.268536) < 1e-6 && last < first / 10, `loss ${first} → ${last}`);
  expect(((await page.locator(".line-chart path.series").getAttribute("d")) ?? "").length > 100, "curve drawn");
  await page.getByRole("button", { name: "Reset" }).click();
  for (const [name, v] of [["x1", "1000"], ["W1_11", "1000"], ["W2_1", "-1000"], ["lr", "100"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(v);
  }
  await page.getByRole("button", { name: "Train 200 steps" }).click();
  await page.waitForFunction(() => /Trained|diverged/.test(document.querySelector(".bp-status").innerText), null, { timeout: 20000 });
  expect(await page.locator(".bp-stage").isVisible(), "widget still alive");
});

// ---------------------------------------------------------------- chapter 3, live
async function trainXor(page, backend) {
  await page.locator('select[data-name="xor-backend"]').selectOption(backend);
  await page.waitForFunction((b) => document.querySelector(".widget.xor .backend-badge").dataset.backend === b, backend);
  await page.getByRole("button", { name: "Train 10,000 epochs" }).click();
  await page.waitForFunction(() => /Finished|Diverged/.test(document.querySelector('[data-status="xor"]').innerText), null, { timeout: 120000 });
  const status = await page.locator('[data-status="xor"]').innerText();
  expect(status.includes(`on the ${backend.toUpperCase()}`), `status: ${status}`);
  expect((await value(page, "xor-epochs")) === 10000, "epoch count");
  const targets = [0, 1, 1, 0];
  const predictions = [];
  for (let i = 0; i < 4; i++) predictions.push(await value(page, `xor-pred-${i}`));
  predictions.forEach((p, i) => expect(Math.abs(p - targets[i]) < 0.1, `${backend} prediction ${i} = ${p}`));
  expect((await page.locator(".xor-surface rect").count()) === 21 * 21, "decision surface grid");
  return predictions;
}

await test("XOR trains to within 0.1 of [0, 1, 1, 0] on WebGPU and on the CPU, and the page says which ran", async (page) => {
  await openChapter(page, "implementation-patterns");
  await page.waitForFunction(() => /WebGPU is available|no WebGPU|lost/i.test(document.querySelector('[data-gpu-note="xor"]').innerText), null, { timeout: 30000 });
  const note = await page.locator('[data-gpu-note="xor"]').innerText();
  expect(note.startsWith("WebGPU is available"), `this Chromium should expose WebGPU: ${note}`);
  expect((await page.locator(".widget.xor .backend-badge").innerText()).includes("GPU"), "GPU chosen when available");
  const gpu = await trainXor(page, "gpu");
  await page.getByRole("button", { name: "Reset" }).first().click();
  const cpu = await trainXor(page, "cpu");
  gpu.forEach((p, i) => expect(Math.abs(p - cpu[i]) < 0.01, `GPU ${p} vs CPU ${cpu[i]} at point ${i}`));
});

await test("XOR controls: seed replays exactly, bad values are refused, a huge learning rate does not crash", async (page) => {
  await openChapter(page, "implementation-patterns");
  await page.locator('select[data-name="xor-backend"]').selectOption("cpu");
  const steps = async (n) => { for (let i = 0; i < n; i++) await page.getByRole("button", { name: "Single step" }).click(); };
  await page.locator('input[data-name="xor-seed"]').fill("7");
  await steps(3);
  const first = await page.locator('[data-value="xor-loss"]').innerText();
  await page.getByRole("button", { name: "Reset" }).first().click();
  await steps(3);
  expect((await page.locator('[data-value="xor-loss"]').innerText()) === first, "same seed, same loss");
  for (const [name, bad] of [["xor-hidden", "0"], ["xor-hidden", "2.5"], ["xor-seed", "-1"], ["xor-lr", "abc"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(bad);
    expect((await page.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name}=${bad}`);
  }
  await page.locator('input[data-name="xor-hidden"]').fill("4");
  await page.locator('input[data-name="xor-seed"]').fill("0");
  await page.locator('select[data-name="xor-activation"]').selectOption("tanh");
  await page.locator('select[data-name="xor-optimizer"]').selectOption("adam");
  await page.locator('input[data-name="xor-lr"]').fill("100");
  await page.getByRole("button", { name: "Train 10,000 epochs" }).click();
  await page.waitForFunction(() => /Finished|Diverged/.test(document.querySelector('[data-status="xor"]').innerText), null, { timeout: 60000 });
  expect(await page.locator(".xor-surface").isVisible(), "widget alive");
});

await test("self-attention: rows sum to 1, the mask and scaling switch, bad matrices are explained", async (page) => {
  await openChapter(page, "implementation-patterns");
  const weights = () => page.locator("figure.matrix", { hasText: "attention weights" }).first();
  const sums = async () => (await weights().locator("td.row-sum").allInnerTexts()).map(Number);
  expect((await sums()).every((s) => Math.abs(s - 1) < 1e-3), "row sums");
  const firstRow = async () => (await weights().locator("tbody tr").first().locator("td").allInnerTexts()).slice(0, 4).map(Number);
  expect((await firstRow())[0] === 1, "causal: the first token sees only itself");
  await page.locator('input[data-name="causal"]').uncheck();
  await page.waitForFunction(() => !document.querySelector("figure.matrix td[aria-label^='mask']")?.innerText.includes("∞") || true);
  expect((await firstRow())[0] < 1, "bidirectional: the first token sees the others");
  expect((await sums()).every((s) => Math.abs(s - 1) < 1e-3), "row sums without the mask");
  const scaled = await page.locator("figure.matrix", { hasText: "scaled scores" }).locator("td").first().innerText();
  await page.locator('input[data-name="scale"]').uncheck();
  const unscaled = await page.locator("figure.matrix", { hasText: "scaled scores" }).locator("td").first().innerText();
  expect(Math.abs(Number(unscaled) - 2 * Number(scaled)) < 2e-3, `scaling by sqrt(4): ${scaled} vs ${unscaled}`);
  await page.locator('textarea[data-name="Wq"]').fill("1 2\n3");
  expect((await page.locator('[data-error-for="attention"]').innerText()).includes("row 2"), "ragged matrix message");
  expect((await sums()).length === 4, "last good result kept");
  await page.locator('textarea[data-name="Wq"]').fill("1 0\n0 1");
  expect((await page.locator('[data-error-for="attention"]').innerText()).includes("inner dimensions"), "shape mismatch message");
});

await test("bug injector: every bug shows its symptom, and the fix removes it", async (page) => {
  await openChapter(page, "implementation-patterns");
  const symptom = () => page.locator(".bug-body [data-symptom]").innerText();
  const pick = (i) => page.locator('select[data-name="bug"]').selectOption(String(i));
  const toggle = page.locator('input[data-name="bug-on"]');
  await pick(0);
  const [, finalLoss, worst] = (await symptom()).match(/Final loss ([\d.]+); largest loss after step 10: ([\d.]+)/).map(Number);
  expect(worst > 1, `accumulated gradients overshoot: ${await symptom()}`);
  await pick(1);
  expect((await symptom()).split(/[\[\],]/).some((t) => t.trim() && Math.abs(Number(t) - 1) > 0.05), `row sums ${await symptom()}`);
  await pick(2);
  expect((await symptom()).includes("NaN"), "overflow to NaN");
  await toggle.uncheck();
  expect(!(await symptom()).includes("NaN"), "stable softmax has no NaN");
  await toggle.check();
  await pick(3);
  expect((await symptom()).includes("inner dimensions"), `shape error: ${await symptom()}`);
  await pick(4);
  expect(Number((await symptom()).split(": ")[1]) > 0.3, `attention on padding: ${await symptom()}`);
  await toggle.uncheck();
  expect(Number((await symptom()).split(": ")[1]) === 0, "masked padding gets nothing");
  await toggle.check();
  await pick(5);
  expect((await symptom()).startsWith("Diverged"), `diverges: ${await symptom()}`);
  await page.locator('input[data-name="bug-lr"]').fill("5");
  expect((await symptom()).startsWith("Diverged"), "lr 5 diverges without crashing");
  await toggle.uncheck();
  expect((await symptom()).startsWith("Converged"), "a sane rate converges");
});

// ---------------------------------------------------------------- chapter 5, live
await test("sampling bench: sliders follow the definitions, bad logits are explained", async (page) => {
  await openChapter(page, "inference");
  const list = async (name) => JSON.parse(await page.locator(`[data-value="${name}"]`).innerText());
  const close = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
  expect(close(await list("tempered"), [0.6285, 0.2312, 0.1402], 1e-4), `T=1: ${await list("tempered")}`);
  await page.locator('input[data-name="temperature"]').fill("0.5");
  expect(close(await list("tempered"), [0.8438, 0.1142, 0.042], 1e-4), `T=0.5: ${await list("tempered")}`);
  await page.locator('input[data-name="temperature"]').fill("2");
  expect(close(await list("tempered"), [0.481, 0.2918, 0.2272], 1e-4), `T=2: ${await list("tempered")}`);
  await page.locator('input[data-name="temperature"]').fill("1");
  for (const p of ["0.05", "0.5", "0.8", "0.9", "1"]) {
    await page.locator('input[data-name="top-p"]').fill(p);
    const tempered = await list("tempered");
    const final = await list("final");
    const keptCount = Number(await page.locator('[data-value="kept"]').innerText());
    const sorted = [...tempered].sort((a, b) => b - a);
    const mass = sorted.slice(0, keptCount).reduce((a, b) => a + b, 0);
    const lessMass = sorted.slice(0, keptCount - 1).reduce((a, b) => a + b, 0);
    expect(mass >= Number(p) - 1e-3 && lessMass < Number(p), `top-p ${p}: kept ${keptCount} is not the smallest set reaching p`);
    expect(Math.abs(final.reduce((a, b) => a + b, 0) - 1) < 1e-3, `sum ${final}`);
  }
  await page.locator('input[data-name="top-k"]').fill("1");
  expect(close(await list("final"), [1, 0, 0], 1e-9), `top-k 1: ${await list("final")}`);
  await page.locator('input[data-name="top-k"]').fill("3");
  await page.locator('input[data-name="logits"]').fill("1000, -1000, 3, 0.5, 7");
  await page.locator('input[data-name="temperature"]').fill("0.05");
  expect(Math.abs(Number(await page.locator('[data-value="sum"]').innerText()) - 1) < 1e-6, "extreme logits still sum to 1");
  await page.getByRole("button", { name: "Sample 1,000 times" }).click();
  const counts = JSON.parse((await page.locator('[data-value="counts"]').innerText()).replace("counts ", ""));
  expect(counts.reduce((a, b) => a + b, 0) === 1000, `counts ${counts}`);
  for (const bad of ["abc", "", "1e400", "NaN"]) {
    await page.locator('input[data-name="logits"]').fill(bad);
    expect((await page.locator('[data-error-for="logits"]').innerText()).length > 10, `no message for ${JSON.stringify(bad)}`);
    expect((await list("tempered")).length === 5, "last good logits kept");
  }
});

await test("KV cache calculator: the 70B example, GQA off, and bad input", async (page) => {
  await openChapter(page, "inference");
  const total = () => page.locator('[data-value="kv-total-bytes"]').innerText().then(Number);
  expect((await total()) === 42949672960, `70B at 128K: ${await total()}`);
  expect((await page.locator('[data-value="kv-total"]').innerText()).startsWith("40.00 GiB"), "40 GiB");
  await page.locator('input[data-name="kv-heads"]').fill("64");
  expect((await total()) === 343597383680, `without GQA: ${await total()}`);
  await page.locator('input[data-name="kv-heads"]').fill("0");
  expect((await page.locator('[data-error-for="kv-heads"]').innerText()).length > 5, "message for 0 heads");
  expect((await total()) === 343597383680, "last good value kept");
});

await test("schedule lab: the 7B exercise, every shape, bad input", async (page) => {
  await openChapter(page, "optimizers");
  const v = (name) => page.locator(`[data-value="${name}"]`).innerText();
  expect((await v("sched-steps")) === "500000", `steps ${await v("sched-steps")}`);
  expect((await v("sched-warmup-steps")) === "10000", `warmup ${await v("sched-warmup-steps")}`);
  expect(Math.abs(Number(await v("sched-mid")) - 1.6933e-4) < 0.001e-4, `cosine midpoint ${await v("sched-mid")}`);
  for (const shape of ["linear", "constant", "cosine"]) {
    await page.locator('select[data-name="sched-kind"]').selectOption(shape);
    expect(((await page.locator(".schedule path.series").getAttribute("d")) ?? "").length > 100, `${shape} curve drawn`);
  }
  await page.locator('input[data-name="sched-warmup"]').fill("1.5");
  expect((await page.locator('[data-error-for="sched-warmup"]').innerText()).length > 5, "fraction message");
  expect((await v("sched-warmup-steps")) === "10000", "last good kept");
});

// ---------------------------------------------------------------- chapter 7: norm placement
const normText = (page, name) => page.locator(`.norm-lab [data-value="${name}"]`).innerText();
const normFinals = async (page) => Promise.all([0, 1, 2, 3].map((i) => normText(page, `norm-final-${i}`)));
const normPaths = (page) => page.locator(".norm-lab path.series").evaluateAll((ps) => ps.map((p) => p.getAttribute("d")));
async function runNormLab(page, timeout) {
  await page.locator(".norm-lab").getByRole("button", { name: /Run the four|Resume/ }).click();
  await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="norm"]').innerText), null, { timeout });
}

await test("norm lab: the default run finishes with four finite losses ranked as the engine's pinned test says", async (page) => {
  await openChapter(page, "regularization");
  expect((await normText(page, "norm-lr")) === "0.03", "default learning rate");
  const started = Date.now();
  await runNormLab(page, 600000);
  const seconds = (Date.now() - started) / 1000;
  const [preWarm, preCold, postWarm, postCold] = (await normFinals(page)).map(Number);
  console.log(`     default run: ${seconds.toFixed(1)} s; pre ${preWarm} / ${preCold}, post ${postWarm} / ${postCold}`);
  expect([preWarm, preCold, postWarm, postCold].every(Number.isFinite), `finite: ${await normFinals(page)}`);
  expect(preWarm < postWarm && postWarm < preCold && preCold < postCold, `ranking ${[preWarm, postWarm, preCold, postCold]}`);
  const unigram = Number((await normText(page, "norm-references")).match(/loss of (\d+\.\d+)/)[1]);
  expect(Math.abs(postCold - unigram) < 0.05, `post-norm without warmup stuck at the letter frequencies: ${postCold} vs ${unigram}`);
  expect((await normText(page, "norm-steps")) === "200", "200 steps");
  expect((await normPaths(page)).slice(0, 4).every((d) => d.split("L").length > 150), "four full curves");
  if (shots) {
    mkdirSync(shots, { recursive: true });
    await page.locator(".norm-lab").screenshot({ path: join(shots, "norm-lab-default.png") });
  }
});

await test("norm lab: every control; the top learning rate shows diverged runs; warmup changes the curves; bad values refused", async (page) => {
  await openChapter(page, "regularization");
  const lab = page.locator(".norm-lab");
  const field = (name) => lab.locator(`input[data-name="${name}"]`);
  await field("norm-depth").fill("1");
  // The slider's top: both runs without warmup blow up, and the page says so.
  await lab.locator('input[data-name="norm-lr"]').fill("12");
  expect((await normText(page, "norm-lr")) === "1", "slider at 1.0");
  await runNormLab(page, 300000);
  let finals = await normFinals(page);
  expect(/diverged at step \d+/.test(finals[1]) && /diverged at step \d+/.test(finals[3]), `diverged: ${finals}`);
  expect((await lab.locator("path.stop-mark").count()) >= 2, "crosses mark the diverged runs");
  expect(/diverged/.test(await lab.locator('[data-status="norm"]').innerText()), "status says diverged");
  // Pause and resume.
  await lab.locator('input[data-name="norm-lr"]').fill("6");
  await lab.getByRole("button", { name: "Run the four" }).click();
  await page.waitForFunction(() => Number(document.querySelector('.norm-lab [data-value="norm-steps"]').innerText) > 5);
  await lab.getByRole("button", { name: "Pause" }).click();
  const paused = await normText(page, "norm-steps");
  await page.waitForTimeout(300);
  expect((await normText(page, "norm-steps")) === paused, "paused runs stay put");
  await runNormLab(page, 300000);
  // Without warmup the "warmup" lanes are the others' twins; with it they differ.
  await field("norm-warmup").fill("0");
  await runNormLab(page, 300000);
  finals = await normFinals(page);
  expect(finals[0] === finals[1] && finals[2] === finals[3], `warmup 0 makes twins: ${finals}`);
  const noWarmupPaths = await normPaths(page);
  await field("norm-warmup").fill("100");
  await runNormLab(page, 300000);
  const warmFinals = await normFinals(page);
  expect(warmFinals[0] !== warmFinals[1] && warmFinals[2] !== warmFinals[3], `warmup 100 separates them: ${warmFinals}`);
  expect((await normPaths(page))[0] !== noWarmupPaths[0], "the warmup lane's curve changes");
  expect(warmFinals[1] === finals[1] && warmFinals[3] === finals[3], "the lanes without warmup do not");
  // Another seed gives other numbers; going back replays exactly.
  await field("norm-seed").fill("8");
  await runNormLab(page, 300000);
  expect((await normFinals(page))[0] !== warmFinals[0], "seed 8 differs");
  await field("norm-seed").fill("7");
  await runNormLab(page, 300000);
  expect((await normFinals(page)).join() === warmFinals.join(), "seed 7 replays");
  // Bad values get a message and leave the last good settings in place.
  for (const [name, bad] of [["norm-depth", "0"], ["norm-depth", "13"], ["norm-depth", "2.5"], ["norm-warmup", "201"], ["norm-warmup", "abc"], ["norm-seed", "-1"]]) {
    await field(name).fill(bad);
    expect((await lab.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name}=${bad}`);
  }
  expect((await normFinals(page)).join() === warmFinals.join(), "last good run kept");
});

// ---------------------------------------------------------------- phones
await test("every chapter fits a 360 px phone without sideways scrolling", async () => {
  const page = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  try {
    for (const chapter of chapters) {
      await openChapter(page, chapter.slug);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width <= 361, `${chapter.slug} is ${width}px wide`);
    }
    await page.locator(".menu-button").click();
    await page.locator(".toc a", { hasText: "Optimizers" }).click();
    await page.waitForSelector('article.chapter[data-chapter="optimizers"]');
    expect(page.errors.length === 0, page.errors.join("\n"));
  } finally {
    await page.context().close();
  }
});

// ---------------------------------------------------------------- screenshots for review
if (shots) {
  mkdirSync(shots, { recursive: true });
  for (const [mode, options] of [
    ["light", { colorScheme: "light" }],
    ["dark", { colorScheme: "dark" }],
    ["phone", { viewport: { width: 360, height: 740 }, isMobile: true, colorScheme: "light" }],
  ]) {
    const page = await newPage(options);
    for (const chapter of [{ slug: "" }, ...chapters]) {
      if (chapter.slug) await openChapter(page, chapter.slug);
      else await page.goto(base), await page.waitForSelector(".cover");
      await page.screenshot({ path: join(shots, `${mode}-${chapter.slug || "cover"}.png`) });
    }
    await page.context().close();
  }
}

await browser.close();
server.close();
for (const p of problems) console.log(`\nproblem: ${p}`);
console.log(`\nbrowser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
