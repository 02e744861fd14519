"""Holding back the signals that end a process while files are swapped in.

Blocking signals in one thread does not help: the kernel hands a process-wide signal to any thread that does
not block it (OpenVINO runs many), and Python then runs the handler in the main thread, mid-swap. Instead, for
the duration of the block the Python handlers themselves only record what arrived; afterwards the previous
handlers are restored and each recorded signal is raised again, so it takes effect once the files are in place.
"""
import signal
import threading
from contextlib import contextmanager

DEFERRED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


@contextmanager
def signals_deferred():
    if threading.current_thread() is not threading.main_thread():
        yield  # Python runs signal handlers in the main thread only: none can interrupt this one
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: arrived.append(signum)) for sig in DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        for sig in dict.fromkeys(arrived):
            signal.raise_signal(sig)
