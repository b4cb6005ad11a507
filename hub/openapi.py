"""Write the hub's OpenAPI document: docs/hub-openapi.json is the published copy, and a test
(tests/hub/test_hub_openapi.py) checks that it equals what the app generates.

    python -m hub.openapi docs/hub-openapi.json           # (re)write it
    python -m hub.openapi --check docs/hub-openapi.json   # exit 1 if it is out of date

The document does not depend on any office's data: it is generated from an app over a
throwaway store in a temporary directory."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from core.office import Office
from core.settings import load_settings

from .app import create_app


def document() -> dict:
    """The OpenAPI document the hub serves at /openapi.json."""
    with tempfile.TemporaryDirectory(prefix="nafitha-openapi-") as tmp:
        office = Office.open(load_settings(Path(tmp), environ={}))
        try:
            return create_app(office).openapi()
        finally:
            office.close()


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.openapi",
                                     description="Write the hub's OpenAPI document.")
    parser.add_argument("path", type=Path, help="where to write it (docs/hub-openapi.json)")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if the file differs from the app's")
    args = parser.parse_args(argv)
    text = render(document())
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
        if current is None or json.loads(current) != json.loads(text):
            print(f"{args.path} is out of date: python -m hub.openapi {args.path}",
                  file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
