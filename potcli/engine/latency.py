"""How fast compiled models run on this CPU, measured fairly on a noisy machine."""
import statistics
import time

import numpy as np
import openvino as ov

from ..data.samples import input_specs
from ..progress import progress
from .cpu import cpu_description
from .inference import F32_LATENCY, LATENCY, Engine

MIN_ROUNDS, MAX_ROUNDS = 5, 30


def latencies_ms(compiled: dict[str, ov.CompiledModel], inputs: dict[str, dict | list | np.ndarray],
                 iterations: int = MAX_ROUNDS, seconds: float | None = None) -> dict[str, float]:
    """Median single-request latency of each compiled model. The models take turns inference by inference,
    so that a noisy machine's drift hits all of them alike. With ``seconds``, stop after the round that
    exceeds it (but never before MIN_ROUNDS rounds)."""
    requests = {name: model.create_infer_request() for name, model in compiled.items()}
    for name, request in requests.items():
        request.infer(inputs[name])  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in compiled}
    started = time.perf_counter()
    with progress("Latency", iterations, "round") as meter:
        for round_number in range(iterations):
            for name, request in requests.items():
                start = time.perf_counter()
                request.infer(inputs[name])
                samples[name].append((time.perf_counter() - start) * 1000)
            meter.update(1)
            if seconds is not None and round_number + 1 >= MIN_ROUNDS and time.perf_counter() - started > seconds:
                break
    return {name: statistics.median(values) for name, values in samples.items()}


def compare_latency(engine: Engine, fp32: ov.Model, int8: ov.Model, seconds: float = 2.0) -> dict:
    """FP32 latency in f32 and at the CPU's default precision (bf16 where it has it: what a user compares
    against), INT8 latency at the default precision, and both speed-ups; with the CPU's ISA level."""
    compiled = {"fp32_f32": engine.compile(fp32, "FP32 model", F32_LATENCY),
                "fp32_default": engine.compile(fp32, "FP32 model", LATENCY),
                "int8": engine.compile(int8, "quantized model", LATENCY)}
    # zeros in input order (dynamic dimensions as 1): inputs without tensor names work too
    data = [np.zeros([d.get_length() if d.is_static else 1 for d in spec.shape], spec.dtype)
            for spec in input_specs(fp32)]
    measured = latencies_ms(compiled, dict.fromkeys(compiled, data), seconds=seconds)
    default = compiled["fp32_default"].get_property("INFERENCE_PRECISION_HINT").get_type_name()
    return {**cpu_description(), "default_precision": default,
            **{f"{key}_ms": round(value, 4) for key, value in measured.items()},
            "speedup_vs_f32": round(measured["fp32_f32"] / measured["int8"], 3),
            "speedup_vs_default": round(measured["fp32_default"] / measured["int8"], 3)}
