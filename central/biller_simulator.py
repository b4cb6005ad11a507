"""A national payment network, simulated (its own process, like the card-terminal simulator):
it inquires and pays bills at central's biller interface, with the faults real networks have,
and writes the day's settlement file.

    python -m central.biller_simulator --url http://127.0.0.1:8700 --secret-file biller.key \\
        --bills MUH-D01-B000001-62,MUH-D01-B000002-63 --faults duplicate,out_of_order,late,retry \\
        --date 2026-12-06 --settlement settle.csv --discrepancy amount --log sent.json

Faults (--faults, any of):
  duplicate     each notification is sent twice
  out_of_order  notifications are sent in the reverse of the order the payments were made
  late          the first payment's notification is sent last, after --late-s seconds
  retry         each notification's first answer is "lost" (read and ignored) and the very
                same bytes are sent again
Discrepancies in the settlement file (--discrepancy, one of):
  missing       the first payment's line is left out
  extra         a line for a payment never notified (the first bill, a new transaction id)
  amount        the first line's amount is one fils more

The log (--log, JSON) records every request sent and its answer: {"sent": [...],
"settlement": {...}}. Only bill numbers, amounts and transaction ids: no names."""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

FAULTS = ("duplicate", "out_of_order", "late", "retry")
DISCREPANCIES = ("missing", "extra", "amount")
HEADER = "date,transaction_id,bill_number,amount_minor,paid_at,network"


def sign(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


class Network:
    def __init__(self, url: str, secret: bytes, name: str = "simnet", timeout: float = 10):
        self.url, self.secret, self.name, self.timeout = url.rstrip("/"), secret, name, timeout
        self.sent: list[dict] = []

    def _call(self, method: str, path: str, body: bytes | None, signed: bytes) -> tuple:
        request = urllib.request.Request(
            self.url + path, data=body, method=method,
            headers={"X-Biller-Signature": sign(self.secret, signed),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def inquire(self, number: str) -> tuple[int, dict]:
        path = f"/v1/biller/bills/{number}"
        status, answer = self._call("GET", path, None, path.encode())
        self.sent.append({"request": "inquiry", "bill_number": number, "status": status,
                          "bill_status": (answer or {}).get("status")})
        return status, answer

    def notify(self, payment: dict, fault: str | None = None) -> tuple[int, dict]:
        body = json.dumps(payment, separators=(",", ":")).encode()
        status, answer = self._call("POST", "/v1/biller/payments", body, body)
        self.sent.append({"request": "payment", **payment, "fault": fault, "status": status,
                          "outcome": (answer or {}).get("outcome") or
                          (answer or {}).get("error")})
        return status, answer


def payments_for(network: Network, numbers: list[str], date: str) -> list[dict]:
    """Inquire each bill and make one payment of an open bill's amount, in the order given,
    a minute apart from 09:00 UTC on `date`."""
    start = datetime.fromisoformat(f"{date}T09:00:00+00:00")
    made = []
    for i, number in enumerate(numbers):
        status, answer = network.inquire(number)
        if status != 200 or answer.get("status") != "open":
            continue
        made.append({"transaction_id": f"{network.name}-{date.replace('-', '')}-{i + 1:06d}",
                     "bill_number": number, "amount_minor": answer["amount_minor"],
                     "paid_at": (start + timedelta(minutes=i)).isoformat(),
                     "network": network.name})
    return made


def send(network: Network, payments: list[dict], faults: set[str], late_s: float = 0.2) -> None:
    order = list(reversed(payments)) if "out_of_order" in faults else list(payments)
    late = None
    if "late" in faults and payments:
        late = payments[0]
        order.remove(late)
    for payment in order:
        _deliver(network, payment, faults)
    if late is not None:
        time.sleep(late_s)
        _deliver(network, late, faults, "late")


def _deliver(network: Network, payment: dict, faults: set[str], fault: str | None = None):
    if "retry" in faults:
        network.notify(payment, "retry_lost")  # its answer never reached the network
    network.notify(payment, fault)
    if "duplicate" in faults:
        network.notify(payment, "duplicate")


def settlement(payments: list[dict], date: str, discrepancy: str | None) -> tuple[str, dict]:
    """The day's settlement file (CSV text) and what was changed in it."""
    lines = [dict(p) for p in sorted(payments, key=lambda p: p["paid_at"])]
    injected: dict = {"kind": discrepancy}
    if discrepancy and not lines:
        raise SystemExit("a discrepancy needs at least one payment")
    if discrepancy == "missing":
        injected["transaction_id"] = lines.pop(0)["transaction_id"]
    elif discrepancy == "extra":
        extra = {**lines[0], "transaction_id": lines[0]["transaction_id"] + "-X"}
        lines.append(extra)
        injected["transaction_id"] = extra["transaction_id"]
    elif discrepancy == "amount":
        lines[0]["amount_minor"] += 1
        injected["transaction_id"] = lines[0]["transaction_id"]
    text = HEADER + "\n" + "".join(
        f"{date},{p['transaction_id']},{p['bill_number']},{p['amount_minor']},"
        f"{p['paid_at']},{p['network']}\n" for p in lines)
    return text, injected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m central.biller_simulator",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="central's base URL")
    parser.add_argument("--secret-file", required=True, help="the shared biller secret")
    parser.add_argument("--bills", required=True, help="bill numbers, comma-separated")
    parser.add_argument("--faults", default="", help=f"any of {','.join(FAULTS)}")
    parser.add_argument("--network", default="simnet")
    parser.add_argument("--date", default=datetime.now(UTC).date().isoformat(),
                        help="the payments' day, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--late-s", type=float, default=0.2)
    parser.add_argument("--settlement", help="write the day's settlement file here")
    parser.add_argument("--discrepancy", choices=DISCREPANCIES)
    parser.add_argument("--log", help="write what was sent (JSON) here")
    args = parser.parse_args(argv)
    faults = {f for f in args.faults.split(",") if f}
    unknown = faults - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    secret = Path(args.secret_file).read_text().strip().encode()
    network = Network(args.url, secret, args.network)
    numbers = [n.strip() for n in args.bills.split(",") if n.strip()]
    payments = payments_for(network, numbers, args.date)
    send(network, payments, faults, args.late_s)
    log = {"sent": network.sent, "payments": payments, "faults": sorted(faults)}
    if args.settlement:
        text, injected = settlement(payments, args.date, args.discrepancy)
        Path(args.settlement).write_text(text, encoding="utf-8")
        log["settlement"] = {"file": args.settlement, "discrepancy": injected}
    if args.log:
        Path(args.log).write_text(json.dumps(log, indent=2), encoding="utf-8")
    print(json.dumps({"payments": len(payments), "requests": len(network.sent)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
