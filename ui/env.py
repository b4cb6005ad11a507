"""The environment Kivy reads when it is first imported.

Kivy parses sys.argv, creates ~/.kivy and takes over console logging at import time, so this
must run before any `import kivy`."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def prepare_kivy_env(data_dir: str | Path) -> Path:
    """Point Kivy at <data_dir>/kivy, stop it parsing our command line and keep its console
    output to warnings and errors (its full log goes to <data_dir>/kivy/logs).

    Returns the Kivy home directory. Raises RuntimeError if Kivy was already imported with
    a different home, because then these settings can no longer take effect."""
    home = (Path(data_dir) / "kivy").resolve()
    if "kivy" in sys.modules:
        if os.environ.get("KIVY_HOME") != str(home):
            raise RuntimeError("prepare_kivy_env() must run before kivy is imported "
                               f"(KIVY_HOME is {os.environ.get('KIVY_HOME')!r}, not {home})")
        return home
    # Kivy creates KIVY_HOME with mkdir(), not makedirs(): the parents must exist.
    home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(home)
    # Otherwise Kivy treats `nafitha --data X kiosk` (or pytest's arguments) as its own options.
    os.environ["KIVY_NO_ARGS"] = "1"
    if "KIVY_LOG_MODE" not in os.environ:  # a developer may ask for Kivy's own logging
        # MIXED: Kivy logs through its own logger only and leaves stderr and the root logger
        # to us; its info chatter goes to the log file, problems to the console.
        os.environ["KIVY_LOG_MODE"] = "MIXED"
        os.environ["KIVY_NO_CONSOLELOG"] = "1"
        _console_warnings(logging.getLogger("kivy"))
    return home


# Kivy warns about these on every fresh KIVY_HOME, i.e. on a new installation's first start.
_EXPECTED_WARNINGS = ("Config: Older configuration version detected",
                      "Config: Upgrading configuration in progress")


def _console_warnings(logger: logging.Logger) -> None:
    if any(getattr(h, "_nafitha", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("kivy %(levelname)s: %(message)s"))
    handler.addFilter(lambda record: not str(record.msg).startswith(_EXPECTED_WARNINGS))
    handler._nafitha = True
    logger.addHandler(handler)
