// Lighthouse on the built site (`cargo xtask bench`, last part): serves dist/ under /book/ as a
// static host would (tests/serve.mjs: brotli or gzip when the browser accepts it, long caching
// for hashed files), runs Lighthouse with Debian's Chromium on the cover and on chapter 5 (its
// own page, inference.html), and prints a Markdown table of the four category scores, the
// timings and the bytes transferred: the median run by performance score when several are
// asked for.
//
// Environment: MLBOOK_DIST (the built site, dist/ by default), MLBOOK_NPM (folder holding
// lighthouse), MLBOOK_LIGHTHOUSE_PRESET (mobile, Lighthouse's default, or desktop),
// MLBOOK_LIGHTHOUSE_RUNS (runs per page, 1 by default), MLBOOK_LIGHTHOUSE_PAGE (only the page
// of that name: "cover", "chapter 5", or "chapter 5 (?ch=)", the older address, measured only
// when named), MLBOOK_LIGHTHOUSE_DETAILS=1 (also print the largest paint's element, the
// elements behind failing contrast and heading audits, and where the main thread's time went).

import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { serveDist } from "../serve.mjs";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const preset = process.env.MLBOOK_LIGHTHOUSE_PRESET ?? "mobile";
const runs = Math.max(1, Number(process.env.MLBOOK_LIGHTHOUSE_RUNS ?? 1));
const { default: lighthouse } = await import(require.resolve("lighthouse"));
const chromeLauncher = await import(require.resolve("chrome-launcher"));

const { base, server, precompress } = await serveDist(dist, { compress: true });
// Compress everything the pages load before timing, so compression is not counted as latency
// (the pages, scripts, WebAssembly, styles).
const top = readdirSync(dist).filter((f) => /\.(html|js|wasm|css)$/.test(f)).map((f) => join(dist, f));
precompress(top);

const pages = [
  ["cover", base],
  ["chapter 5", `${base}inference.html`],
  ["chapter 5 (?ch=)", `${base}?ch=inference`],
].filter(([name]) => (process.env.MLBOOK_LIGHTHOUSE_PAGE ? name === process.env.MLBOOK_LIGHTHOUSE_PAGE : !name.includes("?ch=")));
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
/** One run's figures; with MLBOOK_LIGHTHOUSE_DETAILS, prints what costs it. */
function summarize(name, lhr) {
  const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
  const items = lhr.audits["network-requests"]?.details?.items ?? [];
  const transfer = items.reduce((sum, r) => sum + (r.transferSize ?? 0), 0);
  const resources = items.reduce((sum, r) => sum + (r.resourceSize ?? 0), 0);
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
    .map((a) => `${a.id} (${a.displayValue ?? Math.round(a.score * 100)})`);
  if (process.env.MLBOOK_LIGHTHOUSE_DETAILS) {
    const lcp = lhr.audits["largest-contentful-paint-element"]?.details ?? lhr.audits["lcp-breakdown-insight"]?.details ?? {};
    console.log(name, "LCP element", JSON.stringify(lcp, null, 0).slice(0, 1500));
    for (const id of ["color-contrast", "heading-order", "bootup-time", "mainthread-work-breakdown", "long-tasks"]) {
      if (lhr.audits[id]?.score !== null && lhr.audits[id]?.score < 1) {
        const items = lhr.audits[id].details?.items ?? [];
        console.log(name, id, JSON.stringify(items.slice(0, 8).map((i) => (i.node ? { snippet: i.node.snippet, explanation: i.node.explanation } : i)), null, 0).slice(0, 3000));
      }
    }
  }
  const shown = (id) => lhr.audits[id]?.displayValue;
  return { name, perf: score("performance"), a11y: score("accessibility"), bp: score("best-practices"), seo: score("seo"), transfer, resources, requests: items.length, fcp: shown("first-contentful-paint"), lcp: shown("largest-contentful-paint"), tbt: shown("total-blocking-time"), cls: shown("cumulative-layout-shift"), si: shown("speed-index"), failing };
}

const rows = [];
try {
  for (const [name, url] of pages) {
    const measured = [];
    for (let run = 0; run < runs; run++) {
      const flags = { port: chrome.port, output: "json", logLevel: "error" };
      const config = preset === "desktop" ? (await import(require.resolve("lighthouse/core/config/desktop-config.js"))).default : undefined;
      const result = await lighthouse(url, flags, config);
      measured.push(summarize(name, result.lhr));
    }
    measured.sort((a, b) => a.perf - b.perf);
    const median = measured[Math.floor((measured.length - 1) / 2)];
    median.all = measured.map((r) => r.perf);
    rows.push(median);
  }
} finally {
  await chrome.kill();
  server.close();
}

const kib = (b) => `${Math.round(b / 1024).toLocaleString("en")} KiB`;
console.log(`\n### Lighthouse ${preset} (Lighthouse ${require("lighthouse/package.json").version}, ${new Date().toISOString().slice(0, 10)})\n`);
console.log("| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS | Speed Index | requests | transferred | uncompressed |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const perf = r.all.length > 1 ? `${r.perf} (runs: ${r.all.join(", ")})` : `${r.perf}`;
  console.log(`| ${r.name} | ${perf} | ${r.a11y} | ${r.bp} | ${r.seo} | ${r.fcp} | ${r.lcp} | ${r.tbt} | ${r.cls} | ${r.si} | ${r.requests} | ${kib(r.transfer)} | ${kib(r.resources)} |`);
}
for (const r of rows) {
  if (r.failing.length) console.log(`\n${r.name}, audits below 90: ${r.failing.join(", ")}`);
}
