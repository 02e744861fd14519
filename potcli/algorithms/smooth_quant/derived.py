"""Statistics of smoothed activations, derived from the pass that gives SmoothQuant its scales.

SmoothQuant puts X / s (s > 0, one factor per channel c of X) in front of the MatMuls that read X, and s comes
from a statistic of X. The quantizers and bias corrections of the smoothed model want statistics of X / s; most
of them follow from statistics of X collected in that same pass, so SmoothQuant costs no pass of its own:

- along c: min, max, abs_max and mean of X / s are those of X divided by s, and every aggregator over samples
  commutes with a positive factor per channel;
- over the whole tensor: a sample's value is the min / max / mean across channels of X's per-channel values
  divided by s, so every sample's per-channel values are kept (the ``rows`` aggregator; only when the subset fits
  its bounded reservoir, so nothing is approximated) and aggregated once s is known.

The rest (quantiles, sampled values, other axes) has to be collected on the smoothed model.
"""
from dataclasses import dataclass, replace

import numpy as np

from ...statistics.streaming import SampleAggregator, TensorStatistic, make_aggregator
from .smoothing import SmoothGroup, inverse_scale

ACROSS_CHANNELS = {"min": np.min, "max": np.max, "abs_max": np.max, "mean": np.mean}  # equal-sized channels


@dataclass(frozen=True)
class Derivation:
    target: TensorStatistic  # wanted, on the group's smoothed tensor
    source: TensorStatistic  # collected, on the group's tensor X
    group: SmoothGroup

    def value(self, collected: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """``target`` from ``source``'s value and the group's scale."""
        divided = np.asarray(collected, np.float64) * inverse_scale(scale)
        if self.target.channel_axis is not None:
            return divided.astype(np.float32)
        aggregator = make_aggregator(self.target)
        for value in ACROSS_CHANNELS[self.target.reducer](divided, axis=1):
            aggregator.update(value)
        return aggregator.result()


def derivations(statistics: set[TensorStatistic], groups: list[SmoothGroup],
                samples: int) -> dict[TensorStatistic, Derivation]:
    """The statistics of ``statistics`` on smoothed tensors that follow from statistics of the unsmoothed model
    over ``samples`` samples."""
    smoothed = {group.smoothed_tensor: group for group in groups}
    found = {}
    for stat in statistics:
        group = smoothed.get(stat.tensor)
        if group is None or stat.reducer not in ACROSS_CHANNELS:
            continue
        if stat.channel_axis is not None and stat.channel_axis % group.rank == group.channel_axis:
            found[stat] = Derivation(stat, replace(stat, tensor=group.tensor, channel_axis=group.channel_axis), group)
        elif stat.channel_axis is None and samples <= SampleAggregator.capacity_for(group.channels):
            source = TensorStatistic(group.tensor, stat.reducer, group.channel_axis, "rows")
            found[stat] = Derivation(stat, source, group)
    return found


def unsmoothed_name(tensor: str, groups: list[SmoothGroup]) -> str:
    """The tensor of the unsmoothed model with the same shape as ``tensor`` of the smoothed one."""
    return next((group.tensor for group in groups if group.smoothed_tensor == tensor), tensor)
