"""potq run with AccuracyAwareQuantization: the digits sample, exit 3 when the budget is out of reach."""
import json

import jsonschema
import yaml

from potcli.config.schema import report_schema

from .. import models
from ..conftest import REPO, write_text

DIGITS = REPO / "samples" / "digits"
PLUGINS = REPO / "tests" / "aaq_plugins.py"


def test_digits_sample_reverts_the_outlier_layer_and_holds_on_held_out_data(run_cli, tmp_path):
    result = run_cli("run", DIGITS / "config_aaq.yaml", "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    aaq = report["algorithms"][-1]
    assert aaq["default_quantization"]["drop"]["accuracy@top1"] > 0.01
    assert aaq["result"]["reached"] and aaq["result"]["reverted_layers"] == ["res.conv2"]
    assert report["fp32_nodes"] == [{"node": "res.conv2", "reason": "reverted to FP32 by AccuracyAwareQuantization"}]
    assert report["runtime"]["floating_point_compute_layers"] == ["res.conv2"]
    latency = report["runtime"]["latency"]
    assert latency["int8_ms"] > 0 and latency["fp32_f32_ms"] > 0 and latency["default_precision"] in ("f32", "bf16")
    assert report["metrics"]["source"] == "AccuracyAwareQuantization"
    assert report["metrics"]["drop"] == aaq["result"]["drop"]
    drop = aaq["result"]["drop"]["accuracy@top1"]
    summary = result.stdout.splitlines()
    assert summary[0] == "potq run: ok"
    assert f"  accuracy-aware    drop accuracy@top1 {drop:.4g}: within maximal_drop 0.01 (absolute)" in summary
    assert "  reverted to FP32  1 layer: res.conv2" in summary
    assert "  left in FP32      res.conv2: reverted to FP32 by AccuracyAwareQuantization" in summary
    assert "  compute layers    4 of 5 run in INT8 on CPU" in summary
    held_out = run_cli("eval", DIGITS / "test.yaml", "--model", tmp_path / "digits_aaq.xml", "--json")
    assert json.loads(held_out.stdout)["metrics"]["accuracy@top1"] >= 786 / 797 - 0.01


def aaq_config(tmp_path, **params):
    model = models.save(models.classifier_with_outliers(outliers=("conv2", "conv3")), tmp_path / "model.xml")
    config = {"model": {"model_name": "m", "model": "model.xml"},
              "engine": {"data_loader": f"{PLUGINS}:ReferenceLoader", "data_loader_args": {"model_path": model},
                         "metric": f"{PLUGINS}:Similarity"},
              "compression": {"algorithms": [{"name": "AccuracyAwareQuantization",
                                              # POT's estimators: these tests are about the revert loop
                                              "params": {"stat_subset_size": 16,
                                                         "range_estimator": {"preset": "default"}, **params}}]}}
    return write_text(tmp_path / "aaq.yaml", yaml.safe_dump(config))


def test_budget_out_of_reach_exits_3_and_still_writes_the_best_model(run_cli, tmp_path):
    config = aaq_config(tmp_path, maximal_drop=0.05, max_iter_num=1)
    result = run_cli("run", config, "-o", tmp_path / "out")
    assert result.exit_code == 3, result
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "accuracy_target_not_reached"
    assert result.stdout.startswith("potq run: accuracy target NOT reached (the best model found was written)\n")
    assert "NOT within maximal_drop 0.05" in result.stdout
    assert report["algorithms"][-1]["result"]["drop"]["similarity"] > 0.05
    assert (tmp_path / "out" / "m.xml").is_file() and (tmp_path / "out" / "m.bin").is_file()


def test_reverting_as_many_layers_as_needed_reaches_the_budget(run_cli, tmp_path):
    result = run_cli("run", aaq_config(tmp_path, maximal_drop=0.05), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert sorted(report["algorithms"][-1]["result"]["reverted_layers"]) == ["conv2", "conv3"]


def test_dump_intermediate_model_writes_each_iteration(run_cli, tmp_path):
    config = aaq_config(tmp_path, maximal_drop=0.05)
    text = config.read_text().replace("compression:\n", "compression:\n  dump_intermediate_model: true\n")
    config.write_text(text)
    assert run_cli("run", config, "-o", tmp_path / "out").exit_code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    steps = [s for s in report["algorithms"][-1]["iterations"] if s["step"] == "revert"]
    dumped = sorted(p.name for p in (tmp_path / "out" / "intermediate").glob("*.xml"))
    assert len(steps) >= 2
    assert dumped == sorted([f"m_aaq_iteration_{s['iteration']}.xml" for s in steps] + ["m_quantized.xml"])
