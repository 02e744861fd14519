"""DefaultQuantization: ActivationChannelAlignment (where it applies), SmoothQuant (transformer models),
MinMaxQuantization, then FastBiasCorrection (or BiasCorrection with use_fast_bias: false), as POT ran them with
NNCF's SmoothQuant added; alignment's and SmoothQuant's parameters, ranges and bias statistics in one pass.

It is split into ``prepare_and_collect`` (the model the quantizers go into and every statistic they need) and
``finish_default_quantization`` (everything after the pass), so that AccuracyAwareQuantization can try several
variants (presets, range estimators, bias algorithms) on statistics collected once.
"""
from dataclasses import dataclass, replace

import numpy as np

from ..config.params import AlgorithmParams
from ..engine.collector import CollectedStatistics
from ..statistics.streaming import TensorStatistic
from .bias_correction.algorithm import BiasPlan, apply_bias_correction, plan_bias_correction
from .channel_alignment.algorithm import aligned_state
from .channel_alignment.alignment import alignment_statistics, find_alignment_pairs
from .context import QuantizationState, RunContext
from .minmax.algorithm import prepare_quantization, quantized_state
from .minmax.setup import MinMaxSetup
from .sampling import (cache_prefetch, folded_search, gather_statistics, keeping_search_samples, search_samples,
                       statistics_indices)
from .smooth_quant.algorithm import smoothed_state
from .derived import ChannelMap, Derivation, derivations, source_name
from .smooth_quant.smoothing import SmoothGroup, apply_smoothing, find_smooth_groups, inverse_scale


@dataclass(frozen=True)
class DefaultQuantizationPlan:
    params: AlgorithmParams
    minmax: MinMaxSetup
    bias: BiasPlan

    def statistics(self) -> set[TensorStatistic]:
        return self.minmax.statistics() | self.bias.statistics()


@dataclass(frozen=True)
class Prepared:
    state: QuantizationState  # channels aligned and activations smoothed: what the quantizers go into
    plans: dict[str, DefaultQuantizationPlan]  # one per variant
    collected: CollectedStatistics  # everything every plan needs, on state.model
    samples: dict | None  # values for the range search, where it is on


def run_default_quantization(state: QuantizationState, params: AlgorithmParams,
                             ctx: RunContext) -> QuantizationState:
    prepared = prepare_and_collect(state, {"default": params}, ctx)
    return finish_default_quantization(prepared.state, prepared.plans["default"], prepared.collected, ctx,
                                       prepared.samples)


def prepare_and_collect(state: QuantizationState, variants: dict[str, AlgorithmParams],
                        ctx: RunContext) -> Prepared:
    """Channel alignment and SmoothQuant as ``variants["default"]`` says, then what DefaultQuantization with each
    variant needs, collected in the pass that gives alignment and SmoothQuant their parameters (statistics of the
    tensors they change are derived, see derived.py; the few that cannot be take a second pass)."""
    params = variants["default"]
    setup = prepare_quantization(state, params)
    pairs = find_alignment_pairs(state.model)
    groups = find_smooth_groups(state.model, {weight.node for weight in setup.plan.weights}) \
        if params.smoothing.applies(setup.transformer) else []
    maps = [pair.channel_map for pair in pairs] + [group.channel_map for group in groups]
    # The transformed model's structure, to plan on before the parameters are known (alignment changes only
    # constants).
    draft = replace(state, model=apply_smoothing(state.model, groups, _unit_scales(groups))) if groups else state
    plans = _plans(draft, variants)
    searched = _searched(plans)
    # The range search's values from this pass where it can take them, else from a pass of their own on the
    # transformed model, over samples this pass keeps
    folded = folded_search(draft.model, searched, params.sampling, ctx)
    if searched and not folded:
        ctx = keeping_search_samples(ctx, params.sampling)
    wanted, shapes = _needs(plans)
    direct, derived = _on_untransformed(wanted | folded, maps, params, ctx)
    first = gather_statistics(state.model, direct | _sources(derived) | alignment_statistics(pairs)
                              | {group.statistic for group in groups}, params.sampling, ctx,
                              record_shapes=[source_name(t, maps) for t in shapes],
                              prefetch=_prefetch(draft, params, ctx, maps))
    values = {stat: first.values[stat] for stat in direct}
    if maps:
        state, transforms = aligned_state(state, pairs, first.values, ctx) if pairs else (state, {})
        if groups:
            state, scales = smoothed_state(state, groups, first.values, params.smoothing.alpha, ctx)
            transforms |= {group.smoothed_tensor: (0.0, inverse_scale(scales[group.tensor])) for group in groups}
        values |= {stat: d.value(first.values, *transforms[d.map.target]) for stat, d in derived.items()}
        plans = _plans(state, variants)  # with the transformed weights
        wanted, shapes = _needs(plans)
    missing = wanted - values.keys()
    if missing:
        values |= gather_statistics(state.model, missing, params.sampling, ctx).values
    collected = CollectedStatistics(values, {t: first.shapes[source_name(t, maps)] for t in shapes}, first.samples)
    return Prepared(state, plans, collected, search_samples(state.model, searched, params.sampling, ctx, values))


def _searched(plans: dict[str, DefaultQuantizationPlan]) -> list[str]:
    """The tensors whose values the range search of some plan needs (the same before and after the transforms,
    which change no quantizer's place)."""
    return sorted({tensor for plan in plans.values() for tensor in plan.minmax.searched_tensors()})


def _on_untransformed(wanted: set[TensorStatistic], maps: list[ChannelMap], params: AlgorithmParams,
                      ctx: RunContext) -> tuple[set[TensorStatistic], dict[TensorStatistic, Derivation]]:
    """Of the statistics ``wanted`` on the transformed model: those the untransformed model has as they are
    (on tensors no transform changes), and those derived from others of its statistics (the rest needs the
    transformed model)."""
    derived = derivations(wanted, maps, len(statistics_indices(params.sampling, ctx)))
    changed = {m.target for m in maps}
    return {stat for stat in wanted - derived.keys() if stat.tensor not in changed}, derived


def _sources(derived: dict[TensorStatistic, Derivation]) -> set[TensorStatistic]:
    return {source for d in derived.values() for source in d.sources}


def _plans(state: QuantizationState, variants: dict[str, AlgorithmParams]) -> dict[str, DefaultQuantizationPlan]:
    return {key: plan_default_quantization(state, prepare_quantization(state, variant), variant)
            for key, variant in variants.items()}


def _needs(plans: dict[str, DefaultQuantizationPlan]) -> tuple[set[TensorStatistic], set[str]]:
    """Every statistic and every tensor shape ``plans`` need."""
    return (set().union(*(plan.statistics() for plan in plans.values())),
            {tensor for plan in plans.values() for tensor in plan.bias.shapes()})


def _unit_scales(groups: list[SmoothGroup]) -> dict[str, np.ndarray]:
    return {group.tensor: np.ones(group.channels) for group in groups}


def _prefetch(draft: QuantizationState, params: AlgorithmParams, ctx: RunContext,
              maps: list[ChannelMap]) -> tuple[set[TensorStatistic], set[str]]:
    """What DefaultQuantization would need under the parameter sets a rerun may try (with a statistics cache),
    as statistics of the untransformed model."""
    def needs(variant: AlgorithmParams):
        wanted, shapes = _needs(_plans(draft, {"default": variant}))
        direct, derived = _on_untransformed(wanted, maps, variant, ctx)
        return direct | _sources(derived), {source_name(t, maps) for t in shapes}

    return cache_prefetch(params, ctx, needs)


def plan_default_quantization(state: QuantizationState, setup: MinMaxSetup,
                              params: AlgorithmParams) -> DefaultQuantizationPlan:
    """What one DefaultQuantization of ``state.model`` with ``params`` needs from the statistics pass."""
    return DefaultQuantizationPlan(params, setup, plan_bias_correction(state.model, setup.plan, params.bias))


def finish_default_quantization(state: QuantizationState, plan: DefaultQuantizationPlan,
                                collected: CollectedStatistics, ctx: RunContext,
                                samples: dict | None = None) -> QuantizationState:
    """Ranges, FakeQuantize and bias correction from statistics (and range-search samples) already collected."""
    quantized = quantized_state(state, plan.minmax, collected, plan.params, ctx, samples)
    return apply_bias_correction(quantized, plan.bias, collected, plan.params.sampling, ctx)
