"""The algorithms a config can name, by POT's names."""
from .accuracy_aware import run_accuracy_aware
from .bias_correction import run_bias_correction, run_fast_bias_correction
from .channel_alignment import run_activation_channel_alignment
from .context import QuantizationState, RunContext
from .quantization import run_default_quantization, run_minmax

ALGORITHMS = {
    "DefaultQuantization": run_default_quantization,
    "MinMaxQuantization": run_minmax,
    "FastBiasCorrection": run_fast_bias_correction,
    "BiasCorrection": run_bias_correction,
    "ActivationChannelAlignment": run_activation_channel_alignment,
    "AccuracyAwareQuantization": run_accuracy_aware,
}


def run_algorithms(state: QuantizationState, algorithms, ctx: RunContext, path_prefix: str) -> QuantizationState:
    """Run each ``AlgorithmSpec`` in order; ``path_prefix`` locates the list in the config for messages."""
    for index, spec in enumerate(algorithms):
        with ctx.timed(spec.name):
            state = ALGORITHMS[spec.name](state, spec.params, ctx, f"{path_prefix}[{index}].params")
    return state
