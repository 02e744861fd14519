"""DefaultQuantization: ActivationChannelAlignment (where it applies), SmoothQuant (transformer models),
MinMaxQuantization, then FastBiasCorrection (or BiasCorrection with use_fast_bias: false), as POT ran them with
NNCF's SmoothQuant added; ranges and bias statistics in one pass.

It is split into ``plan_default_quantization`` (what one pass must collect) and ``finish_default_quantization``
(everything after the pass), so that AccuracyAwareQuantization can try several variants (presets, range
estimators, bias algorithms) on statistics collected once.
"""
from dataclasses import dataclass

from ..config.params import AlgorithmParams
from ..engine.collector import CollectedStatistics
from ..statistics.streaming import TensorStatistic
from .bias_correction.algorithm import BiasPlan, apply_bias_correction, plan_bias_correction
from .channel_alignment.algorithm import align_if_possible
from .context import QuantizationState, RunContext
from .minmax.algorithm import prepare_quantization, quantized_state
from .minmax.setup import MinMaxSetup
from .sampling import cache_prefetch, gather_statistics, search_samples
from .smooth_quant.algorithm import smooth_quantized_layers


@dataclass(frozen=True)
class DefaultQuantizationPlan:
    params: AlgorithmParams
    minmax: MinMaxSetup
    bias: BiasPlan

    def statistics(self) -> set[TensorStatistic]:
        return self.minmax.statistics() | self.bias.statistics()


def run_default_quantization(state: QuantizationState, params: AlgorithmParams,
                             ctx: RunContext) -> QuantizationState:
    state, setup = prepare_model(state, params, ctx)
    plan = plan_default_quantization(state, setup, params)
    collected = gather_statistics(state.model, plan.statistics(), params.sampling, ctx,
                                  record_shapes=plan.bias.shapes(), prefetch=prefetch_statistics(state, params, ctx))
    samples = search_samples(state.model, setup.searched_tensors(), params.sampling, ctx)
    return finish_default_quantization(state, plan, collected, ctx, samples)


def prepare_model(state: QuantizationState, params: AlgorithmParams,
                  ctx: RunContext) -> tuple[QuantizationState, MinMaxSetup]:
    """Channel alignment and (for transformer models) SmoothQuant on ``state``; the quantizer setup of the result."""
    setup = prepare_quantization(state, params)
    state = align_if_possible(state, params.sampling, ctx)  # keeps node names: the setup still holds
    if params.smoothing.applies(setup.transformer):
        state = smooth_quantized_layers(state, setup.plan, params.smoothing.alpha, params.sampling, ctx)
        setup = prepare_quantization(state, params)  # quantizers now read the smoothed activations
    return state, setup


def prefetch_statistics(state: QuantizationState, params: AlgorithmParams,
                        ctx: RunContext) -> tuple[set[TensorStatistic], set[str]]:
    """What DefaultQuantization of ``state`` would need under the parameter sets a rerun may try."""
    def needs(variant: AlgorithmParams):
        plan = plan_default_quantization(state, prepare_quantization(state, variant), variant)
        return plan.statistics(), plan.bias.shapes()

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
