"""ActivationChannelAlignment as an algorithm: standalone, and as the first step of DefaultQuantization (POT)."""
from ..alignment import align_channels, alignment_statistics, find_alignment_pairs
from ..errors import ConfigError
from .context import QuantizationState, RunContext
from .sampling import gather_statistics


def run_activation_channel_alignment(state: QuantizationState, params: dict, ctx: RunContext,
                                     config_path: str) -> QuantizationState:
    if state.plan is not None:
        raise ConfigError.at(ctx.source, config_path, "ActivationChannelAlignment changes FP32 weights: list it "
                                                      "before the quantization algorithms")
    return align_if_possible(state, params, ctx, always_report=True)


def align_if_possible(state: QuantizationState, params: dict, ctx: RunContext,
                      always_report: bool = False) -> QuantizationState:
    """Align every eligible producer/consumer pair (one statistics pass); unchanged if there is none."""
    pairs = find_alignment_pairs(state.model)
    if not pairs:
        return state.with_section({"algorithm": "ActivationChannelAlignment", "pairs": []}) if always_report \
            else state
    collected = gather_statistics(state.model, alignment_statistics(pairs), params, ctx)
    with ctx.timed("channel alignment"):
        model, report = align_channels(state.model, pairs, collected.values)
    return state.with_section({"algorithm": "ActivationChannelAlignment", "pairs": report}, fp32=model, model=model)
