"""ActivationChannelAlignment (POT): even out the channel ranges of a tensor between two linear layers.

For a Convolution producer whose (biased) output feeds only a Convolution consumer with no padding, stride 1,
dilation 1 and one group, the FP32 function is kept while the tensor between them is changed per channel c:
first centred (the producer's bias loses the channel's mid-range m_c, the consumer's bias gains
sum(W_out[:, c]) * m_c), then scaled by 1/s_c (s_c = the channel's range over the median range, clipped to
[0.01, 100]; the consumer's weights for channel c are multiplied by s_c). Channel ranges come from per-sample
quantiles (1e-4, 1 - 1e-4) aggregated by their median, as in POT. Per-tensor quantization of the tensor then
wastes fewer levels on one wide channel.
"""
from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ...graph.queries import constant_value, consumers, dims, is_constant, nodes_by_name, port_name
from ...statistics.streaming import TensorStatistic
from ..derived import ChannelMap

OUTLIER_PROB = 1e-4
SCALE_LIMITS = (1e-2, 1e2)


@dataclass(frozen=True)
class AlignmentPair:
    producer: str  # Convolution
    producer_bias: tuple[str, int] | None  # (Add, port of its constant)
    tensor: str  # graph.port_name of the producer's (biased) output, read only by the consumer
    consumer: str  # Convolution
    consumer_bias: tuple[str, int] | None
    channels: int
    shape: tuple[int, ...]  # of the tensor, -1 where dynamic

    @property
    def centred(self) -> bool:
        return self.producer_bias is not None and self.consumer_bias is not None

    @property
    def channel_map(self) -> ChannelMap:
        """The tensor between the two becomes (tensor - shift) * factor (align_channels' transforms)."""
        return ChannelMap(self.tensor, self.tensor, 1, self.channels, self.shape, self.centred)

    @property
    def range_statistics(self) -> tuple[TensorStatistic, TensorStatistic]:
        """The per-channel low and high quantiles (median over samples) of the tensor between the two."""
        return (TensorStatistic(self.tensor, "quantile", 1, "median", OUTLIER_PROB, "low"),
                TensorStatistic(self.tensor, "quantile", 1, "median", OUTLIER_PROB, "high"))


def find_alignment_pairs(model: ov.Model) -> list[AlignmentPair]:
    nodes = nodes_by_name(model)
    pairs = []
    for name, consumer in sorted(nodes.items()):
        if consumer.get_type_name() != "Convolution" or not _plain_convolution(consumer) \
                or not is_constant(consumer.input_value(1)):
            continue
        tensor = consumer.input_value(0)
        if len(consumers(tensor)) != 1:
            continue
        producer_bias = _bias_of_output(tensor)
        producer = tensor.get_node().input_value(1 - producer_bias[1]).get_node() if producer_bias else \
            tensor.get_node()
        if producer.get_type_name() != "Convolution" or not is_constant(producer.input_value(1)):
            continue
        if producer_bias and len(consumers(producer.output(0))) != 1:
            continue
        readers = consumers(consumer.output(0))
        consumer_bias = _bias_of_output(readers[0].get_node().output(0)) if len(readers) == 1 else None
        pairs.append(AlignmentPair(producer.get_friendly_name(), producer_bias, port_name(tensor), name,
                                   consumer_bias, producer.input_value(1).get_shape()[0],
                                   dims(tensor)))
    return pairs


def _plain_convolution(node: ov.Node) -> bool:
    attributes = node.get_attributes()
    return (all(p == 0 for p in attributes["pads_begin"]) and all(p == 0 for p in attributes["pads_end"])
            and all(s == 1 for s in attributes["strides"]) and all(d == 1 for d in attributes["dilations"])
            and attributes["auto_pad"] in ("explicit", "notset", "valid"))


def _bias_of_output(output: ov.Output) -> tuple[str, int] | None:
    """(Add, constant port) if ``output`` is produced by an Add of a per-channel constant."""
    node = output.get_node()
    if node.get_type_name() != "Add":
        return None
    for port in (0, 1):
        if is_constant(node.input_value(port)) and not is_constant(node.input_value(1 - port)):
            value = constant_value(node.input_value(port))
            channels = output.get_partial_shape()[1]
            if channels.is_static and value.size == channels.get_length():
                return node.get_friendly_name(), port
    return None


def alignment_statistics(pairs: list[AlignmentPair]) -> set[TensorStatistic]:
    return {stat for pair in pairs for stat in pair.range_statistics}


def align_channels(model: ov.Model, pairs: list[AlignmentPair],
                   values: dict) -> tuple[ov.Model, list[dict], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A copy of ``model`` with every pair aligned; per pair, the scale factors used (for the report); and per
    pair's tensor, the (shift, factor) that make its aligned values (values - shift) * factor."""
    aligned = model.clone()
    nodes = nodes_by_name(aligned)
    report, transforms = [], {}
    for pair in pairs:
        low, high = (values[stat].astype(np.float64) for stat in pair.range_statistics)
        mean, spread = (low + high) / 2, high - low
        w_in = constant_value(nodes[pair.producer].input_value(1)).astype(np.float64)
        w_out = constant_value(nodes[pair.consumer].input_value(1)).astype(np.float64)
        b_in = _bias_value(nodes, pair.producer_bias)
        b_out = _bias_value(nodes, pair.consumer_bias)
        if pair.centred:  # centre each channel; the consumer's bias compensates
            b_out = b_out + w_out.sum(axis=tuple(range(2, w_out.ndim))) @ mean
            b_in = b_in - mean
        scale = _scale_factors(spread)
        w_in = w_in / scale.reshape((-1,) + (1,) * (w_in.ndim - 1))
        w_out = w_out * scale.reshape((1, -1) + (1,) * (w_out.ndim - 2))
        _set(nodes[pair.producer], 1, w_in)
        _set(nodes[pair.consumer], 1, w_out)
        if b_in is not None:
            _set(nodes[pair.producer_bias[0]], pair.producer_bias[1], b_in / scale)
        if b_out is not None:
            _set(nodes[pair.consumer_bias[0]], pair.consumer_bias[1], b_out)
        report.append({"producer": pair.producer, "consumer": pair.consumer,
                       "scale_min": float(scale.min()), "scale_max": float(scale.max())})
        transforms[pair.tensor] = (mean if pair.centred else np.zeros_like(mean), 1 / scale)
    aligned.validate_nodes_and_infer_types()
    return aligned, report, transforms


def _scale_factors(spread: np.ndarray) -> np.ndarray:
    if np.all(spread <= 0):
        return np.ones_like(spread)
    scale = spread / np.median(spread[spread > 0])
    scale[spread <= 0] = 1.0
    return np.clip(scale, *SCALE_LIMITS)


def _bias_value(nodes: dict, bias: tuple[str, int] | None) -> np.ndarray | None:
    if bias is None:
        return None
    return constant_value(nodes[bias[0]].input_value(bias[1])).astype(np.float64).reshape(-1)


def _set(node: ov.Node, port: int, value: np.ndarray) -> None:
    original = node.input_value(port)
    constant = ops.constant(value.reshape(tuple(original.get_shape())).astype(np.float32),
                            name=f"{node.get_friendly_name()}/aligned_{port}")
    node.input(port).replace_source_output(constant.output(0))
