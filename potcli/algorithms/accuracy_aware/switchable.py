"""One compiled model on which every quantizer group can be measured reverted: the *switchable* model.

For each group g, the operations that read g's FakeQuantize (its layers, the precision-agnostic operations
between, and the layers' bias Adds) are copied in floating point, reading the FakeQuantize inputs and the
FP32 biases, and a ``Select(keep_g, quantized, copy)`` after them feeds the rest of the model; ``keep_g`` is a
boolean model input. Reverting g is feeding keep_g = False.

The quantized path is left as it was, so the CPU plugin still runs it with its INT8 kernels: every candidate
is measured as the CPU will run it (an emulation that bypasses each FakeQuantize with a Select keeps every
layer in f32 and, on CPUs without VNNI, misses what the INT8 kernels lose). Both paths run on every
inference, so one costs about an INT8 plus an FP32 inference, for a single compile.
"""
import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ...graph.queries import nodes_by_name
from ...graph.transform import copy_with_inputs
from .groups import QuantizerGroup

KEEP_INPUT = "potq_keep_{}"


def switchable_model(model: ov.Model, groups: list[QuantizerGroup], biases: dict, agnostic) -> ov.Model:
    """A copy of ``model`` where group g runs reverted when input ``potq_keep_g`` is False. ``biases`` maps a
    layer to its bias Add, port and FP32 bias (groups.Reverter.biases); ``agnostic`` are the operation types
    a FakeQuantize may sit in front of without being a layer's own."""
    switchable = model.clone()
    nodes = nodes_by_name(switchable)
    flags = []
    for index, group in enumerate(groups):
        flag = ops.parameter([], ov.Type.boolean, name=KEEP_INPUT.format(index))
        flag.output(0).get_tensor().set_names({KEEP_INPUT.format(index)})
        flags.append(flag)
        fp32_biases = {biases[layer][0]: biases[layer][1:] for layer in group.layers if layer in biases}
        region = _readers(nodes, group.quantizers, agnostic) | set(fp32_biases)
        ordered = [node for node in switchable.get_ordered_ops() if node.get_friendly_name() in region]
        copies = _floating_point_copies(ordered, group.quantizers, fp32_biases)
        for node in ordered:
            for output in node.outputs():
                outside = [i for i in output.get_target_inputs() if i.get_node().get_friendly_name() not in region]
                if outside:
                    choice = ops.select(flag, output, copies[node.get_friendly_name()].output(output.get_index()),
                                        name=f"{node.get_friendly_name()}/potq_switch")
                    for reader in outside:
                        reader.replace_source_output(choice.output(0))
    switchable.add_parameters(flags)
    switchable.validate_nodes_and_infer_types()
    return switchable


def keep_flags(count: int, reverted: int | None) -> dict[str, np.ndarray]:
    """Inputs of a switchable model with every group kept, except ``reverted`` (None: keep all; -1: none)."""
    return {KEEP_INPUT.format(i): np.array(reverted != -1 and i != reverted) for i in range(count)}


def _readers(nodes: dict[str, ov.Node], quantizers, agnostic) -> set[str]:
    """The operations that read the FakeQuantize ``quantizers``, through precision-agnostic ones."""
    found = set()
    todo = [i.get_node() for name in quantizers for i in nodes[name].output(0).get_target_inputs()]
    while todo:
        node = todo.pop()
        if node.get_friendly_name() in found:
            continue
        found.add(node.get_friendly_name())
        if node.get_type_name() in agnostic:
            todo.extend(i.get_node() for output in node.outputs() for i in output.get_target_inputs())
    return found


def _floating_point_copies(ordered: list[ov.Node], quantizers, fp32_biases: dict) -> dict[str, ov.Node]:
    """A copy of each of ``ordered`` (in topological order) that reads what the FakeQuantize ``quantizers``
    read and, for bias Adds, the FP32 bias."""
    copies: dict[str, ov.Node] = {}

    def source(value: ov.Output) -> ov.Output:
        node = value.get_node()
        name = node.get_friendly_name()
        if node.get_type_name() == "FakeQuantize" and name in quantizers:
            return node.input_value(0)
        return copies[name].output(value.get_index()) if name in copies else value

    for node in ordered:
        name = node.get_friendly_name()
        inputs = [source(value) for value in node.input_values()]
        if name in fp32_biases:
            port, value = fp32_biases[name]
            inputs[port] = ops.constant(np.asarray(value, np.float32), name=f"{name}/potq_fp32_bias").output(0)
        copies[name] = copy_with_inputs(node, inputs, f"{name}/potq_fp32")
    return copies
