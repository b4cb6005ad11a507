// The verifier page: camera, photo or pasted text -> NF1 verdict in the kiosk's words.
// Verification is nf1.js (in the browser, against the held trust list); this file is the UI.
// Every text reaches the page through textContent: nothing read from a code, a list or the
// network is ever parsed as HTML.
import { openTrustList, verifyText } from "./nf1.js";

const HELD = "nafitha.verify.trust";   // the last accepted trust-list envelope (JSON)
const LANG = "nafitha.verify.lang";
const STALE_DAYS = 7;                  // an older list is shown in the warning colour
const SCAN_EVERY_MS = 150;
const $ = (id) => document.getElementById(id);

const state = { words: null, lang: "ar", list: null, listNote: null, last: null,
                stream: null, scanning: false, reader: null };

// ---- words ----------------------------------------------------------------------------
function w(key, params = {}) {
  const table = (state.words && state.words[state.lang]) || {};
  const text = table[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : ""));
}

function dateText(seconds) {
  const locale = state.lang === "ar" ? "ar-u-nu-latn" : "en-GB";
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "long", day: "numeric" })
    .format(new Date(seconds * 1000));
}

function applyWords() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "ar" ? "rtl" : "ltr";
  document.title = w("verify.title");
  for (const el of document.querySelectorAll("[data-w]")) el.textContent = w(el.dataset.w);
  showList();
  showCameraState();
  if (state.last) showVerdict(state.last);
}

async function loadWords() {
  try {
    const response = await fetch("words.json");
    if (response.ok) state.words = await response.json();
  } catch (_) { /* offline and not cached: the HTML's own Arabic title stays */ }
  const saved = localStorage.getItem(LANG);
  state.lang = saved === "en" || saved === "ar" ? saved : "ar";
}

// ---- the trust list -------------------------------------------------------------------
function heldEnvelope() {
  try { return JSON.parse(localStorage.getItem(HELD) || "null"); } catch (_) { return null; }
}

async function loadTrustList() {
  const held = heldEnvelope();
  if (held) {
    const opened = await openTrustList(held, null);
    state.list = opened.ok ? opened.list : null;
    if (!opened.ok) localStorage.removeItem(HELD);
  }
  let offered = null;
  try {
    const response = await fetch("trust-list.json", { cache: "no-store" });
    if (response.ok) offered = await response.json();
    else state.listNote = state.list ? "verify_page.list_offline" : null;
  } catch (_) {
    state.listNote = state.list ? "verify_page.list_offline" : null;
  }
  if (offered) await consider(offered, held);
  showList();
}

async function consider(offered, held) {
  // The same list again (a reload, or the service worker's copy offline) is no news.
  if (held && offered && offered.payload === held.payload && offered.signature === held.signature) {
    if (!navigator.onLine) state.listNote = "verify_page.list_offline";
    return;
  }
  let opened;
  try { opened = await openTrustList(offered, state.list); } catch (_) {
    opened = { ok: false, list: null, code: "malformed" };
  }
  if (opened.ok) {
    state.list = opened.list;
    state.listNote = null;
    localStorage.setItem(HELD, JSON.stringify(offered));
    return;
  }
  // Refused: the held list stays; said discreetly under the list's date.
  state.listNote = { bad_signature: "verify_page.list_bad_signature",
                     older: "verify_page.list_older" }[opened.code]
                   || "verify_page.list_unreadable";
}

function showList() {
  const el = $("list");
  if (state.list) {
    el.textContent = w("verify_page.list_of", { date: dateText(state.list.issued_at) });
    const days = (Date.now() / 1000 - state.list.issued_at) / 86400;
    el.classList.toggle("stale", days > STALE_DAYS);
    el.dataset.version = String(state.list.version);
  } else {
    el.textContent = w("verify_page.list_none");
    el.classList.add("stale");
    delete el.dataset.version;
  }
  const note = $("list-note");
  note.hidden = !state.listNote;
  note.textContent = state.listNote ? w(state.listNote) : "";
  note.dataset.code = state.listNote || "";
}

// ---- the verdict ----------------------------------------------------------------------
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const BINARY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

// What a code that is not a licence is, so the person knows what they scanned.
function kindOf(text, binary) {
  if (BIDI.test(text)) return "bidi";
  if (binary || BINARY.test(text)) return "binary";
  if (/^NFT:/.test(text)) return "ticket";
  if (/^WIFI:/i.test(text)) return "wifi";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^www\./i.test(text)) return "url";
  return null;
}

async function check(text, source, binary = false) {
  const now = Math.floor(Date.now() / 1000);
  let result;
  if (!state.list) {
    result = { code: "unknown_issuer", ok: false, claims: null, detail: "no trust list" };
  } else {
    try { result = await verifyText(text, state.list, now); } catch (_) {
      result = { code: "malformed", ok: false, claims: null, detail: "" };
    }
  }
  const notLicence = ["malformed", "unsupported_version", "too_large"].includes(result.code);
  const shown = { code: result.code, ok: result.ok, claims: result.claims || null,
                  kind: notLicence ? kindOf(text, binary) : null, status: null, source };
  state.last = shown;
  stopCamera();
  showVerdict(shown);
  performance.mark("nf-verdict");
  if (shown.claims && shown.claims.number && (result.ok || result.code === "licence_expired")) {
    shown.status = await askStatus(shown.claims.number);
    if (state.last === shown) showVerdict(shown);
  }
}

async function askStatus(number) {
  if (!navigator.onLine) return { status: "offline" };
  try {
    const response = await fetch(`status/${encodeURIComponent(number)}`, { cache: "no-store" });
    if (!response.ok) return { status: "offline" };
    const body = await response.json();
    if (!["valid", "revoked", "unknown"].includes(body.status)) return { status: "offline" };
    return body;
  } catch (_) {
    return { status: "offline" };
  }
}

function fact(dl, labelKey, value) {
  const dt = document.createElement("dt");
  dt.textContent = w(labelKey);
  const dd = document.createElement("dd");
  dd.dir = "auto";
  dd.textContent = value;
  dl.append(dt, dd);
}

function showVerdict(v) {
  const revokedNow = v.status && v.status.status === "revoked";
  const ok = v.ok && !revokedNow;
  const code = revokedNow ? "revoked" : v.code;
  const box = $("verdict");
  box.hidden = false;
  box.className = `verdict ${ok ? "good" : "bad"}`;
  box.dataset.code = code;
  box.dataset.ok = String(ok);
  $("scan").hidden = true;
  $("headline").textContent = w(ok ? "verify.genuine" : "verify.not_genuine");
  $("reason").textContent = v.kind ? w("verify.not_licence") : w(`reason.${code}`);
  const kind = $("kind");
  kind.hidden = !v.kind;
  kind.textContent = v.kind ? w(`verify_page.kind_${v.kind}`) : "";
  kind.dataset.kind = v.kind || "";
  const dl = $("facts");
  dl.replaceChildren();
  const c = v.claims;
  if (c) {
    fact(dl, "verify.holder", c.holder);
    fact(dl, "verify.licence_type", c.type);
    fact(dl, "verify.number", c.number);
    fact(dl, "verify.issued", dateText(c.issued_at));
    fact(dl, "verify.valid_until", dateText(c.valid_until));
    fact(dl, "verify.office", c.office);
  }
  dl.hidden = $("facts-title").hidden = !c;
  const status = $("status");
  status.className = "status";
  status.hidden = true;
  status.dataset.status = "";
  if (v.status && state.list) {
    const s = v.status.status;
    status.hidden = false;
    status.dataset.status = s;
    if (s === "revoked") {
      const at = Date.parse(v.status.revoked_at || "");
      status.classList.add("revoked");
      status.textContent = w("verify_page.status_revoked",
                             { date: Number.isFinite(at) ? dateText(at / 1000) : "" });
    } else if (s === "valid") {
      status.textContent = w("verify_page.status_valid");
    } else if (s === "unknown") {
      status.textContent = w("verify_page.status_unknown");
    } else if (ok) {
      status.classList.add("as-of");
      status.textContent = w("verify_page.as_of", { date: dateText(state.list.issued_at) });
    } else {
      status.hidden = true;
    }
  }
}

function again() {
  state.last = null;
  $("verdict").hidden = true;
  $("scan").hidden = false;
  $("paste").value = "";
  $("photo").value = "";
  $("photo-note").hidden = true;
}

// ---- decoding: BarcodeDetector where the browser has it, else zxing-wasm (local) ------------
let detector = null;

async function decoder() {
  if (detector) return detector;
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const bd = new window.BarcodeDetector({ formats: ["qr_code"] });
        detector = async (source) => {
          const found = await bd.detect(source);
          return found.length ? { text: found[0].rawValue, binary: false } : null;
        };
        return detector;
      }
    } catch (_) { /* fall through to zxing */ }
  }
  const zxing = await import("./vendor/zxing-wasm/es/reader/index.js");
  const wasm = new URL("./vendor/zxing-wasm/reader/zxing_reader.wasm", import.meta.url).href;
  zxing.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
  });
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  detector = async (source) => {
    const width = source.videoWidth || source.naturalWidth || source.width;
    const height = source.videoHeight || source.naturalHeight || source.height;
    if (!width || !height) return null;
    const scale = Math.min(1, 1600 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const found = await zxing.readBarcodes(image, { formats: ["QRCode"], tryHarder: true,
                                                    maxNumberOfSymbols: 1 });
    const hit = found.find((r) => r.isValid);
    return hit ? { text: hit.text, binary: hit.contentType === "Binary" } : null;
  };
  return detector;
}

// ---- the camera ---------------------------------------------------------------------------
function secureCamera() {
  return window.isSecureContext && navigator.mediaDevices &&
         typeof navigator.mediaDevices.getUserMedia === "function";
}

function showCameraState() {
  const insecure = $("insecure");
  if (!secureCamera()) {
    insecure.hidden = false;
    insecure.textContent = w("verify_page.insecure", { https: `https://${location.host}${location.pathname}` });
    $("camera").hidden = true;
  } else {
    insecure.hidden = true;
    $("camera").textContent = w(state.stream ? "verify_page.camera_stop" : "verify_page.camera");
  }
}

async function startCamera() {
  if (state.stream) { stopCamera(); return; }
  const note = $("camera-note");
  note.hidden = true;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia(
      { video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } }, audio: false });
  } catch (_) {
    note.hidden = false;
    note.textContent = w("verify_page.camera_refused");
    return;
  }
  const video = $("video");
  video.srcObject = state.stream;
  $("viewer").hidden = false;
  await video.play().catch(() => {});
  showCameraState();
  state.scanning = true;
  const read = await decoder();
  const tick = async () => {
    if (!state.scanning) return;
    let hit = null;
    if (video.readyState >= 2) {
      performance.mark("nf-frame");
      try { hit = await read(video); } catch (_) { hit = null; }
    }
    if (hit && state.scanning) { await check(hit.text, "camera", hit.binary); return; }
    setTimeout(tick, SCAN_EVERY_MS);
  };
  tick();
}

function stopCamera() {
  state.scanning = false;
  if (state.stream) for (const track of state.stream.getTracks()) track.stop();
  state.stream = null;
  $("video").srcObject = null;
  $("viewer").hidden = true;
  showCameraState();
}

// ---- a photo ------------------------------------------------------------------------------
async function fromPhoto(file) {
  performance.mark("nf-frame");
  const note = $("photo-note");
  note.hidden = false;
  note.textContent = w("verify_page.reading");
  let hit = null;
  try {
    const bitmap = await createImageBitmap(file);
    hit = await (await decoder())(bitmap);
    bitmap.close();
  } catch (_) { hit = null; }
  if (!hit) {
    note.textContent = w("verify_page.no_code_in_photo");
    return;
  }
  note.hidden = true;
  await check(hit.text, "photo", hit.binary);
}

// ---- offline: the service worker, and the assets this load used ----------------------------
async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;   // plain HTTP: no worker, the page still works
  try {
    await navigator.serviceWorker.register("sw.js");
    const ready = await navigator.serviceWorker.ready;
    const used = performance.getEntriesByType("resource").map((e) => e.name)
      .filter((url) => url.startsWith(location.origin) && !url.includes("/status/"));
    ready.active && ready.active.postMessage({ cache: used });
  } catch (_) { /* the page works without it, only not offline */ }
}

// ---- start ---------------------------------------------------------------------------------
async function start() {
  await loadWords();
  applyWords();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ar" ? "en" : "ar";
    localStorage.setItem(LANG, state.lang);
    applyWords();
  });
  $("again").addEventListener("click", again);
  $("camera").addEventListener("click", startCamera);
  $("check").addEventListener("click", () => {
    performance.mark("nf-frame");
    // a pasted line may carry its line end (docs/credential-format.md: a valid code never
    // ends with whitespace, so trimming line ends changes no verdict of a real code)
    check($("paste").value.replace(/[\r\n]+$/, ""), "paste");
  });
  $("photo").addEventListener("change", () => {
    const file = $("photo").files[0];
    if (file) fromPhoto(file);
  });
  await loadTrustList();
  document.body.dataset.ready = "true";
  registerWorker();
}

start();
