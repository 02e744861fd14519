"""AccuracyAwareQuantization: DefaultQuantization, then put back in FP32 the layers that cost most accuracy.

POT's semantics (maximal_drop, drop_type, max_iter_num, ranking_subset_size, metric_subset_ratio,
use_prev_if_drop_increase, convert_to_mixed_preset, tune_hyperparams, metrics/baseline_value), done faster:
statistics are collected once for every variant tried; the FP32 model is evaluated at most once; layers are
ranked by successive halving (racing.py) instead of every layer on the whole ranking subset, each round on
one switchable model (switchable.py) or on compiled reverted models, whichever this model runs cheaper
(candidates.py), both with the CPU's real INT8 kernels; the scores of a ranking are reused until a revert is
rejected; the ranking samples are read once and kept.
"""
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ...config.params import AlgorithmParams
from ...data.metric_calls import has_per_sample_values, metric_directions, require_names
from ...data.samples import CachedLoader, dataset_length, sample_indices
from ...engine.evaluation import Evaluation, evaluate
from ...rules import device_rules
from ..context import QuantizationState, RunContext
from ..default_quantization import finish_default_quantization, prepare_and_collect
from .groups import QuantizerGroup, Reverter, quantizer_groups
from .racing import Standing
from .ranker import Ranker, Reference
from .scoring import output_error
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
    seconds: float = 0.0  # its evaluation took


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
                            Reverter(best.state.fp32, best.state.plan),
                            device_rules(self.params.quantization.target_device)["agnostic"], self.fp32_eval)
            tuned = [key for key in plans if key.startswith("tune")]
            if tuned:
                best = self._tune(best, tuned, quantize, ranker)
        if not self._reached(best):
            best = self._revert_layers(best, ranker)
        return self._result(best, initial, started, ranker)

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
        started = time.perf_counter()
        with self.ctx.timed("int8 evaluation"):
            evaluation = _reporting(evaluate(self.ctx.engine, state.model, self.ctx.loader, self.ctx.metric,
                                             self.indices, self.ctx.eval_requests, self.per_sample, keep,
                                             f"Evaluation ({label})", postprocess=self.ctx.postprocess),
                                    self.target.directions)
        self.evaluations += 1
        return Candidate(state, evaluation, self.target.excess(evaluation.metrics), list(reverted or []),
                         round(time.perf_counter() - started, 4))

    def _reached(self, candidate: Candidate) -> bool:
        return self.target.reached(candidate.evaluation.metrics)

    @staticmethod
    def _keep_better(current: Candidate, other: Candidate) -> Candidate:
        return other if other.excess < current.excess else current

    def _ranking_indices(self, candidate: Candidate) -> list[int]:
        """The ranking_subset_size samples that degraded most (POT's choice), most degraded first, or the first
        ones if unknown."""
        size = min(self.accuracy.ranking_subset_size or DEFAULT_RANKING_SUBSET, len(self.indices))
        metric = self.target.worst_metric(candidate.evaluation.metrics)
        scores = self._sample_scores(candidate.evaluation, metric)
        if scores is None:
            return list(self.indices[:size])
        fp32 = self._fp32_scores(metric, scores)
        if fp32 is None:  # no FP32 per-sample values: the best INT8 sample stands in for them
            fp32 = dict.fromkeys(scores, max(scores.values()))
        if len(scores) < size:
            log.warning("ranking on %d samples: the outputs of more do not fit in memory", len(scores))
        return sorted(scores, key=lambda i: (scores[i] - fp32[i], i))[:size]

    def _sample_scores(self, evaluation: Evaluation, metric: str) -> dict[int, float] | None:
        """Per-sample ranking scores (higher is better, scoring.py's) of an evaluated model, by sample index:
        its metric values, or minus the error of its kept outputs against FP32 (None: unknown)."""
        if self.per_sample:
            return {i: self.target.better(metric, v, 0.0)
                    for i, v in zip(self.indices, evaluation.per_sample[metric], strict=True)}
        if self.fp32_eval is None:
            return None
        return {i: -output_error(self.fp32_eval.outputs[i], evaluation.outputs[i])
                for i in self.indices if i in self.fp32_eval.outputs and i in evaluation.outputs}

    def _fp32_scores(self, metric: str, scores: dict[int, float]) -> dict[int, float] | None:
        """The FP32 model's per-sample scores for the samples of ``scores`` (None: not evaluated)."""
        if not self.per_sample:
            return dict.fromkeys(scores, 0.0)  # FP32 outputs have no error against themselves
        return self._sample_scores(self.fp32_eval, metric) if self.fp32_eval is not None else None

    def _reference(self, candidate: Candidate, metric: str) -> Reference:
        scores = self._sample_scores(candidate.evaluation, metric)
        return Reference(candidate.evaluation.cost, scores,
                         self._fp32_scores(metric, scores) if scores is not None else None)

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

    def _revert_layers(self, best: Candidate, ranker: Ranker) -> Candidate:
        """Greedy: revert the group whose removal helps most, re-evaluate, repeat (POT's step-back rule). The
        ranking's order is kept after an accepted revert and made again after a rejected one."""
        current = best
        remaining = quantizer_groups(current.state.fp32, current.state.plan,
                                     device_rules(self.params.quantization.target_device))
        ranked: list[Standing] = []
        limit = self.accuracy.max_iter_num or len(remaining)
        attempts = 0
        while remaining and attempts < limit and not self._reached(current):
            if not ranked:
                metric = self.target.worst_metric(current.evaluation.metrics)
                with self.ctx.timed("ranking"):
                    ranked = ranker.rank(current.state.model, remaining, metric, self._reference(current, metric))
            standing = ranked.pop(0)
            group = standing.candidate
            attempts += 1
            started = time.perf_counter()
            model = ranker.reverter.reverted_model(current.state.model, group)
            self.ctx.dump(model, f"aaq_iteration_{attempts}")
            candidate = self._measure(replace(current.state, model=model), f"iteration {attempts}",
                                      current.reverted + [group])
            accepted = not (candidate.excess > current.excess and self.accuracy.use_prev_if_drop_increase)
            self.iterations.append({"step": "revert", "iteration": attempts, "layers": list(group.layers),
                                    "quantizers": sorted(group.quantizers), "score": standing.gain,
                                    "score_samples": standing.samples, "metrics": candidate.evaluation.metrics,
                                    "drop": self.target.drops(candidate.evaluation.metrics), "accepted": accepted,
                                    "evaluation_seconds": candidate.seconds,
                                    "seconds": round(time.perf_counter() - started, 4)})
            remaining.remove(group)
            if accepted:
                current = candidate
                best = self._keep_better(best, candidate)
            else:
                ranked = []  # the ranking was misleading here: rank again on the current model
        return current if self._reached(current) else best

    def _result(self, best: Candidate, initial: Candidate, started: float, ranker: Ranker | None) -> QuantizationState:
        reached = self._reached(best)
        reverted_layers = [layer for group in best.reverted for layer in group.layers]
        section = {
            "algorithm": "AccuracyAwareQuantization",
            "metrics": dict(self.target.directions), "baseline": dict(self.target.baseline),
            "baseline_from": "evaluation" if self.fp32_eval is not None else "config",
            "maximal_drop": self.target.maximal_drop, "drop_type": "relative" if self.target.relative else "absolute",
            "evaluation_samples": len(self.indices), "ranking_by": "metric" if self.per_sample else "output_error",
            "default_quantization": {"metrics": initial.evaluation.metrics,
                                     "drop": self.target.drops(initial.evaluation.metrics),
                                     "evaluation_seconds": initial.seconds},
            "ranking": _ranking_section(ranker),
            "iterations": self.iterations,
            "result": {"reached": reached, "metrics": best.evaluation.metrics,
                       "drop": self.target.drops(best.evaluation.metrics), "reverted_layers": reverted_layers},
            "evaluations": {"fp32": int(self.fp32_eval is not None), "quantized": self.evaluations},
            "seconds": round(time.perf_counter() - started, 4),
            "reverted": {layer: "reverted to FP32 by AccuracyAwareQuantization" for layer in reverted_layers},
        }
        return best.state.with_section(section, status="ok" if reached else "accuracy_target_not_reached")


def _ranking_section(ranker: Ranker | None) -> dict:
    """What ranking cost: inferences (how many of them on the cluster's workers) and seconds of every ranking,
    and what scoring every group on the whole ranking subset (POT's way) would have cost in inferences."""
    rankings = ranker.log if ranker is not None else []
    subset = len(ranker.indices) if ranker is not None else 0
    return {"subset_samples": subset, "rankings": rankings,
            "inferences": sum(entry["inferences"] for entry in rankings),
            "worker_inferences": sum(entry["worker_inferences"] for entry in rankings),
            "seconds": round(sum(entry["seconds"] for entry in rankings), 4),
            "full_subset_inferences": sum((entry["groups"] + 1) * subset for entry in rankings)}
