// The rating screen (rate.html): asks about the visit its counter just finished, stores a
// tap through POST /rating/rate, thanks the resident and clears. Live through server-sent
// events from /rating/events (`ask`), with a check of /rating/state when the stream has been
// quiet. A file of its own: the page's Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var THANKS_MS = 5000;   // the thanks stays this long, then the screen clears
  var WATCH_MS = 20000;   // a quiet stream is checked against /rating/state this often
  var LANG = document.documentElement.lang === "en" ? "en" : "ar";
  var WORDS = {
    thanks: [["شكرًا لك!", "Thank you!"],
             ["تقييمك يساعدنا على تحسين الخدمة.", "Your rating helps us improve our service."]],
    already_rated: [["شكرًا لك!", "Thank you!"],
                    ["هذه الزيارة قُيّمت من قبل.", "This visit was already rated."]],
    rating_closed: [["انتهى وقت التقييم", "Rating time is over"],
                    ["يمكن تقييم الزيارة خلال دقائق من انتهائها فقط.",
                     "A visit can be rated only in the minutes after it ends."]],
    other: [["تعذّر حفظ التقييم", "The rating could not be saved"],
            ["نعتذر، حاول مرة أخرى في زيارتك القادمة.", "Sorry; please try again on your next visit."]]
  };
  var test = window.ratingTest = {connected: false, view: "idle", asking: null, renders: 0,
                                  replies: []};
  var $ = function (id) { return document.getElementById(id); };
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".face"));
  var arabicDigits = false;
  var shown = null;        // the ticket asked about now
  var done = {};           // tickets rated (or refused) here: never asked again
  var clearTimer = null, source = null, lastMessageAt = 0;

  function digits(text) {
    return arabicDigits ? String(text).replace(/[0-9]/g, function (d) {
      return String.fromCharCode(0x0660 + Number(d)); }) : String(text);
  }

  function view(name) {
    ["idle", "ask", "thanks"].forEach(function (v) { $("view-" + v).hidden = v !== name; });
    document.body.dataset.view = name;
    test.view = name;
  }

  function later(ms, then) {
    if (clearTimer) clearTimeout(clearTimer);
    clearTimer = setTimeout(function () { clearTimer = null; then(); }, ms);
  }

  function idle() { shown = null; test.asking = null; view("idle"); }

  function render(state) {
    test.renders += 1;
    arabicDigits = state.digits === "arabic" && LANG === "ar";
    $("office-ar").textContent = state.office_ar;
    $("office-en").textContent = state.office_en;
    $("counter-ar").textContent = "الشباك " + digits(state.counter);
    $("counter-en").textContent = "Counter " + state.counter;
    var asking = state.asking;
    if (test.view === "thanks") return;  // the thanks runs out first; the next state follows
    if (!asking || done[asking.ticket]) { if (clearTimer) clearTimeout(clearTimer); idle(); return; }
    if (asking.ticket === shown) return;
    shown = asking.ticket;
    test.asking = asking.ticket;
    $("ticket-ar").textContent = "التذكرة " + digits(asking.number);
    $("ticket-en").textContent = "Ticket " + asking.number;
    buttons.forEach(function (b) { b.disabled = false; b.classList.remove("chosen"); });
    view("ask");
    later(Math.max(1, asking.closes_in_s) * 1000, idle);  // the window closes: clear
  }

  function thank(words) {
    $("thanks-ar").textContent = words[0][0];
    $("thanks-en").textContent = words[0][1];
    $("thanks-more-ar").textContent = words[1][0];
    $("thanks-more-en").textContent = words[1][1];
    view("thanks");
    later(THANKS_MS, function () { idle(); check(true); });
  }

  function rate(button) {
    var ticket = shown;
    if (!ticket || done[ticket]) return;
    done[ticket] = true;  // one tap per visit: the others are ignored from here on
    buttons.forEach(function (b) { b.disabled = true; });
    button.classList.add("chosen");
    var rating = Number(button.dataset.rating);
    fetch("/rating/rate", {method: "POST", credentials: "same-origin",
                           headers: {"Content-Type": "application/json"},
                           body: JSON.stringify({ticket: ticket, rating: rating})})
      .then(function (r) {
        return r.json().then(function (body) { return {status: r.status, body: body}; },
                             function () { return {status: r.status, body: {}}; });
      })
      .then(function (reply) {
        test.replies.push({status: reply.status, reason: reply.body.reason || null});
        if (reply.status === 401) { location.reload(); return; }
        if (reply.status === 200) { thank(WORDS.thanks); return; }
        thank(WORDS[reply.body.reason] || WORDS.other);
      }, function () {
        test.replies.push({status: 0, reason: "network"});
        thank(WORDS.other);
      });
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { rate(b); });
  });

  function setConnected(on) {
    test.connected = on;
    $("reconnecting").hidden = on;
  }

  function onAsk(event) {
    lastMessageAt = Date.now();
    setConnected(true);
    var state;
    try { state = JSON.parse(event.data); } catch (e) { return; }
    render(state);
  }

  function connect() {
    if (source) { source.onerror = null; source.removeEventListener("ask", onAsk); source.close(); }
    source = new EventSource("/rating/events");
    source.onerror = function () {
      setConnected(false);
      // EventSource retries by itself; a refused token is found by the check below.
      retrySoon();
    };
    source.addEventListener("ask", onAsk);
  }

  var retryTimer = null;
  function retrySoon() {
    if (!retryTimer) retryTimer = setTimeout(function () { retryTimer = null; check(true); }, 3000);
  }

  // A quiet stream (or a lost one) is checked against the hub's state; a refused token
  // reloads the page, which then shows the pairing form.
  function check(force) {
    if (!force && Date.now() - lastMessageAt < WATCH_MS) return;
    fetch("/rating/state", {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      if (r.status === 401 || r.status === 403) { location.reload(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (state) {
      if (!state) return;
      lastMessageAt = Date.now();
      render(state);
      if (!test.connected) connect();
    }, function () { retrySoon(); });
  }

  setInterval(check, WATCH_MS);
  connect();
})();
