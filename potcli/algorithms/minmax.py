"""MinMaxQuantization: place FakeQuantize, estimate ranges from statistics, insert the quantizers."""
from dataclasses import dataclass, replace

import numpy as np
import openvino as ov

from ..collector import CollectedStatistics
from ..graph import constant_value, nodes_by_name, port_name
from ..placement import ActivationQuantizer, QuantizationPlan, WeightQuantizer, plan_quantization
from ..presets import BoundEstimator, QuantizerSettings, resolve_settings, with_mode
from ..ranges import FQParams, asymmetric_params, half_range_weights, symmetric_params
from ..rules import device_rules
from ..scope import resolve_ignored_scope
from ..statistics import TensorStatistic
from .context import RunContext

SATURATION_FIX_DEVICES = ("ANY", "CPU")


@dataclass(frozen=True)
class MinMaxSetup:
    """Everything decided before looking at data: where quantizers go and how each range is estimated."""

    plan: QuantizationPlan
    activations: dict[str, QuantizerSettings]  # by quantizer name
    weights: dict[str, QuantizerSettings]
    half_range: frozenset[str]  # weight quantizers under saturation_fix
    ranks: dict[str, int]  # rank of each activation quantizer's tensor

    def statistics(self) -> set[TensorStatistic]:
        stats = set()
        for quantizer in self.plan.activations:
            settings = self.activations[quantizer.name]
            for side, bound in (("low", settings.min), ("high", settings.max)):
                stats.add(_statistic(quantizer, settings, bound, side, self.ranks[quantizer.name]))
        return stats


def prepare_minmax(model: ov.Model, params: dict, ctx: RunContext, config_path: str) -> MinMaxSetup:
    target_device, model_type = ctx.device_for(params), ctx.model_type_for(params)
    rules = device_rules(target_device)
    extra_ignored = _transformer_ignored_types(rules, target_device) if model_type == "transformer" else ()
    ignored = resolve_ignored_scope(model, params.get("ignored", {}), extra_ignored, ctx.source,
                                    f"{config_path}.ignored")
    plan = plan_quantization(model, rules, ignored)
    base_activations = resolve_settings(params, "activations", rules, target_device, ctx.source, config_path)
    base_weights = resolve_settings(params, "weights", rules, target_device, ctx.source, config_path)
    nodes = nodes_by_name(model)
    tensors = {port_name(out): out for node in model.get_ordered_ops() for out in node.outputs()}
    ranks = {q.name: tensors[q.source].get_partial_shape().rank.get_length() for q in plan.activations}
    activations = _activation_settings(plan, base_activations, nodes, model_type == "transformer")
    weights = {w.name: base_weights for w in plan.weights}
    half_range = _half_range_quantizers(plan, params, target_device, base_weights)
    return MinMaxSetup(plan, activations, weights, frozenset(half_range), ranks)


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


def _half_range_quantizers(plan: QuantizationPlan, params: dict, target_device: str,
                           weights: QuantizerSettings) -> list[str]:
    """Weight quantizers under saturation_fix. Unlike POT (Convolution models only) this covers MatMul layers
    too, as NNCF does: CPUs without VNNI saturate in INT8 fully connected layers as well."""
    fix = params.get("saturation_fix", "no")
    if fix == "no" or target_device not in SATURATION_FIX_DEVICES or weights.mode != "symmetric" or weights.bits != 8:
        return []
    return [w.name for w in plan.weights if fix == "all" or w.first_layer]


def _statistic(quantizer: ActivationQuantizer, settings: QuantizerSettings, bound: BoundEstimator, side: str,
               rank: int) -> TensorStatistic:
    granularity = bound.granularity or settings.granularity
    axis = 1 if granularity == "perchannel" and rank >= 2 else None
    return TensorStatistic(quantizer.source, bound.type, axis, bound.aggregator, bound.outlier_prob, side)


def compute_params(model: ov.Model, setup: MinMaxSetup, collected: CollectedStatistics) -> dict[str, FQParams]:
    """FakeQuantize parameters of every quantizer: activations from statistics, weights from their values."""
    bounds = {}
    for quantizer in setup.plan.activations:
        settings = setup.activations[quantizer.name]
        rank = setup.ranks[quantizer.name]
        low = _bound_value(collected, _statistic(quantizer, settings, settings.min, "low", rank), settings.min, True)
        high = _bound_value(collected, _statistic(quantizer, settings, settings.max, "high", rank), settings.max, False)
        bounds[quantizer.name] = (low, high)
    params = {}
    for members in _groups(setup.plan).values():
        low = np.min([np.min(bounds[q.name][0]) for q in members]) if len(members) > 1 else bounds[members[0].name][0]
        high = np.max([np.max(bounds[q.name][1]) for q in members]) if len(members) > 1 else bounds[members[0].name][1]
        for quantizer in members:
            params[quantizer.name] = _activation_params(low, high, setup.activations[quantizer.name],
                                                        setup.ranks[quantizer.name])
    nodes = nodes_by_name(model)
    for quantizer in setup.plan.weights:
        params[quantizer.name] = _weight_params(nodes[quantizer.node], quantizer, setup.weights[quantizer.name],
                                                quantizer.name in setup.half_range)
    return params


def _groups(plan: QuantizationPlan) -> dict[str, list[ActivationQuantizer]]:
    groups: dict[str, list[ActivationQuantizer]] = {}
    for quantizer in plan.activations:
        groups.setdefault(quantizer.group, []).append(quantizer)
    return groups


def _bound_value(collected: CollectedStatistics, stat: TensorStatistic, bound: BoundEstimator,
                 is_min: bool) -> np.ndarray:
    value = np.asarray(collected.values[stat], dtype=np.float64)
    if is_min and bound.type in ("abs_max", "abs_quantile"):
        value = -value
    if bound.clipping_value is not None:
        value = np.maximum(value, bound.clipping_value) if is_min else np.minimum(value, bound.clipping_value)
    return value


def _activation_params(low: np.ndarray, high: np.ndarray, settings: QuantizerSettings, rank: int) -> FQParams:
    if settings.mode == "symmetric":
        params = symmetric_params(low, high, settings.level_low, settings.level_high, allow_unsigned=True)
    else:
        params = asymmetric_params(low, high, settings.levels)
    if params.input_low.size > 1 or params.input_high.size > 1:  # per channel along axis 1
        shape = [1] * rank
        shape[1] = -1
        params = FQParams(np.broadcast_to(params.input_low, params.input_high.shape).reshape(shape),
                          params.input_high.reshape(shape), params.levels)
    return params


def _weight_params(node: ov.Node, quantizer: WeightQuantizer, settings: QuantizerSettings,
                   half_range: bool) -> FQParams:
    weights = constant_value(node.input_value(quantizer.port)).astype(np.float32)
    keep = quantizer.channel_axes if settings.granularity == "perchannel" else ()
    axes = tuple(a for a in range(weights.ndim) if a not in keep)
    high = _weight_statistic(weights, settings.max, axes, is_min=False)
    if settings.mode == "symmetric":
        if half_range:
            return half_range_weights(high, settings.bits)
        return symmetric_params(-high, high, settings.level_low, settings.level_high, allow_unsigned=False)
    low = _weight_statistic(weights, settings.min, axes, is_min=True)
    return asymmetric_params(low, high, settings.levels)


def _weight_statistic(weights: np.ndarray, bound: BoundEstimator, axes: tuple[int, ...], is_min: bool) -> np.ndarray:
    """A bound of the weights per channel; abs types give the negated magnitude for the lower bound."""
    kind = bound.type
    if kind == "min":
        value = np.min(weights, axis=axes, keepdims=True)
    elif kind == "max":
        value = np.max(weights, axis=axes, keepdims=True)
    elif kind == "abs_max":
        value = np.max(np.abs(weights), axis=axes, keepdims=True)
    elif kind == "abs_quantile":
        value = np.quantile(np.abs(weights), 1.0 - bound.outlier_prob, axis=axes, keepdims=True)
    else:
        q = bound.outlier_prob if is_min else 1.0 - bound.outlier_prob
        value = np.quantile(weights, q, axis=axes, keepdims=True)
    return -value if is_min and kind in ("abs_max", "abs_quantile") else value


def quantizer_report(setup: MinMaxSetup, params: dict[str, FQParams]) -> list[dict]:
    """One entry per FakeQuantize: where it is, its grid and its range."""
    rows = []
    for quantizer in setup.plan.activations:
        settings = setup.activations[quantizer.name]
        rows.append({"name": quantizer.name, "kind": "activations", "tensor": quantizer.source,
                     "consumers": [f"{node}:{port}" for node, port in quantizer.consumers],
                     **_settings_report(settings, params[quantizer.name]),
                     **({"unified_with": quantizer.group} if quantizer.group != quantizer.name else {})})
    for quantizer in setup.plan.weights:
        settings = setup.weights[quantizer.name]
        rows.append({"name": quantizer.name, "kind": "weights", "node": quantizer.node, "port": quantizer.port,
                     **_settings_report(settings, params[quantizer.name]),
                     **({"saturation_fix": True} if quantizer.name in setup.half_range else {})})
    return rows


def _settings_report(settings: QuantizerSettings, params: FQParams) -> dict:
    return {"mode": settings.mode, "granularity": settings.granularity, "levels": params.levels,
            "input_low": _flat(params.input_low), "input_high": _flat(params.input_high)}


def _flat(values: np.ndarray):
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    return float(flat[0]) if flat.size == 1 else [float(v) for v in flat]
