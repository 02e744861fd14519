"""What POT had and potq does not carry over: one line each, saying why and what to use instead (exit 2).

``findings(instance, definition)`` walks a config (or the part of one that POT's Python API passes) and returns
a Finding for every key, value or algorithm listed here; validation reports it in place of the bare schema
errors ("unknown key", "not one of") at or under the same place. The tables cover every key of POT's documented
config files (tools/pot/configs of OpenVINO 2022.3 and 2023.3) and every algorithm name POT registered.
"""
from dataclasses import dataclass

PREFIX = "not carried over from POT: "


def _say(what: str, instead: str) -> str:
    return f"{PREFIX}{what}; use {instead} instead"


_GNA = ("GNA targets (16-bit quantization for Intel's Gaussian & Neural Accelerator)",
        "target_device ANY, CPU or GPU")
_TPE = ("{name} (a search driven by POT's TPE / nevergrad optimizers)",
        "AccuracyAwareQuantization with tune_hyperparams: true (a grid search of range estimators and bias "
        "correction)")
_SPARSITY = ("{name} (weight sparsity, not quantization)", "a sparsity or pruning tool before potq (e.g. NNCF)")
_ANNOTATION_FREE = ("annotation-free AccuracyAwareQuantization (labels made from the FP32 model's predictions by "
                    "the Accuracy Checker)", "a Metric that scores agreement with the FP32 model's outputs")
_LAYERWISE = ("layer-wise fine-tuning of weights (use_layerwise_tuning and its parameters; it needed PyTorch)",
              "AccuracyAwareQuantization, which keeps the layers that hurt accuracy in FP32")

ALGORITHMS = {  # POT's registered (and earlier documented) algorithm names potq has no counterpart for
    "AccuracyAwareGNA": ("AccuracyAwareGNA (accuracy-aware quantization for GNA targets, reverting layers to 16 bits)",
                         "AccuracyAwareQuantization with target_device ANY, CPU or GPU"),
    "OverflowCorrection": ("OverflowCorrection (rescaled weights whose 16-bit GNA sums could overflow)",
                           "DefaultQuantization, whose saturation_fix protects CPUs without VNNI"),
    "INT4MixedQuantization": ("INT4MixedQuantization (4-bit weights, reverted to 8 bits layer by layer)",
                              "AccuracyAwareQuantization (8-bit, reverting to FP32), or NNCF's compress_weights "
                              "for 4-bit weights"),
    "DataFreeQuantization": ("DataFreeQuantization (ranges from weights and BatchNorm statistics, no data)",
                             "DefaultQuantization with engine.type: simplified and a folder of representative "
                             "images"),
    "RangeSupervision": ("RangeSupervision (Clamp after activations for fault tolerance; it did not quantize)",
                         "Clamp operations added to the model with OpenVINO's API"),
    "WeightBiasCorrection": ("WeightBiasCorrection (restored the mean and variance of quantized weights)",
                             "FastBiasCorrection or BiasCorrection (DefaultQuantization runs one)"),
    "OutlierChannelSplitting": ("OutlierChannelSplitting (duplicated channels holding outlier weights)",
                                "DefaultQuantization with a quantile weights range_estimator"),
    "QuantNoiseEstimator": ("QuantNoiseEstimator (wrote each layer's quantization noise to a CSV file)",
                            "report.json (every quantizer and its range) or AccuracyAwareQuantization (ranks layers "
                            "by their effect on the metric)"),
    "TunableQuantization": _TPE,
    "OptimizationAlgorithm": _TPE,
    "RangeOptimization": _TPE,
    "QuantileTuningAlgorithm": _TPE,
    "ParamsGridSearchAlgorithm": ("ParamsGridSearchAlgorithm as a list entry (AccuracyAwareQuantization ran it)",
                                  "AccuracyAwareQuantization with tune_hyperparams: true"),
    "WeightSparsity": _SPARSITY,
    "BaseWeightSparsity": _SPARSITY,
    "MagnitudeSparsity": _SPARSITY,
}

TARGET_DEVICES = {
    "GNA": _GNA,
    "GNA3": _GNA,
    "GNA3.5": _GNA,
    "VPU": ("target_device VPU (POT 2022's Myriad rules; POT 2023 renamed it NPU and shipped no rules for it)",
            "target_device ANY, or NNCF's nncf.quantize(..., target_device=nncf.TargetDevice.NPU) for NPU-specific "
            "placement"),
    "NPU": ("target_device NPU (POT 2023.3 shipped no NPU rules: its npu.json was missing and such runs failed, and "
            "potq cannot check on this machine what the NPU plugin runs in INT8)",
            "target_device ANY, or NNCF's nncf.quantize(..., target_device=nncf.TargetDevice.NPU) for NPU-specific "
            "placement"),
}

LAYERWISE_KEYS = ("num_samples_for_tuning", "batch_size", "optimizer", "loss", "tuning_iterations", "random_seed",
                  "use_ranking_subset", "calibration_indices_pool", "calculate_grads_on_loss_increase_only",
                  "weight_decay")


def _present(_value) -> bool:
    return True


def _is_true(value) -> bool:
    return value is True


# (key, whether its value is the feature, what, instead) for an algorithm's params and for the engine block;
# ``{value}`` in ``what`` is the key's value.
PARAM_KEYS = (
    ("use_layerwise_tuning", _is_true, *_LAYERWISE),
    *((key, _present, *_LAYERWISE) for key in LAYERWISE_KEYS),
    ("annotation_free", _is_true, *_ANNOTATION_FREE),
    ("annotation_conf_threshold", _present, *_ANNOTATION_FREE),
    ("base_algorithm", lambda value: isinstance(value, str) and value != "DefaultQuantization",
     "base_algorithm {value} (AccuracyAwareQuantization starts from DefaultQuantization in potq)",
     "DefaultQuantization's own params (preset, weights, activations, use_fast_bias) in this block"),
)
ENGINE_KEYS = (
    ("device", lambda value: isinstance(value, str) and value != "CPU",
     "statistics and evaluation on {value} (potq runs them on CPU, and the quantized model does not depend on "
     "where they ran)",
     "device: CPU (or leave it out), and compression.target_device for the hardware the model is for"),
)


@dataclass(frozen=True)
class Finding:
    path: tuple  # where the key or value is
    message: str
    covers: tuple  # schema errors at or under this path are replaced by the message

    def covers_path(self, path) -> bool:
        return tuple(path[:len(self.covers)]) == self.covers


def findings(instance, definition: str | None = None) -> list[Finding]:
    """Every POT feature potq does not carry in ``instance`` (a whole config, or the ``$defs`` entry named)."""
    if definition is None:
        return _whole_config(instance)
    walk = {"algorithm": _algorithm, "model": _model, "apiEngine": _engine}.get(definition)
    return walk(instance, ()) if walk else []


def _whole_config(config) -> list[Finding]:
    if not isinstance(config, dict):
        return []
    found = []
    if "optimizer" in config:
        found.append(_finding(("optimizer",), "the optimizer block (POT's TPE search over quantization settings)",
                              "AccuracyAwareQuantization with tune_hyperparams: true"))
    found += _model(config.get("model"), ("model",)) + _engine(config.get("engine"), ("engine",))
    compression = config.get("compression")
    if isinstance(compression, dict):
        found += _target_device(compression, ("compression",))
        algorithms = compression.get("algorithms")
        for index, entry in enumerate(algorithms if isinstance(algorithms, list) else []):
            found += _algorithm(entry, ("compression", "algorithms", index))
    return found


def _model(model, path: tuple) -> list[Finding]:
    if isinstance(model, dict) and "cascade" in model:
        return [_finding((*path, "cascade"), "cascaded models (model.cascade, quantized together in one run)",
                         "one config per model of the cascade, each with its own DataLoader", covers=path)]
    return []


def _engine(engine, path: tuple) -> list[Finding]:
    if not isinstance(engine, dict):
        return []
    found = []
    if engine.get("type") == "data_free":
        found.append(_finding((*path, "type"), "the data_free engine (synthetic images; documented, but absent "
                                               "from the code of POT 2022.3 and 2023.3)",
                              "engine.type: simplified with data_source (a folder or a .txt list of real images)",
                              covers=path))
    return found + _keyed(engine, path, ENGINE_KEYS)


def _target_device(block: dict, path: tuple) -> list[Finding]:
    device = block.get("target_device")
    if isinstance(device, str) and device in TARGET_DEVICES:
        return [_finding((*path, "target_device"), *TARGET_DEVICES[device])]
    return []


def _algorithm(entry, path: tuple) -> list[Finding]:
    if not isinstance(entry, dict):
        return []
    name = entry.get("name")
    if isinstance(name, str) and name in ALGORITHMS:
        what, instead = ALGORITHMS[name]
        return [_finding((*path, "name"), what.format(name=name), instead, covers=path)]
    params = entry.get("params")
    return _params(params, (*path, "params")) if isinstance(params, dict) else []


def _params(params: dict, path: tuple) -> list[Finding]:
    found = _target_device(params, path) + _keyed(params, path, PARAM_KEYS)
    ignored = params.get("ignored")
    if isinstance(ignored, dict) and "skip_model" in ignored:
        found.append(_finding((*path, "ignored", "skip_model"), "skip_model (left one model of a cascade "
                                                                "unquantized)",
                              "one config per model, and no config for the model to keep in FP32"))
    return found


def _keyed(block: dict, path: tuple, table) -> list[Finding]:
    return [_finding((*path, key), what.format(value=block[key]), instead)
            for key, applies, what, instead in table if key in block and applies(block[key])]


def _finding(path: tuple, what: str, instead: str, covers: tuple | None = None) -> Finding:
    return Finding(path, _say(what, instead), path if covers is None else covers)
