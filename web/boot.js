// Loaded before the first paint (a file, not an inline script, so the page's
// Content-Security-Policy needs no 'unsafe-inline').
//
// 1. Apply a remembered theme; without one, CSS follows the system.
try {
  var theme = localStorage.getItem("mlbook-theme");
  if (theme === "dark" || theme === "light") document.documentElement.setAttribute("data-theme", theme);
} catch (e) {}

// 2. Register the service worker (sw.js, beside this file), which keeps the book readable
//    offline after the first visit. The book works without it, so a refusal (a private
//    window, a browser that blocks workers) is not an error.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(function () {});
  });
}
