"""SmoothQuant as an algorithm: standalone (before the quantization algorithms), and as a step of
DefaultQuantization for transformer models (``smooth_quant: auto``)."""
from ...config.params import AlgorithmParams, Sampling
from ...graph.placement import QuantizationPlan
from ..context import QuantizationState, RunContext
from ..sampling import gather_statistics
from .smoothing import SmoothGroup, apply_smoothing, find_smooth_groups, smoothing_scales


def run_smooth_quant(state: QuantizationState, params: AlgorithmParams, ctx: RunContext) -> QuantizationState:
    """Listed before the quantization algorithms (the config layer checks the order): every MatMul with
    constant weights is smoothed."""
    return smooth(state, find_smooth_groups(state.model), params.smoothing.alpha, params.sampling, ctx)


def smooth_quantized_layers(state: QuantizationState, plan: QuantizationPlan, alpha: float, sampling: Sampling,
                            ctx: RunContext) -> QuantizationState:
    """SmoothQuant on the MatMuls ``plan`` quantizes (DefaultQuantization's step for transformer models)."""
    quantized = {weight.node for weight in plan.weights}
    return smooth(state, find_smooth_groups(state.model, quantized), alpha, sampling, ctx)


def smooth(state: QuantizationState, groups: list[SmoothGroup], alpha: float, sampling: Sampling,
           ctx: RunContext) -> QuantizationState:
    """One statistics pass for the groups' activations, then the smoothed model (the new FP32 reference)."""
    if not groups:
        return state.with_section({"algorithm": "SmoothQuant", "alpha": alpha, "groups": []})
    collected = gather_statistics(state.model, {group.statistic for group in groups}, sampling, ctx)
    with ctx.timed("smooth quant"):
        scales = {group.tensor: smoothing_scales(group, collected.values[group.statistic], state.model, alpha)
                  for group in groups}
        model = apply_smoothing(state.model, groups, scales)
    report = [{"tensor": group.tensor, "layers": [layer.node for layer in group.layers],
               "scale_min": float(scales[group.tensor].min()), "scale_max": float(scales[group.tensor].max())}
              for group in groups]
    return state.with_section({"algorithm": "SmoothQuant", "alpha": alpha, "groups": report}, fp32=model, model=model)
