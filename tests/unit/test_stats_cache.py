"""The statistics cache's parts: the model fingerprint and the on-disk entries."""
import multiprocessing

import numpy as np

from potcli.graph.fingerprint import model_fingerprint
from potcli.output.cache_entries import CacheEntries

from .. import models

KEY, DATA = "a" * 64, "b" * 64
FIELDS = {"kind": "TensorStatistic", "tensor": "conv1/relu", "reducer": "max"}


def test_fingerprint_ignores_generated_constant_names_but_not_what_the_model_computes():
    first, second = models.conv_relu(), models.conv_relu()
    for model in (first, second):  # unnamed constants get a per-process counter: the two differ
        for node in model.get_ordered_ops():
            if node.get_type_name() == "Constant":
                node.set_friendly_name(f"Constant_{id(model)}_{node.get_friendly_name()}")
    assert model_fingerprint(first) == model_fingerprint(second)
    assert model_fingerprint(first) != model_fingerprint(models.conv_relu(seed=1))
    renamed = models.conv_relu()
    next(n for n in renamed.get_ordered_ops() if n.get_friendly_name() == "conv1").set_friendly_name("other")
    assert model_fingerprint(renamed) != model_fingerprint(first)


def test_an_entry_is_returned_only_for_its_own_key_data_and_fields(tmp_path):
    entries = CacheEntries(tmp_path)
    value = np.arange(4, dtype=np.float32)
    entries.store(KEY, DATA, FIELDS, value)
    assert np.array_equal(entries.load(KEY, DATA, FIELDS), value)
    assert entries.index() == {KEY: {DATA}}
    assert entries.load(KEY, "c" * 64, FIELDS) is None and entries.rejected == 0  # no entry for that data
    assert entries.load(KEY, DATA, {**FIELDS, "reducer": "min"}) is None and entries.rejected == 1
    (tmp_path / f"{KEY}-{DATA}.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert entries.load(KEY, DATA, FIELDS) is None and entries.rejected == 2


def _hammer(directory, rounds, bad_reads):
    entries = CacheEntries(directory)
    value = np.linspace(0, 1, 1000, dtype=np.float32)
    for _ in range(rounds):
        entries.store(KEY, DATA, FIELDS, value)
        loaded = entries.load(KEY, DATA, FIELDS)
        if loaded is None or not np.array_equal(loaded, value):
            with bad_reads.get_lock():
                bad_reads.value += 1


def test_concurrent_writers_and_readers_only_ever_see_whole_entries(tmp_path):
    context = multiprocessing.get_context("fork")
    bad_reads = context.Value("i", 0)
    workers = [context.Process(target=_hammer, args=(tmp_path, 200, bad_reads)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(worker.exitcode == 0 for worker in workers)
    assert bad_reads.value == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{KEY}-{DATA}.npz"]
