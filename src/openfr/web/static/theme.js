// The console's theme: the operating system's choice unless the user picked one (kept in this browser only).
// Loaded in <head> so the page never flashes the wrong theme; the switch is wired once the page is parsed.
(function () {
  "use strict";
  var KEY = "openfr-theme";
  var root = document.documentElement;
  function stored() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function dark() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) { return chosen === "dark"; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  var initial = stored();
  if (initial === "dark" || initial === "light") { root.setAttribute("data-theme", initial); }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-theme-switch]");
    if (!button) { return; }
    function show() { button.setAttribute("aria-pressed", dark() ? "true" : "false"); }
    show();
    button.addEventListener("click", function () {
      var next = dark() ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      show();
    });
  });
})();
