// The pairing form of a display board (hub/board/pair.html) and of a rating screen
// (hub/rating/pair.html): the form's data-endpoint says where the code goes. A file of its
// own: the page's Content-Security-Policy allows no inline script (core/http_policy.py).
(function () {
  "use strict";
  // One sentence per refusal reason from POST /board/pair or /rating/pair, in both languages.
  var MESSAGES = {
    pairing_code: ["الرمز غير صحيح أو استُخدم من قبل. تحقّق منه على جهاز المركز وأعد المحاولة.",
                   "That code is wrong or already used. Check it on the hub and try again."],
    pairing_expired: ["انتهت صلاحية هذا الرمز. أنشئ رمزًا جديدًا على جهاز المركز.",
                      "That code has expired. Make a new one on the hub."],
    too_many_attempts: ["محاولات خاطئة كثيرة. انتظر دقيقة ثم أعد المحاولة.",
                        "Too many wrong codes. Wait a minute, then try again."],
    not_a_board: ["هذا الرمز لكشك أو شباك وليس للوحة النداء، ولم يعد صالحًا. أنشئ رمزًا للوحة.",
                  "That code was for a kiosk or a counter, not a board, and is now spent. Make a board code on the hub."],
    not_a_rating_screen: ["هذا الرمز لجهاز آخر وليس لشاشة التقييم، ولم يعد صالحًا. أنشئ رمزًا لشاشة تقييم.",
                          "That code was for another device, not a rating screen, and is now spent. Make a rating screen code on the hub."],
    empty: ["اكتب رمز الربط أولًا.", "Type the pairing code first."],
    network: ["تعذّر الوصول إلى جهاز المركز. تحقّق من الشبكة وأعد المحاولة.",
              "Cannot reach the hub. Check the network and try again."],
    other: ["تعذّر الربط.", "Pairing failed."]
  };
  var form = document.getElementById("pair-form");
  var input = document.getElementById("code");
  var button = document.getElementById("pair-button");
  var box = document.getElementById("pair-error");

  function fail(reason, detail) {
    var m = MESSAGES[reason] || MESSAGES.other;
    document.getElementById("error-ar").textContent = m[0];
    document.getElementById("error-en").textContent = m[1] + (MESSAGES[reason] || !detail ? "" : " (" + detail + ")");
    box.dataset.reason = reason;
    box.hidden = false;
    button.disabled = false;
    input.focus();
    input.select();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    if (!code) { fail("empty"); return; }
    button.disabled = true;
    box.hidden = true;
    fetch(form.dataset.endpoint, {method: "POST", credentials: "same-origin",
                                  headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify({code: code})})
      .then(function (r) {
        if (r.ok) { location.reload(); return; }
        return r.json().then(function (body) {
          fail(body && body.reason || (r.status === 422 ? "pairing_code" : "other"),
               body && body.message);
        }, function () { fail("other", "HTTP " + r.status); });
      }, function () { fail("network"); });
  });
})();
