"""``potq run --dry-run``: what the algorithm list would do to a model, decided from the config and the model
alone. Nothing here reads data, loads the user's plugins, compiles a model or writes a file.
"""
import openvino as ov

from ..config.params import QUANTIZING, AlgorithmParams
from ..errors import ModelError, ParamError
from ..graph.placement import QuantizationPlan, plan_quantization
from ..graph.queries import nodes_by_name
from ..rules import device_rules
from .channel_alignment.alignment import find_alignment_pairs
from .minmax.setup import ignored_nodes, model_family


def preview_algorithms(model: ov.Model, algorithms: tuple[AlgorithmParams, ...], source: str,
                       path_prefix: str) -> dict:
    """Per algorithm: the steps it would run, in order; for quantizing ones, the operations that would get
    quantized inputs or weights, the nodes left in floating point and why, and ignored-scope entries that
    match nothing. ``problems``: the one-line errors ``potq run`` would stop with, and their exit codes."""
    entries, problems = [], []
    for index, params in enumerate(algorithms):
        transformer, reason = model_family(model, params.quantization.model_type) if params.quantization else \
            (False, "")
        entry = {"index": index, "algorithm": params.name, "steps": _steps(model, params, transformer)}
        if params.name in QUANTIZING:
            entry["model_type"] = {"transformer": transformer, "reason": reason}
            ignored, unmatched = ignored_nodes(model, params.quantization, transformer)
            plan = plan_quantization(model, device_rules(params.quantization.target_device), ignored)
            entry.update(_placement(model, plan))
            location = f"{path_prefix}[{index}].params"
            entry["unmatched_ignored"] = [{"path": f"{location}.{path}", "message": message}
                                          for path, message in unmatched]
            problems += [{"exit_code": ParamError.exit_code, "message": line}
                         for line in ParamError.several(unmatched).located(source, location).problems] \
                if unmatched else []
            if not plan.activations and not plan.weights:
                problems.append({"exit_code": ModelError.exit_code,
                                 "message": f"algorithms[{index}] {params.name}: the model has no operation to "
                                            f"quantize outside the ignored scope"})
        entries.append(entry)
    return {"algorithms": entries, "problems": problems}


def _placement(model: ov.Model, plan: QuantizationPlan) -> dict:
    nodes = nodes_by_name(model)
    quantized: dict[str, dict] = {}
    for quantizer in plan.activations:
        for node, port in quantizer.consumers:
            row = quantized.setdefault(node, {"type": nodes[node].get_type_name(), "inputs": [], "weights": False})
            row["inputs"].append(port)
    for weights in plan.weights:
        quantized.setdefault(weights.node, {"type": nodes[weights.node].get_type_name(), "inputs": [],
                                            "weights": False})["weights"] = True
    order = {node.get_friendly_name(): i for i, node in enumerate(model.get_ordered_ops())}
    return {"quantizers": {"activations": len(plan.activations), "weights": len(plan.weights)},
            "quantized": {name: {**row, "inputs": sorted(row["inputs"])}
                          for name, row in sorted(quantized.items(), key=lambda item: order[item[0]])},
            "floating_point": dict(sorted(plan.fp32_nodes.items(), key=lambda item: order[item[0]]))}


def _steps(model: ov.Model, params: AlgorithmParams, transformer: bool) -> list[str]:
    name = params.name
    if name == "ActivationChannelAlignment":
        return [_alignment(model)]
    if name == "SmoothQuant":
        return [f"SmoothQuant (alpha {params.smoothing.alpha:g}) on every MatMul with constant weights"]
    if name in ("FastBiasCorrection", "BiasCorrection", "MinMaxQuantization"):
        return [_minmax(params, transformer) if name == "MinMaxQuantization" else name]
    bias = "FastBiasCorrection" if params.bias.fast else "BiasCorrection"
    steps = [_alignment(model)]
    if params.smoothing.applies(transformer):
        steps.append(f"SmoothQuant (alpha {params.smoothing.alpha:g}) on the quantized MatMuls")
    steps += [_minmax(params, transformer), bias]
    if name == "AccuracyAwareQuantization":
        steps += _accuracy_aware_steps(params)
    return steps


def _alignment(model: ov.Model) -> str:
    pairs = len(find_alignment_pairs(model))
    return f"ActivationChannelAlignment ({pairs} pair{'s' if pairs != 1 else ''} of Convolutions)" if pairs \
        else "ActivationChannelAlignment (skipped: no eligible pair of Convolutions)"


def _minmax(params: AlgorithmParams, transformer: bool) -> str:
    subset = params.sampling.subset_size
    return (f"MinMaxQuantization (preset {params.quantization.effective_preset(transformer)}, statistics on "
            f"{'the whole dataset' if subset is None else f'{subset} samples'})")


def _accuracy_aware_steps(params: AlgorithmParams) -> list[str]:
    accuracy = params.accuracy
    baselines = accuracy.metrics and all(m.baseline_value is not None for m in accuracy.metrics)
    steps = ["FP32 baseline from the config's baseline_value" if baselines else "FP32 evaluation",
             "INT8 evaluation"]
    if accuracy.convert_to_mixed_preset and params.quantization.preset in (None, "performance"):
        steps.append("convert_to_mixed_preset: the mixed preset if it helps")
    if accuracy.tune_hyperparams:
        steps.append("tune_hyperparams: activation range estimators scored on the ranking subset")
    limit = f", at most {accuracy.max_iter_num} layers" if accuracy.max_iter_num else ""
    drop = f"{accuracy.maximal_drop:g} ({'relative' if accuracy.relative else 'absolute'})"
    steps.append(f"revert the best-ranked layer to FP32 while the drop exceeds {drop}{limit}")
    return steps
