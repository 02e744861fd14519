"""Choosing an activation range by the quantization error it causes (``range_estimator: {preset: auto}``).

No single estimator fits every tensor: a range as wide as the extremes wastes levels where outliers are noise, a
narrow one clips where they carry signal. For one per-tensor quantizer, the candidates are POT's estimate (mean of
the per-sample extremes), the extremes over the whole statistics subset, and clips of the extremes narrowed in
steps of sqrt(2); each becomes FakeQuantize parameters exactly as the final quantizer would
(ranges.symmetric_params / asymmetric_params), and the one whose fake-quantized values differ least from the real
ones (mean squared error over values sampled from a few calibration samples) is kept. Pure numpy.
"""
from dataclasses import dataclass

import numpy as np

from .ranges import FQParams, asymmetric_params, symmetric_params

NARROWING_STEPS = 8  # the extremes times 2^(-1/2), 2^(-2/2), ... 2^(-8/2) = 1/16


@dataclass(frozen=True)
class RangeCandidate:
    label: str  # "default", "extremes", "clip 0.71", ...
    low: float
    high: float


@dataclass(frozen=True)
class Grid:
    """The integer grid a range is laid on: symmetric (level_low..level_high, unsigned when never negative) or
    asymmetric (``levels`` values)."""

    symmetric: bool
    level_low: int
    level_high: int

    @property
    def levels(self) -> int:
        return self.level_high - self.level_low + 1

    def params(self, low: float, high: float) -> FQParams:
        if self.symmetric:
            return symmetric_params(np.float64(low), np.float64(high), self.level_low, self.level_high,
                                    allow_unsigned=True)
        return asymmetric_params(np.float64(low), np.float64(high), self.levels)


def range_candidates(default: tuple[float, float], extremes: tuple[float, float]) -> list[RangeCandidate]:
    """POT's estimate, the extremes, and the extremes narrowed towards 0 in NARROWING_STEPS steps."""
    candidates = [RangeCandidate("default", *default), RangeCandidate("extremes", *extremes)]
    for step in range(1, NARROWING_STEPS + 1):
        factor = 2.0 ** (-step / 2)
        candidates.append(RangeCandidate(f"clip {factor:.3g}", extremes[0] * factor, extremes[1] * factor))
    return candidates


def quantization_error(values: np.ndarray, params: FQParams) -> float:
    """Mean squared difference between ``values`` (float32) and what a FakeQuantize with ``params`` makes of
    them, in float32 as the FakeQuantize computes (in place: a search scores millions of values)."""
    low, high = np.float32(params.input_low), np.float32(params.input_high)
    scale = (high - low) / np.float32(params.levels - 1)
    error = np.clip(values, low, high)
    error -= low
    error /= scale
    np.round(error, out=error)
    error *= scale
    error += low
    error -= values
    return float(np.dot(error, error)) / max(error.size, 1)


def best_range(values: np.ndarray, candidates: list[RangeCandidate], grid: Grid) -> tuple[RangeCandidate, dict]:
    """The candidate with the least quantization error on ``values`` (the first of equals, so POT's estimate
    wins ties), and every candidate's error by label."""
    errors = {candidate.label: quantization_error(values, grid.params(candidate.low, candidate.high))
              for candidate in candidates}
    best = min(candidates, key=lambda candidate: errors[candidate.label])
    return best, errors
