"""The swap of results survives any signal at any instant: killed at every file-system call of a save, the folder
holds the complete old or the complete new .xml + .bin + report once the next run has recovered it; signals
other than SIGKILL wait until the swap is done; writers into one folder take turns."""
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from potcli.errors import OutputError
from potcli.output import swap
from potcli.output.files import StagedOutputs, prepare_output_folder
from potcli.output.lock import folder_lock

from ..conftest import REPO
from .swap_child import TRIO, trio

OLD, NEW = trio("old"), trio("new")


def child(out, version, *options, stderr=None):
    """Run swap_child to the end; with ``stderr`` (an open file), start it and return the process."""
    command = [sys.executable, "-m", "tests.reliability.swap_child", str(out), version, *map(str, options)]
    if stderr is not None:
        return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


def folder_with(out, files):
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out


def contents(out):
    """Every entry of the folder: its bytes, or "folder" (a staging folder left behind)."""
    return {path.name: path.read_bytes() if path.is_file() else "folder" for path in out.iterdir()}


def consistent(files):
    """The three files of one version, or (mid-swap, before recovery) no .xml at all."""
    if "m.xml" not in files:
        return True
    return any(all(files.get(name) == version[name] for name in TRIO) for version in (OLD, NEW))


def calls_of_a_save(tmp_path):
    done = child(folder_with(tmp_path / "probe", OLD), "new")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_killed_at_every_call_of_the_save_leaves_old_or_new_after_recovery(tmp_path):
    calls = calls_of_a_save(tmp_path)
    outcomes = []
    for point in range(1, len(calls) + 1):
        out = folder_with(tmp_path / f"kill{point}", OLD)
        killed = child(out, "new", "--signal-at", point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        assert consistent(contents(out)), (point, calls[point - 1], sorted(contents(out)))
        prepare_output_folder(out, list(TRIO))  # what the next run does first
        after = contents(out)
        assert after in (OLD, NEW), (point, calls[point - 1], sorted(after))
        outcomes.append("new" if after == NEW else "old")
    decided = outcomes.index("new")  # from the journal on, the new files win; before it, the old ones stay
    assert outcomes == ["old"] * decided + ["new"] * (len(outcomes) - decided), outcomes
    assert calls[decided - 1] == ["replace", "SWAP"], calls  # the one rename that decides
    assert ["replace", "m.bin"] in calls[decided:], calls  # kills between the renames were among the points


@pytest.mark.parametrize("sig", ["INT", "TERM", "HUP"])
def test_signal_during_the_renames_waits_until_the_new_files_are_in(tmp_path, sig):
    calls = calls_of_a_save(tmp_path)
    between_renames = calls.index(["replace", "m.bin"]) + 1
    out = folder_with(tmp_path / "out", OLD)
    interrupted = child(out, "new", "--signal-at", between_renames, "--signal", sig)
    assert interrupted.returncode == 128 + getattr(signal, f"SIG{sig}"), interrupted.stderr
    assert contents(out) == NEW


def test_next_run_says_what_it_recovered(run_cli, make_config, tmp_path):
    out = tmp_path / "out"
    config = make_config()
    assert run_cli("run", config, "-o", out, "--log-level", "error").exit_code == 0
    calls = calls_of_a_save(tmp_path)
    killed = child(out, "new", "--signal-at", calls.index(["replace", "m.bin"]) + 2)  # after m.bin moved in
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "m.xml").exists()
    result = run_cli("run", config, "-o", out, "--log-level", "warning")
    assert result.exit_code == 0, result
    assert "an interrupted potq run had decided to write m.xml, m.bin, report.json; finished writing them" \
        in result.stderr
    assert sorted(contents(out)) == ["m.bin", "m.xml", "report.json"]


def test_next_run_removes_an_undecided_staging_folder_and_says_so(run_cli, make_config, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", make_config(), "-o", out, "--log-level", "error").exit_code == 0
    before = contents(out)
    calls = calls_of_a_save(tmp_path)
    killed = child(out, "new", "--signal-at", calls.index(["replace", "SWAP"]) + 1)  # before the decision
    assert killed.returncode == -signal.SIGKILL
    result = run_cli("eval", make_config(metric="ok"), "-o", out / "metrics.json", "--log-level", "warning")
    assert result.exit_code == 0, result
    assert "left by a potq run interrupted before it wrote anything here" in result.stderr
    assert contents(out) == {**before, "metrics.json": (out / "metrics.json").read_bytes()}


def test_second_writer_waits_for_the_lock_and_says_so(tmp_path):
    out = folder_with(tmp_path / "out", OLD)
    log = tmp_path / "stderr.txt"
    with folder_lock(out), open(log, "wb") as stderr:
        waiting = child(out, "new", stderr=stderr)
        deadline = time.monotonic() + 60
        while "waiting for it to finish" not in log.read_text() and waiting.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "another potq process is writing results here; waiting for it to finish" in log.read_text()
        assert contents(out) == OLD  # nothing moves while the lock is held
    assert waiting.wait(timeout=60) == 0, log.read_text()
    assert contents(out) == NEW


def test_several_writers_into_one_folder_leave_one_complete_trio(tmp_path):
    out = folder_with(tmp_path / "out", OLD)
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        writers = [child(out, version, "--slow", 0.1, stderr=stderr) for version in ("a", "b", "c", "d")]
        assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    assert any(contents(out) == trio(version) for version in "abcd"), sorted(contents(out))


def report_matches_files(out, name="m"):
    report = json.loads((out / "report.json").read_text())
    return all(report["files"]["output"][role]["sha256"] == hashlib.sha256((out / f"{name}{suffix}").read_bytes())
               .hexdigest() for role, suffix in (("model", ".xml"), ("weights", ".bin")))


def test_two_potq_runs_into_one_folder_leave_one_run_s_files(make_config, tmp_path):
    out = tmp_path / "out"
    configs = [make_config(name="a.yaml"), make_config(name="b.yaml", params={"preset": "mixed"})]
    command = [sys.executable, "-m", "potcli", "run", "-o", str(out), "--log-level", "error"]
    runs = [subprocess.Popen([*command, str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for config in configs]
    for run in runs:
        _, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, stderr
    assert sorted(path.name for path in out.iterdir()) == ["m.bin", "m.xml", "report.json"]
    assert report_matches_files(out)


INTERRUPT_MID_SWAP = """
import os, signal, sys
from pathlib import Path
real_replace = os.replace
def replace(source, target):
    result = real_replace(source, target)
    if Path(target).name == "m.bin" and Path(target).parent == Path(sys.argv[4]):
        os.kill(os.getpid(), signal.SIGINT)  # ^C between the renames of the .bin and the .xml
    return result
os.replace = replace
from potcli.cli import entry_point
entry_point()
"""


def test_ctrl_c_during_the_swap_of_potq_run_says_the_new_results_are_complete(make_config, tmp_path):
    out = tmp_path / "out"
    process = subprocess.run([sys.executable, "-c", INTERRUPT_MID_SWAP, "run", str(make_config()), "-o", str(out),
                              "--log-level", "error"], capture_output=True, text=True, timeout=180, cwd=REPO)
    assert process.returncode == 130, process.stderr
    assert f"interrupted by SIGINT; it came after the new results were written to {out}" in process.stderr
    assert sorted(path.name for path in out.iterdir()) == ["m.bin", "m.xml", "report.json"]
    assert report_matches_files(out)


def test_failed_rename_whose_undo_also_fails_is_undone_by_the_next_run(tmp_path, monkeypatch):
    out = folder_with(tmp_path / "out", OLD)
    real_replace = os.replace

    def failing(source, target):  # the new .xml cannot go in, and then the old .bin cannot come back
        if Path(target) == out / "m.xml" or Path(source).name == "previous-m.bin":
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(swap.os, "replace", failing)
    with pytest.raises(OutputError, match="Input/output error"), StagedOutputs(out) as staged:
        for name, data in NEW.items():
            staged.write(name, data)
        staged.commit()
    monkeypatch.setattr(swap.os, "replace", real_replace)
    assert "m.xml" not in contents(out)  # half undone; the journal stays for the next run
    prepare_output_folder(out, list(TRIO))
    assert contents(out) == OLD
