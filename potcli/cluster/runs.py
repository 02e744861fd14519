"""``ClusterRuns``: the engine's evaluation, statistics and ranking passes (engine.remote.RemoteRuns) on a Dask
cluster.

A pass is cut into shards (shards.py), each sent with the model's IR bytes and the DataLoader's recipe to a
worker (worker.py); results are handed to the caller's ``handle`` in sample order as shards finish. A ranking
pass with several sets of extra inputs has shards for each set, handed back set after set; results that
arrive before an earlier shard's wait here (a round's candidates times its samples, at most). A shard
whose worker died is run again by Dask on another worker; one that failed for another reason than potq's own
errors is sent again here, to another worker if there is one; after RETRIES tries the run fails, with one line.
"""
import logging
import uuid
import warnings
from collections.abc import Sequence

import openvino as ov
from distributed import as_completed
from distributed.scheduler import KilledWorker

from .. import errors
from ..engine.batching import per_sample_batch
from ..engine.remote import BatchHandler, ExtraInputs, SampleHandler
from ..errors import ClusterError, PotqError
from ..progress import progress
from . import worker
from .connection import RETRIES, Cluster, ClusterHandle
from .payload import model_payload
from .recipes import ObjectRecipe, PluginRecipe, object_recipe, recipe_key
from .shards import InOrder, shard_ranges

log = logging.getLogger("potq")
ERRORS = {kind.__name__: kind for kind in (errors.DataError, errors.PluginError, errors.ModelError,
                                           errors.MetricError)}


def cluster_runs(handle: ClusterHandle, device: str, loader, plugin: tuple[str, dict, str] | None = None,
                 owns_handle: bool = True) -> "ClusterRuns":
    """Passes on the cluster of ``handle``; the workers build the DataLoader from ``plugin`` (reference, args,
    config folder) where the config names one, else from ``loader`` itself, pickled. ``close()`` closes the
    cluster too if ``owns_handle``."""
    recipe = PluginRecipe(*plugin) if plugin is not None else object_recipe(loader)
    return ClusterRuns(handle, recipe, device, owns_handle)


class ClusterRuns:
    """Passes on a cluster, reading the DataLoader that ``recipe`` builds."""

    def __init__(self, handle: ClusterHandle, recipe: PluginRecipe | ObjectRecipe, device: str, owns_handle: bool):
        self.handle, self.owns_handle = handle, owns_handle
        self.recipe, self.recipe_key, self.device = recipe, recipe_key(recipe), device
        self.cluster: Cluster | None = None
        self.recipe_future = None

    def per_sample(self, model: ov.Model, indices: Sequence[int], handle: SampleHandler, requests: int | None,
                   description: str, extra_inputs: ExtraInputs | list[ExtraInputs] | None = None,
                   shown: bool = True) -> None:
        entries = extra_inputs if isinstance(extra_inputs, list) else [extra_inputs or {}]
        ranges = shard_ranges(len(indices), len(self._workers()), per_sample_batch(model))
        with progress(description, len(indices) * len(entries), shown=shown) as meter:
            def consume(results):
                for index, outputs, annotation, metadata in results:
                    handle(index, outputs, annotation, metadata)
                meter.update(len(results))

            shards = [(list(indices[r.start:r.stop]), extra) for extra in entries for r in ranges]
            self._run(worker.evaluate_shard, model, shards, requests, consume, description)

    def batches(self, model: ov.Model, batches: Sequence[Sequence[int]], handle: BatchHandler,
                requests: int | None, description: str, unit: str, digest=None) -> None:
        ranges = shard_ranges(len(batches), len(self._workers()))
        with progress(description, len(batches), unit) as meter:
            def consume(results):
                for first, outputs, fingerprints in results:
                    for fingerprint in fingerprints if digest is not None else ():
                        digest.update(fingerprint)
                    handle(first, outputs)
                meter.update(len(results))

            shards = [([list(batch) for batch in batches[r.start:r.stop]], None) for r in ranges]
            self._run(worker.statistics_shard, model, shards, requests, consume, description)

    def open(self) -> None:
        """Start or join the cluster now (else the first pass does, as from POT's API): a run's timings show it
        apart."""
        self._workers()

    def close(self) -> None:
        self.recipe_future = None  # released: the workers may drop this run's DataLoader recipe
        self.cluster = None
        if self.owns_handle:
            self.handle.close()

    def _workers(self) -> list[str]:
        if self.cluster is None:
            self.cluster = self.handle.get()
            self.recipe_future = self._held(self.recipe)
        return self.cluster.workers()

    def _held(self, value):
        """A future of ``value`` held on a worker. A task, not scattered data: if its worker dies, Dask makes it
        again from the task (scattered data would be lost with it)."""
        with warnings.catch_warnings():  # a large model makes Dask warn about the size of the task
            warnings.simplefilter("ignore", UserWarning)
            return self.cluster.client.submit(worker.hold, value, pure=False)

    def _run(self, function, model: ov.Model, shards: list, requests: int | None, consume, description: str):
        client = self.cluster.client
        payload = self._held(model_payload(model))
        pass_id = uuid.uuid4().hex[:12]
        attempts = [0] * len(shards)
        futures = {}

        def submit(position: int, avoid: str | None = None):
            workers = self.cluster.workers()
            others = [address for address in workers if address != avoid] or workers
            items, extra = shards[position]
            future = client.submit(function, items, extra, payload, self.recipe_key, self.recipe_future,
                                   requests, self.device, key=f"potq-{pass_id}-{position}-{attempts[position]}",
                                   workers=[others[position % len(others)]], allow_other_workers=True, pure=False)
            futures[future] = position
            return future

        order = InOrder(consume)
        finished = as_completed([submit(position) for position in range(len(shards))], loop=client.loop)
        try:
            for future in finished:
                position = futures.pop(future)
                try:
                    result = future.result()
                except Exception as error:  # raised on the worker, or while its result travelled here
                    attempts[position] += 1
                    self._give_up_if_final(error, shards[position][0], attempts[position], description)
                    log.log(logging.WARNING if sum(attempts) == 1 else logging.DEBUG,  # once a pass
                            "%s: samples %s failed%s: %s; trying again", description, _span(shards[position][0]),
                            _on_worker(error), _cause(error))
                    finished.add(submit(position, avoid=getattr(error, "worker", None)))
                    continue
                order.add(position, result)
        finally:
            client.cancel(list(futures))  # nothing is left after a pass; after a failure or a signal, stop it
            payload.release()

    @staticmethod
    def _give_up_if_final(error: BaseException, shard: list, attempts: int, description: str) -> None:
        where = f"{description}: samples {_span(shard)}"
        if isinstance(error, worker.ShardFailed) and error.final:
            raise ERRORS.get(error.kind, PotqError)(f"{error.message} (on worker {error.worker})")
        if isinstance(error, KilledWorker):  # Dask counts a death against every shard the worker held
            raise ClusterError(f"{where}: the workers holding them died {RETRIES} times; giving up (a sample of "
                               f"theirs, or of a shard beside them, kills its reader: out of memory, a crash in "
                               f"the DataLoader, a killed process; the workers' log says which)")
        if attempts >= RETRIES:
            last = f", the last{_on_worker(error)}" if _on_worker(error) else ""
            raise ClusterError(f"{where} failed {attempts} times{last}: {_cause(error)}")


def _cause(error: BaseException) -> str:
    """One line: a worker's own failure as it said it, anything else (Dask failing to send a result back) as
    its type and first line."""
    if isinstance(error, worker.ShardFailed):
        return error.message
    return f"{type(error).__name__}: {errors.shortened(errors.first_line(error))}"


def _on_worker(error: BaseException) -> str:
    return f" on worker {error.worker}" if isinstance(error, worker.ShardFailed) else ""


def _span(shard: list) -> str:
    """``first..last`` sample index of a shard of indices or of batches."""
    first, last = shard[0], shard[-1]
    if isinstance(first, list):
        first, last = first[0], last[-1]
    return f"{first}..{last}"
