"""Where FakeQuantize goes: activation and weight quantizers for a model under a target device's rules.

1. Every operation the rules list asks for quantizers on some inputs (and its constant weights).
2. Requests for one tensor merge into one shared quantizer.
3. A quantizer moves up through precision-agnostic operations (MaxPool, Reshape, Transpose, ...) while every
   reader of the tensor below wants it, so that the producer can already emit INT8; through Concat it splits
   into one quantizer per input, tied into a group that must share one range (unified scales).
"""
import heapq
from dataclasses import dataclass, field

import openvino as ov

from .disjoint_sets import DisjointSets
from .queries import consumers, is_constant, port_name
from .scope import IgnoredNodes

Consumer = tuple[str, int]  # (node name, input port)


@dataclass(frozen=True)
class ActivationQuantizer:
    name: str  # "<producer>/fq_output_<port>"
    source: str  # graph.port_name of the quantized tensor
    consumers: tuple[Consumer, ...]  # inputs that read the quantized tensor
    force_symmetric: bool  # a consumer needs a signed, zero-point-free range
    group: str  # unified-scale group: quantizers with the same group share one range


@dataclass(frozen=True)
class WeightQuantizer:
    name: str  # "<node>/fq_weights_<port>"
    node: str
    port: int
    channel_axes: tuple[int, ...]  # axes of the weights tensor kept per output channel
    first_layer: bool  # no other quantized weighted layer upstream (for saturation_fix: first_layer)


@dataclass(frozen=True)
class QuantizationPlan:
    activations: tuple[ActivationQuantizer, ...]
    weights: tuple[WeightQuantizer, ...]
    fp32_nodes: dict[str, str]  # quantizable-type nodes left in floating point -> why


@dataclass
class _Request:
    output: ov.Output
    consumers: set[Consumer] = field(default_factory=set)
    force_symmetric: bool = False


def plan_quantization(model: ov.Model, rules: dict, ignored: IgnoredNodes) -> QuantizationPlan:
    """Decide every FakeQuantize of ``model`` under ``rules`` (see potcli/rules/*.json), honouring ``ignored``."""
    order = {node.get_friendly_name(): i for i, node in enumerate(model.get_ordered_ops())}
    requests: dict[str, _Request] = {}
    weights: list[WeightQuantizer] = []
    fp32: dict[str, str] = {}
    for node in model.get_ordered_ops():
        rule = rules["operations"].get(node.get_type_name())
        if rule is None:
            continue
        name = node.get_friendly_name()
        ports = _activation_ports(node, rule)
        if ports is None:
            continue
        if reason := ignored.reason(name):
            fp32[name] = f"ignored by {reason}"
            continue
        weight, problem = _weights_of(node) if rule.get("weights") else (None, None)
        if problem or (problem := _unquantizable_input(node, ports)):
            fp32[name] = problem
            continue
        symmetric_ports = set(rules.get("symmetric_inputs", {}).get(node.get_type_name(), []))
        for port in ports:
            source = node.input_value(port)
            request = requests.setdefault(port_name(source), _Request(source))
            request.consumers.add((name, port))
            request.force_symmetric |= port in symmetric_ports
        if weight:
            weights.append(weight)
    groups = _propagate(requests, order, rules, ignored)
    activations = _activation_quantizers(requests, groups)
    return QuantizationPlan(activations, tuple(_mark_first_layers(model, weights)), fp32)


def _activation_ports(node: ov.Node, rule: dict) -> list[int] | None:
    """Input ports to quantize, or None if the node is not a candidate (e.g. a bias Add with a constant)."""
    non_constant = [i for i in range(node.get_input_size()) if not is_constant(node.input_value(i))]
    if rule["inputs"] == "first":
        ports = [0] if 0 in non_constant else []
    elif rule["inputs"] == "non_constant":
        ports = non_constant
    else:  # an explicit list of ports
        ports = [port for port in rule["inputs"] if port in non_constant]
    if len(ports) < rule.get("min_activation_inputs", 1) and not rule.get("weights"):
        return None
    return ports


def _unquantizable_input(node: ov.Node, ports: list[int]) -> str | None:
    for port in ports:
        output = node.input_value(port)
        if not output.get_element_type().is_real():
            return f"input {port} is {output.get_element_type().get_type_name()}, not floating point"
        if output.get_partial_shape().rank.is_dynamic:
            return f"input {port} has a dynamic rank"
    return None if ports else "no activation input"


def _weights_of(node: ov.Node) -> tuple[WeightQuantizer | None, str | None]:
    """The node's weight quantizer, or why it cannot have one; (None, None) for a MatMul of two activations."""
    kind, name = node.get_type_name(), node.get_friendly_name()
    if kind == "MatMul":
        constant_ports = [i for i in range(2) if is_constant(node.input_value(i))]
        if not constant_ports:
            return None, None
        if len(constant_ports) == 2:
            return None, "both inputs are constant"
        port = constant_ports[0]
        rank = len(node.input_value(port).get_shape())
        attributes = node.get_attributes()
        if rank < 2:
            axes = ()
        elif port == 1:
            axes = (rank - 2,) if attributes["transpose_b"] else (rank - 1,)
        else:
            axes = (rank - 1,) if attributes["transpose_a"] else (rank - 2,)
    else:
        port = 1
        if not is_constant(node.input_value(port)):
            return None, "weights are not constant"
        axes = {"Convolution": (0,), "GroupConvolution": (0, 1), "ConvolutionBackpropData": (1,)}[kind]
    return WeightQuantizer(f"{name}/fq_weights_{port}", name, port, axes, first_layer=False), None


def _propagate(requests: dict[str, _Request], order: dict[str, int], rules: dict, ignored: IgnoredNodes) -> dict:
    """Move requests up through agnostic ops, downstream first; return each request's unified-scale set."""
    unified = DisjointSets(requests)

    def rank(key):
        return -order[requests[key].output.get_node().get_friendly_name()]

    heap = [(rank(key), key) for key in requests]
    heapq.heapify(heap)
    while heap:
        _, key = heapq.heappop(heap)
        request = requests.get(key)
        if request is None:
            continue
        targets = _upstream_targets(request, rules, ignored)
        if not targets:
            continue
        del requests[key]
        producer = request.output.get_node().get_friendly_name()
        new_keys = []
        for port, output in targets:
            new_key = port_name(output)
            upstream = requests.setdefault(new_key, _Request(output))
            upstream.consumers.add((producer, port))
            upstream.force_symmetric |= request.force_symmetric
            unified.union(new_key, key)
            new_keys.append(new_key)
            heapq.heappush(heap, (rank(new_key), new_key))
        for other in new_keys[1:]:  # Concat inputs must share one range
            unified.union(other, new_keys[0])
    return {key: unified.find(key) for key in requests}


def _upstream_targets(request: _Request, rules: dict, ignored: IgnoredNodes) -> list[tuple[int, ov.Output]]:
    """The producer's inputs a quantizer can move to, or [] if it must stay where it is."""
    output = request.output
    producer = output.get_node()
    kind = producer.get_type_name()
    if kind not in rules["agnostic"] or ignored.reason(producer.get_friendly_name()):
        return []
    readers = {(i.get_node().get_friendly_name(), i.get_index()) for i in consumers(output)}
    if readers != request.consumers:
        return []  # some reader wants the unquantized tensor
    if any(out.get_target_inputs() for out in producer.outputs() if out != output):
        return []  # e.g. MaxPool whose indices output is used
    inputs = [(i, producer.input_value(i)) for i in range(producer.get_input_size())]
    if kind in rules.get("unified_scales", []):
        data = inputs
    else:
        data, params = inputs[:1], inputs[1:]
        if any(not is_constant(out) for _, out in params):
            return []
    if any(is_constant(out) or not out.get_element_type().is_real() for _, out in data):
        return []
    return data


def _activation_quantizers(requests: dict[str, _Request], groups: dict[str, str]) -> tuple[ActivationQuantizer, ...]:
    names = {key: _fq_name(request.output) for key, request in requests.items()}
    group_name: dict[str, str] = {}
    for key in sorted(requests, key=lambda k: names[k]):
        group_name.setdefault(groups[key], names[key])
    return tuple(
        ActivationQuantizer(names[key], key, tuple(sorted(request.consumers)), request.force_symmetric,
                            group_name[groups[key]])
        for key, request in sorted(requests.items(), key=lambda item: names[item[0]]))


def _fq_name(output: ov.Output) -> str:
    return f"{output.get_node().get_friendly_name()}/fq_output_{output.get_index()}"


def _mark_first_layers(model: ov.Model, weights: list[WeightQuantizer]) -> list[WeightQuantizer]:
    """Flag weighted layers with no other quantized weighted layer on any path from the model inputs."""
    weighted = {w.node for w in weights}
    upstream_weighted: dict[str, bool] = {}
    for node in model.get_ordered_ops():
        flag = False
        for i in range(node.get_input_size()):
            producer = node.input_value(i).get_node().get_friendly_name()
            flag |= upstream_weighted.get(producer, False) or producer in weighted
        upstream_weighted[node.get_friendly_name()] = flag
    return [WeightQuantizer(w.name, w.node, w.port, w.channel_axes, not upstream_weighted[w.node]) for w in weights]
