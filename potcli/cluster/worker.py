"""What runs on a cluster's worker: one shard of an evaluation or of a statistics pass.

A worker keeps, between the shards it runs, the compiled models (by the hash of their IR), the DataLoader
(by its recipe) and the samples it read (up to SAMPLE_CACHE_BYTES), so an accuracy-aware run that evaluates
many models on the same samples reads and compiles each only once per worker.

Failures come back as ``ShardFailed``: potq's own errors (a sample the DataLoader cannot give, a plugin that
cannot be imported here) as the same kind of error and message, marked final since another worker would fail
the same way; anything else marked retryable.
"""
import collections
import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from ..data.samples import CachedLoader, input_specs, prepared_sample, sample_fingerprint
from ..engine.batching import compile_per_sample, run_compiled_per_sample
from ..engine.inference import Engine
from ..errors import PotqError, describe_exception
from ..progress import set_enabled as set_progress
from .payload import ModelPayload, read_payload

LOCAL_WORKERS = "POTQ_LOCAL_WORKERS"  # set for the worker processes of a local cluster: how many there are
SAMPLE_CACHE_BYTES = 256 << 20
KEPT_MODELS = 4  # compiled models kept per worker (an accuracy-aware run alternates FP32 and candidates)

_engines: dict[str, Engine] = {}
_models: collections.OrderedDict = collections.OrderedDict()
_loaders: dict[str, CachedLoader] = {}
_lock = threading.Lock()  # a worker may run several shards at once, in threads


class ShardFailed(Exception):
    """A shard's failure on a worker, in a form that always pickles: the kind of potq error (or None), its
    message, and the worker."""

    def __init__(self, kind: str | None, message: str, worker: str):
        super().__init__(kind, message, worker)
        self.kind, self.message, self.worker = kind, message, worker

    @property
    def final(self) -> bool:
        """potq's own errors are about the data, the plugin or the model: retrying elsewhere cannot help."""
        return self.kind is not None

    def __str__(self) -> str:
        return self.message


def evaluate_shard(indices: Sequence[int], extra_inputs: dict[str, np.ndarray], model: ModelPayload, recipe_key: str,
                   recipe, requests: int | None, device: str) -> list[tuple[int, list[np.ndarray], object, object]]:
    """``(index, outputs, annotation, metadata)`` of every sample of ``indices`` (its inputs and
    ``extra_inputs``), in order."""
    with _reported():
        engine = _engine(device)
        compiled, specs = _compiled(engine, model, "per_sample")
        specs = [spec for spec in specs if not spec.aliases & extra_inputs.keys()]  # what the DataLoader gives
        loader = _loader(recipe_key, recipe)
        samples = {}
        results = []

        def read():
            for index in indices:
                samples[index] = prepared_sample(loader, index, specs)
                yield index, {**samples[index].inputs, **extra_inputs}

        def keep(index, outputs):
            sample = samples.pop(index)
            results.append((index, outputs, sample.annotation, sample.metadata))

        run_compiled_per_sample(engine, compiled, read(), keep, requests, "", len(indices))
        return results


def statistics_shard(batches: Sequence[Sequence[int]], _extra_inputs: None, model: ModelPayload, recipe_key: str,
                     recipe, requests: int | None, device: str) -> list[tuple[int, list[np.ndarray], list[bytes]]]:
    """``(first index, outputs, sample fingerprints)`` of every batch, in order."""
    with _reported():
        engine = _engine(device)
        compiled, specs = _compiled(engine, model, "batches")
        loader = _loader(recipe_key, recipe)
        fingerprints: dict[int, list[bytes]] = {}
        results = []

        def read():
            for batch in batches:
                inputs = [prepared_sample(loader, index, specs).inputs for index in batch]
                fingerprints[batch[0]] = [sample_fingerprint(i, x) for i, x in zip(batch, inputs, strict=True)]
                yield batch[0], inputs[0] if len(inputs) == 1 else \
                    {name: np.concatenate([x[name] for x in inputs]) for name in inputs[0]}

        def keep(first, outputs):
            results.append((first, outputs, fingerprints.pop(first)))

        engine.run(compiled, read(), keep, requests)
        return results


def dask_setup(worker) -> None:
    """Run by Dask as each worker process of a local cluster starts (its preload).

    ^C in a terminal reaches every process of the group, and the main process stops the workers itself, so
    they ignore it (and a hang-up) instead of each printing a traceback. Worker k of N keeps the k-th N-th of
    the machine's cores, so that OpenVINO sizes its streams to them instead of every worker's streams
    contending for all cores.
    """
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    workers = int(os.environ.get(LOCAL_WORKERS, "0"))
    cores = sorted(os.sched_getaffinity(0))
    if isinstance(worker.name, int) and 0 < workers <= len(cores):
        share = len(cores) // workers
        os.sched_setaffinity(0, cores[worker.name % workers * share:][:share])


def hold(value):
    """The model or DataLoader recipe a pass sends, kept on a worker for the shards that need it."""
    return value


def versions() -> dict[str, str]:
    """What a worker runs, checked against the main process before a cluster is used."""
    import openvino as ov

    from ..version import __version__
    return {"potq": __version__, "openvino": ov.get_version()}


def _engine(device: str) -> Engine:
    set_progress(False)  # progress is drawn by the main process
    logging.getLogger("potq").setLevel(logging.ERROR)  # warnings are the main process's to give
    if device not in _engines:
        _engines[device] = Engine(device)
    return _engines[device]


def _compiled(engine: Engine, payload: ModelPayload, use: str):
    with _lock:
        return _compiled_locked(engine, payload, use)


def _compiled_locked(engine: Engine, payload: ModelPayload, use: str):
    key = (payload.key, use)
    if key in _models:
        _models.move_to_end(key)
        return _models[key]
    model = read_payload(engine.core, payload)
    what = "model for evaluation" if use == "per_sample" else "statistics model"
    compiled = compile_per_sample(engine, model, what) if use == "per_sample" else engine.compile(model, what)
    _models[key] = compiled, input_specs(model)
    while len(_models) > KEPT_MODELS:
        _models.popitem(last=False)
    return _models[key]


def _loader(key: str, recipe) -> CachedLoader:
    with _lock:
        if key not in _loaders:
            _loaders.clear()  # one run's DataLoader at a time
            _loaders[key] = CachedLoader(recipe.build(), SAMPLE_CACHE_BYTES)
        return _loaders[key]


@contextmanager
def _reported():
    try:
        yield
    except PotqError as e:
        raise ShardFailed(type(e).__name__, str(e), _worker_name()) from None
    except Exception as e:
        raise ShardFailed(None, describe_exception(e), _worker_name()) from None


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()
