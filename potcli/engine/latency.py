"""How fast compiled models run on this CPU, measured fairly on a noisy machine."""
import statistics
import time

import numpy as np
import openvino as ov


def latencies_ms(compiled: dict[str, ov.CompiledModel], inputs: dict[str, dict | list | np.ndarray],
                 iterations: int) -> dict[str, float]:
    """Median single-request latency of each compiled model. The models take turns inference by inference,
    so that a noisy machine's drift hits all of them alike."""
    requests = {name: model.create_infer_request() for name, model in compiled.items()}
    for name, request in requests.items():
        request.infer(inputs[name])  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in compiled}
    for _ in range(iterations):
        for name, request in requests.items():
            start = time.perf_counter()
            request.infer(inputs[name])
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}
