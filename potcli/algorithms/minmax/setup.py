"""Everything MinMaxQuantization decides before looking at data: where quantizers go, how each one's range
is estimated, and which statistics that takes."""
from dataclasses import dataclass, replace

import openvino as ov

from ...config.params import QuantizationParams
from ...config.presets import BoundEstimator, QuantizerSettings, with_granularity, with_mode
from ...errors import ParamError
from ...graph.patterns import transformer_evidence
from ...graph.placement import ActivationQuantizer, QuantizationPlan, plan_quantization
from ...graph.queries import is_constant, nodes_by_name, tensors_by_name
from ...graph.scope import IgnoredNodes, match_ignored_scope
from ...rules import device_rules
from ...statistics.streaming import TensorStatistic

SATURATION_FIX_DEVICES = ("ANY", "CPU")


@dataclass(frozen=True)
class MinMaxSetup:
    plan: QuantizationPlan
    activations: dict[str, QuantizerSettings]  # by quantizer name
    weights: dict[str, QuantizerSettings]
    half_range: frozenset[str]  # weight quantizers under saturation_fix
    ranks: dict[str, int]  # rank of each activation quantizer's tensor
    bounds: dict[str, tuple[TensorStatistic, TensorStatistic]]  # activation quantizer -> (low, high) statistic
    transformer: bool  # transformer handling (model_type, or attention blocks found with model_type auto)
    model_type_reason: str  # why
    extremes: dict[str, tuple[TensorStatistic, TensorStatistic]]  # quantizers whose range is chosen by error

    def statistics(self) -> set[TensorStatistic]:
        return {stat for pairs in (self.bounds, self.extremes) for pair in pairs.values() for stat in pair}

    def searched_tensors(self) -> list[str]:
        """Tensors whose values the range search needs (``range_estimator: {preset: auto}``)."""
        return sorted({q.source for q in self.plan.activations if q.name in self.extremes})


def prepare_minmax(model: ov.Model, params: QuantizationParams) -> MinMaxSetup:
    """Plan the quantizers of ``model``; ParamError (at ``ignored...``) for scope entries matching nothing."""
    transformer, reason = model_family(model, params.model_type)
    ignored, unmatched = ignored_nodes(model, params, transformer)
    if unmatched:
        raise ParamError.several(unmatched)
    plan = plan_quantization(model, device_rules(params.target_device), ignored)
    tensors = tensors_by_name(model)
    ranks = {q.name: tensors[q.source].get_partial_shape().rank.get_length() for q in plan.activations}
    base = params.transformer_activations if transformer else params.activations
    activations = _activation_settings(plan, base, nodes_by_name(model), transformer,
                                       device_rules(params.target_device).get("depthwise_activations"))
    bounds = {q.name: (_statistic(q, activations[q.name], activations[q.name].min, "low", ranks[q.name]),
                       _statistic(q, activations[q.name], activations[q.name].max, "high", ranks[q.name]))
              for q in plan.activations}
    weights = {w.name: params.weights for w in plan.weights}
    half_range = _half_range_quantizers(plan, params)
    extremes = {q.name: _extreme_statistics(q, activations[q.name]) for q in plan.activations
                if activations[q.name].select_by_error and activations[q.name].granularity == "pertensor"}
    return MinMaxSetup(plan, activations, weights, frozenset(half_range), ranks, bounds, transformer, reason,
                       extremes)


def model_family(model: ov.Model, model_type: str | None) -> tuple[bool, str]:
    """Whether ``model`` gets transformer handling, and why: model_type says so, or (auto) attention blocks."""
    if model_type == "transformer":
        return True, "model_type: transformer"
    if model_type is None:
        return False, "model_type: null (POT's plain handling)"
    evidence = transformer_evidence(model)
    return (True, evidence) if evidence else (False, "no attention blocks found")


def ignored_nodes(model: ov.Model, params: QuantizationParams,
                  transformer: bool) -> tuple[IgnoredNodes, list[tuple[str, str]]]:
    """The nodes ``params.ignored`` (and transformer handling) keep in floating point, and ``(path, message)``
    for every ignored-scope entry that matches no node."""
    rules = device_rules(params.target_device)
    extra_ignored = _transformer_ignored_types(rules, params.target_device) if transformer else ()
    return match_ignored_scope(model, params.ignored, extra_ignored)


def _transformer_ignored_types(rules: dict, target_device: str) -> tuple[str, ...]:
    keep = set(rules["transformer"].get("keep_quantized_on", {}).get(target_device, []))
    return tuple(t for t in rules["transformer"]["ignored_types"] if t not in keep)


def _activation_settings(plan: QuantizationPlan, base: QuantizerSettings, nodes: dict, transformer: bool,
                         depthwise_granularity: str | None) -> dict[str, QuantizerSettings]:
    """Per-quantizer settings: the preset's, made symmetric where a consumer needs it (and, for transformers,
    both inputs of a MatMul of two activations, as POT did), per channel where only depthwise convolutions read
    the tensor (as POT's and NNCF's CPU rules have it); quantizers of one group share one."""
    symmetric_groups = set()
    for quantizer in plan.activations:
        if quantizer.force_symmetric or (transformer and any(_multiplies_activations(nodes[node])
                                                             for node, _ in quantizer.consumers)):
            symmetric_groups.add(quantizer.group)
    grouped = {q.group for q in plan.activations if sum(o.group == q.group for o in plan.activations) > 1}
    settings = {}
    for quantizer in plan.activations:
        chosen = with_mode(base, "symmetric") if quantizer.group in symmetric_groups else base
        if quantizer.group in grouped:  # unified scales: one range for the whole group
            chosen = replace(chosen, granularity="pertensor")
        elif depthwise_granularity and all(port == 0 and _is_depthwise(nodes[node])
                                           for node, port in quantizer.consumers):
            chosen = with_granularity(chosen, depthwise_granularity)
        settings[quantizer.name] = chosen
    return settings


def _is_depthwise(node: ov.Node) -> bool:
    """A GroupConvolution whose every group reads one input channel (weights [groups, out, 1, ...])."""
    if node.get_type_name() != "GroupConvolution":
        return False
    weights = node.input_value(1).get_partial_shape()
    return weights.rank.is_static and len(weights) > 2 and weights[2].is_static and weights[2].get_length() == 1


def _multiplies_activations(node: ov.Node) -> bool:
    return node.get_type_name() == "MatMul" and not any(is_constant(node.input_value(i)) for i in range(2))


def _half_range_quantizers(plan: QuantizationPlan, params: QuantizationParams) -> list[str]:
    """Weight quantizers under saturation_fix. Unlike POT (Convolution models only) this covers MatMul layers
    too, as NNCF does: CPUs without VNNI saturate in INT8 fully connected layers as well."""
    weights, fix = params.weights, params.saturation_fix
    if fix == "no" or params.target_device not in SATURATION_FIX_DEVICES or weights.mode != "symmetric" \
            or weights.bits != 8:
        return []
    return [w.name for w in plan.weights if fix == "all" or w.first_layer]


def _extreme_statistics(quantizer: ActivationQuantizer,
                        settings: QuantizerSettings) -> tuple[TensorStatistic, TensorStatistic]:
    """The lowest value and the largest value (|value| for symmetric ranges) over the whole statistics subset."""
    high = "abs_max" if settings.mode == "symmetric" else "max"
    return TensorStatistic(quantizer.source, "min", None, "min"), TensorStatistic(quantizer.source, high, None, "max")


def _statistic(quantizer: ActivationQuantizer, settings: QuantizerSettings, bound: BoundEstimator, side: str,
               rank: int) -> TensorStatistic:
    granularity = bound.granularity or settings.granularity
    axis = 1 if granularity == "perchannel" and rank >= 2 else None
    return TensorStatistic(quantizer.source, bound.type, axis, bound.aggregator, bound.outlier_prob, side)
