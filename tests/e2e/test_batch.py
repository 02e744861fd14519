"""potq batch: many configs, one line each, and an exit code for the batch."""
import json

import yaml

from .. import models
from ..reliability.conftest import PLUGINS


def write(tmp_path, name: str, model_name: str, **params) -> str:
    if not (tmp_path / "model.xml").exists():
        models.save(models.conv_relu(), tmp_path / "model.xml")
    engine = {"data_loader": f"{PLUGINS}:ArrayLoader", "data_loader_args": {"count": 8}}
    if params.pop("with_metric", False):
        engine.update(metric=f"{PLUGINS}:BadMetric", metric_args={"mode": params.pop("metric_mode", "ok")})
    config = {"model": {"model_name": model_name, "model": "model.xml"}, "engine": engine,
              "compression": {"algorithms": [{"name": "DefaultQuantization", "params": params}]}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_every_config_gets_one_line_and_the_batch_exits_0_when_all_succeed(run_cli, tmp_path):
    configs = [write(tmp_path, "a.yaml", "a"), write(tmp_path, "b.yaml", "b", preset="mixed")]
    result = run_cli("batch", *configs, "-o", tmp_path / "out", "--no-progress")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == configs
    assert all(": ok (" in line for line in lines)
    assert (tmp_path / "out" / "a" / "a.xml").is_file() and (tmp_path / "out" / "b" / "b.xml").is_file()


def test_the_batch_goes_on_after_a_failure_and_its_exit_code_says_the_worst(run_cli, tmp_path):
    configs = [write(tmp_path, "bad.yaml", "bad", preset="fast"),
               write(tmp_path, "broken.yaml", "broken", with_metric=True, metric_mode="nan"),
               write(tmp_path, "good.yaml", "good")]
    result = run_cli("batch", *configs, "-o", tmp_path / "out", "--json", "--no-progress")
    rows = json.loads(result.stdout)
    assert [(row["config"], row["exit_code"]) for row in rows] == list(zip(configs, [2, 1, 0], strict=True))
    assert "preset" in rows[0]["error"] and "Metric.avg_value['score'] is nan" in rows[1]["error"]
    assert result.exit_code == 1  # a run-time failure outranks an invalid config
    assert (tmp_path / "out" / "good" / "good.xml").is_file()


def test_two_configs_writing_to_one_folder_are_refused_for_the_second(run_cli, tmp_path):
    configs = [write(tmp_path, "a.yaml", "same"), write(tmp_path, "b.yaml", "same", preset="mixed")]
    result = run_cli("batch", *configs, "-o", tmp_path / "out", "--no-progress")
    assert result.exit_code == 2
    first, second = result.stdout.splitlines()
    assert ": ok (" in first
    assert second.startswith(f"{configs[1]}: exit 2: {configs[1]}: model.model_name: writes to ") and \
        f"as {configs[0]} does" in second
