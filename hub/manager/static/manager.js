// The live view refreshes itself: every few seconds it asks the hub for the panels again
// (/manager/live, the same template the page was drawn with) and swaps them in when they
// changed. The refresh says so (X-Nafitha-Refresh), so it never keeps an idle session alive;
// once the session has ended the page goes to the sign-in page.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var box = document.getElementById("live");
  if (!box) { return; }
  var stale = document.getElementById("live-stale");
  var last = box.innerHTML;
  window.managerTest = { refreshes: 0, changes: 0 };

  function refresh() {
    fetch(box.dataset.source + location.search, {
      headers: { "X-Nafitha-Refresh": "1" }, credentials: "same-origin", redirect: "manual"
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 ||
          response.status === 403) {
        location.assign(box.dataset.ended);
        return null;
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      if (html === null) { return; }
      window.managerTest.refreshes += 1;
      stale.hidden = true;
      if (html !== last) {
        last = html;
        box.innerHTML = html;
        window.managerTest.changes += 1;
      }
    }).catch(function () {
      stale.hidden = false;
    }).then(function () {
      setTimeout(refresh, POLL_MS);
    });
  }
  setTimeout(refresh, POLL_MS);
})();
