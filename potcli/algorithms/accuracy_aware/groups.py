"""What AccuracyAwareQuantization reverts: groups of quantizers, and the model with a group reverted.

A *group* is the smallest set of FakeQuantize that must go together to put layers back in floating point:
a layer's weight quantizer, the activation quantizers that feed it (directly or through precision-agnostic
ops), and, because a removed activation quantizer un-quantizes every layer that reads it, the quantizers of
those layers too (connected components of the quantizer-layer graph).

A group reverted is ``Reverter.reverted_model``: its FakeQuantize removed and its layers' FP32 biases back.
"""
from dataclasses import dataclass

import numpy as np
import openvino as ov

from ...graph.disjoint_sets import DisjointSets
from ...graph.placement import QuantizationPlan
from ...graph.queries import constant_value, consumers, nodes_by_name
from ...graph.transform import remove_fake_quantize, set_biases
from ..bias_correction.shifts import find_bias_layers


@dataclass(frozen=True)
class QuantizerGroup:
    quantizers: frozenset[str]  # FakeQuantize names
    layers: tuple[str, ...]  # the quantized operations that run in floating point once the group is removed


def quantizer_groups(model: ov.Model, plan: QuantizationPlan, rules: dict) -> list[QuantizerGroup]:
    """Partition the plan's quantizers into groups that are reverted together (see the module docstring)."""
    nodes = nodes_by_name(model)
    quantized_ops = {w.node for w in plan.weights} | {
        node for q in plan.activations for node, _ in q.consumers if nodes[node].get_type_name() in rules["operations"]}
    by_layer: dict[str, set[str]] = {layer: set() for layer in quantized_ops}
    for weight in plan.weights:
        by_layer[weight.node].add(weight.name)
    for quantizer in plan.activations:
        for layer in _layers_reading(quantizer.consumers, nodes, quantized_ops, rules["agnostic"]):
            by_layer[layer].add(quantizer.name)
    together = DisjointSets()
    for names in by_layer.values():
        first, *rest = sorted(names)
        for other in rest:
            together.union(other, first)
    members: dict[str, set[str]] = {}
    for names in by_layer.values():
        for name in names:
            members.setdefault(together.find(name), set()).add(name)
    groups = []
    for quantizers in members.values():
        layers = tuple(sorted(layer for layer, names in by_layer.items() if names and names <= quantizers))
        groups.append(QuantizerGroup(frozenset(quantizers), layers))
    return sorted(groups, key=lambda g: (g.layers, sorted(g.quantizers)))


def _layers_reading(readers, nodes, quantized_ops: set[str], agnostic) -> set[str]:
    """Quantized ops that see this quantizer's output, looking through precision-agnostic ops."""
    found, todo = set(), [node for node, _ in readers]
    while todo:
        name = todo.pop()
        if name in quantized_ops:
            found.add(name)
        elif nodes[name].get_type_name() in agnostic:
            todo.extend(i.get_node().get_friendly_name() for out in nodes[name].outputs() for i in consumers(out))
    return found


class Reverter:
    """Models with quantizer groups put back in floating point."""

    def __init__(self, fp32: ov.Model, plan: QuantizationPlan):
        fp32_nodes = nodes_by_name(fp32)
        self.biases: dict[str, tuple[str, int, np.ndarray]] = {}  # layer -> its bias Add, port, FP32 value
        for layer in find_bias_layers(fp32, plan):
            if layer.bias_add:
                original = fp32_nodes[layer.bias_add].input_value(layer.bias_port)
                self.biases[layer.node] = (layer.bias_add, layer.bias_port, constant_value(original))

    def reverted_model(self, model: ov.Model, group: QuantizerGroup) -> ov.Model:
        """``model`` without the group's FakeQuantize, and with the FP32 biases of its layers back (bias
        correction had shifted them for a quantization error the layers no longer have)."""
        reverted = remove_fake_quantize(model, set(group.quantizers))
        restore = {(add, port): value for add, port, value in (self.biases[name] for name in group.layers
                                                               if name in self.biases)}
        return set_biases(reverted, restore) if restore else reverted
