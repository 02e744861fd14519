"""Collect every requested statistic in one pass over the data.

The model gets extra outputs: in-graph reductions when ``inplace_statistics`` is on (ReduceMin/ReduceMax/
ReduceMean; a TopK for a quantile, whose few extreme values numpy interpolates exactly as np.quantile; a Gather
for sampled values), so only a few numbers per sample leave the model, or the raw tensor otherwise and where a
reduction cannot run in the graph. Per-sample values are reduced and aggregated as results arrive, so memory does
not grow with the number of samples (see statistics.py).
"""
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ..data.samples import InputSpec, input_specs, prepared_sample, update_sample_digest
from ..errors import DataError, ModelError, first_line
from ..graph.queries import dims, tensors_by_name
from ..statistics.streaming import (TensorStatistic, grid_shape, make_aggregator, quantile_from_tail, quantile_level,
                                    reduce_sample_together, reduction_axes, sample_grid, sample_positions,
                                    tail_length)
from .inference import Engine

_REDUCE_NODES = {"min": ops.reduce_min, "max": ops.reduce_max, "mean": ops.reduce_mean, "sum": ops.reduce_sum}
MAX_TAIL = 1024  # a quantile needing more extreme values than this is taken in Python (TopK slows down)


@dataclass(frozen=True)
class Reduction:
    """One in-graph reduction of a tensor. ``tail``: for a quantile, how many extreme values a TopK keeps of
    each row of ``size`` values (the largest when ``largest``); ``level``: the quantile they give."""

    tensor: str
    reducer: str
    channel_axis: int | None
    level: float | None = None
    size: int = 0
    tail: int = 0
    largest: bool = False

    def value(self, output: np.ndarray) -> np.ndarray:
        """The per-sample statistic from the graph's output."""
        if self.level is None:
            return output
        value = quantile_from_tail(output, self.size, self.level, self.largest)
        return value if self.channel_axis is not None else value[0]


@dataclass(frozen=True)
class CollectedStatistics:
    values: dict[TensorStatistic, np.ndarray]
    shapes: dict[str, tuple[int, ...]]  # shape of each observed tensor in the first sample
    samples: int


def collect_statistics(engine: Engine, model: ov.Model, statistics: Iterable[TensorStatistic], loader,
                       indices: Sequence[int], inplace: bool, requests: int | None,
                       record_shapes: Iterable[str] = (), batch_size: int = 1, digest=None) -> CollectedStatistics:
    """Run ``model`` on ``loader[i] for i in indices``, aggregate every statistic, note the shapes asked for.

    With ``batch_size`` > 1, that many consecutive samples are stacked into one inference (which then counts
    as one sample for the aggregators); the model's first input dimension is made dynamic for it. A hashlib
    ``digest``, if given, receives every sample read (``data.samples.update_sample_digest``).
    """
    statistics = sorted(set(statistics), key=_sort_key)
    tensors = tensors_by_name(model)
    # a static shape is known without running the model (unless batches stack samples)
    static = {} if batch_size > 1 else {tensor: dims(tensors[tensor]) for tensor in set(record_shapes)
                                        if tensors[tensor].get_partial_shape().is_static}
    record_shapes = sorted(set(record_shapes) - static.keys())
    if not statistics and not record_shapes:
        return CollectedStatistics({}, static, len(indices))  # e.g. every activation is in the ignored scope
    in_graph = {stat: graph_reduction(stat, inplace, tensors[stat.tensor], batch_size > 1) for stat in statistics}
    probe, outputs = _statistics_model(model, in_graph, record_shapes)
    if batch_size > 1:
        _make_batch_dynamic(probe, batch_size)
    aggregators = {stat: make_aggregator(stat) for stat in statistics}
    by_reduction: dict[Reduction, list[TensorStatistic]] = {}  # worked out once, not per sample
    in_python: dict[str, list[TensorStatistic]] = {}  # by tensor
    for stat, reduction in in_graph.items():
        if reduction is not None:
            by_reduction.setdefault(reduction, []).append(stat)
        else:
            in_python.setdefault(stat.tensor, []).append(stat)
    shapes: dict[str, tuple[int, ...]] = dict(static)
    # Per output, worked out once: the tensor it is the NaN/Inf probe of, and the aggregators its value goes to
    steps = [(kind, key, _probed_tensor(kind, key),
              [aggregators[stat] for stat in by_reduction.get(key, ())] if kind == "reduced" else [])
             for kind, key in outputs]
    # abs_max is the larger of -min and max: taken here from those outputs, as a Negative and a Maximum per
    # tensor in the graph cost its compile more (PP-OCRv4's detector: 1.4 s against 1.1 s) than this does
    absolute = [(outputs.index(("reduced", replace(reduction, reducer="min"))),
                 outputs.index(("reduced", replace(reduction, reducer="max"))),
                 [aggregators[stat] for stat in stats]) for reduction, stats in by_reduction.items()
                if reduction.reducer == "abs_max"]

    def handle(index: int, results: list[np.ndarray]) -> None:
        raw: dict[str, np.ndarray] = {}
        for (kind, key, probed, targets), value in zip(steps, results, strict=True):
            if probed is not None:
                _check_finite(value, probed, index)
            if targets:
                value = key.value(value)
                for aggregator in targets:
                    aggregator.update(value)
            elif kind == "raw":
                raw[key] = value
            elif kind == "shape" and key not in shapes:
                shapes[key] = tuple(int(d) for d in value)
        for low, high, targets in absolute:
            value = np.maximum(-results[low], results[high])
            for aggregator in targets:
                aggregator.update(value)
        for tensor, stats in in_python.items():
            for stat, value in zip(stats, reduce_sample_together(raw[tensor], stats), strict=True):
                aggregators[stat].update(value)

    batches = Batches(indices, batch_size)
    unit = "sample" if batch_size == 1 else "batch"
    if engine.remote is not None:
        engine.remote.batches(probe, batches, handle, requests, "Statistics", unit, digest)
    else:
        # the aggregators copy what they keep: the request's buffers are handed over as they are
        engine.compile_and_run(probe, "statistics model", _inputs(loader, batches, input_specs(probe), digest),
                               handle, requests, "Statistics", len(batches), unit, copied=False)
    return CollectedStatistics({stat: agg.result() for stat, agg in aggregators.items()}, shapes, len(indices))


class Batches(Sequence):
    """``indices`` cut into consecutive batches of ``size`` (the last may be shorter), sliced as they are read:
    a dataset of 10**12 samples is never listed."""

    def __init__(self, indices: Sequence[int], size: int):
        self.indices, self.size = indices, size

    def __len__(self) -> int:
        return -(-len(self.indices) // self.size)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if not -len(self) <= position < len(self):
            raise IndexError(position)
        start = (position % len(self)) * self.size
        return self.indices[start:start + self.size]


def _inputs(loader, batches: Iterable[Sequence[int]], specs: list[InputSpec], digest=None):
    for batch in batches:
        samples = []
        for index in batch:
            samples.append(prepared_sample(loader, index, specs)[0])
            if digest is not None:
                update_sample_digest(digest, index, samples[-1])
        if len(samples) == 1:
            yield batch[0], samples[0]
        else:
            yield batch[0], {name: np.concatenate([s[name] for s in samples]) for name in samples[0]}


def _make_batch_dynamic(model: ov.Model, batch_size: int) -> None:
    shapes = {}
    for port in model.inputs:
        shape = port.get_partial_shape()
        if shape.rank.is_dynamic or len(shape) == 0:
            raise ModelError(f"stat_batch_size {batch_size} needs inputs with a batch dimension; "
                             f"input {port.get_any_name()!r} has shape {shape}")
        shape[0] = ov.Dimension()
        shapes[port] = shape
    try:
        model.reshape(shapes)
    except Exception as e:
        raise ModelError(f"stat_batch_size {batch_size}: the model's first dimension cannot be made a batch "
                         f"dimension: {first_line(e)}") from e


def graph_reduction(stat: TensorStatistic, inplace: bool, tensor: ov.Output, batched: bool) -> Reduction | None:
    """The in-graph reduction giving ``stat`` of ``tensor`` per sample, or None: the raw tensor leaves the model
    and numpy reduces it. TopK and Gather need the shape of every inference (not ``batched`` by
    stat_batch_size, not dynamic), and a quantile not too deep into the tail."""
    if not inplace:
        return None
    if stat.reducer in ("min", "max", "abs_max", "mean"):
        return Reduction(stat.tensor, stat.reducer, stat.channel_axis)
    if stat.reducer not in ("quantile", "values") or tensor.get_partial_shape().is_dynamic or batched:
        return None
    shape = dims(tensor)
    if stat.reducer == "values":
        return Reduction(stat.tensor, "values", None) if shape else None  # a Slice needs an axis
    size = int(np.prod(shape)) // (shape[stat.channel_axis] if stat.channel_axis is not None else 1)
    level = quantile_level(stat.reducer, stat.outlier_prob, stat.quantile_side == "low")
    largest = level >= 0.5
    tail = tail_length(size, level, largest)
    if tail > MAX_TAIL:
        return None
    return Reduction(stat.tensor, "quantile", stat.channel_axis, level, size, tail, largest)


def _statistics_model(model: ov.Model, in_graph: dict[TensorStatistic, Reduction | None], record_shapes: list[str]):
    """A clone of ``model`` whose outputs are one Result per in-graph reduction, raw tensor and shape needed.

    Also returns, per output, ``("reduced", Reduction)``, ``("raw", tensor)``, ``("finite", tensor)`` or
    ``("shape", tensor)``.
    """
    probe = model.clone()
    tensors = tensors_by_name(probe)
    reductions = _Reductions(tensors)
    results, outputs = [], []
    for stat, reduction in in_graph.items():
        if reduction is None:
            entries = [("raw", stat.tensor)]
        elif reduction.reducer == "abs_max":  # from the min and max (see collect_statistics)
            entries = [("reduced", replace(reduction, reducer=side)) for side in ("min", "max")]
        else:
            entries = [("reduced", reduction)]
        for kind, key in entries:
            if (kind, key) not in outputs:
                results.append(ops.result(reductions.get(key) if kind == "reduced" else tensors[key]))
                outputs.append((kind, key))
    # A mean holds NaN or Inf if any value does; every other observed tensor gets a sum that does the same
    # (in-graph ReduceMin/ReduceMax/TopK skip NaN, and scanning a raw tensor in Python costs more than a sum).
    observed = {key if kind == "raw" else key.tensor for kind, key in outputs}
    averaged = {key.tensor for kind, key in outputs if kind == "reduced" and key.reducer == "mean"}
    for tensor in sorted(observed - averaged):
        results.append(ops.result(reductions.get(Reduction(tensor, "sum", None))))
        outputs.append(("finite", tensor))
    for tensor in record_shapes:
        results.append(ops.result(ops.shape_of(tensors[tensor])))
        outputs.append(("shape", tensor))
    original = len(probe.outputs)
    probe.add_results(results)
    # The model's own outputs come first in the compiled model; the handler only sees the added ones.
    return _drop_original_outputs(probe, original), outputs


def _probed_tensor(kind: str, key) -> str | None:
    """The tensor whose NaN/Inf probe an output of _statistics_model is: each observed tensor has one, a mean or
    the sum added for it."""
    if kind == "finite":
        return key
    return key.tensor if kind == "reduced" and key.reducer == "mean" else None


def _drop_original_outputs(probe: ov.Model, original: int) -> ov.Model:
    for result in probe.get_results()[:original]:
        probe.remove_result(result)
    return probe


class _Reductions:
    """The in-graph reductions of one statistics model, each built once.

    There is no abs_max: an Abs node would write a full-size copy of the tensor, which cost the CPU more than all
    the reductions together (PP-OCRv4's detector: 190 ms per inference against 111 ms without statistics), so
    it is taken from the min and the max. Quantiles and sampled values first shrink the tensor where it lies (a
    TopK along a line, a strided Slice), so that only a small result is reordered and flattened.
    """

    def __init__(self, tensors: dict[str, ov.Output]):
        self.tensors, self.built = tensors, {}

    def get(self, reduction: Reduction) -> ov.Output:
        if reduction not in self.built:
            self.built[reduction] = self._build(reduction)
        return self.built[reduction]

    def _build(self, reduction: Reduction) -> ov.Output:
        tensor, reducer, channel_axis = reduction.tensor, reduction.reducer, reduction.channel_axis
        source = self.tensors[tensor]
        name = f"potq_stat/{tensor}/{reducer}/{channel_axis}"
        if reducer == "values":
            return _sampled_values(source, name)
        if reducer == "quantile":
            return _tail(source, reduction, f"{name}/{reduction.level}")
        rank = source.get_partial_shape().rank.get_length()
        axes = ops.constant(np.array(reduction_axes(rank, channel_axis), dtype=np.int64))
        return _REDUCE_NODES[reducer](source, axes, keep_dims=False, name=name).output(0)


def _sampled_values(source: ov.Output, name: str) -> ov.Output:
    """streaming.reduce_sample's "values" in the graph: a strided Slice (sample_grid), then a Gather of the few
    positions kept from its flattened (small) result."""
    shape = dims(source)
    grid = sample_grid(shape)
    on_grid = ops.slice(source, _int64([s.start or 0 for s in grid]), _int64(shape),
                        _int64([s.step or 1 for s in grid]))
    flat = ops.reshape(on_grid, _int64([-1]), False)
    positions = sample_positions(int(np.prod(grid_shape(shape))))
    return ops.gather(flat, _int64(positions), _int64(0), name=name).output(0)


def _tail(source: ov.Output, reduction: Reduction, name: str) -> ov.Output:
    """The ``reduction.tail`` extreme values of each row (channel, or the whole tensor) of ``source``, sorted.

    A TopK along the last axis other than the channel axis first keeps as many of each line, a fraction of the
    tensor (the extremes of the rows are among them), read in the CPU's blocked layout; only that is transposed
    and flattened into rows for the last TopK. A single TopK over flattened rows costs the CPU a reordered copy
    of the tensor and ten times the time.
    """
    shape = dims(source)
    k, mode = reduction.tail, "max" if reduction.largest else "min"
    channel = None if reduction.channel_axis is None else reduction.channel_axis % len(shape)
    lines = [axis for axis in range(len(shape)) if axis != channel and shape[axis] > k]
    if lines:
        source = ops.topk(source, _int64(k), lines[-1], mode, "value", "i32").output(0)
    if channel is not None:
        source = ops.transpose(source, _int64([channel] + [a for a in range(len(shape)) if a != channel]))
    rows = ops.reshape(source, _int64([1 if channel is None else shape[channel], -1]), False)
    return ops.topk(rows, _int64(k), 1, mode, "value", "i32", name=name).output(0)


def _int64(values) -> ov.Output:
    return ops.constant(np.array(values, dtype=np.int64)).output(0)


def _check_finite(value: np.ndarray, tensor: str, index: int) -> None:
    # a sum of finite values may overflow: the values themselves are checked only then
    if not math.isfinite(value.sum()) and not np.all(np.isfinite(value)):
        raise DataError(f"activation {tensor!r} holds NaN or Inf for sample {index}; it cannot get a range "
                        f"(check the model and the data of that sample)")


def _sort_key(stat: TensorStatistic):
    return (stat.tensor, stat.reducer, str(stat.channel_axis), stat.aggregator, stat.outlier_prob, stat.quantile_side)
