"""The production strength of PIN and password hashing (the suite hashes at test strength in
its own process: tests/conftest.py): asked of a fresh interpreter, so nothing a test
patched can stand in for it."""
import json
import subprocess
import sys

PROBE = """
import json
import core.users as users
from central.staff import PasswordHasher
from core.users import hash_pin
hasher = PasswordHasher()
print(json.dumps({"n": users.SCRYPT_N, "r": users.SCRYPT_R, "pin": hash_pin("1234"),
                  "time_cost": hasher.time_cost, "memory_kib": hasher.memory_cost,
                  "password": hasher.hash("a long pass phrase")}))
"""


def test_pins_and_passwords_are_hashed_slowly_outside_the_tests():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=60)
    got = json.loads(out.stdout)
    assert got["n"] >= 2 ** 16 and got["r"] >= 8  # 64 MiB per guess
    assert got["pin"].startswith(f"scrypt${got['n']}$8$1$")
    assert got["time_cost"] >= 3 and got["memory_kib"] >= 64 * 1024
    assert got["password"].startswith("$argon2id$v=19$m=65536,t=3,")


def test_this_process_hashes_at_test_strength_only():
    import core.users as users

    assert users.SCRYPT_N < 2 ** 16  # tests/conftest.py
    assert users.hash_pin("1234").startswith(f"scrypt${users.SCRYPT_N}$")
