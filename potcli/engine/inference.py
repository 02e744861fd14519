"""Compile models on CPU and run samples through an async infer queue, handing results back in sample order."""
import collections
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import openvino as ov
from ..errors import ModelError, first_line
from ..progress import progress
from .remote import RemoteRuns

log = logging.getLogger("potq")

# Every compile of potq goes through Engine.compile with one of these. f32: a CPU with BF16 would otherwise run
# "FP32" models in bf16, and statistics, corrections and metrics would depend on the machine.
F32 = {"INFERENCE_PRECISION_HINT": "f32"}
F32_THROUGHPUT = {**F32, "PERFORMANCE_HINT": "THROUGHPUT"}  # statistics and evaluation: many requests in flight
# Latency of one request as a user's application sees it: no precision hint, the runtime chooses (bf16 where it can).
LATENCY = {"PERFORMANCE_HINT": "LATENCY"}
F32_LATENCY = {**F32, **LATENCY}
READ_AHEAD_BYTES = 64 << 20  # inputs reading_while reads while the model compiles, at most
T = TypeVar("T")


def reading_while(work: Callable[[], T], samples: Iterable[tuple[int, dict]]) -> tuple[T, Iterator]:
    """``work()`` (a compile) in another thread while this one reads the first ``samples``, up to READ_AHEAD_BYTES
    of inputs: a compile keeps about one core busy, and a DataLoader that decodes images can use the other. The
    loader is still called from this thread only; its error is raised once ``work`` is over. Returns what
    ``work`` returned and all of ``samples``, those read included."""
    samples = iter(samples)
    ahead: list[tuple[int, dict]] = []
    with ThreadPoolExecutor(1, thread_name_prefix="potq-compile") as pool:
        working = pool.submit(work)
        held = 0
        while not working.done() and held < READ_AHEAD_BYTES:
            sample = next(samples, None)
            if sample is None:
                break
            ahead.append(sample)
            held += sum(np.asarray(value).nbytes for value in sample[1].values())
        result = working.result()
    return result, itertools.chain(ahead, samples)


class Engine:
    """One ov.Core for the run; ``device`` is where statistics and evaluation run. With a ``remote``, evaluation
    and statistics passes run on a cluster's workers instead (remote.py); everything else stays here."""

    def __init__(self, device: str = "CPU", remote: RemoteRuns | None = None):
        self.core = ov.Core()
        self.device = device
        self.remote = remote

    def compile(self, model: ov.Model, what: str = "model", config: dict = F32_THROUGHPUT) -> ov.CompiledModel:
        try:
            return self.core.compile_model(model, self.device, config)
        except Exception as e:
            raise ModelError(f"OpenVINO cannot compile the {what} on {self.device}: {first_line(e)}") from e

    def run(self, compiled: ov.CompiledModel, samples: Iterable[tuple[int, dict]],
            handle: Callable[[int, list[np.ndarray]], None], requests: int | None = None,
            description: str = "", total: int | None = None, unit: str = "sample", shown: bool = True,
            copied: bool = True) -> None:
        """Infer every ``(index, inputs)`` of ``samples``; call ``handle(index, outputs)`` in sample order
        (``shown`` False: no progress of its own, the caller shows it; ``copied`` False: the outputs are the
        request's own buffers, valid until ``handle`` returns, for a handler that keeps none of them).

        A ring of infer requests keeps several samples in flight; the oldest is always finished first, so
        results are processed by the calling thread in sample order (floating-point accumulations, and hence
        the saved model, do not depend on timing) and no Python callback ever runs on an OpenVINO thread.
        """
        ring = [compiled.create_infer_request() for _ in range(self.requests_number(compiled, requests))]
        log.debug("%s: %s inferences on %d requests", description or "inference", total, len(ring))
        in_flight: collections.deque[tuple[int, ov.InferRequest]] = collections.deque()
        with progress(description, total, unit, shown) as meter:
            try:
                for position, (index, inputs) in enumerate(samples):
                    if len(in_flight) == len(ring):
                        self._finish(*in_flight.popleft(), handle, copied)
                        meter.update(1)
                    request = ring[position % len(ring)]
                    try:
                        request.start_async(inputs)
                    except Exception as e:
                        raise ModelError(f"inference failed on sample {index}: {first_line(e)}") from e
                    in_flight.append((index, request))
                while in_flight:
                    self._finish(*in_flight.popleft(), handle, copied)
                    meter.update(1)
            finally:
                for _, request in in_flight:  # never leave a request running behind an exception
                    request.wait()

    def compile_and_run(self, model: ov.Model, what: str, samples: Iterable[tuple[int, dict]],
                        handle: Callable[[int, list[np.ndarray]], None], requests: int | None = None,
                        description: str = "", total: int | None = None, unit: str = "sample",
                        copied: bool = True) -> None:
        """``run`` on ``model`` compiled, the first samples read while it compiles (``reading_while``)."""
        compiled, samples = reading_while(lambda: self.compile(model, what), samples)
        self.run(compiled, samples, handle, requests, description, total, unit, copied=copied)

    @staticmethod
    def _finish(index: int, request: ov.InferRequest, handle, copied: bool) -> None:
        try:
            request.wait()
            outputs = [tensor.data for tensor in request.output_tensors]
            if copied:
                outputs = [np.copy(output) for output in outputs]
        except Exception as e:
            raise ModelError(f"inference failed on sample {index}: {first_line(e)}") from e
        handle(index, outputs)

    @staticmethod
    def requests_number(compiled: ov.CompiledModel, requested: int | None) -> int:
        """``requested``, else two per stream (the runtime's optimal number, at most one per core): while this
        thread reads the next sample and handles a result, every stream still has one queued. One per stream left
        a stream idle for each sample's read (PP-OCRv4 detector, AVX2: 11.6 -> 11.3 s; resnet_like 17.7 -> 17.3)."""
        if requested is not None:
            return requested
        optimal = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        return 2 * max(1, min(int(optimal), os.cpu_count() or 1))

