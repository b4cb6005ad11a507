// ?lang=en: English first, left to right; anything else: Arabic first, right to left.
// A file of its own, loaded before the page is drawn: the pages' Content-Security-Policy
// allows no inline script (core/http_policy.py).
(function () {
  var en = new URLSearchParams(location.search).get("lang") === "en";
  document.documentElement.lang = en ? "en" : "ar";
  document.documentElement.dir = en ? "ltr" : "rtl";
})();
