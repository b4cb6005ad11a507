// The resident's phone page (phone.html, hub/phone.py): follows one ticket through
// server-sent events from /q/<token>/events (`state`), with a check of /q/<token>/state
// when the stream has been quiet; "I need more time" and "leave the queue" POST with the
// X-Nafitha-Follow header. A file of its own: the page's Content-Security-Policy allows no
// inline script. Every word the page shows is in WORDS (Arabic first).
(function () {
  "use strict";
  var WATCH_MS = 20000;  // a quiet stream is checked against /state this often
  var NEAR = 3;          // this many people ahead or fewer: "your turn is near"
  var LANG = document.documentElement.lang === "en" ? "en" : "ar";
  var FINAL = {done: true, no_show: true, cancelled: true};
  var WORDS = {
    app: ["نافذة — تابع دورك", "Nafitha — follow your turn"],
    your_number: ["رقم دورك", "Your number"],
    ahead: ["عدد المنتظرين قبلك", "People ahead of you"],
    wait: ["الانتظار المتوقع", "Estimated wait"],
    minutes_one: ["حوالي دقيقة واحدة", "about 1 min"],
    minutes_two: ["حوالي دقيقتين", "about 2 min"],
    minutes_few: ["حوالي {n} دقائق", "about {n} min"],
    minutes_many: ["حوالي {n} دقيقة", "about {n} min"],
    under_a_minute: ["أقل من دقيقة", "under a minute"],
    waiting: ["أنت في الطابور", "You are in the queue"],
    waiting_more: ["تتحدث هذه الصفحة تلقائيًا. يمكنك الانتظار في مكان قريب.",
                   "This page updates by itself. You may wait nearby."],
    near: ["اقترب دورك", "Your turn is near"],
    near_more: ["يرجى العودة إلى صالة الانتظار الآن.", "Please come back to the waiting hall now."],
    next: ["أنت التالي", "You are next"],
    called: ["تفضل إلى الشباك {counter}", "Please go to counter {counter}"],
    called_more: ["نودي على رقمك الآن.", "Your number has just been called."],
    recalled_more: ["نودي على رقمك مرة أخرى. يرجى التوجه إلى الشباك الآن.",
                    "Your number was called again. Please go to the counter now."],
    serving: ["تُخدم الآن في الشباك {counter}", "Being served at counter {counter}"],
    serving_more: ["نتمنى لك زيارة موفقة.", "We hope your visit goes well."],
    parked: ["معاملتك معلّقة مؤقتًا", "Your visit is on hold"],
    parked_more: ["عد إلى الشباك {counter} عندما تكون جاهزًا.",
                  "Go back to counter {counter} when you are ready."],
    done: ["انتهت زيارتك، شكرًا لك", "Your visit is complete. Thank you"],
    done_more: ["يمكنك إغلاق هذه الصفحة.", "You can close this page."],
    no_show: ["فاتك دورك", "You missed your turn"],
    no_show_more: ["نودي على رقمك ولم تحضر. يرجى أخذ تذكرة جديدة من الجهاز.",
                   "Your number was called but you did not come. Please take a new ticket at the kiosk."],
    cancelled: ["غادرت الطابور", "You left the queue"],
    cancelled_more: ["أُلغي هذا الرقم. يمكنك أخذ تذكرة جديدة متى شئت.",
                     "This number is cancelled. You can take a new ticket at any time."],
    more_time: ["أحتاج وقتًا إضافيًا", "I need more time"],
    more_hint: ["يؤخّر دورك {n}، مرة واحدة فقط.", "Moves you back {n}, once only."],
    place_one: ["دورًا واحدًا", "1 place"],
    place_two: ["دورين", "2 places"],
    place_few: ["{n} أدوار", "{n} places"],
    place_many: ["{n} دورًا", "{n} places"],
    more_used: ["استخدمت الوقت الإضافي", "Extra time already used"],
    more_used_hint: ["أُخّر دورك مرة من قبل؛ لا يمكن تأخيره مرة أخرى.",
                     "You were moved back once; it cannot be done again."],
    more_done: ["أُخّر دورك {n}.", "You moved back {n}."],
    more_last: ["أنت آخر المنتظرين؛ بقي دورك كما هو.", "You are the last in the queue; your place stays."],
    leave: ["مغادرة الطابور", "Leave the queue"],
    leave_title: ["مغادرة الطابور؟", "Leave the queue?"],
    leave_text: ["سيُلغى رقمك ولن يُنادى عليه. لا يمكن التراجع.",
                 "Your number will be cancelled and not called. This cannot be undone."],
    leave_yes: ["نعم، غادر الطابور", "Yes, leave the queue"],
    leave_no: ["لا، أبقِني في الطابور", "No, keep my place"],
    forged: ["هذا الرابط غير صالح", "This link is not valid"],
    forged_more: ["لم يصدر هذا الرمز عن هذا المركز. امسح الرمز المطبوع على تذكرتك مرة أخرى.",
                  "This code was not printed by this centre. Scan the code on your ticket again."],
    other_office: ["تذكرة من مركز آخر", "A ticket from another centre"],
    other_office_more: ["هذه التذكرة صادرة عن مركز خدمات آخر. تابعها عبر شبكة ذلك المركز.",
                        "This ticket was issued at another service centre. Follow it on that centre's Wi-Fi."],
    no_such_ticket: ["التذكرة غير موجودة", "Ticket not found"],
    no_such_ticket_more: ["لا توجد لدى هذا المركز تذكرة بهذا الرمز.",
                          "This centre holds no ticket with this code."],
    already_postponed: ["لقد استخدمت الوقت الإضافي من قبل.", "You already used your extra time."],
    not_waiting: ["لم يعد رقمك في الانتظار.", "Your number is no longer waiting."],
    failed: ["تعذّر ذلك، حاول مرة أخرى.", "That did not work; please try again."],
    reconnecting: ["جارٍ إعادة الاتصال…", "Reconnecting…"],
    privacy: ["تعرض هذه الصفحة رقم التذكرة ومكانها فقط، دون أي بيانات شخصية.",
              "This page shows only the ticket's number and place: nothing personal."],
    other_language: ["English", "العربية"],
    sms_title: ["أرسل لي رسالة عند اقتراب دوري", "Text me when my turn is near"],
    sms_number: ["رقم الهاتف المحمول", "Mobile number"],
    sms_consent: ["أوافق على تلقي رسائل عن هذه التذكرة على هذا الرقم.",
                  "I agree to receive messages about this ticket on this number."],
    sms_send: ["أرسل لي رسالة", "Text me"],
    sms_done: ["سنرسل رسالة إلى {number} عندما يبقى {n} أو أقل قبلك، وعند المناداة على رقمك.",
               "We will text {number} when {n} or fewer are ahead of you, and when you are called."],
    consent_required: ["يرجى تأكيد الموافقة على تلقي الرسائل أولًا.",
                       "Please tick the box to agree to messages first."],
    not_phone: ["رقم الهاتف غير صحيح. اكتب رقم هاتفك المحمول كما هو.",
                "That phone number is not valid. Type your mobile number as it is."],
    rate_limited: ["أُرسل إلى هذا الرقم عدد كبير من الرسائل. حاول لاحقًا.",
                   "This number has had too many messages. Try later."],
    messages_off: ["لا يرسل هذا المركز رسائل نصية حاليًا.", "This centre does not send text messages now."],
    ticket_final: ["لم يعد رقمك في الانتظار.", "Your number is no longer waiting."]
  };
  var test = window.phoneTest = {connected: false, renders: 0, view: "loading", state: null,
                                 vibrations: 0, replies: []};
  var $ = function (id) { return document.getElementById(id); };
  var base = location.pathname.replace(/\/+$/, "");
  var arabicDigits = false;
  var last = null, source = null, lastMessageAt = 0, busy = false;

  function word(key, values) {
    var text = (WORDS[key] || WORDS.failed)[LANG === "ar" ? 0 : 1];
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return digits(values && values[name] != null ? values[name] : "");
    });
  }

  function digits(text) {
    return arabicDigits ? String(text).replace(/[0-9]/g, function (d) {
      return String.fromCharCode(0x0660 + Number(d)); }) : String(text);
  }

  function minutes(n) {
    if (n < 1) return word("under_a_minute");
    if (n === 1) return word("minutes_one");
    if (n === 2 && LANG === "ar") return word("minutes_two");
    return word(n <= 10 && LANG === "ar" ? "minutes_few" : "minutes_many", {n: n});
  }

  // "3 places" with Arabic's number agreement (1, 2, 3-10, 11+).
  function places(n) {
    return word(n === 1 ? "place_one" : n === 2 ? "place_two" : n <= 10 ? "place_few" :
                "place_many", {n: n});
  }

  function view(name) {
    document.body.dataset.view = name;
    test.view = name;
  }

  // The words that do not depend on the ticket, and the language switch.
  function fixedWords() {
    document.title = word("app");
    Array.prototype.forEach.call(document.querySelectorAll("[data-w]"), function (el) {
      el.textContent = word(el.dataset.w);
    });
    var other = LANG === "ar" ? "en" : "ar";
    var sw = $("switch");
    sw.textContent = word("other_language");
    sw.lang = other;
    sw.hreflang = other;
    sw.href = "?lang=" + other;
  }

  function refuse(reason) {
    var key = WORDS[reason] ? reason : "forged";
    $("refused-title").textContent = word(key);
    $("refused-text").textContent = word(key + "_more");
    ["ticket", "status", "actions", "confirm"].forEach(function (id) { $(id).hidden = true; });
    $("refused").hidden = false;
    $("refused").dataset.reason = reason;
    view("refused");
    if (source) source.close();
    source = null;
  }

  function render(state) {
    test.renders += 1;
    var before = last;
    last = test.state = state;
    arabicDigits = state.digits === "arabic" && LANG === "ar";
    $("office").textContent = LANG === "ar" ? state.office_ar : state.office_en;
    $("number").textContent = digits(state.number);
    $("service").textContent = LANG === "ar" ? state.service_ar : state.service_en;
    $("ticket").hidden = false;
    $("status").hidden = false;
    var s = state.state, head, more, kind = s;
    var values = {counter: state.counter, n: state.more_time_places};
    if (s === "waiting") {
      var ahead = state.people_ahead;
      kind = ahead === 0 ? "next" : ahead <= NEAR ? "near" : "waiting";
      head = word(kind);
      more = word(kind === "waiting" ? "waiting_more" : "near_more");
      $("ahead").textContent = digits(ahead);
      $("wait").textContent = minutes(state.estimated_wait_minutes);
    } else {
      head = word(s, values);
      more = word(s === "called" && state.call_count > 1 ? "recalled_more" : s + "_more", values);
    }
    $("headline").textContent = head;
    $("detail").textContent = more;
    $("figures").hidden = s !== "waiting";
    $("status").dataset.kind = kind;
    document.body.dataset.state = s;
    // The actions: only while waiting; more time once.
    $("actions").hidden = s !== "waiting";
    showSms(state);
    if (s !== "waiting") $("confirm").hidden = true;
    var more_btn = $("more-time");
    more_btn.disabled = !state.can_have_more_time || busy;
    more_btn.textContent = word(state.postponed ? "more_used" : "more_time");
    $("more-hint").textContent = state.postponed ? word("more_used_hint") :
      word("more_hint", {n: places(state.more_time_places)});
    view(s);
    // Called (or called again): the moment to move. Vibrate where the phone can.
    var calledNow = s === "called" && (!before || before.state !== "called" ||
                                       before.call_count !== state.call_count);
    if (calledNow) {
      document.title = "▶ " + head;
      if (navigator.vibrate) {
        try { navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed */ }
      }
      test.vibrations += 1;
    } else if (s !== "called") {
      document.title = word("app");
    }
    if (FINAL[s] && source) { source.close(); source = null; setConnected(true); }
  }

  function note(text) {
    $("note").textContent = text;
    $("note").hidden = !text;
  }

  function showError(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
  }

  function post(what) {
    busy = true;
    $("more-time").disabled = true;
    showError("");
    return fetch(base + "/" + what, {method: "POST", cache: "no-store",
                                     headers: {"X-Nafitha-Follow": "1"}})
      .then(function (r) {
        return r.json().then(function (body) { return {status: r.status, body: body}; },
                             function () { return {status: r.status, body: {}}; });
      }, function () { return {status: 0, body: {reason: "network"}}; })
      .then(function (reply) {
        busy = false;
        test.replies.push({what: what, status: reply.status, reason: reply.body.reason || null});
        if (reply.status === 200) { render(reply.body); return reply; }
        var reason = reply.body.reason;
        if (reply.status === 403 || reply.status === 404) {
          if (WORDS[reason + "_more"]) { refuse(reason); return reply; }
        }
        showError(word(WORDS[reason] ? reason : "failed"));
        if (last) render(last);
        check(true);
        return reply;
      });
  }

  $("more-time").addEventListener("click", function () {
    post("more-time").then(function (reply) {
      if (reply.status !== 200) return;
      var n = reply.body.moved_places;
      note(n === 0 ? word("more_last") : word("more_done", {n: places(n)}));
    });
  });
  $("leave").addEventListener("click", function () {
    $("actions").hidden = true;
    $("confirm").hidden = false;
    $("leave-no").focus();
  });
  $("leave-no").addEventListener("click", function () {
    $("confirm").hidden = true;
    if (last) render(last);
  });
  $("leave-yes").addEventListener("click", function () {
    $("confirm").hidden = true;
    post("leave");
  });

  // "Text me when my turn is near": only where the office sends messages, while the
  // ticket waits; once subscribed it says where messages go (the number masked).
  var sms = null;
  function showSms(state) {
    var card = $("sms");
    card.hidden = !state.sms_offered || state.state !== "waiting" ||
      !$("confirm").hidden;
    if (card.hidden || sms) return;
    sms = {loading: true};
    fetch(base + "/sms", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (body) { smsState(body); }, function () { sms = null; });
  }

  function smsState(body) {
    sms = body;
    test.sms = body;
    var subscribed = !!body.number;
    $("sms-form").hidden = subscribed;
    $("sms-done").hidden = !subscribed;
    if (subscribed) {
      // The number is a left-to-right run inside the sentence.
      $("sms-done").textContent = word("sms_done", {number: "\u2066" + body.number + "\u2069",
                                                     n: body.near_threshold});
    }
  }

  $("sms-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var error = $("sms-error");
    error.hidden = true;
    if (!$("sms-consent").checked) {
      error.textContent = word("consent_required");
      error.hidden = false;
      return;
    }
    $("sms-send").disabled = true;
    fetch(base + "/sms", {method: "POST", cache: "no-store",
                          headers: {"X-Nafitha-Follow": "1", "Content-Type": "application/json"},
                          body: JSON.stringify({number: $("sms-number").value.trim(),
                                                consent: true, language: LANG})})
      .then(function (r) {
        return r.json().then(function (b) { return {status: r.status, body: b}; },
                             function () { return {status: r.status, body: {}}; });
      }, function () { return {status: 0, body: {}}; })
      .then(function (reply) {
        $("sms-send").disabled = false;
        test.replies.push({what: "sms", status: reply.status,
                           reason: reply.body.reason || reply.body.problem || null});
        if (reply.status === 200) { smsState(reply.body); return; }
        var reason = reply.body.problem || reply.body.reason;
        error.textContent = word(WORDS[reason] ? reason : "failed");
        error.hidden = false;
      });
  });

  function setConnected(on) {
    test.connected = on;
    $("reconnecting").hidden = on;
  }

  function onState(event) {
    lastMessageAt = Date.now();
    setConnected(true);
    var state;
    try { state = JSON.parse(event.data); } catch (e) { return; }
    render(state);
  }

  function connect() {
    if (source) { source.onerror = null; source.close(); }
    source = new EventSource(base + "/events");
    source.onerror = function () {
      setConnected(false);
      retrySoon();  // EventSource retries by itself; a refused link is found by the check
    };
    source.addEventListener("state", onState);
  }

  var retryTimer = null;
  function retrySoon() {
    if (!retryTimer) retryTimer = setTimeout(function () { retryTimer = null; check(true); }, 3000);
  }

  function check(force) {
    if (test.view === "refused" || (last && FINAL[last.state])) return;
    if (!force && Date.now() - lastMessageAt < WATCH_MS) return;
    fetch(base + "/state", {cache: "no-store"}).then(function (r) {
      return r.json().then(function (body) { return {status: r.status, body: body}; });
    }).then(function (reply) {
      if (reply.status === 403 || reply.status === 404) { refuse(reply.body.reason); return; }
      if (reply.status !== 200) { retrySoon(); return; }
      lastMessageAt = Date.now();
      render(reply.body);
      if (!source && !FINAL[reply.body.state]) connect();
    }, function () { retrySoon(); });
  }

  fixedWords();
  $("office").textContent = document.body.dataset[LANG === "ar" ? "officeAr" : "officeEn"] ||
    $("office").textContent;
  var refused = document.body.dataset.refused;
  if (refused) {
    refuse(refused);
  } else {
    setInterval(check, WATCH_MS);
    connect();
  }
})();
