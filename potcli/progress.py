"""Progress of the stages that can take a while (statistics, bias correction, evaluation, ranking), on stderr.

On a terminal: a tqdm bar with counts and ETA, redrawn in place and erased when the stage ends. A terminal
that reports no size (a 0x0 pseudo-terminal, as ``script`` and some CI runners give) gets an 80-column bar,
where tqdm alone would draw nothing. When stderr is not a terminal (CI logs, pipes): a stage running longer
than LINE_INTERVAL seconds prints one plain line every LINE_INTERVAL seconds and one when it ends, so a log
never stays silent for minutes; shorter stages print nothing. ``set_enabled(False)`` (``--no-progress``)
turns both off.
"""
import os
import sys
import time
from contextlib import contextmanager

from tqdm import tqdm

LINE_INTERVAL = 10.0  # seconds between plain progress lines when stderr is not a terminal
FALLBACK_SIZE = (80, 24)  # columns, rows for a terminal that reports 0x0

_enabled = True


def set_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


@contextmanager
def progress(description: str, total: int | None = None, unit: str = "sample", shown: bool = True):
    """Yield an object whose ``update(n=1)`` counts finished work of one stage (``shown`` False: a part of a
    stage whose caller shows the progress)."""
    stream = sys.stderr
    if not (_enabled and shown):
        meter = _Silent()
    elif _is_terminal(stream):
        meter = _Bar(description, total, unit, stream)
    else:
        meter = _Lines(description, total, unit, stream)
    finished = False
    try:
        yield meter
        finished = True
    finally:
        meter.close(finished)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_size(stream) -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return (size.columns, size.lines) if size.columns > 0 and size.lines > 0 else None


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self, finished: bool) -> None:
        pass


class _Bar:
    def __init__(self, description: str, total: int | None, unit: str, stream):
        size = _terminal_size(stream)
        columns, rows = size or FALLBACK_SIZE
        self.bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=stream, mininterval=0.2,
                        ncols=columns, nrows=rows, dynamic_ncols=size is not None)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self, finished: bool) -> None:
        self.bar.close()


class _Lines:
    """Plain lines for logs: the first after LINE_INTERVAL seconds, then one per interval, and one at the end."""

    def __init__(self, description: str, total: int | None, unit: str, stream):
        self.description, self.total, self.unit, self.stream = description, total, unit, stream
        self.count = 0
        self.started = self.last_line = time.monotonic()
        self.printed = False

    def update(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last_line >= LINE_INTERVAL:
            self._write(self._running_text(now - self.started))
            self.last_line = now

    def close(self, finished: bool) -> None:
        if finished and self.printed:
            self._write(f"{self._counted()} in {time.monotonic() - self.started:.1f} s")

    def _running_text(self, elapsed: float) -> str:
        text = f"{self._counted()}, {elapsed:.0f} s"
        if self.total and self.count:
            left = elapsed / self.count * (self.total - self.count)
            text += f", about {left:.0f} s left"
        return text

    def _counted(self) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.count}{of} {self.unit}{'' if self.count == 1 and not of else 's'}"

    def _write(self, text: str) -> None:
        self.stream.write(f"potq: {self.description}: {text}\n")
        self.stream.flush()
        self.printed = True
