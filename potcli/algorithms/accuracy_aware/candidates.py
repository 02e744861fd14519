"""The two ways to measure a ranking's candidates (a quantizer group reverted, or BASE: nothing reverted), and
what each costs on this model.

- ``Switchable``: every candidate on one compiled model (switchable.py). One compile; each inference runs the
  INT8 model and floating-point copies of its layers, about an INT8 plus an FP32 inference.
- ``Compiled``: each candidate compiled as the INT8 model it is; the next candidate compiles in a background
  thread while the current one is measured, and candidates that go on to the next round stay compiled (up to
  KEEP_BYTES of weights). INT8 speed, one compile per candidate.

Both keep the seconds they spend per sample and per compile, so the ranker can give each round of a ranking
to the cheaper one. Within a round every candidate is measured the same way, so scores stay comparable.
Models are compiled through ``SampleScorer.prepared``: with a cluster, the workers compile them (each once)
and the "compile" here only edits the graph, so a round's seconds are what the workers took. There, a round
on the switchable model is one pass whose shards (one per candidate's switches) the workers share; compiled
candidates are a pass each.
"""
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openvino as ov

from ...engine.batching import PerSampleModel
from ...errors import ModelError, first_line
from .groups import QuantizerGroup
from .racing import BASE
from .scoring import SampleScorer
from .switchable import keep_flags, switchable_model

log = logging.getLogger("potq")
KEEP_BYTES = 256 << 20  # weights of the compiled candidates kept from one round to the next
_LAST = object()  # after the last candidate
Prepare = Callable[[ov.Model, str], PerSampleModel | ov.Model]  # SampleScorer.prepared


class Speed:
    """Measured cost of one way of measuring: seconds per compile and per sample scored."""

    def __init__(self, compile_seconds: float | None = None, sample_seconds: float | None = None):
        self.compile_seconds, self.sample_seconds = compile_seconds, sample_seconds

    def known(self) -> bool:
        return self.compile_seconds is not None and self.sample_seconds is not None

    def round_seconds(self, compiles: int, samples: int) -> float:
        return compiles * self.compile_seconds + samples * self.sample_seconds

    def timed_scores(self, scorer: SampleScorer, compiled: PerSampleModel | ov.Model, indices: Sequence[int],
                     flag_sets: list[dict | None], meter) -> list[np.ndarray]:
        """``scorer.scores_each``, ``meter`` counting candidates; the seconds per sample it took."""
        started = time.perf_counter()
        scores = scorer.scores_each(compiled, indices, flag_sets, meter.update)
        self.sample_seconds = (time.perf_counter() - started) / max(len(indices) * len(flag_sets), 1)
        return scores


class Switchable:
    name = "switchable"

    def __init__(self, prepare: Prepare, model: ov.Model, groups: Sequence[QuantizerGroup], biases: dict, agnostic):
        self.prepare, self.model, self.groups = prepare, model, list(groups)
        self.biases, self.agnostic = biases, agnostic
        self.position = {group: i for i, group in enumerate(self.groups)}
        self.compiled: PerSampleModel | ov.Model | None = None
        self.speed = Speed()
        self.usable = True  # False once it is known not to compute what the CPU runs, or not to build

    def compiles_needed(self, candidates: Sequence[Hashable]) -> int:
        return int(self.compiled is None)

    def build(self) -> None:
        """Compile the switchable model (``usable`` False if OpenVINO cannot build it for this model)."""
        started = time.perf_counter()
        try:
            self.compiled = self.prepare(switchable_model(self.model, self.groups, self.biases, self.agnostic),
                                         "switchable model for ranking")
        except (RuntimeError, ModelError) as e:  # an operation the node factory cannot copy, or not compile
            self._unusable(e)
            return
        self.speed.compile_seconds = time.perf_counter() - started

    def probe(self, scorer: SampleScorer, base: list, indices: Sequence[int], meter) -> list | None:
        """``measure`` of the base alone, where this way's speed and fidelity show first; None (and ``usable``
        False) if the cluster's workers cannot compile the switchable model (``build`` finds that out here)."""
        try:
            return self.measure(scorer, base, indices, meter)
        except ModelError as e:
            self._unusable(e)
            return None

    def _unusable(self, error: Exception) -> None:
        log.debug("no switchable model for ranking: %s", first_line(error))
        self.usable = False

    def measure(self, scorer: SampleScorer, candidates: Sequence[Hashable], indices: Sequence[int], meter) -> list:
        flag_sets = [keep_flags(len(self.groups), None if candidate is BASE else self.position[candidate])
                     for candidate in candidates]
        return self.speed.timed_scores(scorer, self.compiled, indices, flag_sets, meter)


class Compiled:
    name = "compiled"
    usable = True

    def __init__(self, prepare: Prepare, model: ov.Model, reverted: Callable[[ov.Model, QuantizerGroup], ov.Model],
                 speed: Speed):
        self.prepare, self.model, self.reverted, self.speed = prepare, model, reverted, speed
        weights = sum(node.get_byte_size() for node in model.get_ordered_ops() if node.get_type_name() == "Constant")
        self.keep = max(1, KEEP_BYTES // max(weights, 1))  # compiled candidates kept between rounds
        self.kept: dict[Hashable, PerSampleModel | ov.Model] = {}

    def compiles_needed(self, candidates: Sequence[Hashable]) -> int:
        return sum(1 for candidate in candidates if candidate not in self.kept)

    def measure(self, scorer: SampleScorer, candidates: Sequence[Hashable], indices: Sequence[int], meter) -> list:
        self.kept = {c: p for c, p in self.kept.items() if c in candidates}  # the others are out of the race
        results = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="potq-compile") as background:
            upcoming = background.submit(self._compiled, candidates[0])
            for candidate, following in zip(candidates, [*candidates[1:], _LAST], strict=True):
                compiled = upcoming.result()
                if following is not _LAST:  # compiles while this one is measured
                    upcoming = background.submit(self._compiled, following)
                results.extend(self.speed.timed_scores(scorer, compiled, indices, [None], meter))
                if candidate is BASE or len(self.kept) < self.keep:
                    self.kept[candidate] = compiled
        return results

    def _compiled(self, candidate: Hashable) -> PerSampleModel | ov.Model:
        if candidate in self.kept:
            return self.kept[candidate]
        started = time.perf_counter()
        model = self.model if candidate is BASE else self.reverted(self.model, candidate)
        compiled = self.prepare(model, "reverted model for ranking")
        self.speed.compile_seconds = time.perf_counter() - started
        return compiled
