"""AccuracyAwareQuantization: DefaultQuantization, then put back in FP32 the layers that cost most accuracy.

POT's semantics (maximal_drop, drop_type, max_iter_num, ranking_subset_size, metric_subset_ratio,
use_prev_if_drop_increase, convert_to_mixed_preset, tune_hyperparams, metrics/baseline_value), done faster:
statistics are collected once for every variant tried; the FP32 model is evaluated at most once; layers are
ranked on one compiled switchable model (ranking.py) instead of one compile per layer; the ranking samples
are read once and kept.
"""
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import openvino as ov

from ...config.params import AlgorithmParams
from ...data.metric_calls import has_per_sample_values, metric_directions, require_names
from ...data.samples import CachedLoader, dataset_length, sample_indices
from ...engine.evaluation import Evaluation, evaluate
from ...graph.queries import constant_value, nodes_by_name
from ...graph.transform import remove_fake_quantize, set_biases
from ...rules import device_rules
from ..bias_correction.shifts import find_bias_layers
from ..context import QuantizationState, RunContext
from ..default_quantization import finish_default_quantization, prepare_and_collect
from .groups import QuantizerGroup, quantizer_groups
from .ranker import Ranker, output_error
from .target import AccuracyTarget, select_metrics

log = logging.getLogger("potq")
CACHE_BYTES = 512 << 20  # samples kept in memory between the evaluations of one run
DEFAULT_RANKING_SUBSET = 300  # ranking_subset_size null: min(dataset size, 300), as POT

# tune_hyperparams: POT's grid of activation range estimators (min x max), tried on the ranking subset.
_MIN_CHOICES = [{"type": "min", "aggregator": "min"}, {"type": "quantile", "aggregator": "mean", "outlier_prob": 1e-3},
                {"type": "quantile", "aggregator": "mean", "outlier_prob": 1e-4}]
_MAX_CHOICES = [{"type": "max", "aggregator": "max"}, {"type": "quantile", "aggregator": "mean", "outlier_prob": 1e-3},
                {"type": "quantile", "aggregator": "mean", "outlier_prob": 1e-4}]
TUNING_GRID = [{"min": low, "max": high} for low in _MIN_CHOICES for high in _MAX_CHOICES]


@dataclass
class Candidate:
    """A quantized model and how it measured."""

    state: QuantizationState
    evaluation: Evaluation
    excess: float
    reverted: list[QuantizerGroup] = field(default_factory=list)


def run_accuracy_aware(state: QuantizationState, params: AlgorithmParams, ctx: RunContext) -> QuantizationState:
    """Needs ``ctx.metric`` (the config layer and the pipeline check that one is given)."""
    ctx = replace(ctx, loader=CachedLoader(ctx.loader, CACHE_BYTES))
    accuracy = params.accuracy
    selected, baselines = select_metrics(metric_directions(ctx.metric), accuracy.metrics)
    length = dataset_length(ctx.loader)
    indices = _evaluation_indices(length, params, bool(baselines))
    per_sample = has_per_sample_values(ctx.metric)
    fp32_eval = None
    if not baselines:
        keep = frozenset(indices) if not per_sample else frozenset()
        with ctx.timed("fp32 evaluation"):
            fp32_eval = _reporting(evaluate(ctx.engine, state.model, ctx.loader, ctx.metric, indices,
                                            ctx.eval_requests, per_sample, keep, "FP32 evaluation",
                                            postprocess=ctx.postprocess), selected)
        baselines = {name: fp32_eval.metrics[name] for name in selected}
    target = AccuracyTarget(selected, baselines, accuracy.maximal_drop, accuracy.relative)
    return _AccuracyAwareRun(ctx, params, target, indices, per_sample, fp32_eval).execute(state)


def _reporting(evaluation: Evaluation, names) -> Evaluation:
    """``evaluation``, once checked to hold every metric the budget is about (get_attributes may name others
    than avg_value reports)."""
    require_names(evaluation.metrics, names, "avg_value")
    if evaluation.per_sample:
        require_names(evaluation.per_sample, names, "value")
    return evaluation


def _evaluation_indices(length: int, params: AlgorithmParams, baseline_given: bool) -> Sequence[int]:
    """The whole dataset, or (FP32 baseline given in the config) a seeded metric_subset_ratio of it, as POT."""
    if not baseline_given:
        return range(length)
    size = max(1, int(round(length * params.accuracy.metric_subset_ratio)))
    return sample_indices(length, size, shuffle=True, seed=params.sampling.seed)


class _AccuracyAwareRun:
    def __init__(self, ctx: RunContext, params: AlgorithmParams, target: AccuracyTarget, indices: Sequence[int],
                 per_sample: bool, fp32_eval: Evaluation | None):
        self.ctx, self.params, self.target, self.indices = ctx, params, target, indices
        self.accuracy = params.accuracy
        self.per_sample, self.fp32_eval = per_sample, fp32_eval
        self.iterations: list[dict] = []
        self.evaluations = 0

    def execute(self, state: QuantizationState) -> QuantizationState:
        started = time.perf_counter()
        prepared = prepare_and_collect(state, self._variants(), self.ctx)
        state, plans, collected, samples = prepared.state, prepared.plans, prepared.collected, prepared.samples

        def quantize(key):
            return finish_default_quantization(state, plans[key], collected, self.ctx, samples)

        best = self._measure(quantize("default"), "DefaultQuantization")
        initial = best
        if not self._reached(best) and "mixed" in plans:
            best = self._keep_better(best, self._measure(quantize("mixed"), "convert_to_mixed_preset"))
        ranker = None
        if not self._reached(best):
            ranker = Ranker(self.ctx, state.model, self.target, self._ranking_indices(best), self.per_sample,
                            self.fp32_eval)
            tuned = [key for key in plans if key.startswith("tune")]
            if tuned:
                best = self._tune(best, tuned, quantize, ranker)
        if not self._reached(best):
            best = self._revert_layers(best, state, ranker)
        return self._result(best, initial, started)

    def _variants(self) -> dict[str, AlgorithmParams]:
        """DefaultQuantization parameter sets this run may try; their statistics are all collected at once."""
        variants = {"default": self.params}
        if self.accuracy.convert_to_mixed_preset and self.params.quantization.preset in (None, "performance"):
            variants["mixed"] = self.params.with_preset("mixed")
        if self.accuracy.tune_hyperparams:
            for i, estimator in enumerate(TUNING_GRID):
                variants[f"tune{i}"] = self.params.with_activation_estimator(estimator)
            variants["tune_bias"] = self.params.with_fast_bias(not self.params.bias.fast)
        return variants

    def _measure(self, state: QuantizationState, label: str, reverted=None) -> Candidate:
        keep = frozenset(self.indices) if self.fp32_eval is not None and not self.per_sample else frozenset()
        with self.ctx.timed("int8 evaluation"):
            evaluation = _reporting(evaluate(self.ctx.engine, state.model, self.ctx.loader, self.ctx.metric,
                                             self.indices, self.ctx.eval_requests, self.per_sample, keep,
                                             f"Evaluation ({label})", postprocess=self.ctx.postprocess),
                                    self.target.directions)
        self.evaluations += 1
        return Candidate(state, evaluation, self.target.excess(evaluation.metrics), list(reverted or []))

    def _reached(self, candidate: Candidate) -> bool:
        return self.target.reached(candidate.evaluation.metrics)

    @staticmethod
    def _keep_better(current: Candidate, other: Candidate) -> Candidate:
        return other if other.excess < current.excess else current

    def _ranking_indices(self, candidate: Candidate) -> list[int]:
        """The ranking_subset_size samples that degraded most (POT's choice), or the first ones if unknown."""
        size = min(self.accuracy.ranking_subset_size or DEFAULT_RANKING_SUBSET, len(self.indices))
        metric = self.target.worst_metric(candidate.evaluation.metrics)
        degradation, candidates = None, self.indices
        if self.per_sample:
            values = candidate.evaluation.per_sample[metric]
            reference = self.fp32_eval.per_sample[metric] if self.fp32_eval else np.full_like(values, values.max())
            degradation = self.target.degradation(metric, reference, values)
        elif self.fp32_eval is not None:  # ranked by output error: only samples whose outputs were kept
            candidates = [i for i in self.indices if i in self.fp32_eval.outputs and i in candidate.evaluation.outputs]
            degradation = np.array([output_error(self.fp32_eval.outputs[i], candidate.evaluation.outputs[i])
                                    for i in candidates])
            if len(candidates) < size:
                log.warning("ranking on %d samples: the outputs of more do not fit in memory", len(candidates))
        if degradation is None:
            return self.indices[:size]
        order = sorted(range(len(candidates)), key=lambda k: (-degradation[k], candidates[k]))
        return sorted(candidates[k] for k in order[:size])

    def _tune(self, best: Candidate, tuned: list[str], quantize, ranker: Ranker) -> Candidate:
        """POT's tune_hyperparams: score each variant on the ranking subset; fully evaluate the best one."""
        metric = self.target.worst_metric(best.evaluation.metrics)
        with self.ctx.timed("tuning"):
            scores = {"current": ranker.score_model(best.state.model, metric)}
            states = {}
            for key in tuned:
                states[key] = quantize(key)
                scores[key] = ranker.score_model(states[key].model, metric)
        winner = max(scores, key=lambda key: (scores[key], key == "current"))
        self.iterations.append({"step": "tune_hyperparams", "subset_scores": scores, "chosen": winner})
        if winner == "current":
            return best
        return self._keep_better(best, self._measure(states[winner], f"tune_hyperparams {winner}"))

    def _revert_layers(self, best: Candidate, state: QuantizationState, ranker: Ranker) -> Candidate:
        """Greedy: revert the group whose removal helps most, re-evaluate, repeat (POT's step-back rule)."""
        current = best
        plan = current.state.plan
        remaining = quantizer_groups(current.state.fp32, plan, device_rules(self.params.quantization.target_device))
        biases = {layer.node: layer for layer in find_bias_layers(current.state.fp32, plan) if layer.bias_add}
        scores: dict[QuantizerGroup, float] = {}
        limit = self.accuracy.max_iter_num or len(remaining)
        attempts = 0
        while remaining and attempts < limit and not self._reached(current):
            if not scores:
                metric = self.target.worst_metric(current.evaluation.metrics)
                with self.ctx.timed("ranking"):
                    scores = ranker.rank(current.state.model, remaining, metric)
            group = max(remaining, key=lambda g: (scores[g], [-ord(c) for c in ",".join(g.layers)]))
            attempts += 1
            started = time.perf_counter()
            model = self._reverted(current.state, group, biases)
            self.ctx.dump(model, f"aaq_iteration_{attempts}")
            candidate = self._measure(replace(current.state, model=model), f"iteration {attempts}",
                                      current.reverted + [group])
            accepted = not (candidate.excess > current.excess and self.accuracy.use_prev_if_drop_increase)
            self.iterations.append({"step": "revert", "iteration": attempts, "layers": list(group.layers),
                                    "quantizers": sorted(group.quantizers), "score": scores[group],
                                    "metrics": candidate.evaluation.metrics,
                                    "drop": self.target.drops(candidate.evaluation.metrics), "accepted": accepted,
                                    "seconds": round(time.perf_counter() - started, 4)})
            remaining.remove(group)
            scores.pop(group, None)
            if accepted:
                current = candidate
                best = self._keep_better(best, candidate)
            else:
                scores = {}  # the ranking was misleading here: rank again on the current model
        return current if self._reached(current) else best

    @staticmethod
    def _reverted(state: QuantizationState, group: QuantizerGroup, biases: dict) -> ov.Model:
        """``state.model`` without the group's FakeQuantize, and with the FP32 biases of its layers back
        (bias correction had shifted them for a quantization error the layers no longer have)."""
        model = remove_fake_quantize(state.model, set(group.quantizers))
        fp32_nodes = nodes_by_name(state.fp32)
        restore = {}
        for layer in (biases[name] for name in group.layers if name in biases):
            original = fp32_nodes[layer.bias_add].input_value(layer.bias_port)
            restore[(layer.bias_add, layer.bias_port)] = constant_value(original)
        return set_biases(model, restore) if restore else model

    def _result(self, best: Candidate, initial: Candidate, started: float) -> QuantizationState:
        reached = self._reached(best)
        reverted_layers = [layer for group in best.reverted for layer in group.layers]
        section = {
            "algorithm": "AccuracyAwareQuantization",
            "metrics": dict(self.target.directions), "baseline": dict(self.target.baseline),
            "baseline_from": "evaluation" if self.fp32_eval is not None else "config",
            "maximal_drop": self.target.maximal_drop, "drop_type": "relative" if self.target.relative else "absolute",
            "evaluation_samples": len(self.indices), "ranking_by": "metric" if self.per_sample else "output_error",
            "default_quantization": {"metrics": initial.evaluation.metrics,
                                     "drop": self.target.drops(initial.evaluation.metrics)},
            "iterations": self.iterations,
            "result": {"reached": reached, "metrics": best.evaluation.metrics,
                       "drop": self.target.drops(best.evaluation.metrics), "reverted_layers": reverted_layers},
            "evaluations": {"fp32": int(self.fp32_eval is not None), "quantized": self.evaluations},
            "seconds": round(time.perf_counter() - started, 4),
            "reverted": {layer: "reverted to FP32 by AccuracyAwareQuantization" for layer in reverted_layers},
        }
        return best.state.with_section(section, status="ok" if reached else "accuracy_target_not_reached")
