"""MinMaxQuantization and DefaultQuantization (MinMax + bias correction, statistics collected in one pass).

DefaultQuantization is split into ``default_quantization_statistics`` (what one pass must collect) and
``finish_default_quantization`` (everything after it), so that AccuracyAwareQuantization can try several
variants (presets, range estimators, bias algorithms) on statistics collected once.
"""
from ..errors import ConfigError, ModelError
from ..transform import insert_fake_quantize
from .bias_correction import (apply_bias_correction, apply_fast_bias_correction, bias_correction_statistics,
                              fbc_statistics, fp32_means_by_node)
from .channel_alignment import align_if_possible
from .context import QuantizationState, RunContext
from .minmax import MinMaxSetup, compute_params, prepare_minmax, quantizer_report
from .sampling import gather_statistics


def run_minmax(state: QuantizationState, params: dict, ctx: RunContext, config_path: str) -> QuantizationState:
    setup = prepare_quantization(state, params, ctx, config_path)
    collected = gather_statistics(state.model, setup.statistics(), params, ctx)
    return quantized_state(state, setup, collected, params, ctx)


def run_default_quantization(state: QuantizationState, params: dict, ctx: RunContext,
                             config_path: str) -> QuantizationState:
    """POT's order: ActivationChannelAlignment (where it applies), MinMaxQuantization, then FastBiasCorrection
    (or BiasCorrection with use_fast_bias: false)."""
    setup = prepare_quantization(state, params, ctx, config_path)
    state = align_if_possible(state, params, ctx)  # keeps node names: the plan still holds
    stats, shapes = default_quantization_statistics(state, setup, params)
    collected = gather_statistics(state.model, stats, params, ctx, record_shapes=shapes)
    return finish_default_quantization(state, setup, collected, params, ctx)


def default_quantization_statistics(state: QuantizationState, setup: MinMaxSetup, params: dict):
    """The statistics (and tensor shapes) one DefaultQuantization needs: ranges plus its bias algorithm's."""
    planned = QuantizationState(fp32=state.model, model=state.model, plan=setup.plan)
    if params.get("use_fast_bias", True):
        _, bias_stats, shapes = fbc_statistics(planned, params)
        return setup.statistics() | bias_stats, shapes
    _, bias_stats = bias_correction_statistics(planned)
    return setup.statistics() | bias_stats, []


def finish_default_quantization(state: QuantizationState, setup: MinMaxSetup, collected, params: dict,
                                ctx: RunContext) -> QuantizationState:
    """Ranges, FakeQuantize and bias correction from statistics already collected."""
    quantized = quantized_state(state, setup, collected, params, ctx)
    if params.get("use_fast_bias", True):
        layers, _, _ = fbc_statistics(quantized, params)
        return apply_fast_bias_correction(quantized, layers, collected, params, ctx)
    layers, _ = bias_correction_statistics(quantized)
    return apply_bias_correction(quantized, fp32_means_by_node(layers, collected), params, ctx)


def prepare_quantization(state: QuantizationState, params: dict, ctx: RunContext, config_path: str) -> MinMaxSetup:
    if state.plan is not None:
        raise ConfigError.at(ctx.source, config_path, "the model is already quantized by an earlier algorithm "
                                                      "in the list; quantize once")
    setup = prepare_minmax(state.model, params, ctx, config_path)
    if not setup.plan.activations and not setup.plan.weights:
        raise ModelError("the model has no operation to quantize (no Convolution, MatMul or other operation the "
                         f"{ctx.device_for(params)} rules quantize outside the ignored scope); nothing was written")
    return setup


def quantized_state(state, setup, collected, params, ctx) -> QuantizationState:
    with ctx.timed("ranges"):
        fq_params = compute_params(state.model, setup, collected)
        model = insert_fake_quantize(state.model, setup.plan, fq_params)
    ctx.dump(model, "quantized")
    section = {"algorithm": "MinMaxQuantization", "preset": params.get("preset"), "samples": collected.samples,
               "quantizers": quantizer_report(setup, fq_params)}
    return state.with_section(section, fp32=state.model, model=model, plan=setup.plan, params=fq_params)
