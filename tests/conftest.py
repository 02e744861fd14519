import socket
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from potcli.cli import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests must not reach the network."""
    def refuse(*args, **kwargs):
        raise OSError("network access is blocked in tests")
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def run_cli():
    """Invoke the potq CLI in-process; returns click's Result with separate stdout/stderr."""
    def invoke(*args):
        from potcli.cli import main
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            try:
                code = main(list(map(str, args)))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            return CliResult(code, out.getvalue().decode(), err.getvalue().decode())
    return invoke


class CliResult:
    def __init__(self, exit_code, stdout, stderr):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    def __repr__(self):
        return f"CliResult(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def mock_module(tmp_path, monkeypatch):
    """Write a Python module under tmp_path/mods, importable by name for the test's duration."""
    root = tmp_path / "mods"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    written = []

    def write(relpath: str, text: str) -> Path:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        written.append(path)
        return path

    yield write
    for name in [n for n, m in sys.modules.items() if str(getattr(m, "__file__", "") or "").startswith(str(root))]:
        del sys.modules[name]


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path
