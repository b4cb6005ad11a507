"""Dependencies flow one way (docs/architecture.md):

    nafitha (the CLI) -> kiosk, counter -> ui -> (core, devices)
    nafitha -> hub -> core            nafitha -> hubclient -> core
    nafitha -> sync -> core           nafitha -> central -> (sync.protocol, core's pure modules)
    testing -> (ui, core)             devices -> core

core has its own, stricter test (tests/core/test_import_rules.py). A kiosk or counter never
loads the hub's server nor its client: the CLI hands the app its face of the office (in
process, or through hubclient). The apps load the testing package only when asked
(ui/hooks.py: the test pilot, --screenshot)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("import_rules",
                                              ROOT / "tests/core/test_import_rules.py")
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)

PACKAGES = {"core", "devices", "ui", "kiosk", "counter", "hub", "hubclient", "sync", "central",
            "nafitha", "testing"}
# package -> the project packages it must never import
MUST_NOT_IMPORT = {
    "devices": PACKAGES - {"core", "devices"},
    "ui": PACKAGES - {"core", "devices", "ui"},
    "kiosk": PACKAGES - {"core", "devices", "ui", "kiosk"},
    "counter": PACKAGES - {"core", "devices", "ui", "counter"},
    "sync": PACKAGES - {"core", "sync"},
    "hub": PACKAGES - {"core", "hub"},
    "hubclient": PACKAGES - {"core", "hubclient"},
    "central": PACKAGES - {"core", "sync", "central"},
    "testing": PACKAGES - {"core", "ui", "testing"},
}
# What a package may import from a package it otherwise must not.
ALLOWED = {"ui": {"testing.pilot", "testing.screenshot"}}  # ui/hooks.py, only when asked
# Central runs at the municipality over its own database: of core it uses only the modules
# that touch no store (the catalogue's rules, credentials, clocks, errors, PIN hashing), and
# of sync only the wire protocol.
CENTRAL_MAY_USE = ("core.catalog", "core.clock", "core.credentials", "core.errors",
                   "core.users", "core.canonical", "core.private_files", "core.http_policy",
                   "core.sealing", "core.text", "core.totp", "core.verify_page",
                   "core.verify_words", "core.bill_numbers", "core.kpis", "core.report_files",
                   "core.booking_codes",
                   "sync.protocol")


def imports(package: str) -> list[tuple[str, str]]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no sources"
    return [(str(path.relative_to(ROOT)), module) for path in files
            for module in rules.imports_of(path)]


@pytest.mark.parametrize("package", sorted(MUST_NOT_IMPORT))
def test_layers_import_only_downwards(package):
    forbidden = MUST_NOT_IMPORT[package]
    allowed = ALLOWED.get(package, set())
    wrong = [(path, module) for path, module in imports(package)
             if module.split(".")[0] in forbidden and module not in allowed]
    assert wrong == []


def test_ui_loads_the_testing_package_only_in_its_hooks():
    users = {path for path, module in imports("ui") if module.split(".")[0] == "testing"}
    assert users == {"ui/hooks.py"}


def test_central_uses_only_the_pure_parts_of_core_and_the_sync_protocol():
    used = {module for _, module in imports("central") if module.split(".")[0] in PACKAGES
            and module.split(".")[0] != "central"}
    stray = {m for m in used
             if not any(m == ok or m.startswith(ok + ".") for ok in CENTRAL_MAY_USE)
             and m != "sync"}  # `from sync import protocol`
    assert used and stray == set()
    assert not {m for m in used if m.startswith(("core.office", "core.store", "core.faces"))}


def test_the_checker_catches_a_wrong_arrow(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from hub.app import create_app\nimport hubclient\n")
    found = rules.imports_of(bad)
    assert [m for m in found if m.split(".")[0] in MUST_NOT_IMPORT["kiosk"]] == \
        ["hub.app", "hubclient"]
