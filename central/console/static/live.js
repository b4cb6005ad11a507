/* Keeps a console page's #live region current (the offices page, the front page): every
   data-refresh seconds (15) it fetches the same page and swaps in the new #live, so
   operations can watch a backlog drain without losing their place. A button pauses and
   resumes it (WCAG 2.2.2). A file, not inline script: the Content-Security-Policy allows
   only the console's own scripts. Markup comes from our own server (already escaped), and
   is parsed into an inert document before its nodes are moved in. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var every = (parseInt(live.getAttribute("data-refresh"), 10) || 15) * 1000;
  var toggle = document.getElementById("live-toggle");
  var stale = document.getElementById("live-stale");
  var paused = false;
  var timer = null;

  function schedule() {
    window.clearTimeout(timer);
    if (!paused) { timer = window.setTimeout(refresh, every); }
  }

  function stop() {
    paused = true;
    window.clearTimeout(timer);
    if (stale) { stale.hidden = false; }
    if (toggle) { toggle.hidden = true; }
  }

  function refresh() {
    fetch(window.location.pathname + window.location.search,
          {credentials: "same-origin", cache: "no-store", redirect: "follow",
           // Not the person at work: the session still idles out (web.py REFRESH_HEADER).
           headers: {"X-Nafitha-Refresh": "1"}})
      .then(function (response) {
        // Signed out or expired: the answer is the sign-in page. Stop and say so.
        if (!response.ok || response.redirected) { throw new Error("stale"); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!fresh) { throw new Error("stale"); }
        var nodes = Array.prototype.slice.call(fresh.childNodes).map(function (node) {
          return document.adoptNode(node);
        });
        live.replaceChildren.apply(live, nodes);
        live.setAttribute("data-updated", String(Date.now()));
        schedule();
      })
      .catch(stop);
  }

  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = toggle.getAttribute(paused ? "data-resume" : "data-pause");
      if (!paused) { refresh(); } else { window.clearTimeout(timer); }
    });
  }
  schedule();
}());
