"""bench/pins.py in quick mode: it measures core.users' real KDF (not a copy), the key
spaces are the weakest PINs core.users allows, its search really finds the PIN, and the
costs it reports are its own measurements multiplied out."""
import contextlib
import io
import json

from bench_loader import load_bench

from core import users


def test_quick_pin_bench_measures_the_real_kdf_and_search(production_strength_hashes):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert load_bench("pins").main(["--quick"]) == 0
    report = json.loads(out.getvalue())
    assert report["kdf"] == {"name": "scrypt", "n": users.SCRYPT_N, "r": users.SCRYPT_R,
                             "p": users.SCRYPT_P, "memory_mib": 64}
    assert report["weakest_pin"] == {"clerk": {"digits": 4, "keyspace": 10_000},
                                     "supervisor": {"digits": 6, "keyspace": 1_000_000}}
    assert report["search_run"]["found"] is True and report["search_run"]["guesses"] == 4
    per_guess = report["seconds_per_guess"]["median"]
    assert per_guess > 0 and report["ratio_vs_baseline"] > 1  # 4x the memory and work
    # the median per guess is printed to 0.1 ms: 10,000 of them agree within a second
    assert abs(report["full_search_one_core_s"]["clerk"] - 10_000 * per_guess) <= 1.5
    assert report["meets_target"] == (
        report["full_search_one_core_s"]["clerk"] >= report["target_s"]["clerk"]
        and report["full_search_one_core_s"]["supervisor"] >= report["target_s"]["supervisor"])
