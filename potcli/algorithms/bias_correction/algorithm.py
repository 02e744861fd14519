"""FastBiasCorrection and BiasCorrection, standalone (after MinMaxQuantization) or inside DefaultQuantization."""
from dataclasses import dataclass

import numpy as np
import openvino as ov

from ...config.params import AlgorithmParams, BiasParams, Sampling
from ...engine.collector import CollectedStatistics
from ...graph.placement import QuantizationPlan
from ...graph.transform import add_biases, set_biases
from ...statistics.streaming import TensorStatistic
from ..context import QuantizationState, RunContext
from ..sampling import gather_statistics
from .shifts import (
    BIAS_CORRECTION_PASSES,
    BiasLayer,
    Correction,
    bias_updates,
    fast_corrections,
    find_bias_layers,
    input_mean,
    measured_corrections,
    output_mean,
    zero_biases,
)


@dataclass(frozen=True)
class BiasPlan:
    """The layers a bias correction handles and the FP32 statistics it needs, found once per quantization."""

    params: BiasParams
    layers: tuple[BiasLayer, ...]  # every quantized weighted layer of the FP32 model, biased or not

    @property
    def corrected(self) -> list[BiasLayer]:
        """Layers corrected: those with a bias, and with apply_for_all_nodes those without one too."""
        return [layer for layer in self.layers if layer.bias_add is not None or self.params.apply_for_all_nodes]

    def statistics(self) -> set[TensorStatistic]:
        """Fast: each corrected layer's per-channel input mean. Full: every layer's FP32 output mean."""
        if self.params.fast:
            return {input_mean(layer) for layer in self.corrected}
        return {output_mean(layer) for layer in self.layers}

    def shapes(self) -> list[str]:
        """Tensors whose shape FastBiasCorrection needs for its probe blobs."""
        return [layer.input_tensor for layer in self.corrected] if self.params.fast else []


def plan_bias_correction(fp32: ov.Model, plan: QuantizationPlan, params: BiasParams) -> BiasPlan:
    return BiasPlan(params, tuple(find_bias_layers(fp32, plan)))


def apply_bias_correction(state: QuantizationState, bias_plan: BiasPlan, collected: CollectedStatistics,
                          sampling: Sampling, ctx: RunContext) -> QuantizationState:
    """The bias correction of ``bias_plan`` on a quantized state, from FP32 statistics already collected."""
    if bias_plan.params.fast:
        return _fast_bias_correction(state, bias_plan, collected, ctx)
    fp32_means = {layer.node: collected.values[output_mean(layer)] for layer in bias_plan.layers}
    return _bias_correction(state, bias_plan, fp32_means, sampling, ctx)


def _fast_bias_correction(state: QuantizationState, bias_plan: BiasPlan, collected: CollectedStatistics,
                          ctx: RunContext) -> QuantizationState:
    threshold = bias_plan.params.threshold
    with ctx.timed("bias correction"):
        corrections = fast_corrections(ctx.engine, state.fp32, bias_plan.corrected, state.plan, state.params,
                                       collected.values, collected.shapes)
        applied = [c for c in corrections if c.applies(threshold, forced=c.layer.bias_add is None)]
        model = _apply(state.model, applied)
    return state.with_section(_section("FastBiasCorrection", corrections, applied, threshold), model=model)


def _bias_correction(state: QuantizationState, bias_plan: BiasPlan, fp32_means: dict[str, np.ndarray],
                     sampling: Sampling, ctx: RunContext) -> QuantizationState:
    """BiasCorrection: measure the quantized model's per-channel output means and shift biases, in passes."""
    threshold = bias_plan.params.threshold
    unbiased = [layer for layer in bias_plan.corrected if layer.bias_add is None]
    model = add_biases(state.model, zero_biases(state.fp32, unbiased)) if unbiased else state.model
    added = {layer.node for layer in unbiased}
    layers = [layer for layer in find_bias_layers(model, state.plan) if layer.bias_add is not None]
    first_pass, total_shift = None, {}
    for _ in range(BIAS_CORRECTION_PASSES):
        measured = gather_statistics(model, {output_mean(layer) for layer in layers}, sampling, ctx)
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


def run_bias_correction(state: QuantizationState, params: AlgorithmParams, ctx: RunContext) -> QuantizationState:
    """FastBiasCorrection or BiasCorrection listed after MinMaxQuantization (the config layer checks the order)."""
    bias_plan = plan_bias_correction(state.fp32, state.plan, params.bias)
    collected = gather_statistics(state.fp32, bias_plan.statistics(), params.sampling, ctx,
                                  record_shapes=bias_plan.shapes())
    return apply_bias_correction(state, bias_plan, collected, params.sampling, ctx)
