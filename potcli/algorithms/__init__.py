"""The algorithms a config can name, by POT's names, and the loop that runs a list of them."""
import logging
import time

from ..errors import ParamError
from .accuracy_aware.algorithm import run_accuracy_aware
from .bias_correction.algorithm import run_bias_correction
from .channel_alignment.algorithm import run_activation_channel_alignment
from .context import QuantizationState, RunContext
from .default_quantization import run_default_quantization
from .minmax.algorithm import run_minmax
from .smooth_quant.algorithm import run_smooth_quant

ALGORITHMS = {
    "DefaultQuantization": run_default_quantization,
    "MinMaxQuantization": run_minmax,
    "FastBiasCorrection": run_bias_correction,
    "BiasCorrection": run_bias_correction,
    "ActivationChannelAlignment": run_activation_channel_alignment,
    "AccuracyAwareQuantization": run_accuracy_aware,
    "SmoothQuant": run_smooth_quant,
}
# POT logged each algorithm's start and end at INFO, and its API users see them after init_logger(); potq run
# prints a summary instead and keeps these quiet below debug (cli._configure_logging).
log = logging.getLogger("potq.algorithms")


def run_algorithms(state: QuantizationState, algorithms, ctx: RunContext, source: str,
                   path_prefix: str) -> QuantizationState:
    """Run each ``AlgorithmParams`` in order. A ParamError gets its place in the config here: ``source`` names the
    file (or API call) and ``path_prefix`` the list (``compression.algorithms``)."""
    for index, params in enumerate(algorithms):
        log.info("Start algorithm: %s", params.name)
        log.debug("%s parameters: %s", params.name, params.config)
        started = time.perf_counter()
        try:
            with ctx.timed(params.name):
                state = ALGORITHMS[params.name](state, params, ctx)
        except ParamError as e:
            raise e.located(source, f"{path_prefix}[{index}].params") from e
        log.info("Finished: %s in %.1f s", params.name, time.perf_counter() - started)
    return state
