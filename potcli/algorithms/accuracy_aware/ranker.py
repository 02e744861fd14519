"""Scoring quantized models and quantizer groups on AccuracyAwareQuantization's ranking subset.

The ranking samples are read from the DataLoader once and kept. A score is higher-is-better: the primary
metric on the subset (direction-adjusted) when the Metric reports per-sample values, else minus the mean
normalized squared error of the outputs against FP32 (as NNCF does).
"""
import numpy as np
import openvino as ov

from ...data.metric_calls import average_values, postprocessed, reset, update
from ...data.samples import input_specs, output_names, prepared_sample
from ...engine.batching import run_per_sample
from ..context import RunContext
from .groups import QuantizerGroup, keep_flags, switchable_model


def output_error(reference: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    """Normalized squared error of a sample's outputs against the FP32 ones."""
    error = sum(float(np.sum((o - r) ** 2)) for r, o in zip(reference, outputs, strict=True))
    scale = sum(float(np.sum(r ** 2)) for r in reference)
    return error / max(scale, 1e-12)


class Ranker:
    def __init__(self, ctx: RunContext, fp32_model: ov.Model, target, indices: list[int], by_metric: bool,
                 fp32_eval=None):
        self.ctx, self.target, self.indices, self.by_metric = ctx, target, indices, by_metric
        specs = input_specs(fp32_model)
        self.names = output_names(fp32_model)
        self.samples = {index: prepared_sample(ctx.loader, index, specs) for index in indices}  # read once
        self.reference = None
        if not by_metric:
            self.reference = {i: fp32_eval.outputs[i] for i in indices} if fp32_eval is not None \
                else self._outputs(fp32_model)
        self.metric_name = None

    def score_model(self, model: ov.Model, metric_name: str) -> float:
        """Subset score of one model (higher is better)."""
        self.metric_name = metric_name
        return self._scores(model, [{}])[0]

    def rank(self, model: ov.Model, groups: list[QuantizerGroup], metric_name: str) -> dict[QuantizerGroup, float]:
        """How much reverting each group improves the subset score of ``model`` (one compile for all)."""
        self.metric_name = metric_name
        blocks = [keep_flags(len(groups), None)] + [keep_flags(len(groups), g) for g in range(len(groups))]
        scores = self._scores(switchable_model(model, groups), blocks)
        return {group: score - scores[0] for group, score in zip(groups, scores[1:], strict=True)}

    def _scores(self, model: ov.Model, blocks: list[dict]) -> list[float]:
        size = len(self.indices)
        scores: list[float] = []
        errors: list[float] = []
        metric = self.ctx.metric

        def samples():
            for block, flags in enumerate(blocks):
                for position, index in enumerate(self.indices):
                    yield block * size + position, {**self.samples[index].inputs, **flags}

        def handle(code: int, outputs: list[np.ndarray]) -> None:
            _, position = divmod(code, size)
            index = self.indices[position]
            if position == 0:
                errors.clear()
                if self.by_metric:
                    reset(metric)
            if self.by_metric:
                sample = self.samples[index]
                update(metric, postprocessed(self.ctx.postprocess, self.names, outputs, sample.metadata, index),
                       sample.annotation, index)
            else:
                errors.append(output_error(self.reference[index], outputs))
            if position == size - 1:
                if self.by_metric:
                    value = average_values(metric)[self.metric_name]
                    scores.append(self.target.better(self.metric_name, value, 0.0))
                else:
                    scores.append(-float(np.mean(errors)))

        run_per_sample(self.ctx.engine, model, samples(), handle, self.ctx.eval_requests, "Ranking",
                       len(blocks) * size, "model for ranking")
        return scores

    def _outputs(self, model: ov.Model) -> dict[int, list[np.ndarray]]:
        outputs = {}
        run_per_sample(self.ctx.engine, model, ((i, self.samples[i].inputs) for i in self.indices),
                       lambda index, out: outputs.__setitem__(index, out), self.ctx.eval_requests, "FP32 outputs",
                       len(self.indices), "FP32 model for ranking")
        return outputs
