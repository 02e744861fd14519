"""POT's presets and default range estimators as tables, and their resolution into quantizer settings.

The config schema owns parameter defaults; what lives here is what POT derived from them: the mode a preset
implies, the integer grid of a bit width, and which statistic estimates each end of a range.
"""
from dataclasses import dataclass, replace

from ..errors import ParamError

DEFAULT_OUTLIER_PROB = 1e-4  # POT's outlier_prob where a quantile estimator does not say

# On these targets POT turned the 'accuracy' preset into 'mixed' (asymmetric weights were not faster there).
ACCURACY_BECOMES_MIXED = ("ANY", "CPU", "CPU_SPR", "GPU")

PRESET_MODES = {  # preset -> (weights mode, activations mode)
    "performance": ("symmetric", "symmetric"),
    "mixed": ("symmetric", "asymmetric"),
    "accuracy": ("asymmetric", "asymmetric"),
}

# Default estimators, POT's range_estimator.py: [tensor][granularity][mode] -> bound -> estimator fields.
RANGE_ESTIMATORS = {
    "activations": {
        "pertensor": {
            "symmetric": {"min": {"type": "min", "aggregator": "min"},
                          "max": {"type": "abs_max", "aggregator": "mean"}},
            "asymmetric": {"min": {"type": "min", "aggregator": "mean"},
                           "max": {"type": "max", "aggregator": "mean"}},
        },
        "perchannel": {
            "symmetric": {"min": {"type": "min", "aggregator": "min", "granularity": "pertensor"},
                          "max": {"type": "abs_max", "aggregator": "max"}},
            "asymmetric": {"min": {"type": "min", "aggregator": "min"},
                           "max": {"type": "max", "aggregator": "max"}},
        },
    },
    "weights": {
        "symmetric": {"max": {"type": "abs_max"}},
        "asymmetric": {"min": {"type": "min"}, "max": {"type": "max"}},
    },
}
# range_estimator.preset: quantile swaps each extreme for a quantile that ignores outlier_prob of the mass.
QUANTILE_TYPES = {"min": "quantile", "max": "quantile", "abs_max": "abs_quantile"}


@dataclass(frozen=True)
class BoundEstimator:
    """How one end of a range is estimated: a per-sample statistic and its aggregation across samples."""

    type: str
    aggregator: str | None  # None for weights (one "sample": the tensor itself)
    outlier_prob: float
    granularity: str | None  # overrides the quantizer's granularity for this bound
    clipping_value: float | None


@dataclass(frozen=True)
class QuantizerSettings:
    bits: int
    mode: str  # symmetric | asymmetric
    granularity: str  # pertensor | perchannel
    level_low: int
    level_high: int
    min: BoundEstimator | None  # None: symmetric weights need only the max
    max: BoundEstimator
    select_by_error: bool = False  # range_estimator preset auto: the range is chosen by quantization error

    @property
    def levels(self) -> int:
        return self.level_high - self.level_low + 1


def effective_preset(preset: str, target_device: str) -> str:
    return "mixed" if preset == "accuracy" and target_device in ACCURACY_BECOMES_MIXED else preset


def resolve_settings(params: dict, kind: str, rules: dict, target_device: str) -> QuantizerSettings:
    """Settings for ``kind`` ("weights" or "activations") from a validated MinMax-style params block and the
    device rules; ParamError (at ``kind``) for a grid that does not fit the bit width."""
    user = params.get(kind, {})
    weights_mode, activations_mode = PRESET_MODES[effective_preset(params["preset"], target_device)]
    mode = user.get("mode", weights_mode if kind == "weights" else activations_mode)
    granularity = user.get("granularity", rules[kind]["granularity"])
    bits = user.get("bits", rules[kind]["bits"])
    level_low, level_high = default_levels(bits, mode, kind)
    level_low, level_high = user.get("level_low", level_low), user.get("level_high", level_high)
    if not level_low < level_high or level_high - level_low + 1 > 2 ** bits:
        raise ParamError(kind, f"level_low {level_low} .. level_high {level_high} is not a grid of at most "
                               f"2^{bits} levels")
    estimator = user.get("range_estimator") or (params.get("range_estimator", {}) if kind == "activations" else {})
    bounds = _bounds(kind, granularity, mode, estimator)
    return QuantizerSettings(bits, mode, granularity, level_low, level_high, bounds.get("min"), bounds["max"],
                             select_by_error=kind == "activations" and estimator.get("preset") == "auto")


def default_levels(bits: int, mode: str, kind: str) -> tuple[int, int]:
    """POT's integer grids: weights -127..127, symmetric activations -128..127, asymmetric 0..255 (8 bits)."""
    if mode == "asymmetric":
        return 0, 2 ** bits - 1
    half = 2 ** (bits - 1)
    return (-half + 1, half - 1) if kind == "weights" else (-half, half - 1)


def with_mode(settings: QuantizerSettings, mode: str, kind: str = "activations") -> QuantizerSettings:
    """``settings`` switched to ``mode``, with that mode's grid and default estimators (user overrides kept)."""
    if settings.mode == mode:
        return settings
    level_low, level_high = default_levels(settings.bits, mode, kind)
    bounds = _bounds(kind, settings.granularity, mode, {})
    return replace(settings, mode=mode, level_low=level_low, level_high=level_high, min=bounds.get("min"),
                   max=replace(bounds["max"], clipping_value=settings.max.clipping_value))


def with_granularity(settings: QuantizerSettings, granularity: str, kind: str = "activations") -> QuantizerSettings:
    """``settings`` switched to ``granularity``, with its default estimators (a clipping value kept)."""
    if settings.granularity == granularity:
        return settings
    bounds = _bounds(kind, granularity, settings.mode, {})
    return replace(settings, granularity=granularity, min=bounds.get("min"),
                   max=replace(bounds["max"], clipping_value=settings.max.clipping_value))


def _bounds(kind: str, granularity: str, mode: str, estimator: dict) -> dict[str, BoundEstimator]:
    table = RANGE_ESTIMATORS[kind]
    defaults = table[mode] if kind == "weights" else table[granularity][mode]
    bounds = {}
    for bound in ("min", "max"):
        if bound not in defaults and bound not in estimator:
            continue
        fields = dict(defaults.get(bound, {"type": bound}))
        if estimator.get("preset") == "quantile":
            fields["type"] = QUANTILE_TYPES.get(fields["type"], fields["type"])
        fields.update(estimator.get(bound, {}))
        bounds[bound] = BoundEstimator(
            type=fields["type"],
            aggregator=fields.get("aggregator") if kind == "activations" else None,
            outlier_prob=fields.get("outlier_prob", DEFAULT_OUTLIER_PROB),
            granularity=fields.get("granularity"),
            clipping_value=fields.get("clipping_value"),
        )
    return bounds
