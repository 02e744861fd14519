"""Which quantizer groups to revert first: a race (racing.py) over the ranking subset, each round measured the
cheaper of two ways on this model (candidates.py), every measurement through SampleScorer.scores.

The ranking subset comes in order of degradation (most degraded first), so the first round sees the samples
that tell most. The switchable model runs the INT8 layers with their floating-point copies beside them,
which can change how the CPU plugin fuses them: it is used only if, on the first round's samples, its base
model loses what the real INT8 model lost there (within FIDELITY), as that model's evaluation measured.
Every ranking is logged with the inferences it ran (and how many of them ran on the cluster's workers), its
rounds, that check and its seconds.

With a cluster (``engine.remote``), every measurement runs on the workers (scoring.py), and the scores are
computed here in sample order, as without one. The evaluations then report no compile cost to start from,
so the rounds go to the switchable model whenever it is faithful (one model, compiled once per worker),
else to the compiled candidates.
"""
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import openvino as ov

from ...engine.batching import RunCost
from ...progress import progress
from ..context import RunContext
from .candidates import Compiled, Speed, Switchable
from .groups import QuantizerGroup, Reverter
from .racing import Standing, race
from .scoring import SampleScorer

FIDELITY = 0.25  # share of the real INT8 model's loss the switchable model may miss or add


@dataclass(frozen=True)
class Reference:
    """What the evaluations tell about a model to rank: per-sample scores by sample index (None: unknown)."""

    cost: RunCost | None  # what evaluating the model took: a first guess of what a compiled candidate costs
    scores: dict[int, float] | None  # the model's own, as the CPU runs it in INT8
    fp32_scores: dict[int, float] | None  # the FP32 model's


class Ranker:
    def __init__(self, ctx: RunContext, fp32_model: ov.Model, target, indices: list[int], by_metric: bool,
                 reverter: Reverter, agnostic, fp32_eval=None):
        self.ctx, self.indices, self.reverter, self.agnostic = ctx, indices, reverter, agnostic
        self.scorer = SampleScorer(ctx, fp32_model, indices, by_metric, target)
        if not by_metric:
            self.scorer.reference = {i: fp32_eval.outputs[i] for i in indices} if fp32_eval is not None \
                else self.scorer.outputs(self.scorer.prepared(fp32_model, "FP32 model for ranking"), indices)
        self.log: list[dict] = []  # one entry per ranking

    def score_model(self, model: ov.Model, metric_name: str) -> float:
        """Mean score of one model on the whole ranking subset (higher is better)."""
        self.scorer.metric_name = metric_name
        return float(np.mean(self.scorer.model_scores(model, self.indices)))

    def rank(self, model: ov.Model, groups: list[QuantizerGroup], metric_name: str,
             reference: Reference) -> list[Standing]:
        """``groups`` best first: how much reverting each helps ``model`` on the ranking subset."""
        self.scorer.metric_name = metric_name
        started, inferences, on_workers = time.perf_counter(), self.scorer.inferences, self.scorer.worker_inferences
        cost = reference.cost
        compiled_speed = Speed(cost.compile_seconds, cost.run_seconds / max(cost.samples, 1)) if cost else Speed()
        switchable = Switchable(self.scorer.prepared, model, groups, self.reverter.biases, self.agnostic)
        switchable.usable = reference.scores is not None and reference.fp32_scores is not None
        ways = (switchable, Compiled(self.scorer.prepared, model, self.reverter.reverted_model, compiled_speed))
        entry = {"groups": len(groups), "rounds": []}

        def measure(candidates: list, positions: range) -> list[np.ndarray]:
            indices = [self.indices[p] for p in positions]
            with progress(f"Ranking {len(candidates) - 1} groups on samples {positions.start + 1}-{positions.stop}",
                          len(candidates), "candidate") as meter:
                probe = None
                if switchable.usable and switchable.compiled is None:
                    switchable.build()
                if switchable.usable and not switchable.speed.known():  # its speed and fidelity show on the base
                    probe = switchable.probe(self.scorer, candidates[:1], indices, meter)
                    if probe is not None:
                        entry["switchable_check"] = _fidelity(probe[0], indices, reference)
                        switchable.usable = entry["switchable_check"]["faithful"]
                way = self._cheaper([w for w in ways if w.usable], candidates, len(indices))
                entry["rounds"].append({"candidates": len(candidates) - 1, "samples": positions.stop,
                                        "measured_on": way.name})
                if probe is not None and way is switchable:
                    return probe + way.measure(self.scorer, candidates[1:], indices, meter)
                return way.measure(self.scorer, candidates, indices, meter)  # all of a round the same way

        standings = race(groups, len(self.indices), measure)
        entry.update(inferences=self.scorer.inferences - inferences,
                     worker_inferences=self.scorer.worker_inferences - on_workers,
                     seconds=round(time.perf_counter() - started, 4))
        self.log.append(entry)
        return standings

    @staticmethod
    def _cheaper(ways: Sequence, candidates: list, samples: int):
        """The way that measures ``candidates`` on ``samples`` new samples in the fewest seconds (of those whose
        speed is known, else the first)."""
        known = [way for way in ways if way.speed.known()]
        if not known:
            return ways[0]
        return min(known, key=lambda way: way.speed.round_seconds(way.compiles_needed(candidates),
                                                                  len(candidates) * samples))


def _fidelity(switchable_scores: np.ndarray, indices: list[int], reference: Reference) -> dict:
    """Whether the switchable model's base loses, against FP32, what the real INT8 model lost on ``indices``."""
    fp32 = np.array([reference.fp32_scores[i] for i in indices])
    real = float(np.mean(fp32 - np.array([reference.scores[i] for i in indices])))
    switchable_loss = float(np.mean(fp32 - switchable_scores))
    return {"samples": len(indices), "int8_loss": real, "switchable_loss": switchable_loss,
            "faithful": abs(switchable_loss - real) <= FIDELITY * abs(real)}
