"""FastBiasCorrection and BiasCorrection, standalone (after MinMaxQuantization) or inside DefaultQuantization."""
import numpy as np

from ..bias import (BIAS_CORRECTION_PASSES, BiasLayer, Correction, bias_statistics, bias_updates, fast_corrections,
                    find_bias_layers, measured_corrections, output_mean, zero_biases)
from ..collector import CollectedStatistics
from ..errors import ConfigError
from ..schema import schema_default
from ..transform import add_biases, set_biases
from .context import QuantizationState, RunContext
from .sampling import gather_statistics


def threshold_for(params: dict, fast: bool) -> float:
    """The threshold of params, else the default the schema gives the bias algorithm in use."""
    threshold = params.get("threshold")
    return threshold if threshold is not None else schema_default(
        "FastBiasCorrection" if fast else "BiasCorrection", "threshold")


def fbc_statistics(state: QuantizationState, params: dict) -> tuple[list[BiasLayer], set, list[str]]:
    """Layers FastBiasCorrection handles, the FP32 statistics it needs, and the tensors whose shape it needs."""
    layers = find_bias_layers(state.fp32, state.plan, params.get("apply_for_all_nodes", False))
    return layers, bias_statistics(layers), [layer.input_tensor for layer in layers]


def apply_fast_bias_correction(state: QuantizationState, layers: list[BiasLayer], collected: CollectedStatistics,
                               params: dict, ctx: RunContext) -> QuantizationState:
    with ctx.timed("bias correction"):
        corrections = fast_corrections(ctx.engine.core, state.fp32, layers, state.plan, state.params,
                                       collected.values, collected.shapes)
        threshold = threshold_for(params, fast=True)
        applied = [c for c in corrections if c.applies(threshold, forced=c.layer.bias_add is None)]
        model = _apply(state.model, applied)
    return state.with_section(_section("FastBiasCorrection", corrections, applied, threshold), model=model)


def bias_correction_statistics(state: QuantizationState) -> tuple[list[BiasLayer], set]:
    """Every quantized weighted layer and the FP32 output means BiasCorrection compares against."""
    layers = find_bias_layers(state.fp32, state.plan, include_unbiased=True)
    return layers, {output_mean(layer) for layer in layers}


def fp32_means_by_node(layers: list[BiasLayer], collected: CollectedStatistics) -> dict[str, np.ndarray]:
    return {layer.node: collected.values[output_mean(layer)] for layer in layers}


def apply_bias_correction(state: QuantizationState, fp32_means: dict[str, np.ndarray], params: dict,
                          ctx: RunContext) -> QuantizationState:
    """BiasCorrection: measure the quantized model's per-channel output means and shift biases, in passes."""
    threshold = threshold_for(params, fast=False)
    unbiased = [layer for layer in find_bias_layers(state.fp32, state.plan, params.get("apply_for_all_nodes", False))
                if layer.bias_add is None]
    model = add_biases(state.model, zero_biases(state.fp32, unbiased)) if unbiased else state.model
    added = {layer.node for layer in unbiased}
    layers = find_bias_layers(model, state.plan, include_unbiased=False)
    first_pass, total_shift = None, {}
    for _ in range(BIAS_CORRECTION_PASSES):
        measured = gather_statistics(model, {output_mean(layer) for layer in layers}, params, ctx)
        with ctx.timed("bias correction"):
            corrections = measured_corrections(layers, fp32_means, measured.values, model)
            applied = [c for c in corrections if c.applies(threshold, forced=c.layer.node in added)]
            model = _apply(model, applied)
        first_pass = first_pass or corrections
        for correction in applied:
            total_shift[correction.layer.node] = total_shift.get(correction.layer.node, 0) + correction.shift
    summary = [Correction(c.layer, total_shift.get(c.layer.node, np.zeros_like(c.shift)), c.magnitude)
               for c in first_pass]
    return state.with_section(_section("BiasCorrection", summary, [c for c in summary if c.layer.node in total_shift],
                                       threshold), model=model)


def _apply(model, corrections: list[Correction]):
    replaced, added = bias_updates(model, corrections)
    if replaced:
        model = set_biases(model, replaced)
    if added:
        model = add_biases(model, added)
    return model


def _section(name: str, corrections: list[Correction], applied: list[Correction], threshold: float) -> dict:
    applied_nodes = {c.layer.node for c in applied}
    return {"algorithm": name, "threshold": threshold, "layers": [
        {"node": c.layer.node, "bias": c.layer.bias_add, "max_abs_shift": float(np.max(np.abs(c.shift))),
         "magnitude": c.magnitude if np.isfinite(c.magnitude) else None, "applied": c.layer.node in applied_nodes}
        for c in corrections]}


def require_quantized(state: QuantizationState, name: str, ctx: RunContext, config_path: str) -> None:
    if state.plan is None:
        raise ConfigError.at(ctx.source, config_path, f"{name} corrects a quantized model: list it after "
                                                      f"MinMaxQuantization (or use DefaultQuantization)")


def run_fast_bias_correction(state: QuantizationState, params: dict, ctx: RunContext,
                             config_path: str) -> QuantizationState:
    require_quantized(state, "FastBiasCorrection", ctx, config_path)
    layers, stats, shapes = fbc_statistics(state, params)
    collected = gather_statistics(state.fp32, stats, params, ctx, record_shapes=shapes)
    return apply_fast_bias_correction(state, layers, collected, params, ctx)


def run_bias_correction(state: QuantizationState, params: dict, ctx: RunContext, config_path: str) -> QuantizationState:
    require_quantized(state, "BiasCorrection", ctx, config_path)
    layers, stats = bias_correction_statistics(state)
    collected = gather_statistics(state.fp32, stats, params, ctx)
    return apply_bias_correction(state, fp32_means_by_node(layers, collected), params, ctx)
