"""DataLoaders and Metrics that misbehave on purpose, loaded by the reliability tests' configs."""
import os
import time
from pathlib import Path

import numpy as np

from potcli import DataLoader, Metric


class ArrayLoader(DataLoader):
    """``count`` seeded random samples of ``shape``; options make one of them (or the loader) go wrong."""

    def __init__(self, shape=(1, 3, 8, 8), count=8, fail_at=None, nan_at=None, input_name=None, dtype="float32",
                 sleep=0.0, marker=None, huge=False, one_negative=False):
        self.shape, self.count, self.fail_at, self.nan_at = tuple(shape), count, fail_at, nan_at
        self.one_negative = one_negative
        self.input_name, self.dtype, self.sleep, self.marker, self.huge = input_name, dtype, sleep, marker, huge

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index >= self.count:
            raise IndexError(index)
        if self.marker:
            Path(self.marker).write_text(str(os.getpid()))  # tells a test that reading has started
        if self.sleep:
            time.sleep(self.sleep)
        if index == self.fail_at:
            raise OSError(f"cannot decode sample {index}")
        data = np.random.default_rng(index).standard_normal(self.shape).astype(self.dtype)
        if self.huge:
            data = np.broadcast_to(data.reshape(-1)[:1], self.shape).copy()
        if index == self.nan_at:
            data.reshape(-1)[0] = np.nan
        if self.one_negative:  # all positive but one value in the middle of the tensor
            data = np.abs(data)
            data.reshape(-1)[data.size // 2] = -1.0
        return ({self.input_name: data} if self.input_name else data), index


class BadMetric(Metric):
    """A Metric whose avg_value is ``mode``: "nan", "text", "raises", or a direction that does not exist."""

    def __init__(self, mode="nan"):
        self.mode = mode
        super().__init__()

    @property
    def avg_value(self):
        if self.mode == "raises":
            raise ZeroDivisionError("no samples")
        return {"score": {"nan": float("nan"), "text": "high"}.get(self.mode, 1.0)}

    def update(self, output, target):
        pass

    def reset(self):
        pass

    def get_attributes(self):
        direction = "lower-better" if self.mode == "direction" else "higher-better"
        return {"score": {"direction": direction, "type": "score"}}


class TwoInputLoader(ArrayLoader):
    """Samples for models.two_inputs(): a dict with both inputs, keyed by input name."""

    def __getitem__(self, index):
        data, annotation = super().__getitem__(index)
        left = data[self.input_name]
        return {"left": left, "right": left * 0.5}, annotation
