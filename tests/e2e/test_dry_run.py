"""potq run --dry-run: the plan from the config and the model only; no plugin loaded, no data read, nothing
written."""
import json

import yaml

from .. import models
from ..conftest import REPO, write_text

DIGITS = REPO / "samples" / "digits"


def untouchable_plugins(tmp_path):
    """A plugin file that leaves a marker if it is ever imported, and fails."""
    marker = tmp_path / "imported"
    write_text(tmp_path / "boom.py", f"""
        open({str(marker)!r}, "w").close()
        raise RuntimeError("a dry run must not import plugins")
    """)
    return marker


def config_with(tmp_path, algorithm="DefaultQuantization", **params):
    models.save(models.residual(), tmp_path / "model.xml")
    config = {"model": {"model": "model.xml"},
              "engine": {"data_loader": "boom.py:Loader", "metric": "boom.py:Metric"},
              "compression": {"algorithms": [{"name": algorithm, "params": params}]}}
    return write_text(tmp_path / "c.yaml", yaml.safe_dump(config))


def test_dry_run_reads_no_plugin_and_writes_nothing(run_cli, tmp_path, monkeypatch):
    marker = untouchable_plugins(tmp_path)
    config = config_with(tmp_path, ignored={"scope": ["fc"]})
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("run", config, "--dry-run")
    assert result.exit_code == 0 and result.stderr == "", result
    assert not marker.exists() and sorted(p.name for p in tmp_path.iterdir()) == before
    assert result.stdout.startswith("potq run --dry-run: c.yaml\n")
    assert "  data           boom.py:Loader (not loaded)" in result.stdout
    assert "  quantized      block.conv2 (Convolution): input 0 and weights" in result.stdout
    assert "  left in FP32   fc: ignored by ignored.scope[0]" in result.stdout


def test_dry_run_plan_matches_what_the_run_does(run_cli, tiny_config, tmp_path):
    config = tiny_config()
    plan = run_cli("run", config, "--dry-run", "--json")
    assert plan.exit_code == 0, plan.stderr
    planned = json.loads(plan.stdout)["algorithms"][0]
    assert run_cli("run", config, "-o", tmp_path / "out", "--no-progress").exit_code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    quantizers = report["algorithms"][0]["quantizers"]
    assert planned["quantizers"] == {"activations": sum(q["kind"] == "activations" for q in quantizers),
                                     "weights": sum(q["kind"] == "weights" for q in quantizers)}
    assert planned["quantized"] == {"conv1": {"type": "Convolution", "inputs": [0], "weights": True},
                                    "conv2": {"type": "Convolution", "inputs": [0], "weights": True}}
    assert planned["steps"] == ["ActivationChannelAlignment (skipped: no eligible pair of Convolutions)",
                                "MinMaxQuantization (preset performance, statistics on the whole dataset)",
                                "FastBiasCorrection"]


def test_ignored_scope_entries_matching_nothing_are_listed_and_exit_2(run_cli, tmp_path):
    untouchable_plugins(tmp_path)
    config = config_with(tmp_path, ignored={"scope": ["fc", "block.conv3"], "patterns": ["head.*"]})
    result = run_cli("run", config, "--dry-run", "--json")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{config}: compression.algorithms[0].params.ignored.scope[1]: 'block.conv3' matches no node of the model "
        f"(did you mean 'block.conv2'?)",
        f"{config}: compression.algorithms[0].params.ignored.patterns[0]: 'head.*' matches no node name of the model"]
    entry = json.loads(result.stdout)["algorithms"][0]
    assert [row["path"] for row in entry["unmatched_ignored"]] == [
        "compression.algorithms[0].params.ignored.scope[1]", "compression.algorithms[0].params.ignored.patterns[0]"]
    assert entry["floating_point"] == {"fc": "ignored by ignored.scope[0]"}


def test_accuracy_aware_steps_in_order(run_cli, tmp_path):
    untouchable_plugins(tmp_path)
    config = config_with(tmp_path, "AccuracyAwareQuantization", maximal_drop=0.02, max_iter_num=3,
                         convert_to_mixed_preset=True, use_fast_bias=False)
    result = run_cli("run", config, "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["algorithms"][0]["steps"] == [
        "ActivationChannelAlignment (skipped: no eligible pair of Convolutions)",
        "MinMaxQuantization (preset performance, statistics on the whole dataset)",
        "BiasCorrection", "FP32 evaluation", "INT8 evaluation",
        "convert_to_mixed_preset: the mixed preset if it helps",
        "revert the best-ranked layer to FP32 while the drop exceeds 0.02 (absolute), at most 3 layers"]


def test_a_model_with_nothing_to_quantize_exits_1(run_cli, tmp_path):
    untouchable_plugins(tmp_path)
    config = config_with(tmp_path, ignored={"operations": [{"type": "Convolution"}, {"type": "MatMul"},
                                                           {"type": "Add"}, {"type": "ReduceMean"}]})
    result = run_cli("run", config, "--dry-run")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("potq: error: algorithms[0] DefaultQuantization: the model has no operation "
                                     "to quantize outside the ignored scope")
