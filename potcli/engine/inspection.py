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

from ..graph.queries import COMPUTE_TYPES, compute_operations, nodes_by_name
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


RUNTIME_COMPUTE_TYPES = {"Convolution", "GroupConvolution", "Deconvolution", "FullyConnected", "MatMul", "Gemm"}


def executing_layer(operation: str, layers: list[RuntimeLayer], followers: tuple[str, ...] = ()) -> RuntimeLayer | None:
    """The runtime layer that executes ``operation``: the one listing its name, else the one listing the name the
    low-precision transformations gave it, else the compute layer listing an operation that reads its output (the
    plugin folds a batch norm into a convolution under the Multiply's name, losing the convolution's); None if
    the plugin folded it away."""
    for matches in (lambda name: name == operation, lambda name: name.startswith(operation + RENAMED_BY_LPT)):
        for layer in layers:
            if any(matches(name) for name in layer.original_names):
                return layer
    for follower in followers:
        for layer in layers:
            if layer.layer_type in RUNTIME_COMPUTE_TYPES and follower in layer.original_names:
                return layer
    return None


def operation_precisions(operations: list[str], layers: list[RuntimeLayer],
                         followers: dict[str, tuple[str, ...]] | None = None) -> dict[str, dict]:
    """Per operation: the runtime layer executing it, its type and precision (all None if it was folded away).
    ``followers``: per operation, the operations that read its output (the fallback of ``executing_layer``)."""
    rows = {}
    for operation in operations:
        layer = executing_layer(operation, layers, (followers or {}).get(operation, ()))
        rows[operation] = {"runtime_layer": layer.name if layer else None,
                           "layer_type": layer.layer_type if layer else None,
                           "precision": layer.precision if layer else None}
    return rows


FOLLOWER_HOPS = 4


def _followers(model: ov.Model, operations: list[str]) -> dict[str, tuple[str, ...]]:
    """Per operation, what reads its output within FOLLOWER_HOPS steps (bias Add, batch norm, activation: what the
    plugin folds into it), nearest first, not looking past another compute operation."""
    nodes = nodes_by_name(model)
    found = {}
    for name in operations:
        names, frontier = [], [nodes[name]]
        for _ in range(FOLLOWER_HOPS):
            frontier = [reader.get_node() for node in frontier for output in node.outputs()
                        for reader in output.get_target_inputs()
                        if reader.get_node().get_type_name() not in COMPUTE_TYPES]
            names += [node.get_friendly_name() for node in frontier]
        found[name] = tuple(names)
    return found


def runtime_summary(engine: Engine, model: ov.Model) -> dict:
    """Compute operations by runtime precision, each one's runtime layer (``operations``), those left in floating
    point, and FakeQuantize layers the plugin could not fuse (should be none)."""
    compiled = engine.compile(model, "quantized model", F32)
    layers = runtime_layers(compiled)
    names = compute_operations(model)
    operations = operation_precisions(names, layers, _followers(model, names))
    executed = {name: row for name, row in operations.items() if row["precision"] is not None}
    by_precision = Counter(row["precision"] for row in executed.values())
    return {"compute_layers": len(executed),
            "int8_compute_layers": sum(by_precision[p] for p in INT8),
            "by_precision": dict(sorted(by_precision.items())),
            "floating_point_compute_layers": sorted(n for n, row in executed.items() if row["precision"] not in INT8),
            "standalone_fake_quantize": sum(layer.layer_type == "FakeQuantize" for layer in layers),
            "operations": operations}
