"""What the CPU plugin really runs: precision of each compute layer, and how fast."""
import statistics
import time
from collections import Counter

import numpy as np
import openvino as ov

COMPUTE_LAYERS = {"Convolution", "GroupConvolution", "Deconvolution", "FullyConnected", "MatMul", "Gemm",
                  "ConvolutionBackpropData"}
INT8 = ("u8", "i8")


def runtime_summary(core: ov.Core, model: ov.Model) -> dict:
    """Counts of compute layers by runtime precision, and FakeQuantize ops the plugin could not fuse."""
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    by_precision: Counter = Counter()
    fp_layers, standalone_fq = [], 0
    for node in compiled.get_runtime_model().get_ordered_ops():
        info = node.get_rt_info()
        layer = info["layerType"].astype(str) if "layerType" in info else node.get_type_name()
        precision = info["runtimePrecision"].astype(str) if "runtimePrecision" in info else "?"
        if layer == "FakeQuantize":
            standalone_fq += 1
        if layer in COMPUTE_LAYERS:
            by_precision[precision] += 1
            if precision not in INT8:
                fp_layers.append(node.get_friendly_name())
    return {"compute_layers": sum(by_precision.values()),
            "int8_compute_layers": sum(n for p, n in by_precision.items() if p in INT8),
            "by_precision": dict(sorted(by_precision.items())),
            "floating_point_compute_layers": sorted(fp_layers),
            "standalone_fake_quantize": standalone_fq}


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
