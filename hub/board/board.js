/* Nafitha display board: the hall's TV.

   Live picture from the hub's server-sent events (/board/events): `snapshot` redraws the
   board, `call` is announced (a chime, then the ticket and counter spoken in Arabic and
   English) and makes the ticket flash. The TV runs for days, so nothing here grows: the
   board's slots are made once and filled in place, the speech queue keeps at most
   MAX_PENDING announcements (the oldest is dropped), and the test hook keeps the last
   MAX_ANNOUNCED spoken texts.

   The header's clock shows the office's time in the office's zone (from the hub, with the
   hub's clock at page load: a TV whose own clock or zone is wrong still shows the office's
   time), redrawn on each minute. "Recently called" lists the latest calls as they happen
   (current calls included), newest first, a recalled ticket once, at its newest call.

   window.boardTest = {announced, connected, renders, marker, dropped, sound} is read by
   tests/hub/test_board.py and tests/hub/test_board_polish.py. */
(function () {
  "use strict";

  var LANG = document.documentElement.lang === "en" ? "en" : "ar";
  var OTHERS = 9;          // current calls listed under the newest one
  var RECENT = 8;          // rows of "recently called" at most: the latest call and 7 before it
  var RECENT_ROW_VH = 6.4; // ... fewer when many services leave less room (a row's least height)
  var ALL_SERVICES = 12;   // up to this many services: every one shown, 0 waiting too;
                           // more (a ministry's catalogue): only those with someone waiting
  var MAX_WAITING = 30;    // service tiles at most (5 x 6); the most waited-for when more
  var MIN_NAME_FIT = 0.66; // a long service name shrinks to this (>= 15 px on a 1080-line
                           // TV), then ends in "..." (whole in the called ticket's line)
  var MAX_PENDING = 3;     // announcements waiting to be spoken
  var MAX_ANNOUNCED = 50;  // spoken texts kept for tests
  var MAX_FLASHING = 20;
  var FLASH_MS = 6000;
  var OFFLINE_AFTER_MS = 1500;  // a blip shorter than this shows no "reconnecting"
  var WATCH_MS = 30000;         // how often a quiet stream is checked against /board/state
  var AR_DIGITS = "٠١٢٣٤٥٦٧٨٩";

  var test = window.boardTest = {announced: [], connected: false, renders: 0, marker: null,
                                 dropped: 0, sound: "none"};

  function $(id) { return document.getElementById(id); }
  function noop() {}

  // --- numbers and labels ----------------------------------------------------------------------
  var arabicDigits = false;  // snapshot digits == "arabic" and the page is Arabic

  function num(value) {
    var s = value == null ? "" : String(value);
    return arabicDigits ? s.replace(/[0-9]/g, function (d) { return AR_DIGITS[+d]; }) : s;
  }

  function counterLabel(lang, counter) {
    return lang === "ar" ? "الشباك " + (lang === LANG ? num(counter) : String(counter))
                         : "Counter " + counter;
  }

  var OTHER = LANG === "ar" ? "en" : "ar";

  // --- slots: made once, filled in place -----------------------------------------------------
  // --- the clock: the office's time and date -------------------------------------------------
  var body = document.body;
  var zone = body.dataset.zone && body.dataset.zone.indexOf("{{") < 0 ? body.dataset.zone : undefined;
  var hubNow = Number(body.dataset.hubNow);
  var skew = isFinite(hubNow) && hubNow > 0 ? hubNow - Date.now() : 0;  // hub's clock - TV's
  var clockTime = $("clock-time"), clockDateAr = $("clock-date-ar"), clockDateEn = $("clock-date-en");
  var clockTimer = null;
  var formats = {};

  function format(key, locale, options) {
    if (!formats[key]) {
      try {
        formats[key] = new Intl.DateTimeFormat(locale, Object.assign({timeZone: zone}, options));
      } catch (e) {  // an unknown zone: the TV's own, rather than no clock
        formats[key] = new Intl.DateTimeFormat(locale, options);
      }
    }
    return formats[key];
  }

  function drawClock() {
    var now = new Date(Date.now() + skew);
    var nu = arabicDigits ? "arab" : "latn";
    setText(clockTime, format("t" + nu, "en-GB", {hour: "2-digit", minute: "2-digit",
                                                  hourCycle: "h23", numberingSystem: nu})
                         .format(now));
    var day = {weekday: "long", day: "numeric", month: "long", year: "numeric"};
    setText(clockDateAr, format("ar" + nu, "ar-BH", Object.assign({numberingSystem: nu}, day))
                           .format(now));
    setText(clockDateEn, format("en", "en-GB", Object.assign({numberingSystem: "latn"}, day))
                           .format(now));
    test.clock = clockTime.textContent;
    clearTimeout(clockTimer);  // again just after the next minute begins
    clockTimer = setTimeout(drawClock, 60000 - (now.getTime() % 60000) + 50);
  }

  function el(tag, cls, parent, dir) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (dir) node.dir = dir;
    if (parent) parent.appendChild(node);
    return node;
  }

  function setText(node, text) {
    text = text == null ? "" : String(text);
    if (node.textContent !== text) node.textContent = text;
  }

  function show(node, visible) {
    if (node.hidden === visible) node.hidden = !visible;
  }

  var hero = {box: $("hero-call"), number: $("hero-number"), counter: $("hero-counter"),
              counterOther: $("hero-counter-other"), service: $("hero-service"),
              serviceAr: $("hero-service-ar"), serviceEn: $("hero-service-en"),
              idle: $("hero-idle"), current: null, gen: 0};

  /* "الشباك 3" / "Counter 3" in a list: the word smaller than the counter's name. */
  function counterSpans(slot, parent) {
    var box = el("span", "counter", parent);
    slot.counterWord = el("span", "word", box);
    box.appendChild(document.createTextNode(" "));
    slot.counterName = el("span", "name", box);
  }

  var others = [];
  (function () {
    var list = $("others");
    for (var i = 0; i < OTHERS; i++) {
      var li = el("li", "call", list);
      var slot = {box: li, number: el("span", "number", li, "ltr"), current: null, gen: 0};
      el("span", "arrow-small", li).setAttribute("aria-hidden", "true");
      counterSpans(slot, li);
      li.hidden = true;
      others.push(slot);
    }
  })();

  var recent = [];
  (function () {
    var list = $("recent");
    for (var i = 0; i < RECENT; i++) {
      var li = el("li", "row", list);
      var slot = {box: li, number: el("span", "number", li, "ltr"), current: null, gen: 0};
      counterSpans(slot, li);
      li.hidden = true;
      recent.push(slot);
    }
  })();

  var waitingList = $("waiting"), waitingNone = $("waiting-none");
  var waiting = [];
  var grid = document.querySelector(".grid");

  /* Columns and the panel's height by how many services show: up to 8 in two rows of four
     (the panel's usual 25vh), up to 18 in rows of six, more in smaller tiles five a row
     (wider, for long names); each row adds a tile's height. */
  var TILE_VH = 8.2, DENSE_TILE_VH = 7, PANEL_VH = 8.6, DENSE_PANEL_VH = 7.4;

  function waitingSlots(n) {
    n = Math.min(n, MAX_WAITING);
    show(waitingNone, n === 0);
    show(waitingList, n > 0);
    if (waiting.length === n) return;
    while (waitingList.firstChild) waitingList.removeChild(waitingList.firstChild);
    waiting = [];
    for (var i = 0; i < n; i++) {
      var li = el("li", "service", waitingList);
      var slot = {box: li, prefix: el("span", "prefix", li, "ltr")};
      slot.names = el("span", "names bi", li);
      slot.ar = el("span", "ar", slot.names, "rtl");
      slot.en = el("span", "en", slot.names, "ltr");
      slot.count = el("span", "count", li);
      waiting.push(slot);
    }
    var dense = n > 18;
    var cols = n <= 4 ? n : n <= 8 ? 4 : dense ? 5 : 6;
    var rows = Math.max(Math.ceil(n / Math.max(cols, 1)), 1);
    waitingList.classList.toggle("dense", dense);
    waitingList.style.setProperty("--cols", String(Math.max(cols, 1)));
    waitingList.style.setProperty("--rows", String(rows));
    var tile = dense ? DENSE_TILE_VH : TILE_VH;
    grid.style.setProperty("--waiting-h", ((dense ? DENSE_PANEL_VH : PANEL_VH) +
                                           Math.max(rows, 2) * (tile + 1.2) - 1.2).toFixed(1) + "vh");
  }

  /* The services the panel shows: the whole catalogue when it is small; else the services
     someone waits for, in catalogue order (the most waited-for when more than fit). */
  function shownServices(all) {
    if (all.length <= ALL_SERVICES) return all;
    var busy = all.filter(function (item) { return item && item.waiting > 0; });
    if (busy.length <= MAX_WAITING) return busy;
    var top = busy.slice().sort(function (a, b) { return b.waiting - a.waiting; })
                  .slice(0, MAX_WAITING);
    return busy.filter(function (item) { return top.indexOf(item) >= 0; });
  }

  /* A service's names at full size when they fit (three lines for the page's language, two
     for the other), else smaller (never below MIN_NAME_FIT), else cut with "..." and the
     whole name in the tile's title. */
  function fitNames(slot) {
    var names = slot.names;
    var key = slot.ar.textContent + "|" + slot.en.textContent + "|" + window.innerWidth + "x" +
              window.innerHeight + "|" + waiting.length + "|" + slot.count.textContent.length +
              "|" + slot.prefix.textContent.length;
    if (slot.fitKey === key) return;
    slot.fitKey = key;
    slot[OTHER].classList.remove("clamp", "clamp-1");
    slot[LANG].classList.remove("clamp");
    slot.box.removeAttribute("title");
    var fit = 1;
    names.style.setProperty("--nfit", "1");
    for (var i = 0; i < 8 && overflows(slot); i++) {
      fit = Math.max(MIN_NAME_FIT, fit * Math.min(0.93, Math.sqrt(names.clientHeight /
                                                                  names.scrollHeight)));
      names.style.setProperty("--nfit", fit.toFixed(3));
      if (fit === MIN_NAME_FIT) break;
    }
    // Still too long: the other language's line ends in "..." first (two lines, then one),
    // then the page's (three lines).
    if (overflows(slot)) slot[OTHER].classList.add("clamp");
    if (overflows(slot)) slot[OTHER].classList.add("clamp-1");
    if (overflows(slot)) slot[LANG].classList.add("clamp");
    if (slot[OTHER].classList.contains("clamp")) {
      slot.box.title = slot.ar.textContent + " · " + slot.en.textContent;
    }
  }

  function overflows(slot) {
    var names = slot.names;
    var main = slot[LANG], other = slot[OTHER];
    return names.scrollHeight > names.clientHeight + 1 ||
           (!main.classList.contains("clamp") && (main.scrollWidth > names.clientWidth + 1 ||
                                                  lines(main) > 3)) ||
           (!other.classList.contains("clamp") && (other.scrollWidth > names.clientWidth + 1 ||
                                                   lines(other) > 2));
  }

  function lines(span) {
    var lh = parseFloat(getComputedStyle(span).lineHeight) || 1;
    return Math.round(span.getBoundingClientRect().height / lh);
  }

  /* "Recently called": the calls at the counters now and the ones before, newest first, a
     ticket once (a recall moves it to the top), as many rows as fit. */
  var recentList = $("recent"), recentNone = $("recent-none");
  var recentRows = RECENT;

  function latestCalls(s) {
    var all = (Array.isArray(s.serving) ? s.serving : []).concat(
      Array.isArray(s.recent) ? s.recent : []);
    var keyed = all.map(function (item, i) {
      var t = Date.parse(item && item.called_at);
      return {item: item, t: isFinite(t) ? t : 0, i: i};
    });
    keyed.sort(function (a, b) { return b.t - a.t || a.i - b.i; });
    var out = [], seen = Object.create(null);
    for (var k = 0; k < keyed.length; k++) {
      var item = keyed[k].item;
      if (!item || item.number == null || seen[item.number]) continue;
      seen[item.number] = true;
      out.push(item);
    }
    return out;
  }

  function fitRecentRows() {
    var vh = window.innerHeight / 100;
    var rows = Math.max(3, Math.min(RECENT, Math.floor(recentList.clientHeight /
                                                       (RECENT_ROW_VH * vh))));
    if (rows !== recentRows) {
      recentRows = rows;
      recentList.style.setProperty("--recent-rows", String(rows));
    }
    return rows;
  }

  // --- flashing: a called or recalled ticket blinks for FLASH_MS wherever it is shown -------
  var flashing = Object.create(null);  // ticket number -> {until, gen}
  var flashCount = 0;
  var flashGen = 0;
  var flashTimer = null;

  function flash(number) {
    var now = Date.now();
    pruneFlashing(now);
    if (!flashing[number]) flashCount++;
    flashing[number] = {until: now + FLASH_MS, gen: ++flashGen};
    if (flashCount > MAX_FLASHING) {  // keep the newest only
      var oldest = null;
      for (var k in flashing) if (!oldest || flashing[k].gen < flashing[oldest].gen) oldest = k;
      delete flashing[oldest];
      flashCount--;
    }
  }

  function pruneFlashing(now) {
    for (var k in flashing) {
      if (flashing[k].until <= now) { delete flashing[k]; flashCount--; }
    }
  }

  function applyFlash(slot) {
    var f = slot.current != null ? flashing[slot.current] : null;
    var on = !!f && f.until > Date.now();
    var box = slot.box;
    if (on && slot.gen !== f.gen) {
      box.classList.remove("flash");
      void box.offsetWidth;  // restart the animation for a recall
      box.classList.add("flash");
      slot.gen = f.gen;
    } else if (!on && box.classList.contains("flash")) {
      box.classList.remove("flash");
      slot.gen = 0;
    }
  }

  function refreshFlashes() {
    var now = Date.now();
    pruneFlashing(now);
    applyFlash(hero);
    for (var i = 0; i < others.length; i++) applyFlash(others[i]);
    for (var j = 0; j < recent.length; j++) applyFlash(recent[j]);
    clearTimeout(flashTimer);
    flashTimer = null;
    var next = Infinity;
    for (var k in flashing) next = Math.min(next, flashing[k].until);
    if (next !== Infinity) flashTimer = setTimeout(refreshFlashes, next - now + 20);
  }

  // --- rendering ---------------------------------------------------------------------------
  var officeAr = $("office-ar"), officeEn = $("office-en");

  var lastSnapshot = null;

  function render(s) {
    if (!s || typeof s !== "object") return;
    lastSnapshot = s;
    var digitsBefore = arabicDigits;
    arabicDigits = s.digits === "arabic" && LANG === "ar";
    if (arabicDigits !== digitsBefore) drawClock();
    setText(officeAr, s.office_ar);
    setText(officeEn, s.office_en);

    var serving = Array.isArray(s.serving) ? s.serving : [];
    var head = serving[0];
    show(hero.box, !!head);
    show(hero.service, !!head);
    show(hero.idle, !head);
    hero.current = head ? head.number : null;
    setText(hero.number, head ? num(head.number) : "");
    setText(hero.counter, head ? counterLabel(LANG, head.counter) : "");
    setText(hero.counterOther, head ? counterLabel(OTHER, head.counter) : "");
    setText(hero.serviceAr, head ? head.service_ar : "");
    setText(hero.serviceEn, head ? head.service_en : "");

    var w = shownServices(Array.isArray(s.waiting) ? s.waiting : []);
    waitingSlots(w.length);  // first: the panel's height sets the room above it

    var shownOthers = fillCalls(others, serving.slice(1, 1 + OTHERS));
    fitHero(shownOthers);
    var latest = latestCalls(s);
    fillCalls(recent, latest.slice(0, fitRecentRows()));
    show(recentNone, !latest.length);
    for (var r = 0; r < recent.length; r++) {
      var isLatest = r === 0 && !!latest[0];
      if (recent[r].box.classList.contains("latest") !== isLatest) {
        recent[r].box.classList.toggle("latest", isLatest);
      }
    }

    for (var i = 0; i < waiting.length; i++) {
      var slot = waiting[i], item = w[i];
      setText(slot.prefix, item.prefix);
      var wide = String(item.prefix || "").length > 1;
      if (slot.prefix.classList.contains("wide") !== wide) slot.prefix.classList.toggle("wide", wide);
      setText(slot.ar, item.service_ar);
      setText(slot.en, item.service_en);
      setText(slot.count, num(item.waiting));
      fitNames(slot);  // after the count: its width is the names' room
      var none = !item.waiting;
      if (slot.box.classList.contains("none") !== none) slot.box.classList.toggle("none", none);
    }

    refreshFlashes();
    test.renders++;
    test.marker = s.marker;
  }

  function fillCalls(slots, items) {
    for (var i = 0; i < slots.length; i++) {
      var slot = slots[i], item = items[i];
      show(slot.box, !!item);
      slot.current = item ? item.number : null;
      setText(slot.number, item ? num(item.number) : "");
      setText(slot.counterWord, item ? (LANG === "ar" ? "الشباك" : "Counter") : "");
      setText(slot.counterName, item ? num(item.counter) : "");
      fitSlot(slot);
    }
    return Math.min(items.length, slots.length);
  }

  /* The newest call as large as its box allows: measured at full size, then scaled down
     (--fit) when a long counter name or three rows of other calls leave less room. Only
     when what it shows or the window changed. */
  var heroArea = $("hero");
  var fitKey = "";

  function fitHero(shownOthers) {
    var key = [hero.number.textContent, hero.counter.textContent, hero.serviceAr.textContent,
               hero.serviceEn.textContent, shownOthers, window.innerWidth,
               window.innerHeight, heroArea.clientHeight].join("|");
    if (key === fitKey || hero.box.hidden) return;
    fitKey = key;
    heroArea.style.setProperty("--fit", "1");
    var style = getComputedStyle(heroArea);
    var availW = heroArea.clientWidth - parseFloat(style.paddingLeft) -
                 parseFloat(style.paddingRight);
    var availH = heroArea.clientHeight - parseFloat(style.paddingTop) -
                 parseFloat(style.paddingBottom);
    var needW = Math.max(hero.box.scrollWidth, hero.service.scrollWidth, 1);
    var needH = Math.max(hero.box.offsetHeight + hero.service.offsetHeight +
                         parseFloat(getComputedStyle(hero.service).marginTop), 1);
    var fit = Math.min(1, availW / needW, availH / needH) * 0.97;
    heroArea.style.setProperty("--fit", fit.toFixed(3));
    // The service's line shrinks less than the number and counter (--sfit, at least 0.65:
    // a long name wraps and stays readable); while the whole still does not fit, both shrink.
    var sfit = 1;
    heroArea.style.setProperty("--sfit", "1");
    for (var i = 0; i < 10 && heroArea.scrollHeight > heroArea.clientHeight + 1; i++) {
      if (sfit > 0.65) sfit = Math.max(0.65, sfit * 0.9);
      if (fit > 0.5 || sfit === 0.65) fit *= 0.92;
      heroArea.style.setProperty("--fit", fit.toFixed(3));
      heroArea.style.setProperty("--sfit", sfit.toFixed(3));
    }
  }

  /* A list row too wide for its tile (a long counter name) gets smaller text, not cut. */
  function fitSlot(slot) {
    var box = slot.box;
    var key = slot.number.textContent + "|" + slot.counterName.textContent + "|" +
              window.innerWidth + "x" + window.innerHeight;
    if (box.hidden || slot.fitKey === key) return;
    slot.fitKey = key;
    if (box.style.getPropertyValue("--fit")) box.style.removeProperty("--fit");
    var fit = 1;
    for (var i = 0; i < 3 && box.scrollWidth > box.clientWidth + 1; i++) {
      fit = fit * box.clientWidth / box.scrollWidth * 0.97;
      box.style.setProperty("--fit", fit.toFixed(3));
    }
  }

  window.addEventListener("resize", function () {
    fitKey = "";
    fitHero(others.filter(function (s) { return !s.box.hidden; }).length);
    others.forEach(fitSlot);
    recent.forEach(fitSlot);
    waiting.forEach(fitNames);
    if (lastSnapshot) render(lastSnapshot);  // the rows that fit may have changed
  });

  // --- sound: a WebAudio chime, then speech; blocked until someone taps the screen ----------
  var synth = window.speechSynthesis || null;
  var realSpeak = null;

  function remember(text) {
    test.announced.push(String(text));
    if (test.announced.length > MAX_ANNOUNCED) test.announced.splice(0, test.announced.length - MAX_ANNOUNCED);
  }

  if (synth && typeof synth.speak === "function") {
    realSpeak = synth.speak.bind(synth);
    // Every text the board speaks is remembered (headless browsers have no voices).
    synth.speak = function (utterance) {
      if (utterance && !utterance.nafithaSilent) remember(utterance.text);
      return realSpeak(utterance);
    };
  }

  var audio = null;

  function audioContext() {
    if (audio) return audio;
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    try { audio = new AC(); } catch (e) { audio = null; }
    return audio;
  }

  function tone(ctx, freq, at, dur) {
    var osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.4, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.onended = function () { osc.disconnect(); gain.disconnect(); };
    osc.start(at);
    osc.stop(at + dur + 0.05);
  }

  /* Two falling notes; returns how long to wait before speaking (0 when audio is locked). */
  function chime() {
    var ctx = audio;
    if (!ctx || ctx.state !== "running") return 0;
    var t = ctx.currentTime + 0.03;
    tone(ctx, 880, t, 0.6);
    tone(ctx, 659.25, t + 0.4, 0.9);
    return 1300;
  }

  var voices = {ar: null, en: null};

  function pickVoices() {
    if (!synth || !synth.getVoices) return;
    var list = synth.getVoices() || [];
    voices.ar = voices.en = null;
    for (var i = 0; i < list.length; i++) {
      var lang = String(list[i].lang || "").toLowerCase();
      if (!voices.ar && lang.indexOf("ar") === 0) voices.ar = list[i];
      if (!voices.en && lang.indexOf("en") === 0) voices.en = list[i];
    }
  }

  if (synth) {
    pickVoices();
    if (synth.addEventListener) synth.addEventListener("voiceschanged", pickVoices);
  }

  function announcement(call) {
    var ar = {lang: "ar", text: "التذكرة " + call.number + "، الشباك " + call.counter};
    var en = {lang: "en", text: "Ticket " + call.number + ", counter " + call.counter};
    return LANG === "ar" ? [ar, en] : [en, ar];
  }

  var pending = [];
  var speaking = false;
  var current = null;  // the utterance being spoken (Chrome drops events of collected ones)

  function announce(call) {
    pending.push(announcement(call));
    while (pending.length > MAX_PENDING) { pending.shift(); test.dropped++; }
    if (!speaking) nextAnnouncement();
  }

  function nextAnnouncement() {
    var item = pending.shift();
    if (!item) { speaking = false; return; }
    speaking = true;
    setTimeout(function () { speakParts(item, 0); }, chime());
  }

  function speakParts(item, i) {
    if (i >= item.length) { setTimeout(nextAnnouncement, 400); return; }
    speakOne(item[i], function () { speakParts(item, i + 1); });
  }

  function speakOne(part, done) {
    var finished = false, timer = null;
    function finish() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      current = null;
      done();
    }
    // No end event comes when there is no voice or speech is blocked: move on regardless.
    timer = setTimeout(finish, Math.min(12000, 1500 + 110 * part.text.length));
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
      remember(part.text);
      return;
    }
    try {
      var u = new SpeechSynthesisUtterance(part.text);
      var voice = voices[part.lang];
      u.lang = voice ? voice.lang : (part.lang === "ar" ? "ar-BH" : "en-GB");
      if (voice) u.voice = voice;
      u.rate = 0.9;
      u.onend = finish;
      u.onerror = finish;
      current = u;
      synth.speak(u);
    } catch (e) {
      finish();
    }
  }

  var soundButton = $("sound");

  function soundReady() {
    return !!audio && audio.state === "running";
  }

  function unlock() {
    var ctx = audioContext();
    if (ctx && ctx.state !== "running" && ctx.resume) ctx.resume().then(updateSoundButton, noop);
    if (synth && realSpeak && window.SpeechSynthesisUtterance) {
      try {  // a silent utterance inside the gesture lets later speech through
        var u = new SpeechSynthesisUtterance(" ");
        u.volume = 0;
        u.nafithaSilent = true;
        realSpeak(u);
      } catch (e) { /* speech is optional */ }
    }
    soundButton.hidden = true;
    soundButton.removeEventListener("click", unlock);
    document.removeEventListener("keydown", unlock);
  }

  function updateSoundButton() {
    soundButton.hidden = soundReady();
    test.sound = audio ? audio.state : "none";
  }

  (function () {
    var ctx = audioContext();  // "running" straight away on a TV allowed to autoplay
    if (ctx) ctx.onstatechange = updateSoundButton;
    updateSoundButton();
    if (!soundReady()) {
      soundButton.addEventListener("click", unlock);
      document.addEventListener("keydown", unlock);  // the OK button of a TV remote
    }
  })();

  // --- live updates --------------------------------------------------------------------------
  var reconnecting = $("reconnecting");
  var source = null;
  var offlineTimer = null;
  var retryTimer = null;
  var lastMessageAt = Date.now();

  function setConnected(connected) {
    test.connected = connected;
    if (connected) {
      clearTimeout(offlineTimer);
      offlineTimer = null;
      reconnecting.hidden = true;
      document.body.classList.remove("offline");
    } else if (!offlineTimer && reconnecting.hidden) {
      offlineTimer = setTimeout(function () {
        offlineTimer = null;
        if (!test.connected) {
          reconnecting.hidden = false;
          document.body.classList.add("offline");
        }
      }, OFFLINE_AFTER_MS);
    }
  }

  function onOpen() {
    lastMessageAt = Date.now();
    setConnected(true);
  }

  function onError() {
    setConnected(false);
    // A network error reconnects by itself (retry: 1000); a refused answer (the board was
    // revoked, a proxy error) closes the stream for good: look why, then start again.
    if (source && source.readyState === 2 && !retryTimer) {
      retryTimer = setTimeout(function () { retryTimer = null; check(true); }, 3000);
    }
  }

  function onSnapshot(event) {
    lastMessageAt = Date.now();
    if (!test.connected) setConnected(true);
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    render(data);
  }

  function onCall(event) {
    lastMessageAt = Date.now();
    var call;
    try { call = JSON.parse(event.data); } catch (e) { return; }
    if (!call || call.number == null) return;
    flash(String(call.number));
    announce(call);
  }

  function connect() {
    if (source) {
      source.onopen = source.onerror = null;
      source.removeEventListener("snapshot", onSnapshot);
      source.removeEventListener("call", onCall);
      source.close();
    }
    source = new EventSource("/board/events");
    source.onopen = onOpen;
    source.onerror = onError;
    source.addEventListener("snapshot", onSnapshot);
    source.addEventListener("call", onCall);
  }

  /* A stream can die silently (the hub restarted while the TV's connection stayed half
     open): when it has been quiet, ask the hub for its marker; a newer one than the board
     shows means the stream missed changes, so open a fresh one. A refused token reloads the
     page, which then shows the pairing form. */
  function check(force) {
    if (!force && Date.now() - lastMessageAt < WATCH_MS) return;
    fetch("/board/state", {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      if (r.status === 401 || r.status === 403) { location.reload(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (state) {
      if (force || (state && state.marker !== test.marker)) connect();
    }, function () {
      if (force || test.connected) connect();
    });
  }

  drawClock();
  setInterval(check, WATCH_MS);
  connect();
})();
