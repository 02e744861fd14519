"""Per-sample scores of a model on ranking samples: the one function every ranking measurement goes through
(``SampleScorer.scores``: a candidate compiled as itself, the switchable model with a group's flags, a whole
model for tune_hyperparams). A model is ``prepared`` for it: compiled here, or, when the engine has a cluster
(``engine.remote``), left as it is for the workers, which compile it, read the samples, run them (with a
group's flags as extra inputs) and send back each sample's outputs with its annotation; the scores are then
computed here, in sample order, as a local run computes them.

A score is higher-is-better: the Metric's per-sample ``value`` of the metric being ranked (direction-adjusted)
when the Metric reports one, else minus the normalized squared error of the outputs against FP32 (as NNCF
does). Without a cluster, the ranking samples are read from the DataLoader once and kept.
"""
from collections.abc import Callable, Sequence

import numpy as np
import openvino as ov

from ...data.metric_calls import postprocessed, reset, sample_values, update
from ...data.samples import Sample, input_specs, output_names, prepared_sample
from ...engine.batching import PerSampleModel, compile_per_sample, run_compiled_per_sample
from ...engine.remote import SampleHandler
from ..context import RunContext


def output_error(reference: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    """Normalized squared error of a sample's outputs against the FP32 ones."""
    error = sum(float(np.sum((o - r) ** 2)) for r, o in zip(reference, outputs, strict=True))
    scale = sum(float(np.sum(r ** 2)) for r in reference)
    return error / max(scale, 1e-12)


class SampleScorer:
    """Scores models on the ranking samples and counts the inferences it ran (and how many of them ran on the
    engine's workers)."""

    def __init__(self, ctx: RunContext, fp32_model: ov.Model, indices: Sequence[int], by_metric: bool, target):
        self.ctx, self.by_metric, self.target = ctx, by_metric, target
        self.remote = ctx.engine.remote
        specs = input_specs(fp32_model)
        self.names = output_names(fp32_model)
        self.samples: dict[int, Sample] = {} if self.remote is not None else \
            {index: prepared_sample(ctx.loader, index, specs) for index in indices}  # workers read their own
        self.reference: dict[int, list[np.ndarray]] = {}
        self.metric_name = None  # the metric being ranked (by_metric)
        self.inferences = 0
        self.worker_inferences = 0

    def prepared(self, model: ov.Model, what: str) -> PerSampleModel | ov.Model:
        """``model`` ready for ``scores``: compiled here, or as it is for the engine's workers to compile."""
        return model if self.remote is not None else compile_per_sample(self.ctx.engine, model, what)

    def scores(self, prepared: PerSampleModel | ov.Model, indices: Sequence[int],
               flags: dict | None = None) -> np.ndarray:
        """The score of each of ``indices`` on ``prepared`` (extra inputs ``flags`` with every sample)."""
        values: list[float] = []
        if self.by_metric:
            reset(self.ctx.metric)
        self._run(prepared, indices, flags, lambda index, outputs, annotation, metadata:
                  values.append(self._score(index, outputs, annotation, metadata)), "Ranking", shown=False)
        self.inferences += len(indices)
        self.worker_inferences += len(indices) if self.remote is not None else 0
        return np.asarray(values, dtype=np.float64)

    def scores_each(self, prepared: PerSampleModel | ov.Model, indices: Sequence[int], flag_sets: list[dict | None],
                    done: Callable[[], None]) -> list[np.ndarray]:
        """``scores`` with each of ``flag_sets`` in turn, ``done()`` after each. With a cluster, in one pass whose
        shards (one per flag set for a round of a few samples) the workers share; the Metric then sees the same
        calls, in the same order, as from one ``scores`` per flag set."""
        if self.remote is None:
            results = []
            for flags in flag_sets:
                results.append(self.scores(prepared, indices, flags))
                done()
            return results
        values: list[float] = []

        def handle(index: int, outputs: list[np.ndarray], annotation, metadata) -> None:
            if self.by_metric and len(values) % len(indices) == 0:
                reset(self.ctx.metric)  # a flag set's first sample, as ``scores`` starts
            values.append(self._score(index, outputs, annotation, metadata))
            if len(values) % len(indices) == 0:
                done()

        self._run(prepared, indices, [flags or {} for flags in flag_sets], handle, "Ranking", shown=False)
        self.inferences += len(values)
        self.worker_inferences += len(values)
        return list(np.asarray(values, dtype=np.float64).reshape(len(flag_sets), len(indices)))

    def model_scores(self, model: ov.Model, indices: Sequence[int]) -> np.ndarray:
        return self.scores(self.prepared(model, "model for ranking"), indices)

    def outputs(self, prepared: PerSampleModel | ov.Model, indices: Sequence[int]) -> dict[int, list[np.ndarray]]:
        """Raw outputs of ``indices`` (the FP32 reference when no evaluation kept it)."""
        kept = {}
        self._run(prepared, indices, None, lambda index, outputs, *_: kept.__setitem__(index, outputs),
                  "FP32 outputs for ranking")
        return kept

    def _run(self, prepared: PerSampleModel | ov.Model, indices: Sequence[int], flags: dict | list[dict] | None,
             handle: SampleHandler, description: str, shown: bool = True) -> None:
        """``handle(index, outputs, annotation, metadata)`` for each of ``indices``, in order: on the engine's
        workers if it has them (a list of ``flags``: once per entry), else here."""
        if self.remote is not None:
            self.remote.per_sample(prepared, indices, handle, self.ctx.eval_requests, description,
                                   extra_inputs=flags, shown=shown)
            return
        samples = ((i, {**self.samples[i].inputs, **(flags or {})}) for i in indices)
        run_compiled_per_sample(self.ctx.engine, prepared, samples,
                                lambda index, outputs: handle(index, outputs, self.samples[index].annotation,
                                                              self.samples[index].metadata),
                                self.ctx.eval_requests, description, len(indices), shown=shown)

    def _score(self, index: int, outputs: list[np.ndarray], annotation, metadata) -> float:
        if not self.by_metric:
            return -output_error(self.reference[index], outputs)
        update(self.ctx.metric, postprocessed(self.ctx.postprocess, self.names, outputs, metadata, index),
               annotation, index)
        return self.target.better(self.metric_name, sample_values(self.ctx.metric)[self.metric_name], 0.0)
