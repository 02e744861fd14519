"""Plugins cannot fake success: sys.exit, GeneratorExit and other BaseExceptions from user code are one line and
exit 1 naming the plugin and the call; a thread a plugin leaves running does not keep potq alive."""
import subprocess
import sys

import pytest

from .. import models
from .conftest import PLUGINS, assert_one_clean_error


def run(run_cli, config, out):
    return run_cli("run", config, "-o", out, "--log-level", "error")


@pytest.mark.parametrize("fail_with,message", [
    ("exit0", "DataLoader[3] raised SystemExit(0): a plugin must not exit potq"),
    ("exit3", "DataLoader[3] raised SystemExit(3): a plugin must not exit potq"),
    ("GeneratorExit", "DataLoader[3] raised GeneratorExit (a plugin must not raise it)"),
], ids=["exit0", "exit3", "GeneratorExit"])
def test_getitem_that_exits_is_a_failure_not_an_exit_code(run_cli, make_config, tmp_path, fail_with, message):
    result = run(run_cli, make_config(loader_args={"fail_at": 3, "fail_with": fail_with}), tmp_path / "out")
    assert_one_clean_error(result, 1, message)
    assert not (tmp_path / "out").exists()


def test_metric_update_that_exits_is_a_failure(run_cli, make_config, tmp_path):
    result = run_cli("eval", make_config(metric="exit"), "--log-level", "error")
    assert_one_clean_error(result, 1, "Metric.update() on sample 0 raised SystemExit(0): a plugin must not exit potq")
    assert result.stdout == ""


def test_plugin_module_that_exits_on_import(run_cli, make_config, tmp_path):
    (tmp_path / "quitter.py").write_text("import sys\nsys.exit(0)\n")
    config = make_config()
    config.write_text(config.read_text().replace(f"{PLUGINS}:ArrayLoader", "quitter.py:Loader"))
    result = run(run_cli, config, tmp_path / "out")
    assert_one_clean_error(result, 1, "engine.data_loader: importing", "quitter.py failed: SystemExit(0)")


def test_constructor_failure_does_not_print_its_whole_arguments(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"no_such_argument": "x" * 500_000}), tmp_path / "out")
    assert_one_clean_error(result, 1, "engine.data_loader: constructing DataLoader", "failed: TypeError")
    assert len(result.stderr) < 1000


def test_metric_naming_a_metric_it_does_not_report(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(metric="unknown_name", algorithm="AccuracyAwareQuantization"), tmp_path / "out")
    assert_one_clean_error(result, 1, "Metric.get_attributes() names 'other', but Metric.avg_value reports only "
                                      "'score'")


def test_thread_left_running_by_a_plugin_does_not_keep_potq_alive(make_config, tmp_path):
    config = make_config()
    config.write_text(config.read_text().replace(":ArrayLoader", ":ThreadLeavingLoader"))
    process = subprocess.Popen([sys.executable, "-m", "potcli", "run", str(config), "-o", str(tmp_path / "out"),
                                "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stderr.count("a plugin left 1 thread running (plugin-worker)") == 1, stderr
    assert (tmp_path / "out" / "m.xml").is_file()


@pytest.mark.parametrize("command", [["inspect", "{model}"], ["init", "{model}", "-o", "{tmp}/config.yaml"]])
def test_commands_that_load_no_plugin_never_warn_of_a_plugin_thread(tmp_path, command):
    # OpenVINO starts a non-daemon thread of its own when imported: that is nobody's plugin
    model = models.save(models.conv_relu(), tmp_path / "model.xml")
    args = [part.format(model=model, tmp=tmp_path) for part in command]
    result = subprocess.run([sys.executable, "-m", "potcli", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "left 1 thread" not in result.stderr and "thread running" not in result.stderr, result.stderr
