"""Choosing an activation range by the quantization error it causes: pure numpy, with known answers."""
import numpy as np

from potcli.statistics.range_search import Grid, best_range, quantization_error, range_candidates

SIGNED = Grid(symmetric=True, level_low=-128, level_high=127)
ASYMMETRIC = Grid(symmetric=False, level_low=0, level_high=255)


def test_candidates_are_the_default_the_extremes_and_narrower_clips():
    candidates = range_candidates((-1.0, 2.0), (-4.0, 8.0))
    assert [c.label for c in candidates[:3]] == ["default", "extremes", "clip 0.707"]
    assert (candidates[1].low, candidates[1].high) == (-4.0, 8.0)
    assert candidates[-1].high == 0.5 and len(candidates) == 10  # down to 1/16 of the extremes


def test_gaussian_values_keep_their_rare_tails():
    values = np.random.default_rng(0).standard_normal(200_000).astype(np.float32)
    best, errors = best_range(values, range_candidates((-2.0, 2.0), (-4.5, 4.5)), SIGNED)
    assert errors["clip 0.354"] > errors["default"] and best.label in ("extremes", "clip 0.707")


def test_one_huge_outlier_is_kept_because_clipping_it_costs_more_than_coarser_levels():
    values = np.concatenate([np.random.default_rng(1).uniform(-1, 1, 100_000), [1000.0]]).astype(np.float32)
    best, errors = best_range(values, range_candidates((-1.0, 1.0), (-1000.0, 1000.0)), SIGNED)
    assert best.label == "extremes" and errors["default"] > 10 * errors["extremes"]


def test_a_heavy_tail_is_clipped_below_its_extremes_but_not_to_the_narrow_default():
    values = np.random.default_rng(2).laplace(0, 1, 200_000).astype(np.float32)
    extreme = float(np.abs(values).max())
    best, errors = best_range(values, range_candidates((-2.0, 2.0), (-extreme, extreme)), SIGNED)
    assert best.label == "clip 0.707" and errors[best.label] < min(errors["extremes"], errors["default"])


def test_equal_errors_keep_pots_estimate():
    values = np.zeros(1000, np.float32)
    best, _ = best_range(values, range_candidates((0.0, 1.0), (0.0, 1.0)), ASYMMETRIC)
    assert best.label == "default"


def test_error_is_zero_for_values_on_the_grid():
    params = ASYMMETRIC.params(0.0, 255.0)
    assert quantization_error(np.arange(256, dtype=np.float32), params) < 1e-9
