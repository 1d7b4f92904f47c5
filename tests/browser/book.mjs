// The browser suite: serves dist/ from a sub-path (/book/) on 127.0.0.1, drives Debian's
// Chromium with playwright-core, and checks what a reader sees. Prints "N passed, N failed".
//
// Environment: MLBOOK_DIST (the built site), MLBOOK_NPM (folder holding playwright-core),
// MLBOOK_SCREENSHOTS (optional folder: save light, dark and phone screenshots of every chapter),
// MLBOOK_ONLY (optional: run only the tests whose name contains it, or one of its "|"-separated parts).

import { readFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { serveDist } from "../serve.mjs";

const dist = process.env.MLBOOK_DIST ?? "dist";
const require = createRequire(join(process.env.MLBOOK_NPM ?? ".", "package.json"));
const { chromium } = require("playwright-core");
const shots = process.env.MLBOOK_SCREENSHOTS;
const only = process.env.MLBOOK_ONLY; // optional: run only the tests whose name contains this

// The chapters, from the same SUMMARY.md and Markdown the build used.
const summary = readFileSync("content/SUMMARY.md", "utf8");
const chapters = [...summary.matchAll(/^- \[(.+?)\]\((\d+-([a-z0-9-]+))\.md\)$/gm)].map((m) => {
  const markdown = readFileSync(`content/${m[2]}.md`, "utf8");
  return { slug: m[3], title: markdown.match(/^# (.+)$/m)[1].trim(), hasMath: /\$/.test(markdown) };
});

// A static host that serves dist/ under /book/ and answers unknown paths with 404.html.
const { base, server } = await serveDist(dist);

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

/** A fresh page that records console errors, page errors, requests leaving 127.0.0.1 and
 * anything the Content-Security-Policy refuses. Service workers are off unless a test asks
 * (`serviceWorkers: "allow"`): the offline test checks them, the rest check the book itself. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: "block", ...options });
  const page = await context.newPage();
  page.errors = [];
  // Chromium also prints "Refused to ..." for each violation; the event names the directive.
  await page.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample ?? ""} (${e.sourceFile}:${e.lineNumber})`),
    ),
  );
  page.on("console", (m) => m.type() === "error" && page.errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => page.errors.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.hostname !== "127.0.0.1") page.errors.push(`request left 127.0.0.1: ${r.url()}`);
  });
  return page;
}

async function test(name, body, options = {}) {
  if (only && !only.split("|").some((part) => name.includes(part))) return;
  const page = await newPage(options);
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

/** Opens a chapter's own page (SLUG.html, the address the book's links use) with every
 * widget mounted. */
async function openChapter(page, slug, hash = "") {
  await page.goto(`${base}${slug}.html${hash}`);
  await appTookOver(page);
  await mountWidgets(page);
}

/** Waits until the app has taken over the served text (`#prerender` is gone; until then the
 * served copy has no widget boxes) and drawn a chapter's title. */
async function appTookOver(page) {
  await page.waitForFunction(() => !document.getElementById("prerender"));
  await page.waitForSelector("article.chapter h1");
}

/** Widgets mount as the reader scrolls near them (src/layout/lazy_mount.rs): scrolls each
 * waiting one into view until none is left, then back to where the page was. (A link to a
 * section or a widget mounts them all by itself.) */
async function mountWidgets(page) {
  const y = await page.evaluate(() => scrollY);
  let scrolled = false;
  for (let i = 0; i < 400; i++) {
    const waiting = await page.evaluate(() => {
      const box = document.querySelector(".widget-pending");
      box?.scrollIntoView({ block: "center" });
      return box !== null;
    });
    if (!waiting) break;
    scrolled = true;
    await page.waitForTimeout(25);
  }
  await page.waitForFunction(() => !document.querySelector(".widget-pending"));
  if (scrolled) await page.evaluate((y) => scrollTo(0, y), y);
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
  expect(page.url().endsWith(`/${chapters[1].slug}.html`), `url ${page.url()}`);
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
  // Its link finds the book's folder however deep the missing address is.
  await page.goto(`${base}missing/deeper/still/page.html`);
  await page.waitForFunction(() => document.getElementById("home").dataset.found, null, { timeout: 10000 });
  expect((await page.locator("#home").getAttribute("href")) === "/book/", `link: ${await page.locator("#home").getAttribute("href")}`);
  await page.locator("#home").click();
  await page.waitForSelector(".cover, article.chapter h1, nav.toc, main", { timeout: 10000 });
  expect(new URL(page.url()).pathname === "/book/", `landed on ${page.url()}`);
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

// ---------------------------------------------------------------- locked down, offline, installable
await test("every page carries a strict Content-Security-Policy, and the suite sees a violation", async (page) => {
  for (const path of ["", "missing/page.html"]) {
    await page.goto(`${base}${path}`);
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
    expect(policy, `${path || "index"}: no policy`);
    expect(!/'unsafe-inline'|'unsafe-eval'|\*|data:|blob:/.test(policy), `${path || "index"}: too loose: ${policy}`);
    for (const directive of ["default-src 'self'", "style-src 'self'", "connect-src 'self'", "worker-src 'self'", "object-src 'none'"]) {
      expect(policy.includes(directive), `${path || "index"}: no ${directive}`);
    }
    expect(policy.includes("'wasm-unsafe-eval'") === (path === ""), `${path || "index"}: wasm-unsafe-eval only where WebAssembly runs`);
  }
  page.errors = page.errors.filter((e) => !e.includes("404"));
  // An inline style is refused, and that refusal would fail any test it happened in.
  await page.goto(base);
  await page.waitForSelector(".cover .chapter-list");
  await page.evaluate(() => document.body.setAttribute("style", "outline: 1px solid red"));
  await page.waitForTimeout(200);
  expect(page.errors.some((e) => e.includes("CSP violation: style-src-attr")), `no violation seen: ${page.errors.join("; ")}`);
  page.errors = [];
});

await test("the text is on the page before the app: the cover and a chapter prerendered, under the same policy", async (page) => {
  // Without the app's WebAssembly only the served HTML and the head script's fetch of the
  // chapter's own page SLUG.html can put text on the page.
  await page.route("**/*.wasm", (route) => route.abort());
  await page.goto(base);
  const title = await page.locator("#prerender .pre-cover h1").innerText();
  expect(title.length > 0 && (await page.locator("#prerender .pre-cover .chapter-list li").count()) === chapters.length, "the cover and its chapters");
  const chapter = chapters.find((c) => c.slug === "inference");
  await page.goto(`${base}?ch=${chapter.slug}`);
  await page.waitForSelector("#prerender .pre-chapter h1");
  expect((await page.locator("#prerender .pre-chapter h1").innerText()) === chapter.title, "the chapter's title");
  expect(!(await page.locator("#prerender .pre-cover").isVisible()), "the cover is hidden behind a chapter");
  expect((await page.locator("#prerender .pre-chapter math").count()) > 0, "its equations");
  const placeholders = await page.locator("#prerender .widget-placeholder-title").allTextContents();
  expect(placeholders.includes("Live: temperature, top-k and top-p"), `widgets by title: ${placeholders.join("; ")}`);
  // The only errors are the refused WebAssembly's; none from the policy.
  expect(!page.errors.some((e) => e.includes("CSP violation")), page.errors.join("; "));
  page.errors = [];
  // With the app, the prerendered copy is gone and the app's page is the only one.
  await page.unroute("**/*.wasm");
  await openChapter(page, chapter.slug);
  expect((await page.locator("#prerender").count()) === 0 && (await page.locator("main").count()) === 1, "one page after mounting");
});

await test("each chapter's page holds its text in the first response; the app keeps the served text, and an unknown ?ch= fetches nothing", async (page) => {
  const chapter = chapters.find((c) => c.slug === "inference");
  const fetched = [];
  // The chapter pages the head script fetches for ?ch= (not the pages the browser opens).
  page.on("request", (r) => r.resourceType() === "fetch" && r.url().endsWith(".html") && fetched.push(r.url()));
  // The page's own HTML: the chapter, its title, its policy and the current chapter marked.
  const response = await page.request.get(`${base}${chapter.slug}.html`);
  const html = await response.text();
  expect(response.ok() && html.includes(`<article class="pre-chapter" data-chapter="${chapter.slug}">`) && html.includes(chapter.title), "no chapter text in inference.html");
  expect(html.includes(`<title>${chapter.title} · `) && html.includes('http-equiv="Content-Security-Policy"'), "title or policy missing");
  expect(html.includes(`<a href="${chapter.slug}.html" aria-current="page">`), "the served contents do not mark the chapter");
  // The largest paint and the paragraphs the reader ends up with are the served elements:
  // the app's WebAssembly is held back until the served nodes are noted, and the app moves
  // them into its page rather than drawing copies.
  await page.addInitScript(() => {
    window.__lcp = [];
    new PerformanceObserver((list) => window.__lcp.push(...list.getEntries())).observe({ type: "largest-contentful-paint", buffered: true });
  });
  for (const [path, served, kept] of [
    [`${chapter.slug}.html`, "#prerender .pre-chapter div.prose p", "article.chapter > div.prose"],
    [`?ch=${chapter.slug}`, "#prerender .pre-chapter div.prose p", "article.chapter > div.prose"],
    ["", "#prerender .pre-cover p.lede", "article.cover"],
  ]) {
    let release;
    const held = new Promise((ok) => (release = ok));
    await page.route("**/*.wasm", async (route) => (await held, route.continue()));
    await page.goto(`${base}${path}`);
    await page.waitForSelector(served);
    await page.waitForTimeout(300);
    await page.evaluate((served) => {
      window.__served = new Set(document.querySelectorAll("#prerender *"));
      window.__first = document.querySelector(served);
    }, served);
    await page.evaluate(() => (window.__released = performance.now()));
    release();
    await page.waitForSelector(kept.startsWith("article.cover") ? "article.cover .chapter-list" : "article.chapter h1");
    await page.waitForFunction(() => !document.getElementById("prerender"));
    await page.waitForTimeout(500);
    const state = await page.evaluate((kept) => ({
      kept: window.__first.isConnected && window.__first.closest(kept) !== null,
      lcp: window.__lcp.length > 0 && window.__served.has(window.__lcp.at(-1).element) && window.__lcp.at(-1).startTime < window.__released,
      last: window.__lcp.at(-1)?.element?.outerHTML.slice(0, 80),
    }), kept);
    expect(state.kept, `${path || "cover"}: the app drew its own copy of the served text`);
    expect(state.lcp, `${path || "cover"}: the largest paint is not the served text's first paint but ${state.last}, later`);
    await page.unroute("**/*.wasm");
  }
  expect(fetched.length === 1 && fetched[0].endsWith(`/${chapter.slug}.html`), `pages fetched: ${fetched.join(", ")}`);
  // An unknown chapter: no page is fetched (no 404), and the app says so.
  await page.goto(`${base}?ch=no-such-chapter`);
  await page.waitForSelector(".not-found h1");
  expect(fetched.length === 1, `fetched for an unknown chapter: ${fetched.at(-1)}`);
  // The cover's links and the served contents go to the chapters' pages.
  expect((await page.locator(`.toc a[href="${chapter.slug}.html"]`).count()) === 1, "the app's contents link the chapter's page");
});

// Widgets wait until the reader scrolls near them.
await test("widgets mount as the reader scrolls near them, and a link to a widget mounts them first", async (page) => {
  await page.goto(`${base}inference.html`);
  await appTookOver(page);
  await page.waitForTimeout(1000);
  const boxes = await page.locator(".widget-pending").count();
  const widgets = await page.locator("article.chapter section.widget").count();
  expect(boxes > 0, "every widget mounted at once");
  const last = page.locator(".widget-pending").last();
  await last.scrollIntoViewIfNeeded();
  await page.waitForFunction((n) => document.querySelectorAll(".widget-pending").length < n, boxes);
  expect((await page.locator("article.chapter section.widget").count()) > widgets, "scrolling mounted nothing");
  await page.goto("about:blank");
  await page.goto(`${base}inference.html#widget-sampling`);
  await appTookOver(page);
  await page.waitForFunction(() => !document.querySelector(".widget-pending"));
  await page.waitForFunction(() => {
    const widget = document.getElementById("widget-sampling");
    return widget !== null && Math.abs(widget.getBoundingClientRect().top) < 120;
  });
});

await test("the manifest makes the book installable from its folder", async (page) => {
  await page.goto(base);
  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  const url = new URL(href, page.url());
  const manifest = await (await page.request.get(url.href)).json();
  expect(manifest.name && manifest.short_name && manifest.theme_color && manifest.background_color, "names and colours");
  expect(new URL(manifest.start_url, url).href === base && new URL(manifest.scope, url).href === base, `start_url ${manifest.start_url}, scope ${manifest.scope}`);
  expect(manifest.display === "standalone", `display ${manifest.display}`);
  for (const size of ["192x192", "512x512"]) {
    const icon = manifest.icons.find((i) => i.sizes === size && i.type === "image/png");
    expect(icon, `no ${size} PNG icon`);
    const response = await page.request.get(new URL(icon.src, url).href);
    expect(response.ok() && response.headers()["content-type"] === "image/png", `${icon.src}: ${response.status()}`);
  }
});

await test("after one visit the book works offline: it reloads, every chapter opens and XOR trains", async (page) => {
  page.on("requestfailed", (r) => page.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(base);
  await page.waitForSelector(".cover .chapter-list");
  // The worker installs (fetching every precached file), takes over this page, and its cache
  // holds every file of dist/ but itself and the 23 MB MiniLM files cached on first use.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60000 });
  const listDist = (dir) =>
    readdirSync(join(dist, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listDist(join(dir, e.name)) : [join(dir, e.name)]));
  const expected = listDist("").filter((f) => f !== "sw.js" && !f.startsWith("minilm/")).length;
  const cached = await page.evaluate(async () => {
    const names = (await caches.keys()).filter((n) => n.startsWith("mlbook-app-"));
    return names.length === 1 ? (await (await caches.open(names[0])).keys()).length : -names.length;
  });
  expect(cached === expected, `${cached} files cached, ${expected} expected`);

  await page.context().setOffline(true);
  await page.reload();
  await page.waitForSelector(".cover .chapter-list");
  for (const chapter of chapters) {
    await page.locator(`.cover .chapter-list a[href$="${chapter.slug}.html"], .toc a[href$="${chapter.slug}.html"]`).first().click();
    await page.waitForSelector(`article.chapter[data-chapter="${chapter.slug}"] h1`);
    const h1 = await page.locator("article.chapter h1").innerText();
    expect(h1 === chapter.title, `offline: title "${h1}" != "${chapter.title}"`);
    await mountWidgets(page);
    // Widgets that load data as the chapter opens get it from the cache.
    await page.waitForTimeout(300);
    const body = await page.locator("article.chapter").innerText();
    expect(!/could not be (downloaded|loaded)/.test(body), `offline: ${chapter.slug} could not load its data`);
    if (chapter.slug === "implementation-patterns") {
      await page.locator('select[data-name="xor-backend"]').selectOption("cpu");
      await page.getByRole("button", { name: "Train 10,000 epochs" }).click();
      // A run can finish between two polls, so the check is on where it ends: a loss near 0
      // and the four predictions at their targets.
      await page.waitForFunction(() => /Finished|Diverged/.test(document.querySelector('[data-status="xor"]').innerText), null, { timeout: 300000 });
      const late = await value(page, "xor-loss");
      expect(late < 0.01, `offline XOR: loss ${late} at the end`);
      const targets = [0, 1, 1, 0];
      for (let i = 0; i < 4; i++) {
        const p = await value(page, `xor-pred-${i}`);
        expect(Math.abs(p - targets[i]) < 0.1, `offline XOR prediction ${i} = ${p}`);
      }
    }
  }
  // A deep link opened offline is the book too, in both forms.
  await page.goto(`${base}?ch=${chapters.at(-1).slug}`);
  await page.waitForSelector(`article.chapter[data-chapter="${chapters.at(-1).slug}"] h1`);
  await page.goto(`${base}${chapters[1].slug}.html`);
  await page.waitForSelector(`article.chapter[data-chapter="${chapters[1].slug}"] h1`);
}, { serviceWorkers: "allow" });

// axe-core on every chapter, in both themes: the violations by rule, with how many elements
// each touches, are printed, and any violation fails. (axe is evaluated through the DevTools
// protocol, which the page's policy does not govern; it needs no eval of its own.)
const axeSource = readFileSync(join(process.env.MLBOOK_NPM ?? ".", "node_modules", "axe-core", "axe.min.js"), "utf8");
for (const colorScheme of ["light", "dark"]) {
  await test(`axe-core finds no accessibility problems on any chapter (${colorScheme})`, async (page) => {
    const found = {};
    for (const chapter of chapters) {
      await page.goto(`${base}?ch=${chapter.slug}`, { waitUntil: "networkidle" });
      await page.waitForSelector("article.chapter h1");
      await mountWidgets(page);
      await page.waitForTimeout(500);
      await page.evaluate(axeSource);
      const violations = await page.evaluate(async () =>
        (await window.axe.run(document, { resultTypes: ["violations"] })).violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.map((n) => n.target.join(" ")),
        })),
      );
      for (const v of violations) {
        found[v.id] ??= { impact: v.impact, count: 0, where: {} };
        found[v.id].count += v.nodes.length;
        found[v.id].where[chapter.slug] = v.nodes.slice(0, 3);
      }
    }
    const lines = Object.entries(found).map(([id, f]) => `${id} (${f.impact}): ${f.count} elements, e.g. ${JSON.stringify(f.where)}`);
    console.log(`     axe (${colorScheme}): ${lines.length ? "\n       " + lines.join("\n       ") : "no violations"}`);
    expect(lines.length === 0, `axe violations: ${Object.entries(found).map(([id, f]) => `${id} ${f.count}`).join(", ")}`);
  }, { colorScheme });
}

await test("every chart and heatmap on every chapter has a text alternative", async (page) => {
  for (const chapter of chapters) {
    await openChapter(page, chapter.slug);
    await page.waitForTimeout(300);
    // A drawing's name is read from its data, so it carries numbers (values, counts, ranges);
    // one with no digit at all is a fixed caption, unless it says nothing is drawn yet.
    const fixed = await page.evaluate(() =>
      [...document.querySelectorAll('article.chapter svg[role="img"]')]
        .filter((svg) => !svg.closest('[aria-hidden="true"]'))
        .map((svg) => svg.getAttribute("aria-label") ?? "")
        .filter((name) => name.trim().length > 0 && !/\d/.test(name) && !/\byet\b/i.test(name)),
    );
    expect(fixed.length === 0, `${chapter.slug}: drawings named without their numbers: ${fixed.join(" | ")}`);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("article.chapter svg")]
        .filter((svg) => !svg.closest('[aria-hidden="true"]'))
        .filter((svg) => {
          const labelledby = (svg.getAttribute("aria-labelledby") ?? "").split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join("");
          const name = (svg.getAttribute("aria-label") ?? "") + labelledby;
          return svg.getAttribute("role") !== "img" || name.trim().length === 0;
        })
        .map((svg) => svg.outerHTML.slice(0, 120)),
    );
    expect(unnamed.length === 0, `${chapter.slug}: drawings without a name: ${unnamed.join(" | ")}`);
  }
  // A chart's name is read from its data, and its numbers open as a table.
  await openChapter(page, "backpropagation");
  await page.getByRole("button", { name: "Train 200 steps" }).click();
  await page.waitForFunction(() => document.querySelector(".bp-status").innerText.startsWith("Trained 200"), null, { timeout: 20000 });
  const label = await page.locator(".bp-curve svg").getAttribute("aria-label");
  expect(/^Loss at each training step\. It falls from 0\.269 to 0\.\d+ over step 0 to 199\.$/.test(label), `chart name: ${label}`);
  const fold = page.locator(".bp-curve details.data-table");
  await fold.locator("summary").click();
  const first = await fold.locator("tbody tr").first().innerText();
  expect(first.replace(/\s+/g, " ").trim() === "0 0.269", `first row: ${first}`);
  expect((await fold.locator("tbody tr").count()) === 21, "21 rows of 200 steps");
  // A histogram is named by its counts, and its table holds the same counts.
  await openChapter(page, "bert-vs-gpt");
  const mlm = page.locator(".widget.mlm-corruption");
  const histName = await mlm.locator("svg.mlm-histogram").getAttribute("aria-label");
  const named = histName.match(/^How many \[MASK\] tokens each of 1000 rolls of \d+ tokens made \(expected [\d.]+\): 1,000 rolls; the first bar is (\d+), the last (\d+); the tallest bar, (\d+), holds ([\d,]+)\.$/);
  expect(named, `histogram name: ${histName}`);
  await mlm.locator("details.data-table summary").click();
  // The rows are drawn when the fold opens: wait for them before reading them all.
  await mlm.locator("details.data-table tbody tr").first().waitFor();
  const histRows = (await mlm.locator("details.data-table tbody tr").allInnerTexts()).map((r) => r.trim().split(/\s+/).map((c) => Number(c.replace(/,/g, ""))));
  expect(histRows[0][0] === Number(named[1]) && histRows.at(-1)[0] === Number(named[2]), `table spans ${histRows[0][0]} to ${histRows.at(-1)[0]}`);
  expect(histRows.reduce((sum, r) => sum + r[1], 0) === 1000, "the table's counts add up to 1,000 rolls");
  expect(Math.max(...histRows.map((r) => r[1])) === Number(named[4].replace(/,/g, "")), "the tallest bar's count is in the table");
  // The XOR surface, a heatmap, says what it shows too.
  await openChapter(page, "implementation-patterns");
  const surface = await page.locator(".xor-surface svg").getAttribute("aria-label");
  expect(/21 by 21 grid; largest [\d.]+ at row x₂ = [\d.]+, column x₁ = [\d.]+; smallest/.test(surface), `surface name: ${surface}`);
});

await test("with reduced motion nothing animates on its own", async (page) => {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await openChapter(page, "backpropagation");
  const moving = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .map((el) => getComputedStyle(el))
      .filter((s) => s.transitionDuration.split(",").some((d) => parseFloat(d) > 0) || s.animationName !== "none").length,
  );
  expect(moving === 0, `${moving} elements still transition or animate`);
  // The optimizer race draws a new start's paths at once instead of replaying them.
  await openChapter(page, "optimizers");
  const race = page.locator(".widget.race");
  await race.locator('input[data-name="race-x"]').fill("3");
  await page.waitForTimeout(300);
  const shown = await race.locator('[data-value="race-shown"]').innerText();
  const total = (await race.locator(".epoch-count").innerText()).match(/\/ (\d+) steps/)[1];
  expect(shown === total, `race replays with reduced motion: ${shown} of ${total}`);
  // Play still plays when the reader asks.
  await race.locator('button[data-name="race-reset"]').click();
  await race.locator('button[data-name="race-play"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="race-shown"]').innerText) > 0, null, { timeout: 5000 });
});

// A box that starts to scroll sideways as a widget fills it gets a tab stop, and loses it when
// it fits again, from the content change itself (src/layout.rs's MutationObserver).
await test("a box that grows past its width becomes a tab stop, and stops being one when it fits", async (page) => {
  await openChapter(page, "inference");
  const stop = () => page.evaluate(() => document.getElementById("grown-area").getAttribute("tabindex"));
  await page.evaluate(() => {
    const area = document.createElement("div");
    area.className = "table-wrap";
    area.id = "grown-area";
    area.setAttribute("role", "region");
    area.setAttribute("aria-label", "A box that grows");
    const content = document.createElement("div");
    content.textContent = "A line of a table.";
    area.append(content);
    document.querySelector("article.chapter .prose").append(area);
  });
  await page.waitForTimeout(600);
  expect((await stop()) === null, "a box that fits became a tab stop");
  // Wider than the page: the observer sees the style change.
  await page.evaluate(() => (document.querySelector("#grown-area > div").style.minWidth = "3000px"));
  await page.waitForFunction(() => document.getElementById("grown-area").getAttribute("tabindex") === "0", null, { timeout: 2000 });
  await page.evaluate(() => (document.querySelector("#grown-area > div").style.minWidth = "0px"));
  await page.waitForFunction(() => !document.getElementById("grown-area").hasAttribute("tabindex"), null, { timeout: 2000 });
  await page.evaluate(() => document.getElementById("grown-area").remove());
});

// Every kind of control is reached with Tab and shows a focus ring that stands out from the
// page (3:1), in both themes; the search dialog keeps Tab inside itself while open.
const controlKinds = {
  link: "article.chapter a[href]",
  button: "article.chapter button:not([disabled])",
  "text box": 'article.chapter input[type="text"], article.chapter input:not([type])',
  slider: 'article.chapter input[type="range"]',
  checkbox: 'article.chapter input[type="checkbox"]',
  radio: 'article.chapter input[type="radio"]:checked',
  menu: "article.chapter select",
  "text area": "article.chapter textarea",
  fold: "article.chapter summary",
  "scroll area or cell": 'article.chapter [tabindex="0"]',
};
for (const colorScheme of ["light", "dark"]) {
  await test(`every control type is reached with Tab and shows its focus (${colorScheme})`, async (page) => {
    const seen = new Set();
    for (const chapter of chapters) {
      await openChapter(page, chapter.slug);
      await page.waitForTimeout(300);
      for (const [kind, selector] of Object.entries(controlKinds)) {
        const el = page.locator(selector).filter({ visible: true }).first();
        if ((await el.count()) === 0) continue;
        await el.scrollIntoViewIfNeeded();
        await el.focus();
        await page.keyboard.press("Shift+Tab");
        await page.keyboard.press("Tab");
        const ring = await el.evaluate((e) => {
          const lum = (c) => {
            const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
              const x = Number(v) / 255;
              return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const s = getComputedStyle(e);
          const bg = getComputedStyle(document.body).backgroundColor;
          const [a, b] = [lum(s.outlineColor), lum(bg)];
          return {
            focused: document.activeElement === e,
            visible: e.matches(":focus-visible"),
            outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
            contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
          };
        });
        const where = `${chapter.slug}, ${kind}`;
        expect(ring.focused, `${where}: Tab does not reach it`);
        expect(ring.visible && ring.outline, `${where}: no visible focus ring (${JSON.stringify(ring)})`);
        expect(ring.contrast >= 3, `${where}: focus ring contrast ${ring.contrast.toFixed(2)}`);
        seen.add(kind);
      }
    }
    const missing = Object.keys(controlKinds).filter((k) => !seen.has(k));
    expect(missing.length === 0, `kinds never found: ${missing}`);
  }, { colorScheme });
}

await test("Tab stays inside the open search dialog and Escape gives focus back", async (page) => {
  await openChapter(page, chapters[0].slug);
  await page.locator(".search-button").click();
  await page.keyboard.type("softmax");
  const inside = () => page.evaluate(() => document.querySelector(".search-dialog").contains(document.activeElement));
  for (const key of ["Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]) {
    await page.keyboard.press(key);
    expect(await inside(), `focus left the dialog after ${key}`);
  }
  await page.keyboard.press("Escape");
  expect(await page.evaluate(() => document.activeElement.classList.contains("search-button")), "focus back on the search button");
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
  await page.waitForFunction(() => /Finished|Diverged/.test(document.querySelector('[data-status="xor"]').innerText), null, { timeout: 300000 });
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

/**
 * Keeps a handle on every GPUDevice the page creates (in window.__mlbookDevices), so a test
 * can destroy one: a destroyed device is lost, as after a driver reset.
 */
async function keepGpuDevices(page) {
  await page.addInitScript(() => {
    window.__mlbookDevices = [];
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await requestDevice.apply(this, args);
      window.__mlbookDevices.push(device);
      return device;
    };
  });
}

await test("XOR: a GPU device lost mid-run hands over to the CPU, which finishes the run", async (page) => {
  await keepGpuDevices(page);
  await openChapter(page, "implementation-patterns");
  const badge = () => page.locator(".widget.xor .backend-badge").getAttribute("data-backend");
  await page.waitForFunction(() => document.querySelector(".widget.xor .backend-badge").dataset.backend === "gpu", null, { timeout: 30000 });
  await page.getByRole("button", { name: "Train 10,000 epochs" }).click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="xor-epochs"]').innerText) >= 1000, null, { timeout: 60000 });
  expect((await badge()) === "gpu", "still on the GPU before the loss");
  const devices = await page.evaluate(() => window.__mlbookDevices.length);
  expect(devices === 1, `the page made ${devices} GPU devices`);
  // Read where the run is and destroy the device in one go, before the page moves on.
  const before = await page.evaluate(() => {
    const read = (name) => Number(document.querySelector(`[data-value="${name}"]`).innerText);
    const state = { epochs: read("xor-epochs"), loss: read("xor-loss") };
    window.__mlbookDevices[0].destroy();
    return state;
  });
  await page.waitForFunction(() => document.querySelector(".widget.xor .backend-badge").dataset.backend === "cpu", null, { timeout: 10000 });
  const notice = await page.locator('[data-status="xor"]').innerText();
  expect(/GPU was lost.*continues on the CPU/.test(notice), `notice: ${notice}`);
  // It resumes from the last weights read back: at most one chunk (100 epochs) either side
  // of where the GPU run was when the device went.
  const resumedAt = Number(notice.match(/at epoch (\d+)/)?.[1]);
  expect(Math.abs(resumedAt - before.epochs) <= 100, `resumed at epoch ${resumedAt}, the GPU run was at ${before.epochs}`);
  expect((await page.locator('[data-gpu-note="xor"]').innerText()).includes("lost"), "the backend note says the device was lost");
  expect(!(await page.locator('select[data-name="xor-backend"] option[value="gpu"]').isEnabled()), "a lost GPU cannot be chosen again");
  // Training goes on by itself, from the weights read back at the last chunk.
  await page.waitForFunction(() => /Finished|Diverged/.test(document.querySelector('[data-status="xor"]').innerText), null, { timeout: 300000 });
  const status = await page.locator('[data-status="xor"]').innerText();
  expect(status.includes("on the CPU"), `status: ${status}`);
  expect((await value(page, "xor-epochs")) === 10000, `epochs ${await value(page, "xor-epochs")} (lost at ${before.epochs})`);
  const finalLoss = await value(page, "xor-loss");
  expect(finalLoss < before.loss, `loss ${before.loss} when the device was lost, ${finalLoss} at the end`);
  const targets = [0, 1, 1, 0];
  for (let i = 0; i < 4; i++) {
    const p = await value(page, `xor-pred-${i}`);
    expect(Math.abs(p - targets[i]) < 0.1, `prediction ${i} = ${p}`);
  }
  // After the handover, a new setting still starts a fresh run, now on the CPU.
  await page.locator('input[data-name="xor-seed"]').fill("7");
  await page.waitForFunction(() => Number(document.querySelector('[data-value="xor-epochs"]').innerText) === 0, null, { timeout: 10000 });
  expect((await badge()) === "cpu", "the fresh run is on the CPU");
  // No console error: losing the device is handled, not reported as a failure.
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

await test("memory calculator: LLaMA-7B against 12Ld², GPT-2 small, 18 bytes, ZeRO-3 on 8 GPUs, bad input", async (page) => {
  await openChapter(page, "training-pipeline");
  const widget = page.locator(".widget.memory");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  const field = (name) => widget.locator(`input[data-name="${name}"]`);
  const pick = (name, value) => widget.locator(`select[data-name="${name}"]`).selectOption(value);
  // LLaMA-7B, exactly, beside the estimate (the chapter's exercise 4.1).
  expect((await v("mem-total")) === "6,738,415,616", `7B total ${await v("mem-total")}`);
  expect((await v("mem-12ld2")) === "6,442,450,944", `12Ld² ${await v("mem-12ld2")}`);
  expect((await v("mem-gap")) === "295,964,672", `gap ${await v("mem-gap")}`);
  expect((await v("mem-gap-share")) === "4.4%", `gap share ${await v("mem-gap-share")}`);
  expect((await v("mem-output")) === "131,072,000", `untied output ${await v("mem-output")}`);
  await widget.locator('input[data-name="mem-tied"]').check();
  expect((await v("mem-gap")) === "164,892,672", `tied gap ${await v("mem-gap")}`);
  await widget.locator('input[data-name="mem-tied"]').uncheck();
  // 18 bytes on one GPU with plain data parallelism: 121.29 GB of states, which no 80 GB card holds.
  await pick("mem-bytes", "18");
  await field("mem-gpus").fill("1");
  expect((await v("mem-weights-gb")) === "13.48 GB", `weights ${await v("mem-weights-gb")}`);
  expect((await v("mem-gradients-gb")) === "26.95 GB", `fp32 gradients ${await v("mem-gradients-gb")}`);
  expect((await v("mem-optimizer-gb")) === "80.86 GB", `optimizer ${await v("mem-optimizer-gb")}`);
  expect((await v("mem-fits")) === "no", "7B does not fit one card");
  // 16 bytes, ZeRO-3 on 8 GPUs: every state divided by 8 (107.81 GB / 8 = 13.48 GB).
  await pick("mem-bytes", "16");
  await field("mem-gpus").fill("8");
  const before = [await v("mem-weights-gb"), await v("mem-gradients-gb"), await v("mem-optimizer-gb")];
  expect(before.join("|") === "13.48 GB|13.48 GB|80.86 GB", `ZeRO-0 states ${before}`);
  await pick("mem-zero", "3");
  const after = [await v("mem-weights-gb"), await v("mem-gradients-gb"), await v("mem-optimizer-gb")];
  expect(after.join("|") === "1.68 GB|1.68 GB|10.11 GB", `ZeRO-3 states ${after}`);
  expect((await v("mem-fits")) === "yes", "sharded 7B fits");
  // The chapter's activations: micro-batch 2, selective 34·s·b·d·L, then full 2·s·b·d·L.
  await field("mem-micro-batch").fill("2");
  expect((await v("mem-activations-gb")) === "18.25 GB", `selective activations ${await v("mem-activations-gb")}`);
  await pick("mem-recompute", "full");
  expect((await v("mem-activations-gb")) === "1.07 GB", `full recomputation ${await v("mem-activations-gb")}`);
  // LLaMA-2-70B at 18 bytes under ZeRO-3 on 64 GPUs (exercise 4.4): 1,241.58 GB / 64 = 19.40 GB.
  await pick("mem-preset", "llama2-70b");
  await pick("mem-bytes", "18");
  await field("mem-gpus").fill("64");
  expect((await v("mem-total")) === "68,976,648,192", `70B total ${await v("mem-total")}`);
  const states = [await v("mem-weights-gb"), await v("mem-gradients-gb"), await v("mem-optimizer-gb")];
  expect(states.join("|") === "2.16 GB|4.31 GB|12.93 GB", `70B states on 64 GPUs ${states}`);
  await pick("mem-bytes", "16");
  // GPT-2 small: 124,439,808, with its learned positions and tied output.
  await pick("mem-preset", "gpt2-small");
  expect((await v("mem-total")) === "124,439,808", `GPT-2 small ${await v("mem-total")}`);
  expect((await v("mem-positions")) === "786,432" && (await v("mem-output")) === "0", "positions and tied output");
  // Heads that do not divide the width: the engine's message, the last good numbers kept.
  await field("mem-heads").fill("5");
  expect((await v("mem-shape-error")).includes("must divide evenly among 5 heads"), `message ${await v("mem-shape-error")}`);
  expect((await v("mem-total")) === "124,439,808", "last good count kept");
  await field("mem-heads").fill("12");
  expect((await v("mem-shape-error")) === "", "message gone once the heads divide the width");
  // Zero and fractions never reach the engine.
  for (const bad of ["0", "2.5", "abc"]) {
    await field("mem-layers").fill(bad);
    expect((await widget.locator('[data-error-for="mem-layers"]').innerText()).length > 5, `layers ${bad} refused`);
    expect((await v("mem-total")) === "124,439,808", `count kept after ${bad}`);
  }
});

// ---------------------------------------------------------------- chapter 4: the BPE trainer
await test("BPE trainer: the chapter's merges, both tie-breaks, the encoder's byte fallback, the end-of-word marker, bad input", async (page) => {
  await openChapter(page, "training-pipeline");
  const lab = page.locator(".widget.bpe");
  const merge = (k) => lab.locator(`tr[data-merge="${k}"]`);
  const chipsOf = (word) => lab.locator(`.bpe-word[data-word="${word}"] .bpe-chip`).allInnerTexts();
  const jump = (n) => page.locator('input[data-name="bpe-jump"]').fill(String(n));
  // Before any merge the table's top row is the next merge, (l, o) at 7, with (o, w) tied.
  expect((await lab.locator("tr.winner .pair").innerText()) === "(l, o)", "winner (l, o)");
  expect((await lab.locator("tr.tied .pair").allInnerTexts()).join() === "(o, w)", "tied (o, w)");
  await lab.getByRole("button", { name: "Step", exact: true }).click();
  expect((await merge(1).getAttribute("data-symbol")) === "lo" && (await merge(1).getAttribute("data-count")) === "7", "merge 1 is lo at 7");
  expect((await merge(1).getAttribute("data-ties")) === "1" && (await value(page, "bpe-merges")) === 1, "one tie, one merge");
  // Twelve merges leave every corpus word one token, and one more step finds no pair.
  await jump(12);
  expect((await value(page, "bpe-merges")) === 12 && (await merge(12).getAttribute("data-symbol")) === "wider", "12 merges, the last wider");
  await page.locator('input[data-name="bpe-words"]').fill("low lowest newer wider");
  for (const w of ["low", "lowest", "newer", "wider"]) expect((await chipsOf(w)).join() === w, `${w} is one token: ${await chipsOf(w)}`);
  expect(Math.abs((await value(page, "bpe-tpc")) - 12 / 52) < 5e-4, `tokens per character ${await value(page, "bpe-tpc")}`);
  await lab.getByRole("button", { name: "Step", exact: true }).click();
  expect((await lab.locator('[data-value="bpe-status"]').innerText()).includes("No pair is left"), "no pair left");
  // A merge count beyond what the corpus allows, or not whole, is refused; the 12 stay.
  await jump(13);
  expect((await lab.locator('[data-error-for="bpe-jump-limit"]').innerText()).includes("after 12 merges"), "13 refused");
  await jump(2.5);
  expect((await lab.locator('[data-error-for="bpe-jump"]').innerText()).length > 5 && (await value(page, "bpe-merges")) === 12, "2.5 refused");
  // After 8 merges, "lower" is [low, er] and an unseen é falls back to its two UTF-8 bytes.
  await jump(8);
  await page.locator('input[data-name="bpe-words"]').fill("lower lowé");
  expect((await chipsOf("lower")).join() === "low,er", `lower: ${await chipsOf("lower")}`);
  expect((await chipsOf("lowé")).join() === "low,<0xC3>,<0xA9>", `lowé: ${await chipsOf("lowé")}`);
  // Alphabetical ties make merge 4 "ew" and merges 8 and 9 "es", "est".
  await jump(9);
  await page.locator('select[data-name="bpe-tie"]').selectOption("alphabetical");
  expect((await merge(4).getAttribute("data-symbol")) === "ew", `merge 4: ${await merge(4).getAttribute("data-symbol")}`);
  expect((await merge(8).getAttribute("data-symbol")) === "es" && (await merge(9).getAttribute("data-symbol")) === "est", "es, est");
  await page.locator('select[data-name="bpe-tie"]').selectOption("first-met");
  // With the end-of-word marker, "low" at the end of a word becomes its own symbol at merge 3.
  await lab.locator('input[data-name="bpe-eow"]').check();
  expect((await lab.locator('[data-vocab="low</w>"]').count()) === 1, "low</w> in the vocabulary");
  expect((await merge(3).getAttribute("data-symbol")) === "low</w>", "merge 3 is low</w>");
  expect((await lab.locator('[data-value="bpe-difference"]').innerText()).includes("merge 3"), "the difference is named");
  expect((await lab.locator('tr[data-contrast="lower"] td.on .bpe-chip').allInnerTexts()).join() === "low,er</w>", "lower with the marker");
  // Reset goes back to no merges; Play makes one merge per tick until Pause.
  await lab.getByRole("button", { name: "Reset" }).click();
  expect((await value(page, "bpe-merges")) === 0 && (await lab.locator("tr[data-merge]").count()) === 0, "reset to 0");
  await lab.locator('button[data-name="bpe-play"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="bpe-merges"]').textContent) >= 2);
  await lab.locator('button[data-name="bpe-play"]').click();
  const paused = await value(page, "bpe-merges");
  await page.waitForTimeout(1000);
  expect((await value(page, "bpe-merges")) === paused && paused < 15, `paused at ${paused}`);
  await jump(9);
  // An empty corpus is refused and the last good trainer kept.
  await page.locator('textarea[data-name="bpe-corpus"]').fill("   ");
  expect((await lab.locator('[data-error-for="bpe-corpus"]').innerText()).includes("at least one word"), "empty corpus refused");
  expect((await value(page, "bpe-merges")) === 9 && (await merge(3).getAttribute("data-symbol")) === "low</w>", "last good trainer kept");
  await page.locator('textarea[data-name="bpe-corpus"]').fill("ab ab ab");
  expect((await value(page, "bpe-merges")) === 2 && (await lab.locator('[data-error-for="bpe-corpus"]').innerText()) === "", "a new corpus retrains");
});

await test("number formats: 0.1 in FP16 and BF16, overflow, saturation, a flipped sign, bad input, FP16's sum stalls at 0.25", async (page) => {
  await openChapter(page, "training-pipeline");
  const w = page.locator(".widget.number-formats");
  const stored = (id) => w.locator(`[data-value="nf-stored-${id}"]`).getAttribute("data-number").then(Number);
  const text = (name) => w.locator(`[data-value="${name}"]`).innerText();
  const field = w.locator('input[data-name="nf-value"]');
  expect((await stored("fp16")) === 0.0999755859375, `FP16 of 0.1: ${await stored("fp16")}`);
  expect((await stored("bf16")) === 0.10009765625, `BF16 of 0.1: ${await stored("bf16")}`);
  expect((await text("nf-outcome-fp16")) === "rounded", "0.1 is rounded");
  await field.fill("70000");
  expect((await stored("fp16")) === Infinity, `FP16 of 70000: ${await stored("fp16")}`);
  expect((await text("nf-outcome-fp16")).includes("overflow"), "FP16 overflows");
  expect((await stored("bf16")) === 70144, `BF16 of 70000: ${await stored("bf16")}`);
  expect((await text("nf-error-bf16")) === "144", `BF16 error: ${await text("nf-error-bf16")}`);
  await field.fill("1000");
  expect((await stored("fp8-e4m3")) === 448, `E4M3 of 1000: ${await stored("fp8-e4m3")}`);
  expect((await text("nf-outcome-fp8-e4m3")) === "saturated", "E4M3 saturates");
  expect((await stored("fp8-e5m2")) === 1024, `E5M2 of 1000: ${await stored("fp8-e5m2")}`);
  await field.fill("0.1");
  await w.locator('[data-format="fp16"] button[data-bit="0"]').click();
  expect((await stored("fp16")) === -0.0999755859375, `FP16 with its sign flipped: ${await stored("fp16")}`);
  expect((await text("nf-outcome-fp16")) === "set by hand", "the flipped row says so");
  expect((await stored("bf16")) === 0.10009765625, "other rows keep the typed value");
  await w.getByRole("button", { name: "Back to the typed value" }).click();
  expect((await stored("fp16")) === 0.0999755859375, "back to the typed value");
  for (const bad of ["abc", ""]) {
    await field.fill(bad);
    expect((await w.locator('[data-error-for="nf-value"]').innerText()).length > 5, `message for "${bad}"`);
    expect((await stored("fp16")) === 0.0999755859375, `"${bad}" keeps the last good numbers`);
  }
  expect(Number(await text("nf-stall-fp16")) === 0.25, `FP16 stalls at ${await text("nf-stall-fp16")}`);
  expect((await text("nf-stall-fp32")) === "never", "FP32 never stalls");
  expect(Number(await text("nf-exact")) === 1, `exact total ${await text("nf-exact")}`);
  await w.locator('input[data-name="nf-count"]').fill("1.5");
  expect((await w.locator('[data-error-for="nf-count"]').innerText()).length > 5, "message for 1.5 additions");
  expect(Number(await text("nf-stall-fp16")) === 0.25, "last good accumulation kept");
});

// ---------------------------------------------------------------- chapter 5: the tiny GPT
/** Waits until the shipped tiny GPT has downloaded and a widget says so. */
async function waitForModel(page, name) {
  await page.waitForFunction((n) => (document.querySelector(`[data-value="${n}"]`)?.textContent ?? "").includes("shipped"), name, { timeout: 30000 });
}

await test("generation lab: greedy replays, sampling streams, beam width 1 is greedy, bad prompts are explained", async (page) => {
  await openChapter(page, "inference");
  const lab = page.locator(".widget.generation");
  await lab.scrollIntoViewIfNeeded();
  await waitForModel(page, "gen-model");
  const generated = () => lab.locator(".gen-char").count();
  const text = () => lab.locator(".gen-char").allInnerTexts().then((t) => t.join(""));
  const run = async (n) => {
    await lab.locator('[data-name="gen-go"]').click();
    await page.waitForFunction((n) => document.querySelectorAll(".widget.generation .gen-char").length >= n, n, { timeout: 30000 });
  };
  await lab.locator('select[data-name="gen-mode"]').selectOption("greedy");
  await slide(page, "gen-length", 24);
  await run(24);
  const greedy = await text();
  expect(greedy.length === 24, `greedy wrote ${greedy.length}`);
  await run(24);
  expect((await text()) === greedy, "greedy decoding replays the same text");
  await lab.locator('select[data-name="gen-mode"]').selectOption("sample");
  await slide(page, "gen-length", 30);
  for (const [t, k, p] of [[0.05, 1, 0.05], [2, 73, 1], [0.8, 20, 0.95]]) {
    await slide(page, "gen-temperature", t);
    await slide(page, "gen-top-k", k);
    await slide(page, "gen-top-p", p);
    await run(30);
    expect((await generated()) === 30, `sampling T=${t} k=${k} p=${p} wrote ${await generated()}`);
    const probs = await lab.locator(".gen-char").evaluateAll((els) => els.map((e) => Number(e.getAttribute("title").split("p = ")[1])));
    expect(probs.every((q) => q > 0 && q <= 1), `probabilities ${probs}`);
  }
  await lab.locator('select[data-name="gen-mode"]').selectOption("beam");
  await slide(page, "gen-width", 3);
  await slide(page, "gen-steps", 5);
  await lab.locator('[data-name="gen-go"]').click();
  await lab.locator(".beam-tree").waitFor();
  expect((await lab.locator(".beam-node").count()) === 3 + 9 * 4, `width 3, 5 steps: ${await lab.locator(".beam-node").count()} nodes`);
  expect((await lab.locator(".beam-node.kept").count()) === 15, "three kept per step");
  await slide(page, "gen-width", 1);
  await lab.locator('[data-name="gen-go"]').click();
  const best = await lab.locator('[data-value="gen-beam-best"]').innerText();
  expect(best.includes(`“${greedy.slice(0, 5)}”`), `beam width 1 (${best}) is greedy (${greedy.slice(0, 5)})`);
  for (const [bad, says] of [["", "at least one character"], ["Hé", "é"]]) {
    await lab.locator('textarea[data-name="gen-prompt"]').fill(bad);
    expect((await lab.locator('[data-error-for="gen-prompt"]').innerText()).includes(says), `prompt ${JSON.stringify(bad)}: ${await lab.locator('[data-error-for="gen-prompt"]').innerText()}`);
    await lab.locator('[data-name="gen-go"]').click();
    expect((await lab.locator('[data-value="gen-message"]').innerText()).includes(says), "the button explains too");
  }
});

await test("KV cache race: the same text both ways, and the cache does less work", async (page) => {
  await openChapter(page, "inference");
  const race = page.locator(".widget.kv-timer");
  await race.scrollIntoViewIfNeeded();
  await waitForModel(page, "gen-model");
  await race.locator('[data-name="kv-run"]').click();
  await race.locator('[data-value="kv-same"]').waitFor({ timeout: 60000 });
  expect((await race.locator('[data-value="kv-same"]').innerText()) === "yes", "greedy text is identical with and without the cache");
  const macs = (await race.locator('[data-value="kv-macs"]').innerText()).match(/^(\d+) \/ (\d+)/);
  expect(macs && Number(macs[1]) > 5 * Number(macs[2]), `multiply-adds ${macs}`);
  expect((await race.locator("polyline.series").count()) === 4, "two charts, two series each");
  await race.locator('textarea[data-name="kv-prompt"]').fill("é");
  await race.locator('[data-name="kv-run"]').click();
  expect((await race.locator('[data-value="kv-message"]').innerText()).includes("é"), "out-of-vocabulary prompt explained");
});

await test("sampling bench on the tiny GPT: the next-character distribution obeys the definitions", async (page) => {
  await openChapter(page, "inference");
  const bench = page.locator(".widget.sampling");
  await bench.scrollIntoViewIfNeeded();
  await bench.locator('select[data-name="sampling-source"]').selectOption("gpt");
  await waitForModel(page, "sampling-model");
  // The 73-entry lists sit in a closed fold, so read their text rather than what is rendered.
  const list = async (name) => JSON.parse(await bench.locator(`[data-value="${name}"]`).textContent());
  expect((await list("tempered")).length === 73, "one probability per character");
  for (const p of ["0.3", "0.9", "1"]) {
    await bench.locator('input[data-name="top-p"]').fill(p);
    const tempered = await list("tempered");
    const keptCount = Number(await bench.locator('[data-value="kept"]').innerText());
    const sorted = [...tempered].sort((a, b) => b - a);
    const mass = sorted.slice(0, keptCount).reduce((a, b) => a + b, 0);
    const lessMass = sorted.slice(0, keptCount - 1).reduce((a, b) => a + b, 0);
    expect(mass >= Number(p) - 1e-3 && lessMass < Number(p), `top-p ${p}: kept ${keptCount} is not the smallest set reaching p`);
    expect(Math.abs(Number(await bench.locator('[data-value="sum"]').innerText()) - 1) < 1e-5, "sums to 1");
  }
  expect((await bench.locator("svg.sampling-chart g[aria-label]").count()) === 24, "the 24 most probable characters are drawn");
  await bench.locator('textarea[data-name="sampling-prompt"]').fill("");
  expect((await bench.locator('[data-error-for="logits"]').innerText()).includes("at least one character"), "empty prompt explained");
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

// ---------------------------------------------------------------- chapter 8: optimizer labs
/** Sets a range input's value and fires its input event, as dragging it would. */
async function slide(page, name, value) {
  await page.locator(`input[data-name="${name}"]`).evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);
}

await test("optimizer race: sliders move paths, hiding removes them, a click sets the start, lr at max diverges", async (page) => {
  await openChapter(page, "optimizers");
  const race = page.locator(".widget.race");
  await race.scrollIntoViewIfNeeded();
  const path = (key) => race.locator(`path[data-path="${key}"]`).getAttribute("d");
  const status = (key) => race.locator(`[data-value="race-status-${key}"]`).innerText();
  for (const key of ["sgd", "momentum", "rmsprop", "adam", "adamw"]) {
    expect(((await path(key)) ?? "").split("L").length > 100, `${key} path drawn`);
    expect((await status(key)).startsWith("loss "), `${key}: ${await status(key)}`);
  }
  expect((await race.locator(".contours path").count()) >= 10, "contour lines drawn");
  // SGD's first step from (10, 1) at lr 0.07 lands on (9.3, -0.75), the chapter's table. In
  // the plot's frame (x -11..11 over viewBox 8..472, y 4..-4 over 8..312) that is (436.2, 188.5).
  const second = (await path("sgd")).split("L")[1].split(",").map(Number);
  expect(Math.abs(second[0] - 436.2) < 0.2 && Math.abs(second[1] - 188.5) < 0.2, `SGD step 1 at ${second}`);
  expect((await status("sgd")).startsWith("loss 0.0000") || Number((await status("sgd")).slice(5)) < 1e-3, `SGD converges: ${await status("sgd")}`);
  // Every slider changes its optimizer's path.
  for (const [name, key, v] of [["race-lr-adam", "adam", -1.5], ["race-beta1-adam", "adam", 0.5], ["race-beta2-adam", "adam", 0.9], ["race-eps-adam", "adam", -1], ["race-wd-adamw", "adamw", 0.4], ["race-beta1-momentum", "momentum", 0.5], ["race-beta2-rmsprop", "rmsprop", 0.99], ["race-lr-sgd", "sgd", -2]]) {
    const before = await path(key);
    await slide(page, name, v);
    const after = await path(key);
    expect(before !== after, `${name} did not change the ${key} path`);
    const readout = await race.locator(`output[data-value="${name}"]`).innerText();
    expect(readout.length > 0, `${name} has a readout`);
  }
  // Hiding an optimizer removes its path; showing it brings it back.
  await race.locator('input[data-name="race-show-rmsprop"]').uncheck();
  expect((await race.locator('path[data-path="rmsprop"]').count()) === 0, "hidden path removed");
  expect((await status("rmsprop")) === "hidden", "legend says hidden");
  await race.locator('input[data-name="race-show-rmsprop"]').check();
  expect((await race.locator('path[data-path="rmsprop"]').count()) === 1, "path back");
  // A click on the plot sets the start, read back from the start fields.
  const svg = race.locator(".race-plot svg");
  const box = await svg.boundingBox();
  // The plot area spans viewBox x 8..472 for x -11..11 and y 8..312 for y 4..-4: click at
  // viewBox (124, 84), which is x = -5.5, y = 2.
  await svg.click({ position: { x: (124 / 480) * box.width, y: (84 / 320) * box.height } });
  const x = Number(await race.locator('input[data-name="race-x"]').inputValue());
  const y = Number(await race.locator('input[data-name="race-y"]').inputValue());
  expect(Math.abs(x + 5.5) < 0.1 && Math.abs(y - 2) < 0.1, `start (${x}, ${y})`);
  await page.waitForFunction(() => Number(document.querySelector('[data-value="race-shown"]').innerText) > 0, null, { timeout: 5000 });
  // Keyboard users type the start.
  await race.locator('input[data-name="race-x"]').fill("3");
  await race.locator('input[data-name="race-y"]').fill("-1");
  expect((await path("adam")).startsWith("M"), "path from the typed start");
  await race.locator('input[data-name="race-x"]').fill("abc");
  expect((await race.locator('[data-error-for="race-x"]').innerText()).length > 5, "bad start explained");
  // Pause, reset, step.
  await race.locator('button[data-name="race-reset"]').click();
  expect((await race.locator('[data-value="race-shown"]').innerText()) === "0", "reset to step 0");
  await race.locator('button[data-name="race-step"]').click();
  expect((await race.locator('[data-value="race-shown"]').innerText()) === "1", "one step");
  // The learning rate at the slider's maximum (10) diverges: said, not crashed.
  await race.locator('button[data-name="race-play"]').click();
  await slide(page, "race-lr-sgd", 1);
  await page.waitForFunction(() => document.querySelector('[data-value="race-status-sgd"]').innerText.startsWith("diverged at step"), null, { timeout: 15000 });
  // Every surface draws, and its defaults do not diverge.
  for (const surface of ["rosenbrock", "saddle", "two-basins", "valley"]) {
    await race.locator('select[data-name="race-surface"]').selectOption(surface);
    for (const key of ["sgd", "adam"]) expect((await status(key)).startsWith("loss "), `${surface} ${key}: ${await status(key)}`);
  }
});

await test("inside Adam: the t = 1 corrections are 10 and 1000, the first step is lr, controls recompute", async (page) => {
  await openChapter(page, "optimizers");
  const cell = (name, t) => value(page, `adam-${name}-${t}`);
  expect(Math.abs((await cell("corr1", 1)) - 10) < 1e-3, `correction 1 at t=1: ${await cell("corr1", 1)}`);
  expect(Math.abs((await cell("corr2", 1)) - 1000) < 0.1, `correction 2 at t=1: ${await cell("corr2", 1)}`);
  expect(Math.abs((await cell("mhat", 1)) - 0.5) < 1e-4, "m-hat = g at t=1");
  expect(Math.abs((await cell("step", 1)) - 0.001) < 1e-7, `first step = lr: ${await cell("step", 1)}`);
  expect(Math.abs((await cell("raw-step", 1)) - 0.0031623) < 1e-6, `uncorrected first step: ${await cell("raw-step", 1)}`);
  expect(Math.abs((await cell("corr1", 2)) - 1 / 0.19) < 1e-3, "correction 1 at t=2");
  expect((await page.locator(".inside-adam .multi-chart path.series").count()) === 6, "three charts, two series each");
  await page.locator('input[data-name="adam-beta1"]').fill("0.5");
  expect(Math.abs((await cell("corr1", 1)) - 2) < 1e-4, "1/(1-0.5) = 2");
  await page.locator('input[data-name="adam-g"]').fill("-3");
  expect(Math.abs((await cell("step", 1)) + 0.001) < 1e-7, "first step is -lr for a negative gradient");
  await page.locator('input[data-name="adam-noise"]').fill("1");
  expect((await cell("g", 1)) !== (await cell("g", 2)), "noisy gradients differ");
  await page.locator('input[data-name="adam-lr"]').fill("100");
  await page.locator('input[data-name="adam-steps"]').fill("1000");
  expect(Number.isFinite(await cell("step", 5)), "extreme settings still compute");
  for (const [name, bad] of [["adam-beta1", "1"], ["adam-eps", "0"], ["adam-steps", "2.5"], ["adam-g", "NaN"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(bad);
    expect((await page.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name} = ${bad}`);
  }
});

/** Trains the network race on `backend` and returns each racing optimizer's loss and accuracy. */
async function raceNetwork(page, backend, keys) {
  const w = page.locator(".widget.network-race");
  await w.locator('select[data-name="net-backend"]').selectOption(backend);
  await page.waitForFunction((b) => document.querySelector(".widget.network-race .backend-badge").dataset.backend === b, backend);
  await w.locator('button[data-name="net-train"]').click();
  await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="net"]').innerText), null, { timeout: 240000 });
  expect((await w.locator('[data-status="net"]').innerText()).includes(`on the ${backend.toUpperCase()}`), "status names the backend");
  const results = {};
  for (const key of keys) {
    const text = await w.locator(`[data-value="net-status-${key}"]`).innerText();
    const m = text.match(/^loss ([\d.]+) · accuracy ([\d.]+)%$/);
    expect(m, `${backend} ${key}: ${text}`);
    expect(Number(m[1]) < 0.4 && Number(m[2]) > 80, `${backend} ${key} did not learn: ${text}`);
    results[key] = { loss: Number(m[1]), accuracy: Number(m[2]) };
  }
  expect((await w.locator(".multi-chart path.series").count()) === keys.length, `${keys.length} curves`);
  return results;
}

// Software WebGPU (SwiftShader) on a loaded machine takes about a minute per network for the
// 500 steps, so the GPU trains one network, Adam's, and must land where the CPU's Adam did.
await test("network race: five optimizers learn two moons on the CPU, Adam on the GPU matches the CPU; lr 100 diverges", async (page) => {
  await openChapter(page, "optimizers");
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="net"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  const w = page.locator(".widget.network-race");
  const gpuOk = !(await w.locator('select[data-name="net-backend"] option[value="gpu"]').isDisabled());
  expect(gpuOk, `no WebGPU: ${await w.locator('[data-gpu-note="net"]').innerText()}`);
  const all = ["sgd", "momentum", "rmsprop", "adam", "adamw"];
  const onCpu = await raceNetwork(page, "cpu", all);
  // Hiding takes an optimizer out of the race.
  for (const key of ["sgd", "momentum", "rmsprop", "adamw"]) await w.locator(`input[data-name="net-show-${key}"]`).uncheck();
  expect((await w.locator('[data-value="net-status-rmsprop"]').innerText()) === "not in the race", "excluded");
  expect((await w.locator(".multi-chart .empty-note").count()) === 1, "a changed field starts the race over: the chart is empty until it runs");
  const onGpu = await raceNetwork(page, "gpu", ["adam"]);
  const [gpu, cpu] = [onGpu.adam, onCpu.adam];
  expect(Math.abs(gpu.loss - cpu.loss) <= 0.002 && Math.abs(gpu.accuracy - cpu.accuracy) <= 1, `adam: gpu ${JSON.stringify(gpu)} vs cpu ${JSON.stringify(cpu)}`);
  // The largest learning rate the field takes: diverged, not crashed (on the CPU, for time).
  await w.locator('select[data-name="net-backend"]').selectOption("cpu");
  await w.locator('input[data-name="net-show-sgd"]').check();
  await w.locator('input[data-name="net-lr-sgd"]').fill("100");
  await w.locator('button[data-name="net-train"]').click();
  await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="net"]').innerText), null, { timeout: 60000 });
  expect((await w.locator('[data-value="net-status-sgd"]').innerText()).startsWith("diverged at step"), "SGD at lr 100 diverges");
  expect((await w.locator('[data-value="net-status-adam"]').innerText()).startsWith("loss "), "Adam, beside it, still trains");
  await w.locator('input[data-name="net-lr-adam"]').fill("0");
  expect((await w.locator('[data-error-for="net-lr-adam"]').innerText()).length > 5, "bad rate explained");
});

await test("transformer trace: the chapter's loss, the causal mask, row sums, unknown words", async (page) => {
  await openChapter(page, "transformer-trace");
  const mean = () => page.locator('[data-value="trace-mean-loss"]').innerText();
  expect((await mean()) === "2.4224", `mean loss ${await mean()}`);
  const weights = page.locator('.trace-step[data-step="weights"]');
  const cells = () => weights.locator("tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("td:not(.row-sum)")].map((td) => Number(td.innerText.replace("−", "-")))));
  const upper = (m) => m.flatMap((row, i) => row.slice(i + 1));
  const rowsSumToOne = (m) => m.every((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 2e-4);
  let m = await cells();
  expect(m.length === 3 && upper(m).every((v) => v === 0), `causal: upper triangle ${JSON.stringify(m)}`);
  expect(rowsSumToOne(m), `causal rows ${JSON.stringify(m)}`);
  expect((await weights.locator("td.row-sum").allInnerTexts()).every((s) => s === "1.0000"), "row-sum column");
  expect(JSON.stringify(m[2]) === "[0.3483,0.2807,0.3711]", `last row ${JSON.stringify(m[2])}`);
  await page.locator('input[data-name="trace-causal"]').uncheck();
  m = await cells();
  expect(upper(m).every((v) => v > 0), `bidirectional: upper triangle ${JSON.stringify(m)}`);
  expect(rowsSumToOne(m), `bidirectional rows ${JSON.stringify(m)}`);
  expect(JSON.stringify(m[0]) === "[0.3614,0.2905,0.3481]", `exercise 2.1 row 0 ${JSON.stringify(m[0])}`);
  await page.locator('input[data-name="trace-causal"]').check();
  await page.locator('select[data-name="trace-norm"]').selectOption("pre");
  expect((await page.locator('.trace-step[data-step="attention_input"]').count()) === 1, "pre-norm shows LN(X')");
  expect(rowsSumToOne(await cells()), "pre-norm rows");
  await page.locator('select[data-name="trace-norm"]').selectOption("post");
  expect((await mean()) === "2.4224", "back to post-norm");
  await page.locator('input[data-name="trace-sentence"]').fill("the dog sat");
  const message = await page.locator('[data-error-for="trace"]').innerText();
  expect(message.includes("“dog”") && message.includes("vocabulary"), `message: ${message}`);
  expect((await page.locator('input[data-name="trace-sentence"]').getAttribute("aria-invalid")) === "true", "sentence box marked invalid");
  expect((await mean()) === "2.4224", "last good trace kept");
  await page.locator('input[data-name="trace-sentence"]').fill("  The MAT ");
  expect((await page.locator('[data-error-for="trace"]').innerText()) === "", "message cleared");
  m = await cells();
  expect(m.length === 2 && rowsSumToOne(m), `two-word sentence ${JSON.stringify(m)}`);
  expect((await mean()) !== "2.4224", "recomputed for the new sentence");
});

// ---------------------------------------------------------------- chapter 7, live
const text = (page, name) => page.locator(`[data-value="${name}"]`).first().innerText();
const signed = (page, name) => text(page, name).then((t) => Number(t.replace("−", "-")));

await test("overfitting lab: validation loss turns up, early stopping marks and restores the best step", async (page) => {
  await openChapter(page, "regularization");
  const lab = page.locator(".widget.overfit");
  expect((await value(page, "fit-steps")) === 0, "starts at step 0");
  expect((await lab.locator("circle.train-point").count()) === 14 && (await lab.locator("circle.val-point").count()) === 6, "14 training and 6 validation points");
  await lab.getByRole("button", { name: "Train 3,000 steps" }).click();
  await page.waitForFunction(() => /Finished|Diverged|Early/.test(document.querySelector('[data-status="fit"]').innerText), null, { timeout: 120000 });
  expect((await text(page, "fit-steps")) === "3000", `steps ${await text(page, "fit-steps")}`);
  expect((await value(page, "fit-best-step")) === 155, `best step ${await value(page, "fit-best-step")}`);
  const [best, last, train] = [await value(page, "fit-best-val"), await value(page, "fit-val"), await value(page, "fit-train")];
  expect(Math.abs(best - 0.0386) < 1e-4 && last > 5 * best && train < best / 10, `best ${best}, final validation ${last}, final training ${train}`);
  expect((await lab.locator("line.marker").count()) === 1, "best step marked");
  for (const cls of ["train", "validation"]) expect(((await lab.locator(`path.series.${cls}`).getAttribute("d")) ?? "").length > 200, `${cls} curve drawn`);
  expect(((await lab.locator("path.fitted").getAttribute("d")) ?? "").split("L").length === 121, "fitted curve has 121 points");
  // Early stopping with patience 200: stops at 355 and restores step 155.
  await page.locator('input[data-name="fit-patience"]').fill("200");
  await lab.getByRole("button", { name: "Train 3,000 steps" }).click();
  await page.waitForFunction(() => /Early stopping/.test(document.querySelector('[data-status="fit"]').innerText), null, { timeout: 60000 });
  expect((await value(page, "fit-steps")) === 355 && (await value(page, "fit-best-step")) === 155, `stopped at ${await value(page, "fit-steps")}`);
  expect(Math.abs((await value(page, "fit-best-val")) - 0.0386) < 1e-4, "the same best validation loss as the full run");
  expect((await page.locator('[data-status="fit"]').innerText()).includes("step 155 are restored"), "the page says which weights it restored");
  expect(await lab.getByRole("button", { name: "Stopped" }).isDisabled(), "a stopped run cannot resume");
});

await test("overfitting lab: every control changes the run, bad values are refused, SGD at lr 100 diverges", async (page) => {
  await openChapter(page, "regularization");
  const lab = page.locator(".widget.overfit");
  const oneStep = async () => {
    await lab.getByRole("button", { name: "Single step" }).click();
    await page.waitForFunction(() => document.querySelector('[data-value="fit-steps"]').innerText === "1");
    return `${await text(page, "fit-train")} ${await text(page, "fit-val")} ${await text(page, "fit-norm")}`;
  };
  const baseline = await oneStep();
  const controls = [["fit-width", "8", "32"], ["fit-depth", "1", "2"], ["fit-points", "40", "20"], ["fit-noise", "0.1", "0.3"], ["fit-decay", "1", "0"],
    ["fit-dropout", "0.3", "0"], ["fit-lr", "0.05", "0.01"], ["fit-seed", "3", "7"]];
  for (const [name, changed, original] of controls) {
    await page.locator(`input[data-name="${name}"]`).fill(changed);
    expect((await oneStep()) !== baseline, `${name} = ${changed} changed nothing`);
    await page.locator(`input[data-name="${name}"]`).fill(original);
    expect((await oneStep()) === baseline, `${name} back to ${original} should replay the same step`);
  }
  expect((await lab.locator("circle.train-point").count()) === 14, "points restored");
  for (const [select, option] of [["fit-activation", "relu"], ["fit-optimizer", "adam-l2"], ["fit-optimizer", "sgd"]]) {
    await page.locator(`select[data-name="${select}"]`).selectOption(option);
    expect((await oneStep()) !== baseline, `${select} = ${option} changed nothing`);
  }
  for (const [name, bad] of [["fit-width", "0"], ["fit-depth", "9"], ["fit-points", "2"], ["fit-dropout", "1"], ["fit-patience", "-1"], ["fit-lr", "abc"], ["fit-noise", "NaN"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(bad);
    expect((await page.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name}=${bad}`);
  }
  await page.locator('input[data-name="fit-width"]').fill("32");
  await page.locator('input[data-name="fit-lr"]').fill("100");
  await lab.getByRole("button", { name: "Train 3,000 steps" }).click();
  await page.waitForFunction(() => /Diverged|Finished/.test(document.querySelector('[data-status="fit"]').innerText), null, { timeout: 60000 });
  expect((await page.locator('[data-status="fit"]').innerText()).startsWith("Diverged"), `status ${await page.locator('[data-status="fit"]').innerText()}`);
  expect(await lab.locator("svg").first().isVisible(), "widget alive");
});

await test("dropout lab: scale 1/(1-p), a fresh mask each step, the average matches test time", async (page) => {
  await openChapter(page, "regularization");
  const lab = page.locator(".widget.dropout");
  for (const p of [0.5, 0.2, 0.9, 0]) {
    await page.locator('input[data-name="drop-p"]').fill(String(p));
    expect(Math.abs((await value(page, "drop-scale")) - 1 / (1 - p)) < 1e-4, `p ${p}: scale ${await value(page, "drop-scale")}`);
  }
  await page.locator('input[data-name="drop-p"]').fill("0.5");
  const row = (t) => lab.locator(`tr[data-step="${t}"] td`).allInnerTexts();
  const first = await row(1);
  // Kept cells are 2a, dropped cells are 0.
  const a = [2, 4, 6, 8, 1, 3, 5, 7];
  first.slice(0, 8).forEach((c, i) => expect(Number(c) === 0 || Number(c) === 2 * a[i], `unit ${i}: ${c}`));
  await lab.getByRole("button", { name: "Next step" }).click();
  await lab.getByRole("button", { name: "Next step" }).click();
  expect((await value(page, "drop-step")) === 3 && (await lab.locator("tr[data-step]").count()) === 3, "three steps shown");
  expect((await row(1)).join() === first.join(), "earlier masks do not change");
  expect((await row(2)).join() !== first.join() || (await row(3)).join() !== first.join(), "new masks each step");
  const err = await value(page, "drop-mc-error");
  const se = await value(page, "drop-mc-se");
  expect((await value(page, "drop-mc-samples")) === 10000 && err > 0 && err < 5 * se, `error ${err}, standard error ${se}`);
  for (let i = 0; i < 8; i++) expect(Math.abs((await value(page, `drop-mean-${i}`)) - a[i]) < 5 * se, `mean of unit ${i}`);
  await page.locator('input[data-name="drop-samples"]').fill("100");
  expect((await value(page, "drop-mc-se")) > se * 9.9 && (await value(page, "drop-mc-error")) !== err, "fewer masks, bigger error bars");
  await page.locator('input[data-name="drop-seed"]').fill("5");
  expect((await row(1)).join() !== first.join(), "the seed changes the masks");
  await page.locator('input[data-name="drop-activations"]').fill("1, 2, x");
  expect((await page.locator('[data-error-for="drop-activations"]').innerText()).includes("not a number"), "bad activation message");
  expect((await lab.locator('[data-value^="drop-mean-"]').count()) === 8, "last good activations kept");
  await page.locator('input[data-name="drop-activations"]').fill("3");
  expect((await lab.locator('[data-value^="drop-mean-"]').count()) === 1, "one unit");
  await page.locator('input[data-name="drop-p"]').fill("1");
  expect((await page.locator('[data-error-for="drop-p"]').innerText()).length > 5, "p = 1 refused");
});

await test("weight-decay lab: the two forms agree with the run, Adam + L2 and AdamW split only when lambda > 0", async (page) => {
  await openChapter(page, "regularization");
  const close = (a, b) => Math.abs(a - b) < 2e-6;
  const shrink = await signed(page, "wd-via-shrink");
  expect(Number.isFinite(shrink) && close(shrink, await signed(page, "wd-via-gradient")) && close(shrink, await signed(page, "wd-after")), `both forms equal the run's next weight: ${shrink}`);
  expect(close(await value(page, "wd-factor"), 1 - 0.1 * 0.1), `1 - eta*lambda = ${await value(page, "wd-factor")}`);
  const gap = await value(page, "wd-gap");
  expect(gap > 0.01, `gap ${gap}`);
  expect((await value(page, "wd-norm-adamw")) < (await value(page, "wd-norm-adam")), "AdamW shrinks the weights");
  await page.locator('input[data-name="wd-lambda"]').fill("0");
  expect((await value(page, "wd-gap")) === 0, "no decay, no gap");
  expect((await text(page, "wd-norm-adam-l2")) === (await text(page, "wd-norm-adamw")), "identical runs");
  expect(close(await value(page, "wd-factor"), 1), "factor 1 without decay");
  await page.locator('input[data-name="wd-lambda"]').fill("0.1");
  const snapshot = async () => `${await text(page, "wd-gap")} ${await text(page, "wd-norm-sgd")} ${await text(page, "wd-after")}`;
  const base = await snapshot();
  for (const [name, v] of [["wd-lambda", "0.5"], ["wd-sgd-lr", "0.05"], ["wd-adam-lr", "0.02"], ["wd-steps", "200"], ["wd-seed", "3"]]) {
    const original = await page.locator(`input[data-name="${name}"]`).inputValue();
    await page.locator(`input[data-name="${name}"]`).fill(v);
    expect((await snapshot()) !== base, `${name} = ${v} changed nothing`);
    await page.locator(`input[data-name="${name}"]`).fill(original);
  }
  expect((await snapshot()) === base, "same settings, same numbers");
  expect((await page.locator(".widget.decay path.series").count()) === 5, "four norm curves and the gap");
  for (const [name, bad] of [["wd-lambda", "-1"], ["wd-steps", "0"], ["wd-sgd-lr", "abc"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(bad);
    expect((await page.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name}=${bad}`);
  }
  await page.locator('input[data-name="wd-sgd-lr"]').fill("100");
  expect((await page.locator('[data-status="wd"]').innerText()).startsWith("Diverged"), `status ${await page.locator('[data-status="wd"]').innerText()}`);
});

await test("norm axes: LayerNorm per row, BatchNorm per column, and only BatchNorm sees the batch", async (page) => {
  await openChapter(page, "regularization");
  const lab = page.locator(".widget.norm-axes");
  const cell = (id) => lab.locator(`[data-cell="${id}"]`).innerText().then((t) => Number(t.replace("−", "-")));
  const num = (name) => signed(page, name);
  for (const [name, want] of [["ln-mean-0", 5], ["ln-var-1", 3.5], ["ln-mean-2", 4.25], ["bn-mean-0", 2], ["bn-mean-3", 5.333], ["bn-var-1", 4.667]]) {
    expect(Math.abs((await num(name)) - want) < 1e-3, `${name} = ${await num(name)}, expected ${want}`);
  }
  expect(Math.abs((await cell("ln-0-0")) - -1.342) < 1e-3 && Math.abs((await cell("bn-0-1")) - -0.463) < 1e-3, "the chapter's outputs");
  const [ln00, bn00] = [await cell("ln-0-0"), await cell("bn-0-0")];
  expect((await value(page, "ln-change")) === 0 && (await value(page, "bn-change")) === 0, "no shift, no change");
  await page.locator('input[data-name="norm-shift"]').fill("5");
  expect((await value(page, "ln-change")) === 0, "LayerNorm of example 1 ignores the batch");
  expect((await value(page, "bn-change")) > 0.1, `BatchNorm of example 1 moves: ${await value(page, "bn-change")}`);
  expect((await cell("ln-0-0")) === ln00 && (await cell("bn-0-0")) !== bn00, "the cells agree");
  expect(Math.abs((await num("bn-mean-0")) - (2 + 5 / 3)) < 1e-3, "column mean includes the shifted example");
  await page.locator('input[data-name="norm-shift"]').fill("0");
  await page.locator('textarea[data-name="norm-x"]').fill("1 2\n3 4\n5 9");
  expect(Math.abs((await num("ln-mean-2")) - 7) < 1e-6 && Math.abs((await num("bn-mean-1")) - 5) < 1e-6, "stats follow the edited batch");
  await page.locator('textarea[data-name="norm-x"]').fill("1 2\n3");
  expect((await page.locator('[data-error-for="norm-x"]').innerText()).includes("row 2"), "ragged batch message");
  expect((await lab.locator("table.norm-table.ln tbody tr").count()) === 3, "last good batch kept");
  await page.locator('input[data-name="norm-shift"]').fill("abc");
  expect((await page.locator('[data-error-for="norm-shift"]').innerText()).length > 5, "bad shift message");
});

if (shots) {
  mkdirSync(shots, { recursive: true });
  for (const [mode, options] of [["light", { colorScheme: "light" }], ["dark", { colorScheme: "dark" }], ["phone", { viewport: { width: 360, height: 740 }, isMobile: true, colorScheme: "light" }]]) {
    const page = await newPage(options);
    await openChapter(page, "regularization");
    for (const name of ["overfit", "dropout", "decay", "norm-axes"]) {
      const widget = page.locator(`.widget.${name}`);
      if (name === "overfit") {
        await page.locator('input[data-name="fit-patience"]').fill("200");
        await widget.getByRole("button", { name: "Train 3,000 steps" }).click();
        await page.waitForFunction(() => /Early|Finished|Diverged/.test(document.querySelector('[data-status="fit"]').innerText), null, { timeout: 60000 });
      }
      if (name === "dropout") for (let i = 0; i < 4; i++) await widget.getByRole("button", { name: "Next step" }).click();
      await widget.screenshot({ path: join(shots, `${mode}-ch7-${name}.png`) });
    }
    await page.context().close();
  }
}

// ---------------------------------------------------------------- chapter 5, training the tiny GPT
/** Sets the panel up for a short run: the tiny model, `steps` steps, a brisk learning rate. */
async function gptSetup(page, backend, steps = 30, lr = "0.01") {
  await page.locator('select[data-name="gpt-backend"]').selectOption(backend);
  await page.waitForFunction((b) => document.querySelector(".gpt-trainer .backend-badge").dataset.backend === b, backend);
  await page.locator('select[data-name="gpt-size"]').selectOption("tiny");
  await page.locator('input[data-name="gpt-steps"]').fill(String(steps));
  await page.locator('input[data-name="gpt-lr"]').fill(lr);
  await page.waitForFunction(() => !document.querySelector('[data-name="gpt-train"]').disabled, null, { timeout: 30000 });
}

const gptSteps = (page) => value(page, "gpt-steps");

/** Trains until at least `n` steps, then pauses; returns [first loss, last loss, tokens/s]. */
async function gptTrain(page, n) {
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= n || /Diverged|stopped/.test(document.querySelector('[data-status="gpt"]').innerText), n, { timeout: 240000 });
  if ((await page.locator('[data-name="gpt-train"]').innerText()) === "Pause") await page.locator('[data-name="gpt-train"]').click();
  const caption = await page.locator(".gpt-curves figcaption").first().innerText();
  const [last, first] = [...caption.matchAll(/(\d+\.\d+)/g)].map((m) => Number(m[1]));
  const rate = Number(await page.locator('[data-value="gpt-tokens-per-s"]').innerText());
  return [first, last, rate];
}

await test("tiny GPT trains on WebGPU and on the CPU: the badge says so, steps advance, the loss falls", async (page) => {
  await openChapter(page, "inference");
  await page.waitForFunction(() => /WebGPU is available|WebGPU adapter|lost/i.test(document.querySelector('[data-gpu-note="gpt"]').innerText) && !/Looking/.test(document.querySelector('[data-gpu-note="gpt"]').innerText), null, { timeout: 30000 });
  const note = await page.locator('[data-gpu-note="gpt"]').innerText();
  expect(note.startsWith("WebGPU is available"), `this Chromium should expose WebGPU: ${note}`);
  expect((await page.locator(".gpt-trainer .backend-badge").innerText()).includes("GPU (WebGPU)"), "GPU chosen when available");
  expect((await page.locator('[data-value="gpt-corpus"]').innerText()).includes("757618"), "the 90/10 split of the training text");
  const rates = {};
  // Each backend trains on a fresh page. The run is 400 steps long so that it is still running
  // when the check pauses it at step 25 or so: with a 30-step run, a fast CPU finished between
  // the check reading "Pause" and clicking it, and the click started a new run ("Train again").
  for (const backend of ["cpu", "gpu"]) {
    if (backend === "gpu") {
      await page.goto(page.url());
      await page.waitForSelector("article.chapter h1");
      // The widgets mount as the reader scrolls near them.
      await mountWidgets(page);
      await page.waitForFunction(() => /WebGPU is available/.test(document.querySelector('[data-gpu-note="gpt"]')?.innerText ?? ""), null, { timeout: 30000 });
    }
    await gptSetup(page, backend, 400);
    const [first, last, rate] = await gptTrain(page, 25);
    const steps = await gptSteps(page);
    expect(steps >= 25, `${backend}: ${steps} steps; status: ${await page.locator('[data-status="gpt"]').innerText()}`);
    expect((await page.locator('[data-value="gpt-on"]').innerText()) === backend.toUpperCase(), `${backend}: the progress line names the backend`);
    expect(Number.isFinite(first) && Math.abs(first - Math.log(73)) < 0.2, `${backend}: first loss ${first} is about ln 73`);
    expect(Number.isFinite(last) && last < first - 0.3, `${backend}: loss ${first} → ${last} after ${steps} steps`);
    const val = Number(await page.locator('[data-value="gpt-val-loss"]').innerText());
    expect(Number.isFinite(val) && val < first, `${backend}: held-out loss ${val}`);
    expect((await page.locator('[data-value="gpt-sample"]').innerText()).length >= 100, `${backend}: a sample is shown`);
    await page.waitForFunction(() => document.querySelector('[data-value="gpt-origin"]').innerText.includes("trained here for"), null, { timeout: 30000 });
    expect(rate > 0, `${backend}: tokens/s ${rate}`);
    rates[backend] = rate;
  }
  console.log(`     tiny GPT training (tiny preset: 1 layer, d 32, 8 × 64 tokens a step), this browser: WebGPU ${rates.gpu.toFixed(0)} tokens/s, CPU (wasm) ${rates.cpu.toFixed(0)} tokens/s`);
});

await test("tiny GPT panel: CPU training runs in a Web Worker and leaves the page responsive", async (page) => {
  await openChapter(page, "inference");
  await gptSetup(page, "cpu", 400);
  expect((await page.locator(".gpt-trainer .backend-badge").innerText()).includes("Web Worker"), "the badge says where the CPU run happens");
  expect((await page.locator('[data-value="gpt-cpu-where"]').innerText()).includes("in a Web Worker"), "the note says so too");
  // The large preset: one step takes far longer than a frame. On the page's own thread the
  // page would freeze for a whole step at a time; in the worker its timers keep firing.
  await page.locator('select[data-name="gpt-size"]').selectOption("large");
  await page.locator('[data-name="gpt-train"]').click();
  const gaps = await page.evaluate(() => new Promise((done) => {
    let last = performance.now(), worst = 0;
    const timer = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; }, 10);
    setTimeout(() => { clearInterval(timer); done(worst); }, 4000);
  }));
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 1, null, { timeout: 120000 });
  await page.locator('[data-name="gpt-train"]').click();
  const rate = await value(page, "gpt-tokens-per-s");
  // One step's time, as the worker measured it: on the page's thread, the page could not
  // run a timer for at least that long. Compared as a ratio, so a slow machine is fair.
  const stepMs = (8 * 64 * 1000) / rate;
  expect(gaps < stepMs / 2, `the page's timers stalled for ${gaps.toFixed(0)} ms while the large model trained (${stepMs.toFixed(0)} ms a step)`);
  console.log(`     large preset on the CPU worker: ${rate} tokens/s (${stepMs.toFixed(0)} ms a step); the page's longest timer gap meanwhile ${gaps.toFixed(0)} ms`);
});

await test("tiny GPT panel: a GPU lost mid-run hands its weights to the CPU worker, which trains on", async (page) => {
  await keepGpuDevices(page);
  await openChapter(page, "inference");
  await page.waitForFunction(() => /WebGPU is available/.test(document.querySelector('[data-gpu-note="gpt"]').innerText), null, { timeout: 30000 });
  await gptSetup(page, "gpu", 400);
  await page.locator('[data-name="gpt-train"]').click();
  // Past the first check (step 25), where the weights are read back from the GPU.
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 30, null, { timeout: 240000 });
  await page.evaluate(() => window.__mlbookDevices.forEach((d) => d.destroy()));
  await page.waitForFunction(() => document.querySelector(".gpt-trainer .backend-badge").dataset.backend === "cpu", null, { timeout: 30000 });
  const notice = await page.locator('[data-notice="gpt"]').innerText();
  const at = Number(notice.match(/read back at step (\d+)/)?.[1]);
  expect(/GPU was lost.*continues on the CPU/.test(notice) && at >= 25, `notice: ${notice}`);
  // It goes on by itself, from that step, in the worker, and the losses stay finite.
  await page.waitForFunction((at) => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= at + 20, at, { timeout: 120000 });
  await page.locator('[data-name="gpt-train"]').click();
  expect((await page.locator('[data-value="gpt-on"]').innerText()) === "CPU", "the progress line says CPU");
  const loss = await value(page, "gpt-loss");
  expect(Number.isFinite(loss) && loss < Math.log(73) - 0.3, `loss after the handover: ${loss}`);
  const checks = await page.locator('[data-value="gpt-val-loss"]').innerText();
  expect(Number.isFinite(Number(checks)), `held-out loss after the handover: ${checks}`);
});

await test("tiny GPT panel: switching to the CPU right after pausing a GPU run starts clean", async (page) => {
  await openChapter(page, "inference");
  await page.waitForFunction(() => /WebGPU is available/.test(document.querySelector('[data-gpu-note="gpt"]').innerText), null, { timeout: 30000 });
  await gptSetup(page, "gpu", 400);
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 3, null, { timeout: 120000 });
  // Pause and switch at once, while a chunk of GPU steps may still be on its way back.
  await page.locator('[data-name="gpt-train"]').click();
  await page.locator('select[data-name="gpt-backend"]').selectOption("cpu");
  await page.waitForTimeout(1500);
  expect((await gptSteps(page)) === 0, `the old run's steps stay out of the new one: ${await gptSteps(page)}`);
  expect((await page.locator('[data-value="gpt-on"]').innerText()) === "CPU", "on the CPU");
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 5, null, { timeout: 60000 });
  await page.locator('[data-name="gpt-train"]').click();
  const caption = await page.locator(".gpt-curves figcaption").first().innerText();
  const first = Number(caption.match(/first step (\d+\.\d+)/)?.[1]);
  expect(Math.abs(first - Math.log(73)) < 0.2, `the CPU run starts from fresh weights: first loss ${first}`);
});

await test("tiny GPT panel: without its worker, the CPU trains on the page's thread and says so", async (page) => {
  // The worker's script cannot be downloaded: the page must fall back, not hang.
  await page.route("**/train-worker.js", (route) => route.abort());
  await openChapter(page, "inference");
  await page.waitForFunction(() => /on the page's thread/.test(document.querySelector('[data-value="gpt-cpu-where"]').innerText), null, { timeout: 40000 });
  await gptSetup(page, "cpu", 400);
  expect((await page.locator(".gpt-trainer .backend-badge").innerText()).includes("page thread"), "the badge says where the CPU run happens");
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 5, null, { timeout: 60000 });
  await page.locator('[data-name="gpt-train"]').click();
  const loss = await value(page, "gpt-loss");
  expect(Number.isFinite(loss) && loss < Math.log(73), `it trains: loss ${loss}`);
  // The blocked download and the worker's failure are expected here.
  page.errors = page.errors.filter((e) => !/train-worker|importScripts|ERR_FAILED|NetworkError/.test(e));
});

await test("tiny GPT panel: pause and resume, save then load, back to the shipped model", async (page) => {
  await openChapter(page, "inference");
  await gptSetup(page, "cpu", 100);
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="gpt-steps"]').innerText) >= 3, null, { timeout: 60000 });
  await page.locator('[data-name="gpt-train"]').click();
  expect((await page.locator('[data-name="gpt-train"]').innerText()) === "Resume", "paused");
  // Steps already on their way to the worker still land; then the chapter gets the model
  // at exactly the step the progress line shows, and nothing moves while paused.
  await page.waitForFunction(() => document.querySelector('[data-value="gpt-origin"]').innerText.includes(`trained here for ${document.querySelector('[data-value="gpt-steps"]').innerText} steps`), null, { timeout: 30000 });
  const paused = await gptSteps(page);
  await page.waitForTimeout(600);
  expect((await gptSteps(page)) === paused, "no steps while paused");
  const origin = () => page.locator('[data-value="gpt-origin"]').innerText();
  expect((await origin()).includes(`trained here for ${paused} steps`), `origin after pause: ${await origin()}`);
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction((p) => Number(document.querySelector('[data-value="gpt-steps"]').innerText) > p, paused, { timeout: 60000 });
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => document.querySelector('[data-value="gpt-origin"]').innerText.includes(`trained here for ${document.querySelector('[data-value="gpt-steps"]').innerText} steps`), null, { timeout: 30000 });
  const steps = await gptSteps(page);
  expect((await origin()).includes(`trained here for ${steps} steps`), `origin after resume: ${await origin()}`);
  await page.locator('[data-name="gpt-save"]').click();
  expect((await page.locator('[data-value="gpt-store"]').innerText()).startsWith("Saved"), await page.locator('[data-value="gpt-store"]').innerText());
  await page.locator('[data-name="gpt-shipped"]').click();
  await page.waitForFunction(() => document.querySelector('[data-value="gpt-origin"]').innerText.includes("shipped"), null, { timeout: 30000 });
  await page.locator('[data-name="gpt-load"]').click();
  expect((await origin()).includes("loaded from this browser's storage"), `origin after load: ${await origin()}`);
  // Damaged storage is explained, not a crash.
  await page.evaluate(() => localStorage.setItem("mlbook.tiny-gpt.checkpoint", "not a checkpoint"));
  await page.locator('[data-name="gpt-load"]').click();
  expect((await page.locator('[data-value="gpt-store"]').innerText()).includes("damaged"), await page.locator('[data-value="gpt-store"]').innerText());
  await page.evaluate(() => localStorage.removeItem("mlbook.tiny-gpt.checkpoint"));
  await page.locator('[data-name="gpt-load"]').click();
  expect((await page.locator('[data-value="gpt-store"]').innerText()).startsWith("Nothing is saved"), "empty storage message");
});

await test("tiny GPT panel: bad settings are refused, the largest learning rate ends in 'diverged' or trains", async (page) => {
  await openChapter(page, "inference");
  for (const [name, bad] of [["gpt-lr", "0"], ["gpt-lr", "abc"], ["gpt-lr", "1e400"], ["gpt-seed", "-1"], ["gpt-steps", "5"], ["gpt-steps", "2.5"]]) {
    await page.locator(`input[data-name="${name}"]`).fill(bad);
    expect((await page.locator(`[data-error-for="${name}"]`).innerText()).length > 5, `no message for ${name}=${bad}`);
  }
  await page.locator('input[data-name="gpt-seed"]').fill("1");
  await gptSetup(page, "cpu", 25, "100");
  await page.locator('[data-name="gpt-train"]').click();
  await page.waitForFunction(() => /Diverged|Finished/.test(document.querySelector('[data-status="gpt"]').innerText), null, { timeout: 120000 });
  const status = await page.locator('[data-status="gpt"]').innerText();
  if (status.startsWith("Diverged")) expect((await page.locator('[data-status="gpt"]').getAttribute("class")).includes("diverged"), "diverged is marked");
  expect(await page.locator(".gpt-trainer").isVisible(), "panel alive");
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

// ---------------------------------------------------------------- chapter 9: word vectors
await test("word arithmetic: king - man + woman is queen, the inputs toggle, a category scores as pinned, unknown words", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.word-arithmetic");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  await widget.locator('[data-value="wa-word-0"]').waitFor({ timeout: 30000 });
  expect((await v("wa-word-0")) === "queen", `top answer ${await v("wa-word-0")}`);
  expect(Math.abs(Number(await v("wa-cos-0")) - 0.853) < 0.001, `cosine ${await v("wa-cos-0")}`);
  await widget.locator('input[data-name="wa-exclude"]').uncheck();
  expect((await v("wa-word-0")) === "king (input)", `inputs kept: ${await v("wa-word-0")}`);
  expect((await v("wa-word-1")) === "queen", `inputs kept, second: ${await v("wa-word-1")}`);
  await widget.locator('input[data-name="wa-exclude"]').check();
  await widget.locator('input[data-name="wa-a"]').fill("paris");
  await widget.locator('input[data-name="wa-b"]').fill("france");
  await widget.locator('input[data-name="wa-c"]').fill("italy");
  expect((await v("wa-word-0")) === "rome", `paris - france + italy: ${await v("wa-word-0")}`);
  await widget.locator('input[data-name="wa-c"]').fill("qwzxv");
  expect((await widget.locator('[data-error-for="wa"]').innerText()).includes("qwzxv"), "unknown word explained");
  expect((await v("wa-word-0")) === "rome", "last good answer kept");
  // Score everything, then read the family row against the engine's pinned 251, 176, 107 of 306.
  await widget.locator('button[data-name="wa-score"]').click();
  await page.waitForFunction(() => {
    const t = document.querySelector('[data-value="wa-asked"]').innerText;
    return t.startsWith("12403 of 12403");
  }, null, { timeout: 240000 });
  const family = await widget.locator("table.wa-scores tr", { hasText: "family" }).innerText();
  const total = [await v("wa-right-excluding"), await v("wa-right-including"), await v("wa-input-nearest")];
  expect(total.join(" ") === "51.9% 32.4% 51.9%", `all questions: ${total}`);
  const past = await widget.locator("table.wa-scores tr", { hasText: "past-tense" }).innerText();
  expect(past.includes("39.0%") && past.includes("10.7%"), `past-tense row: ${past}`);
  expect(family.includes("306 / 306") && family.includes("82.0%") && family.includes("57.5%") && family.includes("35.0%"), `family row: ${family}`);
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("word map: frog's neighbours, a PCA map, axes from pairs, bad pairs refused", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.word-map");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  await widget.locator('[data-value="wm-neighbour-0"]').waitFor({ timeout: 30000 });
  expect((await v("wm-neighbour-0")) === "snake", `frog's nearest ${await v("wm-neighbour-0")}`);
  expect((await widget.locator("svg.wm-map g[data-word]").count()) === 10, "ten words on the map");
  expect((await widget.locator("svg.wm-map line.wm-arrow").count()) === 5, "five pair arrows");
  await widget.locator('input[data-name="wm-axes"]').check();
  await widget.locator('input[data-name="wm-x"]').fill("he she");
  const kingX = Number(await widget.locator('svg.wm-map g[data-word="king"]').getAttribute("data-x"));
  const queenX = Number(await widget.locator('svg.wm-map g[data-word="queen"]').getAttribute("data-x"));
  expect(kingX > queenX, `king (${kingX}) lies further toward "he" than queen (${queenX})`);
  await widget.locator('input[data-name="wm-x"]').fill("he she king");
  expect((await widget.locator('[data-error-for="wm-map"]').innerText()).includes("not a pair"), "a three-word pair is refused");
  await widget.locator('input[data-name="wm-probe"]').fill("");
  expect((await widget.locator('[data-error-for="wm-probe"]').innerText()).includes("type a word"), "empty word refused");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("bias lab: the direction's variance, neutralized coordinates are zero, equalize, the lean survives", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.bias-lab");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  await widget.locator('[data-value="bias-explained-0"]').waitFor({ timeout: 30000 });
  expect((await v("bias-explained-0")) === "81.5%", `first component ${await v("bias-explained-0")}`);
  expect((await v("bias-before-nurse")).startsWith("-"), `nurse leans to the second word: ${await v("bias-before-nurse")}`);
  expect((await v("bias-after-nurse")) === "0.000", `neutralized nurse ${await v("bias-after-nurse")}`);
  const eq = await v("bias-equalize");
  expect(eq.includes("0.552 and 0.634 before equalizing, 0.593 and 0.593 after"), `equalize: ${eq}`);
  await widget.locator('button[data-name="bias-check"]').click();
  await widget.locator('[data-value="bias-classifier-after"]').waitFor({ timeout: 60000 });
  expect((await v("bias-classifier-before")) === "100.0%", `before ${await v("bias-classifier-before")}`);
  expect((await v("bias-classifier-after")) === "78.5%", `after ${await v("bias-classifier-after")}`);
  expect((await v("bias-neighbours-after")) === "87.2%", `neighbours after ${await v("bias-neighbours-after")}`);
  await widget.locator('input[data-name="bias-per-side"]').fill("5");
  expect((await widget.locator('[data-error-for="bias-per-side"]').innerText()).length > 5, "too few words refused");
  await widget.locator('input[data-name="bias-pairs"]').fill("he");
  expect((await widget.locator('[data-error-for="bias"]').innerText()).includes("not a pair"), "a single word is refused");
  expect((await v("bias-explained-0")) === "81.5%", "last good direction kept");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("word-vector trainer: skip-gram on Shakespeare matches the engine's pinned run, PPMI + SVD beside it, the shift empties \"the\", bad input", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.word-vector-trainer");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  const train = widget.locator('button[data-name="wt-train"]');
  await page.waitForFunction(() => !document.querySelector('.word-vector-trainer button[data-name="wt-train"]').disabled, null, { timeout: 30000 });
  await train.click();
  expect((await train.innerText()) === "Pause", "training starts");
  await page.waitForFunction(() => document.querySelector('[data-value="wt-epochs-done"]').innerText === "5", null, { timeout: 180000 });
  expect((await train.innerText()) === "Train", "stops after the planned passes");
  expect((await v("wt-pairs")) === "4940730", `pairs ${await v("wt-pairs")}`);
  expect((await v("wt-sg-thou")) === "hast, art, shalt, thy, wilt, wouldst", `thou: ${await v("wt-sg-thou")}`);
  await widget.locator('button[data-name="wt-factorize"]').click();
  await page.waitForFunction(() => document.querySelector('[data-value="wt-pp-thou"]').innerText.includes(","), null, { timeout: 60000 });
  expect((await v("wt-pp-thou")) === "art, hast, canst, didst, thee, thy", `PPMI thou: ${await v("wt-pp-thou")}`);
  expect((await v("wt-pp-king")).startsWith("queen, laertes, hamlet"), `PPMI king: ${await v("wt-pp-king")}`);
  await widget.locator('input[data-name="wt-shift"]').check();
  await widget.locator('button[data-name="wt-factorize"]').click();
  await page.waitForFunction(() => document.querySelector('[data-value="wt-ppmi-note"]').innerText.includes("No factorization"), null, { timeout: 60000 });
  expect((await v("wt-ppmi-note")).includes("\u201cthe\u201d has no positive PMI"), `shifted: ${await v("wt-ppmi-note")}`);
  await widget.locator('input[data-name="wt-probes"]').fill("thou zzyzx");
  expect((await widget.locator('[data-error-for="wt"]').innerText()).includes("zzyzx"), "unknown word named");
  expect((await v("wt-sg-thou")) === "hast, art, shalt, thy, wilt, wouldst", "last good table kept");
  await widget.locator('input[data-name="wt-lr"]').fill("-1");
  expect((await widget.locator('[data-error-for="wt-lr"]').innerText()).length > 5, "a negative learning rate is refused");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

// SwiftShader is slow, so the WebGPU run is short: a few chunks of 1,500 words.
await test("word-vector trainer on WebGPU: the note and badge name WebGPU, the loss falls over a few chunks, the neighbours come from the GPU's weights", async (page) => {
  await openChapter(page, "embeddings");
  const w = page.locator(".widget.word-vector-trainer");
  const v = (name) => w.locator(`[data-value="${name}"]`).innerText();
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="wt"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  const note = await w.locator('[data-gpu-note="wt"]').innerText();
  expect(!(await w.locator('select[data-name="wt-backend"] option[value="gpu"]').isDisabled()), `no WebGPU: ${note}`);
  expect(note.includes("WebGPU is available") && note.includes("minibatches of 1,024"), `note: ${note}`);
  await page.waitForFunction(() => !document.querySelector('.word-vector-trainer button[data-name="wt-train"]').disabled, null, { timeout: 30000 });
  expect((await w.locator(".backend-badge").getAttribute("data-backend")) === "cpu", "the CPU is the default");
  const before = await v("wt-sg-thou");
  await w.locator('select[data-name="wt-backend"]').selectOption("gpu");
  await page.waitForFunction(() => document.querySelector(".widget.word-vector-trainer .backend-badge").dataset.backend === "gpu", null, { timeout: 20000 });
  const badge = await w.locator(".backend-badge").innerText();
  expect(badge.includes("GPU (WebGPU)"), `badge: ${badge}`);
  const train = w.locator('button[data-name="wt-train"]');
  await train.click();
  await page.waitForFunction(() => document.querySelector('[data-value="wt-loss"]').innerText !== "\u2014", null, { timeout: 60000 });
  const first = Number(await v("wt-loss"));
  const pairs = Number(await v("wt-pairs"));
  await page.waitForFunction((p) => Number(document.querySelector('[data-value="wt-pairs"]').innerText) >= 5 * p, pairs, { timeout: 180000 });
  await train.click();
  expect((await train.innerText()) === "Train", "paused");
  const last = Number(await v("wt-loss"));
  expect(first < 6 * Math.LN2 && last < first - 0.1, `loss ${first} then ${last}`);
  const after = await v("wt-sg-thou");
  expect(after.split(", ").length === 6 && after !== before, `thou: ${before} then ${after}`);
  expect((await w.locator(".backend-badge").getAttribute("data-backend")) === "gpu", "still on the GPU");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

// ---------------------------------------------------------------- phones
await test("attention masks: 36 and 21 pairs for six words, 262,144 and 131,328 for T = 512, who sees whom, bad input", async (page) => {
  await openChapter(page, "bert-vs-gpt");
  const lab = page.locator(".widget.attention-masks");
  const number = (name) => lab.locator(`[data-value="${name}"]`).getAttribute("data-number").then(Number);
  expect((await value(page, "am-t")) === 6, "six words");
  expect((await value(page, "am-pairs-bidirectional")) === 36 && (await value(page, "am-pairs-causal")) === 21, "36 and 21 pairs");
  expect((await number("am-length-bidirectional")) === 262144 && (await number("am-length-causal")) === 131328, "T = 512");
  expect((await lab.locator('[data-value="am-length-share"]').innerText()) === "0.50098", "just over half");
  // The third word sees all six words both ways, and three under the causal mask; the last sees six.
  expect((await value(page, "am-sees-bidirectional")) === 6 && (await value(page, "am-sees-causal")) === 3, "query 3 sees 6 and 3");
  await lab.locator('[data-mask="causal"] button[data-query="5"]').click();
  expect((await value(page, "am-sees-causal")) === 6, "the last word sees everything");
  expect((await lab.locator('[data-mask="causal"] tr.picked td.on').count()) === 6, "its row is all ones");
  // Four words: 16 and 10, and the query moves back inside the sentence.
  await lab.locator('input[data-name="am-text"]').fill("a b c d");
  expect((await value(page, "am-pairs-bidirectional")) === 16 && (await value(page, "am-pairs-causal")) === 10, "16 and 10");
  expect((await value(page, "am-sees-causal")) === 4, "query 4 sees 4");
  // Empty text and seventeen words are refused; the last good sentence stays.
  await lab.locator('input[data-name="am-text"]').fill("  ");
  expect((await lab.locator('[data-error-for="am-text"]').innerText()).includes("at least one word"), "empty refused");
  await lab.locator('input[data-name="am-text"]').fill("w ".repeat(17));
  expect((await lab.locator('[data-error-for="am-text"]').innerText()).includes("at most 16"), "17 words refused");
  expect((await value(page, "am-t")) === 4 && (await value(page, "am-pairs-causal")) === 10, "last good sentence kept");
  // T = 4 by number: 16 and 10; T = 0 is refused and the counts stay.
  await lab.locator('input[data-name="am-length"]').fill("4");
  expect((await number("am-length-bidirectional")) === 16 && (await number("am-length-causal")) === 10, "T = 4");
  await lab.locator('input[data-name="am-length"]').fill("0");
  expect((await lab.locator('[data-error-for="am-length"]').innerText()).length > 5 && (await number("am-length-causal")) === 10, "T = 0 refused");
});

await test("mlm corruption: 7 of 46 words chosen and coloured, 77 of 512 with 61.6 expected, re-roll and replay, bad input", async (page) => {
  await openChapter(page, "bert-vs-gpt");
  const lab = page.locator(".widget.mlm-corruption");
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  const colours = () => lab.locator(".mlm-tokens .mlm-token").evaluateAll((els) => els.map((e) => e.className).join("|"));
  expect((await value(page, "mlm-n")) === 46 && (await value(page, "mlm-chosen")) === 7, "7 of 46 chosen");
  const [m, r, k] = [await value(page, "mlm-masked"), await value(page, "mlm-random"), await value(page, "mlm-kept")];
  expect(m === 5 && r === 1 && k === 1, `seed 6 splits 5/1/1: ${m}/${r}/${k}`);
  expect((await lab.locator(".mlm-tokens .masked").count()) === m && (await lab.locator(".mlm-tokens .random").count()) === r, "coloured as counted");
  expect((await lab.locator(".mlm-tokens .kept").count()) === k, "kept coloured");
  expect((await text("mlm-expected-masked")) === "5.6" && (await text("mlm-expected-kept")) === "0.7", "expected 5.6 and 0.7");
  expect((await lab.locator(".mlm-tokens .masked").first().innerText()).startsWith("[MASK]"), "a masked word reads [MASK]");
  // The 512-token window: 76.8 rounds to 77; the expected split 61.6 / 7.7 / 7.7; the mean of 1,000 rolls is close.
  expect((await text("mlm-window-share")) === "76.80" && (await value(page, "mlm-window-chosen")) === 77, "77 of 512");
  expect((await text("mlm-window-expected")) === "61.60 / 7.70 / 7.70", "expected split");
  const means = (await text("mlm-window-mean")).split(" / ").map(Number);
  expect(Math.abs(means[0] - 61.6) < 0.6 && Math.abs(means[0] + means[1] + means[2] - 77) < 1e-9, `means ${means}`);
  expect((await lab.locator("rect.mlm-bar").count()) > 10 && (await lab.locator("line.mlm-expected").count()) === 1, "histogram drawn");
  // Re-roll moves to seed 7; typing seed 6 replays the first roll.
  const first = await colours();
  await lab.locator('button[data-name="mlm-reroll"]').click();
  expect((await lab.locator('input[data-name="mlm-seed"]').inputValue()) === "7" && (await value(page, "mlm-chosen")) === 7, "seed 7, still 7");
  await lab.locator('input[data-name="mlm-seed"]').fill("6");
  expect((await colours()) === first, "seed 6 replays");
  // A 10-token window: 1.5 rounds to 2 targets.
  await lab.locator('input[data-name="mlm-window"]').fill("10");
  expect((await value(page, "mlm-window-chosen")) === 2, "2 of 10");
  // Empty text is refused and the last passage kept.
  await lab.locator('textarea[data-name="mlm-text"]').fill(" ");
  expect((await lab.locator('[data-error-for="mlm-text"]').innerText()).includes("at least one word"), "empty refused");
  expect((await value(page, "mlm-n")) === 46 && (await colours()) === first, "last passage kept");
  await lab.locator('input[data-name="mlm-window"]').fill("0");
  expect((await lab.locator('[data-error-for="mlm-window"]').innerText()).length > 5 && (await value(page, "mlm-window-chosen")) === 2, "window 0 refused");
});

await test("span corruption: 33 words, 5 in 2 spans, the pinned sentinels, re-roll, the paper's sentence, bad input", async (page) => {
  await openChapter(page, "bert-vs-gpt");
  const lab = page.locator(".widget.span-corruption");
  const joined = (name) => lab.locator(`[data-value="${name}"]`).getAttribute("data-text");
  expect((await value(page, "t5-n")) === 33 && (await value(page, "t5-noise")) === 5 && (await value(page, "t5-spans")) === 2, "33, 5, 2");
  expect((await joined("t5-target")) === "<extra_id_0> out only the <extra_id_1> the input", `target ${await joined("t5-target")}`);
  expect((await joined("t5-input")).includes("writes <extra_id_0> missing spans") && (await joined("t5-input")).endsWith("gap in <extra_id_1>"), "input");
  expect((await lab.locator(".t5-row").first().locator(".noise").count()) === 5, "five words coloured");
  await lab.locator('button[data-name="t5-reroll"]').click();
  expect((await lab.locator('input[data-name="t5-seed"]').inputValue()) === "7", "seed 7");
  const target = await joined("t5-target");
  expect(target.startsWith("<extra_id_0>") && target.split(" ").length === 5 + 2, `re-rolled target ${target}`);
  // Eleven words: round(1.65) = 2 noise words in one span, which always ends the text.
  await lab.locator('textarea[data-name="t5-text"]').fill("Thank you for inviting me to your party last week .");
  expect((await joined("t5-input")) === "Thank you for inviting me to your party last <extra_id_0>", `input ${await joined("t5-input")}`);
  expect((await joined("t5-target")) === "<extra_id_0> week .", "target");
  // One word is refused and the last text kept.
  await lab.locator('textarea[data-name="t5-text"]').fill("one");
  expect((await lab.locator('[data-error-for="t5-text"]').innerText()).includes("at least two words"), "one word refused");
  expect((await value(page, "t5-n")) === 11 && (await joined("t5-target")) === "<extra_id_0> week .", "last text kept");
});

await test("superposition lab: dense features keep m = 2, sparse ones (S = 0.9) pack all five; bad m explained", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.superposition");
  await lab.scrollIntoViewIfNeeded();
  const train = async () => {
    await lab.locator('[data-name="sup-train"]').click();
    await page.waitForFunction(() => document.querySelector('[data-value="sup-steps"]')?.textContent === "3000", null, { timeout: 60000 });
  };
  // The default: n = 5, m = 2, S = 0.9, seed 1 (the engine's test: a regular pentagon).
  expect((await lab.locator(".feature-arrow").count()) === 5, "five arrows");
  await train();
  const sparse = await value(page, "sup-represented");
  expect(sparse > 2, `S = 0.9: ${sparse} features with norm > 0.5, want more than m = 2`);
  for (let i = 0; i < 5; i++) {
    const n = await value(page, `sup-norm-${i}`);
    expect(n > 1 && n < 1.2, `S = 0.9: norm ${i} is ${n}`);
  }
  expect((await value(page, "sup-loss")) > 0, "a loss is shown");
  await slide(page, "sup-sparsity", 0);
  expect((await value(page, "sup-steps")) === 0, "changing S restarts");
  await train();
  expect((await value(page, "sup-represented")) === 2, "S = 0: exactly m = 2 features kept");
  expect((await value(page, "sup-norm-2")) < 0.1, "the third feature is dropped");
  await lab.locator('input[data-name="sup-m"]').fill("6");
  expect((await lab.locator('[data-status="sup"]').innerText()).includes("fewer than the features"), "m >= n is explained");
  await lab.locator('input[data-name="sup-m"]').fill("3");
  await lab.locator('input[data-name="sup-n"]').fill("8");
  expect((await lab.locator("figure.matrix td").count()) === 64, "m = 3: W^T W as an 8 x 8 heatmap");
  await lab.locator('input[data-name="sup-decay"]').fill("x");
  expect((await lab.locator('[data-error-for="sup-decay"]').innerText()).includes("not a number"), "bad decay message");
});

await test("random cosines: standard deviation near 1/sqrt(d), the worst of 100,000 vectors near 0.1", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.cosines");
  await lab.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-status="cos"]')?.textContent === "", null, { timeout: 60000 });
  expect((await lab.locator("figure.cos-hist").count()) === 3, "three histograms");
  expect((await lab.locator("figure[data-dim='256'] rect.cos-bar").count()) > 5, "d = 256 histogram drawn");
  const std = await value(page, "cos-std-256");
  expect(Math.abs(std - 1 / 16) < 0.05 / 16, `d = 256: std ${std}, 1/sqrt(d) = 0.0625`);
  const wide = await value(page, "cos-std-4096");
  expect(Math.abs(wide - 1 / 64) < 0.05 / 64, `d = 4096: std ${wide}`);
  expect(Math.abs((await value(page, "cos-worst")) - 0.1) < 5e-4, "worst of 100,000 vectors in 4,096 dimensions");
  await lab.locator('input[data-name="cos-vectors"]').fill("0");
  expect((await lab.locator('[data-error-for="cos-vectors"]').innerText()).includes("from 2"), "bad count explained");
  expect((await value(page, "cos-std-256")) === std, "last good run kept");
});

await test("mixed-precision lab: FP16 without loss scaling never moves, BF16 and scaled FP16 train like FP32, master weights matter", async (page) => {
  await openChapter(page, "training-pipeline");
  const lab = page.locator(".widget.mixed-precision");
  const num = (name) => lab.locator(`[data-value="${name}"]`).getAttribute("data-number").then(Number);
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  const run = async () => {
    await lab.locator('button[data-name="mp-train"]').click();
    await page.waitForFunction(() => document.querySelector('[data-status="mp"]').innerText.startsWith("Finished"), null, { timeout: 180000 });
  };
  expect((await text("mp-steps")) === "0", "starts at step 0");
  await run();
  expect((await text("mp-steps")) === "1500", `steps ${await text("mp-steps")}`);
  const [fp32, bf16, fp16, stat, dyn] = await Promise.all(["fp32", "bf16", "fp16", "fp16-static", "fp16-dynamic"].map((k) => num(`mp-loss-${k}`)));
  const near = (a, b, tol) => Math.abs(a - b) <= tol;
  expect(near(fp32, 0.003484, 1e-5) && near(bf16, 0.003467, 1e-5), `FP32 ${fp32}, BF16 ${bf16}`);
  expect(near(fp16, 0.266, 1e-4) && (await num("mp-flushed-fp16")) === 1, `FP16 unscaled stuck at ${fp16}, flushed ${await num("mp-flushed-fp16")}`);
  expect(near(stat, 0.003492, 1e-5) && near(dyn, 0.003499, 1e-5), `static ${stat}, dynamic ${dyn}`);
  expect((await text("mp-skipped-fp16-dynamic")) === "4" && (await text("mp-scale-fp16-dynamic")) === "2^42", `dynamic: ${await text("mp-skipped-fp16-dynamic")} skipped, scale ${await text("mp-scale-fp16-dynamic")}`);
  expect((await lab.locator(".mp-curves path.series").count()) === 5, "five curves");
  expect((await lab.locator(".mp-hist rect.bar").count()) > 0, "FP16's histogram has bars");
  expect(Number(await lab.locator(".mp-hist rect.bar").last().getAttribute("data-log2")) < -25, "all of them below 2^-25");
  // Without master weights BF16 loses its small updates.
  await lab.locator('input[data-name="mp-master"]').uncheck();
  expect((await text("mp-steps")) === "0", "unticking restarts");
  await run();
  expect(near(await num("mp-loss-bf16"), 0.013434, 1e-5) && near(await num("mp-loss-fp32"), fp32, 0), `BF16 without master ${await num("mp-loss-bf16")}`);
  // Bad input is refused and the last good run kept.
  await lab.locator('input[data-name="mp-lr"]').fill("abc");
  expect((await lab.locator('[data-error-for="mp-lr"]').innerText()).length > 5, "bad learning rate explained");
  await lab.locator('input[data-name="mp-shrink"]').fill("99");
  expect((await lab.locator('[data-error-for="mp-shrink"]').innerText()).length > 5, "bad shrink explained");
  expect((await text("mp-steps")) === "1500", "the finished run is kept");
});

await test("parallelism lab: p=4, m=8 bubble 3/11 for GPipe and 1F1B, peaks in flight, traffic, bad layouts refused", async (page) => {
  await openChapter(page, "training-pipeline");
  const widget = page.locator(".widget.parallelism");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  const field = (name) => widget.locator(`input[data-name="${name}"]`);
  // The opening layout: LLaMA-7B, 2 data × 2 tensor × 4 stages, 8 micro-batches.
  expect((await v("par-gpus")) === "16", `GPUs ${await v("par-gpus")}`);
  for (const name of ["par-gpipe-bubble", "par-1f1b-bubble", "par-formula"]) {
    expect((await v(name)) === "27.27%", `${name} ${await v(name)}`);
  }
  expect((await v("par-gpipe-peak")) === "8, 8, 8, 8", `GPipe peaks ${await v("par-gpipe-peak")}`);
  expect((await v("par-1f1b-peak")) === "4, 3, 2, 1", `1F1B peaks ${await v("par-1f1b-peak")}`);
  // Both charts: 4 rows of 16 boxes.
  expect((await widget.locator(".gantt").first().locator("rect.gantt-forward, rect.gantt-backward").count()) === 64, "64 passes drawn");
  // GPT-2 small on the engine test's layout: 4 × 2 × 3 = 24 GPUs, 124,439,808 / 6 parameters each.
  await widget.locator('select[data-name="par-preset"]').selectOption("gpt2-small");
  await field("par-data").fill("4");
  await field("par-pipeline").fill("3");
  await field("par-micro-size").fill("2");
  await field("par-seq").fill("1024");
  expect((await v("par-gpus")) === "24", `GPUs ${await v("par-gpus")}`);
  expect((await v("par-params")) === "20,739,968", `params ${await v("par-params")}`);
  expect((await v("par-layers")) === "4 of 12" && (await v("par-heads")) === "6 of 12", "layers and heads per GPU");
  // Pipeline: 8 micro-batches × 2 directions × (2·1024·768 values × 2 bytes) = 50.33 MB.
  expect((await v("par-pipeline-bytes")) === "50.33 MB", `pipeline bytes ${await v("par-pipeline-bytes")}`);
  // p = 3, m = 8: 2/10 = 20% simulated for both schedules.
  expect((await v("par-gpipe-bubble")) === "20.00%" && (await v("par-1f1b-bubble")) === "20.00%", "p=3 bubble");
  // A pipeline degree that does not divide 12 layers, and a zero degree: the engine's message, last layout kept.
  await field("par-pipeline").fill("5");
  expect((await v("par-error")).includes("12 layers do not split evenly into 5 stages"), `message ${await v("par-error")}`);
  expect((await v("par-gpus")) === "24", "last good layout kept");
  await field("par-pipeline").fill("3");
  await field("par-tensor").fill("0");
  expect((await v("par-error")).includes("at least 1"), `zero message ${await v("par-error")}`);
  await field("par-tensor").fill("2");
  expect((await v("par-error")) === "", "message gone");
  await field("par-micro").fill("2.5");
  expect((await widget.locator('[data-error-for="par-micro"]').innerText()).includes("whole number"), "fraction refused");
});

await test("near-duplicate search: the passages' Jaccard 92/122, the banding curve, every speech searched", async (page) => {
  await openChapter(page, "training-pipeline");
  const widget = page.locator(".widget.near-dup");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  const field = (name) => widget.locator(`input[data-name="${name}"]`);
  // The soliloquy and its copy with three words changed, k = 5: 107 shingles each, J = 92/122.
  expect((await v("nd-size-a")) === "107" && (await v("nd-size-b")) === "107", "shingle counts");
  expect((await v("nd-exact")) === "0.754", `exact ${await v("nd-exact")}`);
  expect((await v("nd-probability")) === "0.9963", `candidate probability ${await v("nd-probability")}`);
  const estimate = Number(await v("nd-estimate"));
  expect(Math.abs(estimate - 0.754) < 0.15, `estimate ${estimate}`);
  // The same text twice: J = 1, and the dot moves to the curve's top right.
  const cx = await widget.locator('[data-value="nd-marker"]').getAttribute("cx");
  await widget.locator('textarea[data-name="nd-b"]').fill(await widget.locator('textarea[data-name="nd-a"]').inputValue());
  expect((await v("nd-exact")) === "1.000" && (await v("nd-estimate")) === "1.000", "identical passages");
  expect((await widget.locator('[data-value="nd-marker"]').getAttribute("cx")) !== cx, "marker moved");
  // An empty passage is refused and the last good one kept.
  await widget.locator('textarea[data-name="nd-b"]').fill("   ");
  expect((await widget.locator('[data-error-for="nd-b"]').innerText()).includes("at least one word"), "empty passage refused");
  expect((await v("nd-exact")) === "1.000", "last good passage kept");
  // A banding larger than the signature: the engine's message, the last banding kept.
  await field("nd-rows").fill("6");
  expect((await v("nd-error")).includes("need 120 hash values"), `banding message ${await v("nd-error")}`);
  await field("nd-rows").fill("5");
  expect((await v("nd-error")) === "", "message gone");
  // Every speech: 261 pairs at J ≥ 0.5, and banding proposes exactly those.
  await widget.locator('button[data-name="nd-search"]').click();
  await widget.locator('[data-status="nd"]').filter({ hasText: "Searched all 5528 speeches" }).waitFor({ timeout: 60000 });
  const counts = async () => [await v("nd-similar"), await v("nd-candidates"), await v("nd-found"), await v("nd-precision"), await v("nd-recall")].join("|");
  expect((await counts()) === "261|261|261|1.000|1.000", `k=5 search ${await counts()}`);
  expect((await widget.locator(".nd-list li").count()) === 8, "eight candidates listed");
  // k = 3 searches again: 267 near-duplicates, 273 candidates, 265 found.
  await field("nd-k").fill("3");
  await widget.locator('[data-status="nd"]').filter({ hasText: "Searched all" }).waitFor({ timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('.near-dup [data-value="nd-similar"]').innerText === "267", null, { timeout: 60000 });
  expect((await counts()) === "267|273|265|0.971|0.993", `k=3 search ${await counts()}`);
  // One row per band: 7,052 candidates, precision 0.038 (recomputed without searching again).
  await field("nd-bands").fill("100");
  await field("nd-rows").fill("1");
  expect((await counts()) === "267|7052|267|0.038|1.000", `r=1 ${await counts()}`);
});

await test("GPT-2 tokenizer: Hello world is [15496, 995], the default sentence 19 tokens, empty text, emoji and CJK bytes, a failed download", async (page) => {
  await openChapter(page, "training-pipeline");
  const widget = page.locator(".widget.gpt2");
  const v = (name) => widget.locator(`[data-value="${name}"]`).innerText();
  const type = (text) => widget.locator('textarea[data-name="gpt2-text"]').fill(text);
  await widget.locator('[data-value="gpt2-count"]').waitFor({ timeout: 30000 });
  // The default sentence: 49 characters in 19 tokens, two of them lone spaces.
  expect((await v("gpt2-count")) === "19" && (await v("gpt2-chars")) === "49" && (await v("gpt2-cpt")) === "2.58", `default ${await v("gpt2-count")} ${await v("gpt2-cpt")}`);
  expect((await v("gpt2-ids")) === "3987, 470, 13619, 25, 362, 11, 47202, 16326, 220, 220, 1575, 10432, 18, 13, 1120, 851, 41492, 30, 32485", `default ids ${await v("gpt2-ids")}`);
  const labels = await widget.locator(".gpt2-token .gpt2-text").allInnerTexts();
  expect(labels.slice(0, 3).join("|") === "Don|'t|·panic" && labels[18] === "·🙂", `labels ${labels.join("|")}`);
  await type("Hello world");
  expect((await v("gpt2-ids")) === "15496, 995" && (await v("gpt2-count")) === "2" && (await v("gpt2-cpt")) === "5.50", `Hello world ${await v("gpt2-ids")}`);
  expect((await widget.locator('.gpt2-token[data-id="995"]').getAttribute("title")).includes("id 995 · bytes 20 77 6F 72 6C 64"), "hover title");
  // No text: no tokens, no error.
  await type("");
  expect((await v("gpt2-count")) === "0" && (await v("gpt2-cpt")) === "—" && (await v("gpt2-ids")) === "", "empty text");
  expect((await widget.locator('[data-error-for="gpt2-text"]').innerText()) === "", "no error for empty text");
  // An emoji and two CJK characters: 4 characters, 7 tokens, each a piece of UTF-8 bytes.
  await type("🙂 東京");
  expect((await v("gpt2-ids")) === "8582, 25081, 10545, 251, 109, 12859, 105" && (await v("gpt2-cpt")) === "0.57", `CJK ${await v("gpt2-ids")}`);
  expect((await widget.locator(".gpt2-token.byte").count()) === 7, "seven partial-byte tokens");
  expect((await widget.locator(".gpt2-token .gpt2-text").allInnerTexts()).join("|") === "<F0><9F>|<99><82>|·<E6>|<9D>|<B1>|<E4><BA>|<AC>", "byte labels");
  // Too long a text is refused and the last one kept.
  await type("a".repeat(501));
  expect((await widget.locator('[data-error-for="gpt2-text"]').innerText()).includes("at most 500") && (await v("gpt2-count")) === "7", "long text refused");
  // The chapter's BPE, 1,000 merges on Shakespeare in the page: 37 tokens for the default
  // sentence (white space left out), and "Hello world" as He, ll, o, world.
  await type("Don't panic: 2,048 tokens   cost €3.50 — naïve? 🙂");
  await widget.locator('button[data-name="gpt2-train-book"]').click();
  await widget.locator('[data-value="gpt2-book-status"]').filter({ hasText: "Trained: 1,000 merges" }).waitFor({ timeout: 90000 });
  expect((await v("gpt2-book-status")).includes("a vocabulary of 1,071 symbols"), `book status ${await v("gpt2-book-status")}`);
  // The trainer's own time in this page (reported, not asserted: speed is for the benchmarks).
  const bookMs = Number(await widget.locator('[data-value="gpt2-book-ms"]').getAttribute("data-number"));
  console.log(`     1,000 BPE merges on the tragedies in this browser: ${bookMs.toFixed(0)} ms of computation, counting included`);
  expect(bookMs > 0, "the computation time is shown");
  const ratio = Number(await widget.locator('[data-value="gpt2-book-ratio"]').getAttribute("data-number"));
  expect(Math.abs(ratio - 0.4) < 0.0005, `symbols per character after 1,000 merges: ${ratio}`);
  expect((await widget.locator("svg.line-chart path.series").count()) === 1, "the tokens-per-character curve is drawn");
  expect((await v("gpt2-book-count")) === "37" && (await v("gpt2-count")) === "19", `book count ${await v("gpt2-book-count")}`);
  await type("Hello world");
  expect((await widget.locator('[data-value="gpt2-book-tokens"] .gpt2-text').allInnerTexts()).join("|") === "He|ll|o|world", "book Hello world");
  expect((await v("gpt2-book-status")).includes("in a Web Worker"), `the run happens off the page's thread: ${await v("gpt2-book-status")}`);
  // The reader's own run: a refused count keeps the last good one; then 300 merges with the
  // end-of-word marker and alphabetical ties (pinned natively).
  const merges = widget.locator('input[data-name="gpt2-book-merges"]');
  await merges.fill("5001");
  expect((await widget.locator('[data-error-for="gpt2-book-merges"]').innerText()).includes("from 1 to 5,000"), "too many merges refused");
  await merges.fill("300");
  await widget.locator('input[data-name="gpt2-book-eow"]').check();
  await widget.locator('select[data-name="gpt2-book-tie"]').selectOption("alphabetical");
  await widget.locator('button[data-name="gpt2-train-book"]').click();
  await widget.locator('[data-value="gpt2-book-status"]').filter({ hasText: "Trained: 300 merges" }).waitFor({ timeout: 90000 });
  expect((await v("gpt2-book-status")).includes("a vocabulary of 372 symbols"), `300-merge status ${await v("gpt2-book-status")}`);
  const ratio300 = Number(await widget.locator('[data-value="gpt2-book-ratio"]').getAttribute("data-number"));
  expect(Math.abs(ratio300 - 0.5734) < 0.0001, `symbols per character after 300 merges with </w>: ${ratio300}`);
  expect((await widget.locator('[data-value="gpt2-book-tokens"] .gpt2-text').allInnerTexts()).join("|") === "H|e|ll|o</w>|wor|ld</w>", "book Hello world with </w>");
  // Without the vocabulary file, the widget says so.
  const offline = await newPage();
  try {
    await offline.route("**/gpt2/r50k_base.tiktoken", (route) => route.abort());
    await openChapter(offline, "training-pipeline");
    const failed = offline.locator('.widget.gpt2 [data-error-for="gpt2-vocabulary"]');
    await failed.waitFor({ timeout: 30000 });
    expect((await failed.innerText()).includes("GPT-2's vocabulary could not be loaded"), `failure ${await failed.innerText()}`);
  } finally {
    await offline.context().close();
  }
});

await test("knowledge stack: one live number per layer, and its links open the chapters", async (page) => {
  await openChapter(page, "synthesis");
  const lab = page.locator(".widget.knowledge-stack");
  await lab.scrollIntoViewIfNeeded();
  const text = (level) => lab.locator(`[data-value="ks-${level}"]`).innerText();
  expect((await lab.locator("li.ks-layer").count()) === 6, "six layers");
  expect((await text(1)) === "0.268536" && (await text(3)) === "0.4392" && (await text(4)) === "0.9471", "chapter 1's loss and exercise 11.2");
  expect(Number(await text(2)) < 1e-9, `backprop against finite differences: ${await text(2)}`);
  expect((await text(5)) === "108,352" && (await text(6)) === "0.5855", "parameters and the aligned policy");
  await lab.locator('li[data-level="2"] a', { hasText: "Chapter 8" }).click();
  await page.waitForFunction(() => location.pathname.endsWith("/optimizers.html"));
  expect((await page.locator("article.chapter h1").innerText()).includes("Optimizers"), "the link opens chapter 8");
});

await test("one gradient: exercise 11.2 by SGD and by Adam's first step, then edited inputs and bad ones", async (page) => {
  await openChapter(page, "synthesis");
  const lab = page.locator(".widget.one-gradient");
  await lab.scrollIntoViewIfNeeded();
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  await lab.locator('[data-value="og-loss"]').waitFor();
  expect((await text("og-p-0")) === "0.2664" && (await text("og-p-1")) === "0.4392" && (await text("og-loss")) === "1.3228", "(a) probabilities and loss");
  expect((await text("og-u-0")) === "[0.5734, 0.1467]" && (await text("og-loss-after")) === "0.9471", "(b) the SGD step");
  await lab.locator('select[data-name="og-rule"]').selectOption("adam");
  expect((await text("og-u-0")) === "[0.6000, 0.1000]" && (await text("og-p-after-0")) === "0.3982" && (await text("og-loss-after")) === "0.9208", "(c) Adam's first step");
  await lab.locator('textarea[data-name="U"]').fill("0.5 0\n0 0.5");
  expect((await lab.locator("tbody tr").count()) === 2, "two tokens");
  await lab.locator('textarea[data-name="U"]').fill("0.5 0\n0 0.5 1");
  expect((await lab.locator('[data-error-for="og-inputs"]').innerText()).includes("row 2"), "ragged embeddings refused");
  expect((await lab.locator("tbody tr").count()) === 2, "last good step kept");
  await lab.locator('input[data-name="og-h"]').fill("1, two");
  expect((await lab.locator('[data-error-for="og-inputs"]').innerText()).includes("“two”"), "bad h refused");
});

await test("DPO lab: the exact optimum, DPO on expected preferences reaching it, 200 sampled pairs landing near it", async (page) => {
  await openChapter(page, "synthesis");
  const lab = page.locator(".widget.dpo-lab");
  await lab.scrollIntoViewIfNeeded();
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  await lab.locator('[data-value="dpo-star-0"]').waitFor();
  expect((await text("dpo-star-0")) === "0.5855" && (await text("dpo-star-3")) === "0.0064", "π* at β = 1");
  expect((await text("dpo-obj-ref")) === "0.6000" && (await text("dpo-obj-star")) === "1.1489", "the objective at π_ref and π*");
  await lab.locator('button[data-name="dpo-train"]').click();
  await lab.locator('[data-value="dpo-steps"]').filter({ hasText: "2000 of 2000" }).waitFor({ timeout: 60000 });
  expect((await text("dpo-expected-0")) === "0.5855" && (await text("dpo-expected-2")) === "0.0634", "DPO on expected preferences reaches π*");
  expect((await text("dpo-sampled-0")) === "0.5431" && (await text("dpo-sampled-3")) === "0.0125" && (await text("dpo-obj-sampled")) === "1.1404", "200 sampled pairs");
  expect((await text("dpo-gap-sampled")) === "8.54e-3", `KL of the sampled run: ${await text("dpo-gap-sampled")}`);
  expect((await lab.locator("svg.line-chart path.series").count()) === 2, "two KL curves");
  await lab.locator('input[data-name="dpo-reference"]').fill("0.5, 0.6, 0, 0");
  expect((await lab.locator('[data-error-for="dpo-toy"]').innerText()).includes("above 0"), "a zero reference probability refused");
  expect((await text("dpo-star-0")) === "0.5855", "last good toy kept");
});

await test("induction heads: seed 1 drops the repeated-token loss at steps 460-550, one layer stays at 2.303, ablating L1H1 undoes it", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.induction");
  await lab.scrollIntoViewIfNeeded();
  // The engine's numbers on the CPU (the WebGPU run is checked below).
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="ind"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  await lab.locator('select[data-name="ind-backend"]').selectOption("cpu");
  expect((await lab.locator(".backend-badge").getAttribute("data-backend")) === "cpu", "on the CPU");
  // Step 0 (the engine's test pins these for seed 1).
  expect((await value(page, "ind-first")) === 8.33, "step 0: first-occurrence loss 8.330");
  expect((await value(page, "ind-repeated")) === 6.094, "step 0: repeated-token loss 6.094");
  expect((await lab.locator(".ind-map").count()) === 4, "four attention maps");
  const started = Date.now();
  await lab.locator('[data-name="ind-train"]').click();
  await page.waitForFunction(() => document.querySelector('[data-value="ind-step"]')?.textContent === "600", null, { timeout: 180000 });
  console.log(`    induction heads: 600 steps of both models in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(Math.abs((await value(page, "ind-repeated")) - 0.918) <= 0.002, "step 600: repeated loss 0.918");
  expect(Math.abs((await value(page, "ind-first")) - 3.353) <= 0.002, "step 600: first-occurrence loss 3.353");
  expect(Math.abs((await value(page, "ind-one-repeated")) - 2.303) <= 0.002, "one layer: 2.303");
  expect((await text(page, "ind-drop")) === "step 460 / step 550", `drop: ${await text(page, "ind-drop")}`);
  expect(Math.abs((await value(page, "ind-prev-0")) - 0.583) <= 0.002, "L1H1 previous-token score 0.583");
  expect(Math.abs((await value(page, "ind-ind-2")) - 0.72) <= 0.002, "L2H1 induction score 0.720");
  await lab.locator('[data-name="ind-ablate-0"]').click();
  const ablated = await text(page, "ind-ablation");
  expect(ablated.includes("Without L1H1: repeated-token loss 2.462"), `ablating L1H1: ${ablated}`);
  await lab.locator('input[data-name="ind-lr"]').fill("x");
  expect((await lab.locator('[data-error-for="ind-lr"]').innerText()).includes("not a number"), "bad learning rate explained");
  expect((await value(page, "ind-step")) === 600, "last good run kept");
});

// SwiftShader is slow, so the WebGPU run is short: two chunks of 50 steps of both models,
// each chunk one submit, the weights read back every 10 steps and scored by the engine; then
// a device lost mid-run hands the pair to the CPU.
await test("induction heads on WebGPU: 100 steps lower both losses, the badge and note name WebGPU; a lost device hands over to the CPU", async (page) => {
  await keepGpuDevices(page);
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.induction");
  await lab.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="ind"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  const gpuOk = !(await lab.locator('select[data-name="ind-backend"] option[value="gpu"]').isDisabled());
  expect(gpuOk, `no WebGPU: ${await lab.locator('[data-gpu-note="ind"]').innerText()}`);
  await lab.locator('select[data-name="ind-backend"]').selectOption("gpu");
  const badge = lab.locator(".backend-badge");
  expect((await badge.getAttribute("data-backend")) === "gpu" && (await badge.innerText()).includes("GPU (WebGPU)"), `badge: ${await badge.innerText()}`);
  expect((await lab.locator('[data-gpu-note="ind"]').innerText()).includes("WebGPU is available"), "the note names WebGPU");
  expect((await value(page, "ind-first")) === 8.33 && (await value(page, "ind-repeated")) === 6.094, "the same start as the CPU");
  const train = lab.locator('[data-name="ind-train"]');
  const started = Date.now();
  await train.click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="ind-step"]')?.textContent) >= 100, null, { timeout: 240000 });
  if ((await train.innerText()) === "Pause") await train.click();
  const step = await value(page, "ind-step");
  console.log(`    induction heads on WebGPU: ${step} steps of both models in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(step % 50 === 0, `whole chunks of 50 steps: ${step}`);
  expect((await value(page, "ind-first")) < 4 && (await value(page, "ind-repeated")) < 4, `both losses fell: ${await value(page, "ind-first")} ${await value(page, "ind-repeated")}`);
  expect((await badge.getAttribute("data-backend")) === "gpu", "still on the GPU");
  await lab.locator('[data-name="ind-ablate-0"]').click();
  expect((await text(page, "ind-ablation")).startsWith("Without L1H1"), "ablation scores the weights read back");
  // The device goes while the run is out: the CPU takes over from the weights read back.
  await train.click();
  await page.evaluate(() => window.__mlbookDevices.forEach((d) => d.destroy()));
  await page.waitForFunction(() => document.querySelector(".widget.induction .backend-badge").dataset.backend === "cpu", null, { timeout: 30000 });
  const notice = await lab.locator('[data-status="ind"]').innerText();
  expect(/GPU was lost.*on the CPU from the weights read back at step/.test(notice), `notice: ${notice}`);
  const handed = await value(page, "ind-step");
  if ((await train.innerText()) === "Resume") await train.click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-value="ind-step"]')?.textContent) >= n + 20, handed, { timeout: 120000 });
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("logit lens: the tiny GPT's streams sharpen layer by layer, and the last one is the model's loss", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.logit-lens");
  await lab.scrollIntoViewIfNeeded();
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  await lab.locator('[data-value="lens-top-4-0"]').waitFor({ timeout: 60000 });
  // After "…the ques" (pinned in engine::labs::logit_lens).
  expect((await text("lens-top-0-0")) === "s 1.000", `embeddings ${await text("lens-top-0-0")}`);
  expect((await text("lens-top-2-0")) === "t 0.823", `layer 1 MLP ${await text("lens-top-2-0")}`);
  expect((await text("lens-top-4-0")) === "t 0.989", `output ${await text("lens-top-4-0")}`);
  await page.waitForFunction(() => document.querySelector('[data-status="lens"]')?.textContent.startsWith("Scored all"), null, { timeout: 120000 });
  const losses = await Promise.all([0, 1, 2, 3, 4].map((k) => value(page, `lens-loss-${k}`)));
  const pinned = [11.7289, 7.8238, 2.0974, 1.9493, 1.581];
  losses.forEach((l, k) => expect(Math.abs(l - pinned[k]) <= 2e-4, `stream ${k}: loss ${l}, pinned ${pinned[k]}`));
  expect((await value(page, "lens-acc-4")) === 51.5, "output top-1 51.5%");
  // A character outside the vocabulary is explained, and the last good prompt stays.
  await lab.locator('textarea[data-name="lens-prompt"]').fill("café");
  expect((await lab.locator('[data-error-for="lens-prompt"]').innerText()).includes("position 4"), "bad character explained");
  expect((await text("lens-top-4-0")) === "t 0.989", "last good prompt kept");
  await lab.locator('textarea[data-name="lens-prompt"]').fill("x".repeat(65));
  expect((await lab.locator('[data-error-for="lens-prompt"]').innerText()).includes("at most 64"), "long prompt explained");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("attention, honestly: weights beside contribution shares, and a head silenced", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.attention-norms");
  await lab.scrollIntoViewIfNeeded();
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  await lab.locator('[data-value="an-base"]').waitFor({ timeout: 60000 });
  // Pinned in engine::labs::attention_norms on Hamlet's line.
  expect((await text("an-base")) === "1.2869", `base loss ${await text("an-base")}`);
  expect((await text("an-silenced-3")) === "1.7193", `layer 1 head 4 silenced ${await text("an-silenced-3")}`);
  expect((await text("an-silenced-6")) === "1.3143", `layer 2 head 3 silenced ${await text("an-silenced-6")}`);
  const disagree = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((k) => value(page, `an-disagree-${k}`)));
  expect(disagree.join(",") === "8,8,5,9,2,5,6,7", `disagreements ${disagree}`);
  // Layer 1, head 2 is shown first, at the "a" of "Ham".
  expect((await text("an-weight-0")) === "0.794", `weight ${await text("an-weight-0")}`);
  expect((await text("an-share-0")) === "0.528", `share ${await text("an-share-0")}`);
  expect((await lab.locator("svg.an-map").count()) === 16, "two maps for each of the 8 heads");
  const scroller = lab.locator(".an-grid-scroll");
  expect((await scroller.getAttribute("tabindex")) === "0" && (await scroller.getAttribute("aria-label")).length > 10, "the grid scrolls by keyboard and is named");
  expect((await lab.locator(".an-head-cell.selected").getAttribute("data-head")) === "1", "layer 1, head 2 chosen first");
  await lab.locator('select[data-name="an-head"]').selectOption("6");
  expect((await lab.locator(".an-bars figcaption").innerText()).includes("layer 2, head 3"), "chosen head's chart");
  await lab.locator('.an-head-cell[data-head="3"]').click();
  expect((await lab.locator(".an-bars figcaption").innerText()).includes("layer 1, head 4"), "a click on the grid chooses the head");
  expect((await lab.locator(".an-head-cell.selected").getAttribute("aria-pressed")) === "true", "the chosen head is pressed");
  await lab.locator('textarea[data-name="an-prompt"]').fill("H");
  expect((await lab.locator('[data-error-for="an-prompt"]').innerText()).includes("at least two"), "one character explained");
  expect((await text("an-base")) === "1.2869", "last good prompt kept");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("probes: control tasks are perfect on the embeddings, context labels rise with depth", async (page) => {
  await openChapter(page, "interpretability");
  const lab = page.locator(".widget.probes");
  await lab.scrollIntoViewIfNeeded();
  const text = (name) => lab.locator(`[data-value="${name}"]`).innerText();
  // Wait for the model and the text, then train.
  await page.waitForTimeout(1000);
  for (let i = 0; i < 60; i++) {
    await lab.locator('button[data-name="pr-train"]').click();
    if ((await lab.locator('[data-status="pr"]').innerText()).startsWith("Trained")) break;
    await page.waitForTimeout(1000);
  }
  await page.waitForFunction(() => document.querySelector('[data-status="pr"]')?.textContent === "Trained all 45 probes.", null, { timeout: 180000 });
  // Pinned in engine::labs::probes.
  const expectations = { "pr-control-0-0": "100.0", "pr-real-0-0": "100.0", "pr-random-0-0": "99.4", "pr-real-1-0": "85.2", "pr-real-1-1": "98.8",
    "pr-control-1-1": "86.3", "pr-real-3-2": "50.0", "pr-random-3-1": "32.6", "pr-majority-3": "25.2", "pr-majority-4": "83.8", "pr-real-4-2": "90.2", "pr-sel-3-0": "−70.1", "pr-sel-1-1": "+12.5" };
  for (const [name, want] of Object.entries(expectations)) expect((await text(name)) === want, `${name}: ${await text(name)}, pinned ${want}`);
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("mlm vs clm: 25 steps from seed 1 match the engine's pinned run, graded positions 1000 and 6400, blanks and continuations, bad input", async (page) => {
  await openChapter(page, "bert-vs-gpt");
  const w = page.locator(".widget.mlm-vs-clm");
  const v = (name) => w.locator(`[data-value="${name}"]`).innerText();
  // The pinned numbers are the CPU's: choose it once the page has asked for a GPU.
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="mvc"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  await w.locator('select[data-name="mvc-backend"]').selectOption("cpu");
  await w.locator('input[data-name="mvc-steps"]').fill("50000");
  expect((await w.locator('[data-error-for="mvc-steps"]').innerText()).length > 5, "too many steps refused");
  await w.locator('input[data-name="mvc-steps"]').fill("25");
  const train = w.locator('button[data-name="mvc-train"]');
  expect((await train.innerText()) === "Train 25 steps", `button: ${await train.innerText()}`);
  await train.click();
  await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="mvc"]').innerText), null, { timeout: 180000 });
  // The engine's tests pin these (labs/mlm_vs_clm/tests.rs: the default run's start, a_run_of_25_steps).
  expect((await v("mvc-initial-mlm")) === "4.248" && (await v("mvc-initial-clm")) === "4.308", "shared start");
  expect((await v("mvc-steps")) === "25", `steps ${await v("mvc-steps")}`);
  expect((await v("mvc-mlm-loss")) === "3.380" && (await v("mvc-clm-loss")) === "3.434", `losses ${await v("mvc-mlm-loss")} ${await v("mvc-clm-loss")}`);
  expect((await v("mvc-held-step")) === "25", "a check at the end");
  expect((await v("mvc-held-mlm")) === "3.388" && (await v("mvc-held-clm")) === "3.244", `held-out ${await v("mvc-held-mlm")} ${await v("mvc-held-clm")}`);
  expect((await v("mvc-mlm-signals")) === "1000" && (await v("mvc-clm-signals")) === "6400", "40 and 256 graded positions a step");
  await page.waitForFunction(() => document.querySelector('[data-value="mvc-acc-mlm"]'), null, { timeout: 30000 });
  expect((await v("mvc-acc-mlm")) === "12.1%" && (await v("mvc-acc-clm")) === "11.7%", `accuracy ${await v("mvc-acc-mlm")} ${await v("mvc-acc-clm")}`);
  expect((await v("mvc-truth")) === "o", "the first blank hides an o");
  expect((await v("mvc-cont-clm")) === "OTHELLO.\nI am howeeotf.rciefe ", `clm: ${JSON.stringify(await v("mvc-cont-clm"))}`);
  // A prompt too long for the window, and one with a character the plays never use.
  const prompt = w.locator('textarea[data-name="mvc-prompt"]');
  await prompt.fill("x".repeat(20));
  expect((await w.locator('[data-error-for="mvc-prompt"]').innerText()).includes("at most 16"), "long prompt refused");
  await prompt.fill("€uro");
  expect((await w.locator('[data-error-for="mvc-prompt"]').innerText()).includes("never use"), "unknown character refused");
  expect((await v("mvc-cont-clm")) === "OTHELLO.\nI am howeeotf.rciefe ", "last good continuation kept");
  // Switching on the leak starts a fresh run of three models.
  await w.locator('input[data-name="mvc-leaky"]').check();
  expect((await v("mvc-steps")) === "0", "reset");
  await w.locator('input[data-name="mvc-by-signals"]').check();
  expect((await w.locator("figcaption").first().innerText()).includes("graded"), "x axis by graded positions");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

// SwiftShader is slow, so the WebGPU run is short: 10 steps of both models in one chunk,
// against the CPU's numbers for the same run (pinned in engine::labs::mlm_vs_clm's
// a_run_of_10_steps), then a device lost mid-run hands the race to the CPU.
await test("mlm vs clm on WebGPU: 10 steps of both models match the CPU's losses, the badge says GPU; a lost device hands over to the CPU", async (page) => {
  await keepGpuDevices(page);
  await openChapter(page, "bert-vs-gpt");
  const w = page.locator(".widget.mlm-vs-clm");
  const v = (name) => w.locator(`[data-value="${name}"]`).innerText();
  await page.waitForFunction(() => !document.querySelector('[data-gpu-note="mvc"]').innerText.startsWith("Looking"), null, { timeout: 20000 });
  const gpuOk = !(await w.locator('select[data-name="mvc-backend"] option[value="gpu"]').isDisabled());
  expect(gpuOk, `no WebGPU: ${await w.locator('[data-gpu-note="mvc"]').innerText()}`);
  await w.locator('select[data-name="mvc-backend"]').selectOption("gpu");
  await w.locator('input[data-name="mvc-steps"]').fill("10");
  await w.locator('button[data-name="mvc-train"]').click();
  await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="mvc"]').innerText), null, { timeout: 240000 });
  const badge = w.locator(".backend-badge");
  expect((await badge.getAttribute("data-backend")) === "gpu" && (await badge.innerText()).includes("GPU (WebGPU)"), `badge: ${await badge.innerText()}`);
  expect((await w.locator('[data-status="mvc"]').innerText()).includes("on the GPU"), "status names the GPU");
  expect((await v("mvc-steps")) === "10" && (await v("mvc-held-step")) === "10", "10 steps and a check at the end");
  expect((await v("mvc-mlm-signals")) === "400" && (await v("mvc-clm-signals")) === "2560", "the same graded positions");
  const near = async (name, cpu) => {
    const got = Number(await v(name));
    expect(Math.abs(got - cpu) <= 0.002, `${name}: GPU ${got}, CPU ${cpu}`);
  };
  await near("mvc-initial-mlm", 4.248417);
  await near("mvc-mlm-loss", 3.3821225);
  await near("mvc-clm-loss", 3.329416);
  await near("mvc-held-mlm", 3.528005);
  await near("mvc-held-clm", 3.3209994);
  // 30 steps: the first chunk ends at the check at step 25; the device goes before the rest.
  await w.locator('input[data-name="mvc-steps"]').fill("30");
  await w.locator('button[data-name="mvc-train"]').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-value="mvc-steps"]').innerText) >= 25, null, { timeout: 300000 });
  await page.evaluate(() => window.__mlbookDevices.forEach((d) => d.destroy()));
  await page.waitForFunction(() => document.querySelector(".widget.mlm-vs-clm .backend-badge").dataset.backend === "cpu", null, { timeout: 20000 });
  const notice = await w.locator('[data-status="mvc"]').innerText();
  expect(/GPU was lost.*on the CPU/.test(notice) || /Finished 30 steps on the GPU/.test(notice), `notice: ${notice}`);
  if (!(await v("mvc-steps")).startsWith("30")) {
    const train = w.locator('button[data-name="mvc-train"]');
    if ((await train.innerText()) === "Resume") await train.click();
    await page.waitForFunction(() => /Finished/.test(document.querySelector('[data-status="mvc"]').innerText), null, { timeout: 120000 });
    expect((await w.locator('[data-status="mvc"]').innerText()).includes("on the CPU"), "finished on the CPU");
  }
  expect((await v("mvc-held-step")) === "30", "the CPU ran the last check");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("mlm vs clm: the shipped checkpoints fill in blanks and continue a prompt before any training; a checkpoint answering 404 is a sentence", async (page) => {
  await openChapter(page, "bert-vs-gpt");
  const w = page.locator(".widget.mlm-vs-clm");
  const v = (name) => w.locator(`[data-value="${name}"]`).innerText();
  const models = () => w.locator('[data-status="mvc-models"]').innerText();
  expect((await models()).includes("Use the shipped checkpoints"), `before: ${await models()}`);
  // A checkpoint the site cannot serve: a message, the button stays usable, no panic.
  await page.route("**/bert-vs-gpt/clm.bin", (route) => route.fulfill({ status: 404, body: "missing" }));
  const use = w.locator('button[data-name="mvc-use-shipped"]');
  await use.click();
  await page.waitForFunction(() => /404/.test(document.querySelector('[data-status="mvc-models"]').innerText), null, { timeout: 60000 });
  expect((await models()).includes("bert-vs-gpt/clm.bin"), `error: ${await models()}`);
  await page.unroute("**/bert-vs-gpt/clm.bin");
  page.errors = page.errors.filter((e) => !e.includes("404 (Not Found)"));
  await use.click();
  await page.waitForFunction(() => document.querySelector('[data-value="mvc-acc-mlm"]'), null, { timeout: 60000 });
  expect((await models()).includes("the shipped checkpoints") && (await models()).includes("30,000 steps"), `models: ${await models()}`);
  expect((await v("mvc-steps")) === "0", "nothing trained");
  // Pinned in engine::labs::mlm_vs_clm's tests (the_shipped_pair_scores_what_its_report_states, the_shipped_pair_on_the_page).
  expect((await v("mvc-acc-mlm")) === "50.0%" && (await v("mvc-acc-clm")) === "43.0%", `accuracy ${await v("mvc-acc-mlm")} ${await v("mvc-acc-clm")}`);
  expect((await v("mvc-probe-held-mlm")) === "1.757" && (await v("mvc-probe-held-clm")) === "1.878", `held-out ${await v("mvc-probe-held-mlm")} ${await v("mvc-probe-held-clm")}`);
  expect((await v("mvc-truth")) === "o", "the first blank hides an o");
  expect((await v("mvc-cont-clm")) === "OTHELLO.\nI am onst timed of la", `clm: ${JSON.stringify(await v("mvc-cont-clm"))}`);
  expect((await use.isDisabled()) && (await w.locator('button[data-name="mvc-use-run"]').isDisabled()), "shipped in use, no run yet");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("contextual embeddings: MiniLM downloaded on request, bank's cosines at layers 0 and 6, sentence cosines, bad word and layer, a 20-token sentence timed", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.contextual");
  const num = (name) => widget.locator(`[data-value="${name}"]`).first().getAttribute("data-number").then(Number);
  const near = (a, b, tol = 2e-3) => Math.abs(a - b) <= tol;
  await widget.locator('button[data-name="ce-load"]').click();
  await widget.locator('[data-value="ce-word-cos-0-1"]').waitFor({ timeout: 120000 });
  // Layer 6 (the default): river banks 0.889, money banks 0.839, across 0.769 to 0.810.
  expect(near(await num("ce-word-cos-0-1"), 0.8889) && near(await num("ce-word-cos-2-3"), 0.8386), `layer 6 ${await num("ce-word-cos-0-1")} ${await num("ce-word-cos-2-3")}`);
  expect(near(await num("ce-word-cos-0-2"), 0.7687) && near(await num("ce-word-cos-1-3"), 0.8099), "layer 6 across senses");
  expect(near(await num("ce-sent-cos-0-1"), 0.5010), `sentences ${await num("ce-sent-cos-0-1")}`);
  // Layer 0: the lookup plus position only.
  await widget.locator('input[data-name="ce-layer"]').fill("0");
  await widget.locator('input[data-name="ce-layer"]').press("Tab");
  await page.waitForFunction(() => Number(document.querySelector('.widget.contextual [data-value="ce-word-cos-0-1"]')?.getAttribute("data-number")) > 0.95);
  expect(near(await num("ce-word-cos-2-3"), 0.9454) && near(await num("ce-word-cos-1-3"), 0.9868), `layer 0 ${await num("ce-word-cos-2-3")}`);
  // Bad input: a message, the last good tables kept.
  await widget.locator('input[data-name="ce-layer"]').fill("7");
  await widget.locator('input[data-name="ce-layer"]').press("Tab");
  expect((await widget.locator('[data-error-for="ce-layer"]').innerText()).includes("0"), "layer 7 refused");
  await widget.locator('input[data-name="ce-word"]').fill("river bank");
  expect((await widget.locator('[data-error-for="ce-word"]').innerText()).includes("One word"), "two words refused");
  expect(near(await num("ce-word-cos-2-3"), 0.9454), "tables kept");
  await widget.locator('input[data-name="ce-word"]').fill("bank");
  // A 20-token sentence, timed.
  const textarea = widget.locator('textarea[data-name="ce-text"]');
  await textarea.fill("The quick brown fox jumps over the lazy dog while the old farmer watched from his porch.");
  await page.waitForFunction(() => document.querySelector('.widget.contextual [data-value="ce-tokens"]')?.getAttribute("data-number") === "20");
  const first = await num("ce-ms");
  await textarea.fill("A quick brown fox jumps over the lazy dog while the old farmer watched from his porch.");
  await page.waitForFunction((f) => Number(document.querySelector('.widget.contextual [data-value="ce-ms"]')?.getAttribute("data-number")) !== f, first);
  const second = await num("ce-ms");
  console.log(`     MiniLM, one 20-token sentence: ${first} ms, then ${second} ms`);
  expect((await widget.locator('[data-value="ce-word-missing"]').innerText()).includes("0 times"), "no bank in the fox sentence");
  await textarea.fill("");
  expect((await widget.locator('[data-error-for="ce-text"]').innerText()).includes("at least one"), "empty text");
});

await test("contextual embeddings on WebGPU: the note names the backend and both timings, and the cosines match the CPU's to 3 decimals", async (page) => {
  await openChapter(page, "embeddings");
  const widget = page.locator(".widget.contextual");
  await widget.locator('button[data-name="ce-load"]').click();
  await widget.locator('[data-value="ce-word-cos-0-1"]').waitFor({ timeout: 120000 });
  // One sentence is timed on each backend once the model is loaded; the faster is used.
  const note = () => widget.locator('[data-gpu-note="ce"]').innerText();
  await page.waitForFunction(() => /ms per sentence|WebGPU adapter|lost|could not|stopped/i.test(document.querySelector('.widget.contextual [data-gpu-note="ce"]').innerText), null, { timeout: 120000 });
  const timed = await note();
  expect(/^WebGPU: \d+ ms per sentence, CPU: \d+ ms — using (WebGPU|the CPU)$/.test(timed), `this Chromium should expose WebGPU: ${timed}`);
  const badge = () => widget.locator(".backend-badge").getAttribute("data-backend");
  expect((await badge()) === (timed.endsWith("WebGPU") ? "gpu" : "cpu"), `the badge ${await badge()} agrees with the note`);
  const cells = () => widget.locator('td[data-value^="ce-"]').evaluateAll((tds) => Object.fromEntries(tds.map((td) => [td.dataset.value, Number(td.dataset.number)])));
  const select = widget.locator('select[data-name="ce-backend"]');
  const run = async (backend, words) => {
    await select.selectOption(backend);
    await page.waitForFunction((b) => document.querySelector(".widget.contextual .backend-badge").dataset.backend === b, backend);
    // New text, so that this backend encodes it now.
    await widget.locator('textarea[data-name="ce-text"]').fill(words);
    const on = backend === "gpu" ? "WebGPU" : "CPU";
    await page.waitForFunction(([on, n]) => {
      const line = document.querySelector('.widget.contextual [data-value="ce-ms"]')?.parentElement?.innerText ?? "";
      return line.includes(on) && document.querySelectorAll('.widget.contextual td[data-value^="ce-word-cos-"]').length === n;
    }, [on, 9], { timeout: 120000 });
    return cells();
  };
  const text = "The bank of the river flooded.\nI opened an account at the bank.\nWe fished from the grassy bank.";
  const cpu = await run("cpu", text);
  const gpu = await run("gpu", text);
  expect((await note()).endsWith("using WebGPU"), `the note follows the reader's pick: ${await note()}`);
  const keys = Object.keys(cpu);
  expect(keys.length === 18 && keys.every((k) => k in gpu), `the same cells: ${keys} / ${Object.keys(gpu)}`);
  const worst = Math.max(...keys.map((k) => Math.abs(cpu[k] - gpu[k])));
  console.log(`     contextual embeddings, WebGPU against the CPU: largest cosine difference ${worst.toFixed(4)}; ${timed}`);
  keys.forEach((k) => expect(Math.abs(cpu[k] - gpu[k]) <= 5e-4, `${k}: CPU ${cpu[k]}, WebGPU ${gpu[k]}`));
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("search: / opens it, results show chapter, section and a marked snippet, Enter goes to the section", async (page) => {
  await openChapter(page, "backpropagation");
  // Typing straight after the key: nothing typed is lost.
  await page.keyboard.press("/");
  await page.keyboard.type("sizing kv cac");
  const dialog = page.getByRole("dialog", { name: "Search the book" });
  await dialog.waitFor();
  expect(await page.evaluate(() => document.activeElement?.id === "search-input"), "focus is not in the search box");
  const typed = await page.locator("#search-input").inputValue();
  expect(typed === "sizing kv cac", `the box holds ${JSON.stringify(typed)}`);
  const first = page.locator(".search-results li").first();
  await first.waitFor();
  const chapter = await first.locator(".search-chapter").innerText();
  const heading = await first.locator(".search-heading").innerText();
  const snippet = await first.locator(".search-snippet").innerText();
  const marks = await first.locator(".search-snippet mark").allInnerTexts();
  expect(chapter === "Chapter 5 · Inference: How a Language Model Writes", `chapter ${chapter}`);
  expect(heading === "Exercise 5.2 - Sizing a KV cache", `heading ${heading}`);
  expect(snippet.length > 40 && marks.some((m) => /^cach/i.test(m)) && marks.every((m) => /^(cach\w*|kv|sizing)$/i.test(m)), `snippet ${snippet} marks ${marks}`);
  expect((await first.getAttribute("aria-selected")) === "true", "the first result is not chosen");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => location.pathname.endsWith("/inference.html") && location.hash === "#exercise-5-2-sizing-a-kv-cache");
  expect(!(await dialog.isVisible()), "the dialog stayed open");
  await page.waitForFunction(() => {
    const top = document.getElementById("exercise-5-2-sizing-a-kv-cache")?.getBoundingClientRect().top;
    return top !== undefined && top >= -5 && top < innerHeight / 2;
  });
  // The header button opens it too; Escape closes it and gives focus back to the button.
  await page.locator(".search-button").click();
  await dialog.waitFor();
  await page.keyboard.type("zzzqqq");
  expect((await page.locator(".search-status").innerText()).includes("Nothing in the book matches"), "no empty-result message");
  await page.keyboard.press("Escape");
  expect(!(await dialog.isVisible()), "Escape did not close it");
  expect(await page.evaluate(() => document.activeElement?.classList.contains("search-button")), "focus did not return to the button");
  // Typing "/" or "s" in a widget's field types; it does not open search.
  await page.locator('input[data-name="logits"]').focus();
  await page.keyboard.press("s");
  expect(!(await dialog.isVisible()), "s in a text box opened search");
});

await test("a link into the chapter being read keeps its widgets' state and applies a widget link in place", async (page) => {
  await openChapter(page, "inference");
  const frame = page.locator("section.widget.sampling");
  await frame.locator('input[data-name="logits"]').fill("2, 1, 0, -1");
  await frame.locator('input[data-name="temperature"]').fill("0.5");
  // A section link in the sidebar, to this chapter: nothing is rebuilt.
  const section = page.locator('nav a[href^="inference.html#"]').nth(1);
  const href = await section.getAttribute("href");
  await section.click();
  await page.waitForFunction((h) => location.pathname.split("/").pop() + location.search + location.hash === h, href);
  expect((await frame.locator('input[data-name="logits"]').inputValue()) === "2, 1, 0, -1", "the section link reset the sampling bench");
  // A link to a widget in this chapter sets its inputs where it stands.
  await page.evaluate((b) => {
    const a = document.createElement("a");
    a.href = "?ch=inference&w=sampling&temperature=2#widget-sampling";
    a.textContent = "to the bench";
    a.id = "same-chapter-link";
    document.querySelector("article.chapter p").append(a);
  }, base);
  await page.locator("#same-chapter-link").click();
  await page.waitForFunction(() => document.querySelector('section.widget.sampling input[data-name="temperature"]')?.value === "2");
  expect((await frame.locator('input[data-name="logits"]').inputValue()) === "2, 1, 0, -1", "the widget link rebuilt the chapter");
  expect((await page.locator("#same-chapter-link").count()) === 1, "the chapter was drawn again");
});

await test("link to this: a widget's settings travel in the URL, and malformed links fall back with a notice", async (page) => {
  await openChapter(page, "inference");
  const frame = page.locator("section.widget.sampling");
  const list = async (p, name) => JSON.parse(await p.locator(`section.widget.sampling [data-value="${name}"]`).innerText());
  const close = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
  await frame.locator('input[data-name="temperature"]').fill("0.5");
  await frame.locator('input[data-name="logits"]').fill("2, 1, 0, -1");
  const shown = await list(page, "tempered");
  expect(close(shown, [0.865, 0.1171, 0.0158, 0.0021], 1e-4), `T=0.5 on four logits: ${shown}`);
  await frame.locator(".link-button").click();
  const link = await frame.locator(".link-url").inputValue();
  expect(link.startsWith(`${base}inference.html?w=sampling&`) && !link.includes("ch=") && link.includes("temperature=0.5") && link.includes("logits=2%2C%201%2C%200%2C%20-1") && link.endsWith("#widget-sampling"), `link ${link}`);
  expect((await page.evaluate(() => location.href)) === link, "the address bar does not hold the link");

  const other = await newPage();
  try {
    await other.goto(link);
    await other.waitForSelector("section.widget.sampling");
    await other.waitForFunction(() => document.querySelector('section.widget.sampling input[data-name="temperature"]')?.value === "0.5");
    const again = await list(other, "tempered");
    expect(close(again, shown, 1e-9), `restored ${again} != ${shown}`);
    expect((await other.locator('section.widget.sampling [data-value="temperature"]').innerText()) === "0.50", "the readout did not follow");
    expect((await other.locator(".link-notice").count()) === 0, "a good link left a notice");

    // Malformed: a value out of range, a broken escape, an unknown setting, a repeated key.
    await other.goto(`${base}?ch=inference&w=sampling&temperature=99&top-p=%ZZ&nosuch=1&logits=abc&top-k=2&top-k=3#widget-sampling`);
    const notice = other.locator("section.widget.sampling .link-notice");
    await notice.waitFor();
    const text = await notice.innerText();
    for (const part of ["“temperature” = “99” was not understood", "“top-p” could not be read", "“nosuch” was not understood", "“logits” = “abc” was not understood", "“top-k” is given more than once"]) {
      expect(text.includes(part), `notice lacks ${part}: ${text}`);
    }
    expect(close(await list(other, "tempered"), [0.6285, 0.2312, 0.1402], 1e-4), "defaults not kept");
    expect((await other.locator('section.widget.sampling input[data-name="logits"]').inputValue()) !== "abc", "the refused value stayed in the box");
    expect((await other.locator('section.widget.sampling [data-value="kept"]').innerText()) === "2", "top-k=2 was not applied");
    // A widget this chapter does not have, and a link too long to read.
    await other.goto(`${base}?ch=inference&w=no-such-widget&x=1`);
    await other.locator(".page-notice").waitFor();
    expect((await other.locator(".page-notice").innerText()).includes("“no-such-widget”"), "no page notice");
    await other.goto(`${base}?ch=inference&w=sampling&x=${"a".repeat(9000)}`);
    await other.locator(".page-notice").waitFor();
    expect((await other.locator(".page-notice").innerText()).includes("too long"), "no page notice for a huge link");
    await other.goto(`${base}?ch=inference&w=sampling&logits=${"9%2C".repeat(400)}`);
    await other.locator("section.widget.sampling .link-notice").waitFor();
    expect((await other.locator("section.widget.sampling .link-notice").innerText()).includes("too long"), "no too-long notice");
    expect(close(await list(other, "tempered"), [0.6285, 0.2312, 0.1402], 1e-4), "defaults not kept after a huge link");
    expect(other.errors.length === 0, other.errors.join("\n"));
  } finally {
    await other.context().close();
  }
});

await test("sparse autoencoder: the toy model's 20 features recovered at λ = 0.1, λ = 0.01 smears them; bad latents refused", async (page) => {
  await openChapter(page, "interpretability");
  const w = page.locator(".widget.sae-toy");
  await w.scrollIntoViewIfNeeded();
  const v = (name) => w.locator(`[data-value="${name}"]`).first().innerText();
  await w.locator('input[data-name="sae-latents"]').fill("0");
  expect((await w.locator('[data-error-for="sae-latents"]').innerText()).includes("1 to 200"), "0 latents refused");
  await w.locator('input[data-name="sae-latents"]').fill("40");
  const train = async () => {
    await w.locator('button[data-name="sae-train"]').click();
    await page.waitForFunction(() => document.querySelector('[data-status="sae"]')?.textContent === "Finished 2000 steps.", null, { timeout: 120000 });
  };
  await train();
  // Pinned in engine::labs::sparse_autoencoder (λ = 0.1, 40 latents, seed 1, 2,000 steps).
  const pinned = { "sae-steps": "2000", "sae-mse": "0.000298", "sae-l0": "1.209", "sae-fve": "0.9909", "sae-dead": "0", "sae-dense": "0", "sae-recovered": "19 of 20", "sae-worst": "0.9732" };
  for (const [name, want] of Object.entries(pinned)) expect((await v(name)) === want, `${name}: ${await v(name)}, pinned ${want}`);
  expect((await w.locator(".sae-features tbody tr").count()) === 20, "one row per true feature");
  await slide(page, "sae-l1", -2);
  expect((await v("sae-l1")) === "0.010" && (await v("sae-steps")) === "–", "a new λ restarts");
  await train();
  const weak = { "sae-l0": "6.769", "sae-mse": "0.000042", "sae-dense": "2", "sae-recovered": "0 of 20" };
  for (const [name, want] of Object.entries(weak)) expect((await v(name)) === want, `λ = 0.01 ${name}: ${await v(name)}, pinned ${want}`);
  expect((await w.locator(".sae-runs tbody tr").count()) === 2, "both runs in the table");
  // The trade-off plot: one point per finished run, the current λ's highlighted.
  const point = (k, attr) => w.locator(`[data-value="sae-point-${k}"]`).getAttribute(attr);
  expect((await w.locator(".sae-tradeoff circle.sae-dot").count()) === 2, "two points");
  expect((await point(0, "data-l0")) === "1.209" && (await point(0, "data-mse")) === "0.000298", `λ = 0.1 point ${await point(0, "data-l0")}`);
  expect((await point(1, "data-l1")) === "0.01" && (await point(1, "data-l0")) === "6.769", `λ = 0.01 point ${await point(1, "data-l0")}`);
  expect((await w.locator(".sae-tradeoff .sae-trade-run.current").count()) === 1, "the λ now set is highlighted");
  // The sweep trains the two λ values not yet run (0.001 and 1), one after the other.
  await w.locator('button[data-name="sae-sweep"]').click();
  await page.waitForFunction(() => document.querySelectorAll(".sae-toy .sae-tradeoff circle.sae-dot").length === 4, null, { timeout: 240000 });
  await page.waitForFunction(() => document.querySelector('[data-status="sae"]')?.textContent === "Finished 2000 steps.", null, { timeout: 120000 });
  expect((await point(2, "data-l1")) === "0.001" && Math.abs(Number(await point(2, "data-l0")) - 14.669) < 5e-3, `λ = 0.001 point ${await point(2, "data-l0")}`);
  expect((await point(3, "data-l1")) === "1" && (await point(3, "data-l0")) === "0.746" && Number(await point(3, "data-mse")).toFixed(4) === "0.0187", `λ = 1 point ${await point(3, "data-mse")}`);
  expect((await v("sae-l1")) === "1.000", `the slider follows the sweep: ${await v("sae-l1")}`);
  const xs = await Promise.all([2, 1, 0, 3].map((k) => point(k, "cx").then(Number)));
  expect(xs[0] > xs[1] && xs[1] > xs[2] && xs[2] > xs[3], `L0 falls as λ grows: ${xs}`);
  // The trade-off is named by its runs, and on a phone its four λ labels keep apart.
  const tradeName = await w.locator(".sae-tradeoff svg").getAttribute("aria-label");
  expect(/: 4 runs; λ from 0\.001 to 1; L0 from 0\.746 to 14\.\d latents per input; MSE from /.test(tradeName), `trade-off name: ${tradeName}`);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(300);
  const boxes = await w.locator(".sae-dot-label").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  const touching = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a.left < b.right + 1 && b.left < a.right + 1 && a.top < b.bottom + 1 && b.top < a.bottom + 1).map((b) => `${JSON.stringify(a)} ${JSON.stringify(b)}`));
  expect(boxes.length === 4 && touching.length === 0, `λ labels touch at 360 px: ${touching.join(" | ")}`);
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("sae on the tiny GPT: 1,000 steps after layer 1 match the engine; latent 0 ends sentences, latent 9 is commas; a suggested latent shows its contexts; bad latent explained", async (page) => {
  await openChapter(page, "interpretability");
  const w = page.locator(".widget.sae-gpt");
  await w.scrollIntoViewIfNeeded();
  const v = (name) => w.locator(`[data-value="${name}"]`).first().innerText();
  await page.waitForTimeout(1000);
  for (let i = 0; i < 60; i++) {
    await w.locator('button[data-name="sae-gpt-train"]').click();
    if ((await w.locator('[data-status="sae-gpt"]').innerText()).startsWith("Step")) break;
    await page.waitForTimeout(1000);
  }
  await page.waitForFunction(() => document.querySelector('[data-status="sae-gpt"]')?.textContent === "Finished 1000 steps.", null, { timeout: 240000 });
  // Pinned in engine::labs::sparse_autoencoder (after layer 1, 256 latents, λ = 1, seed 1).
  const pinned = { "sae-gpt-mse": "0.10282", "sae-gpt-l0": "20.187", "sae-gpt-fve": "0.8873", "sae-gpt-dead": "0", "sae-gpt-dense": "3", "sae-gpt-act-0": "8.231" };
  for (const [name, want] of Object.entries(pinned)) expect((await v(name)) === want, `${name}: ${await v(name)}, pinned ${want}`);
  const dot = w.locator('[data-value="sae-gpt-point-0"]');
  expect((await dot.getAttribute("data-l0")) === "20.187" && Number(await dot.getAttribute("data-mse")).toFixed(5) === "0.10282", `trade-off point ${await dot.getAttribute("data-mse")}`);
  const ats = async () => { let s = ""; for (let i = 0; i < 8; i++) s += await v(`sae-gpt-at-${i}`); return s; };
  expect((await ats()) === "?????!.?", `latent 0: ${await ats()}`);
  expect((await v("sae-gpt-fires")).includes("385 of 4,096"), await v("sae-gpt-fires"));
  await w.locator('input[data-name="sae-gpt-latent"]').fill("9");
  await page.waitForTimeout(300);
  expect((await ats()) === ",,,,,,,,", `latent 9: ${await ats()}`);
  // A suggested latent: its button selects it, and its contexts fire on the character it names.
  const suggestion = w.locator('button[data-name="sae-gpt-suggest-0"]');
  const words = await suggestion.innerText();
  expect(words === "latent 238: fires on 'o' after '␣t' (8 of 8 contexts)", `first suggestion, pinned in the engine's test: ${words}`);
  const picked = await suggestion.getAttribute("data-latent");
  await suggestion.click();
  await page.waitForTimeout(300);
  expect((await w.locator('input[data-name="sae-gpt-latent"]').inputValue()) === picked, `suggestion selects latent ${picked}`);
  const named = words.match(/^latent (\d+): fires on '(.)'.* \((\d) of 8 contexts\)$/);
  expect(named && named[1] === picked, `suggestion text: ${words}`);
  const shown = (await ats()).replaceAll("↵", "⏎");
  expect([...shown].filter((c) => c === named[2]).length === Number(named[3]), `latent ${picked}: ${shown} against "${words}"`);
  await w.locator('input[data-name="sae-gpt-latent"]').fill("300");
  await page.waitForTimeout(300);
  expect((await w.locator('[data-error-for="sae-gpt-latent-range"]').innerText()).includes("0 to 255"), "latent 300 of 256 explained");
  await w.locator('input[data-name="sae-gpt-latent"]').fill("x");
  expect((await w.locator('[data-error-for="sae-gpt-latent"]').innerText()).length > 5, "a non-number explained");
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("semantic search: a failed download says so and retries, the progress bar reaches the file's size, edited paragraphs encoded in the page, the dropout query finds chapter 7's dropout paragraph, links lead to sections", async (page) => {
  await openChapter(page, "embeddings");
  const w = page.locator(".widget.semantic-search");
  const num = (name) => w.locator(`[data-value="${name}"]`).first().getAttribute("data-number").then(Number);
  const near = (a, b, tol = 2e-4) => Math.abs(a - b) <= tol;
  // The first try fails: the error is in words, with a button to try again.
  await page.route("**/minilm/minilm-l6.bin", (route) => route.abort());
  await w.locator('button[data-name="ss-load"]').click();
  await w.locator('[data-error-for="ss-model"]').waitFor({ timeout: 30000 });
  expect((await w.locator('[data-error-for="ss-model"]').innerText()).includes("could not be downloaded"), "error in words");
  await page.unroute("**/minilm/minilm-l6.bin");
  page.errors = page.errors.filter((e) => !/minilm-l6|ERR_FAILED/.test(e));
  // The paragraph vectors as if the book's last three paragraphs had been edited since they
  // were computed: the page encodes those three itself, with their own progress bar.
  await page.route("**/minilm/paragraphs.bin", (route) => {
    const bytes = readFileSync(join(dist, "minilm", "paragraphs.bin"));
    const width = bytes.readUInt32LE(4);
    const count = bytes.readUInt32LE(8);
    const cut = Buffer.from(bytes.subarray(0, 12 + (count - 3) * (12 + width)));
    cut.writeUInt32LE(count - 3, 8);
    return route.fulfill({ status: 200, body: cut, headers: { "content-type": "application/octet-stream" } });
  });
  // Every value the bars show is recorded.
  await page.evaluate(() => {
    window.ssSeen = [];
    window.ssEncoding = [];
    new MutationObserver(() => {
      const el = document.querySelector('.widget.semantic-search [data-value="ss-download"]');
      if (el) window.ssSeen.push([Number(el.getAttribute("data-number")), el.getAttribute("data-total")]);
      const enc = document.querySelector('.widget.semantic-search [data-value="ss-encoding"]');
      if (enc) window.ssEncoding.push(`${enc.getAttribute("data-number")}/${enc.getAttribute("data-total")}`);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await w.locator('button[data-name="ss-load"]').click();
  await w.locator('[data-value="ss-hit-0"]').waitFor({ timeout: 120000 });
  const size = statSync(join(dist, "minilm", "minilm-l6.bin")).size;
  // (Before the response arrives the total is not known yet.)
  const seen = (await page.evaluate(() => window.ssSeen)).filter(([, t]) => t !== "");
  expect(seen.length > 2, `the bar showed ${seen.length} values`);
  expect(seen.every(([, t]) => Number(t) === size), `total ${seen[0]?.[1]} != ${size}`);
  expect(Math.max(...seen.map(([n]) => n)) === size && seen.some(([n]) => n < size / 2), `received ${JSON.stringify(seen.slice(-2))}`);
  const encoding = await page.evaluate(() => window.ssEncoding);
  // Three cut here, plus any paragraph edited since the file was last written.
  const totals = [...new Set(encoding.map((e) => Number(e.split("/")[1])))];
  const n = totals[0];
  expect(totals.length === 1 && n >= 3 && encoding.includes(`0/${n}`) && encoding.includes(`${n - 1}/${n}`), `encoding bar ${encoding}`);
  expect((await num("ss-fresh")) === n, `${n} paragraphs encoded on the page, ${await num("ss-fresh")} reported`);
  // The first suggestion runs by itself: chapter 7's dropout paragraph at 0.7216, an exercise at 0.5840.
  expect((await w.locator('[data-value="ss-hit-0"]').getAttribute("data-place")) === "regularization#dropout", "top paragraph");
  expect((await w.locator('[data-value="ss-hit-0"] .ss-snippet').innerText()).startsWith("Dropout regularizes in a completely different way."), "snippet");
  expect(near(await num("ss-cos-0"), 0.7216) && near(await num("ss-best"), 0.7216), `best ${await num("ss-cos-0")}`);
  expect(near(await num("ss-cos-1"), 0.584), `runner-up ${await num("ss-cos-1")}`);
  expect((await w.locator(".ss-hit").count()) === 5 && (await num("ss-searched")) > 500, "five hits out of the whole book");
  // The contextual-embeddings widget on the same page followed the same download.
  await page.locator('.widget.contextual [data-value="ce-word-cos-0-1"]').waitFor({ timeout: 30000 });
  // A suggestion, typed queries, an empty query.
  await w.locator('button[data-name="ss-suggest-4"]').click();
  await page.waitForFunction(() => document.querySelector('.widget.semantic-search [data-value="ss-hit-0"]')?.getAttribute("data-place") === "embeddings#word-arithmetic");
  expect(near(await num("ss-cos-0"), 0.5687), `king ${await num("ss-cos-0")}`);
  await w.locator('input[data-name="ss-query"]').fill("   ");
  await w.locator('input[data-name="ss-query"]').press("Enter");
  expect((await w.locator('[data-error-for="ss-query"]').innerText()).includes("Type a question"), "empty query");
  await w.locator('input[data-name="ss-query"]').fill("what does dropout do during training");
  await w.locator('button[data-name="ss-search"]').click();
  await page.waitForFunction(() => document.querySelector('.widget.semantic-search [data-value="ss-hit-0"]')?.getAttribute("data-place") === "regularization#dropout");
  // A result's link opens its section in the book.
  await w.locator('[data-value="ss-hit-0"] a').click();
  await page.waitForFunction(() => location.pathname.endsWith("/regularization.html") && location.hash === "#dropout");
  await page.locator("article.chapter h2#dropout").waitFor();
});

await test("semantic search on WebGPU: the page builds one GPU copy of MiniLM in steps for both widgets, the note names the backend, the top paragraphs and their cosines match the CPU's to 4 decimals, a lost device puts both widgets on the CPU", async (page) => {
  await keepGpuDevices(page);
  await openChapter(page, "embeddings");
  const w = page.locator(".widget.semantic-search");
  // Every step of the GPU copy the note shows, and the longest tasks meanwhile.
  await page.evaluate(() => {
    window.ssSteps = [];
    window.longTasks = [];
    window.stepTimes = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push([e.startTime, e.duration]))).observe({ type: "longtask" });
    new MutationObserver(() => {
      const m = /step (\d+) of (\d+)/.exec(document.querySelector('.widget.semantic-search [data-gpu-note="ss"]')?.innerText ?? "");
      if (m && window.ssSteps.at(-1) !== m[0]) window.ssSteps.push(m[0]), window.stepTimes.push(performance.now());
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await w.locator('button[data-name="ss-load"]').click();
  await w.locator('[data-value="ss-hit-0"]').waitFor({ timeout: 120000 });
  const note = () => w.locator('[data-gpu-note="ss"]').innerText();
  await page.waitForFunction(() => /ms per sentence|WebGPU adapter|lost|could not|stopped/i.test(document.querySelector('.widget.semantic-search [data-gpu-note="ss"]').innerText), null, { timeout: 120000 });
  const timed = await note();
  expect(/^WebGPU: \d+ ms per sentence, CPU: \d+ ms — using (WebGPU|the CPU)$/.test(timed), `this Chromium should expose WebGPU: ${timed}`);
  // The copy was built a step at a time, the note counting the steps.
  const steps = await page.evaluate(() => window.ssSteps);
  const total = Number(/of (\d+)/.exec(steps[0] ?? "")?.[1]);
  expect(total > 6 && steps.length >= total && steps.includes(`step ${total - 1} of ${total}`), `steps shown: ${steps}`);
  // Both widgets read the one timing and one copy.
  const copies = (tag) => page.locator(`[data-gpu-note="${tag}"]`).getAttribute("data-gpu-copies");
  await page.locator('.widget.contextual [data-value="ce-word-cos-0-1"]').waitFor({ timeout: 60000 });
  expect((await page.locator('[data-gpu-note="ce"]').innerText()).startsWith(timed.split(" — ")[0]), `one timing: ${await page.locator('[data-gpu-note="ce"]').innerText()}`);
  const hits = () => w.locator(".ss-hit").evaluateAll((lis) => lis.map((li) => [li.dataset.place, Number(li.querySelector(".ss-cos").dataset.number)]));
  const select = w.locator('select[data-name="ss-backend"]');
  const search = async (backend, query) => {
    await select.selectOption(backend);
    await page.waitForFunction((b) => document.querySelector(".widget.semantic-search .backend-badge").dataset.backend === b, backend);
    await w.locator('input[data-name="ss-query"]').fill(query);
    await w.locator('button[data-name="ss-search"]').click();
    const on = backend === "gpu" ? "WebGPU" : "CPU";
    await page.waitForFunction(([on, q]) => {
      const line = document.querySelector('.widget.semantic-search [data-value="ss-summary"]')?.innerText ?? "";
      return line.startsWith(`“${q}”`) && line.includes(on);
    }, [on, query], { timeout: 120000 });
    return [await hits(), Number(await w.locator('[data-value="ss-ms"]').getAttribute("data-number"))];
  };
  let worst = 0;
  const timings = [];
  for (const query of ["what does dropout do during training", "king minus man plus woman"]) {
    const [cpu, cpuMs] = await search("cpu", query);
    const [gpu, gpuMs] = await search("gpu", query);
    timings.push(`“${query}”: CPU ${cpuMs} ms, WebGPU ${gpuMs} ms`);
    expect(cpu.length === 5 && gpu.length === 5, `five hits each: ${cpu.length} ${gpu.length}`);
    cpu.forEach(([place, c], i) => {
      expect(gpu[i][0] === place, `${query}: hit ${i} is ${place} on the CPU, ${gpu[i][0]} on WebGPU`);
      worst = Math.max(worst, Math.abs(c - gpu[i][1]));
      expect(Math.abs(c - gpu[i][1]) < 5e-5, `${query}: hit ${i} cosine CPU ${c}, WebGPU ${gpu[i][1]}`);
    });
  }
  expect((await note()).endsWith("using WebGPU"), `the note follows the reader's pick: ${await note()}`);
  // The contextual widget encodes on WebGPU too, with the same copy.
  await page.locator('.widget.contextual select[data-name="ce-backend"]').selectOption("gpu");
  await page.locator('.widget.contextual textarea[data-name="ce-text"]').fill("The bank of the river flooded.\nI opened an account at the bank.");
  await page.waitForFunction(() => (document.querySelector('.widget.contextual [data-value="ce-ms"]')?.parentElement?.innerText ?? "").includes("WebGPU"), null, { timeout: 120000 });
  expect((await copies("ss")) === "1" && (await copies("ce")) === "1", `GPU copies built: ${await copies("ss")} / ${await copies("ce")}`);
  // The device goes: both widgets move to the CPU and say why; the search runs again there.
  const lastCpu = (await search("cpu", "king minus man plus woman"))[0];
  await search("gpu", "king minus man plus woman");
  await page.evaluate(() => window.__mlbookDevices.forEach((d) => d.destroy()));
  await page.waitForFunction(() => [".widget.semantic-search", ".widget.contextual"].every((s) => document.querySelector(`${s} .backend-badge`).dataset.backend === "cpu"), null, { timeout: 20000 });
  expect(/lost.*runs on the CPU/.test(await note()) && /lost.*runs on the CPU/.test(await page.locator('[data-gpu-note="ce"]').innerText()), `after the loss: ${await note()}`);
  await page.waitForFunction(() => (document.querySelector('.widget.semantic-search [data-value="ss-summary"]')?.innerText ?? "").includes("CPU thread"), null, { timeout: 30000 });
  expect(JSON.stringify(await hits()) === JSON.stringify(lastCpu), `the CPU's hits again after the loss: ${JSON.stringify(await hits())}`);
  // The longest tasks while the copy was built (from its first step's note to its last's) and
  // on the whole visit (the download's expansion, the CPU encodings and the timing included).
  const [tasks, [first, last]] = await page.evaluate(() => [window.longTasks, [window.stepTimes[0], window.stepTimes.at(-1)]]);
  const longest = (ts) => Math.max(0, ...ts.map(([, d]) => d));
  const building = tasks.filter(([t, d]) => t + d >= first && t <= last);
  // The page measures each building step itself: the longest is how long the copy alone kept
  // the page from answering (the other long tasks are the CPU encoding the edited paragraphs).
  const step = Number(await page.locator('[data-gpu-note="ss"]').getAttribute("data-gpu-longest-step"));
  const fresh = (await w.locator('[data-value="ss-fresh"]').count()) ? await w.locator('[data-value="ss-fresh"]').getAttribute("data-number") : "0";
  console.log(`     semantic search, WebGPU against the CPU: largest cosine difference ${worst.toExponential(1)}; ${timings.join("; ")}; ${timed}; GPU copy in ${total} steps over ${(last - first).toFixed(0)} ms, longest step ${step} ms; longest task meanwhile ${longest(building).toFixed(0)} ms (${building.length} over 50 ms, ${fresh} edited paragraphs encoded on the CPU), longest on the whole visit ${longest(tasks).toFixed(0)} ms`);
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("graded exercises: a likely mistake is named, garbage is refused, the right answer counts in the sidebar and survives a reload", async (page) => {
  await openChapter(page, chapters[0].slug);
  const counter = page.locator(".toc > li").first().locator(".toc-progress");
  expect((await counter.getAttribute("data-total")) === "4", `chapter 1 has 4 graded parts: ${await counter.getAttribute("data-total")}`);
  expect((await counter.innerText()) === "0/4", `starts at 0/4: ${await counter.innerText()}`);
  const box = page.locator('form.answer-check[data-exercise="1.1a"]');
  const input = box.locator('input[data-name="answer-1.1a"]');
  const verdict = box.locator(".answer-verdict");
  const check = async (text) => {
    await input.fill(text);
    await box.locator("button", { hasText: "Check" }).click();
    await page.waitForFunction((el) => el.dataset.verdict !== "", await verdict.elementHandle());
    const kind = await verdict.getAttribute("data-verdict");
    const said = await verdict.innerText();
    await input.fill("");
    return { kind, said };
  };
  // −ln ŷ = 0.268536 is the y = 1 term: the engine's first likely mistake.
  let r = await check("0.2685");
  expect(r.kind === "mistake" && r.said.includes("y = 1 term"), `0.2685: ${JSON.stringify(r)}`);
  r = await check("0.628");
  expect(r.kind === "mistake" && r.said.includes("log base 10"), `0.628: ${JSON.stringify(r)}`);
  r = await check("one point four");
  expect(r.kind === "invalid" && r.said.includes("not a number"), `garbage: ${JSON.stringify(r)}`);
  expect((await box.locator('[data-error-for="answer-1.1a"]').count()) === 1, "the refusal is tied to the box");
  r = await check("");
  expect(r.kind === "invalid" && r.said.includes("Type a number"), `empty: ${JSON.stringify(r)}`);
  r = await check("7");
  expect(r.kind === "wrong" && r.said.includes("±0.005"), `7: ${JSON.stringify(r)}`);
  expect((await counter.innerText()) === "0/4", "wrong answers do not count");
  r = await check("1.446");
  expect(r.kind === "correct" && r.said.includes("1.44604"), `1.446: ${JSON.stringify(r)}`);
  expect((await box.locator(".answer-value").getAttribute("data-value")) === "1.44604", "the engine's value, more digits");
  await page.waitForFunction(() => document.querySelector(".toc > li .toc-progress").innerText === "1/4");
  // Scientific notation and fractions are read too: δ⁽²⁾ = 0.764498.
  const second = page.locator('form.answer-check[data-exercise="1.1b"]');
  await second.locator("input").fill("7.645e-1");
  await second.locator("button").click();
  await page.waitForFunction(() => document.querySelector('form[data-exercise="1.1b"] .answer-verdict').dataset.verdict === "correct");
  await page.waitForFunction(() => document.querySelector(".toc > li .toc-progress").innerText === "2/4");
  await page.reload();
  await page.waitForSelector("article.chapter h1");
  expect((await counter.innerText()) === "2/4", `after a reload: ${await counter.innerText()}`);
  expect((await box.locator(".answer-solved").count()) === 1, "the box remembers it was solved");
  expect((await page.locator(".toc-progress-total").innerText()).includes("2 of 33"), await page.locator(".toc-progress-total").innerText());
  // Reset, confirmed, forgets it, also after a reload.
  page.once("dialog", (d) => d.accept());
  await page.locator(".reset-progress").click();
  await page.waitForFunction(() => document.querySelector(".toc > li .toc-progress").innerText === "0/4");
  await page.reload();
  await page.waitForSelector("article.chapter h1");
  expect((await counter.innerText()) === "0/4", `after reset and reload: ${await counter.innerText()}`);
});

await test("exercises 10.3 and 9.1 from the widgets: the worst cosine graded, links that set the lab's inputs", async (page) => {
  await openChapter(page, "interpretability");
  const box = page.locator('form.answer-check[data-exercise="10.3"]');
  const verdict = box.locator(".answer-verdict");
  const check = async (text) => {
    await box.locator("input").fill(text);
    await box.locator("button", { hasText: "Check" }).click();
    await page.waitForFunction((el) => el.dataset.verdict !== "", await verdict.elementHandle());
    return { kind: await verdict.getAttribute("data-verdict"), said: await verdict.innerText() };
  };
  let r = await check("0.0156");
  expect(r.kind === "mistake" && r.said.includes("1/√d"), `0.0156: ${JSON.stringify(r)}`);
  r = await check("0.1");
  expect(r.kind === "correct", `0.1: ${JSON.stringify(r)}`);
  // The link sets the lab's inputs, whatever the reader left in them.
  await page.locator('.widget.cosines input[data-name="cos-many"]').fill("10");
  await page.locator("section.exercise a", { hasText: "open it with 100,000 vectors" }).click();
  await page.waitForFunction(() => document.querySelector('.widget.cosines input[data-name="cos-many"]')?.value === "100000", null, { timeout: 20000 });
  await page.waitForFunction(() => Math.abs(Number(document.querySelector('.widget.cosines [data-value="cos-worst"]')?.innerText) - 0.1) < 5e-4, null, { timeout: 20000 });
  expect(page.url().includes("w=cosines"), page.url());
  await openChapter(page, "embeddings");
  const answer = page.locator("section.exercise details.answer").first();
  await answer.locator("summary").click();
  await answer.locator("a", { hasText: "paris − france + italy" }).click();
  await page.waitForFunction(() => document.querySelector('.widget.word-arithmetic input[data-name="wa-a"]')?.value === "paris", null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('.widget.word-arithmetic [data-value="wa-word-0"]')?.innerText === "rome", null, { timeout: 30000 });
  expect(page.errors.length === 0, page.errors.join("\n"));
});

await test("every chapter fits a 360 px phone without sideways scrolling", async () => {
  const page = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  try {
    for (const chapter of chapters) {
      await openChapter(page, chapter.slug);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width <= 361, `${chapter.slug} is ${width}px wide`);
    }
    // The network race's badge is longest on the CPU (WebGPU may be missing or slow to answer).
    await openChapter(page, "optimizers");
    await page.locator('select[data-name="net-backend"]').selectOption("cpu");
    await page.waitForFunction(() => document.querySelector(".widget.network-race .backend-badge").dataset.backend === "cpu");
    const cpuWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(cpuWidth <= 361, `optimizers with the network race on the CPU is ${cpuWidth}px wide`);
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
