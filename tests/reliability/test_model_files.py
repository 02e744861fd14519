"""Bad model files: one clear line, exit 1, nothing written. Dynamic batch and several inputs must work."""
import builtins
import json
from pathlib import Path

import pytest

from .. import models
from .conftest import PLUGINS, assert_one_clean_error


def run(run_cli, config, out, *extra):
    return run_cli("run", config, "-o", out, "--log-level", "error", *extra)


def test_missing_xml(run_cli, make_config, tmp_path):
    config = make_config()
    (tmp_path / "model.xml").unlink()
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, f"{tmp_path / 'model.xml'}: model file not found")
    assert not (tmp_path / "out").exists()


def test_missing_bin(run_cli, make_config, tmp_path):
    config = make_config()
    (tmp_path / "model.bin").unlink()
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.bin: weights file not found")


def test_bin_of_the_wrong_size(run_cli, make_config, tmp_path):
    config = make_config()
    data = (tmp_path / "model.bin").read_bytes()
    (tmp_path / "model.bin").write_bytes(data[: len(data) // 2])
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.bin", "does not match the model")


def test_truncated_xml(run_cli, make_config, tmp_path):
    config = make_config()
    text = (tmp_path / "model.xml").read_text()
    (tmp_path / "model.xml").write_text(text[: len(text) // 2])
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.xml: OpenVINO cannot read the model")


def test_garbage_xml(run_cli, make_config, tmp_path):
    config = make_config()
    (tmp_path / "model.xml").write_bytes(b"\x00\xffnot xml at all")
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.xml: OpenVINO cannot read the model")


def test_folder_instead_of_model_file(run_cli, make_config, tmp_path):
    config = make_config()
    (tmp_path / "model.xml").unlink()
    (tmp_path / "model.xml").mkdir()
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.xml: model path is not a file")


def test_unreadable_model_file(run_cli, make_config, tmp_path, monkeypatch):
    config = make_config()
    target = str(tmp_path / "model.xml")
    real_open = builtins.open

    def deny(file, *args, **kwargs):  # chmod does not stop root, so refuse the read the way the OS would
        if str(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "model.xml: cannot open model file: "
                                                                          "Permission denied")


def test_model_without_quantizable_operations_writes_nothing(run_cli, make_config, tmp_path):
    config = make_config(model=models.no_quantizable_ops())
    assert_one_clean_error(run(run_cli, config, tmp_path / "out"), 1, "no operation to quantize", "nothing was written")
    assert not (tmp_path / "out").exists()


@pytest.mark.int8
def test_dynamic_batch_model_is_quantized(run_cli, make_config, tmp_path):
    config = make_config(model=models.dynamic_batch())
    result = run(run_cli, config, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["runtime"]["int8_compute_layers"] == 2


@pytest.mark.int8
def test_two_input_model_fed_by_dict_is_quantized(run_cli, make_config, tmp_path):
    config = make_config(model=models.two_inputs(), loader_args={"input_name": "left"})
    config.write_text(config.read_text().replace("ArrayLoader", "TwoInputLoader"))
    result = run(run_cli, config, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["runtime"]["int8_compute_layers"] == 1


@pytest.mark.int8
def test_onnx_model_is_read_and_quantized(run_cli, tmp_path):
    onnx = Path(__file__).resolve().parents[1] / "data" / "conv.onnx"
    config = tmp_path / "onnx.yaml"
    config.write_text(f"model: {{model: {onnx}}}\n"
                      f"engine: {{data_loader: {PLUGINS}:ArrayLoader}}\n"
                      "compression: {algorithms: [{name: DefaultQuantization}]}\n")
    result = run(run_cli, config, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["runtime"]["int8_compute_layers"] == report["runtime"]["compute_layers"] == 2
    assert (tmp_path / "out" / "conv.xml").is_file()
