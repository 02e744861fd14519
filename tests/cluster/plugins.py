"""DataLoaders for the cluster tests: ones that kill the worker process reading a given sample."""
import os
import signal
from pathlib import Path

from ..reliability.plugins import ArrayLoader


class KillingLoader(ArrayLoader):
    """ArrayLoader whose read of sample ``kill_at`` kills the process reading it (SIGKILL, as the kernel's
    out-of-memory killer would): once, marked by the file ``once`` (the next try reads normally), or on every
    try when ``once`` is None."""

    def __init__(self, kill_at=0, once=None, **kwargs):
        super().__init__(**kwargs)
        self.kill_at, self.once = kill_at, once

    def __getitem__(self, index):
        if index == self.kill_at and _in_a_worker() and (self.once is None or not Path(self.once).exists()):
            if self.once is not None:
                Path(self.once).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__getitem__(index)


def _in_a_worker() -> bool:
    """Never kill the test process itself (it reads samples for checks of its own)."""
    from distributed import get_worker
    try:
        get_worker()
    except ValueError:
        return False
    return True


class LockAnnotatedLoader(ArrayLoader):
    """ArrayLoader whose annotations hold a lock: they cannot be pickled to travel back from a worker."""

    def __getitem__(self, index):
        import threading
        data, _ = super().__getitem__(index)
        return data, {"index": index, "lock": threading.Lock()}
