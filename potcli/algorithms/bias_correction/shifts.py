"""How bias correction measures its shifts: make each quantized layer's mean output per channel match the FP32 model's.

FastBiasCorrection (POT's and NNCF's default) needs only one FP32 statistic, collected in the same pass as the
ranges: the per-channel mean of each layer's input. Each layer then runs on a blob filled with those means,
once in FP32 and once with quantized input and weights; the difference of the two outputs is the shift. The
probes of many layers run together in one small compiled model.

BiasCorrection instead measures the quantized model itself on real samples: it runs the quantized model,
shifts every bias by the measured difference, and repeats (``BIAS_CORRECTION_PASSES``) so that corrections of
upstream layers are seen by downstream ones.
"""
from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ...engine.inference import F32, Engine
from ...graph.placement import QuantizationPlan
from ...graph.queries import constant_value, consumers, is_constant, nodes_by_name, port_name
from ...progress import progress
from ...statistics.ranges import FQParams, along_axis, fake_quantize
from ...statistics.streaming import TensorStatistic

BIAS_CORRECTION_PASSES = 2


@dataclass(frozen=True)
class BiasLayer:
    node: str  # the weighted op
    input_port: int  # its activation input
    input_tensor: str  # graph.port_name of that input in the FP32 model
    input_channel_axis: int
    output_channel_axis: int
    bias_add: str | None  # the Add holding the bias; None if the layer has none
    bias_port: int  # which input of bias_add is the constant
    output_tensor: str  # graph.port_name of the biased output (the Add's, or the op's if no bias)


def find_bias_layers(model: ov.Model, plan: QuantizationPlan) -> list[BiasLayer]:
    """Every quantized weighted layer, with the per-channel bias Add that follows it if it has one."""
    nodes = nodes_by_name(model)
    layers = []
    for weight in plan.weights:
        node = nodes[weight.node]
        input_port = 1 - weight.port if node.get_type_name() == "MatMul" else 0
        out_axis = _output_channel_axis(node, weight.port)
        add, bias_port = _bias_add(node, out_axis)
        output = add.output(0) if add is not None else node.output(0)
        layers.append(BiasLayer(weight.node, input_port, port_name(node.input_value(input_port)),
                                _input_channel_axis(node, input_port), out_axis,
                                add.get_friendly_name() if add is not None else None, bias_port, port_name(output)))
    return layers


def _output_channel_axis(node: ov.Node, weights_port: int) -> int:
    if node.get_type_name() != "MatMul":
        return 1
    rank = len(node.output(0).get_partial_shape())
    return rank - 1 if weights_port == 1 else rank - 2


def _input_channel_axis(node: ov.Node, port: int) -> int:
    if node.get_type_name() != "MatMul":
        return 1
    rank = len(node.input_value(port).get_partial_shape())
    transposed = node.get_attributes()["transpose_a" if port == 0 else "transpose_b"]
    features_last = (port == 0) != bool(transposed)
    return rank - 1 if features_last else rank - 2


def _bias_add(node: ov.Node, out_axis: int) -> tuple[ov.Node | None, int]:
    readers = consumers(node.output(0))
    if len(readers) != 1 or readers[0].get_node().get_type_name() != "Add":
        return None, -1
    add = readers[0].get_node()
    bias_port = 1 - readers[0].get_index()
    value = constant_value(add.input_value(bias_port)) if is_constant(add.input_value(bias_port)) else None
    channels = node.output(0).get_partial_shape()[out_axis]
    if value is None or channels.is_dynamic or _per_channel(value, out_axis, len(node.output(0).get_partial_shape()),
                                                            channels.get_length()) is None:
        return None, -1
    return add, bias_port


def _per_channel(value: np.ndarray, axis: int, rank: int, channels: int) -> np.ndarray | None:
    """``value`` as a vector over the output channels, if it broadcasts as one; else None."""
    if value.size != channels or value.ndim > rank:
        return None
    shape = (1,) * (rank - value.ndim) + value.shape
    if channels > 1 and shape[axis] != channels:
        return None
    return value.reshape(-1)


def input_mean(layer: BiasLayer) -> TensorStatistic:
    return TensorStatistic(layer.input_tensor, "mean", layer.input_channel_axis, "mean")


def output_mean(layer: BiasLayer) -> TensorStatistic:
    return TensorStatistic(layer.output_tensor, "mean", layer.output_channel_axis, "mean")


@dataclass(frozen=True)
class Correction:
    layer: BiasLayer
    shift: np.ndarray  # per output channel
    magnitude: float  # max |shift / bias|, inf when the layer has no bias or a zero in it

    def applies(self, threshold: float, forced: bool) -> bool:
        """Whether to apply: below the threshold, or ``forced`` (a layer whose bias potq added itself)."""
        return forced or self.magnitude < threshold


PROBE_WEIGHT_BYTES = 16 << 20  # weights compiled at once by FastBiasCorrection: bounds its memory


def fast_corrections(engine: Engine, fp32_model: ov.Model, layers: list[BiasLayer], plan: QuantizationPlan,
                     params: dict[str, FQParams], means: dict[TensorStatistic, np.ndarray],
                     shapes: dict[str, tuple[int, ...]]) -> list[Correction]:
    """FastBiasCorrection's shifts, from a blob filled with each layer's per-channel input means.

    The shift is the layer's FP32 output on the blob minus its quantized output (quantized blob and weights)
    on the same blob: the mean error quantization adds. Comparing on the same blob (rather than against the
    FP32 output mean measured on real data, as NNCF does) keeps padding effects of small feature maps out of
    the correction. Layers are probed in batches of about PROBE_WEIGHT_BYTES of weights, each batch as one
    small compiled model.
    """
    nodes = nodes_by_name(fp32_model)
    corrections, batch, batch_bytes = [], [], 0
    with progress("Bias correction", len(layers), "layer") as meter:
        for layer in layers:
            batch.append(layer)
            batch_bytes += 2 * sum(constant_value(nodes[layer.node].input_value(port)).nbytes
                                   for port in range(nodes[layer.node].get_input_size()) if port != layer.input_port)
            if batch_bytes >= PROBE_WEIGHT_BYTES or layer is layers[-1]:
                shifts = _probe_shifts(engine, fp32_model, batch, plan, params, means, shapes)
                for probed, shift in zip(batch, shifts, strict=True):
                    magnitude = _magnitude(shift, layer_bias(nodes, probed), probed)
                    corrections.append(Correction(probed, shift, magnitude))
                meter.update(len(batch))
                batch, batch_bytes = [], 0
    return corrections


def _probe_shifts(engine, fp32_model, layers, plan, params, means, shapes) -> list[np.ndarray]:
    input_fq = {consumer: params[q.name] for q in plan.activations for consumer in q.consumers}
    weight_fq = {(w.node, w.port): params[w.name] for w in plan.weights}
    fp_copy, q_copy = nodes_by_name(fp32_model.clone()), nodes_by_name(fp32_model.clone())
    parameters, results, blobs = [], [], {}
    for i, layer in enumerate(layers):
        shape = shapes[layer.input_tensor]
        blob = np.broadcast_to(along_axis(means[input_mean(layer)], layer.input_channel_axis, len(shape)),
                               shape).astype(np.float32)
        q_blob = fake_quantize(blob, input_fq[(layer.node, layer.input_port)]) \
            if (layer.node, layer.input_port) in input_fq else blob
        for kind, nodes, data, fqs in (("fp", fp_copy, blob, {}), ("q", q_copy, q_blob, weight_fq)):
            parameter = ops.parameter(list(shape), np.float32, name=f"potq_bias_probe_{kind}_{i}")
            results.append(_cut_layer(nodes[layer.node], layer, parameter, fqs))
            parameters.append(parameter)
            blobs[parameter.get_friendly_name()] = data
    compiled = engine.compile(ov.Model(results, parameters, "potq_bias_probe"), "bias correction probe", F32)
    outputs = compiled.create_infer_request().infer(blobs)
    return [(outputs[compiled.outputs[2 * i]] - outputs[compiled.outputs[2 * i + 1]]).astype(np.float32)
            for i in range(len(layers))]


def _cut_layer(node: ov.Node, layer: BiasLayer, parameter, weight_fq: dict) -> ov.Node:
    """Detach ``node`` (in a model copy) so it reads ``parameter`` and fake-quantized weights; mean per channel."""
    node.input(layer.input_port).replace_source_output(parameter.output(0))
    for (name, port), fq in weight_fq.items():
        if name == layer.node:
            weights = fake_quantize(constant_value(node.input_value(port)).astype(np.float32), fq)
            node.input(port).replace_source_output(ops.constant(weights).output(0))
    axes = [a for a in range(len(node.get_output_partial_shape(0))) if a != layer.output_channel_axis]
    return ops.result(ops.reduce_mean(node, ops.constant(np.array(axes, np.int64)), False))


def measured_corrections(layers: list[BiasLayer], fp32_means: dict[str, np.ndarray],
                         quantized_means: dict[TensorStatistic, np.ndarray], model: ov.Model) -> list[Correction]:
    """BiasCorrection's shifts: FP32 output mean (by layer node) minus the quantized model's measured one."""
    corrections, nodes = [], nodes_by_name(model)
    for layer in layers:
        shift = fp32_means[layer.node] - quantized_means[output_mean(layer)]
        corrections.append(Correction(layer, shift.astype(np.float32),
                                      _magnitude(shift, layer_bias(nodes, layer), layer)))
    return corrections


def layer_bias(nodes: dict[str, ov.Node], layer: BiasLayer) -> np.ndarray:
    """The layer's bias as a per-channel vector (zeros if it has none); ``nodes``: graph.nodes_by_name of its
    model."""
    node = nodes[layer.node]
    channels = node.output(0).get_partial_shape()[layer.output_channel_axis].get_length()
    if layer.bias_add is None:
        return np.zeros(channels, np.float32)
    add = nodes[layer.bias_add]
    rank = len(node.output(0).get_partial_shape())
    return _per_channel(constant_value(add.input_value(layer.bias_port)), layer.output_channel_axis, rank,
                        channels).astype(np.float32)


def zero_biases(model: ov.Model, layers: list[BiasLayer]) -> dict[str, np.ndarray]:
    """A zero bias, shaped to broadcast along the output channels, for each layer (for transform.add_biases)."""
    nodes = nodes_by_name(model)
    biases = {}
    for layer in layers:
        shape = nodes[layer.node].output(0).get_partial_shape()
        biases[layer.node] = along_axis(np.zeros(shape[layer.output_channel_axis].get_length()),
                                    layer.output_channel_axis, len(shape))
    return biases


def bias_updates(model: ov.Model, corrections: list[Correction]) -> tuple[dict, dict]:
    """New bias constants for ``transform.set_biases`` and new Adds for ``transform.add_biases``."""
    nodes = nodes_by_name(model)
    replaced, added = {}, {}
    for correction in corrections:
        layer = correction.layer
        rank = len(nodes[layer.node].output(0).get_partial_shape())
        if layer.bias_add is None:
            added[layer.node] = along_axis(correction.shift, layer.output_channel_axis, rank)
            continue
        add = nodes[layer.bias_add]
        original = constant_value(add.input_value(layer.bias_port))
        new = layer_bias(nodes, layer) + correction.shift
        replaced[(layer.bias_add, layer.bias_port)] = new.reshape(original.shape)
    return replaced, added


def _magnitude(shift: np.ndarray, bias: np.ndarray, layer: BiasLayer) -> float:
    if layer.bias_add is None or np.any(bias == 0):
        return float("inf")
    return float(np.max(np.abs(shift / bias)))
