"""Streaming statistics equal numpy over the whole data; bounded aggregators stay bounded and reproducible."""
import numpy as np
import pytest

from potcli.statistics.streaming import (RunningAggregator, SampleAggregator, TensorStatistic, reduce_sample,
                                        reduce_sample_together)

RNG = np.random.default_rng(0)
SAMPLES = [RNG.standard_normal((1, 3, 4, 4)).astype(np.float32) * (i + 1) for i in range(20)]


@pytest.mark.parametrize("reducer,numpy_fn", [
    ("min", lambda x, axes: x.min(axis=axes)), ("max", lambda x, axes: x.max(axis=axes)),
    ("abs_max", lambda x, axes: np.abs(x).max(axis=axes)), ("mean", lambda x, axes: x.mean(axis=axes))])
@pytest.mark.parametrize("channel_axis", [None, 1])
def test_reducers_match_numpy(reducer, numpy_fn, channel_axis):
    axes = (0, 2, 3) if channel_axis == 1 else None
    stat = TensorStatistic("t", reducer, channel_axis, "mean")
    for x in SAMPLES[:3]:
        assert np.allclose(reduce_sample(x, stat), numpy_fn(x, axes), atol=1e-6)


def test_quantile_reducer_cuts_the_asked_tail():
    x = np.arange(10001, dtype=np.float32).reshape(1, 1, 1, -1) - 5000
    low = reduce_sample(x, TensorStatistic("t", "quantile", None, "mean", 0.01, "low"))
    high = reduce_sample(x, TensorStatistic("t", "quantile", None, "mean", 0.01, "high"))
    absolute = reduce_sample(x, TensorStatistic("t", "abs_quantile", None, "mean", 0.01, "high"))
    assert low == pytest.approx(-4900) and high == pytest.approx(4900) and absolute == pytest.approx(4950)


@pytest.mark.parametrize("kind,numpy_fn", [("min", np.min), ("max", np.max), ("mean", np.mean)])
def test_running_aggregators_match_numpy(kind, numpy_fn):
    values = [reduce_sample(x, TensorStatistic("t", "max", 1, kind)) for x in SAMPLES]
    aggregator = RunningAggregator(kind)
    for value in values:
        aggregator.update(value)
    assert np.allclose(aggregator.result(), numpy_fn(np.stack(values), axis=0), rtol=1e-6)


def test_sample_aggregators_match_numpy_while_under_capacity():
    values = np.random.default_rng(1).standard_normal((200, 3))
    values[7] = 50.0  # an outlier row
    median = SampleAggregator("median", 1e-2)
    mean_no_outliers = SampleAggregator("mean_no_outliers", 1e-2)
    for row in values:
        median.update(row)
        mean_no_outliers.update(row)
    assert np.allclose(median.result(), np.median(values, axis=0), atol=1e-6)
    low, high = np.quantile(values, [0.01, 0.99], axis=0)
    kept = np.where((values >= low) & (values <= high), values, np.nan)
    assert np.allclose(mean_no_outliers.result(), np.nanmean(kept, axis=0), atol=1e-6)
    assert np.all(mean_no_outliers.result() < 1.0)  # the outlier row was dropped


def test_sample_aggregator_memory_is_bounded_and_runs_are_reproducible():
    data = np.random.default_rng(2).standard_normal(20000)
    first, second = SampleAggregator("median", 1e-4, capacity=500), SampleAggregator("median", 1e-4, capacity=500)
    for value in data:
        first.update(np.array(value))
        second.update(np.array(value))
    assert len(first.rows) == 500
    assert first.result() == second.result()
    assert abs(float(first.result()) - np.median(data)) < 0.15  # a uniform sample of 500 estimates the median


def test_capacity_is_at_least_4096_samples_for_per_tensor_statistics():
    assert SampleAggregator.capacity_for(1) >= 4096
    assert SampleAggregator.capacity_for(100000) >= 256


def test_statistics_of_one_tensor_reduced_together_equal_each_reduced_alone():
    # quantiles over the same axes share one partial sort; the values must not change for it
    x = RNG.standard_normal((1, 3, 7, 5)).astype(np.float32)
    stats = [TensorStatistic("t", reducer, axis, "mean", prob, side)
             for reducer in ("quantile", "abs_quantile", "min", "mean") for axis in (None, 1)
             for prob, side in ((1e-2, "low"), (1e-2, "high"), (1e-3, "high"))]
    for stat, value in zip(stats, reduce_sample_together(x, stats), strict=True):
        np.testing.assert_array_equal(value, reduce_sample(x, stat), err_msg=str(stat))
