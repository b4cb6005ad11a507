/* A report page's own behaviour, the same on the hub (/manager/reports) and the console
   (/console/reports): the period form shows only the fields its kind needs (day/week: a
   date; month: a month; range: from and to; without scripts every field shows and the
   server still knows which), and the charts of the page's JSON data block (#report-data:
   {report, labels, lang}) are drawn into #charts by report-charts.js. A file, not inline
   script: the pages' Content-Security-Policy allows only their own scripts.
   window.reportCharts.drawn: how many charts were drawn (the tests wait for it). */
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
  window.reportCharts = { drawn: 0 };
  if (data && charts && window.NafithaCharts) {
    var given = JSON.parse(data.textContent);
    window.reportCharts.drawn = window.NafithaCharts.draw(
      charts, given.report, given.labels, given.lang).length;
  }
})();
