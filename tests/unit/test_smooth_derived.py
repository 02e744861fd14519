"""Statistics of X / s derived from statistics of X (smooth_quant/derived.py) equal those computed on X / s."""
import numpy as np
import pytest

from potcli.algorithms.smooth_quant.derived import derivations, unsmoothed_name
from potcli.algorithms.smooth_quant.smoothing import SmoothGroup, SmoothedLayer, inverse_scale
from potcli.statistics.streaming import SampleAggregator, TensorStatistic, make_aggregator, reduce_sample

GROUP = SmoothGroup("ln", channel_axis=2, channels=6, rank=3, layers=(SmoothedLayer("q", 1),))
SMOOTHED = GROUP.smoothed_tensor


def aggregate(stat, tensors):
    aggregator = make_aggregator(stat)
    for x in tensors:
        aggregator.update(reduce_sample(x, stat))
    return aggregator.result()


@pytest.mark.parametrize("reducer", ["min", "max", "abs_max", "mean"])
@pytest.mark.parametrize("aggregator", ["min", "max", "mean", "median", "mean_no_outliers"])
@pytest.mark.parametrize("axis", [None, 2, -1])
def test_derived_statistics_equal_the_statistics_of_the_smoothed_tensor(reducer, aggregator, axis):
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal((1, 5, 6)).astype(np.float32) * np.array([30, 1, 1, 2, 1, 1], np.float32)
               for _ in range(20)]
    scale = rng.uniform(0.05, 20, 6)
    target = TensorStatistic(SMOOTHED, reducer, axis, aggregator)
    derivation = derivations({target}, [GROUP], len(samples))[target]
    assert derivation.source.tensor == "ln"
    derived = derivation.value(aggregate(derivation.source, samples), scale)
    direct = aggregate(target, [x * inverse_scale(scale) for x in samples])
    np.testing.assert_allclose(derived, direct, rtol=1e-5, atol=1e-6)


def test_what_cannot_be_derived_is_left_for_the_smoothed_model():
    wanted = {TensorStatistic(SMOOTHED, "quantile", None, "mean"),  # a quantile of X / s is not one of X
              TensorStatistic(SMOOTHED, "values", None, "sampled"),
              TensorStatistic(SMOOTHED, "max", 1, "mean"),  # another axis than the smoothed channels
              TensorStatistic("other", "max", None, "mean")}  # not smoothed: collected as it is
    assert derivations(wanted, [GROUP], 300) == {}


def test_per_tensor_statistics_are_derived_only_when_every_sample_fits_the_kept_rows():
    stat = TensorStatistic(SMOOTHED, "max", None, "mean")
    capacity = SampleAggregator.capacity_for(GROUP.channels)
    assert stat in derivations({stat}, [GROUP], capacity)
    assert derivations({stat}, [GROUP], capacity + 1) == {}


def test_a_smoothed_tensor_has_the_shape_of_its_source():
    assert unsmoothed_name(SMOOTHED, [GROUP]) == "ln"
    assert unsmoothed_name("other", [GROUP]) == "other"
