"""What an IR holds, read from its graph alone: FakeQuantize (levels, what they feed), the weights of compute
operations by stored element type, and compute operations whose inputs are not all quantized.

It reads any IR the same way: potq's and NNCF's (weights stored as int8 with a Convert and a scale), POT's
(weights behind a FakeQuantize, stored in f32 or int8), a model saved in f16, or a plain FP32 one.
"""
from collections import Counter

import openvino as ov

from ..rules import device_rules
from .queries import COMPUTE_TYPES

# Between a stored weight constant and the operation reading it: decompression (Convert, zero point, scale),
# layout changes, and a weight FakeQuantize. Input 0 of each is the data path back to the constant.
WEIGHT_PATH = {"Convert", "Subtract", "Multiply", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "FakeQuantize"}
INT8_STORAGE = ("i8", "u8", "i4", "u4")
WEIGHT_PORTS = {"Convolution": (1,), "GroupConvolution": (1,), "ConvolutionBackpropData": (1,), "MatMul": (0, 1)}


def survey_model(model: ov.Model) -> dict:
    """FakeQuantize, weights and compute operations of ``model``, as plain data (see module docstring)."""
    agnostic = set(device_rules("CPU")["agnostic"])
    quantizers = [_fake_quantize(node) for node in model.get_ordered_ops() if node.get_type_name() == "FakeQuantize"]
    operations = {}
    for node in model.get_ordered_ops():
        if node.get_type_name() in COMPUTE_TYPES:
            operations[node.get_friendly_name()] = _compute_operation(node, agnostic)
    weights = [row["weights"] for row in operations.values() if row["weights"]]
    by_type: dict[str, dict] = {}
    for weight in weights:
        entry = by_type.setdefault(weight["element_type"], {"count": 0, "bytes": 0})
        entry["count"] += 1
        entry["bytes"] += weight["bytes"]
    return {
        "operations": len(model.get_ordered_ops()),
        "fake_quantize": {"count": len(quantizers),
                          "by_levels": {str(k): v for k, v in sorted(Counter(q["levels"] for q in quantizers).items())},
                          "feeds": dict(sorted(Counter(f["type"] for q in quantizers for f in q["feeds"]).items())),
                          "quantizers": quantizers},
        "weights": dict(sorted(by_type.items())),
        "compute_operations": operations,
        "floating_point_compute": sorted(name for name, row in operations.items() if not row["quantized"]),
    }


def _fake_quantize(node: ov.Node) -> dict:
    feeds = sorted((i.get_node().get_friendly_name(), i.get_node().get_type_name(), i.get_index())
                   for i in node.output(0).get_target_inputs())
    return {"name": node.get_friendly_name(), "levels": int(node.get_attributes()["levels"]),
            "feeds": [{"node": name, "type": kind, "port": port} for name, kind, port in feeds]}


def _compute_operation(node: ov.Node, agnostic: set[str]) -> dict:
    """Type, weights (if constant) and whether every input is quantized; ``why`` names the first that is not."""
    weights, activations = None, []
    for port in range(min(node.get_input_size(), 2)):
        found = _weight_constant(node.input_value(port)) if port in WEIGHT_PORTS[node.get_type_name()] else None
        if found is not None and weights is None:
            weights = _weight_row(*found)
        else:
            activations.append(port)
    why = next((f"input {port} has no FakeQuantize" for port in activations
                if not _fake_quantized(node.input_value(port), agnostic)), None)
    if why is None and weights is not None and not weights["quantized"]:
        why = f"weights are {weights['element_type']} without a FakeQuantize"
    return {"type": node.get_type_name(), "weights": weights, "quantized": why is None, "why": why}


def _weight_constant(output: ov.Output) -> tuple[ov.Node, bool] | None:
    """The Constant a weight input is stored in, and whether a FakeQuantize is on the way; None for activations."""
    node, through_fake_quantize = output.get_node(), False
    while node.get_type_name() in WEIGHT_PATH:
        through_fake_quantize |= node.get_type_name() == "FakeQuantize"
        node = node.input_value(0).get_node()
    return (node, through_fake_quantize) if node.get_type_name() == "Constant" else None


def _weight_row(constant: ov.Node, through_fake_quantize: bool) -> dict:
    element_type = constant.get_output_element_type(0).get_type_name()
    shape = [int(d) for d in constant.get_output_shape(0)]
    return {"constant": constant.get_friendly_name(), "element_type": element_type, "shape": shape,
            "bytes": int(constant.get_byte_size()),
            "quantized": through_fake_quantize or element_type in INT8_STORAGE}


def _fake_quantized(output: ov.Output, agnostic: set[str]) -> bool:
    """Whether ``output`` comes from a FakeQuantize, possibly through precision-agnostic operations."""
    node = output.get_node()
    while node.get_type_name() in agnostic and node.get_type_name() != "Concat":
        node = node.input_value(0).get_node()
    if node.get_type_name() == "Concat":
        return all(_fake_quantized(node.input_value(i), agnostic) for i in range(node.get_input_size()))
    return node.get_type_name() == "FakeQuantize"
