"""MinMaxQuantization: place FakeQuantize, estimate ranges from statistics, insert the quantizers."""
from ...config.params import AlgorithmParams
from ...errors import ModelError
from ...graph.transform import insert_fake_quantize
from ..context import QuantizationState, RunContext
from ..sampling import cache_prefetch, folded_search, gather_statistics, search_samples
from .quantizer_params import compute_params, quantizer_report
from .setup import MinMaxSetup, prepare_minmax


def run_minmax(state: QuantizationState, params: AlgorithmParams, ctx: RunContext) -> QuantizationState:
    setup = prepare_quantization(state, params)
    prefetch = cache_prefetch(params, ctx, lambda variant: (prepare_quantization(state, variant).statistics(), ()))
    searched = setup.searched_tensors()
    folded = folded_search(state.model, searched, params.sampling, ctx)
    collected = gather_statistics(state.model, setup.statistics() | folded, params.sampling, ctx, prefetch=prefetch)
    samples = search_samples(state.model, searched, params.sampling, ctx, collected.values)
    return quantized_state(state, setup, collected, params, ctx, samples)


def prepare_quantization(state: QuantizationState, params: AlgorithmParams) -> MinMaxSetup:
    setup = prepare_minmax(state.model, params.quantization)
    if not setup.plan.activations and not setup.plan.weights:
        raise ModelError("the model has no operation to quantize (no Convolution, MatMul or other operation the "
                         f"{params.quantization.target_device} rules quantize outside the ignored scope); "
                         f"nothing was written")
    return setup


def quantized_state(state: QuantizationState, setup: MinMaxSetup, collected, params: AlgorithmParams,
                    ctx: RunContext, samples: dict | None = None) -> QuantizationState:
    """``state`` with FakeQuantize inserted; ``samples``: tensor values for the range search, where it is on."""
    with ctx.timed("ranges"):
        fq_params, choices = compute_params(state.model, setup, collected, samples)
        model = insert_fake_quantize(state.model, setup.plan, fq_params)
    ctx.dump(model, "quantized")
    section = {"algorithm": "MinMaxQuantization", "preset": params.quantization.effective_preset(setup.transformer),
               "model_type": "transformer" if setup.transformer else None, "model_type_reason": setup.model_type_reason,
               "samples": collected.samples, "quantizers": quantizer_report(setup, fq_params, choices)}
    return state.with_section(section, fp32=state.model, model=model, plan=setup.plan, params=fq_params)
