// Instant search for the users page: after a pause in typing, fetch the
// results fragment for the query and put it in place. Without this
// script the form still works (it submits as a normal GET).
"use strict";
(function () {
  var form = document.querySelector("form.search[data-results]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var timer = null, seq = 0;
  function run() {
    var q = input.value.trim();
    var mine = ++seq;
    var url = form.dataset.results + (q ? "?q=" + encodeURIComponent(q) : "");
    fetch(url, { headers: { "X-Console-Fetch": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== seq) return; // a later query answered first: keep it
        var box = document.getElementById("results");
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        box.replaceWith(tmp.firstElementChild);
        history.replaceState(null, "", q ? "?q=" + encodeURIComponent(q) : location.pathname);
      })
      .catch(function (status) {
        if (mine !== seq) return;
        if (status === 401) { location.href = "/console/sign-in"; return; }
        var box = document.getElementById("results");
        box.textContent = status === 400
          ? "That search cannot be run: use up to 256 characters of text."
          : "The search failed; press Search to try again.";
      });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
})();
