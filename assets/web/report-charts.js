/* The charts of a report (core.kpis.report's dict), shared by the hub's and the console's
   report pages. Load chart.umd.min.js first (served from the same folder, never a CDN), then
   this file, then call

       NafithaCharts.draw(root, report, labels, lang)

   root    an element (or document) holding <canvas data-chart="..."> elements:
             wait-by-hour       mean and 90th percentile wait (minutes) by hour the ticket was taken
             volume-by-service  tickets by service (served, not served), biggest first
             trend              tickets and mean wait by day, or by week with data-group="week"
                                (weeks start on Sunday, as core.kpis.Period.week)
           data-title="none" on a canvas leaves its title to the page's own heading.
   labels  {"service": {code: {"ar","en"}}, "office": {...}, "digits": "latin"|"arabic"}
           (docs/reports-files.md); a code without a label is shown as it is.
   lang    "ar" (right-to-left: reversed x axis, value axis on the right, rtl legend and
           tooltips) or "en".
   Each chart gets a text alternative: the canvas is role="img" with an aria-label, and a
   <details class="chart-figures"> with a <table> of its figures follows it.
   Returns the Chart objects; drawing again replaces the charts and their tables.
   Under a Content-Security-Policy without inline script, see drawFromPage at the end. */
(function (global) {
  "use strict";

  var WORDS = {
    ar: {
      "wait-by-hour": "الانتظار حسب ساعة أخذ التذكرة", "volume-by-service": "التذاكر حسب الخدمة",
      "trend-day": "التذاكر والانتظار يوماً بيوم", "trend-week": "التذاكر والانتظار أسبوعاً بأسبوع",
      hour: "الساعة", service: "الخدمة", day: "اليوم", week: "الأسبوع الذي يبدأ في",
      waitMean: "متوسط الانتظار (دقيقة)", waitP90: "المئين 90 للانتظار (دقيقة)",
      tickets: "التذاكر", served: "تمت خدمتها", notServed: "لم تتم خدمتها",
      minutes: "دقيقة", figures: "الأرقام", empty: "لا بيانات في هذه الفترة."
    },
    en: {
      "wait-by-hour": "Waiting by hour the ticket was taken", "volume-by-service": "Tickets by service",
      "trend-day": "Tickets and waiting, day by day", "trend-week": "Tickets and waiting, week by week",
      hour: "Hour", service: "Service", day: "Day", week: "Week starting",
      waitMean: "Mean wait (min)", waitP90: "90th percentile wait (min)",
      tickets: "Tickets", served: "Served", notServed: "Not served",
      minutes: "minutes", figures: "The figures", empty: "No data in this period."
    }
  };
  var COLOURS = { blue: "#1f77b4", orange: "#e8743b", grey: "#adb5bd", green: "#2a9d55" };

  function locale(lang, labels) {
    if (lang !== "ar") return "en-GB";
    return (labels && labels.digits === "arabic") ? "ar-u-nu-arab" : "ar-u-nu-latn";
  }

  function numberFormat(loc, decimals) {
    return new Intl.NumberFormat(loc, { minimumFractionDigits: decimals,
                                        maximumFractionDigits: decimals });
  }

  function labelOf(labels, kind, key, lang) {
    var names = labels && labels[kind] && labels[kind][key];
    return (names && (names[lang] || names.en || names.ar)) || String(key);
  }

  function minutes(seconds) {
    return seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10;
  }

  function visits(report) { return (report && report.visits) || {}; }

  // --- what each chart shows: {title, type, horizontal, keyTitle, keys, datasets}
  // datasets: {label, data (numbers or null), decimals, type?, axis?, stack?, colour}

  function waitByHour(report, labels, lang, loc) {
    var w = WORDS[lang], rows = visits(report).by_hour || [], byHour = {};
    rows.forEach(function (r) { byHour[Number(r.key)] = r; });
    var hours = Object.keys(byHour).map(Number).sort(function (a, b) { return a - b; });
    var keys = [];
    if (hours.length) for (var h = hours[0]; h <= hours[hours.length - 1]; h++) keys.push(h);
    var stat = function (h, s) { var r = byHour[h]; return r ? minutes((r.wait_s || {})[s]) : null; };
    var two = new Intl.NumberFormat(loc, { minimumIntegerDigits: 2 });
    return {
      title: w["wait-by-hour"], type: "bar", keyTitle: w.hour, valueTitle: w.minutes,
      keys: keys.map(function (h) { return two.format(h) + ":" + two.format(0); }),
      datasets: [
        { label: w.waitMean, data: keys.map(function (h) { return stat(h, "mean"); }),
          decimals: 1, colour: COLOURS.blue },
        { label: w.waitP90, data: keys.map(function (h) { return stat(h, "p90"); }),
          decimals: 1, type: "line", colour: COLOURS.orange }
      ]
    };
  }

  function volumeByService(report, labels, lang) {
    var w = WORDS[lang];
    var rows = (visits(report).by_service || []).filter(function (r) { return r.tickets; })
      .slice().sort(function (a, b) { return b.tickets - a.tickets || (a.key < b.key ? -1 : 1); });
    return {
      title: w["volume-by-service"], type: "bar", horizontal: true, keyTitle: w.service,
      valueTitle: w.tickets,
      keys: rows.map(function (r) { return labelOf(labels, "service", r.key, lang); }),
      datasets: [
        { label: w.served, data: rows.map(function (r) { return r.served || 0; }), decimals: 0,
          stack: "tickets", colour: COLOURS.blue },
        { label: w.notServed, data: rows.map(function (r) { return r.tickets - (r.served || 0); }),
          decimals: 0, stack: "tickets", colour: COLOURS.grey }
      ],
      totals: { label: w.tickets, data: rows.map(function (r) { return r.tickets; }) }
    };
  }

  function weekStart(day) {  // "YYYY-MM-DD" of the Sunday on or before day
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - d.getUTCDay());
    return d.toISOString().slice(0, 10);
  }

  function trend(report, labels, lang, loc, options) {
    var w = WORDS[lang], byWeek = options.group === "week";
    var groups = [], index = {};
    (visits(report).by_day || []).forEach(function (r) {
      var key = byWeek ? weekStart(r.key) : r.key;
      if (!(key in index)) { index[key] = groups.length; groups.push({ key: key, tickets: 0, n: 0, waitSum: 0 }); }
      var g = groups[index[key]], wait = r.wait_s || {};
      g.tickets += r.tickets || 0;
      if (wait.n && wait.mean !== null && wait.mean !== undefined) { g.n += wait.n; g.waitSum += wait.mean * wait.n; }
    });
    groups.sort(function (a, b) { return a.key < b.key ? -1 : 1; });
    var dates = new Intl.DateTimeFormat(loc, { day: "numeric", month: "short", timeZone: "UTC" });
    return {
      title: w[byWeek ? "trend-week" : "trend-day"], type: "bar", keyTitle: byWeek ? w.week : w.day,
      valueTitle: w.tickets, otherTitle: w.minutes,
      keys: groups.map(function (g) { return dates.format(new Date(g.key + "T00:00:00Z")); }),
      datasets: [
        { label: w.tickets, data: groups.map(function (g) { return g.tickets; }), decimals: 0,
          colour: COLOURS.blue },
        { label: w.waitMean, data: groups.map(function (g) { return g.n ? minutes(g.waitSum / g.n) : null; }),
          decimals: 1, type: "line", axis: "y1", colour: COLOURS.orange }
      ]
    };
  }

  var BUILDERS = { "wait-by-hour": waitByHour, "volume-by-service": volumeByService, "trend": trend };

  // --- drawing

  function chartConfig(spec, lang, loc, font, showTitle) {
    var rtl = lang === "ar", dir = rtl ? "rtl" : "ltr";
    var formats = spec.datasets.map(function (d) { return numberFormat(loc, d.decimals); });
    var indexAxis = spec.horizontal ? "y" : "x", valueAxis = spec.horizontal ? "x" : "y";
    var scales = {};
    scales[indexAxis] = { reverse: rtl && !spec.horizontal, stacked: !!spec.horizontal,
                          position: spec.horizontal ? (rtl ? "right" : "left") : "bottom",
                          ticks: { autoSkip: !spec.horizontal, font: { family: font } } };
    scales[valueAxis] = { beginAtZero: true, reverse: rtl && !!spec.horizontal,
                          stacked: !!spec.horizontal,
                          position: spec.horizontal ? "bottom" : (rtl ? "right" : "left"),
                          ticks: { precision: 0, font: { family: font } },
                          title: { display: true, text: spec.valueTitle, font: { family: font } } };
    if (spec.datasets.some(function (d) { return d.axis === "y1"; })) {
      scales.y1 = { beginAtZero: true, position: rtl ? "left" : "right",
                    grid: { drawOnChartArea: false }, ticks: { font: { family: font } },
                    title: { display: true, text: spec.otherTitle, font: { family: font } } };
    }
    return {
      type: spec.type,
      data: {
        labels: spec.keys,
        datasets: spec.datasets.map(function (d) {
          var set = { label: d.label, data: d.data, backgroundColor: d.colour, borderColor: d.colour,
                      stack: d.stack };
          if (d.type) { set.type = d.type; set.borderWidth = 2; set.pointRadius = 3; set.spanGaps = true; set.order = -1; }
          if (d.axis) set.yAxisID = d.axis;
          return set;
        })
      },
      options: {
        indexAxis: indexAxis, locale: loc, animation: false, responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          title: { display: showTitle, text: spec.title, font: { family: font, size: 15, weight: "bold" },
                   align: rtl ? "end" : "start" },  // Chart.js's start is always the left
          legend: { rtl: rtl, textDirection: dir, align: "start",  // rtl: start is the right
                    labels: { font: { family: font } } },
          tooltip: {
            rtl: rtl, textDirection: dir, titleFont: { family: font }, bodyFont: { family: font },
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed[valueAxis === "x" ? "x" : "y"];
                return ctx.dataset.label + ": " + (v === null ? "—" : formats[ctx.datasetIndex].format(v));
              }
            }
          }
        }
      }
    };
  }

  function figuresTable(spec, lang, loc) {
    var doc = global.document, w = WORDS[lang];
    var details = doc.createElement("details");
    details.className = "chart-figures";
    details.dir = lang === "ar" ? "rtl" : "ltr";
    var summary = doc.createElement("summary");
    summary.textContent = w.figures;
    details.appendChild(summary);
    var table = doc.createElement("table");
    var caption = doc.createElement("caption");
    caption.textContent = spec.title;
    table.appendChild(caption);
    var columns = [spec.keyTitle].concat(spec.totals ? [spec.totals.label] : [])
      .concat(spec.datasets.map(function (d) { return d.label; }));
    var head = table.createTHead().insertRow();
    columns.forEach(function (text) {
      var th = doc.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.appendChild(th);
    });
    var body = table.createTBody();
    var whole = numberFormat(loc, 0);
    spec.keys.forEach(function (key, i) {
      var row = body.insertRow(), th = doc.createElement("th");
      th.scope = "row";
      th.textContent = key;
      row.appendChild(th);
      if (spec.totals) row.insertCell().textContent = whole.format(spec.totals.data[i]);
      spec.datasets.forEach(function (d) {
        var v = d.data[i];
        row.insertCell().textContent = v === null || v === undefined ? "—" : numberFormat(loc, d.decimals).format(v);
      });
    });
    details.appendChild(table);
    return details;
  }

  var serial = 0;

  function draw(root, report, labels, lang) {
    if (!global.Chart) throw new Error("report-charts.js: load chart.umd.min.js first");
    lang = lang === "ar" ? "ar" : "en";
    root = root || global.document;
    var loc = locale(lang, labels), charts = [];
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = BUILDERS[canvas.dataset.chart];
      if (!build) return;
      var spec = build(report, labels || {}, lang, loc, { group: canvas.dataset.group });
      var old = global.Chart.getChart(canvas);
      if (old) old.destroy();
      // The table goes after the canvas's own box (Chart.js sizes the canvas to it)
      var anchor = canvas.parentElement && canvas.parentElement.children.length === 1 &&
        canvas.parentElement !== root ? canvas.parentElement : canvas;
      var next = anchor.nextElementSibling;
      if (next && next.classList.contains("chart-figures")) next.remove();
      var font = global.getComputedStyle(canvas).fontFamily ||
        (lang === "ar" ? "'Noto Sans Arabic', 'Noto Sans', sans-serif" : "'Noto Sans', sans-serif");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", spec.keys.length ? spec.title : spec.title + ". " + WORDS[lang].empty);
      var figures = figuresTable(spec, lang, loc);
      figures.id = canvas.id ? canvas.id + "-figures" : "chart-figures-" + (++serial);
      canvas.setAttribute("aria-describedby", figures.id);
      anchor.insertAdjacentElement("afterend", figures);
      charts.push(new global.Chart(canvas, chartConfig(spec, lang, loc, font, canvas.dataset.title !== "none")));
    });
    return charts;
  }

  // Pages under our Content-Security-Policy (no inline script) carry the data instead:
  //   <script type="application/json" data-report-charts data-root="#charts">
  //     {"report": {...}, "labels": {...}}</script>
  // and the charts draw themselves once the page is parsed, into data-root (a CSS selector;
  // the whole document without it), in the page's <html lang>.
  function drawFromPage() {
    var doc = global.document, charts = [];
    doc.querySelectorAll('script[type="application/json"][data-report-charts]').forEach(function (el) {
      var data = JSON.parse(el.textContent);
      var root = el.dataset.root ? doc.querySelector(el.dataset.root) : doc;
      if (root) charts = charts.concat(draw(root, data.report, data.labels, doc.documentElement.lang));
    });
    return charts;
  }

  global.NafithaCharts = { draw: draw, drawFromPage: drawFromPage, WORDS: WORDS, specs: BUILDERS };
  if (global.document.readyState === "loading") {
    global.document.addEventListener("DOMContentLoaded", function () { global.NafithaCharts.drawn = drawFromPage(); });
  } else {
    global.NafithaCharts.drawn = drawFromPage();
  }
})(window);
