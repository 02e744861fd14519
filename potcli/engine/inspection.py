"""What the CPU plugin really runs: the precision of each compute layer of a compiled model."""
from collections import Counter

import openvino as ov

from .inference import F32, Engine

COMPUTE_LAYERS = {"Convolution", "GroupConvolution", "Deconvolution", "FullyConnected", "MatMul", "Gemm",
                  "ConvolutionBackpropData"}
INT8 = ("u8", "i8")


def runtime_summary(engine: Engine, model: ov.Model) -> dict:
    """Counts of compute layers by runtime precision, and FakeQuantize ops the plugin could not fuse."""
    compiled = engine.compile(model, "quantized model", F32)
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
