"""Progress on stderr: tqdm bars on a terminal (even one of unknown size), plain lines in logs, --no-progress."""
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios

import pytest

from potcli import progress

from ..conftest import REPO


@pytest.fixture
def every_update_logged(monkeypatch):
    monkeypatch.setattr(progress, "LINE_INTERVAL", 0.0)


def test_logs_get_one_line_per_stage_and_interval(run_cli, tiny_config, tmp_path, every_update_logged):
    result = run_cli("run", tiny_config(metric="Similarity", count=16), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("potq: ") for line in lines), result.stderr
    assert "potq: Statistics: 1/16 samples, 0 s, about 0 s left" in lines
    assert any(line.startswith("potq: Statistics: 16/16 samples in ") for line in lines)
    assert any(line.startswith("potq: Bias correction: 2/2 layers in ") for line in lines)
    for stage in ("FP32 evaluation", "INT8 evaluation", "Latency"):
        assert any(line.startswith(f"potq: {stage}") and " in " in line for line in lines), stage


def test_no_progress_turns_the_lines_off(run_cli, tiny_config, tmp_path, every_update_logged):
    result = run_cli("run", tiny_config(metric="Similarity"), "-o", tmp_path / "out", "--no-progress")
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    evaluation = run_cli("eval", tiny_config(metric="Similarity"), "--no-progress")
    assert evaluation.exit_code == 0 and evaluation.stderr == ""


def test_a_stage_that_fails_prints_no_closing_line(run_cli, tmp_path, every_update_logged, mock_module):
    mock_module("failing.py", """
        import numpy as np
        class Loader:
            def __len__(self):
                return 4
            def __getitem__(self, index):
                if index == 2:
                    raise OSError("disk error")
                return np.ones((1, 3, 8, 8), np.float32), None
    """)
    from .. import models
    models.save(models.conv_relu(), tmp_path / "model.xml")
    (tmp_path / "c.yaml").write_text("model: {model: model.xml}\nengine: {data_loader: 'failing:Loader'}\n"
                                     "compression: {algorithms: [{name: DefaultQuantization}]}\n")
    result = run_cli("run", tmp_path / "c.yaml", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "potq: error: DataLoader[2] raised OSError: disk error"
    assert not any(" in " in line and "Statistics" in line for line in result.stderr.splitlines())


def _run_on_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run ``python -m potcli ARGS`` with stderr on a pseudo-terminal that reports 0x0, as `script` gives."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    assert os.get_terminal_size(slave) == (0, 0)
    process = subprocess.Popen([sys.executable, "-m", "potcli", *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=slave, cwd=REPO)
    os.close(slave)
    written = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            written += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(), written


def test_a_terminal_of_unknown_size_gets_bars(tiny_config, tmp_path):
    code, written = _run_on_terminal(["run", str(tiny_config(count=16)), "-o", str(tmp_path / "out")])
    assert code == 0, written
    text = written.decode(errors="replace")
    assert "Statistics:   0%|" in text and "0/16 [" in text
    drawn = [line for line in text.replace("\x1b[A", "\r").split("\r") if line.startswith("Statistics:")]
    assert drawn and max(len(line) for line in drawn) <= 80
