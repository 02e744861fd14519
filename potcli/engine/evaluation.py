"""Evaluate a model with the user's Metric, in sample order, through the async infer queue."""
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import openvino as ov

from ..data.metric_calls import average_values, postprocessed, reset, sample_values, update
from ..data.samples import input_specs, output_names, prepared_sample
from .batching import RunCost, run_per_sample
from .inference import Engine


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]  # avg_value over the evaluated samples
    per_sample: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> value per evaluated sample
    outputs: dict[int, list[np.ndarray]] = field(default_factory=dict)  # kept model outputs by sample index
    cost: RunCost | None = None  # the compile and the inferences it took (None: run on a cluster)


KEPT_OUTPUT_BYTES = 256 << 20


def evaluate(engine: Engine, model: ov.Model, loader, metric, indices: Sequence[int], requests: int | None = None,
             per_sample: bool = False, keep_outputs: frozenset[int] = frozenset(),
             description: str = "Evaluation", *, postprocess=None) -> Evaluation:
    """The Metric's values for ``model`` over ``loader[i] for i in indices``.

    :param per_sample: also read the Metric's per-sample ``value`` after every update.
    :param keep_outputs: sample indices whose raw model outputs to keep (e.g. for ranking against FP32), in
        index order until KEPT_OUTPUT_BYTES are held.
    :param postprocess: POT's ``IEEngine.postprocess_output`` of the user's engine, applied before the Metric.
    """
    names = output_names(model)
    values: dict[str, list[float]] = {}
    kept: dict[int, list[np.ndarray]] = {}
    kept_bytes = 0

    def handle(index: int, outputs: list[np.ndarray], annotation, metadata) -> None:
        nonlocal kept_bytes
        update(metric, postprocessed(postprocess, names, outputs, metadata, index), annotation, index)
        if per_sample:
            for name, value in sample_values(metric).items():
                values.setdefault(name, []).append(value)
        size = sum(output.nbytes for output in outputs)
        if index in keep_outputs and kept_bytes + size <= KEPT_OUTPUT_BYTES:
            kept[index] = outputs
            kept_bytes += size

    reset(metric)
    cost = None
    if engine.remote is not None:
        engine.remote.per_sample(model, indices, handle, requests, description)
    else:
        cost = _run_here(engine, model, loader, indices, handle, requests, description)
    return Evaluation(average_values(metric), {name: np.asarray(v) for name, v in values.items()}, kept, cost)


def _run_here(engine: Engine, model: ov.Model, loader, indices: Sequence[int], handle, requests: int | None,
              description: str) -> RunCost:
    specs = input_specs(model)
    annotations: dict[int, tuple] = {}

    def samples():
        for index in indices:
            sample = prepared_sample(loader, index, specs)
            annotations[index] = sample.annotation, sample.metadata
            yield index, sample.inputs

    return run_per_sample(engine, model, samples(),
                          lambda index, outputs: handle(index, outputs, *annotations.pop(index)),
                          requests, description, len(indices), "model for evaluation")
