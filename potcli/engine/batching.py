"""Per-sample work (evaluation, ranking) run as batched inferences when the model allows it.

Small models spend most of their time in per-inference overhead; stacking samples along the batch dimension
cuts it. The callback still receives one sample's outputs at a time (sliced from the batch), in order, so a
Metric sees exactly what it would see unbatched. Models whose batch dimension cannot be made dynamic run one
sample at a time.
"""
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import openvino as ov

from .inference import Engine, reading_while

BATCH_INPUT_BYTES = 4 << 20  # input bytes per batched inference
MAX_BATCH = 64


@dataclass(frozen=True)
class PerSampleModel:
    """A model compiled for per-sample work: batched (``batch`` > 1) where its batch dimension allows it."""

    compiled: ov.CompiledModel
    batch: int
    compile_seconds: float


@dataclass(frozen=True)
class RunCost:
    """What a per-sample run took: its compile, its inferences (wall seconds) and how many samples."""

    compile_seconds: float
    run_seconds: float
    samples: int


def run_per_sample(engine: Engine, model: ov.Model, samples: Iterable[tuple[int, dict]],
                   handle: Callable[[int, list[np.ndarray]], None], requests: int | None, description: str,
                   total: int, what: str) -> RunCost:
    """``engine.run`` over ``samples`` in batches where possible; ``handle(index, outputs)`` per sample (the first
    samples read while the model compiles)."""
    compiled, samples = reading_while(lambda: compile_per_sample(engine, model, what), samples)
    seconds = run_compiled_per_sample(engine, compiled, samples, handle, requests, description, total)
    return RunCost(compiled.compile_seconds, seconds, total)


def per_sample_batch(model: ov.Model) -> int:
    """How many samples ``compile_per_sample`` puts in one inference of ``model`` at most."""
    batch = batch_size(model)
    return batch if batch > 1 and with_dynamic_batch(model) is not None else 1


def compile_per_sample(engine: Engine, model: ov.Model, what: str) -> PerSampleModel:
    """``model`` compiled for ``run_compiled_per_sample`` (safe to call from another thread while the engine
    runs)."""
    batch = batch_size(model)
    batched = with_dynamic_batch(model) if batch > 1 else None
    started = time.perf_counter()
    compiled = engine.compile(batched if batched is not None else model, what)
    return PerSampleModel(compiled, batch if batched is not None else 1, time.perf_counter() - started)


def run_compiled_per_sample(engine: Engine, model: PerSampleModel, samples: Iterable[tuple[int, dict]],
                            handle: Callable[[int, list[np.ndarray]], None], requests: int | None,
                            description: str, total: int, shown: bool = True) -> float:
    """Run ``total`` samples on ``model``, ``handle(index, outputs)`` per sample; the wall seconds it took.

    A batch is never so large that a request would stay idle (``total`` split over the requests), and holds
    only consecutive samples whose scalar (rank-0) inputs are equal: scalars are not batched.
    """
    started = time.perf_counter()
    ring = engine.requests_number(model.compiled, requests)
    batch = min(model.batch, max(1, math.ceil(total / ring)))
    if batch == 1:
        engine.run(model.compiled, samples, handle, ring, description, total, shown=shown)
        return time.perf_counter() - started
    members: dict[int, list[int]] = {}

    def stacked():
        chunk = []
        for index, inputs in samples:
            if chunk and (len(chunk) == batch or not _same_scalars(chunk[0][1], inputs)):
                yield _pack(chunk, members)
                chunk = []
            chunk.append((index, inputs))
        if chunk:
            yield _pack(chunk, members)

    def unpack(first: int, outputs: list[np.ndarray]) -> None:
        for position, index in enumerate(members.pop(first)):
            handle(index, [output[position:position + 1] for output in outputs])

    engine.run(model.compiled, stacked(), unpack, ring, f"{description} ({batch} per batch)",
               math.ceil(total / batch), "batch", shown=shown)
    return time.perf_counter() - started


def batch_size(model: ov.Model) -> int:
    sample_bytes = 0
    for port in model.inputs:
        shape = port.get_partial_shape()
        if shape.rank.is_dynamic:
            return 1
        dims = [d.get_length() if d.is_static else 1 for d in shape]
        sample_bytes += int(np.prod(dims[1:] if dims else [1])) * port.get_element_type().size
    return max(1, min(MAX_BATCH, BATCH_INPUT_BYTES // max(sample_bytes, 1)))


def with_dynamic_batch(model: ov.Model) -> ov.Model | None:
    """A copy of ``model`` with a dynamic batch (first) dimension, or None unless every output's first
    dimension provably follows the batch (checked by reshaping a copy to batch 2)."""
    if _reshaped(model, ov.Dimension(2), check=True) is None:
        return None
    return _reshaped(model, ov.Dimension(), check=False)


def _reshaped(model: ov.Model, batch: ov.Dimension, check: bool) -> ov.Model | None:
    copy = model.clone()
    shapes = {}
    for port in copy.inputs:
        shape = port.get_partial_shape()
        if shape.rank.is_dynamic:
            return None
        if len(shape) == 0:
            continue  # scalars are not batched
        if shape[0].is_static and shape[0].get_length() != 1:
            return None
        shape[0] = batch
        shapes[port] = shape
    try:
        copy.reshape(shapes)
    except Exception:  # a Reshape with a hard-coded batch, for instance: run unbatched
        return None
    if check and not all(out.get_partial_shape().rank.is_static and len(out.get_partial_shape()) > 0
                         and out.get_partial_shape()[0] == batch for out in copy.outputs):
        return None
    return copy


def _same_scalars(first: dict, other: dict) -> bool:
    return all(np.array_equal(value, other[name]) for name, value in first.items() if np.ndim(value) == 0)


def _pack(chunk: list[tuple[int, dict]], members: dict[int, list[int]]) -> tuple[int, dict]:
    first = chunk[0][0]
    members[first] = [index for index, _ in chunk]
    inputs = {name: value if np.ndim(value) == 0 else np.concatenate([sample[name] for _, sample in chunk])
              for name, value in chunk[0][1].items()}
    return first, inputs
