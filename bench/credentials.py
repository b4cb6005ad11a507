"""Signed licence QR codes: sign+encode/s, verify/s, payload bytes and QR version for a typical
licence (a building permit) with and without the embedded device certificate, against a naive
baseline measured in the same run: plain JSON (national ID in clear) + "." + base64url of a
detached Ed25519 signature, printed in QR byte mode.

    python bench/credentials.py [--ops 1000] [--rounds 5] [--issue-ops N]

Prints JSON. Target (issue): a typical licence fits QR version 17 or lower at level M.

What is timed (each figure is the median over rounds; the variants run interleaved within
each round so they all see the same machine load):
  nafitha full issue     claims_for (scrypt of the national ID, ~40 ms by design) + sign_claims
  nafitha sign+encode    sign_claims on claims prepared once: CBOR, COSE_Sign1, Base45
  nafitha verify         licence.verify(text, trust, now) with the root in a TrustStore;
                         every call must return valid (checks the certificate chain, then the
                         licence signature: two Ed25519 verifications)
  no-certificate sign    the same COSE_Sign1 without the certificate in the unprotected header
                         (sizes and sign+encode only: our verifier needs the certificate)
  baseline sign/verify   json.dumps + Ed25519 sign + base64url / split + json.loads + verify
                         with the device's public key already loaded (one verification)
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cryptography  # noqa: E402
import segno  # noqa: E402
from cryptography.hazmat.backends.openssl import backend as _openssl  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from core.credentials import base45, cbor, cose, keys, qr_fit  # noqa: E402
from core.credentials import certificate as certs  # noqa: E402
from core.credentials.licence import PREFIX, claims_for, sign_claims, verify  # noqa: E402
from core.credentials.trust import TrustStore  # noqa: E402

TARGET_QR_VERSION = 17
TARGET_QR_ERROR = "M"
# characters (core/credentials/qr_fit.py: 58 mm paper's largest code); negative = too long
V17_M_ALNUM_CAPACITY = qr_fit.ALPHANUMERIC_M[TARGET_QR_VERSION - 1]

NOW = 1_795_500_000  # 2026-11-24, fixed so the output is the same on every run
DAY = 86400
ROOT_SEED = bytes(range(32))
DEVICE_SEED = bytes(range(32, 64))
SALT = bytes(range(8))  # fixed, so every round signs the same bytes
OFFICE = "MUH"
NATIONAL_ID = "850101239"

# The one free-text claim, and the one that decides the QR version. Typical: ~80 characters.
# A typical condition line (39 characters); the long one shows where version 17 runs out.
CONDITIONS = "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط"
LONG_CONDITIONS = "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط، ومن السبت إلى الخميس، مع إغلاق الرصيف 2"

# A typical building permit as core/licences.py builds the row.
ROW = {
    "number": "MUH-2026-D01-000123",
    "licence_type": "BPS",
    "holder_name": "فاطمة عبدالله محمد الحداد",
    "national_id": NATIONAL_ID,
    # The store keeps the address as a JSON object; claims_for turns it into claim 5.
    "address": {"parcel": "02-1234", "block": "204", "road": "15", "building": "1203A"},
    "issued_at": NOW,
    "valid_until": NOW + 365 * DAY,
    "device_counter": 123,
    "conditions": CONDITIONS,
}


def setup():
    root = Ed25519PrivateKey.from_private_bytes(ROOT_SEED)
    device = Ed25519PrivateKey.from_private_bytes(DEVICE_SEED)
    cert = certs.issue(root, "D01", OFFICE, keys.public_bytes(device), NOW - 10 * DAY,
                       NOW + 365 * DAY, NOW + 4000 * DAY, ["BPS", "RES"], 1)
    root_public = keys.public_bytes(root)
    trust = TrustStore({keys.key_id(root_public): root_public})
    return device, cert, trust


# --- the three encodings ------------------------------------------------------------------

def sign_without_certificate(claims: dict, device_key, cert) -> tuple[str, bytes]:
    """Our format minus the certificate in the unprotected header."""
    sign1 = cose.sign(cbor.dumps(claims), device_key, cert.device_id.encode())
    raw = cbor.dumps(sign1.to_cbor())
    return PREFIX + base45.encode(raw), raw


def naive_fields(row: dict) -> dict:
    """The same fields, national ID in clear; the same integer times (a naive design would more
    likely print ISO dates, which only makes it longer)."""
    out = {"number": row["number"], "type": row["licence_type"], "holder": row["holder_name"],
           "national_id": row["national_id"], "address": row["address"],
           "issued_at": row["issued_at"], "valid_until": row["valid_until"], "office": OFFICE,
           "device_counter": row["device_counter"]}
    if row.get("conditions"):
        out["conditions"] = row["conditions"]
    return out


def naive_sign(fields: dict, device_key) -> str:
    body = json.dumps(fields, ensure_ascii=False)
    signature = device_key.sign(body.encode("utf-8"))
    return body + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def naive_verify(text: str, device_public) -> dict:
    body, _, sig = text.rpartition(".")
    signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    device_public.verify(signature, body.encode("utf-8"))  # raises InvalidSignature
    return json.loads(body)


# --- measurement --------------------------------------------------------------------------

def rate(fn, ops: int) -> float:
    start = time.perf_counter()
    for _ in range(ops):
        fn()
    return ops / (time.perf_counter() - start)


def qr_info(text: str) -> dict:
    qr = segno.make(text, error=TARGET_QR_ERROR.lower(), micro=False, boost_error=False)
    return {"version": qr.version, "mode": qr.mode, "error": qr.error,
            "modules_per_side": qr.symbol_size(border=0)[0],
            "data_bits": qr_data_bits(text, qr.mode),
            "fits_v17_M": qr.version <= TARGET_QR_VERSION}


def qr_data_bits(text: str, mode: str) -> int:
    """Bits the data takes in the symbol (without mode/length headers): what QR capacity
    counts. Alphanumeric: 11 bits per 2 characters; byte: 8 bits per UTF-8 byte."""
    if mode == "alphanumeric":
        return 11 * (len(text) // 2) + 6 * (len(text) % 2)
    return 8 * len(text.encode("utf-8"))


def fits(text: str, version: int = TARGET_QR_VERSION) -> bool:
    try:
        segno.make(text, error=TARGET_QR_ERROR.lower(), micro=False, version=version,
                   boost_error=False)
        return True
    except segno.DataOverflowError:
        return False


def conditions_sensitivity(claims: dict, device, cert) -> dict:
    """How the QR version moves with the length of the conditions (the one free-text claim),
    and the longest prefix of the typical conditions that still fits the target."""
    def with_conditions(conditions: str) -> dict:
        out = {k: v for k, v in claims.items() if k != 9}
        if conditions:  # claims_for leaves claim 9 out when there are no conditions
            out[9] = conditions
        return out

    def ours_with(conditions: str) -> str:
        return sign_claims(with_conditions(conditions), device, cert)

    points = []
    for conditions in ("", CONDITIONS, LONG_CONDITIONS):
        text = ours_with(conditions)
        bare, _ = sign_without_certificate(with_conditions(conditions), device, cert)
        points.append({"conditions_chars": len(conditions),
                       "conditions_utf8_bytes": len(conditions.encode("utf-8")),
                       "with_certificate": {"text_chars": len(text),
                                            "qr_version": qr_info(text)["version"]},
                       "without_certificate": {"text_chars": len(bare),
                                               "qr_version": qr_info(bare)["version"]}})
    longest = None
    if fits(ours_with("")):
        lo, hi = 0, len(LONG_CONDITIONS)  # binary search: the longest prefix that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(ours_with(LONG_CONDITIONS[:mid])) else (lo, mid - 1)
        longest = lo
    return {"points": points,
            "longest_conditions_fitting_v17_M_chars": longest}


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1), "all": [round(v, 1) for v in values]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000,
                        help="operations per round for sign+encode and verify")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--issue-ops", type=int, default=None,
                        help="operations per round for the full issue (with the ~40 ms "
                             "scrypt); default max(1, ops // 50)")
    args = parser.parse_args(argv)
    if args.ops < 1 or args.rounds < 1:
        parser.error("--ops and --rounds must be at least 1")
    issue_ops = args.issue_ops if args.issue_ops is not None else max(1, args.ops // 50)

    device, cert, trust = setup()
    device_public = device.public_key()
    claims = claims_for(ROW, OFFICE, salt=SALT)
    fields = naive_fields(ROW)

    ours = sign_claims(claims, device, cert)
    result = verify(ours, trust, NOW)
    assert result.valid, f"the benchmark licence does not verify: {result.reason} {result.detail}"
    ours_raw = base45.decode(ours[len(PREFIX):])
    bare, bare_raw = sign_without_certificate(claims, device, cert)
    naive = naive_sign(fields, device)
    assert naive_verify(naive, device_public) == fields

    def ours_verify():
        if not verify(ours, trust, NOW).valid:
            raise AssertionError("verify did not return valid")

    timed = {
        "nafitha_full_issue": (lambda: sign_claims(claims_for(ROW, OFFICE, salt=SALT),
                                                   device, cert), issue_ops),
        "nafitha_sign_encode": (lambda: sign_claims(claims, device, cert), args.ops),
        "nafitha_no_cert_sign_encode": (lambda: sign_without_certificate(claims, device, cert),
                                        args.ops),
        "baseline_sign_encode": (lambda: naive_sign(fields, device), args.ops),
        "nafitha_verify": (ours_verify, args.ops),
        "baseline_verify": (lambda: naive_verify(naive, device_public), args.ops),
    }
    rates: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.rounds):  # interleaved so all variants see the same machine load
        for name, (fn, ops) in timed.items():
            rates[name].append(rate(fn, ops))
    med = {name: statistics.median(values) for name, values in rates.items()}

    naive_bytes = len(naive.encode("utf-8"))
    qr_ours, qr_bare, qr_naive = qr_info(ours), qr_info(bare), qr_info(naive)
    variants = {
        "nafitha_with_certificate": {
            "sign_encode_full_issue_ops_per_s": summary(rates["nafitha_full_issue"]),
            "sign_encode_ops_per_s": summary(rates["nafitha_sign_encode"]),
            "verify_ops_per_s": summary(rates["nafitha_verify"]),
            "verify_reason": result.reason,
            "cbor_bytes": len(ours_raw),
            "claims_cbor_bytes": len(cbor.dumps(claims)),
            "certificate_cbor_bytes": len(cert.to_bytes()),
            "text_chars": len(ours),
            "qr": qr_ours,
            "text": ours,
        },
        "nafitha_without_certificate": {
            "sign_encode_ops_per_s": summary(rates["nafitha_no_cert_sign_encode"]),
            "verify_ops_per_s": None,
            "verify_note": "not measured: licence.verify needs the embedded certificate",
            "cbor_bytes": len(bare_raw),
            "text_chars": len(bare),
            "qr": qr_bare,
            "text": bare,
        },
        "baseline_json_detached_signature": {
            "sign_encode_ops_per_s": summary(rates["baseline_sign_encode"]),
            "verify_ops_per_s": summary(rates["baseline_verify"]),
            "json_utf8_bytes": len(json.dumps(fields, ensure_ascii=False).encode("utf-8")),
            "text_chars": len(naive),
            "text_utf8_bytes": naive_bytes,
            "national_id_in_clear": NATIONAL_ID in naive,
            "qr": qr_naive,
            "text": naive,
        },
    }
    base_sign, base_verify = med["baseline_sign_encode"], med["baseline_verify"]
    output = {
        "benchmark": "credentials.licence_qr",
        "machine": {"python": platform.python_version(), "implementation":
                    platform.python_implementation(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "cryptography": cryptography.__version__,
                    "openssl": _openssl.openssl_version_text(), "segno": segno.__version__},
        "ops_per_round": args.ops, "issue_ops_per_round": issue_ops, "rounds": args.rounds,
        "licence": {"type": ROW["licence_type"], "number": ROW["number"],
                    "holder_chars": len(ROW["holder_name"]),
                    "address": ", ".join(f"{k} {v}" for k, v in ROW["address"].items()),
                    "conditions_chars": len(ROW["conditions"]),
                    "validity_days": (ROW["valid_until"] - ROW["issued_at"]) // DAY},
        "variants": variants,
        "ratios_vs_baseline": {
            "nafitha_sign_encode_ops": round(med["nafitha_sign_encode"] / base_sign, 3),
            "nafitha_full_issue_ops": round(med["nafitha_full_issue"] / base_sign, 4),
            "nafitha_no_cert_sign_encode_ops":
                round(med["nafitha_no_cert_sign_encode"] / base_sign, 3),
            "nafitha_verify_ops": round(med["nafitha_verify"] / base_verify, 3),
            # In QR data bits: alphanumeric 5.5 bits a character, byte mode 8 bits a byte.
            "nafitha_with_certificate_qr_data_bits":
                round(qr_ours["data_bits"] / qr_naive["data_bits"], 3),
            "nafitha_without_certificate_qr_data_bits":
                round(qr_bare["data_bits"] / qr_naive["data_bits"], 3),
            "nafitha_with_certificate_qr_version_minus_baseline":
                qr_ours["version"] - qr_naive["version"],
            "nafitha_without_certificate_qr_version_minus_baseline":
                qr_bare["version"] - qr_naive["version"],
        },
        "target_qr": f"version <= {TARGET_QR_VERSION} at level {TARGET_QR_ERROR}",
        "fits_v17_M": qr_ours["fits_v17_M"],
        "v17_M_alphanumeric_capacity_chars": V17_M_ALNUM_CAPACITY,
        "nafitha_with_certificate_headroom_chars": V17_M_ALNUM_CAPACITY - len(ours),
        "conditions_sensitivity": conditions_sensitivity(claims, device, cert),
    }
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
