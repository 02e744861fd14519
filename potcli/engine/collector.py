"""Collect every requested statistic in one pass over the data.

The model gets extra outputs: in-graph reductions (ReduceMin/ReduceMax/ReduceMean, so only a few numbers per
sample leave the model) when ``inplace_statistics`` is on, or the raw tensor otherwise and for quantiles.
Per-sample values are reduced and aggregated as results arrive, so memory does not grow with the number of
samples (see statistics.py).
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ..data.samples import InputSpec, input_specs, prepared_sample, update_sample_digest
from ..errors import DataError, ModelError, first_line
from ..graph.queries import tensors_by_name
from ..statistics.streaming import TensorStatistic, make_aggregator, reduce_sample_together, reduction_axes
from .inference import Engine

# The reducers of statistics.streaming.REDUCERS that can run inside the model (inplace_statistics).
GRAPH_REDUCERS = ("min", "max", "abs_max", "mean")
_REDUCE_NODES = {"min": ops.reduce_min, "max": ops.reduce_max, "mean": ops.reduce_mean, "sum": ops.reduce_sum}


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
    if not statistics and not record_shapes:
        return CollectedStatistics({}, {}, len(indices))  # e.g. every activation is in the ignored scope
    probe, outputs = _statistics_model(model, statistics, inplace, sorted(set(record_shapes)))
    if batch_size > 1:
        _make_batch_dynamic(probe, batch_size)
    aggregators = {stat: make_aggregator(stat) for stat in statistics}
    by_reduction: dict[tuple, list[TensorStatistic]] = {}  # worked out once, not per sample
    in_python: dict[str, list[TensorStatistic]] = {}  # by tensor
    for stat in statistics:
        if _in_graph(stat, inplace):
            by_reduction.setdefault(_reduction_key(stat), []).append(stat)
        else:
            in_python.setdefault(stat.tensor, []).append(stat)
    shapes: dict[str, tuple[int, ...]] = {}

    def handle(index: int, results: list[np.ndarray]) -> None:
        raw: dict[str, np.ndarray] = {}
        for (kind, key), value in zip(outputs, results, strict=True):
            if kind == "shape":
                shapes.setdefault(key, tuple(int(d) for d in value))
                continue
            if kind == "raw":
                raw[key] = value
                continue
            if kind == "finite" or key[1] == "mean":  # each observed tensor's probe (see _statistics_model)
                _check_finite(value, key if kind == "finite" else key[0], index)
            if kind == "reduced":
                for stat in by_reduction[key]:
                    aggregators[stat].update(value)
        for tensor, stats in in_python.items():
            for stat, value in zip(stats, reduce_sample_together(raw[tensor], stats), strict=True):
                aggregators[stat].update(value)

    batches = Batches(indices, batch_size)
    unit = "sample" if batch_size == 1 else "batch"
    if engine.remote is not None:
        engine.remote.batches(probe, batches, handle, requests, "Statistics", unit, digest)
    else:
        engine.run(engine.compile(probe, "statistics model"), _inputs(loader, batches, input_specs(probe), digest),
                   handle, requests, "Statistics", len(batches), unit)
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


def _in_graph(stat: TensorStatistic, inplace: bool) -> bool:
    return inplace and stat.reducer in GRAPH_REDUCERS


def _reduction_key(stat: TensorStatistic) -> tuple:
    return stat.tensor, stat.reducer, stat.channel_axis


def _statistics_model(model: ov.Model, statistics: list[TensorStatistic], inplace: bool, record_shapes: list[str]):
    """A clone of ``model`` whose outputs are one Result per in-graph reduction, raw tensor and shape needed.

    Also returns, per output, ``("reduced", reduction key)``, ``("raw", tensor)``, ``("finite", tensor)`` or
    ``("shape", tensor)``.
    """
    probe = model.clone()
    tensors = tensors_by_name(probe)
    reductions = _Reductions(tensors)
    results, outputs = [], []
    for stat in statistics:
        entry = ("reduced", _reduction_key(stat)) if _in_graph(stat, inplace) else ("raw", stat.tensor)
        if entry not in outputs:
            results.append(ops.result(reductions.get(*entry[1]) if entry[0] == "reduced" else tensors[stat.tensor]))
            outputs.append(entry)
    # A mean holds NaN or Inf if any value does; every other observed tensor gets a sum that does the same
    # (in-graph ReduceMin/ReduceMax skip NaN, and scanning a raw tensor in Python costs more than a sum).
    observed = {key if kind == "raw" else key[0] for kind, key in outputs}
    averaged = {key[0] for kind, key in outputs if kind == "reduced" and key[1] == "mean"}
    for tensor in sorted(observed - averaged):
        results.append(ops.result(reductions.get(tensor, "sum", None)))
        outputs.append(("finite", tensor))
    for tensor in record_shapes:
        results.append(ops.result(ops.shape_of(tensors[tensor])))
        outputs.append(("shape", tensor))
    original = len(probe.outputs)
    probe.add_results(results)
    # The model's own outputs come first in the compiled model; the handler only sees the added ones.
    return _drop_original_outputs(probe, original), outputs


def _drop_original_outputs(probe: ov.Model, original: int) -> ov.Model:
    for result in probe.get_results()[:original]:
        probe.remove_result(result)
    return probe


class _Reductions:
    """The in-graph reductions of one statistics model, each built once.

    abs_max is the larger of -min and max over the same axes: an Abs node would write a full-size copy of the
    tensor, which cost the CPU more than all the reductions together (PP-OCRv4's detector: 190 ms per
    inference against 111 ms without statistics; 123 ms this way).
    """

    def __init__(self, tensors: dict[str, ov.Output]):
        self.tensors, self.built = tensors, {}

    def get(self, tensor: str, reducer: str, channel_axis: int | None) -> ov.Output:
        key = (tensor, reducer, channel_axis)
        if key not in self.built:
            self.built[key] = self._build(tensor, reducer, channel_axis)
        return self.built[key]

    def _build(self, tensor: str, reducer: str, channel_axis: int | None) -> ov.Output:
        if reducer == "abs_max":
            low, high = self.get(tensor, "min", channel_axis), self.get(tensor, "max", channel_axis)
            return ops.maximum(ops.negative(low), high).output(0)
        source = self.tensors[tensor]
        rank = source.get_partial_shape().rank.get_length()
        axes = ops.constant(np.array(reduction_axes(rank, channel_axis), dtype=np.int64))
        return _REDUCE_NODES[reducer](source, axes, keep_dims=False,
                                      name=f"potq_stat/{tensor}/{reducer}/{channel_axis}").output(0)


def _check_finite(value: np.ndarray, tensor: str, index: int) -> None:
    if not np.all(np.isfinite(value)):
        raise DataError(f"activation {tensor!r} holds NaN or Inf for sample {index}; it cannot get a range "
                        f"(check the model and the data of that sample)")


def _sort_key(stat: TensorStatistic):
    return (stat.tensor, stat.reducer, str(stat.channel_axis), stat.aggregator, stat.outlier_prob, stat.quantile_side)
