"""The two ways to measure a ranking's candidates (a quantizer group reverted, or BASE: nothing reverted), and
what each costs on this model.

- ``Switchable``: every candidate on one compiled model whose FakeQuantize can be bypassed group by group
  (groups.switchable_model). One compile; but FakeQuantize then runs emulated in f32 with a Select each, which
  costs little on a tiny model and several times the INT8 inference on a real one.
- ``Compiled``: each candidate compiled as the INT8 model it is; the next candidate compiles in a background
  thread while the current one is measured. INT8 speed, one compile per candidate.

Both keep the seconds they spend per sample and per compile, so the ranker can give each round of a ranking
to the cheaper one. Within a round every candidate is measured the same way, so scores stay comparable.
"""
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openvino as ov

from ...engine.batching import Prepared, prepare
from ...engine.inference import Engine
from .groups import QuantizerGroup, keep_flags, switchable_model
from .racing import BASE
from .scoring import SampleScorer

_LAST = object()  # after the last candidate


class Speed:
    """Measured cost of one way of measuring: seconds per compile and per sample scored."""

    def __init__(self, compile_seconds: float | None = None, sample_seconds: float | None = None):
        self.compile_seconds, self.sample_seconds = compile_seconds, sample_seconds

    def known(self) -> bool:
        return self.compile_seconds is not None and self.sample_seconds is not None

    def round_seconds(self, compiles: int, samples: int) -> float:
        return compiles * self.compile_seconds + samples * self.sample_seconds

    def timed_scores(self, scorer: SampleScorer, prepared: Prepared, indices: Sequence[int],
                     flags: dict | None = None) -> np.ndarray:
        started = time.perf_counter()
        scores = scorer.scores(prepared, indices, flags)
        self.sample_seconds = (time.perf_counter() - started) / max(len(indices), 1)
        return scores


class Switchable:
    name = "switchable"

    def __init__(self, engine: Engine, model: ov.Model, groups: Sequence[QuantizerGroup]):
        self.engine, self.model, self.groups = engine, model, list(groups)
        self.position = {group: i for i, group in enumerate(self.groups)}
        self.prepared: Prepared | None = None
        self.speed = Speed()

    def compiles_needed(self, candidates: Sequence[Hashable]) -> int:
        return int(self.prepared is None)

    def measure(self, scorer: SampleScorer, candidates: Sequence[Hashable], indices: Sequence[int]) -> list:
        if self.prepared is None:
            self.prepared = prepare(self.engine, switchable_model(self.model, self.groups), "model for ranking")
            self.speed.compile_seconds = self.prepared.compile_seconds
        return [self.speed.timed_scores(scorer, self.prepared, indices, keep_flags(
            len(self.groups), None if candidate is BASE else self.position[candidate])) for candidate in candidates]


class Compiled:
    name = "compiled"

    def __init__(self, engine: Engine, model: ov.Model, reverted: Callable[[ov.Model, QuantizerGroup], ov.Model],
                 speed: Speed):
        self.engine, self.model, self.reverted, self.speed = engine, model, reverted, speed
        self.base: Prepared | None = None  # kept for the whole ranking: the base is in every round

    def compiles_needed(self, candidates: Sequence[Hashable]) -> int:
        return sum(1 for candidate in candidates if candidate is not BASE or self.base is None)

    def measure(self, scorer: SampleScorer, candidates: Sequence[Hashable], indices: Sequence[int]) -> list:
        results = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="potq-compile") as background:
            upcoming = background.submit(self._prepared, candidates[0])
            for following in [*candidates[1:], _LAST]:
                prepared = upcoming.result()
                if following is not _LAST:  # compiles while this one is measured
                    upcoming = background.submit(self._prepared, following)
                results.append(self.speed.timed_scores(scorer, prepared, indices))
        return results

    def _prepared(self, candidate: Hashable) -> Prepared:
        if candidate is BASE and self.base is not None:
            return self.base
        started = time.perf_counter()
        model = self.model if candidate is BASE else self.reverted(self.model, candidate)
        prepared = prepare(self.engine, model, "reverted model for ranking")
        self.speed.compile_seconds = time.perf_counter() - started
        if candidate is BASE:
            self.base = prepared
        return prepared
