"""Compile models on CPU and run samples through an async infer queue, handing results back in sample order."""
import logging
import os
import threading
from collections.abc import Callable, Iterable

import numpy as np
import openvino as ov
from tqdm import tqdm

from .errors import ModelError
from .graph import first_line

log = logging.getLogger("potq")

# f32: this CPU would otherwise run "FP32" models in bf16 and statistics would depend on the machine.
COMPILE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "THROUGHPUT"}


class Engine:
    """One ov.Core for the run; ``device`` is where statistics and evaluation run."""

    def __init__(self, device: str = "CPU"):
        self.core = ov.Core()
        self.device = device

    def compile(self, model: ov.Model, what: str = "model") -> ov.CompiledModel:
        try:
            return self.core.compile_model(model, self.device, COMPILE_CONFIG)
        except Exception as e:
            raise ModelError(f"OpenVINO cannot compile the {what} on {self.device}: {first_line(e)}") from e

    def run(self, compiled: ov.CompiledModel, samples: Iterable[tuple[int, dict]],
            handle: Callable[[int, list[np.ndarray]], None], requests: int | None = None,
            description: str = "", total: int | None = None) -> None:
        """Infer every ``(index, inputs)`` of ``samples``; call ``handle(index, outputs)`` in sample order.

        Results are processed by the calling thread in the order samples were given, so that floating-point
        accumulations (and hence the saved model) do not depend on which request finished first.
        """
        queue = ov.AsyncInferQueue(compiled, self.requests_number(compiled, requests))
        done: dict[int, list[np.ndarray] | BaseException] = {}
        lock = threading.Lock()
        n_outputs = len(compiled.outputs)

        def on_done(request, index):
            try:
                result = [np.copy(request.get_output_tensor(i).data) for i in range(n_outputs)]
            except BaseException as e:  # surfaced in the main thread
                result = e
            with lock:
                done[index] = result

        queue.set_callback(on_done)
        order: list[int] = []
        position = 0

        def drain(block: bool):
            nonlocal position
            if block:
                queue.wait_all()
            while position < len(order):
                with lock:
                    result = done.pop(order[position], None)
                if result is None:
                    return
                if isinstance(result, BaseException):
                    raise ModelError(f"inference failed on sample {order[position]}: {first_line(result)}") \
                        from result
                handle(order[position], result)
                position += 1
                progress.update(1)

        with tqdm(total=total, desc=description, unit="sample", disable=None, leave=False) as progress:
            try:
                for index, inputs in samples:
                    order.append(index)
                    try:
                        queue.start_async(inputs, userdata=index)
                    except Exception as e:
                        raise ModelError(f"inference failed on sample {index}: {first_line(e)}") from e
                    drain(block=len(order) - position > 4 * len(queue))
                drain(block=True)
            finally:
                queue.wait_all()

    @staticmethod
    def requests_number(compiled: ov.CompiledModel, requested: int | None) -> int:
        if requested is not None:
            return requested
        optimal = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        return max(1, min(int(optimal), os.cpu_count() or 1))
