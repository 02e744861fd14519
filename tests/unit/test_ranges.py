"""Range math against hand-computed oracles (REFERENCE §3.5: POT's and NNCF's formulas)."""
import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from potcli.config.presets import default_levels
from potcli.statistics.ranges import (FQParams, asymmetric_params, fake_quantize, fix_zero_filters_symmetric,
                                      half_range_weights, symmetric_params, tune_range)


def test_symmetric_signed_activation_range_is_minus_128_over_127():
    # activations take the values -1 and +2: signed grid -128..127 with step 2/127
    params = symmetric_params(np.float64(-1.0), np.float64(2.0), -128, 127, allow_unsigned=True)
    assert params.levels == 256
    assert params.input_low == pytest.approx(-2.0 * 256 / 254)
    assert params.input_high == pytest.approx(2.0)


def test_symmetric_never_negative_activation_is_unsigned():
    params = symmetric_params(np.float64(0.0), np.float64(2.0), -128, 127, allow_unsigned=True)
    assert params.input_low == 0.0 and params.input_high == pytest.approx(2.0) and params.levels == 256


def test_asymmetric_range_that_already_holds_zero_is_kept():
    params = asymmetric_params(np.float64(-1.0), np.float64(2.0), 256)  # 0 is level 85 exactly
    assert params.input_low == pytest.approx(-1.0) and params.input_high == pytest.approx(2.0)


def test_asymmetric_range_is_widened_to_put_zero_on_a_level():
    params = asymmetric_params(np.float64(-1.0), np.float64(2.5), 256)
    # 0 sits at level 255/3.5 = 72.86 -> 73; keeping high, low = 73/(73-255) * 2.5
    assert params.input_low == pytest.approx(73 / (73 - 255) * 2.5, rel=1e-6)
    assert params.input_high == pytest.approx(2.5)
    step = (params.input_high - params.input_low) / 255
    assert (0 - params.input_low) / step == pytest.approx(73, abs=1e-3)


def test_asymmetric_range_includes_zero():
    params = asymmetric_params(np.float64(0.5), np.float64(2.0), 256)
    assert params.input_low == 0.0 and params.input_high == pytest.approx(2.0)


def test_tune_range_never_narrows():
    rng = np.random.default_rng(0)
    low = -rng.uniform(0.01, 5, 1000)
    high = rng.uniform(0.01, 5, 1000)
    new_low, new_high = tune_range(low, high, 255)
    assert np.all(new_low <= low + 1e-12) and np.all(new_high >= high - 1e-12)
    zero_level = -new_low / ((new_high - new_low) / 255)
    assert np.allclose(zero_level, np.round(zero_level), atol=1e-6)


def test_weights_are_symmetric_per_channel_with_zero_filter_floor():
    max_abs = np.array([1.0, 0.0, 3.0])
    fixed = fix_zero_filters_symmetric(max_abs)
    assert fixed.tolist() == pytest.approx([1.0, 0.03, 3.0])  # floor: 1% of the largest channel
    params = symmetric_params(-max_abs, max_abs, -127, 127, allow_unsigned=False)
    assert params.levels == 255
    assert params.input_low.tolist() == pytest.approx([-1.0, -0.03, -3.0])


def test_saturation_fix_doubles_the_range_of_255_levels():
    params = half_range_weights(np.array([1.0, 2.0]), 8)
    assert params.levels == 255
    assert params.input_high.tolist() == pytest.approx([2.0, 4.0])
    assert params.input_low.tolist() == pytest.approx([-2.0, -4.0])
    first_channel = FQParams(params.input_low[:1], params.input_high[:1], params.levels)
    quantized = fake_quantize(np.linspace(-1, 1, 1001, dtype=np.float32), first_channel)
    assert len(np.unique(quantized)) == 127  # weights within [-max, max] land on -63..63: a 7-bit grid


@pytest.mark.parametrize("bits,mode,kind,expected", [
    (8, "symmetric", "weights", (-127, 127)), (8, "symmetric", "activations", (-128, 127)),
    (8, "asymmetric", "activations", (0, 255)), (4, "symmetric", "weights", (-7, 7))])
def test_pot_integer_grids(bits, mode, kind, expected):
    assert default_levels(bits, mode, kind) == expected


def test_numpy_fake_quantize_matches_openvino():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (1, 4, 5, 5)).astype(np.float32)
    params = FQParams(np.full((1, 4, 1, 1), -2.0, np.float32), np.array([1.0, 2.0, 2.5, 3.0],
                                                                          np.float32).reshape(1, 4, 1, 1), 256)
    data = ops.parameter(list(x.shape), np.float32)
    fq = ops.fake_quantize(data, params.input_low, params.input_high, params.input_low, params.input_high, 256)
    expected = ov.Core().compile_model(ov.Model([fq], [data]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(x)[0]
    assert np.allclose(fake_quantize(x, params), expected, atol=1e-5)
