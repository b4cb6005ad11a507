"""Dependencies flow one way (DESIGN.md): kiosk, counter -> ui -> (core, devices);
hub -> core; sync -> core; central -> sync.protocol. core has its own, stricter test.
A kiosk or counter of a service centre reaches the hub through hub.client only (the
server side, FastAPI, is never loaded on a kiosk)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("import_rules",
                                              ROOT / "tests/core/test_import_rules.py")
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)

# package -> the project packages it must never import
MUST_NOT_IMPORT = {
    "devices": {"ui", "kiosk", "counter", "hub", "sync", "central", "nafitha"},
    "ui": {"kiosk", "counter", "hub", "sync", "central", "nafitha"},
    "kiosk": {"counter", "hub", "central", "nafitha"},
    "counter": {"kiosk", "hub", "central", "nafitha"},
    "sync": {"ui", "kiosk", "counter", "devices", "hub", "central", "nafitha"},
    "hub": {"ui", "kiosk", "counter", "devices", "sync", "central", "nafitha"},
}
# What a package may import from a package it otherwise must not.
ALLOWED = {"kiosk": {"hub.client"}, "counter": {"hub.client"}}


@pytest.mark.parametrize("package", sorted(MUST_NOT_IMPORT))
def test_layers_import_only_downwards(package):
    forbidden = MUST_NOT_IMPORT[package]
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no sources"
    allowed = ALLOWED.get(package, set())
    wrong = [(str(path.relative_to(ROOT)), module) for path in files
             for module in rules.imports_of(path)
             if module.split(".")[0] in forbidden and module not in allowed]
    assert wrong == []
