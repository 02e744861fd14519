"""Streaming statistics: a per-sample reducer, then an aggregator across samples (POT's two-step estimators).

A *sample* is one inference. Reducers turn a tensor into one value per tensor (or per channel); aggregators
combine those values across samples without keeping them all:

- ``min``, ``max``, ``mean`` keep a running value: O(1) memory.
- ``median``, ``mean_no_outliers``, ``median_no_outliers`` need the distribution of the per-sample values.
  They keep them exactly up to a fixed capacity (``SampleAggregator.capacity_for``: 65536 samples for a
  per-tensor statistic, about 16 MiB per statistic), and past it a uniform reservoir sample of that size
  (Vitter's algorithm R, seeded, fed in sample order so that runs are reproducible). Memory is bounded by the
  capacity, never by the number of samples.
- ``rows`` keeps the per-sample values themselves, in sample order, in the same bounded reservoir: for
  statistics that can only be aggregated once something else is known (algorithms/derived.py).
- ``hl_estimator`` (Hodges-Lehmann: the median of the means of all pairs of per-sample values) works on such a
  reservoir too, capped at HL_CAPACITY values because the pairs grow with its square.
"""
from dataclasses import dataclass

import numpy as np

from ..config.presets import DEFAULT_OUTLIER_PROB

# Reducers by name: (tensor, axes to reduce, quantile level, keepdims) -> values. Activations (one sample at a
# time), weights (the tensor itself) and the in-graph reductions of collector.py all use these names.
REDUCERS = {
    "min": lambda x, axes, q, keep: np.min(x, axis=axes, keepdims=keep),
    "max": lambda x, axes, q, keep: np.max(x, axis=axes, keepdims=keep),
    "abs_max": lambda x, axes, q, keep: np.max(np.abs(x), axis=axes, keepdims=keep),
    "mean": lambda x, axes, q, keep: np.mean(x, axis=axes, dtype=np.float64, keepdims=keep).astype(np.float32),
    # q as a float64 scalar: the result is then the one reduce_sample_together gets for several levels at once
    "quantile": lambda x, axes, q, keep: np.quantile(x, np.float64(q), axis=axes, keepdims=keep),
    "abs_quantile": lambda x, axes, q, keep: np.quantile(np.abs(x), np.float64(q), axis=axes, keepdims=keep),
}
VALUES_PER_SAMPLE = 8192  # values the "values" reducer keeps of a sample (at fixed positions, sample_positions)
VALUES_POOL = 2 * VALUES_PER_SAMPLE  # values on the grid they are drawn from (sample_grid), at least
SAMPLED_SAMPLES = 16  # samples the "sampled" aggregator keeps values of (the first of a pass)
SAMPLE_AGGREGATORS = ("median", "mean_no_outliers", "median_no_outliers", "hl_estimator", "rows")
HL_CAPACITY = 1024  # values per statistic the Hodges-Lehmann estimator pairs up (about 0.5 M pairs)


@dataclass(frozen=True)
class TensorStatistic:
    """One statistic of one tensor: ``aggregator`` over samples of ``reducer`` over the tensor."""

    tensor: str  # graph.port_name of the tensor
    reducer: str  # min | max | abs_max | quantile | abs_quantile | mean | values
    channel_axis: int | None  # keep this axis (per-channel statistic); None reduces everything
    aggregator: str  # min | max | mean | median | mean_no_outliers | median_no_outliers | hl_estimator | rows
    outlier_prob: float = DEFAULT_OUTLIER_PROB
    quantile_side: str = "high"  # which tail a quantile reducer cuts: "low" (min bound) or "high"


def reduction_axes(rank: int, channel_axis: int | None) -> tuple[int, ...]:
    return tuple(a for a in range(rank) if channel_axis is None or a != channel_axis % max(rank, 1))


def quantile_level(reducer: str, outlier_prob: float, low_side: bool) -> float:
    """The quantile a (abs_)quantile reducer takes: ``outlier_prob`` for the low end of a signed range, else
    ``1 - outlier_prob``."""
    return outlier_prob if low_side and reducer == "quantile" else 1.0 - outlier_prob


def reduce_tensor(x: np.ndarray, reducer: str, axes: tuple[int, ...], outlier_prob: float = DEFAULT_OUTLIER_PROB,
                  low_side: bool = False, keepdims: bool = False) -> np.ndarray:
    """``reducer`` of ``x`` over ``axes`` (see REDUCERS)."""
    return REDUCERS[reducer](x, axes, quantile_level(reducer, outlier_prob, low_side), keepdims)


def reduce_sample(x: np.ndarray, stat: TensorStatistic) -> np.ndarray:
    """The per-sample value of ``stat`` for tensor ``x`` (what the in-graph reduction computes too)."""
    if stat.reducer == "values":
        on_grid = x[sample_grid(x.shape)]
        return on_grid.reshape(-1)[sample_positions(on_grid.size)]
    return reduce_tensor(x, stat.reducer, reduction_axes(x.ndim, stat.channel_axis), stat.outlier_prob,
                         stat.quantile_side == "low")


QUANTILE_REDUCERS = ("quantile", "abs_quantile")


def reduce_sample_together(x: np.ndarray, stats: list[TensorStatistic]) -> list[np.ndarray]:
    """``reduce_sample(x, stat)`` for each of ``stats`` (statistics of one tensor): the quantiles taken over the
    same axes share one partial sort of ``x`` (a low and a high bound cost one)."""
    values: list[np.ndarray | None] = [None] * len(stats)
    levels: dict[tuple[str, int | None], list[tuple[int, float]]] = {}
    for i, stat in enumerate(stats):
        if stat.reducer in QUANTILE_REDUCERS:
            level = quantile_level(stat.reducer, stat.outlier_prob, stat.quantile_side == "low")
            levels.setdefault((stat.reducer, stat.channel_axis), []).append((i, level))
        else:
            values[i] = reduce_sample(x, stat)
    for (reducer, channel_axis), wanted in levels.items():
        source = np.abs(x) if reducer == "abs_quantile" else x
        quantiles = np.quantile(source, np.array([level for _, level in wanted], dtype=np.float64),
                                axis=reduction_axes(x.ndim, channel_axis))
        for (i, _), value in zip(wanted, quantiles, strict=True):
            values[i] = value
    return values


def sample_grid(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The regular grid the "values" reducer draws from: every s-th value along the axes past the first two
    (spatial axes; all channels are kept), with the largest odd s that leaves VALUES_POOL values, starting at
    s // 2. A strided slice of the spatial axes costs the CPU nothing in its blocked layouts, where a gather over
    the whole tensor would first copy it."""
    step = 1
    if len(shape) > 2:
        while step + 2 <= max(shape[2:]) and \
                int(np.prod(shape[:2])) * int(np.prod([-(-(d - (step + 2) // 2) // (step + 2)) for d in shape[2:]])) \
                >= VALUES_POOL:
            step += 2
    return tuple(slice(None) if axis < 2 else slice(min(step // 2, d - 1), None, step) for axis, d in enumerate(shape))


def grid_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of ``sample_grid(shape)``'s values."""
    return tuple(len(range(*s.indices(d))) for s, d in zip(sample_grid(shape), shape, strict=True))


def sampled_along(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """For each value the "values" reducer keeps of a tensor of ``shape``: its index along ``axis``."""
    along = np.arange(shape[axis])[sample_grid(shape)[axis]]
    on_grid = grid_shape(shape)
    return along[np.unravel_index(sample_positions(int(np.prod(on_grid))), on_grid)[axis]]


def sample_positions(size: int) -> np.ndarray:
    """Where the "values" reducer reads the ``size`` values of its grid (flattened): all of them, or
    VALUES_PER_SAMPLE positions drawn uniformly, seeded by the size so that runs repeat, in ascending order. The
    same positions in every sample, so that an in-graph Gather can read them, and in every tensor of that size, so
    that a tensor's values map to those of a tensor derived from it (algorithms/derived.py)."""
    if size <= VALUES_PER_SAMPLE:
        return np.arange(size)
    return np.sort(np.random.default_rng(size).integers(0, size, VALUES_PER_SAMPLE))


def quantile_from_tail(tail: np.ndarray, size: int, level: float, largest: bool) -> np.ndarray:
    """``np.quantile`` (linear method) at ``level`` of rows of ``size`` values, from each row's sorted extreme
    values only (``tail``, last axis: the largest in descending order or the smallest in ascending order, as an
    in-graph TopK gives them; ``tail_length`` of them). The same arithmetic as numpy, so the same numbers."""
    virtual = np.float64(level) * (size - 1)
    below = int(np.floor(virtual))
    above = min(below + 1, size - 1)
    gamma = virtual - np.float64(below)
    if largest:
        below, above = size - 1 - below, size - 1 - above
    a, b = tail[..., below], tail[..., above]
    difference = b - a
    if gamma >= 0.5:
        return b - difference * (1 - gamma)
    return a + difference * gamma


def tail_length(size: int, level: float, largest: bool) -> int:
    """How many extreme values of a row of ``size`` ``quantile_from_tail`` needs for ``level``."""
    below = int(np.floor(np.float64(level) * (size - 1)))
    return min(size, size - below if largest else below + 2)


RUNNING_UPDATES = {"min": np.minimum, "max": np.maximum, "mean": np.add}  # mean: a sum, divided at the end


class RunningAggregator:
    """min / max / mean over samples in O(1) memory."""

    def __init__(self, kind: str):
        self.kind = kind
        self.count = 0
        self.value = None
        self._combine = RUNNING_UPDATES[kind]

    def update(self, sample: np.ndarray) -> None:
        self.count += 1
        if self.value is None:
            self.value = np.array(sample, dtype=np.float64)
        else:  # in float64 in place: one call per sample and statistic, hundreds per sample
            self._combine(self.value, sample, out=self.value)

    def result(self) -> np.ndarray:
        if self.value is None:
            raise ValueError("no samples were aggregated")
        out = self.value / self.count if self.kind == "mean" else self.value
        return out.astype(np.float32)


class SampleAggregator:
    """median / mean_no_outliers / median_no_outliers / hl_estimator / rows over a bounded, reproducible sample
    of per-sample values."""

    BYTES_BUDGET = 16 << 20

    def __init__(self, kind: str, outlier_prob: float, seed: int = 0, capacity: int | None = None):
        self.kind = kind
        self.outlier_prob = outlier_prob
        self.capacity = capacity
        self.rows: list[np.ndarray] = []
        self.seen = 0
        self.rng = np.random.default_rng(seed)

    @classmethod
    def capacity_for(cls, values_per_sample: int) -> int:
        return int(max(256, min(1 << 16, cls.BYTES_BUDGET // (8 * max(values_per_sample, 1)))))

    def update(self, sample: np.ndarray) -> None:
        sample = np.asarray(sample, dtype=np.float64)
        if self.capacity is None:
            self.capacity = self.capacity_for(sample.size)
        self.seen += 1
        if len(self.rows) < self.capacity:
            self.rows.append(sample.copy())
            return
        slot = int(self.rng.integers(0, self.seen))  # algorithm R: keep each sample with probability capacity/seen
        if slot < self.capacity:
            self.rows[slot] = sample.copy()

    def result(self) -> np.ndarray:
        if not self.rows:
            raise ValueError("no samples were aggregated")
        values = np.stack(self.rows)
        if self.kind == "rows":
            return values
        if self.kind == "median":
            return np.median(values, axis=0).astype(np.float32)
        if self.kind == "hl_estimator":
            return hodges_lehmann(values)
        low, high = np.quantile(values, [self.outlier_prob, 1.0 - self.outlier_prob], axis=0)
        kept = np.where((values >= low) & (values <= high), values, np.nan)
        reduce = np.nanmedian if self.kind == "median_no_outliers" else np.nanmean
        return reduce(kept, axis=0).astype(np.float32)


def hodges_lehmann(values: np.ndarray) -> np.ndarray:
    """Median over pairs i < j of (x_i + x_j) / 2, per column of ``values`` (samples along axis 0); a single
    sample is its own estimate. Robust to outliers like the median, efficient like the mean."""
    flat = values.reshape(len(values), -1)
    if len(flat) == 1:
        return values[0].astype(np.float32)
    upper = np.triu_indices(len(flat), k=1)
    estimate = [np.median(np.add.outer(column, column)[upper]) / 2 for column in flat.T]
    return np.asarray(estimate, dtype=np.float32).reshape(values.shape[1:])


class SampledValues:
    """The "values" reductions (VALUES_PER_SAMPLE values at fixed positions) of the first SAMPLED_SAMPLES samples
    fed, concatenated: what the range search scores candidate ranges on. Later samples are ignored, so a pass
    over the whole statistics subset gives the same values as one over its first samples."""

    def __init__(self):
        self.parts: list[np.ndarray] = []

    def update(self, sample: np.ndarray) -> None:
        if len(self.parts) < SAMPLED_SAMPLES:
            self.parts.append(np.array(sample, dtype=np.float32).reshape(-1))  # a copy: the caller reuses its buffer

    def result(self) -> np.ndarray:
        if not self.parts:
            raise ValueError("no samples were aggregated")
        return np.concatenate(self.parts)


def make_aggregator(stat: TensorStatistic, seed: int = 0):
    if stat.aggregator == "sampled":
        return SampledValues()
    if stat.aggregator in SAMPLE_AGGREGATORS:
        capacity = HL_CAPACITY if stat.aggregator == "hl_estimator" else None
        return SampleAggregator(stat.aggregator, stat.outlier_prob, seed, capacity)
    return RunningAggregator(stat.aggregator)
