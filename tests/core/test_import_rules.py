"""`core` runs with no display, no printer and no network: it imports no UI toolkit, no HTTP
client, no device library, and none of the layers built on top of it (DESIGN.md)."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

FORBIDDEN = {
    # UI
    "kivy", "kivymd", "tkinter", "PyQt5", "PyQt6", "PySide6",
    # network
    "requests", "httpx", "aiohttp", "urllib3", "fastapi", "starlette", "uvicorn", "websockets",
    "socket", "http", "urllib.request",
    # devices
    "escpos", "serial", "usb", "cv2", "pyzbar", "zxingcpp", "PIL",
    # the layers above core
    "ui", "kiosk", "counter", "devices", "sync", "hub", "hubclient", "central", "nafitha",
    "testing",
}


def is_forbidden(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in FORBIDDEN for i in range(1, len(parts) + 1))


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Call):
            # importlib.import_module("x") / __import__("x") with a literal name
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append(node.args[0].value)
    return found


def test_the_checker_sees_what_it_should(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nimport kivy.app\nfrom escpos.printer import Usb\n"
                      "from . import store\nimport importlib\n"
                      "def f():\n    import cv2\n    importlib.import_module('serial')\n")
    found = imports_of(sample)
    assert [m for m in found if is_forbidden(m)] == ["kivy.app", "escpos.printer", "cv2",
                                                     "serial"]
    assert not is_forbidden("sqlite_utils") and not is_forbidden("userspace")


# The one exception: systemd's watchdog is a local AF_UNIX datagram, not the network.
ALLOWED_IN_CORE = {"core/watchdog.py": {"socket"}}


def test_core_sources_import_nothing_forbidden():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 14
    offenders = {rel: bad for p in files
                 if (bad := [m for m in imports_of(p) if is_forbidden(m) and m not in
                             ALLOWED_IN_CORE.get(rel := str(p.relative_to(ROOT)), ())])}
    assert offenders == {}


def test_importing_core_loads_no_forbidden_module():
    code = ("import json, sys\n"
            "import core.office, core.audit, core.outbox\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    loaded = json.loads(out)
    assert "core.office" in loaded
    assert not [m for m in loaded if m.split(".")[0] in
                {"kivy", "kivymd", "requests", "httpx", "escpos", "serial", "usb", "cv2",
                 "pyzbar", "zxingcpp", "PIL", "ui", "kiosk", "nafitha", "devices", "sync"}]


LAYER_RULES = {
    # layer: modules it must not import (DESIGN.md: sync -> core; central -> sync.protocol)
    "sync": {"central", "ui", "kiosk", "counter", "devices", "hub", "nafitha", "kivy"},
    "central": {"sync.agent", "sync.reference", "ui", "kiosk", "counter", "devices", "hub",
                "nafitha", "kivy", "core.office", "core.store.Store"},
}


def test_sync_and_central_keep_to_their_layers():
    offenders = {}
    for layer, forbidden in LAYER_RULES.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            bad = [m for m in imports_of(path)
                   if any(m == f or m.startswith(f + ".") for f in forbidden)]
            if bad:
                offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}
    central_uses = {m for p in (ROOT / "central").rglob("*.py") for m in imports_of(p)
                    if m.split(".")[0] == "sync"}
    assert central_uses <= {"sync", "sync.protocol"}  # `from sync import protocol`
