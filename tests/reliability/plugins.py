"""DataLoaders and Metrics that misbehave on purpose, loaded by the reliability tests' configs."""
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from potcli import DataLoader, Metric


class ArrayLoader(DataLoader):
    """``count`` seeded random samples of ``shape``; options make one of them (or the loader) go wrong."""

    def __init__(self, shape=(1, 3, 8, 8), count=8, fail_at=None, nan_at=None, input_name=None, dtype="float32",
                 sleep=0.0, marker=None, huge=False, one_negative=False, fail_with="OSError", fill=None):
        self.shape, self.count, self.fail_at, self.nan_at = tuple(shape), count, fail_at, nan_at
        self.one_negative, self.fail_with, self.fill = one_negative, fail_with, fill
        self.input_name, self.dtype, self.sleep, self.marker, self.huge = input_name, dtype, sleep, marker, huge

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index >= self.count:
            raise IndexError(index)
        if self.marker:  # tells a test that reading has started, and where; replaced whole, never seen half-written
            partial = Path(f"{self.marker}.{os.getpid()}")
            partial.write_text(str(os.getpid()))
            os.replace(partial, self.marker)
        if self.sleep:
            time.sleep(self.sleep)
        if index == self.fail_at:
            raise FAILURES[self.fail_with](index)
        data = np.random.default_rng(index).standard_normal(self.shape).astype(self.dtype)
        if self.fill is not None:
            data = np.full(self.shape, self.fill, self.dtype)
        if self.huge:
            data = np.broadcast_to(data.reshape(-1)[:1], self.shape).copy()
        if index == self.nan_at:
            data.reshape(-1)[0] = np.nan
        if self.one_negative:  # all positive but one value in the middle of the tensor
            data = np.abs(data)
            data.reshape(-1)[data.size // 2] = -1.0
        return ({self.input_name: data} if self.input_name else data), index


FAILURES = {  # what ArrayLoader(fail_with=...) raises at fail_at
    "OSError": lambda index: OSError(f"cannot decode sample {index}"),
    "exit0": lambda index: SystemExit(0),
    "exit3": lambda index: SystemExit(3),
    "GeneratorExit": lambda index: GeneratorExit(),
}


class BadMetric(Metric):
    """A Metric whose avg_value is ``mode``: "nan", "text", "raises", or a direction that does not exist;
    "exit" calls sys.exit(0) in update; "unknown_name" declares a metric that avg_value does not report."""

    def __init__(self, mode="nan"):
        self.mode = mode
        super().__init__()

    @property
    def avg_value(self):
        if self.mode == "raises":
            raise ZeroDivisionError("no samples")
        return {"score": {"nan": float("nan"), "text": "high"}.get(self.mode, 1.0)}

    def update(self, output, target):
        if self.mode == "exit":
            sys.exit(0)

    def reset(self):
        pass

    def get_attributes(self):
        direction = "lower-better" if self.mode == "direction" else "higher-better"
        return {"other" if self.mode == "unknown_name" else "score": {"direction": direction, "type": "score"}}


class TwoInputLoader(ArrayLoader):
    """Samples for models.two_inputs(): a dict with both inputs, keyed by input name."""

    def __getitem__(self, index):
        data, annotation = super().__getitem__(index)
        left = data[self.input_name]
        return {"left": left, "right": left * 0.5}, annotation


class ThreadLeavingLoader(ArrayLoader):
    """Starts a thread that is not a daemon and never ends: potq must still exit once its result is written."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        threading.Thread(target=threading.Event().wait, name="plugin-worker").start()
