"""A failed or interrupted run never damages an earlier good output, and leaves no temporary files."""
import errno
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import openvino
import pytest

from potcli.output import swap

from .conftest import assert_one_clean_error


def good_run(run_cli, config, out):
    assert run_cli("run", config, "-o", out, "--log-level", "error").exit_code == 0
    return {p.name: p.read_bytes() for p in out.iterdir()}


def assert_unchanged(out, before):
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # same files, same bytes, no .potq-tmp-*


def test_output_folder_that_cannot_be_created(run_cli, make_config, tmp_path):
    (tmp_path / "a_file").write_text("x")
    result = run_cli("run", make_config(), "-o", tmp_path / "a_file" / "out", "--log-level", "error")
    assert_one_clean_error(result, 1, "a_file/out: cannot create the output folder")


def test_disk_full_while_saving_keeps_the_earlier_output(run_cli, make_config, tmp_path, monkeypatch):
    config, out = make_config(), tmp_path / "out"
    before = good_run(run_cli, config, out)

    def save_then_fill_the_disk(model, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"<?xml partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(openvino, "save_model", save_then_fill_the_disk)
    result = run_cli("run", config, "-o", out, "--log-level", "error")
    assert_one_clean_error(result, 1, "No space left on device", "earlier files there were left unchanged")
    assert_unchanged(out, before)


def test_failure_while_swapping_puts_the_old_pair_back(run_cli, make_config, tmp_path, monkeypatch):
    config, out = make_config(params={"preset": "mixed"}), tmp_path / "out"
    before = good_run(run_cli, make_config(name="first.yaml"), out)
    real_replace = os.replace

    def fail_on_xml(source, target):
        if str(target).endswith("m.xml") and ".potq-tmp-" in str(source) and "previous-" not in str(source):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(swap.os, "replace", fail_on_xml)
    result = run_cli("run", config, "-o", out, "--log-level", "error")
    assert_one_clean_error(result, 1, "Input/output error")
    assert_unchanged(out, before)


def test_new_xml_never_meets_an_old_bin(run_cli, make_config, tmp_path, monkeypatch):
    config, out = make_config(), tmp_path / "out"
    good_run(run_cli, config, out)
    events = []
    real_replace, real_unlink = os.replace, os.unlink

    def replace(source, target):
        events.append(("replace", Path(target)))
        return real_replace(source, target)

    def unlink(path, **kwargs):
        events.append(("unlink", Path(path)))
        return real_unlink(path, **kwargs)

    monkeypatch.setattr(swap.os, "replace", replace)
    monkeypatch.setattr(swap.os, "unlink", unlink)  # Path.unlink calls it too
    assert run_cli("run", config, "-o", out, "--log-level", "error").exit_code == 0
    swaps = [(action, path.name) for action, path in events if path.parent == out and path.suffix in (".xml", ".bin")]
    assert swaps == [("unlink", "m.xml"), ("replace", "m.bin"), ("replace", "m.xml")]


@pytest.mark.parametrize("algorithm,sig,code", [("DefaultQuantization", signal.SIGTERM, 143),
                                                ("DefaultQuantization", signal.SIGINT, 130),
                                                ("DefaultQuantization", signal.SIGHUP, 129),
                                                ("AccuracyAwareQuantization", signal.SIGTERM, 143)])
def test_interrupted_run_exits_128_plus_signal_and_keeps_the_earlier_output(run_cli, make_config, tmp_path,
                                                                            algorithm, sig, code):
    out = tmp_path / "out"
    before = good_run(run_cli, make_config(name="first.yaml"), out)
    marker = tmp_path / "reading"
    config = make_config(loader_args={"count": 60, "sleep": 0.05, "marker": str(marker)}, algorithm=algorithm,
                         metric="ok" if algorithm == "AccuracyAwareQuantization" else None)
    process = subprocess.Popen([sys.executable, "-m", "potcli", "run", str(config), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)  # well inside statistics collection (DefaultQuantization) or the FP32 evaluation (AAQ)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"interrupted by {signal.Signals(sig).name}" in stderr and "Traceback" not in stderr
    assert_unchanged(out, before)


def evaluate_to(run_cli, make_config, target):
    return run_cli("eval", make_config(metric="ok"), "-o", target, "--log-level", "error")


def test_eval_output_to_a_device_is_refused_and_the_device_kept(run_cli, make_config):
    result = evaluate_to(run_cli, make_config, "/dev/null")
    assert_one_clean_error(result, 2, "/dev/null: is a character device, not a file potq may replace")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_eval_output_to_a_fifo_is_refused(run_cli, make_config, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert_one_clean_error(evaluate_to(run_cli, make_config, tmp_path / "pipe"), 2, "pipe: is a FIFO")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_eval_output_through_a_symlink_out_of_its_folder_is_refused(run_cli, make_config, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "precious.json").write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "metrics.json").symlink_to(tmp_path / "elsewhere" / "precious.json")
    result = evaluate_to(run_cli, make_config, tmp_path / "out" / "metrics.json")
    assert_one_clean_error(result, 2, "metrics.json: is a symlink to", "outside its folder")
    assert (tmp_path / "elsewhere" / "precious.json").read_text() == "keep"
    assert (tmp_path / "out" / "metrics.json").is_symlink()


def test_eval_output_through_a_symlink_in_its_folder_writes_the_file_it_names(run_cli, make_config, tmp_path):
    (tmp_path / "metrics-v2.json").write_text("old")
    (tmp_path / "metrics.json").symlink_to("metrics-v2.json")
    assert evaluate_to(run_cli, make_config, tmp_path / "metrics.json").exit_code == 0
    assert (tmp_path / "metrics.json").is_symlink()
    assert json.loads((tmp_path / "metrics-v2.json").read_text())["metrics"] == {"score": 1.0}


def test_eval_output_gets_the_mode_the_umask_gives(run_cli, make_config, tmp_path):
    previous = os.umask(0o027)
    try:
        assert evaluate_to(run_cli, make_config, tmp_path / "metrics.json").exit_code == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "metrics.json").st_mode) == 0o640


def test_eval_output_dash_writes_json_to_stdout(run_cli, make_config):
    result = evaluate_to(run_cli, make_config, "-")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["metrics"] == {"score": 1.0}
    assert re.search(r"score\s+1\n", result.stderr)  # the human-readable table moves out of the way


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_run_refuses_output_files_that_are_not_regular_files_before_any_work(run_cli, make_config, tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    {"fifo": lambda p: os.mkfifo(p), "symlink": lambda p: p.symlink_to(tmp_path / "c.json"),
     "folder": lambda p: p.mkdir()}[kind](out / "m.bin")
    result = run_cli("run", make_config(loader_args={"fail_at": 0}), "-o", out, "--log-level", "error")
    assert_one_clean_error(result, 2, "m.bin: is a")  # refused before the DataLoader is read (it would fail)
    assert sorted(p.name for p in out.iterdir()) == ["m.bin"]
