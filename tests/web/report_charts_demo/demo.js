/* The demo page: ?lang=en|ar, the day's charts from demo-report.json's day report and the
   trends from its month of days. */
(async function () {
  "use strict";
  var lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "ar";
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
  document.getElementById("title").textContent = lang === "ar" ? "مخططات التقرير" : "Report charts";
  var demo = await (await fetch("demo-report.json")).json();
  window.demoCharts = NafithaCharts.draw(document.getElementById("charts"), demo.report, demo.labels, lang)
    .concat(NafithaCharts.draw(document.getElementById("trends"), demo.month, demo.labels, lang));
  document.body.dataset.drawn = "yes";
})();
