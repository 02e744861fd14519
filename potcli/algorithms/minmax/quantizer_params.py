"""FakeQuantize parameters of every quantizer: activations from collected statistics, weights from their values."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openvino as ov

from ...config.presets import BoundEstimator, QuantizerSettings
from ...engine.collector import CollectedStatistics
from ...graph.placement import ActivationQuantizer, QuantizationPlan, WeightQuantizer
from ...graph.queries import constant_value, nodes_by_name
from ...statistics.range_search import Grid, best_range, range_candidates
from ...statistics.ranges import FQParams, asymmetric_params, half_range_weights, symmetric_params
from ...statistics.streaming import TensorStatistic, reduce_tensor
from .setup import MinMaxSetup


def compute_params(model: ov.Model, setup: MinMaxSetup, collected: CollectedStatistics,
                   samples: dict[str, np.ndarray] | None = None) -> tuple[dict[str, FQParams], dict[str, dict]]:
    """FakeQuantize parameters of every quantizer: activations from statistics (chosen by error among candidates
    where the range estimator is ``auto``, from ``samples``: values of each searched tensor), weights from their
    values. Also returns, per searched quantizer group, the range chosen and every candidate's error."""
    bounds, extremes = {}, {}
    for quantizer in setup.plan.activations:
        settings = setup.activations[quantizer.name]
        low_stat, high_stat = setup.bounds[quantizer.name]
        bounds[quantizer.name] = (_bound_value(collected, low_stat, settings.min, True),
                                  _bound_value(collected, high_stat, settings.max, False))
        if quantizer.name in setup.extremes:
            low_stat, high_stat = setup.extremes[quantizer.name]
            extremes[quantizer.name] = (_bound_value(collected, low_stat, settings.min, True),
                                        _bound_value(collected, high_stat, settings.max, False))
    groups = _groups(setup.plan)
    searched = [group for group, members in groups.items()
                if samples is not None and all(q.name in extremes for q in members)]

    def search(group: str):
        members = groups[group]
        settings = setup.activations[members[0].name]
        low, high = _joint(bounds, members)
        values = np.concatenate([samples[q.source] for q in members])
        grid = Grid(settings.mode == "symmetric", settings.level_low, settings.level_high)
        return best_range(values, range_candidates((float(low), float(high)),
                                                   tuple(map(float, _joint(extremes, members)))), grid)

    # numpy leaves the GIL while it scores a group's candidates: groups on every core
    with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="potq-range-search") as pool:
        found = dict(zip(searched, pool.map(search, searched), strict=True))
    params, choices = {}, {}
    for group, members in groups.items():
        low, high = _joint(bounds, members)
        if group in found:
            chosen, errors = found[group]
            low, high = np.float64(chosen.low), np.float64(chosen.high)
            choices[group] = {"chosen": chosen.label, "errors": errors}
        for quantizer in members:
            params[quantizer.name] = _activation_params(low, high, setup.activations[quantizer.name],
                                                        setup.ranks[quantizer.name])
    nodes = nodes_by_name(model)
    for quantizer in setup.plan.weights:
        params[quantizer.name] = _weight_params(nodes[quantizer.node], quantizer, setup.weights[quantizer.name],
                                                quantizer.name in setup.half_range)
    return params, choices


def _joint(bounds: dict[str, tuple], members: list[ActivationQuantizer]) -> tuple:
    """One range for a unified-scale group: the lowest low and the highest high of its members."""
    if len(members) == 1:
        return bounds[members[0].name]
    return (np.min([np.min(bounds[q.name][0]) for q in members]),
            np.max([np.max(bounds[q.name][1]) for q in members]))


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
    value = reduce_tensor(weights, bound.type, axes, bound.outlier_prob, low_side=is_min, keepdims=True)
    return -value if is_min and bound.type in ("abs_max", "abs_quantile") else value


def quantizer_report(setup: MinMaxSetup, params: dict[str, FQParams], choices: dict[str, dict]) -> list[dict]:
    """One entry per FakeQuantize: where it is, its grid and its range (and, for a range chosen by error, the
    candidate chosen and every candidate's error)."""
    rows = []
    for quantizer in setup.plan.activations:
        settings = setup.activations[quantizer.name]
        rows.append({"name": quantizer.name, "kind": "activations", "tensor": quantizer.source,
                     "consumers": [f"{node}:{port}" for node, port in quantizer.consumers],
                     **_settings_report(settings, params[quantizer.name]),
                     **({"unified_with": quantizer.group} if quantizer.group != quantizer.name else {}),
                     **({"range_search": choices[quantizer.group]} if quantizer.group in choices else {})})
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
