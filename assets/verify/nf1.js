// NF1 licence codes, verified in the browser (docs/credential-format.md).
//
// A second implementation of core/credentials (licence.py, cbor.py, base45.py, cose.py,
// certificate.py, revocation.py): for every input it reaches the same verdict, one of the
// fourteen names of the format. tests/web/verify/test_nf1_parity.py checks that on every
// shared test vector and every forgery class, with both signature backends.
//
//   verifyText(text, trustList, nowSeconds) -> {code, ok, claims, list_number, detail,
//                                               certificate, revocation_list}
//   openTrustList(envelope, heldList) -> {ok, list, code}
//   setSignatureBackend("auto" | "webcrypto" | "noble"), signatureBackend()
//
// Integers that do not fit a JavaScript number exactly (above 2^53 - 1) are BigInts.

import * as ed from "./vendor/noble-ed25519/index.js";
import { sha256, sha512 } from "./vendor/noble-hashes/sha2.js";

// Synchronous SHA-512 for noble: it then needs no crypto.subtle, which browsers hide on
// plain-HTTP pages (a hub on a LAN).
ed.hashes.sha512 = sha512;

export const VERDICTS = Object.freeze([
  "valid", "too_large", "malformed", "unsupported_version", "unknown_issuer",
  "bad_signature", "wrong_issuer", "certificate_not_yet_valid", "certificate_expired",
  "issued_outside_certificate", "type_not_allowed", "device_revoked", "revoked",
  "issued_in_future", "licence_expired",
]);

const PREFIX = "NF1:";
const MAX_TEXT = 4096; // characters (code points); refused before any parsing
const CERT_LABEL = -65537;
const CLOCK_SKEW = 300; // seconds an issuing clock may run ahead
const COSE_SIGN1_TAG = 18;
const NID_SALT_BYTES = 8;
const NID_HASH_BYTES = 12;
const ROOT_KID_BYTES = 8;

// Python's `re.match(r"...$")` also matches before one final line feed; these patterns keep
// that (\n?) so both verifiers agree on every string, however odd.
const CODE_RE = /^[A-Z0-9]{1,8}\n?$/;
const NUMBER_RE = /^[A-Z0-9]{1,8}-[0-9]{4}-[A-Z0-9]{1,8}-[0-9]{6,}\n?$/;
const DEVICE_KEY_RE = /^[A-Z0-9]{1,8}\/[A-Z0-9]{1,8}\n?$/;
// Python's \d is any Unicode decimal digit (category Nd): "NF١:" is a version, not NF1.
const VERSION_RE = /^NF(\p{Nd}{1,3}):/u;

const ADDRESS_KEYS = { 1: "parcel", 2: "block", 3: "road", 4: "building" };
const CLAIM_KEYS = { 1: "number", 2: "type", 3: "holder", 4: "national_id_hash", 5: "address",
  6: "issued_at", 7: "valid_until", 8: "office", 9: "conditions", 10: "device_counter" };
const REQUIRED_CLAIMS = [1, 2, 3, 4, 6, 7, 8, 10];

class FormatError extends Error {}

// --- small helpers -------------------------------------------------------------------------

const utf8 = new TextEncoder();
// fatal: invalid UTF-8 is refused; ignoreBOM: a leading U+FEFF is text, kept as Python does
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function fromHex(hex, length) {
  if (typeof hex !== "string" || !/^(?:[0-9a-f]{2})*$/.test(hex) ||
      (length !== undefined && hex.length !== 2 * length)) {
    throw new FormatError("not lower-case hex of the right length");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(text) {
  if (typeof text !== "string" || !BASE64_RE.test(text)) throw new FormatError("not base64");
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

// Python compares strings by code point; JavaScript's < compares UTF-16 units, which orders
// U+E000..U+FFFF after astral characters. Sorted sets must be checked Python's way.
function compareText(a, b) {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(j);
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}

function strictlyAscending(list) {
  for (let i = 1; i < list.length; i++) if (compareText(list[i - 1], list[i]) >= 0) return false;
  return true;
}

// Python counts code points; a JavaScript string's length counts UTF-16 units. Counting stops
// once above `stopAbove`.
function codePointLength(text, stopAbove = Infinity) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    if (++n > stopAbove) return n;
  }
  return n;
}

const isUint = (v) => (typeof v === "number" || typeof v === "bigint") && v >= 0;
const isText = (v) => typeof v === "string" && v !== "";
const isBytes = (v) => v instanceof Uint8Array;

// An exact integer: a number while it is safe, a BigInt beyond.
function exactInt(big) {
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

// --- Base45 (RFC 9285), strict --------------------------------------------------------------

const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const BASE45_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE45.length; i++) BASE45_VALUE[BASE45.charCodeAt(i)] = i;

function base45Decode(text) {
  if (codePointLength(text) % 3 === 1) {
    throw new FormatError("Base45: dangling single character at the end");
  }
  const digits = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? BASE45_VALUE[c] : -1;
    if (v < 0) throw new FormatError(`Base45: character at position ${i} is not in the alphabet`);
    digits[i] = v;
  }
  const out = new Uint8Array(Math.floor(digits.length / 3) * 2 + (digits.length % 3 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < digits.length; i += 3) {
    if (i + 2 < digits.length) {
      const n = digits[i] + digits[i + 1] * 45 + digits[i + 2] * 2025;
      if (n > 0xffff) throw new FormatError(`Base45: triplet at position ${i} is above 65535`);
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = digits[i] + digits[i + 1] * 45;
      if (n > 0xff) throw new FormatError(`Base45: final pair at position ${i} is above 255`);
      out[o++] = n;
    }
  }
  return out;
}

// --- CBOR (RFC 8949), strict, bounded, deterministic only -----------------------------------

class Tag {
  constructor(number, value) {
    this.number = number;
    this.value = value;
  }
}

// A CBOR map: integer keys and text keys never collide ("i:1" is not "s:1").
class CborMap {
  constructor() {
    this.entries = new Map();
  }
  static keyOf(key) {
    return (typeof key === "string" ? "s:" : "i:") + String(key);
  }
  has(key) {
    return this.entries.has(CborMap.keyOf(key));
  }
  get(key) {
    const entry = this.entries.get(CborMap.keyOf(key));
    return entry === undefined ? undefined : entry[1];
  }
  set(key, value) {
    this.entries.set(CborMap.keyOf(key), [key, value]);
  }
  get size() {
    return this.entries.size;
  }
  keys() {
    return Array.from(this.entries.values(), (entry) => entry[0]);
  }
  // exactly these integer keys, no other
  hasExactly(keys) {
    return this.size === keys.length && keys.every((k) => this.has(k));
  }
}

const NO_KEY = Symbol("no key");
const UINT64_THRESHOLDS = { 1: 24, 2: 256, 4: 65536 };

// Decode exactly one data item filling `data` (core/credentials/cbor.py loads): only tag 18,
// definite lengths, shortest forms, map keys (integers or text) in bytewise order of their
// encodings, no floats or simple values but false/true/null, every limit checked before
// anything is read or built. Iterative: no input can exhaust the call stack.
function cborLoads(data, maxDepth = 8, maxItems = 256, maxBytes = 4096) {
  if (data.length > maxBytes) {
    throw new FormatError(`CBOR: input is ${data.length} bytes, more than ${maxBytes}`);
  }
  const end = data.length;
  let pos = 0;
  let items = 0;
  const stack = [];
  const fail = (message, at) => new FormatError(`CBOR: at byte ${at}: ${message}`);

  for (;;) {
    const start = pos;
    if (pos >= end) throw fail("unexpected end of input", pos);
    const major = data[pos] >> 5;
    const ai = data[pos] & 0x1f;
    pos += 1;
    items += 1;
    if (items > maxItems) throw fail(`more than ${maxItems} data items`, start);
    const top = stack[stack.length - 1];
    if (top && top.kind === "map" && top.key === NO_KEY && major !== 0 && major !== 1 &&
        major !== 3) {
      throw fail("map keys must be integers or text strings", start);
    }
    let value;
    if (major === 7) {
      if (ai === 20) value = false;
      else if (ai === 21) value = true;
      else if (ai === 22) value = null;
      else throw fail(`simple value or float (additional information ${ai})`, start);
    } else {
      let arg;
      if (ai < 24) {
        arg = ai;
      } else if (ai <= 27) {
        const size = 1 << (ai - 24);
        if (size > end - pos) throw fail("unexpected end of input in an integer or length", start);
        if (size === 8) {
          let big = 0n;
          for (let i = 0; i < 8; i++) big = (big << 8n) | BigInt(data[pos + i]);
          if (big < 4294967296n) throw fail(`non-shortest encoding of ${big}`, start);
          arg = exactInt(big);
        } else {
          arg = 0;
          for (let i = 0; i < size; i++) arg = arg * 256 + data[pos + i];
          if (arg < UINT64_THRESHOLDS[size]) throw fail(`non-shortest encoding of ${arg}`, start);
        }
        pos += size;
      } else if (ai === 31) {
        throw fail("indefinite-length items are not supported", start);
      } else {
        throw fail(`reserved additional information ${ai}`, start);
      }

      if (major === 0) {
        value = arg;
      } else if (major === 1) {
        value = exactInt(-1n - BigInt(arg));
      } else if (major === 2 || major === 3) {
        if (arg > end - pos) throw fail(`string claims ${arg} bytes but fewer remain`, start);
        const raw = data.slice(pos, pos + arg);
        pos += arg;
        if (major === 3) {
          try {
            value = utf8Strict.decode(raw);
          } catch {
            throw fail("invalid UTF-8 in text string", start);
          }
        } else {
          value = raw;
        }
      } else {
        // a container: refuse absurd counts before anything is built
        if (stack.length + 1 > maxDepth) throw fail(`nesting deeper than ${maxDepth}`, start);
        if (major === 6) {
          if (arg !== COSE_SIGN1_TAG) throw fail(`tag ${arg} is not allowed`, start);
          stack.push({ kind: "tag", number: arg });
          continue;
        }
        const children = major === 4 ? arg : 2 * (typeof arg === "bigint" ? Number(arg) : arg);
        if (children > end - pos) throw fail("container claims more entries than bytes remain", start);
        if (items + children > maxItems) throw fail(`more than ${maxItems} data items`, start);
        if (arg) {
          stack.push(major === 4
            ? { kind: "array", list: [], count: arg }
            : { kind: "map", map: new CborMap(), count: arg, key: NO_KEY, previous: new Uint8Array(0) });
          continue;
        }
        value = major === 4 ? [] : new CborMap();
      }
    }

    // a complete value: hand it to the open containers, closing those it completes
    while (stack.length) {
      const frame = stack[stack.length - 1];
      if (frame.kind === "tag") {
        value = new Tag(frame.number, value);
      } else if (frame.kind === "array") {
        frame.list.push(value);
        if (frame.list.length < frame.count) break;
        value = frame.list;
      } else if (frame.key === NO_KEY) {
        if (frame.map.has(value)) throw fail("duplicate map key", start);
        const encoded = data.subarray(start, pos); // keys are scalars: exactly this key
        if (compareBytes(encoded, frame.previous) <= 0) {
          throw fail("map key out of deterministic order", start);
        }
        frame.key = value;
        frame.previous = encoded;
        break;
      } else {
        frame.map.set(frame.key, value);
        frame.key = NO_KEY;
        if (frame.map.size < frame.count) break;
        value = frame.map;
      }
      stack.pop();
    }
    if (!stack.length) {
      if (pos !== end) throw fail(`${end - pos} trailing bytes after the data item`, pos);
      return value;
    }
  }
}

function cborHead(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  if (n < 65536) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

// ["Signature1", protected, h'', payload], deterministically encoded (RFC 9052 §4.4)
function sigStructure(protectedBytes, payload) {
  const context = utf8.encode("Signature1");
  const parts = [[0x84], cborHead(3, context.length), context,
    cborHead(2, protectedBytes.length), protectedBytes, [0x40],
    cborHead(2, payload.length), payload];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// --- signatures: WebCrypto Ed25519 or noble ------------------------------------------------

// RFC 8032 §7.1, test 1: the empty message. Proves a backend really verifies Ed25519.
const PROBE_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const PROBE_SIG = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

let backend = "auto";
let resolved = null; // the backend "auto" chose
const webKeys = new Map(); // hex public key -> CryptoKey (bounded)

async function webcryptoVerify(publicKey, signature, message) {
  const hex = toHex(publicKey);
  let key = webKeys.get(hex);
  if (key === undefined) {
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      return false; // not a key WebCrypto accepts: nothing it could have signed
    }
    if (webKeys.size >= 256) webKeys.clear();
    webKeys.set(hex, key);
  }
  try {
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

// The group order L of Ed25519 (RFC 8032 §5.1).
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

const littleEndian = (bytes) => {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
};

// Ed25519 verification with noble's curve arithmetic, by the rule OpenSSL (Python's
// `cryptography`) and BoringSSL (Chromium's WebCrypto) apply, so every backend gives the same
// answer for every input, hostile ones included: S < L; A decoded as those libraries decode it
// (any y below 2^255, small-order points accepted); k = SHA-512(R || A || M) over the bytes as
// given; then the encoding of [S]B - [k]A must equal R byte for byte (cofactorless, and a
// non-canonical R never matches). noble's own verify() is cofactored and rejects small-order
// keys: a certificate for such a key would then verify in Python and not here.
function nobleVerify(publicKey, signature, message) {
  try {
    const s = littleEndian(signature.subarray(32, 64));
    if (s >= ED25519_L) return false;
    const A = ed.Point.fromBytes(publicKey, true);
    const k = littleEndian(sha512(ed.etc.concatBytes(signature.subarray(0, 32), publicKey,
      message))) % ED25519_L;
    const R = ed.Point.BASE.multiply(s, false).subtract(A.multiply(k, false));
    return sameBytes(R.toBytes(), signature.subarray(0, 32));
  } catch {
    return false; // A is not a point
  }
}

async function webcryptoWorks() {
  if (!globalThis.crypto || !globalThis.crypto.subtle) return false;
  try {
    const key = await crypto.subtle.importKey("raw", fromHex(PROBE_KEY), { name: "Ed25519" },
      false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(PROBE_SIG),
      new Uint8Array(0));
  } catch {
    return false;
  }
}

// "auto" (the default): WebCrypto where the browser has Ed25519 and a secure context gives
// crypto.subtle, else noble. "webcrypto" fails here when the browser cannot.
export async function setSignatureBackend(name) {
  if (!["auto", "webcrypto", "noble"].includes(name)) {
    throw new Error(`unknown signature backend ${name}`);
  }
  if (name === "webcrypto" && !(await webcryptoWorks())) {
    throw new Error("this browser has no WebCrypto Ed25519 here");
  }
  backend = name;
  resolved = name === "auto" ? null : name;
  return signatureBackend();
}

// The backend in use: "webcrypto" or "noble" (resolving "auto" on first use).
export async function signatureBackend() {
  if (resolved === null) resolved = (await webcryptoWorks()) ? "webcrypto" : "noble";
  return resolved;
}

async function signatureOk(publicKey, signature, message) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return (await signatureBackend()) === "webcrypto"
    ? webcryptoVerify(publicKey, signature, message)
    : nobleVerify(publicKey, signature, message);
}

// --- COSE_Sign1, certificate, claims, revocation list ---------------------------------------

// A decoded COSE_Sign1 (cose.py parse): protected header exactly {1: -8, 4: kid (bstr)},
// unprotected header holding exactly `unprotectedLabels`, a 64-byte signature.
function parseSign1(obj, unprotectedLabels = []) {
  if (!(obj instanceof Tag) || obj.number !== COSE_SIGN1_TAG) {
    throw new FormatError("not a COSE_Sign1 (tag 18)");
  }
  const value = obj.value;
  if (!Array.isArray(value) || value.length !== 4) {
    throw new FormatError("COSE_Sign1 must be an array of 4");
  }
  const [protectedBytes, unprotected, payload, signature] = value;
  if (!isBytes(protectedBytes) || !(unprotected instanceof CborMap) || !isBytes(payload) ||
      !isBytes(signature)) {
    throw new FormatError("COSE_Sign1 members have the wrong types");
  }
  const header = cborLoads(protectedBytes, 1, 16);
  if (!(header instanceof CborMap)) throw new FormatError("protected header is not a map");
  if (header.get(1) !== -8) throw new FormatError("unsupported algorithm (only EdDSA, -8)");
  const kid = header.get(4);
  if (!isBytes(kid) || kid.length === 0) throw new FormatError("protected header has no key id");
  if (!header.hasExactly([1, 4])) {
    throw new FormatError("protected header has parameters other than alg and kid");
  }
  if (!unprotected.hasExactly(unprotectedLabels)) {
    throw new FormatError("unprotected header has other parameters");
  }
  if (signature.length !== 64) throw new FormatError("an EdDSA signature is 64 bytes");
  return { protectedBytes, unprotected, payload, signature, kid };
}

function parseCertificate(obj) {
  const sign1 = parseSign1(obj);
  if (sign1.kid.length !== ROOT_KID_BYTES) {
    throw new FormatError("certificate key id is not the 8-byte root kid");
  }
  const claims = cborLoads(sign1.payload, 2, 64);
  if (!(claims instanceof CborMap) || !claims.hasExactly([1, 2, 3, 4, 5, 6, 7, 8])) {
    throw new FormatError("certificate claims are incomplete or unknown");
  }
  const c = (k) => claims.get(k);
  const types = c(7);
  const ok = typeof c(1) === "string" && CODE_RE.test(c(1)) &&
    typeof c(2) === "string" && CODE_RE.test(c(2)) &&
    isBytes(c(3)) && c(3).length === 32 &&
    [4, 5, 6, 8].every((k) => isUint(c(k))) &&
    Array.isArray(types) && types.length > 0 && types.every(isText);
  if (!ok) throw new FormatError("certificate claims have the wrong types");
  if (!strictlyAscending(types)) {
    throw new FormatError("certificate licence types are not strictly ascending");
  }
  if (!(c(4) <= c(6) && c(6) <= c(5))) {
    throw new FormatError("certificate periods out of order");
  }
  return { device_id: c(1), office: c(2), public_key: c(3), not_before: c(4),
    not_after: c(5), sign_until: c(6), licence_types: types, serial: c(8),
    root_kid: sign1.kid, sign1 };
}

function certificateInfo(cert) {
  return { device_id: cert.device_id, office: cert.office, public_key: toHex(cert.public_key),
    not_before: cert.not_before, not_after: cert.not_after, sign_until: cert.sign_until,
    licence_types: [...cert.licence_types], serial: cert.serial,
    root_kid: toHex(cert.root_kid) };
}

function checkClaims(raw) {
  if (!(raw instanceof CborMap)) throw new FormatError("licence claims are not a map");
  const keys = raw.keys();
  if (!keys.every((k) => typeof k === "number" && k in CLAIM_KEYS) ||
      !REQUIRED_CLAIMS.every((k) => raw.has(k))) {
    throw new FormatError("licence claims are incomplete or unknown");
  }
  if (raw.has(5)) {
    const address = raw.get(5);
    if (!(address instanceof CborMap && address.size > 0 &&
          address.keys().every((k) => typeof k === "number" && k in ADDRESS_KEYS) &&
          address.keys().every((k) => isText(address.get(k))))) {
      throw new FormatError("licence address has the wrong shape");
    }
  }
  const texts = [1, 2, 3, 8].concat(raw.has(9) ? [9] : []);
  const nid = raw.get(4);
  if (!texts.every((k) => isText(raw.get(k))) || ![6, 7, 10].every((k) => isUint(raw.get(k))) ||
      !(Array.isArray(nid) && nid.length === 2 && isBytes(nid[0]) && isBytes(nid[1]) &&
        nid[0].length === NID_SALT_BYTES && nid[1].length === NID_HASH_BYTES)) {
    throw new FormatError("licence claims have the wrong types");
  }
  if (!NUMBER_RE.test(raw.get(1))) {
    throw new FormatError("licence number is not OFFICE-YEAR-DEVICE-SEQUENCE");
  }
  // readable, as Python's VerificationResult.claims (keys in the order of the code)
  const out = {};
  for (const k of keys) {
    const name = CLAIM_KEYS[k];
    let v = raw.get(k);
    if (name === "national_id_hash") {
      v = [toHex(v[0]), toHex(v[1])];
    } else if (name === "address") {
      const parts = {};
      for (const part of v.keys().sort((a, b) => a - b)) parts[ADDRESS_KEYS[part]] = v.get(part);
      v = parts;
    }
    out[name] = v;
  }
  if (!("address" in out)) out.address = {};
  return out;
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

// The number is one this office's device makes (licence.py licence_number_of).
function licenceNumberOf(number, office, deviceId) {
  const re = new RegExp(`^${escapeRegExp(office)}-\\p{Nd}{4}-${escapeRegExp(deviceId)}-\\p{Nd}+$`, "u");
  return re.test(number);
}

const REVOCATION_LIMITS = [3, 200000, 8000000];

// The root-signed revocation list (revocation.py parse_bytes); shape only.
function parseRevocationList(data) {
  const sign1 = parseSign1(cborLoads(data, 3, 16, REVOCATION_LIMITS[2]));
  const claims = cborLoads(sign1.payload, ...REVOCATION_LIMITS);
  const ok = claims instanceof CborMap && claims.hasExactly([1, 2, 3, 4]) &&
    isUint(claims.get(1)) && isUint(claims.get(2)) &&
    Array.isArray(claims.get(3)) && claims.get(3).every((n) => typeof n === "string") &&
    Array.isArray(claims.get(4)) &&
    claims.get(4).every((d) => Array.isArray(d) && d.length === 2 &&
      typeof d[0] === "string" && isUint(d[1]));
  if (!ok || sign1.kid.length !== ROOT_KID_BYTES) {
    throw new FormatError("revocation list claims have the wrong shape");
  }
  const devices = claims.get(4);
  if (!devices.every((d) => DEVICE_KEY_RE.test(d[0]))) {
    throw new FormatError("revocation list names a device without its office");
  }
  if (!strictlyAscending(claims.get(3)) || !strictlyAscending(devices.map((d) => d[0]))) {
    throw new FormatError("revocation list entries are not strictly ascending");
  }
  return { issued_at: claims.get(1), number: claims.get(2), licences: claims.get(3),
    devices: devices.map(([device, since]) => ({ device, compromised_since: since })),
    root_kid: toHex(sign1.kid), sign1 };
}

// Lookups over an opened list's revocation, built once per list.
const revocationIndex = new WeakMap();

function indexOf(revocation) {
  let index = revocationIndex.get(revocation);
  if (index === undefined) {
    index = { licences: new Set(revocation.licences),
      devices: new Map(revocation.devices.map((d) => [d.device, d.compromised_since])) };
    revocationIndex.set(revocation, index);
  }
  return index;
}

// --- verification --------------------------------------------------------------------------

function verdict(code, detail = "", extra = {}) {
  return { code, ok: code === "valid", claims: null, list_number: null, detail,
    certificate: null, revocation_list: null, ...extra };
}

function rootOf(trustList, kid) {
  const hex = toHex(kid);
  const roots = trustList && Array.isArray(trustList.roots) ? trustList.roots : [];
  const root = roots.find((r) => r && typeof r.kid === "string" && r.kid.toLowerCase() === hex);
  if (!root) return null;
  try {
    return fromHex(String(root.public_key).toLowerCase(), 32);
  } catch {
    return null;
  }
}

// Valid, or one precise reason: the first failing check of docs/credential-format.md
// "Verification". Never throws; anything unexpected is "malformed".
export async function verifyText(text, trustList, nowSeconds) {
  try {
    return await verifyOrFail(text, trustList, nowSeconds);
  } catch (exc) {
    return verdict("malformed", `${exc && exc.name}: ${exc && exc.message}`);
  }
}

async function verifyOrFail(text, trustList, now) {
  if (typeof now !== "number" || !Number.isInteger(now)) {
    throw new Error("nowSeconds must be whole Unix seconds");
  }
  if (text instanceof Uint8Array) {
    if (text.length > MAX_TEXT) return verdict("too_large", `${text.length} bytes`);
    if (text.some((b) => b > 127)) return verdict("malformed", "not ASCII text");
    text = String.fromCharCode(...text);
  }
  if (typeof text !== "string") return verdict("malformed", "not text");
  // at most one code point per UTF-16 unit: count only when the units exceed the limit
  if (text.length > MAX_TEXT && codePointLength(text, MAX_TEXT) > MAX_TEXT) {
    return verdict("too_large", `more than ${MAX_TEXT} characters`);
  }
  const version = VERSION_RE.exec(text);
  if (!version) return verdict("malformed", "does not start with NF1:");
  if (version[0] !== PREFIX) return verdict("unsupported_version", `prefix ${version[0]}`);

  let sign1;
  let cert;
  try {
    sign1 = parseSign1(cborLoads(base45Decode(text.slice(PREFIX.length)), 6, 32, MAX_TEXT),
      [CERT_LABEL]);
    cert = parseCertificate(sign1.unprotected.get(CERT_LABEL));
  } catch (exc) {
    if (exc instanceof FormatError) return verdict("malformed", exc.message);
    throw exc;
  }
  const certificate = certificateInfo(cert);
  const root = rootOf(trustList, cert.root_kid);
  if (root === null) {
    return verdict("unknown_issuer", `root key ${toHex(cert.root_kid)} is not trusted`,
      { certificate });
  }
  const certSigned = await signatureOk(root, cert.sign1.signature,
    sigStructure(cert.sign1.protectedBytes, cert.sign1.payload));
  if (!certSigned) {
    return verdict("unknown_issuer", "the device certificate is not signed by a trusted root",
      { certificate });
  }
  if (!sameBytes(sign1.kid, utf8.encode(cert.device_id)) ||
      !(await signatureOk(cert.public_key, sign1.signature,
        sigStructure(sign1.protectedBytes, sign1.payload)))) {
    return verdict("bad_signature", "", { certificate });
  }
  let claims;
  try {
    claims = checkClaims(cborLoads(sign1.payload, 2, 64));
  } catch (exc) {
    if (exc instanceof FormatError) return verdict("malformed", exc.message, { certificate });
    throw exc;
  }
  const kw = { claims, certificate };
  if (claims.office !== cert.office ||
      !licenceNumberOf(claims.number, cert.office, cert.device_id)) {
    return verdict("wrong_issuer", `${claims.number} for office ${claims.office}, signed by ` +
      `${cert.office}/${cert.device_id}`, kw);
  }
  const revocation = trustList && trustList.revocation ? trustList.revocation : null;
  if (revocation !== null) {
    const issuedAt = Number(revocation.issued_at);
    kw.revocation_list = { number: revocation.number, issued_at: revocation.issued_at,
      age_seconds: Math.max(0, now - issuedAt) };
    kw.list_number = revocation.number;
  }
  if (now < cert.not_before) return verdict("certificate_not_yet_valid", "", kw);
  if (now > cert.not_after) return verdict("certificate_expired", "", kw);
  const issued = claims.issued_at;
  if (!(cert.not_before <= issued && issued <= cert.sign_until)) {
    return verdict("issued_outside_certificate", "", kw);
  }
  if (!cert.licence_types.includes(claims.type)) {
    return verdict("type_not_allowed", `${claims.type} not in ${cert.licence_types.join(", ")}`, kw);
  }
  if (revocation !== null) {
    const index = indexOf(revocation);
    const since = index.devices.get(`${cert.office}/${cert.device_id}`);
    if (since !== undefined && issued >= since) {
      return verdict("device_revoked", `compromised since ${since}`, kw);
    }
    if (index.licences.has(claims.number)) {
      return verdict("revoked", `revocation list ${revocation.number}, ` +
        `${Math.floor(kw.revocation_list.age_seconds / 3600)} hours old`, kw);
    }
  }
  if (issued > now + CLOCK_SKEW) return verdict("issued_in_future", "", kw);
  if (now > claims.valid_until) return verdict("licence_expired", "", kw);
  return verdict("valid", "", kw);
}

// --- the trust list (NTL1) -----------------------------------------------------------------

const MAX_ENVELOPE_PAYLOAD = 16000000; // base64 characters: an 8 MB revocation list, twice encoded

function parseTrustPayload(bytes) {
  let doc;
  try {
    doc = JSON.parse(utf8Strict.decode(bytes));
  } catch {
    throw new FormatError("the payload is not UTF-8 JSON");
  }
  const whole = (v) => Number.isSafeInteger(v) && v >= 0;
  if (!doc || typeof doc !== "object" || Array.isArray(doc) || doc.format !== "NTL1" ||
      !whole(doc.version) || !whole(doc.issued_at) || !Array.isArray(doc.roots) ||
      doc.roots.length === 0 ||
      !(doc.revocation_list === null || typeof doc.revocation_list === "string")) {
    throw new FormatError("the payload is not an NTL1 trust list");
  }
  const roots = doc.roots.map((root) => {
    if (!root || typeof root !== "object") throw new FormatError("a root is not an object");
    const publicKey = fromHex(root.public_key, 32);
    const kid = fromHex(root.kid, ROOT_KID_BYTES);
    // the root kid: the first 8 bytes of SHA-256 over the raw key (docs/credential-format.md)
    if (!sameBytes(kid, sha256(publicKey).subarray(0, ROOT_KID_BYTES))) {
      throw new FormatError("a root's kid is not the start of SHA-256 of its key");
    }
    return { kid: root.kid, public_key: root.public_key };
  });
  return { version: doc.version, issued_at: doc.issued_at, roots,
    revocation_list: doc.revocation_list };
}

function refuse(code) {
  return { ok: false, list: null, code };
}

// Open a trust list envelope {format: "NTL1", payload, kid, signature} (an object or its
// JSON text). Accepted when its Ed25519 signature over the payload bytes verifies under a
// root of `held` (or, with nothing held, under a root the list itself names: trust on first
// use from the serving origin), its version is above held.version, and its revocation list
// (if any) parses and is signed by one of its roots. Never throws; on refusal the caller
// keeps the list it holds. code: "ok", "malformed", "unknown_root", "bad_signature", "older".
export async function openTrustList(envelope, held = null) {
  try {
    return await openOrRefuse(envelope, held);
  } catch (exc) {
    if (exc instanceof FormatError || exc instanceof SyntaxError || exc instanceof TypeError) {
      return refuse("malformed");
    }
    throw exc;
  }
}

async function openOrRefuse(envelope, held) {
  if (typeof envelope === "string") {
    if (envelope.length > MAX_ENVELOPE_PAYLOAD + 1000) return refuse("malformed");
    envelope = JSON.parse(envelope);
  }
  if (!envelope || typeof envelope !== "object" || envelope.format !== "NTL1" ||
      typeof envelope.payload !== "string" || envelope.payload.length > MAX_ENVELOPE_PAYLOAD ||
      typeof envelope.kid !== "string" || typeof envelope.signature !== "string") {
    return refuse("malformed");
  }
  const payload = fromBase64(envelope.payload);
  const signature = fromBase64(envelope.signature);
  fromHex(envelope.kid, ROOT_KID_BYTES);
  if (signature.length !== 64) return refuse("malformed");
  const doc = parseTrustPayload(payload);
  // the whole structure first: a list that does not parse is malformed whoever signed it
  const revocation = doc.revocation_list === null ? null
    : parseRevocationList(fromBase64(doc.revocation_list));

  const signers = held ? (held.roots || []) : doc.roots;
  const signer = signers.find((r) => r && r.kid === envelope.kid);
  if (!signer) return refuse("unknown_root");
  if (!(await signatureOk(fromHex(signer.public_key, 32), signature, payload))) {
    return refuse("bad_signature");
  }
  if (held && !(doc.version > held.version)) return refuse("older");

  if (revocation !== null) {
    const root = doc.roots.find((r) => r.kid === revocation.root_kid);
    if (!root) return refuse("unknown_root");
    const rs = revocation.sign1;
    if (!(await signatureOk(fromHex(root.public_key, 32), rs.signature,
      sigStructure(rs.protectedBytes, rs.payload)))) {
      return refuse("bad_signature");
    }
    // a device installs only a newer revocation list; the page never goes back either
    const heldRevocation = held && held.revocation;
    if (heldRevocation && revocation.number < heldRevocation.number) return refuse("older");
    delete revocation.sign1;
  }
  return { ok: true, code: "ok", list: { version: doc.version, issued_at: doc.issued_at,
    roots: doc.roots, revocation, signed_by: envelope.kid, envelope } };
}
