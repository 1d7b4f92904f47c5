// The static host the browser suite (tests/browser/book.mjs) and the Lighthouse benchmark
// (tests/bench/lighthouse.mjs) serve the built site from: dist/ under /book/ on 127.0.0.1,
// a folder answering with its index.html, unknown paths with 404.html (status 404), as a
// static host does.
//
// With `compress`, it also does what a production host would: brotli or gzip when the browser
// accepts it (each file compressed once, before timing, see `precompress`) and a year's
// caching for files whose names carry a content hash.

import { createServer } from "node:http";
import { readFileSync, existsSync, statSync } from "node:fs";
import { join, extname, normalize } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

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

/** Starts the host; resolves to { base, server, precompress(files) }. */
export async function serveDist(dist, { compress = false } = {}) {
  const compressed = new Map();
  const body = (file, encoding) => {
    const key = `${encoding}:${file}`;
    if (!compressed.has(key)) {
      const raw = readFileSync(file);
      compressed.set(key, encoding === "br" ? brotliCompressSync(raw) : encoding === "gzip" ? gzipSync(raw) : raw);
    }
    return compressed.get(key);
  };
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
    const headers = { "content-type": type };
    let encoding = null;
    if (compress) {
      const accepts = req.headers["accept-encoding"] ?? "";
      const squeezable = !/font|image\/png/.test(type);
      encoding = !squeezable ? null : accepts.includes("br") ? "br" : accepts.includes("gzip") ? "gzip" : null;
      headers["cache-control"] = /-[0-9a-f]{12,}[._]/.test(file) ? "public, max-age=31536000, immutable" : "no-cache";
      if (encoding) headers["content-encoding"] = encoding;
    }
    const bytes = body(file, encoding);
    headers["content-length"] = bytes.length;
    res.writeHead(found ? 200 : 404, headers);
    res.end(bytes);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    base: `http://127.0.0.1:${server.address().port}/book/`,
    server,
    precompress(files) {
      for (const file of files) {
        body(file, "br");
        body(file, "gzip");
      }
    },
  };
}
