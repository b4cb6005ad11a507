import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nafitha.cli import cli

sys.path.insert(0, str(Path(__file__).parent))  # test_cli.py's helpers are shared


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args, env=None, expect=0):
        result = runner.invoke(cli, ["--data", str(tmp_path / "data"), *args],
                               env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None, **(env or {})},
                               catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    return invoke
