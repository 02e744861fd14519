"""ActivationChannelAlignment as an algorithm: standalone, and as the first step of DefaultQuantization (POT)."""
import numpy as np

from ...config.params import AlgorithmParams, Sampling
from ...statistics.streaming import TensorStatistic
from ..context import QuantizationState, RunContext
from ..sampling import gather_statistics
from .alignment import AlignmentPair, align_channels, alignment_statistics, find_alignment_pairs


def run_activation_channel_alignment(state: QuantizationState, params: AlgorithmParams,
                                     ctx: RunContext) -> QuantizationState:
    """Listed before the quantization algorithms (the config layer checks the order)."""
    return align_if_possible(state, params.sampling, ctx, always_report=True)


def align_if_possible(state: QuantizationState, sampling: Sampling, ctx: RunContext,
                      always_report: bool = False) -> QuantizationState:
    """Align every eligible producer/consumer pair (one statistics pass); unchanged if there is none."""
    pairs = find_alignment_pairs(state.model)
    if not pairs:
        return aligned_state(state, [], {}, ctx)[0] if always_report else state
    collected = gather_statistics(state.model, alignment_statistics(pairs), sampling, ctx)
    return aligned_state(state, pairs, collected.values, ctx)[0]


def aligned_state(state: QuantizationState, pairs: list[AlignmentPair], values: dict[TensorStatistic, np.ndarray],
                  ctx: RunContext) -> tuple[QuantizationState, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The aligned model (the new FP32 reference) from the pairs' statistics, and per pair's tensor the
    (shift, factor) of its values."""
    if not pairs:
        return state.with_section({"algorithm": "ActivationChannelAlignment", "pairs": []}), {}
    with ctx.timed("channel alignment"):
        model, report, transforms = align_channels(state.model, pairs, values)
    section = {"algorithm": "ActivationChannelAlignment", "pairs": report}
    return state.with_section(section, fp32=model, model=model), transforms
