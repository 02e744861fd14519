"""FakeQuantize parameters from statistics: pure numpy, no OpenVINO.

A FakeQuantize with ``levels`` L maps ``[input_low, input_high]`` onto L evenly spaced values. potq writes
``output_low/high`` equal to ``input_low/high`` (the dequantized grid), as POT and NNCF do.

- Symmetric, integer levels ``level_low..level_high`` (e.g. -128..127): the grid step is
  ``max / level_high`` and ``input_low = max * level_low / level_high`` (``-max * 128/127`` for 8-bit
  activations, ``-max`` for weights' narrow -127..127). A tensor that is never negative gets the unsigned
  grid ``[0, max]`` with the same number of levels.
- Asymmetric: ``[min, max]`` widened to include 0, then nudged so that 0 falls exactly on a level.
- Zero filters: a channel whose range is (nearly) 0 gets a small floor so the scale never divides by zero.
"""
from dataclasses import dataclass

import numpy as np

SYMMETRIC_FLOOR = 8e-5  # absolute floor of a symmetric range
SYMMETRIC_FLOOR_SHARE = 0.01  # ... or this share of the largest channel's range
ASYMMETRIC_MIN_RANGE = 8e-4


@dataclass(frozen=True)
class FQParams:
    input_low: np.ndarray
    input_high: np.ndarray
    levels: int

    @property
    def output_low(self) -> np.ndarray:
        return self.input_low

    @property
    def output_high(self) -> np.ndarray:
        return self.input_high


def fix_zero_filters_symmetric(max_values: np.ndarray) -> np.ndarray:
    """Raise every range to at least max(8e-5, 1% of the largest one)."""
    floor = max(float(np.max(max_values)) * SYMMETRIC_FLOOR_SHARE, SYMMETRIC_FLOOR)
    return np.maximum(max_values, floor)


def fix_zero_filters_asymmetric(min_values: np.ndarray, max_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widen ranges narrower than 8e-4 to 8e-4 on each side."""
    narrow = (max_values - min_values) <= ASYMMETRIC_MIN_RANGE
    return (np.where(narrow, min_values - ASYMMETRIC_MIN_RANGE, min_values),
            np.where(narrow, max_values + ASYMMETRIC_MIN_RANGE, max_values))


def tune_range(low: np.ndarray, high: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Move one border so that 0 falls exactly on the grid of ``steps`` intervals, never narrowing the range.

    With 0 rounded to level q, either ``low`` moves (keeping ``high``) or ``high`` moves (keeping ``low``);
    one of the two widens the range and the other narrows it, so the wider result is taken.
    """
    zero_level = np.round(-low * steps / (high - low))
    with np.errstate(divide="ignore", invalid="ignore"):
        new_low = np.where(zero_level < steps, zero_level / (zero_level - steps) * high, low)
        new_high = np.where(zero_level > 0, (zero_level - steps) / zero_level * low, high)
    move_low = (high - new_low) > (new_high - low)
    return np.where(move_low, new_low, low), np.where(move_low, high, new_high)


def symmetric_params(min_values: np.ndarray, max_values: np.ndarray, level_low: int, level_high: int,
                     allow_unsigned: bool) -> FQParams:
    """Symmetric range on the integer grid ``level_low..level_high`` (unsigned [0, max] if never negative)."""
    high = fix_zero_filters_symmetric(np.asarray(max_values, dtype=np.float64))
    levels = level_high - level_low + 1
    if allow_unsigned and np.all(np.asarray(min_values) >= 0):
        low = np.zeros_like(high)
    else:
        low = high * level_low / level_high
    return FQParams(low.astype(np.float32), high.astype(np.float32), levels)


def asymmetric_params(min_values: np.ndarray, max_values: np.ndarray, levels: int) -> FQParams:
    """Asymmetric range including 0 exactly, on ``levels`` values."""
    low, high = fix_zero_filters_asymmetric(np.asarray(min_values, np.float64), np.asarray(max_values, np.float64))
    low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
    low, high = tune_range(low, high, levels - 1)
    return FQParams(low.astype(np.float32), high.astype(np.float32), levels)


def half_range_weights(max_values: np.ndarray, bits: int) -> FQParams:
    """Symmetric weights on a (bits-1)-bit grid, written as a ``bits``-bit narrow FakeQuantize of twice the range.

    This is POT's and NNCF's saturation (overflow) fix: the step is ``max / 63.5`` instead of ``max / 127``, so
    stored int8 values use only half of their range and CPUs without VNNI cannot saturate 16-bit partial sums.
    """
    high = 2.0 * fix_zero_filters_symmetric(np.asarray(max_values, dtype=np.float64))
    return FQParams((-high).astype(np.float32), high.astype(np.float32), 2 ** bits - 1)


def fake_quantize(x: np.ndarray, params: FQParams) -> np.ndarray:
    """What a FakeQuantize node computes (with output range == input range)."""
    low, high = params.input_low, params.input_high
    steps = params.levels - 1
    scale = (high - low) / steps
    clipped = np.clip(x, low, high)
    return (np.round((clipped - low) / scale) * scale + low).astype(np.float32)


def along_axis(vector: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """A per-channel ``vector`` as float32, shaped to broadcast along ``axis`` of a rank-``rank`` tensor."""
    shape = [1] * rank
    shape[axis] = -1
    return np.asarray(vector, np.float32).reshape(shape)
