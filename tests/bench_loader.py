"""Load a benchmark script (bench/NAME.py) as a module, for the tests that check it."""
import importlib.util
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str):
    module_name = f"bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def run_quick(name: str) -> dict:
    """Run bench/NAME.py --quick in this process and return the JSON it printed; its own
    Xvfb must be gone afterwards (DISPLAY as before)."""
    import contextlib
    import io
    import json
    import os

    display = os.environ.get("DISPLAY")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = load_bench(name).main(["--quick"])
    assert code == 0, out.getvalue()[-2000:]
    assert os.environ.get("DISPLAY") == display, "the bench's Xvfb display was left in place"
    return json.loads(out.getvalue())
