"""Statistics of (X - shift) * factor derived from statistics of X (algorithms/derived.py) equal those computed on
the mapped tensor: SmoothQuant's X / s (no shift) and channel alignment's centred and scaled tensor."""
import numpy as np
import pytest

from potcli.algorithms.derived import ChannelMap, derivations, source_name
from potcli.algorithms.smooth_quant.smoothing import SmoothGroup, SmoothedLayer
from potcli.statistics.streaming import SampleAggregator, TensorStatistic, make_aggregator, reduce_sample

SMOOTHING = SmoothGroup("ln", channel_axis=2, channels=6, shape=(1, 5, 6), layers=(SmoothedLayer("q", 1),)).channel_map
ALIGNMENT = ChannelMap("conv", "conv", channel_axis=2, channels=6, shape=(1, 5, 6), shifted=True)


def aggregate(stat, tensors):
    aggregator = make_aggregator(stat)
    for x in tensors:
        aggregator.update(reduce_sample(x, stat))
    return aggregator.result()


@pytest.mark.parametrize("channel_map", [SMOOTHING, ALIGNMENT], ids=["smoothing", "alignment"])
@pytest.mark.parametrize("reducer", ["min", "max", "abs_max", "mean"])
@pytest.mark.parametrize("aggregator", ["min", "max", "mean", "median", "mean_no_outliers"])
@pytest.mark.parametrize("axis", [None, 2, -1])
def test_derived_statistics_equal_the_statistics_of_the_mapped_tensor(channel_map, reducer, aggregator, axis):
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal((1, 5, 6)).astype(np.float32) * np.array([30, 1, 1, 2, 1, 1], np.float32)
               + np.array([0, 5, 0, -3, 0, 0], np.float32) for _ in range(20)]
    factor = rng.uniform(0.05, 20, 6)
    shift = rng.uniform(-4, 4, 6) if channel_map.shifted else np.zeros(6)
    target = TensorStatistic(channel_map.target, reducer, axis, aggregator)
    derivation = derivations({target}, [channel_map], len(samples))[target]
    assert {source.tensor for source in derivation.sources} == {channel_map.tensor}
    derived = derivation.value({source: aggregate(source, samples) for source in derivation.sources}, shift, factor)
    direct = aggregate(target, [((x - shift) * factor).astype(np.float32) for x in samples])
    np.testing.assert_allclose(derived, direct, rtol=1e-5, atol=1e-5)


def test_abs_max_of_a_shifted_tensor_comes_from_its_min_and_max():
    target = TensorStatistic("conv", "abs_max", 2, "max")
    sources = derivations({target}, [ALIGNMENT], 20)[target].sources
    assert [(s.reducer, s.aggregator) for s in sources] == [("min", "rows"), ("max", "rows")]


def test_what_cannot_be_derived_is_left_for_the_transformed_model():
    smoothed = SMOOTHING.target
    wanted = {TensorStatistic(smoothed, "quantile", None, "mean"),  # a quantile of X / s is not one of X
              TensorStatistic(smoothed, "max", 1, "mean"),  # another axis than the mapped channels
              TensorStatistic("other", "max", None, "mean")}  # not mapped: collected as it is
    assert derivations(wanted, [SMOOTHING, ALIGNMENT], 300) == {}


@pytest.mark.parametrize("shifted", [False, True])
def test_sampled_values_map_with_their_own_channel(shifted):
    # 2 x 96 x 64 values: more than one sample keeps, so they are read at sample_positions
    channel_map = ChannelMap("x", "x'", channel_axis=1, channels=96, shape=(2, 96, 64), shifted=shifted)
    rng = np.random.default_rng(1)
    samples = [rng.standard_normal(channel_map.shape).astype(np.float32) * rng.uniform(0.1, 50, (1, 96, 1))
               for _ in range(20)]
    factor = rng.uniform(0.05, 20, (96, 1))
    shift = rng.uniform(-4, 4, (96, 1)) if shifted else 0.0
    target = TensorStatistic(channel_map.target, "values", None, "sampled")
    derivation = derivations({target}, [channel_map], len(samples))[target]
    derived = derivation.value({source: aggregate(source, samples) for source in derivation.sources}, shift, factor)
    direct = aggregate(target, [((x - shift) * factor).astype(np.float32) for x in samples])
    assert derived.shape == direct.shape == (16 * 8192,)
    np.testing.assert_allclose(derived, direct, rtol=1e-5, atol=1e-5)


def test_sampled_values_of_a_dynamic_shape_are_left_for_the_transformed_model():
    channel_map = ChannelMap("x", "x'", channel_axis=1, channels=96, shape=(-1, 96, 64), shifted=False)
    assert derivations({TensorStatistic("x'", "values", None, "sampled")}, [channel_map], 20) == {}


def test_per_tensor_statistics_are_derived_only_when_every_sample_fits_the_kept_rows():
    stat = TensorStatistic(SMOOTHING.target, "max", None, "mean")
    capacity = SampleAggregator.capacity_for(SMOOTHING.channels)
    assert stat in derivations({stat}, [SMOOTHING], capacity)
    assert derivations({stat}, [SMOOTHING], capacity + 1) == {}


def test_a_mapped_tensor_has_the_shape_of_its_source():
    assert source_name(SMOOTHING.target, [SMOOTHING]) == "ln"
    assert source_name("conv", [ALIGNMENT]) == "conv"
    assert source_name("other", [SMOOTHING]) == "other"
