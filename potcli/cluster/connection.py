"""Starting a local Dask cluster, or joining a running one, and checking that its workers can serve potq.

The only module of potq that imports Dask at its top: a run imports it only when it asks for a cluster.
"""
import logging
import signal
import threading
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

from ..errors import ClusterError, describe_exception
from . import worker

log = logging.getLogger("potq")
RETRIES = 3  # tries of a shard whose worker died or failed, before the run fails
CONNECT_SECONDS = 30  # to reach a scheduler
WORKERS_SECONDS = 60  # for a joined cluster to have a worker
DASK_SPAWN_ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class Cluster:
    """A Dask client, and the local cluster it started (if any); ``close()`` stops what this run started."""

    def __init__(self, workers: int | None = None, address: str | None = None):
        _quiet_dask()
        self.local = None
        self.address = address or "a local cluster"
        if address is None:
            self.local = _start_local(workers)
            self.client = Client(self.local, set_as_default=False)
        else:
            self.client = _join(address)
        try:
            _check_versions(self.client, self.address)
        except BaseException:
            self.close()
            raise

    def workers(self) -> list[str]:
        """Addresses of the workers there are now (sorted, so shards land on the same worker each pass)."""
        found = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        if not found:  # a local cluster's only worker may be restarting after it died
            try:
                self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            except Exception as e:
                raise ClusterError(f"the cluster at {self.address} has no workers left (waited "
                                   f"{WORKERS_SECONDS} s)") from e
            found = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        return found

    def close(self) -> None:
        for part in (self.client, self.local):
            if part is not None:
                try:
                    part.close()
                except Exception as e:  # the run's own outcome matters more than a failed shutdown
                    log.debug("closing the cluster: %s", describe_exception(e))
        self.client = self.local = None


class ClusterHandle:
    """A cluster opened when first needed, and closed by ``close()`` if it was opened; ``potq batch`` shares one
    between its runs."""

    def __init__(self, workers: int | None, address: str | None):
        self.workers, self.address = workers, address
        self.cluster: Cluster | None = None

    def get(self) -> Cluster:
        if self.cluster is None:
            self.cluster = Cluster(self.workers, self.address)
        return self.cluster

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def _start_local(workers: int) -> LocalCluster:
    # allowed-failures: how often a task may be running on a worker that dies before Dask gives up on it;
    # pre-spawn-environ: Dask's defaults set OMP_NUM_THREADS=1 and a malloc trim threshold (which slows OpenVINO)
    # in this process's environment and the workers'; None leaves both as they are.
    settings = {"distributed.scheduler.allowed-failures": RETRIES - 1,
                "distributed.nanny.pre-spawn-environ": {name: None for name in DASK_SPAWN_ENVIRONMENT}}
    with dask.config.set(settings), _hang_up_ignored_by_helpers():
        try:
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address=":0", silence_logs=logging.getLogger("distributed").level,
                                preload=[worker.__name__],  # its dask_setup
                                env={worker.LOCAL_WORKERS: str(workers)})
        except Exception as e:
            raise ClusterError(f"starting a local cluster of {workers} workers failed: {describe_exception(e)} "
                               f"(a Python script that starts workers needs its code under "
                               f"'if __name__ == \"__main__\":', as with multiprocessing)") from e


@contextmanager
def _hang_up_ignored_by_helpers():
    """Processes started meanwhile (the workers, and multiprocessing's resource tracker, which ignores only
    SIGINT and SIGTERM) inherit an ignored SIGHUP: a terminal's hang-up then reaches this process alone, which
    stops them, instead of killing the tracker (whose successor prints tracebacks). A hang-up in these two
    seconds is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _quiet_dask() -> None:
    """Dask's own log (a worker restarted, a task rescheduled) only with --log-level debug: potq says in one line
    what failed."""
    level = logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.CRITICAL
    logging.getLogger("distributed").setLevel(level)


def _join(address: str) -> Client:
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except Exception as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {describe_exception(e)}") from e
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except Exception as e:
        client.close()
        raise ClusterError(f"the cluster at {address} has no workers (waited {WORKERS_SECONDS} s)") from e
    return client


def _check_versions(client: Client, where: str) -> None:
    """ClusterError unless every worker runs this potq and this OpenVINO: other versions quantize differently."""
    here = worker.versions()
    try:
        found = client.run(worker.versions)
    except Exception as e:
        raise ClusterError(f"the workers of {where} cannot run potq: {describe_exception(e)} (install potq "
                           f"{here['potq']} with OpenVINO {here['openvino']} where they run)") from e
    for address, there in sorted(found.items()):
        if there != here:
            raise ClusterError(f"worker {address} of {where} runs potq {there['potq']} with OpenVINO "
                               f"{there['openvino']}, this run potq {here['potq']} with OpenVINO "
                               f"{here['openvino']}: install the same versions on every worker")
