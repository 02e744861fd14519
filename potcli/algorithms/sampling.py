"""Statistics passes with POT's sampling parameters (stat_subset_size, shuffle_data, seed, stat_batch_size),
through the statistics cache when the run has one."""
from dataclasses import replace

import numpy as np
import openvino as ov

from ..config.params import AlgorithmParams, Sampling
from ..data.samples import CachedLoader, dataset_length, sample_indices
from ..engine.collector import CollectedStatistics, collect_statistics, graph_reduction
from ..errors import PotqError
from ..graph.queries import tensors_by_name
from ..statistics.streaming import SAMPLED_SAMPLES, TensorStatistic
from .context import RunContext
from .statistics_cache import StatisticsPass, rerun_variants


def statistics_indices(sampling: Sampling, ctx: RunContext) -> list[int]:
    return sample_indices(dataset_length(ctx.loader), sampling.subset_size, sampling.shuffle, sampling.seed)


def gather_statistics(model: ov.Model, statistics: set[TensorStatistic], sampling: Sampling, ctx: RunContext,
                      record_shapes=(), prefetch: tuple[set[TensorStatistic], set[str]] = (set(), set()),
                      indices=None) -> CollectedStatistics:
    """One pass over the statistics subset of ``sampling`` (or over ``indices``) collecting every statistic
    asked for.

    :param prefetch: statistics and shapes a rerun with other settings would need; with a statistics cache,
        a pass that runs collects and stores them too (without one they are ignored).
    """
    indices = statistics_indices(sampling, ctx) if indices is None else indices

    def collect(wanted, shapes, digest=None) -> CollectedStatistics:
        return collect_statistics(ctx.engine, model, wanted, ctx.loader, indices, ctx.inplace_statistics,
                                  ctx.stat_requests, shapes, batch_size=sampling.batch_size, digest=digest)

    with ctx.timed("statistics"):
        if ctx.stats_cache is None:
            return collect(statistics, record_shapes)
        request = StatisticsPass(model, frozenset(statistics), frozenset(record_shapes), tuple(indices),
                                 sampling.batch_size, ctx.inplace_statistics)
        return ctx.stats_cache.gather(ctx.loader, request, collect, frozenset(prefetch[0]), frozenset(prefetch[1]))


SEARCH_SAMPLES = SAMPLED_SAMPLES  # calibration samples whose values score candidate ranges (range_estimator auto)
SEARCH_CACHE_BYTES = 256 << 20


def keeping_search_samples(ctx: RunContext, sampling: Sampling) -> RunContext:
    """``ctx`` whose loader keeps the samples ``search_samples`` reads, as a statistics pass reads them first:
    a DataLoader that decodes images is not asked for them twice."""
    if isinstance(ctx.loader, CachedLoader):
        return ctx
    indices = statistics_indices(sampling, ctx)[:SEARCH_SAMPLES]
    return replace(ctx, loader=CachedLoader(ctx.loader, SEARCH_CACHE_BYTES, indices))


def folded_search(model: ov.Model, tensors: list[str], sampling: Sampling, ctx: RunContext) -> set[TensorStatistic]:
    """The range search's statistics (values of ``tensors``) when a statistics pass over ``model`` with
    ``sampling`` can take them in the graph: they then cost it a Gather, where a pass of their own would cost
    SEARCH_SAMPLES inferences and a compile. Empty when any cannot (dynamic shapes, stat_batch_size,
    inplace_statistics off): search_samples then runs that pass."""
    wanted = _search_statistics(tensors)
    model_tensors = tensors_by_name(model)
    if all(graph_reduction(stat, ctx.inplace_statistics, model_tensors[stat.tensor], sampling.batch_size > 1)
           for stat in wanted.values()):
        return set(wanted.values())
    return set()


def search_samples(model: ov.Model, tensors: list[str], sampling: Sampling, ctx: RunContext,
                   collected: dict[TensorStatistic, np.ndarray]) -> dict[str, np.ndarray] | None:
    """Values of ``tensors`` sampled from the first SEARCH_SAMPLES samples of the statistics subset, for the range
    search: from ``collected`` where the statistics pass took them (``folded_search``), else from a pass of their
    own (through the statistics cache like any statistic); None when no tensor needs one."""
    if not tensors:
        return None
    wanted = _search_statistics(tensors)
    if not all(stat in collected for stat in wanted.values()):
        indices = statistics_indices(sampling, ctx)[:SEARCH_SAMPLES]
        with ctx.timed("range search"):
            collected = gather_statistics(model, set(wanted.values()), replace(sampling, batch_size=1), ctx,
                                          indices=indices).values
    return {name: collected[stat] for name, stat in wanted.items()}


def _search_statistics(tensors: list[str]) -> dict[str, TensorStatistic]:
    return {name: TensorStatistic(name, "values", None, "sampled") for name in tensors}


def cache_prefetch(params: AlgorithmParams, ctx: RunContext, needs) -> tuple[set[TensorStatistic], set[str]]:
    """With a statistics cache: the union of ``needs(variant)`` (statistics, shapes) over
    ``rerun_variants(params)``, for ``gather_statistics``'s ``prefetch``. Nothing without a cache."""
    statistics: set[TensorStatistic] = set()
    shapes: set[str] = set()
    if ctx.stats_cache is None:
        return statistics, shapes
    for variant in rerun_variants(params):
        try:
            more, more_shapes = needs(variant)
        except PotqError:  # a variant this model cannot have (nothing left to quantize, a bad grid)
            continue
        statistics |= more
        shapes |= set(more_shapes)
    return statistics, shapes
