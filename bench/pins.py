"""What an offline search of a stolen PIN hash costs: the time of one guess (one scrypt at
core.users' parameters, what `pin_matches` does) times the number of PINs the weakest
allowed PIN of each role can be, on one core. Baseline in the same run: the parameters used
before issue 17 (scrypt N=2^14). A real search is also run, over the last `--search` PINs
of the clerk key space, and must find the PIN it was given.

    python bench/pins.py [--guesses 20] [--rounds 3] [--search 50] [--quick]

Prints JSON. Target (docs/privacy.md): searching every 4-digit clerk PIN costs at least 15
minutes of one core, every 6-digit supervisor PIN at least a day."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import users  # noqa: E402

BASELINE_N = 2 ** 14  # before issue 17
TARGET_CLERK_SEARCH_S = 15 * 60
TARGET_SUPERVISOR_SEARCH_S = 86400


def stored_with(pin: str, n: int) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=users.SCRYPT_R, p=users.SCRYPT_P,
                            dklen=32, maxmem=2 ** 28)
    return f"scrypt${n}${users.SCRYPT_R}${users.SCRYPT_P}${salt.hex()}${digest.hex()}"


def guess_times(stored: str, guesses: int) -> list[float]:
    """Seconds per wrong guess, as a thief's loop pays them."""
    times = []
    for i in range(guesses):
        began = time.perf_counter()
        assert not users.pin_matches(f"{i:04d}x", stored)
        times.append(time.perf_counter() - began)
    return times


def search(stored: str, candidates) -> tuple[str | None, int]:
    """Try candidates in order until one matches: (the PIN, guesses spent)."""
    spent = 0
    for pin in candidates:
        spent += 1
        if users.pin_matches(pin, stored):
            return pin, spent
    return None, spent


def keyspace(role: str) -> int:
    return 10 ** users.PIN_DIGITS[role][0]  # the weakest PIN the role allows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--search", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="a few guesses (the test suite)")
    args = parser.parse_args(argv)
    if args.quick:
        args.guesses, args.rounds, args.search = 3, 1, 4
    ours, baseline = [], []
    ours_hash, baseline_hash = users.hash_pin("0000"), stored_with("0000", BASELINE_N)
    for _ in range(args.rounds):  # interleaved so both see the same machine load
        baseline += guess_times(baseline_hash, args.guesses)
        ours += guess_times(ours_hash, args.guesses)
    per_guess = statistics.median(ours)
    secret = f"{keyspace('clerk') - 1:04d}"  # the last PIN a thief counting up would try
    began = time.perf_counter()
    found, spent = search(users.hash_pin(secret),
                          (f"{n:04d}" for n in range(keyspace("clerk") - args.search,
                                                     keyspace("clerk"))))
    searched_s = time.perf_counter() - began
    clerk_s = keyspace("clerk") * per_guess
    supervisor_s = keyspace("supervisor") * per_guess
    result = {
        "benchmark": "pins.offline_search_cost",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "kdf": {"name": "scrypt", "n": users.SCRYPT_N, "r": users.SCRYPT_R,
                "p": users.SCRYPT_P, "memory_mib": 128 * users.SCRYPT_N * users.SCRYPT_R
                // 2 ** 20},
        "seconds_per_guess": {"median": round(per_guess, 4),
                              "p95": round(sorted(ours)[int(0.95 * (len(ours) - 1))], 4),
                              "samples": len(ours)},
        "baseline_n_2_14_seconds_per_guess": {"median": round(statistics.median(baseline), 4),
                                              "samples": len(baseline)},
        "ratio_vs_baseline": round(per_guess / statistics.median(baseline), 2),
        "weakest_pin": {role: {"digits": users.PIN_DIGITS[role][0], "keyspace": keyspace(role)}
                        for role in users.ROLES},
        "full_search_one_core_s": {"clerk": round(clerk_s), "supervisor": round(supervisor_s)},
        "search_run": {"guesses": spent, "found": found == secret,
                       "seconds": round(searched_s, 3),
                       "seconds_per_guess": round(searched_s / spent, 4)},
        "target_s": {"clerk": TARGET_CLERK_SEARCH_S, "supervisor": TARGET_SUPERVISOR_SEARCH_S},
        "meets_target": clerk_s >= TARGET_CLERK_SEARCH_S
        and supervisor_s >= TARGET_SUPERVISOR_SEARCH_S,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
