// The period form shows only the fields its kind needs (day/week: a date; month: a month;
// range: from and to). Without scripts every field shows and the server still knows which.
(function () {
  "use strict";
  var kind = document.getElementById("kind");
  if (!kind) { return; }
  function show() {
    document.querySelectorAll("[data-kinds]").forEach(function (field) {
      field.hidden = field.dataset.kinds.split(" ").indexOf(kind.value) < 0;
    });
  }
  kind.addEventListener("change", show);
  show();

  // The charts: core.kpis' report, drawn by the shared script (/shared/report-charts.js).
  var data = document.getElementById("report-data");
  var charts = document.getElementById("charts");
  window.managerCharts = { drawn: 0 };
  if (data && charts && window.NafithaCharts) {
    var given = JSON.parse(data.textContent);
    window.managerCharts.drawn = window.NafithaCharts.draw(
      charts, given.report, given.labels, given.lang).length;
  }
})();
