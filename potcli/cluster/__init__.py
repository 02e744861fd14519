"""Evaluation, statistics and AccuracyAwareQuantization's ranking on a Dask cluster (``potq run|eval --workers N``
/ ``--cluster ADDRESS``).

Only ``connect`` (connection.py) imports Dask, and only a run that asks for a cluster calls it: the base
install does not have Dask, and ``potq run`` without ``--workers`` / ``--cluster`` never imports it.

- ``recipes.py``: how a worker gets the run's DataLoader (the config's plugin reference, or the object itself);
- ``payload.py``: the model as IR bytes, keyed by their hash, and read back on a worker;
- ``shards.py``: the samples cut into shards, and shard results taken back in sample order;
- ``worker.py``: what runs on a worker (caches the model, the DataLoader and its samples between passes);
- ``runs.py``: ``ClusterRuns``, the engine's ``RemoteRuns`` on a Dask client: submit, retry, merge.
"""
