"""Statistics passes with POT's sampling parameters (stat_subset_size, shuffle_data, seed, stat_batch_size)."""
import openvino as ov

from ..config.params import Sampling
from ..data.samples import dataset_length, sample_indices
from ..engine.collector import CollectedStatistics, collect_statistics
from ..statistics.streaming import TensorStatistic
from .context import RunContext


def statistics_indices(sampling: Sampling, ctx: RunContext) -> list[int]:
    return sample_indices(dataset_length(ctx.loader), sampling.subset_size, sampling.shuffle, sampling.seed)


def gather_statistics(model: ov.Model, statistics: set[TensorStatistic], sampling: Sampling, ctx: RunContext,
                      record_shapes=()) -> CollectedStatistics:
    """One pass over the statistics subset of ``sampling`` collecting every statistic asked for."""
    with ctx.timed("statistics"):
        return collect_statistics(ctx.engine, model, statistics, ctx.loader, statistics_indices(sampling, ctx),
                                  ctx.inplace_statistics, ctx.stat_requests, record_shapes,
                                  batch_size=sampling.batch_size)
