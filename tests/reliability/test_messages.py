"""Nothing but potq's own line: no "internal error" for a user's mistake, no noise from OpenVINO's frontends or its
telemetry, and `potq validate --plugins` says what code a config would run, without running it."""
import json
import os
import shutil
import subprocess
import sys

from ..conftest import REPO
from .conftest import PLUGINS


def potq(*args, env=None):
    return subprocess.run([sys.executable, "-m", "potcli", *map(str, args)], capture_output=True, text=True,
                          timeout=180, cwd=REPO, env={**os.environ, **(env or {})})


def test_garbage_model_given_to_eval_is_one_line_without_frontend_noise(make_config, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(bytes(range(256)) * 12)  # every frontend tries it; TensorFlow's prints from C++
    result = potq("eval", make_config(metric="ok"), "--model", garbage)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    assert "garbage.onnx: OpenVINO cannot read the model" in result.stderr


def test_telemetry_consent_file_problems_are_not_printed(make_config, tmp_path):
    home = tmp_path / "home"
    (home / "intel").mkdir(parents=True)
    (home / "intel" / "openvino_telemetry").write_text("neither yes nor no")  # openvino_telemetry warns about it
    result = potq("eval", make_config(metric="ok"), "--json", env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert json.loads(result.stdout)["metrics"] == {"score": 1.0}


def test_config_under_a_path_that_is_not_utf8(run_cli, tmp_path):
    folder = tmp_path / os.fsdecode(b"d\xff")
    shutil.copytree(REPO / "samples" / "digits", folder, ignore=shutil.ignore_patterns("*.py[co]", "__pycache__"))
    result = run_cli("run", folder / "config.yaml", "-o", tmp_path / os.fsdecode(b"out\xfe"), "--log-level", "error")
    assert result.exit_code == 0, result
    assert (tmp_path / os.fsdecode(b"out\xfe") / "digits.xml").is_file()


def test_validate_plugins_lists_what_a_config_would_run_without_importing_it(run_cli, tmp_path):
    (tmp_path / "tripwire.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass M: pass\n")
    config = tmp_path / "c.yaml"
    config.write_text("model: {model: m.xml}\n"
                      "engine: {data_loader: 'os:system', data_loader_args: {command: 'touch pwned'},\n"
                      "         metric: 'tripwire.py:M'}\n"
                      "compression: {algorithms: [{name: DefaultQuantization}]}\n")
    result = run_cli("validate", "--plugins", config)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"{config}: ok"
    assert lines[1].startswith(f"{config}: engine.data_loader: imports the module os (")  # built in, or os.py
    assert lines[1].endswith(") and calls system(**data_loader_args)")
    assert lines[2] == f"{config}: engine.metric: runs the file {tmp_path / 'tripwire.py'} and calls M(**metric_args)"
    assert not (tmp_path / "imported").exists() and not (tmp_path / "pwned").exists()


def test_validate_plugins_names_a_module_that_would_not_be_found(run_cli, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {{model: m.xml}}\n"
                      f"engine: {{data_loader: 'no_such_module_here.sub:Loader', metric: '{PLUGINS}:BadMetric'}}\n"
                      f"compression: {{algorithms: [{{name: DefaultQuantization}}]}}\n")
    result = run_cli("validate", "--plugins", config)
    assert result.exit_code == 0, result
    assert "imports the module no_such_module_here.sub (not found) and calls Loader" in result.stdout
    assert f"runs the file {PLUGINS} and calls BadMetric" in result.stdout
