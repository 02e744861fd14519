"""The statistics cache (``--stats-cache DIR``, ``compression.stats_cache``): statistics collected once are
reused by later runs that need the same ones. Neither POT nor NNCF has one.

Each statistic (any TensorStatistic, described by all of its fields, so new kinds need no change here) and
each recorded tensor shape is one entry. Its key hashes what the value depends on: the model as
fingerprinted (graph/fingerprint.py), the sample indices (which carry stat_subset_size, shuffle_data and
seed), stat_batch_size, in-graph or numpy reductions, and the potq and OpenVINO versions. The data is proven
rather than assumed: every entry records a hash of the samples it came from, and a pass is served from the
cache only after the samples have been read again and hash the same (reading is cheap next to inference).
Anything missing, stale, unreadable or foreign means the pass runs and its entries are written anew.

Algorithms may ``prefetch`` statistics their own run does not need but a rerun with another preset or
ignored scope would, so that such a rerun finds everything in the cache.
"""
import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openvino as ov

from ..config.params import AlgorithmParams
from ..config.presets import PRESET_MODES
from ..data.samples import input_specs, prepared_sample, update_sample_digest
from ..engine.collector import CollectedStatistics
from ..graph.fingerprint import model_fingerprint
from ..output.cache_entries import CacheEntries
from ..progress import progress
from ..statistics.streaming import TensorStatistic
from ..version import __version__

log = logging.getLogger("potq")
CACHE_FORMAT = 2  # bump when what a stored statistic, or the hash of the data it came from, means changes


def rerun_variants(params: AlgorithmParams) -> list[AlgorithmParams]:
    """Parameter sets a rerun is likely to try that need other statistics: the other presets, and no ignored
    scope (which covers any smaller one). Algorithms prefetch what these need when a cache is in use."""
    presets = [params.with_preset(preset) for preset in PRESET_MODES if preset != params.quantization.preset]
    return presets + [params.without_ignored_scope()]


@dataclass(frozen=True)
class StatisticsPass:
    """One pass over the data, as the cache sees it."""

    model: ov.Model
    statistics: frozenset[TensorStatistic]  # what the run needs now
    shapes: frozenset[str]  # tensors whose shape the run needs
    indices: tuple[int, ...]
    batch_size: int
    inplace: bool


# collect(statistics, shapes, digest) runs the pass, feeding every sample read to the hashlib digest.
Collect = Callable[[set[TensorStatistic], set[str], object], CollectedStatistics]


class StatisticsCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.entries = CacheEntries(self.directory)
        self.reused = self.collected = 0  # statistics served from the cache / collected by this run
        self.stale = 0  # statistics whose entries were for other data

    def counts(self) -> dict:
        return {"directory": str(self.directory.resolve()), "reused": self.reused, "collected": self.collected,
                "stale": self.stale, "rejected": self.entries.rejected}

    def gather(self, loader, request: StatisticsPass, collect: Collect, prefetch=frozenset(),
               prefetch_shapes=frozenset()) -> CollectedStatistics:
        """The pass's statistics from the cache if every one is there for the same data, else collected (with
        ``prefetch`` and ``prefetch_shapes`` too) and stored."""
        context = _context(request)
        keys = [_key(context, _describe(item)) for item in [*request.statistics, *request.shapes]]
        known = self.entries.index()
        if keys and all(key in known for key in keys):
            data = _data_hash(loader, request)
            found = self._load(request, context, data)
            if found is not None:
                self.reused += len(found.values)
                return found
            self.stale += sum(data not in known[key] for key in keys[:len(request.statistics)])
        digest = hashlib.sha256()
        collected = collect(set(request.statistics | prefetch), set(request.shapes | prefetch_shapes), digest)
        self._store(context, digest.hexdigest(), collected)
        self.collected += len(collected.values)
        return collected

    def _load(self, request: StatisticsPass, context: dict, data: str) -> CollectedStatistics | None:
        values, shapes = {}, {}
        for item in [*request.statistics, *request.shapes]:
            fields = _describe(item)
            value = self.entries.load(_key(context, fields), data, fields)
            if value is None:
                return None
            if isinstance(item, str):
                shapes[item] = tuple(int(d) for d in value)
            else:
                values[item] = value
        return CollectedStatistics(values, shapes, len(request.indices))

    def _store(self, context: dict, data: str, collected: CollectedStatistics) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # the run's model does not depend on the cache: say so and go on without it
            log.warning("statistics cache: cannot create %s (%s); statistics were not stored", self.directory,
                        e.strerror or e)
            return
        items = [(stat, value) for stat, value in collected.values.items()]
        items += [(tensor, np.array(shape, np.int64)) for tensor, shape in collected.shapes.items()]
        for item, value in items:
            fields = _describe(item)
            self.entries.store(_key(context, fields), data, fields, value)


def _context(request: StatisticsPass) -> dict:
    return {"cache_format": CACHE_FORMAT, "potq": __version__, "openvino": ov.get_version(),
            "model": model_fingerprint(request.model),
            "indices": hashlib.sha256(json.dumps(list(request.indices)).encode()).hexdigest(),
            "samples": len(request.indices), "batch_size": request.batch_size, "inplace": request.inplace}


def _describe(item: TensorStatistic | str) -> dict:
    """A statistic by its class and every field (so that new kinds of statistic key themselves), or a shape."""
    if isinstance(item, str):
        return {"kind": "shape", "tensor": item}
    return {"kind": type(item).__name__, **dataclasses.asdict(item)}


def _key(context: dict, fields: dict) -> str:
    return hashlib.sha256(json.dumps({**context, "item": fields}, sort_keys=True).encode()).hexdigest()


def _data_hash(loader, request: StatisticsPass) -> str:
    """Read the pass's samples again and hash them as the collector does."""
    specs = input_specs(request.model)
    digest = hashlib.sha256()
    with progress("Statistics cache check", len(request.indices)) as meter:
        for index in request.indices:
            update_sample_digest(digest, index, prepared_sample(loader, index, specs)[0])
            meter.update(1)
    return digest.hexdigest()
