"""DefaultQuantization on tiny models: the compiled model really runs INT8, ranges follow the presets."""
import numpy as np
import openvino as ov
import pytest

from potcli import IEEngine, compress_model_weights, create_pipeline
from potcli.pot.api import CompressionModel

from .. import models
from ..conftest import ListLoader, in_int8, infer, operation_precisions, standalone_fake_quantizes


def quantize(model, samples, compress=True, name="DefaultQuantization", **params):
    pipeline = create_pipeline([{"name": name, "params": params}], IEEngine({"device": "CPU"}, ListLoader(samples)))
    result = pipeline.run(CompressionModel(model, model.get_friendly_name()))
    if compress:
        compress_model_weights(result)
    return result.model


def fake_quantizes(model):
    return {node.get_friendly_name(): node for node in model.get_ordered_ops()
            if node.get_type_name() == "FakeQuantize"}


def fq_range(node):
    return node.input_value(1).get_node().get_data(), node.input_value(2).get_node().get_data()


def relative_error(reference, other):
    return float(np.linalg.norm(reference - other) / np.linalg.norm(reference))


@pytest.mark.int8
@pytest.mark.parametrize("build,operations,tolerance", [
    (models.conv_relu, {"conv1", "conv2"}, 0.1), (models.residual, {"stem", "block.conv1", "block.conv2", "fc"}, 0.1),
    (models.concat_branches, {"left", "right", "head"}, 0.1),
    (lambda: models.matmuls(transpose_b=False), {"dense1", "dense2"}, 0.1),
    # 48 normal values per sample: the default range (mean of per-sample maxima) clips their tails
    (models.attention, {"q", "k", "v", "scores", "context"}, 0.15)])
def test_quantized_model_runs_int8_on_cpu_and_stays_close(build, operations, tolerance):
    model = build()
    samples = models.random_inputs(model, 16)
    quantized = quantize(model, samples)
    precisions = operation_precisions(quantized)
    assert set(precisions) == operations and in_int8(precisions) == operations, precisions
    assert standalone_fake_quantizes(quantized) == 0, "a FakeQuantize runs standalone"
    assert relative_error(infer(model, samples[0]), infer(quantized, samples[0])) < tolerance


def test_weights_are_stored_as_int8_constants():
    model = models.conv_relu()
    quantized = quantize(model, models.random_inputs(model, 4))
    int8_constants = [n for n in quantized.get_ordered_ops()
                      if n.get_type_name() == "Constant" and n.get_element_type() == ov.Type.i8]
    assert len(int8_constants) == 2
    assert sum(np.prod(c.get_output_shape(0)) for c in int8_constants) == 8 * 3 * 9 + 4 * 8 * 9


def two_value_samples(count=8):
    """Inputs that only take the values -1 and +2 (the cheapest oracle for the range math)."""
    rng = np.random.default_rng(0)
    return [np.where(rng.random((1, 3, 8, 8)) < 0.5, -1.0, 2.0).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("preset,expected", [("performance", (-2 * 256 / 254, 2.0)), ("mixed", (-1.0, 2.0)),
                                             ("accuracy", (-1.0, 2.0))])
def test_input_range_follows_preset(preset, expected):
    quantized = quantize(models.conv_relu(), two_value_samples(), compress=False, preset=preset)
    low, high = fq_range(fake_quantizes(quantized)["image/fq_output_0"])
    assert (float(low), float(high)) == pytest.approx(expected, rel=1e-6)


def test_range_estimator_overrides_apply():
    samples = [np.full((1, 3, 8, 8), v, np.float32) for v in (1.0, 2.0, 3.0, 10.0)]
    pot = quantize(models.conv_relu(), samples, compress=False, range_estimator={"preset": "default"})
    maximum = quantize(models.conv_relu(), samples, compress=False,
                       activations={"range_estimator": {"max": {"aggregator": "max"}}})
    clipped = quantize(models.conv_relu(), samples, compress=False,
                       range_estimator={"max": {"aggregator": "max", "clipping_value": 5.0}})
    searched = quantize(models.conv_relu(), samples, compress=False)
    high = {label: float(fq_range(fake_quantizes(m)["image/fq_output_0"])[1])
            for label, m in (("pot", pot), ("max", maximum), ("clipped", clipped), ("searched", searched))}
    # POT's default: the mean of the per-sample maxima, 4; the search keeps the sample of 10s unclipped
    assert high == pytest.approx({"pot": 4.0, "max": 10.0, "clipped": 5.0, "searched": 10.0})


@pytest.mark.parametrize("fix,doubled", [("first_layer", {"conv1"}), ("all", {"conv1", "conv2"}), ("no", set())])
def test_saturation_fix_widens_first_or_all_weight_ranges(fix, doubled):
    model = models.conv_relu()
    quantized = quantize(model, models.random_inputs(model, 4), compress=False, saturation_fix=fix)
    weights = {node.get_friendly_name(): node.input_value(1).get_node().get_data()
               for node in model.get_ordered_ops() if node.get_type_name() == "Convolution"}
    for name, values in weights.items():
        _, high = fq_range(fake_quantizes(quantized)[f"{name}/fq_weights_1"])
        ratio = high.reshape(-1) / np.abs(values).reshape(values.shape[0], -1).max(axis=1)
        assert np.allclose(ratio, 2.0 if name in doubled else 1.0, rtol=1e-5), name


def test_saturation_fix_is_off_for_gpu_target():
    model = models.conv_relu()
    quantized = quantize(model, models.random_inputs(model, 4), compress=False, target_device="GPU")
    weights = [n for n in model.get_ordered_ops() if n.get_friendly_name() == "conv1/weights"][0].get_data()
    _, high = fq_range(fake_quantizes(quantized)["conv1/fq_weights_1"])
    assert np.allclose(high.reshape(-1), np.abs(weights).reshape(8, -1).max(axis=1))


def test_same_inputs_give_byte_identical_models(tmp_path):
    model = models.residual()
    samples = models.random_inputs(model, 12)
    for run in ("a", "b"):
        ov.save_model(quantize(model, samples, stat_subset_size=10, shuffle_data=True, seed=3), tmp_path / f"{run}.xml")
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "b.xml").read_bytes()
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def mean_output_error(model, quantized, samples):
    reference = np.stack([infer(model, s) for s in samples])
    outputs = np.stack([infer(quantized, s) for s in samples])
    return float(np.abs((outputs - reference).mean(axis=(0, 1, 3, 4))).mean())


@pytest.mark.parametrize("params", [{"use_fast_bias": True}, {"use_fast_bias": False}])
def test_bias_correction_reduces_the_mean_output_shift(params):
    model = models.conv_relu(seed=3)
    samples = [s + 1.5 for s in models.random_inputs(model, 32)]
    corrected = quantize(model, samples, threshold=1000.0, **params)  # small biases: allow any relative shift
    uncorrected = quantize(model, samples, threshold=1e-9)  # every shift is over the threshold: nothing applied
    assert mean_output_error(model, corrected, samples) < 0.5 * mean_output_error(model, uncorrected, samples)


def test_bias_correction_sections_report_each_layer():
    pipeline = create_pipeline([{"name": "DefaultQuantization"}],
                               IEEngine({}, ListLoader(models.random_inputs(models.conv_relu(), 4))))
    result = pipeline.run(CompressionModel(models.conv_relu(), "m"))
    bias = [s for s in result.report_sections if s["algorithm"] == "FastBiasCorrection"][0]
    assert [layer["node"] for layer in bias["layers"]] == ["conv1", "conv2"] and bias["threshold"] == 2.0


def test_minmax_then_bias_correction_as_separate_algorithms():
    model = models.conv_relu()
    engine = IEEngine({}, ListLoader(models.random_inputs(model, 8)))
    pipeline = create_pipeline([{"name": "MinMaxQuantization"}, {"name": "BiasCorrection"}], engine)
    result = pipeline.run(CompressionModel(model, "m"))
    assert [s["algorithm"] for s in result.report_sections] == ["MinMaxQuantization", "BiasCorrection"]
    assert len(fake_quantizes(result.model)) == 4


@pytest.mark.int8
def test_dynamic_batch_model_quantizes_with_batched_statistics():
    model = models.dynamic_batch()
    quantized = quantize(model, models.random_inputs(model, 8), stat_batch_size=4)
    assert in_int8(operation_precisions(quantized)) == {"conv1", "conv2"}
    batch = np.random.default_rng(1).standard_normal((3, 3, 8, 8)).astype(np.float32)
    assert relative_error(infer(model, batch), infer(quantized, batch)) < 0.1


@pytest.mark.int8
def test_two_input_model_takes_dicts_by_input_name():
    model = models.two_inputs()
    samples = models.random_inputs(model, 8)
    quantized = quantize(model, samples)
    assert in_int8(operation_precisions(quantized)) == {"conv"}
    assert relative_error(infer(model, samples[0]), infer(quantized, samples[0])) < 0.1


@pytest.mark.int8
def test_shape_arithmetic_before_a_bias_is_folded_so_the_bias_add_is_not_quantized():
    model = models.exported_conv_bias()
    quantized = quantize(model, models.random_inputs(model, 8))
    readers = {reader.get_node().get_friendly_name() for fq in fake_quantizes(quantized).values()
               for reader in fq.output(0).get_target_inputs()}
    assert {"conv1", "conv2"} <= readers and not {"conv1/bias", "conv2/bias"} & readers
    assert in_int8(operation_precisions(quantized)) == {"conv1", "conv2"}


@pytest.mark.int8
def test_a_tensor_read_only_by_a_depthwise_convolution_gets_a_range_per_channel():
    model = models.depthwise_block()
    quantized = quantize(model, models.random_inputs(model, 8))
    low, high = fq_range(fake_quantizes(quantized)["conv1/relu/fq_output_0"])
    assert high.shape == (1, 8, 1, 1) and len(set(high.ravel().tolist())) == 8  # POT's q8_a_ch, as NNCF
    assert fq_range(fake_quantizes(quantized)["dw/relu/fq_output_0"])[1].size == 1  # read by a plain conv
    assert in_int8(operation_precisions(quantized)) == {"conv1", "dw", "project"}


def test_activation_ranges_are_chosen_by_error_unless_pots_estimators_are_asked_for():
    model = models.residual()
    samples = models.random_inputs(model, 16)
    default = quantize_sections(model, samples)
    pot = quantize_sections(model, samples, range_estimator={"preset": "default"})
    searched = [q for q in default if q["kind"] == "activations"]
    assert searched and all(q["range_search"]["chosen"] in q["range_search"]["errors"] for q in searched)
    assert all(min(q["range_search"]["errors"].values()) == q["range_search"]["errors"][q["range_search"]["chosen"]]
               for q in searched)
    assert not any("range_search" in q for q in pot)


def quantize_sections(model, samples, **params):
    pipeline = create_pipeline([{"name": "DefaultQuantization", "params": params}], IEEngine({}, ListLoader(samples)))
    sections = pipeline.run(CompressionModel(model, "m")).report_sections
    return next(s for s in sections if s["algorithm"] == "MinMaxQuantization")["quantizers"]


def test_the_range_search_does_not_read_its_samples_from_the_loader_again():
    class CountingLoader(ListLoader):
        read_indices = []

        def __getitem__(self, index):
            self.read_indices.append(index)
            return super().__getitem__(index)

    model = models.residual()
    loader = CountingLoader(models.random_inputs(model, 24))
    pipeline = create_pipeline([{"name": "DefaultQuantization", "params": {"stat_subset_size": 24}}],
                               IEEngine({}, loader))
    sections = pipeline.run(CompressionModel(model, "m")).report_sections
    assert any("range_search" in q for s in sections for q in s.get("quantizers", []))
    assert sorted(loader.read_indices) == list(range(24))  # the statistics pass read each sample once, and only it
