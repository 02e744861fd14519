"""Which quantizer groups to revert first: a race (racing.py) over the ranking subset, each round measured the
cheaper of two ways on this model (candidates.py), every measurement through SampleScorer.scores.

The ranking subset comes in order of degradation (most degraded first), so the first round sees the samples
that tell most. Every ranking is logged with the inferences it ran, its rounds and its seconds.
"""
import time
from collections.abc import Sequence

import numpy as np
import openvino as ov

from ...engine.batching import RunCost, prepare
from ..context import RunContext
from .candidates import Compiled, Speed, Switchable
from .groups import QuantizerGroup, Reverter
from .racing import Standing, race
from .scoring import SampleScorer


class Ranker:
    def __init__(self, ctx: RunContext, fp32_model: ov.Model, target, indices: list[int], by_metric: bool,
                 reverter: Reverter, fp32_eval=None):
        self.ctx, self.indices, self.reverter = ctx, indices, reverter
        self.scorer = SampleScorer(ctx, fp32_model, indices, by_metric, target)
        if not by_metric:
            self.scorer.reference = {i: fp32_eval.outputs[i] for i in indices} if fp32_eval is not None \
                else self.scorer.outputs(prepare(ctx.engine, fp32_model, "FP32 model for ranking"), indices)
        self.log: list[dict] = []  # one entry per ranking

    def score_model(self, model: ov.Model, metric_name: str) -> float:
        """Mean score of one model on the whole ranking subset (higher is better)."""
        self.scorer.metric_name = metric_name
        prepared = prepare(self.ctx.engine, model, "model for ranking")
        return float(np.mean(self.scorer.scores(prepared, self.indices)))

    def rank(self, model: ov.Model, groups: list[QuantizerGroup], metric_name: str,
             cost: RunCost | None) -> list[Standing]:
        """``groups`` best first: how much reverting each helps ``model`` on the ranking subset. ``cost`` is
        what evaluating ``model`` took (the first guess of what a compiled candidate costs)."""
        self.scorer.metric_name = metric_name
        started, inferences = time.perf_counter(), self.scorer.inferences
        compiled_speed = Speed(cost.compile_seconds, cost.run_seconds / max(cost.samples, 1)) if cost else Speed()
        ways = (Switchable(self.ctx.engine, model, groups),
                Compiled(self.ctx.engine, model, self.reverter.reverted_model, compiled_speed))
        rounds: list[dict] = []

        def measure(candidates: list, positions: range) -> list[np.ndarray]:
            indices = [self.indices[p] for p in positions]
            way, probe = self._cheaper(ways, candidates, len(indices)), None
            if not way.speed.known():  # the switchable model's speed shows once it has run the base
                probe = way.measure(self.scorer, candidates[:1], indices)
                way = self._cheaper(ways, candidates, len(indices))
            rounds.append({"candidates": len(candidates) - 1, "samples": positions.stop, "measured_on": way.name})
            if probe is not None and way is ways[0]:
                return probe + way.measure(self.scorer, candidates[1:], indices)
            return way.measure(self.scorer, candidates, indices)  # all of a round the same way

        standings = race(groups, len(self.indices), measure)
        self.log.append({"groups": len(groups), "rounds": rounds,
                         "inferences": self.scorer.inferences - inferences,
                         "seconds": round(time.perf_counter() - started, 4)})
        return standings

    @staticmethod
    def _cheaper(ways: Sequence, candidates: list, samples: int):
        """The way that measures ``candidates`` on ``samples`` new samples in the fewest seconds; the switchable
        model (``ways[0]``) until both speeds are known."""
        if not all(way.speed.known() for way in ways):
            return ways[0]
        return min(ways, key=lambda way: way.speed.round_seconds(way.compiles_needed(candidates),
                                                                 len(candidates) * samples))
