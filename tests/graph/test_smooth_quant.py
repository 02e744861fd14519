"""SmoothQuant and transformer handling on a tiny attention block whose LayerNorm has one outlier channel."""
import numpy as np
import pytest

from potcli import IEEngine, create_pipeline
from potcli.algorithms.smooth_quant.smoothing import apply_smoothing, find_smooth_groups, smoothing_scales
from potcli.errors import ConfigError
from potcli.graph.patterns import attention_blocks, transformer_evidence
from potcli.pot.api import CompressionModel

from .. import models
from ..conftest import ListLoader, in_int8, infer, operation_precisions


def quantize(model, samples, **params):
    pipeline = create_pipeline([{"name": "DefaultQuantization", "params": params}], IEEngine({}, ListLoader(samples)))
    return pipeline.run(CompressionModel(model, "m"))


def relative_error(reference, other):
    return float(np.linalg.norm(reference - other) / np.linalg.norm(reference))


def mean_error(model, quantized, samples):
    return float(np.mean([relative_error(infer(model, s), infer(quantized, s)) for s in samples]))


def test_attention_is_found_in_matmul_softmax_matmul_and_in_sdpa():
    assert attention_blocks(models.transformer_block()) == ["softmax"]
    assert attention_blocks(models.transformer_block(sdpa=True)) == ["attention"]
    assert transformer_evidence(models.transformer_block()) == "1 attention block found"
    for cnn in (models.residual(), models.concat_branches(), models.matmuls()):
        assert transformer_evidence(cnn) is None


def test_smoothing_keeps_the_fp32_function_and_flattens_the_outlier_channel():
    model = models.transformer_block()
    samples = models.random_inputs(model, 4)
    groups = find_smooth_groups(model)
    assert {g.tensor: [layer.node for layer in g.layers] for g in groups} == {"ln": ["q", "k", "v"],
                                                                             "context": ["out"]}
    ln = next(g for g in groups if g.tensor == "ln")
    activation_max = np.max([np.abs(infer_tensor(model, "ln", s)).max(axis=(0, 1)) for s in samples], axis=0)
    scales = {g.tensor: smoothing_scales(g, activation_max if g is ln else np.ones(16), model, 0.95) for g in groups}
    smoothed = apply_smoothing(model, groups, scales)
    for sample in samples:
        np.testing.assert_allclose(infer(smoothed, sample), infer(model, sample), rtol=1e-4, atol=1e-5)
    before = activation_max / np.median(activation_max)
    after = np.max([np.abs(infer_tensor(smoothed, "ln/smooth_quant", s)).max(axis=(0, 1)) for s in samples], axis=0)
    assert before[0] > 10 and (after / np.median(after))[0] < before[0] / 4


def infer_tensor(model, name, sample):
    import openvino as ov
    probe = model.clone()
    node = next(n for n in probe.get_ordered_ops() if n.get_friendly_name() == name)
    probe.add_outputs([node.output(0)])
    compiled = ov.Core().compile_model(probe, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled.create_infer_request().infer({0: sample})[compiled.outputs[-1]]


@pytest.mark.int8
@pytest.mark.parametrize("sdpa", [False, True], ids=["matmul_softmax_matmul", "sdpa"])
def test_transformer_is_detected_and_smoothed_by_default_and_stays_closer_to_fp32(sdpa):
    model = models.transformer_block(outlier=100.0, sdpa=sdpa)
    samples, check = models.random_inputs(model, 16), models.random_inputs(model, 8, seed=1)
    default = quantize(model, samples)
    unsmoothed = quantize(model, samples, smooth_quant=False)
    plain = quantize(model, samples, model_type=None)
    sections = {s["algorithm"]: s for s in default.report_sections}
    assert sections["MinMaxQuantization"]["model_type"] == "transformer"
    assert sections["MinMaxQuantization"]["model_type_reason"] == "1 attention block found"
    assert sorted(g["layers"] for g in sections["SmoothQuant"]["groups"]) == [["out"], ["q", "k", "v"]]
    assert "SmoothQuant" not in {s["algorithm"] for s in plain.report_sections + unsmoothed.report_sections}
    error = mean_error(model, default.model, check)
    assert error < 0.25 * mean_error(model, unsmoothed.model, check)  # about 13x lower on this model
    assert error < 0.25 * mean_error(model, plain.model, check)
    assert {"q", "k", "v", "out"} <= in_int8(operation_precisions(default.model))


def test_smooth_quant_can_be_turned_off_for_a_transformer():
    model = models.transformer_block()
    result = quantize(model, models.random_inputs(model, 8), smooth_quant=False)
    assert "SmoothQuant" not in {s["algorithm"] for s in result.report_sections}


def test_smooth_quant_as_its_own_algorithm_before_minmax():
    model = models.transformer_block()
    pipeline = create_pipeline([{"name": "SmoothQuant", "params": {"alpha": 0.5}}, {"name": "MinMaxQuantization"}],
                               IEEngine({}, ListLoader(models.random_inputs(model, 8))))
    result = pipeline.run(CompressionModel(model, "m"))
    smooth = result.report_sections[0]
    assert smooth["algorithm"] == "SmoothQuant" and smooth["alpha"] == 0.5 and len(smooth["groups"]) == 2


def test_smooth_quant_after_quantization_is_refused():
    with pytest.raises(ConfigError, match="SmoothQuant changes FP32 weights: list it before"):
        create_pipeline([{"name": "MinMaxQuantization"}, {"name": "SmoothQuant"}], IEEngine({}, ListLoader([])))


def fake_quantize_ranges(model) -> dict[str, np.ndarray]:
    from potcli.graph.queries import constant_value
    return {node.get_friendly_name(): np.concatenate([constant_value(node.input_value(i)).ravel() for i in (1, 2)])
            for node in model.get_ordered_ops() if node.get_type_name() == "FakeQuantize"}


def count_passes(monkeypatch) -> list:
    from potcli.algorithms import default_quantization as module
    passes, original = [], module.gather_statistics
    monkeypatch.setattr(module, "gather_statistics", lambda *a, **k: passes.append(1) or original(*a, **k))
    return passes


@pytest.mark.parametrize("estimator, passes_expected", [("default", 1), ("quantile", 2)])
def test_smoothed_ranges_come_from_the_smoothing_pass_and_equal_a_pass_over_the_smoothed_model(
        monkeypatch, estimator, passes_expected):
    """SmoothQuant's statistic and the quantizers' are collected in one pass, those of the smoothed activations
    derived from the unsmoothed ones; what cannot be derived (quantiles) takes a pass over the smoothed model.
    Either way the ranges are those of SmoothQuant run first with its own pass."""
    model = models.transformer_block(outlier=100.0)
    samples = models.random_inputs(model, 16)
    passes = count_passes(monkeypatch)
    fused = quantize(model, samples, range_estimator={"preset": estimator})
    assert len(passes) == passes_expected
    pipeline = create_pipeline([{"name": "SmoothQuant"},
                                {"name": "DefaultQuantization",
                                 "params": {"smooth_quant": False, "range_estimator": {"preset": estimator}}}],
                               IEEngine({}, ListLoader(samples)))
    separate = fake_quantize_ranges(pipeline.run(CompressionModel(model, "m")).model)
    assert {"ln/smooth_quant/fq_output_0", "context/smooth_quant/fq_output_0"} <= separate.keys()
    ranges = fake_quantize_ranges(fused.model)
    assert ranges.keys() == separate.keys()
    for name, values in ranges.items():
        np.testing.assert_allclose(values, separate[name], rtol=1e-5, atol=1e-7, err_msg=name)
