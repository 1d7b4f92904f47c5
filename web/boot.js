// Loaded after the page is parsed (`defer`); nothing waits for it. The remembered theme is
// applied earlier, by the inline script in index.html's head.
//
// Registers the service worker (sw.js, beside this file), which keeps the book readable
// offline after the first visit. The book works without it, so a refusal (a private window,
// a browser that blocks workers) is not an error.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(function () {});
  });
}
