"""The algorithms a config can name, by POT's names."""
from ..errors import ConfigError
from .accuracy_aware import run_accuracy_aware
from .bias_correction import run_bias_correction, run_fast_bias_correction
from .context import QuantizationState, RunContext
from .quantization import run_default_quantization, run_minmax


def _not_implemented(state: QuantizationState, params: dict, ctx: RunContext, config_path: str):
    raise ConfigError.at(ctx.source, config_path.removesuffix(".params") + ".name",
                         "ActivationChannelAlignment is accepted for POT compatibility but not implemented by potq; "
                         "remove it (NNCF also leaves channel alignment off by default)")


ALGORITHMS = {
    "DefaultQuantization": run_default_quantization,
    "MinMaxQuantization": run_minmax,
    "FastBiasCorrection": run_fast_bias_correction,
    "BiasCorrection": run_bias_correction,
    "ActivationChannelAlignment": _not_implemented,
    "AccuracyAwareQuantization": run_accuracy_aware,
}


def run_algorithms(state: QuantizationState, algorithms, ctx: RunContext, path_prefix: str) -> QuantizationState:
    """Run each ``AlgorithmSpec`` in order; ``path_prefix`` locates the list in the config for messages."""
    for index, spec in enumerate(algorithms):
        with ctx.timed(spec.name):
            state = ALGORITHMS[spec.name](state, spec.params, ctx, f"{path_prefix}[{index}].params")
    return state
