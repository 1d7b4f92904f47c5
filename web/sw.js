// The book's service worker: after the first visit the book opens, and its chapters work,
// without a network.
//
// `cargo xtask build` fills in the two lists below from dist/ after Trunk has written it:
// every file of the site with a hash of its contents, so a new build (any changed byte)
// is a new version with a cache of its own, and the old one is deleted once it takes over.
//
// - PRECACHE: the app (HTML, JS, WebAssembly, CSS), its fonts and the data the chapters load
//   as they open (the tiny GPT, the training text, GPT-2's ranks, the GloVe vectors): fetched
//   when the worker installs.
// - LAZY: large files a chapter downloads only when the reader asks (MiniLM's 23 MB of
//   weights): cached the first time they are fetched, kept across builds while unchanged.
const PRECACHE = /* PRECACHE */ [];
const LAZY = /* LAZY */ [];
const VERSION = "/* VERSION */";
const LAZY_VERSION = "/* LAZY_VERSION */";

const APP_CACHE = `mlbook-app-${VERSION}`;
const DATA_CACHE = `mlbook-data-${LAZY_VERSION}`;
// The folder the book is served from (this file sits at its root), e.g. "/book/".
const ROOT = new URL("./", self.location.href).pathname;
const precached = new Set(PRECACHE.map(([path]) => path));
const lazy = new Set(LAZY.map(([path]) => path));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(APP_CACHE)
      // "reload": straight from the server, never from the browser's HTTP cache, so the
      // cache holds exactly this build's files.
      .then((cache) => cache.addAll(PRECACHE.map(([path]) => new Request(ROOT + path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("mlbook-") && name !== APP_CACHE && name !== DATA_CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(ROOT)) return;
  const path = url.pathname.slice(ROOT.length);
  if (request.mode === "navigate") {
    // The book's pages: its folder and index.html (with any ?ch=) are the cover's page, and
    // each chapter has its own (SLUG.html), all precached. Other addresses go to the server
    // (which answers 404), or offline to the cached 404 page.
    if (path === "" || path === "index.html") {
      event.respondWith(fromCache(event, APP_CACHE, "index.html"));
    } else if (path.endsWith(".html") && !path.includes("/") && path !== "404.html" && precached.has(path)) {
      event.respondWith(fromCache(event, APP_CACHE, path));
    } else {
      event.respondWith(fetch(request).catch(() => caches.match(ROOT + "404.html", { cacheName: APP_CACHE })));
    }
  } else if (precached.has(path)) {
    event.respondWith(fromCache(event, APP_CACHE, path));
  } else if (lazy.has(path)) {
    event.respondWith(fromCache(event, DATA_CACHE, path, true));
  }
});

/** The cached copy of `path`, else the network's answer (then kept in the cache if `keep`;
 * the page gets the answer at once while the copy is written). */
async function fromCache(event, name, path, keep = false) {
  const cache = await caches.open(name);
  const hit = await cache.match(ROOT + path);
  if (hit) return hit;
  const response = await fetch(event.request);
  if (keep && response.ok) event.waitUntil(cache.put(ROOT + path, response.clone()));
  return response;
}
