/* The application page's document viewer (templates/_documents.html). A click on a page's
   thumbnail opens it large in a <dialog>: zoom in and out, the previous and next page (across
   all of the application's received pages, in the order shown), rotate by 90 degrees, close.
   Every control is a labelled button; the keyboard works too (arrows page through, + and -
   zoom, R rotates, Esc closes). In Arabic the page reads right to left, so "next" is the
   left arrow. Without script the thumbnails stay links to the full image. A file, not inline
   script: the Content-Security-Policy allows only the console's own scripts. */
(function () {
  "use strict";
  var viewer = document.getElementById("viewer");
  if (!viewer || typeof viewer.showModal !== "function") { return; }
  var thumbs = Array.prototype.slice.call(document.querySelectorAll("a.thumb[data-index]"));
  if (!thumbs.length) { return; }
  var image = document.getElementById("viewer-image");
  var caption = document.getElementById("viewer-caption");
  var position = document.getElementById("viewer-position");
  var zoomText = document.getElementById("viewer-zoom");
  var prev = document.getElementById("viewer-prev");
  var next = document.getElementById("viewer-next");
  var rtl = document.documentElement.dir === "rtl";
  var ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3, 4];
  var shown = 0, zoom = 2, turn = 0, fit = 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }

  function apply() {
    // At 100% the page fits the window (CSS); any other zoom is a width in pixels from that
    // fitted width, so the stage scrolls to the part the officer wants.
    if (ZOOMS[zoom] === 1 || !fit) {
      image.style.width = "";
      image.classList.remove("zoomed");
    } else {
      image.classList.add("zoomed");
      image.style.width = Math.round(fit * ZOOMS[zoom]) + "px";
    }
    image.style.transform = "rotate(" + turn + "deg)";
    image.setAttribute("data-zoom", String(ZOOMS[zoom]));
    image.setAttribute("data-rotate", String(turn));
    zoomText.textContent = fill(viewer.getAttribute("data-zoom"),
                                {p: Math.round(ZOOMS[zoom] * 100)});
    document.getElementById("viewer-zoom-in").disabled = zoom === ZOOMS.length - 1;
    document.getElementById("viewer-zoom-out").disabled = zoom === 0;
  }

  function measure() {
    if (ZOOMS[zoom] === 1) { fit = image.getBoundingClientRect().width || fit; }
    else if (!fit) {
      // Opened and zoomed before the image had loaded: measure at 100%, then zoom.
      image.style.width = ""; image.classList.remove("zoomed");
      fit = image.getBoundingClientRect().width;
    }
    apply();
  }

  function show(index) {
    shown = (index + thumbs.length) % thumbs.length;
    var link = thumbs[shown];
    zoom = 2; turn = 0; fit = 0;
    apply();
    image.src = link.getAttribute("href");
    image.alt = link.getAttribute("data-caption");
    caption.textContent = link.getAttribute("data-caption");
    position.textContent = fill(viewer.getAttribute("data-position"),
                                {n: shown + 1, of: thumbs.length});
    viewer.setAttribute("data-shown", link.getAttribute("href"));
    prev.disabled = next.disabled = thumbs.length < 2;
    if (image.complete && image.naturalWidth) { measure(); }
  }

  image.addEventListener("load", measure);

  function step(by) { if (thumbs.length > 1) { show(shown + by); } }
  function zoomBy(by) {
    var wanted = Math.max(0, Math.min(ZOOMS.length - 1, zoom + by));
    if (wanted === zoom) { return; }
    if (ZOOMS[zoom] === 1) { fit = image.getBoundingClientRect().width || fit; }
    zoom = wanted;
    apply();
  }
  function rotate() { turn = (turn + 90) % 360; apply(); }

  thumbs.forEach(function (link, i) {
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      show(i);
      viewer.showModal();
      document.getElementById("viewer-close").focus();
    });
  });
  prev.addEventListener("click", function () { step(-1); });
  next.addEventListener("click", function () { step(1); });
  document.getElementById("viewer-zoom-in").addEventListener("click", function () { zoomBy(1); });
  document.getElementById("viewer-zoom-out").addEventListener("click",
                                                              function () { zoomBy(-1); });
  document.getElementById("viewer-rotate").addEventListener("click", rotate);
  document.getElementById("viewer-close").addEventListener("click", function () {
    viewer.close();
  });
  viewer.addEventListener("close", function () {
    // Back on the thumbnail of the page last shown: the officer carries on from there.
    image.removeAttribute("src");
    thumbs[shown].focus();
  });
  viewer.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var key = event.key;
    if (key === "ArrowLeft" || key === "ArrowRight") {
      // The arrow pointing the way the page reads goes on: left in Arabic, right in English.
      var forward = (key === "ArrowLeft") === rtl;
      step(forward ? 1 : -1);
    } else if (key === "+" || key === "=") {
      zoomBy(1);
    } else if (key === "-" || key === "_") {
      zoomBy(-1);
    } else if ((key === "r" || key === "R") && target.tagName !== "INPUT") {
      rotate();
    } else {
      return;  // Esc: the dialog closes itself
    }
    event.preventDefault();
  });
})();
