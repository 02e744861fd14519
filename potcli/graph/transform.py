"""Graph edits through OpenVINO's own API: insert FakeQuantize, set biases, store weights as int8.

Every function returns a new model and leaves the one it was given unchanged.
"""
import numpy as np
import openvino as ov
import openvino.opset13 as ops
from openvino._offline_transformations import compress_quantize_weights_transformation
from openvino.passes import ConstantFolding, Manager
from openvino.utils.node_factory import NodeFactory

from ..statistics.ranges import FQParams
from .placement import QuantizationPlan
from .queries import nodes_by_name, tensors_by_name


def fold_constants(model: ov.Model) -> ov.Model:
    """A copy of ``model`` with every subgraph that needs no input computed into a constant.

    Exporters leave shape arithmetic (ShapeOf, Concat, Broadcast) that feeds Reshapes of weights and biases; once
    the input shape is static it is constant, and folding it lets placement see a bias Add as an Add of a constant
    and a GroupConvolution's reshaped weights as weights (POT ran Model Optimizer's folding for the same reason).
    """
    folded = model.clone()
    manager = Manager()
    manager.register_pass(ConstantFolding())
    manager.run_passes(folded)
    return folded


def insert_fake_quantize(model: ov.Model, plan: QuantizationPlan, params: dict[str, FQParams]) -> ov.Model:
    """A copy of ``model`` with a FakeQuantize for every quantizer of ``plan`` (named as the plan names it)."""
    quantized = model.clone()
    nodes = nodes_by_name(quantized)
    tensors = tensors_by_name(quantized)
    for quantizer in plan.activations:
        fq = _fake_quantize(tensors[quantizer.source], params[quantizer.name], quantizer.name)
        for node, port in quantizer.consumers:
            nodes[node].input(port).replace_source_output(fq)
    for quantizer in plan.weights:
        node = nodes[quantizer.node]
        fq = _fake_quantize(node.input_value(quantizer.port), params[quantizer.name], quantizer.name)
        node.input(quantizer.port).replace_source_output(fq)
    quantized.validate_nodes_and_infer_types()
    return quantized


def _fake_quantize(source: ov.Output, params: FQParams, name: str) -> ov.Output:
    low = ops.constant(np.asarray(params.input_low, np.float32), name=f"{name}/input_low")
    high = ops.constant(np.asarray(params.input_high, np.float32), name=f"{name}/input_high")
    out_low = ops.constant(np.asarray(params.output_low, np.float32), name=f"{name}/output_low")
    out_high = ops.constant(np.asarray(params.output_high, np.float32), name=f"{name}/output_high")
    return ops.fake_quantize(source, low, high, out_low, out_high, params.levels, name=name).output(0)


def remove_fake_quantize(model: ov.Model, names: set[str]) -> ov.Model:
    """A copy of ``model`` in which the named FakeQuantize nodes are bypassed (their input read directly)."""
    reverted = model.clone()
    for node in reverted.get_ordered_ops():
        if node.get_type_name() == "FakeQuantize" and node.get_friendly_name() in names:
            node.output(0).replace(node.input_value(0))
    reverted.validate_nodes_and_infer_types()
    return reverted


def copy_with_inputs(node: ov.Node, inputs: list[ov.Output], name: str) -> ov.Node:
    """A new operation of ``node``'s type, version and attributes that reads ``inputs``."""
    copy = NodeFactory(node.get_type_info().version_id).create(node.get_type_name(), inputs, node.get_attributes())
    copy.set_friendly_name(name)
    return copy


def set_biases(model: ov.Model, biases: dict[tuple[str, int], np.ndarray]) -> ov.Model:
    """A copy of ``model`` where input ``port`` of each named Add reads the given constant."""
    updated = model.clone()
    nodes = nodes_by_name(updated)
    for (add, port), value in sorted(biases.items()):
        constant = ops.constant(np.asarray(value, np.float32), name=f"{add}/bias")
        nodes[add].input(port).replace_source_output(constant.output(0))
    updated.validate_nodes_and_infer_types()
    return updated


def add_biases(model: ov.Model, biases: dict[str, np.ndarray]) -> ov.Model:
    """A copy of ``model`` where each named node's output goes through a new ``Add`` of the given constant."""
    updated = model.clone()
    nodes = nodes_by_name(updated)
    for name, value in sorted(biases.items()):
        output = nodes[name].output(0)
        readers = list(output.get_target_inputs())
        added = ops.add(output, ops.constant(np.asarray(value, np.float32), name=f"{name}/bias_value"),
                        name=f"{name}/bias")
        for reader in readers:
            reader.replace_source_output(added.output(0))
    updated.validate_nodes_and_infer_types()
    return updated


def compress_weights(model: ov.Model) -> ov.Model:
    """A copy of ``model`` whose weight FakeQuantizes are folded into int8 constants with a dequantization.

    This is OpenVINO's own transformation for exactly this (POT and NNCF use it too); the .bin shrinks ~4x.
    """
    compressed = model.clone()
    named = {node.get_friendly_name() for node in compressed.get_ordered_ops()}
    compress_quantize_weights_transformation(compressed)
    _name_new_nodes(compressed, named)
    return compressed


def _name_new_nodes(model: ov.Model, known: set[str]) -> None:
    """Name nodes a transformation created after their consumer (their generated names count up per process).

    Same inputs must give byte-identical IR files, even for a second quantization in the same process.
    """
    for node in reversed(model.get_ordered_ops()):
        if node.get_friendly_name() in known or node.get_type_name() in ("Parameter", "Result"):
            continue
        reader = min(((i.get_node().get_friendly_name(), i.get_index()) for out in node.outputs()
                      for i in out.get_target_inputs()), default=("model", 0))
        node.set_friendly_name(f"{reader[0]}/{node.get_type_name().lower()}_{reader[1]}")
