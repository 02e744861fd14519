"""Typed, frozen parameters of each algorithm, built once from a validated config.

The schema has already filled every default; this module gives the values types and resolves, in one place,
what POT resolved at run time: ``target_device`` / ``model_type`` inside params winning over the compression
block, the threshold of the bias correction actually used, and the quantizer settings a preset implies
(presets.py). Code below the config layer reads these objects, never a params dict.
"""
from dataclasses import dataclass, replace

from ..errors import ParamError
from ..rules import device_rules
from .presets import QuantizerSettings, resolve_settings
from .schema import schema_default

# Algorithms that insert FakeQuantize, and those that need a model quantized by one of them before.
QUANTIZING = ("MinMaxQuantization", "DefaultQuantization", "AccuracyAwareQuantization")
NEEDS_QUANTIZED = ("FastBiasCorrection", "BiasCorrection")
CHANGES_FP32_WEIGHTS = ("ActivationChannelAlignment", "SmoothQuant")
SMOOTHING_INSIDE = ("DefaultQuantization", "AccuracyAwareQuantization")
FIXED_BIAS_ALGORITHM = {"FastBiasCorrection": True, "BiasCorrection": False}  # name -> fast


@dataclass(frozen=True)
class DeviceDefaults:
    """The compression-level target_device and model_type (POT's API let params override both)."""

    target_device: str
    model_type: str | None  # "auto" (decided from the model's structure), "transformer" or None (POT's plain)


@dataclass(frozen=True)
class Sampling:
    """Which samples a statistics pass reads: POT's stat_subset_size, stat_batch_size, shuffle_data, seed."""

    subset_size: int | None  # None: the whole dataset
    batch_size: int
    shuffle: bool
    seed: int


@dataclass(frozen=True)
class IgnoredOperation:
    type: str
    attributes: dict


@dataclass(frozen=True)
class IgnoredScope:
    """POT's ``ignored`` block: names, regular expressions and operation types kept in floating point."""

    scope: tuple[str, ...]
    patterns: tuple[str, ...]
    operations: tuple[IgnoredOperation, ...]


@dataclass(frozen=True)
class QuantizationParams:
    """What MinMaxQuantization needs: where quantizers go and how each range is estimated."""

    preset: str | None  # None: performance, or mixed for a model that gets transformer handling
    target_device: str
    model_type: str | None  # "auto" (decided from the model's structure), "transformer" or None (POT's plain)
    ignored: IgnoredScope
    weights: QuantizerSettings
    activations: QuantizerSettings
    transformer_activations: QuantizerSettings  # the activations' settings under transformer handling
    saturation_fix: str  # first_layer | all | no

    def effective_preset(self, transformer: bool) -> str:
        return self.preset or ("mixed" if transformer else "performance")


@dataclass(frozen=True)
class SmoothingParams:
    """SmoothQuant: ``enabled`` is "auto" (for transformer models), True or False."""

    enabled: str | bool
    alpha: float

    def applies(self, transformer: bool) -> bool:
        return transformer if self.enabled == "auto" else bool(self.enabled)


@dataclass(frozen=True)
class BiasParams:
    fast: bool  # FastBiasCorrection, else BiasCorrection
    fast_threshold: float
    full_threshold: float
    apply_for_all_nodes: bool

    @property
    def threshold(self) -> float:
        return self.fast_threshold if self.fast else self.full_threshold


@dataclass(frozen=True)
class MetricBudget:
    name: str
    baseline_value: float | None  # given in the config: the FP32 evaluation can be skipped


@dataclass(frozen=True)
class AccuracyParams:
    maximal_drop: float
    relative: bool  # drop_type: relative
    max_iter_num: int | None
    ranking_subset_size: int | None  # None: min(dataset size, 300)
    metric_subset_ratio: float
    use_prev_if_drop_increase: bool
    convert_to_mixed_preset: bool
    tune_hyperparams: bool
    metrics: tuple[MetricBudget, ...]  # empty: every metric the Metric reports


@dataclass(frozen=True)
class AlgorithmParams:
    """One entry of ``compression.algorithms``. Parts an algorithm does not take are None."""

    name: str
    sampling: Sampling
    quantization: QuantizationParams | None
    smoothing: SmoothingParams | None
    bias: BiasParams | None
    accuracy: AccuracyParams | None
    config: dict  # the params block as validated (defaults filled): what variants are rebuilt from
    defaults: DeviceDefaults

    def with_preset(self, preset: str) -> "AlgorithmParams":
        return algorithm_params(self.name, {**self.config, "preset": preset}, self.defaults)

    def with_activation_estimator(self, estimator: dict) -> "AlgorithmParams":
        activations = {**self.config.get("activations", {}), "range_estimator": estimator}
        return algorithm_params(self.name, {**self.config, "activations": activations}, self.defaults)

    def without_ignored_scope(self) -> "AlgorithmParams":
        return algorithm_params(self.name, {**self.config, "ignored": {"scope": [], "patterns": [], "operations": []}},
                                self.defaults)

    def with_fast_bias(self, fast: bool) -> "AlgorithmParams":
        return replace(self, bias=replace(self.bias, fast=fast))


def algorithm_params(name: str, params: dict, defaults: DeviceDefaults) -> AlgorithmParams:
    """The typed parameters of algorithm ``name`` from its validated ``params``; ParamError (path relative to
    ``params``) for combinations the schema cannot express, such as a level grid wider than the bit width."""
    sampling = Sampling(params["stat_subset_size"], params["stat_batch_size"], params["shuffle_data"],
                        params["seed"])
    quantization = _quantization(params, defaults) if name in QUANTIZING else None
    bias = None
    if name in FIXED_BIAS_ALGORITHM:
        bias = _bias(params, FIXED_BIAS_ALGORITHM[name])
    elif name in ("DefaultQuantization", "AccuracyAwareQuantization"):
        bias = _bias(params, params["use_fast_bias"])
    accuracy = _accuracy(params) if name == "AccuracyAwareQuantization" else None
    smoothing = None
    if name == "SmoothQuant":
        smoothing = SmoothingParams(True, params["alpha"])
    elif name in SMOOTHING_INSIDE:
        smoothing = SmoothingParams(params["smooth_quant"], params["smooth_quant_alpha"])
    return AlgorithmParams(name, sampling, quantization, smoothing, bias, accuracy, params, defaults)


def _quantization(params: dict, defaults: DeviceDefaults) -> QuantizationParams:
    target_device = params.get("target_device") or defaults.target_device
    model_type = params["model_type"] if "model_type" in params else defaults.model_type
    rules = device_rules(target_device)
    problems, settings = [], {}
    plain, transformer = params["preset"] or "performance", params["preset"] or "mixed"
    for key, kind, preset in (("weights", "weights", plain), ("activations", "activations", plain),
                              ("transformer_activations", "activations", transformer)):
        try:
            settings[key] = resolve_settings({**params, "preset": preset}, kind, rules, target_device)
        except ParamError as e:
            problems += [problem for problem in e.problems if problem not in problems]
    if problems:
        raise ParamError.several(problems)
    ignored = params["ignored"]
    operations = tuple(IgnoredOperation(entry["type"], entry.get("attributes", {}))
                       for entry in ignored["operations"])
    return QuantizationParams(
        preset=params["preset"], target_device=target_device, model_type=model_type,
        ignored=IgnoredScope(tuple(ignored["scope"]), tuple(ignored["patterns"]), operations),
        weights=settings["weights"], activations=settings["activations"],
        transformer_activations=settings["transformer_activations"], saturation_fix=params["saturation_fix"])


def _bias(params: dict, fast: bool) -> BiasParams:
    """A threshold the user set applies to whichever bias correction runs; else each has its own default."""
    given = params.get("threshold")
    return BiasParams(fast=fast,
                      fast_threshold=given if given is not None else schema_default("FastBiasCorrection", "threshold"),
                      full_threshold=given if given is not None else schema_default("BiasCorrection", "threshold"),
                      apply_for_all_nodes=params["apply_for_all_nodes"])


def _accuracy(params: dict) -> AccuracyParams:
    return AccuracyParams(
        maximal_drop=params["maximal_drop"], relative=params["drop_type"] == "relative",
        max_iter_num=params["max_iter_num"], ranking_subset_size=params["ranking_subset_size"],
        metric_subset_ratio=params["metric_subset_ratio"],
        use_prev_if_drop_increase=params["use_prev_if_drop_increase"],
        convert_to_mixed_preset=params["convert_to_mixed_preset"], tune_hyperparams=params["tune_hyperparams"],
        metrics=tuple(MetricBudget(m["name"], m.get("baseline_value")) for m in params.get("metrics", ())))


def order_problems(names: list[str]) -> list[tuple[int, str]]:
    """(index, message) for every algorithm the list puts where it cannot work, as POT's pipeline required."""
    problems, quantized_by = [], None
    for index, name in enumerate(names):
        if name in QUANTIZING:
            if quantized_by is not None:
                problems.append((index, f"{name} after {quantized_by}: the model is already quantized by then; "
                                        f"quantize once"))
            quantized_by = quantized_by or name
        elif name in NEEDS_QUANTIZED and quantized_by is None:
            problems.append((index, f"{name} corrects a quantized model: list it after MinMaxQuantization "
                                    f"(or use DefaultQuantization)"))
        elif name in CHANGES_FP32_WEIGHTS and quantized_by is not None:
            problems.append((index, f"{name} changes FP32 weights: list it before the quantization algorithms "
                                    f"({quantized_by} comes first here)"))
    return problems
