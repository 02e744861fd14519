"""Statistics passes with POT's sampling parameters (stat_subset_size, shuffle_data, seed, stat_batch_size)."""
import openvino as ov

from ..collector import CollectedStatistics, collect_statistics
from ..dataset import dataset_length, sample_indices
from ..statistics import TensorStatistic
from .context import RunContext


def statistics_indices(params: dict, ctx: RunContext) -> list[int]:
    return sample_indices(dataset_length(ctx.loader), params.get("stat_subset_size"), params.get("shuffle_data", False),
                          params.get("seed", 0))


def gather_statistics(model: ov.Model, statistics: set[TensorStatistic], params: dict, ctx: RunContext,
                      record_shapes=()) -> CollectedStatistics:
    """One pass over the statistics subset of ``params`` collecting every statistic asked for."""
    with ctx.timed("statistics"):
        return collect_statistics(ctx.engine, model, statistics, ctx.loader, statistics_indices(params, ctx),
                                  ctx.inplace_statistics, ctx.stat_requests, record_shapes,
                                  batch_size=params.get("stat_batch_size", 1))
