"""Per-sample scores of a model on ranking samples: the one function every ranking measurement goes through
(``SampleScorer.scores``: a candidate compiled as itself, the switchable model with a group's flags, a whole
model for tune_hyperparams). ``model_scores(model, indices)`` is the unit of work another worker could do:
a candidate's model and sample indices in, per-sample scores out.

A score is higher-is-better: the Metric's per-sample ``value`` of the metric being ranked (direction-adjusted)
when the Metric reports one, else minus the normalized squared error of the outputs against FP32 (as NNCF
does). The ranking samples are read from the DataLoader once and kept.
"""
from collections.abc import Sequence

import numpy as np
import openvino as ov

from ...data.metric_calls import postprocessed, reset, sample_values, update
from ...data.samples import Sample, input_specs, output_names, prepared_sample
from ...engine.batching import PerSampleModel, compile_per_sample, run_compiled_per_sample
from ..context import RunContext


def output_error(reference: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    """Normalized squared error of a sample's outputs against the FP32 ones."""
    error = sum(float(np.sum((o - r) ** 2)) for r, o in zip(reference, outputs, strict=True))
    scale = sum(float(np.sum(r ** 2)) for r in reference)
    return error / max(scale, 1e-12)


class SampleScorer:
    """Scores models on the ranking samples (read once, here) and counts the inferences it ran."""

    def __init__(self, ctx: RunContext, fp32_model: ov.Model, indices: Sequence[int], by_metric: bool, target):
        self.ctx, self.by_metric, self.target = ctx, by_metric, target
        specs = input_specs(fp32_model)
        self.names = output_names(fp32_model)
        self.samples: dict[int, Sample] = {index: prepared_sample(ctx.loader, index, specs) for index in indices}
        self.reference: dict[int, list[np.ndarray]] = {}
        self.metric_name = None  # the metric being ranked (by_metric)
        self.inferences = 0

    def scores(self, compiled: PerSampleModel, indices: Sequence[int], flags: dict | None = None) -> np.ndarray:
        """The score of each of ``indices`` on ``compiled`` (extra inputs ``flags`` with every sample)."""
        values: list[float] = []
        if self.by_metric:
            reset(self.ctx.metric)
        samples = ((i, {**self.samples[i].inputs, **(flags or {})}) for i in indices)
        run_compiled_per_sample(self.ctx.engine, compiled, samples,
                                lambda index, outputs: values.append(self._score(index, outputs)),
                                self.ctx.eval_requests, "Ranking", len(indices), shown=False)
        self.inferences += len(indices)
        return np.asarray(values, dtype=np.float64)

    def model_scores(self, model: ov.Model, indices: Sequence[int]) -> np.ndarray:
        return self.scores(compile_per_sample(self.ctx.engine, model, "model for ranking"), indices)

    def outputs(self, compiled: PerSampleModel, indices: Sequence[int]) -> dict[int, list[np.ndarray]]:
        """Raw outputs of ``indices`` (the FP32 reference when no evaluation kept it)."""
        kept = {}
        run_compiled_per_sample(self.ctx.engine, compiled, ((i, self.samples[i].inputs) for i in indices),
                                kept.__setitem__, self.ctx.eval_requests, "FP32 outputs for ranking", len(indices))
        return kept

    def _score(self, index: int, outputs: list[np.ndarray]) -> float:
        if not self.by_metric:
            return -output_error(self.reference[index], outputs)
        sample = self.samples[index]
        update(self.ctx.metric, postprocessed(self.ctx.postprocess, self.names, outputs, sample.metadata, index),
               sample.annotation, index)
        return self.target.better(self.metric_name, sample_values(self.ctx.metric)[self.metric_name], 0.0)
