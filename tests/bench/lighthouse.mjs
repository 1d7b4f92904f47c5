// Lighthouse on the built site (`cargo xtask bench`, last part): serves dist/ under /book/ as a
// static host would (brotli or gzip when the browser accepts it, long caching for hashed
// files), runs Lighthouse with Debian's Chromium on the cover and on chapter 5, and prints a
// Markdown table of the four category scores and the bytes transferred.
//
// Environment: MLBOOK_DIST (the built site, dist/ by default), MLBOOK_NPM (folder holding
// lighthouse), MLBOOK_LIGHTHOUSE_PRESET (mobile, Lighthouse's default, or desktop),
// MLBOOK_LIGHTHOUSE_DETAILS=1 (also print the elements behind failing contrast and heading
// audits, and where the main thread's time went).

import { createServer } from "node:http";
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, extname, normalize } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const preset = process.env.MLBOOK_LIGHTHOUSE_PRESET ?? "mobile";
const { default: lighthouse } = await import(require.resolve("lighthouse"));
const chromeLauncher = await import(require.resolve("chrome-launcher"));

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};
// Compressed once per file: a static host keeps them precompressed.
const compressed = new Map();
function body(file, encoding) {
  const key = `${encoding}:${file}`;
  if (!compressed.has(key)) {
    const raw = readFileSync(file);
    compressed.set(key, encoding === "br" ? brotliCompressSync(raw) : encoding === "gzip" ? gzipSync(raw) : raw);
  }
  return compressed.get(key);
}
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file = null;
  if (path.startsWith("/book/")) {
    const rel = normalize(path.slice("/book/".length) || "index.html");
    if (!rel.startsWith("..")) file = join(dist, rel);
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
  }
  const found = file && existsSync(file) && statSync(file).isFile();
  if (!found) file = join(dist, "404.html");
  const type = types[extname(file)] ?? "application/octet-stream";
  const accepts = req.headers["accept-encoding"] ?? "";
  const squeezable = !/font|image\/png/.test(type);
  const encoding = !squeezable ? null : accepts.includes("br") ? "br" : accepts.includes("gzip") ? "gzip" : null;
  const headers = { "content-type": type, "cache-control": /-[0-9a-f]{12,}[._]/.test(file) ? "public, max-age=31536000, immutable" : "no-cache" };
  if (encoding) headers["content-encoding"] = encoding;
  res.writeHead(found ? 200 : 404, headers);
  res.end(body(file, encoding));
});
// Compress everything the pages load before timing, so compression is not counted as latency.
// (The chapters' prerendered text, pre/SLUG.html, included.)
const prerendered = existsSync(join(dist, "pre")) ? readdirSync(join(dist, "pre")).map((f) => join(dist, "pre", f)) : [];
for (const file of [join(dist, "index.html"), ...readdirSync(dist).filter((f) => /\.(js|wasm|css)$/.test(f)).map((f) => join(dist, f)), ...prerendered]) {
  body(file, "br");
  body(file, "gzip");
}
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/book/`;

const pages = [
  ["cover", base],
  ["chapter 5", `${base}?ch=inference`],
].filter(([name]) => !process.env.MLBOOK_LIGHTHOUSE_PAGE || name === process.env.MLBOOK_LIGHTHOUSE_PAGE);
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const rows = [];
try {
  for (const [name, url] of pages) {
    const flags = { port: chrome.port, output: "json", logLevel: "error" };
    const config = preset === "desktop" ? (await import(require.resolve("lighthouse/core/config/desktop-config.js"))).default : undefined;
    const result = await lighthouse(url, flags, config);
    const lhr = result.lhr;
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
    }
    for (const id of ["color-contrast", "heading-order", "bootup-time", "mainthread-work-breakdown"]) {
      if (process.env.MLBOOK_LIGHTHOUSE_DETAILS && lhr.audits[id]?.score !== null && lhr.audits[id]?.score < 1) {
        const items = lhr.audits[id].details?.items ?? [];
        console.log(name, id, JSON.stringify(items.slice(0, 8).map((i) => i.node ? { snippet: i.node.snippet, explanation: i.node.explanation } : i), null, 0).slice(0, 3000));
      }
    }
    rows.push({ name, perf: score("performance"), a11y: score("accessibility"), bp: score("best-practices"), seo: score("seo"), transfer, resources, requests: items.length, fcp: lhr.audits["first-contentful-paint"]?.displayValue, lcp: lhr.audits["largest-contentful-paint"]?.displayValue, tbt: lhr.audits["total-blocking-time"]?.displayValue, failing });
  }
} finally {
  await chrome.kill();
  server.close();
}

const kib = (b) => `${Math.round(b / 1024).toLocaleString("en")} KiB`;
console.log(`\n### Lighthouse ${preset} (Lighthouse ${require("lighthouse/package.json").version}, ${new Date().toISOString().slice(0, 10)})\n`);
console.log("| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | requests | transferred | uncompressed |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.name} | ${r.perf} | ${r.a11y} | ${r.bp} | ${r.seo} | ${r.fcp} | ${r.lcp} | ${r.tbt} | ${r.requests} | ${kib(r.transfer)} | ${kib(r.resources)} |`);
}
for (const r of rows) {
  if (r.failing.length) console.log(`\n${r.name}, audits below 90: ${r.failing.join(", ")}`);
}
