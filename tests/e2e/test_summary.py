"""The end-of-run summary of potq run / potq eval (table and --json) and what report.json gained for it."""
import json
from datetime import datetime

import jsonschema
import pytest

from potcli.config.schema import report_schema

from ..conftest import REPO

DIGITS = REPO / "samples" / "digits"


@pytest.fixture(scope="module")
def digits_json_run(tmp_path_factory):
    """`potq run samples/digits/config.yaml --json`: its exit code, stdout and output folder."""
    from click.testing import CliRunner

    from potcli.cli import main
    out = tmp_path_factory.mktemp("digits")
    with CliRunner().isolation() as (stdout, _, _):
        code = main(["run", str(DIGITS / "config.yaml"), "-o", str(out), "--json", "--no-progress"])
        return code, stdout.getvalue().decode(), out


def test_json_summary_is_the_reports_summary(digits_json_run):
    code, stdout, out = digits_json_run
    assert code == 0
    printed = json.loads(stdout)
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert printed == report["summary"]
    assert printed["compute_layers"] == {"int8": 5, "total": 5, "standalone_fake_quantize": 0,
                                         "left_in_floating_point": {}}
    assert printed["outputs"] == {"model": str(out / "digits.xml"), "weights": str(out / "digits.bin"),
                                  "report": str(out / "report.json")}


def test_default_quantization_with_a_metric_reports_it_before_and_after(digits_json_run):
    report = json.loads((digits_json_run[2] / "report.json").read_text())
    metrics = report["metrics"]
    assert metrics["source"] == "evaluation" and metrics["samples"] == 1000
    fp32, int8 = metrics["fp32"]["accuracy@top1"], metrics["int8"]["accuracy@top1"]
    assert 0.9 < int8 <= 1 and metrics["drop"]["accuracy@top1"] == pytest.approx(fp32 - int8)
    assert {"fp32 evaluation", "int8 evaluation"} <= set(report["timings_seconds"])


def test_report_records_when_how_and_the_sizes(digits_json_run):
    out = digits_json_run[2]
    report = json.loads((out / "report.json").read_text())
    datetime.strptime(report["created_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert report["command_line"] == ["potq", "run", str(DIGITS / "config.yaml"), "-o", str(out), "--json",
                                      "--no-progress"]
    assert report["config"]["engine"]["data_loader_args"] == {"dataset_path": str(DIGITS / "data" / "calib")}
    size = report["size"]
    assert size["input_weights_bytes"] == (DIGITS / "model" / "digits.bin").stat().st_size
    assert size["output_weights_bytes"] == (out / "digits.bin").stat().st_size
    assert size["ratio"] == pytest.approx(size["output_weights_bytes"] / size["input_weights_bytes"], abs=1e-4)
    assert size["ratio"] < 0.3


def test_the_table_shows_layers_metric_size_latency_stages_and_outputs(run_cli, tmp_path):
    result = run_cli("run", DIGITS / "config.yaml", "-o", tmp_path, "--no-progress")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    lines = result.stdout.splitlines()
    assert lines[0] == "potq run: ok"
    rows = {line.split("  ")[1].strip(): line for line in lines[1:] if line.startswith("  ") and line[2] != " "}
    assert "5 of 5 run in INT8 on CPU" in rows["compute layers"]
    accuracy = report["metrics"]["int8"]["accuracy@top1"]
    assert f"-> INT8 {accuracy:.6g}, drop" in rows["accuracy@top1"] and "(1000 samples)" in rows["accuracy@top1"]
    assert "KiB -> " in rows["weights file"] and "(0.26x)" in rows["weights file"]
    latency = report["runtime"]["latency"]
    assert f"INT8 {latency['int8_ms']:.3g} ms" in rows[f"latency ({latency['isa']})"]
    assert "statistics " in rows["seconds"] and "total " in result.stdout
    assert str(tmp_path / "digits.xml") in rows["written"]
    assert str(tmp_path / "report.json") in result.stdout
    assert result.stderr == ""


def test_no_evaluation_leaves_the_metric_out(run_cli, tiny_config, tmp_path):
    result = run_cli("run", tiny_config(metric="Similarity"), "-o", tmp_path / "out", "--no-evaluation", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "metrics" not in report and "metrics" not in json.loads(result.stdout)
    assert "fp32 evaluation" not in report["timings_seconds"]


def test_drop_of_a_higher_worse_metric_is_positive_when_int8_is_worse(run_cli, tiny_config, tmp_path):
    result = run_cli("run", tiny_config(metric="Error"), "-o", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.stderr
    values = json.loads(result.stdout)["metrics"]["values"]["error"]
    assert values["fp32"] == pytest.approx(0, abs=1e-9) and values["int8"] > 0
    assert values["drop"] == pytest.approx(values["int8"] - values["fp32"])


def test_eval_prints_a_table_or_json(run_cli, tmp_path):
    table = run_cli("eval", DIGITS / "test.yaml", "--no-progress")
    assert table.exit_code == 0, table.stderr
    title = table.stdout.splitlines()[0]
    assert title.startswith("potq eval: ") and title.endswith("samples/digits/model/digits.xml")
    assert "  samples        797" in table.stdout and "  accuracy@top1  0.986198" in table.stdout
    as_json = run_cli("eval", DIGITS / "test.yaml", "--json", "-o", tmp_path / "m.json")
    printed = json.loads(as_json.stdout)
    assert printed["samples"] == 797 and printed["metrics"] == {"accuracy@top1": pytest.approx(786 / 797)}
    assert json.loads((tmp_path / "m.json").read_text())["metrics"] == printed["metrics"]
