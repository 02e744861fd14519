"""ActivationChannelAlignment: finds linear conv pairs, keeps the FP32 function, narrows the quantized range."""
import numpy as np
import pytest

from potcli import IEEngine, create_pipeline
from potcli.algorithms.channel_alignment.alignment import align_channels, alignment_statistics, find_alignment_pairs
from potcli.errors import ConfigError
from potcli.pot.api import CompressionModel
from potcli.statistics.streaming import reduce_sample

from .. import models
from ..conftest import ListLoader, infer


def test_pairs_are_linear_convolutions_without_padding():
    pairs = find_alignment_pairs(models.linear_pair())
    assert [(p.producer, p.producer_bias, p.consumer, p.consumer_bias) for p in pairs] == [
        ("producer", ("producer/bias", 1), "consumer", ("consumer/bias", 1))]
    assert find_alignment_pairs(models.conv_relu()) == []  # a ReLU in between, and padded convolutions
    assert find_alignment_pairs(models.residual()) == []


def test_alignment_keeps_the_fp32_function_and_evens_out_channel_ranges():
    model = models.linear_pair()
    samples = models.random_inputs(model, 8)
    pairs = find_alignment_pairs(model)
    stats = {}
    for stat in alignment_statistics(pairs):  # the per-sample quantiles, aggregated by their median
        tensor = [infer_tensor(model, s) for s in samples]
        stats[stat] = np.median([reduce_sample(t, stat) for t in tensor], axis=0)
    aligned, report, transforms = align_channels(model, pairs, stats)
    shift, factor = (value.reshape(1, -1, 1, 1) for value in transforms[pairs[0].tensor])
    for sample in samples:
        assert np.allclose(infer(aligned, sample), infer(model, sample), rtol=1e-4, atol=1e-4)
        # what DefaultQuantization derives the aligned tensor's statistics from
        np.testing.assert_allclose(infer_tensor(aligned, sample), (infer_tensor(model, sample) - shift) * factor,
                                   rtol=1e-4, atol=1e-4)
    before = np.ptp(np.concatenate([infer_tensor(model, s) for s in samples]), axis=(0, 2, 3))
    after = np.ptp(np.concatenate([infer_tensor(aligned, s) for s in samples]), axis=(0, 2, 3))
    assert before.max() / np.median(before) > 20 and after.max() / np.median(after) < 2
    assert report[0]["scale_max"] == pytest.approx(before.max() / np.median(before), rel=0.3)


def infer_tensor(model, sample):
    """The tensor between producer and consumer."""
    import openvino as ov
    clone = model.clone()
    bias = [n for n in clone.get_ordered_ops() if n.get_friendly_name() == "producer/bias"][0]
    clone.add_outputs([bias.output(0)])
    compiled = ov.Core().compile_model(clone, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(sample)[compiled.outputs[1]]


def quantized_error(algorithms):
    model = models.linear_pair()
    samples = models.random_inputs(model, 16)
    result = create_pipeline(algorithms, IEEngine({}, ListLoader(samples))).run(CompressionModel(model, "m"))
    return np.mean([np.linalg.norm(infer(result.model, s) - infer(model, s)) / np.linalg.norm(infer(model, s))
                    for s in samples]), result


def test_default_quantization_aligns_first_and_loses_less():
    plain, _ = quantized_error([{"name": "MinMaxQuantization"}])
    aligned, result = quantized_error([{"name": "DefaultQuantization", "params": {"use_fast_bias": False}}])
    assert result.report_sections[0]["algorithm"] == "ActivationChannelAlignment"
    assert aligned < 0.5 * plain


def test_standalone_alignment_before_minmax():
    _, result = quantized_error([{"name": "ActivationChannelAlignment"}, {"name": "MinMaxQuantization"}])
    assert [s["algorithm"] for s in result.report_sections] == ["ActivationChannelAlignment", "MinMaxQuantization"]


def test_alignment_after_quantization_is_a_config_error():
    with pytest.raises(ConfigError, match="ActivationChannelAlignment changes FP32 weights"):
        quantized_error([{"name": "MinMaxQuantization"}, {"name": "ActivationChannelAlignment"}])


@pytest.mark.parametrize("estimator, passes_expected", [("default", 1), ("quantile", 2)])
def test_default_quantization_aligns_in_its_statistics_pass_with_the_ranges_of_a_separate_alignment(
        monkeypatch, estimator, passes_expected):
    """Alignment's quantiles and the quantizers' statistics come from one pass, those of the aligned tensor derived
    from the unaligned one; what cannot be derived (quantiles) takes a pass over the aligned model. Either way
    the ranges and biases are those of ActivationChannelAlignment run first with its own pass."""
    from potcli.algorithms import default_quantization as module
    passes, original = [], module.gather_statistics
    monkeypatch.setattr(module, "gather_statistics", lambda *a, **k: passes.append(1) or original(*a, **k))
    params = {"range_estimator": {"preset": estimator}}
    _, fused = quantized_error([{"name": "DefaultQuantization", "params": params}])
    assert len(passes) == passes_expected
    _, separate = quantized_error([{"name": "ActivationChannelAlignment"}, {"name": "MinMaxQuantization",
                                   "params": params}, {"name": "FastBiasCorrection"}])
    assert constants(fused.model).keys() == constants(separate.model).keys()
    for name, values in constants(fused.model).items():
        np.testing.assert_allclose(values, constants(separate.model)[name], rtol=1e-4, atol=1e-6, err_msg=name)


def constants(model) -> dict[str, np.ndarray]:
    """The ranges of every FakeQuantize and every bias."""
    from potcli.graph.queries import constant_value
    found = {}
    for node in model.get_ordered_ops():
        inputs = (1, 2, 3, 4) if node.get_type_name() == "FakeQuantize" else (1,) if node.get_type_name() == "Add" \
            else ()
        for i in inputs:
            if node.input_value(i).get_node().get_type_name() == "Constant":
                found[f"{node.get_friendly_name()}:{i}"] = constant_value(node.input_value(i))
    return found
