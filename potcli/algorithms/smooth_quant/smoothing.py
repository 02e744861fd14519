"""SmoothQuant: move activation outliers into the weights of the MatMuls that read them, keeping the FP32 function.

For MatMul layers with constant weights W reading an activation X, per channel j of X's contracted axis:

    s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)

X is divided by s (one Multiply inserted between X and those layers) and W's matching input channel is multiplied
by s, so X.W = (X / s).(s W). A few outlier channels of X otherwise set the range of its per-tensor quantizer and
crush every other channel; after smoothing they are absorbed by the weights, which are quantized per output
channel. Layers reading the same tensor (query, key and value, say) share one scale, computed with the largest of
their weight statistics, so that one Multiply serves them all.
"""
from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ...graph.queries import constant_value, consumers, dims, is_constant, nodes_by_name, port_name, tensors_by_name
from ...statistics.ranges import along_axis
from ...statistics.streaming import TensorStatistic
from ..derived import ChannelMap

STATISTIC_FLOOR = 1e-5  # an all-zero channel must not divide by zero
SCALE_LIMITS = (1e-2, 1e2)  # a scale beyond these would move more range than quantization can absorb


@dataclass(frozen=True)
class SmoothedLayer:
    node: str  # a MatMul with constant weights on input 1
    weight_axis: int  # the axis of its weights contracted with the activation's channel axis


@dataclass(frozen=True)
class SmoothGroup:
    tensor: str  # graph.port_name of the activation every layer of the group reads on input 0
    channel_axis: int  # the activation's contracted axis (non-negative)
    channels: int  # its length
    shape: tuple[int, ...]  # the activation's, -1 where dynamic
    layers: tuple[SmoothedLayer, ...]

    @property
    def smoothed_tensor(self) -> str:
        """The port_name of X / s in the smoothed model: what the group's layers read there."""
        return f"{self.tensor}/smooth_quant"

    @property
    def channel_map(self) -> ChannelMap:
        return ChannelMap(self.tensor, self.smoothed_tensor, self.channel_axis, self.channels, self.shape, False)

    @property
    def statistic(self) -> TensorStatistic:
        """max over samples of the per-channel |X| maximum of each sample."""
        return TensorStatistic(self.tensor, "abs_max", self.channel_axis, "max")


def find_smooth_groups(model: ov.Model, layers: set[str] | None = None) -> list[SmoothGroup]:
    """MatMuls (all, or those named in ``layers``) whose input 1 is a constant read by nothing else, grouped by
    the activation they read on input 0."""
    groups: dict[tuple[str, int, int, int], list[SmoothedLayer]] = {}
    for node in model.get_ordered_ops():
        name = node.get_friendly_name()
        if node.get_type_name() != "MatMul" or (layers is not None and name not in layers):
            continue
        activation, weights = node.input_value(0), node.input_value(1)
        if is_constant(activation) or not is_constant(weights) or len(consumers(weights)) != 1 \
                or not activation.get_element_type().is_real():
            continue
        shape = activation.get_partial_shape()
        if shape.rank.is_dynamic or len(shape) < 2 or len(weights.get_shape()) < 2:
            continue
        attributes = node.get_attributes()
        channel_axis = len(shape) - 2 if attributes["transpose_a"] else len(shape) - 1
        rank = len(weights.get_shape())
        weight_axis = rank - 1 if attributes["transpose_b"] else rank - 2
        if shape[channel_axis].is_dynamic:
            continue
        key = (port_name(activation), channel_axis, shape[channel_axis].get_length(), dims(activation))
        groups.setdefault(key, []).append(SmoothedLayer(name, weight_axis))
    return [SmoothGroup(*key, tuple(members)) for key, members in sorted(groups.items())]


def smoothing_scales(group: SmoothGroup, activation_max: np.ndarray, model: ov.Model, alpha: float) -> np.ndarray:
    """The per-channel scale s of ``group`` from its activation statistic and its layers' weights."""
    nodes = nodes_by_name(model)
    weight_max = np.max([_weight_max(nodes[layer.node], layer.weight_axis) for layer in group.layers], axis=0)
    activations = np.maximum(np.asarray(activation_max, np.float64).reshape(-1), STATISTIC_FLOOR)
    weights = np.maximum(weight_max, STATISTIC_FLOOR)
    return np.clip(activations ** alpha / weights ** (1.0 - alpha), *SCALE_LIMITS)


def _weight_max(node: ov.Node, axis: int) -> np.ndarray:
    weights = np.abs(constant_value(node.input_value(1)).astype(np.float64))
    return np.max(weights, axis=tuple(a for a in range(weights.ndim) if a != axis))


def inverse_scale(scale: np.ndarray) -> np.ndarray:
    """1 / s as the smoothed model holds it (X / s is computed as X times this float32 constant)."""
    return (1.0 / scale).astype(np.float32)


def apply_smoothing(model: ov.Model, groups: list[SmoothGroup], scales: dict[str, np.ndarray]) -> ov.Model:
    """A copy of ``model`` where each group's activation is divided by its scale (one Multiply, whose output is
    the group's ``smoothed_tensor``) and its layers' weights multiplied by it."""
    smoothed = model.clone()
    nodes, tensors = nodes_by_name(smoothed), tensors_by_name(smoothed)
    for group in groups:
        scale = scales[group.tensor]
        source = tensors[group.tensor]
        rank = len(source.get_partial_shape())
        divisor = ops.constant(along_axis(inverse_scale(scale), group.channel_axis, rank),
                               name=f"{group.smoothed_tensor}/scale")
        multiply = ops.multiply(source, divisor, name=group.smoothed_tensor)
        for layer in group.layers:
            node = nodes[layer.node]
            weights = constant_value(node.input_value(1)).astype(np.float64)
            scaled = weights * along_axis(scale, layer.weight_axis, weights.ndim)
            node.input(1).replace_source_output(
                ops.constant(scaled.astype(np.float32), name=f"{layer.node}/smoothed_weights").output(0))
            node.input(0).replace_source_output(multiply.output(0))
    smoothed.validate_nodes_and_infer_types()
    return smoothed
