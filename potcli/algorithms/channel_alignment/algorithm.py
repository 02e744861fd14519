"""ActivationChannelAlignment as an algorithm: standalone, and as the first step of DefaultQuantization (POT)."""
from ...config.params import AlgorithmParams, Sampling
from ..context import QuantizationState, RunContext
from ..sampling import gather_statistics
from .alignment import align_channels, alignment_statistics, find_alignment_pairs


def run_activation_channel_alignment(state: QuantizationState, params: AlgorithmParams,
                                     ctx: RunContext) -> QuantizationState:
    """Listed before the quantization algorithms (the config layer checks the order)."""
    return align_if_possible(state, params.sampling, ctx, always_report=True)


def align_if_possible(state: QuantizationState, sampling: Sampling, ctx: RunContext,
                      always_report: bool = False) -> QuantizationState:
    """Align every eligible producer/consumer pair (one statistics pass); unchanged if there is none."""
    pairs = find_alignment_pairs(state.model)
    if not pairs:
        return state.with_section({"algorithm": "ActivationChannelAlignment", "pairs": []}) if always_report \
            else state
    collected = gather_statistics(state.model, alignment_statistics(pairs), sampling, ctx)
    with ctx.timed("channel alignment"):
        model, report = align_channels(state.model, pairs, collected.values)
    return state.with_section({"algorithm": "ActivationChannelAlignment", "pairs": report}, fp32=model, model=model)
