"""Recognising model families by structure: attention blocks mark a transformer.

An attention block is a ScaledDotProductAttention operation, or a Softmax between two MatMuls of activations
(scores = Q.K^T, scaled and masked; context = P.V), looking through the elementwise and shape operations that
exporters put between them.
"""
from collections.abc import Iterator

import openvino as ov

from .queries import consumers, is_constant

# What exporters put between the scores MatMul, the Softmax and the context MatMul (scale, mask, reshapes).
BETWEEN_ATTENTION_OPS = {"Add", "Multiply", "Divide", "Subtract", "Reshape", "Transpose", "Convert", "Select",
                         "Squeeze", "Unsqueeze", "Concat", "Split", "VariadicSplit"}
MAX_HOPS = 6


def attention_blocks(model: ov.Model) -> list[str]:
    """Names of the operations that make attention blocks: each ScaledDotProductAttention, and each Softmax
    fed by a MatMul of two activations and feeding one."""
    found = []
    for node in model.get_ordered_ops():
        kind = node.get_type_name()
        if kind == "ScaledDotProductAttention":
            found.append(node.get_friendly_name())
        elif kind == "Softmax" and _reaches_activation_matmul(node, upstream=True) \
                and _reaches_activation_matmul(node, upstream=False):
            found.append(node.get_friendly_name())
    return found


def transformer_evidence(model: ov.Model) -> str | None:
    """Why ``model`` is a transformer (e.g. "6 attention blocks found"), or None if it shows no attention."""
    blocks = attention_blocks(model)
    if not blocks:
        return None
    return f"{len(blocks)} attention block{'s' if len(blocks) > 1 else ''} found"


def _reaches_activation_matmul(start: ov.Node, upstream: bool) -> bool:
    frontier, seen = [start], {start.get_friendly_name()}
    for _ in range(MAX_HOPS):
        following = []
        for node in frontier:
            for neighbour in _neighbours(node, upstream):
                name = neighbour.get_friendly_name()
                if name in seen:
                    continue
                seen.add(name)
                if neighbour.get_type_name() == "MatMul":
                    if not any(is_constant(neighbour.input_value(i)) for i in range(2)):
                        return True
                elif neighbour.get_type_name() in BETWEEN_ATTENTION_OPS:
                    following.append(neighbour)
        frontier = following
    return False


def _neighbours(node: ov.Node, upstream: bool) -> Iterator[ov.Node]:
    if upstream:
        for i in range(node.get_input_size()):
            yield node.input_value(i).get_node()
    else:
        for output in node.outputs():
            for reader in consumers(output):
                yield reader.get_node()
