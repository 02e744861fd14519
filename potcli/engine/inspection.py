"""What the CPU plugin really runs: which runtime layer executes each operation of a model, and in which precision.

The plugin fuses operations (a Convolution with its bias, activation and the following FakeQuantize; on CPUs
with AVX-512 VNNI a whole MatMul -> Softmax -> MatMul attention block into one Snippets ``Subgraph``) and its
low-precision transformations rename some (``<op>/DequantizationMultiply``). Which layer types appear depends
on the CPU, so "does this operation run in INT8?" is answered per operation: find the runtime layer whose
``originalLayersNames`` lists it and read that layer's ``runtimePrecision`` (u8 or i8: which one is the CPU's
business; AMX kernels take i8 where AVX2 kernels report u8).
"""
from collections import Counter
from dataclasses import dataclass

import openvino as ov

from ..graph.queries import compute_operations
from .inference import F32, Engine

INT8 = ("u8", "i8")
RENAMED_BY_LPT = "/Dequantization"  # <op>/DequantizationMultiply, <op>/DequantizationSubtract


@dataclass(frozen=True)
class RuntimeLayer:
    name: str
    layer_type: str
    precision: str
    original_names: tuple[str, ...]


def runtime_layers(compiled: ov.CompiledModel) -> list[RuntimeLayer]:
    layers = []
    for node in compiled.get_runtime_model().get_ordered_ops():
        info = node.get_rt_info()
        names = info["originalLayersNames"].astype(str) if "originalLayersNames" in info else ""
        layers.append(RuntimeLayer(node.get_friendly_name(),
                                   info["layerType"].astype(str) if "layerType" in info else node.get_type_name(),
                                   info["runtimePrecision"].astype(str) if "runtimePrecision" in info else "?",
                                   tuple(name for name in names.split(",") if name)))
    return layers


def executing_layer(operation: str, layers: list[RuntimeLayer]) -> RuntimeLayer | None:
    """The runtime layer that executes ``operation``: the one listing its name, else the one listing the name the
    low-precision transformations gave it; None if the plugin folded it away."""
    for matches in (lambda name: name == operation, lambda name: name.startswith(operation + RENAMED_BY_LPT)):
        for layer in layers:
            if any(matches(name) for name in layer.original_names):
                return layer
    return None


def operation_precisions(operations: list[str], layers: list[RuntimeLayer]) -> dict[str, dict]:
    """Per operation: the runtime layer executing it, its type and precision (all None if it was folded away)."""
    rows = {}
    for operation in operations:
        layer = executing_layer(operation, layers)
        rows[operation] = {"runtime_layer": layer.name if layer else None,
                           "layer_type": layer.layer_type if layer else None,
                           "precision": layer.precision if layer else None}
    return rows


def runtime_summary(engine: Engine, model: ov.Model) -> dict:
    """Compute operations by runtime precision, each one's runtime layer (``operations``), those left in floating
    point, and FakeQuantize layers the plugin could not fuse (should be none)."""
    compiled = engine.compile(model, "quantized model", F32)
    layers = runtime_layers(compiled)
    operations = operation_precisions(compute_operations(model), layers)
    executed = {name: row for name, row in operations.items() if row["precision"] is not None}
    by_precision = Counter(row["precision"] for row in executed.values())
    return {"compute_layers": len(executed),
            "int8_compute_layers": sum(by_precision[p] for p in INT8),
            "by_precision": dict(sorted(by_precision.items())),
            "floating_point_compute_layers": sorted(n for n, row in executed.items() if row["precision"] not in INT8),
            "standalone_fake_quantize": sum(layer.layer_type == "FakeQuantize" for layer in layers),
            "operations": operations}
