"""SmoothQuant as an algorithm: standalone (before the quantization algorithms), and as a step of
DefaultQuantization for transformer models (``smooth_quant: auto``), where default_quantization.py collects its
statistic in the same pass as the quantizers' (derived.py)."""
import numpy as np

from ...config.params import AlgorithmParams
from ...statistics.streaming import TensorStatistic
from ..context import QuantizationState, RunContext
from ..sampling import gather_statistics
from .smoothing import SmoothGroup, apply_smoothing, find_smooth_groups, smoothing_scales


def run_smooth_quant(state: QuantizationState, params: AlgorithmParams, ctx: RunContext) -> QuantizationState:
    """Listed before the quantization algorithms (the config layer checks the order): every MatMul with
    constant weights is smoothed, after a statistics pass of its own."""
    groups = find_smooth_groups(state.model)
    collected = gather_statistics(state.model, {group.statistic for group in groups}, params.sampling, ctx) \
        if groups else None
    return smoothed_state(state, groups, collected.values if groups else {}, params.smoothing.alpha, ctx)[0]


def smoothed_state(state: QuantizationState, groups: list[SmoothGroup],
                   statistics: dict[TensorStatistic, np.ndarray], alpha: float,
                   ctx: RunContext) -> tuple[QuantizationState, dict[str, np.ndarray]]:
    """The smoothed model (the new FP32 reference) from the groups' statistics, and each group's scale."""
    if not groups:
        return state.with_section({"algorithm": "SmoothQuant", "alpha": alpha, "groups": []}), {}
    with ctx.timed("smooth quant"):
        scales = {group.tensor: smoothing_scales(group, statistics[group.statistic], state.model, alpha)
                  for group in groups}
        model = apply_smoothing(state.model, groups, scales)
    report = [{"tensor": group.tensor, "layers": [layer.node for layer in group.layers],
               "scale_min": float(scales[group.tensor].min()), "scale_max": float(scales[group.tensor].max())}
              for group in groups]
    section = {"algorithm": "SmoothQuant", "alpha": alpha, "groups": report}
    return state.with_section(section, fp32=model, model=model), scales
