"""Statistics of a transformed model, derived from the pass that gives the transform its parameters.

ActivationChannelAlignment and SmoothQuant keep the FP32 function but change one tensor X per channel c:
X' = (X - shift_c) * factor_c with factor_c > 0 (alignment: centred and scaled between two convolutions;
SmoothQuant: X / s in front of the MatMuls that read X). Their parameters come from statistics of X, and the
quantizers and bias corrections of the transformed model want statistics of X'. Most of them follow from
statistics of X collected in that same pass, so neither transform costs a pass of its own:

- along c: min, max and mean of X' are those of X, shifted and scaled, and every aggregator over samples
  commutes with that (a positive factor keeps the order); so does abs_max when there is no shift;
- otherwise (over the whole tensor, or abs_max of a shifted tensor): every sample's per-channel values are kept
  (the ``rows`` aggregator; only when the subset fits its bounded reservoir, so nothing is approximated),
  mapped once the parameters are known, combined across channels and aggregated;
- sampled values (statistics.streaming.sample_grid) are read at the same positions of X and X', so each
  maps with its own channel's shift and factor (when the shape is static).

The rest (quantiles, other axes) has to be collected on the transformed model.
"""
from dataclasses import dataclass, replace

import numpy as np

from ..statistics.streaming import SampleAggregator, TensorStatistic, make_aggregator, sampled_along

ACROSS_CHANNELS = {"min": np.min, "max": np.max, "abs_max": np.max, "mean": np.mean}  # equal-sized channels


@dataclass(frozen=True)
class ChannelMap:
    """Where a transform changes a tensor: ``target`` of the transformed model is ``tensor`` of the model the
    pass ran on, mapped per channel along ``channel_axis``."""
    tensor: str
    target: str  # the same name where the transform changed weights in place
    channel_axis: int  # non-negative
    channels: int
    shape: tuple[int, ...]  # of both tensors, -1 where dynamic
    shifted: bool  # whether the map may have a shift (known, like the factor, only after the pass)

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class Derivation:
    target: TensorStatistic  # wanted, on the map's target
    sources: tuple[TensorStatistic, ...]  # collected, on the map's tensor
    map: ChannelMap

    def value(self, collected: dict[TensorStatistic, np.ndarray], shift: np.ndarray,
              factor: np.ndarray) -> np.ndarray:
        """``target`` from the sources' values and the map's parameters (per channel)."""
        if self.target.reducer == "values":
            values = collected[self.sources[0]]
            along = sampled_along(self.map.shape, self.map.channel_axis)
            channels = np.tile(along, len(values) // len(along))
            shift, factor = (np.broadcast_to(np.asarray(p, np.float64).reshape(-1), (self.map.channels,))[channels]
                             for p in (shift, factor))
            return ((values - shift) * factor).astype(np.float32)
        mapped = [(np.asarray(collected[source], np.float64) - shift) * factor for source in self.sources]
        if len(mapped) == 2:  # abs_max of a shifted tensor, from its min and max
            mapped = [np.maximum(-mapped[0], mapped[1])]
        if self.sources[0].aggregator != "rows":
            return mapped[0].astype(np.float32)
        rows = mapped[0] if self.target.channel_axis is not None else \
            ACROSS_CHANNELS[self.target.reducer](mapped[0], axis=1)
        aggregator = make_aggregator(self.target)
        for value in rows:
            aggregator.update(value)
        return aggregator.result()


def derivations(statistics: set[TensorStatistic], maps: list[ChannelMap],
                samples: int) -> dict[TensorStatistic, Derivation]:
    """The statistics of ``statistics`` on mapped tensors that follow from statistics of the untransformed model
    over ``samples`` samples."""
    by_target = {m.target: m for m in maps}
    found = {}
    for stat in statistics:
        channel_map = by_target.get(stat.tensor)
        if channel_map is None:
            continue
        if stat.aggregator == "sampled" and all(d > 0 for d in channel_map.shape):
            found[stat] = Derivation(stat, (replace(stat, tensor=channel_map.tensor),), channel_map)
        if stat.reducer not in ACROSS_CHANNELS:
            continue
        along = stat.channel_axis is not None and stat.channel_axis % channel_map.rank == channel_map.channel_axis
        split = stat.reducer == "abs_max" and channel_map.shifted
        if stat.channel_axis is not None and not along:
            continue
        if along and not split:
            source = replace(stat, tensor=channel_map.tensor, channel_axis=channel_map.channel_axis)
            found[stat] = Derivation(stat, (source,), channel_map)
        elif samples <= SampleAggregator.capacity_for(channel_map.channels):
            reducers = ("min", "max") if split else (stat.reducer,)
            found[stat] = Derivation(stat, tuple(TensorStatistic(channel_map.tensor, reducer, channel_map.channel_axis,
                                                                 "rows") for reducer in reducers), channel_map)
    return found


def source_name(tensor: str, maps: list[ChannelMap]) -> str:
    """The tensor of the untransformed model with the same shape as ``tensor`` of the transformed one."""
    return next((m.tensor for m in maps if m.target == tensor), tensor)
