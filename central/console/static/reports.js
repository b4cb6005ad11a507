/* The reports page (central/console/reports.py): the period form shows only the fields its
   kind needs (without scripts every field shows and the server still knows which), and the
   charts of the report are drawn by the shared script (/console/shared/report-charts.js)
   from the page's JSON data block. A file, not inline script: the Content-Security-Policy
   allows only the console's own scripts. */
(function () {
  "use strict";
  var kind = document.getElementById("kind");
  if (kind) {
    var show = function () {
      document.querySelectorAll("[data-kinds]").forEach(function (field) {
        field.hidden = field.dataset.kinds.split(" ").indexOf(kind.value) < 0;
      });
    };
    kind.addEventListener("change", show);
    show();
  }
  var data = document.getElementById("report-data");
  var charts = document.getElementById("charts");
  window.consoleCharts = { drawn: 0 };
  if (data && charts && window.NafithaCharts) {
    var given = JSON.parse(data.textContent);
    window.consoleCharts.drawn = window.NafithaCharts.draw(
      charts, given.report, given.labels, given.lang).length;
  }
})();
