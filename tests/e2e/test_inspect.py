"""potq inspect on IRs from potq, POT-style and NNCF-style layouts, f16 and plain FP32 models."""
import json

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from .. import models
from ..conftest import INT8, write_text
from ..reliability.conftest import assert_one_clean_error


def inspect_json(run_cli, path) -> dict:
    result = run_cli("inspect", path, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def fake_quantize(x, levels, low, high, name):
    low, high = ops.constant(np.float32(low)), ops.constant(np.float32(high))
    return ops.fake_quantize(x, low, high, low, high, levels, name=name)


def other_tools_layouts() -> ov.Model:
    """conv_nncf: activations FakeQuantize, weights int8 -> Convert -> Subtract(zero point) -> Multiply(scale),
    as NNCF writes them; conv_pot: weights int8 -> Convert -> FakeQuantize(255 levels), as POT compressed them;
    fc: a MatMul with f32 weights and no quantizer."""
    rng = np.random.default_rng(0)
    x = ops.parameter([1, 3, 8, 8], np.float32, name="image")
    weights = ops.convert(ops.constant(rng.integers(-127, 128, (8, 3, 3, 3)).astype(np.int8)), np.float32)
    weights = ops.multiply(ops.subtract(weights, ops.constant(np.zeros((8, 1, 1, 1), np.float32))),
                           ops.constant(np.full((8, 1, 1, 1), 0.01, np.float32)))
    y = ops.convolution(fake_quantize(x, 256, -4, 4, "image/fq"), weights, [1, 1], [1, 1], [1, 1], [1, 1],
                        name="conv_nncf")
    y = ops.relu(y, name="relu")
    pot_weights = ops.convert(ops.constant(rng.integers(-127, 128, (4, 8, 3, 3)).astype(np.int8)), np.float32)
    pot_weights = fake_quantize(pot_weights, 255, -127, 127, "conv_pot/weights_fq")
    y = ops.convolution(fake_quantize(y, 256, 0, 8, "relu/fq"), pot_weights, [1, 1], [1, 1], [1, 1], [1, 1],
                        name="conv_pot")
    y = ops.reshape(y, ops.constant(np.array([1, 256], np.int64)), False, name="flatten")
    y = ops.matmul(y, ops.constant(rng.standard_normal((10, 256)).astype(np.float32)), False, True, name="fc")
    return ov.Model([ops.result(y, name="logits")], [x], "other_tools")


def test_potq_output_fully_int8(run_cli, tiny_config, tmp_path):
    assert run_cli("run", tiny_config(), "-o", tmp_path / "out", "--no-progress").exit_code == 0
    found = inspect_json(run_cli, tmp_path / "out" / "m.xml")
    graph = found["graph"]
    assert graph["fake_quantize"]["by_levels"] == {"256": 2}
    assert graph["fake_quantize"]["feeds"] == {"Convolution": 2}
    assert graph["weights"] == {"i8": {"count": 2, "bytes": 8 * 3 * 9 + 4 * 8 * 9}}
    assert graph["floating_point_compute"] == []
    assert {name: row["precision"] in INT8 for name, row in found["runtime"]["operations"].items()} == \
        {"conv1": True, "conv2": True}
    assert found["files"]["weights"]["bytes"] == (tmp_path / "out" / "m.bin").stat().st_size
    text = run_cli("inspect", tmp_path / "out" / "m.xml").stdout
    assert "  FakeQuantize  2 (levels 256: 2)" in text
    assert "2 of 2 compute layers in INT8" in text and "2 of 2 compute operations have quantized inputs" in text


def test_uncompressed_weights_count_as_quantized_by_their_fake_quantize(run_cli, tiny_config, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", tiny_config(), "-o", out, "--keep-uncompressed-weights", "--no-progress").exit_code == 0
    graph = inspect_json(run_cli, out / "m.xml")["graph"]
    assert graph["fake_quantize"]["by_levels"] == {"255": 2, "256": 2}
    assert set(graph["weights"]) == {"f32"} and graph["floating_point_compute"] == []


@pytest.mark.parametrize("fp16", [False, True], ids=["f32", "f16"])
def test_a_plain_model_is_all_floating_point(run_cli, tmp_path, fp16):
    path = tmp_path / "plain.xml"
    ov.save_model(models.conv_relu(), str(path), compress_to_fp16=fp16)
    found = inspect_json(run_cli, path)
    graph = found["graph"]
    assert graph["fake_quantize"]["count"] == 0
    assert list(graph["weights"]) == ["f16" if fp16 else "f32"]
    assert graph["floating_point_compute"] == ["conv1", "conv2"]
    assert graph["compute_operations"]["conv1"]["why"] == "input 0 has no FakeQuantize"
    assert found["runtime"]["int8_compute_layers"] == 0


@pytest.mark.int8
def test_nncf_and_pot_layouts_are_read_and_traced_to_the_cpu(run_cli, tmp_path):
    path = tmp_path / "other.xml"
    ov.save_model(other_tools_layouts(), str(path), compress_to_fp16=False)
    found = inspect_json(run_cli, path)
    graph = found["graph"]
    assert graph["fake_quantize"]["by_levels"] == {"255": 1, "256": 2}
    assert graph["fake_quantize"]["feeds"] == {"Convolution": 3}
    assert graph["weights"]["i8"]["count"] == 2 and graph["weights"]["f32"]["count"] == 1
    assert graph["floating_point_compute"] == ["fc"]
    assert graph["compute_operations"]["fc"]["why"] == "input 0 has no FakeQuantize"
    precisions = {name: row["precision"] for name, row in found["runtime"]["operations"].items()}
    assert precisions["conv_nncf"] in INT8 and precisions["conv_pot"] in INT8, precisions
    assert found["runtime"]["standalone_fake_quantize"] == 0


def test_a_missing_or_broken_model_is_one_line(run_cli, tmp_path):
    assert_one_clean_error(run_cli("inspect", tmp_path / "none.xml"), 1, "none.xml: model file not found")
    broken = write_text(tmp_path / "broken.xml", "<net>")
    write_text(tmp_path / "broken.bin", "")
    assert_one_clean_error(run_cli("inspect", broken), 1, "OpenVINO cannot read the model")
