"""Ranking by successive halving: which candidates help most, measured on as few samples as their
differences allow.

Every candidate is measured on the first few ranking samples (the most degraded ones); the better half, and
any candidate that cannot be told apart from the leader, go on to twice as many samples, and so on until
the leader is clear of every other candidate by DECISIVE standard errors, one is left, every ranking sample
is used, or (from SETTLED samples on) every candidate left is tied with the leader within NOISE: widening
further would then cost more than any choice among them could lose (they are usually all reverted in turn).
So the cost grows like candidates x a few samples, not candidates x the ranking subset, and only close calls
at the top get the wider subset.

A candidate's gain is its mean per-sample score minus the base model's on the same samples (paired, so what
makes one sample hard for every candidate cancels). Candidates that went further rank first, then by gain.
This module is pure numpy: ``measure`` does the inferences.
"""
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

FIRST_ROUND = 8  # ranking samples every candidate is measured on
NOISE = 1.0  # standard errors of a paired difference within which a candidate is tied with the leader
DECISIVE = 2.0  # standard errors by which a leader ahead of every other candidate ends the race
SETTLED = 4 * FIRST_ROUND  # samples from which a tie that eliminates nobody ends the race
BASE = None  # the candidate "revert nothing": the model as it is


@dataclass(frozen=True)
class Standing:
    candidate: Hashable
    gain: float  # mean per-sample score gain over the base model, on its samples
    samples: int  # how many ranking samples it was measured on


# (candidates with BASE first, ranking positions) -> per-sample scores of each, in that order
Measure = Callable[[list, range], list[np.ndarray]]


def race(candidates: Sequence[Hashable], total: int, measure: Measure) -> list[Standing]:
    """``candidates`` best first, each with its gain; ``total`` ranking samples at most (positions 0..total-1,
    most informative first). Ties keep the order of ``candidates``."""
    scores = {candidate: np.empty(0) for candidate in [BASE, *candidates]}
    alive, done, size = list(candidates), 0, min(FIRST_ROUND, total)
    while alive:
        measured = measure([BASE, *alive], range(done, size))
        for candidate, values in zip([BASE, *alive], measured, strict=True):
            scores[candidate] = np.concatenate([scores[candidate], values])
        done = size
        if size == total:
            break
        gains = {c: scores[c] - scores[BASE] for c in alive}
        leader = max(alive, key=lambda c: float(np.mean(gains[c])))
        if not any(_tied(gains[leader], gains[c], DECISIVE) for c in alive if c is not leader):
            break
        alive = survivors(alive, gains)
        if len(alive) == 1 or (size >= SETTLED and all(_tied(gains[leader], gains[c]) for c in alive)):
            break
        size = min(2 * size, total)
    standings = [Standing(c, float(np.mean(scores[c] - scores[BASE][:len(scores[c])])), len(scores[c]))
                 for c in candidates]
    position = {c: i for i, c in enumerate(candidates)}
    return sorted(standings, key=lambda s: (-s.samples, -s.gain, position[s.candidate]))


def survivors(alive: list, gains: dict) -> list:
    """The better half of ``alive`` by mean gain, and every other candidate tied with the leader; in
    ``alive``'s order."""
    order = sorted(alive, key=lambda c: -float(np.mean(gains[c])))
    kept = set(order[:math.ceil(len(order) / 2)])
    kept.update(c for c in order[len(kept):] if _tied(gains[order[0]], gains[c]))
    return [c for c in alive if c in kept]


def _tied(leader: np.ndarray, other: np.ndarray, spreads: float = NOISE) -> bool:
    """Whether per-sample gains ``other`` fall short of ``leader``'s by at most ``spreads`` standard errors of
    their difference (paired by sample, so the difference's own spread is the noise)."""
    difference = leader - other
    error = float(np.std(difference, ddof=1)) / math.sqrt(len(difference)) if len(difference) > 1 else 0.0
    return float(np.mean(difference)) <= spreads * error
