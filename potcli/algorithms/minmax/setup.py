"""Everything MinMaxQuantization decides before looking at data: where quantizers go, how each one's range
is estimated, and which statistics that takes."""
from dataclasses import dataclass, replace

import openvino as ov

from ...config.params import QuantizationParams
from ...config.presets import BoundEstimator, QuantizerSettings, with_mode
from ...errors import ParamError
from ...graph.placement import ActivationQuantizer, QuantizationPlan, plan_quantization
from ...graph.queries import nodes_by_name, tensors_by_name
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

    def statistics(self) -> set[TensorStatistic]:
        return {stat for pair in self.bounds.values() for stat in pair}


def prepare_minmax(model: ov.Model, params: QuantizationParams) -> MinMaxSetup:
    """Plan the quantizers of ``model``; ParamError (at ``ignored...``) for scope entries matching nothing."""
    ignored, unmatched = ignored_nodes(model, params)
    if unmatched:
        raise ParamError.several(unmatched)
    plan = plan_quantization(model, device_rules(params.target_device), ignored)
    tensors = tensors_by_name(model)
    ranks = {q.name: tensors[q.source].get_partial_shape().rank.get_length() for q in plan.activations}
    activations = _activation_settings(plan, params.activations, nodes_by_name(model), params.transformer)
    bounds = {q.name: (_statistic(q, activations[q.name], activations[q.name].min, "low", ranks[q.name]),
                       _statistic(q, activations[q.name], activations[q.name].max, "high", ranks[q.name]))
              for q in plan.activations}
    weights = {w.name: params.weights for w in plan.weights}
    half_range = _half_range_quantizers(plan, params)
    return MinMaxSetup(plan, activations, weights, frozenset(half_range), ranks, bounds)


def ignored_nodes(model: ov.Model, params: QuantizationParams) -> tuple[IgnoredNodes, list[tuple[str, str]]]:
    """The nodes ``params.ignored`` (and ``model_type: transformer``) keep in floating point, and ``(path,
    message)`` for every ignored-scope entry that matches no node."""
    rules = device_rules(params.target_device)
    extra_ignored = _transformer_ignored_types(rules, params.target_device) if params.transformer else ()
    return match_ignored_scope(model, params.ignored, extra_ignored)


def _transformer_ignored_types(rules: dict, target_device: str) -> tuple[str, ...]:
    keep = set(rules["transformer"].get("keep_quantized_on", {}).get(target_device, []))
    return tuple(t for t in rules["transformer"]["ignored_types"] if t not in keep)


def _activation_settings(plan: QuantizationPlan, base: QuantizerSettings, nodes: dict,
                         transformer: bool) -> dict[str, QuantizerSettings]:
    """Per-quantizer settings: the preset's, made symmetric where a consumer needs it; groups share one."""
    symmetric_groups = set()
    for quantizer in plan.activations:
        feeds_matmul = any(nodes[node].get_type_name() == "MatMul" for node, _ in quantizer.consumers)
        if quantizer.force_symmetric or (transformer and feeds_matmul):
            symmetric_groups.add(quantizer.group)
    grouped = {q.group for q in plan.activations if sum(o.group == q.group for o in plan.activations) > 1}
    settings = {}
    for quantizer in plan.activations:
        chosen = with_mode(base, "symmetric") if quantizer.group in symmetric_groups else base
        if quantizer.group in grouped:  # unified scales: one range for the whole group
            chosen = replace(chosen, granularity="pertensor")
        settings[quantizer.name] = chosen
    return settings


def _half_range_quantizers(plan: QuantizationPlan, params: QuantizationParams) -> list[str]:
    """Weight quantizers under saturation_fix. Unlike POT (Convolution models only) this covers MatMul layers
    too, as NNCF does: CPUs without VNNI saturate in INT8 fully connected layers as well."""
    weights, fix = params.weights, params.saturation_fix
    if fix == "no" or params.target_device not in SATURATION_FIX_DEVICES or weights.mode != "symmetric" \
            or weights.bits != 8:
        return []
    return [w.name for w in plan.weights if fix == "all" or w.first_layer]


def _statistic(quantizer: ActivationQuantizer, settings: QuantizerSettings, bound: BoundEstimator, side: str,
               rank: int) -> TensorStatistic:
    granularity = bound.granularity or settings.granularity
    axis = 1 if granularity == "perchannel" and rank >= 2 else None
    return TensorStatistic(quantizer.source, bound.type, axis, bound.aggregator, bound.outlier_prob, side)
