"""potq run / eval on the digits sample and the shipped configs, through the CLI."""
import json

import jsonschema
import openvino as ov
import pytest

from potcli.config.schema import report_schema

from ..conftest import REPO, in_int8, operation_precisions, standalone_fake_quantizes, write_text

DIGITS = REPO / "samples" / "digits"
FP32_TEST_ACCURACY = 786 / 797  # measured by samples/digits/train.py with the OpenVINO runtime


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One `potq run samples/digits/config.yaml` shared by the tests that only read its results."""
    from potcli.cli import main
    out = tmp_path_factory.mktemp("digits")
    assert main(["run", str(DIGITS / "config.yaml"), "--output-dir", str(out), "--log-level", "warning"]) == 0
    return out


def test_digits_run_writes_model_and_valid_report(digits_run):
    assert sorted(p.name for p in digits_run.iterdir()) == ["digits.bin", "digits.xml", "report.json"]
    report = json.loads((digits_run / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert report["status"] == "ok"
    assert report["runtime"]["int8_compute_layers"] == report["runtime"]["compute_layers"] == 5
    assert report["runtime"]["standalone_fake_quantize"] == 0
    assert report["files"]["output"]["weights"]["bytes"] == (digits_run / "digits.bin").stat().st_size
    minmax = report["algorithms"][0]
    assert minmax["samples"] == 300 and len(minmax["quantizers"]) == 12  # 7 activation + 5 weight quantizers
    assert report["fp32_nodes"] == []


@pytest.mark.int8
def test_digits_int8_really_runs_int8(digits_run):
    model = ov.Core().read_model(digits_run / "digits.xml")
    precisions = operation_precisions(model)
    assert len(precisions) == 5 and in_int8(precisions) == set(precisions), precisions
    assert standalone_fake_quantizes(model) == 0


def test_digits_int8_accuracy_within_half_a_point_of_fp32(digits_run, run_cli):
    result = run_cli("eval", DIGITS / "test.yaml", "--model", digits_run / "digits.xml", "--json")
    assert result.exit_code == 0, result.stderr
    accuracy = json.loads(result.stdout)["metrics"]["accuracy@top1"]
    assert accuracy >= FP32_TEST_ACCURACY - 0.005


def test_fp32_evaluation_matches_the_training_script(run_cli, tmp_path):
    result = run_cli("eval", DIGITS / "test.yaml", "--output", tmp_path / "m.json")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["samples"] == 797 and metrics["metrics"]["accuracy@top1"] == pytest.approx(FP32_TEST_ACCURACY)


def test_same_config_gives_byte_identical_model(digits_run, run_cli, tmp_path):
    assert run_cli("run", DIGITS / "config.yaml", "-o", tmp_path).exit_code == 0
    for name in ("digits.xml", "digits.bin"):
        assert (tmp_path / name).read_bytes() == (digits_run / name).read_bytes(), name


def test_weights_are_stored_int8_unless_kept(digits_run, run_cli, tmp_path):
    assert run_cli("run", DIGITS / "config.yaml", "-o", tmp_path, "--keep-uncompressed-weights").exit_code == 0
    compressed = (digits_run / "digits.bin").stat().st_size
    assert (tmp_path / "digits.bin").stat().st_size > 3.5 * compressed
    assert (DIGITS / "model" / "digits.bin").stat().st_size > 3.5 * compressed


def test_default_output_folder_is_results_model_name(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("run", DIGITS / "config.yaml").exit_code == 0
    assert (tmp_path / "results" / "digits" / "digits.xml").is_file()


@pytest.mark.parametrize("config,name,int8_layers", [("default_quantization.json", "digits_dq", 4),
                                                     ("simplified_mode.yaml", "digits_simplified", 4)])
def test_shipped_configs_run(run_cli, tmp_path, config, name, int8_layers):
    result = run_cli("run", REPO / "configs" / config, "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["runtime"]["int8_compute_layers"] == int8_layers
    assert len(report["fp32_nodes"]) == 1  # each config keeps one layer in FP32 on purpose


def digits_config_with(tmp_path, compression_line: str):
    """samples/digits/config.yaml with one more line in its compression block, written under ``tmp_path``."""
    config = (DIGITS / "config.yaml").read_text().replace("target_device: CPU", f"target_device: CPU\n"
                                                          f"  {compression_line}")
    config = config.replace("model/digits", f"{DIGITS}/model/digits").replace("plugins.py", f"{DIGITS}/plugins.py")
    config = config.replace("${config_dir}/data", f"{DIGITS}/data")
    return write_text(tmp_path / "c.yaml", config)


def test_dump_intermediate_model_writes_the_fake_quantized_model(run_cli, tmp_path):
    path = digits_config_with(tmp_path, "dump_intermediate_model: true")
    assert run_cli("run", path, "-o", tmp_path / "out").exit_code == 0
    dumped = ov.Core().read_model(tmp_path / "out" / "intermediate" / "digits_quantized.xml")
    assert sum(n.get_type_name() == "FakeQuantize" for n in dumped.get_ordered_ops()) == 12


def test_eval_without_metric_is_a_config_error(run_cli):
    result = run_cli("eval", REPO / "configs" / "simplified_mode.yaml")
    assert result.exit_code == 2 and "engine.metric: potq eval needs a Metric plugin" in result.stderr


def test_every_run_compares_int8_with_fp32_outputs_on_held_out_samples(digits_run):
    check = json.loads((digits_run / "report.json").read_text())["output_check"]
    assert check["samples"] == 8 and check["held_out"] and check["passed"] and check["failures"] == []
    assert check["worst_output"] == "logits" and check["cosine"] > 0.99 and check["sqnr_db"] > 15


def test_an_output_check_threshold_not_met_exits_3_and_still_writes_the_model(run_cli, tmp_path):
    result = run_cli("run", DIGITS / "config.yaml", "-o", tmp_path, "--min-sqnr-db", "300")
    assert result.exit_code == 3, result.stderr
    assert "INT8 vs FP32 check failed: SQNR" in result.stderr and "< min_sqnr_db 300" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "output_check_failed" and not report["output_check"]["passed"]
    assert (tmp_path / "digits.xml").is_file() and (tmp_path / "digits.bin").is_file()


def test_output_check_can_be_turned_off(run_cli, tmp_path):
    path = digits_config_with(tmp_path, "output_check: {samples: 0}")
    assert run_cli("run", path, "-o", tmp_path / "out", "--min-cosine", "1").exit_code == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["output_check"] is None
