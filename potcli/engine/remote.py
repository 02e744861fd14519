"""Where evaluation, statistics and ranking passes run when they do not run in this process.

An ``Engine`` with a ``remote`` (``potq run --workers N`` / ``--cluster ADDRESS``; ``potcli.cluster`` provides one,
and this package never imports it) sends those passes to other processes. The workers read the samples from
their own copy of the run's DataLoader, run the model, and send back what each sample gave; ``handle`` is then
called here, in this process, in sample order, exactly as a local pass calls it. So the Metric and the
statistics' aggregators see the same values in the same order, and the result is the same as a local run's.
"""
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import openvino as ov

# handle(index, outputs, annotation, metadata) of one evaluated sample
SampleHandler = Callable[[int, list[np.ndarray], object, object], None]
# handle(first index of the batch, outputs) of one statistics inference
BatchHandler = Callable[[int, list[np.ndarray]], None]
ExtraInputs = dict[str, np.ndarray]  # model inputs by name, added to every sample's


class RemoteRuns(Protocol):
    def open(self) -> None:
        """Start or reach the workers (before the first pass, so that its time shows apart)."""

    def close(self) -> None:
        """Stop what ``open`` started; the workers drop this run's DataLoader and models."""

    def per_sample(self, model: ov.Model, indices: Sequence[int], handle: SampleHandler, requests: int | None,
                   description: str, extra_inputs: ExtraInputs | list[ExtraInputs] | None = None,
                   shown: bool = True) -> None:
        """Run ``model`` on ``loader[i] for i in indices`` (batched as ``batching.run_per_sample`` batches them);
        call ``handle`` for every sample, in the order of ``indices``. ``extra_inputs`` (model inputs the
        DataLoader does not give, the same for every sample: the switches of AccuracyAwareQuantization's
        ranking model) are added to each sample's; a list of them runs ``indices`` once per entry, in one pass
        (the workers share the entries), and ``handle`` sees every index once per entry, entry after entry.
        ``shown`` False: the caller shows the progress (a ranking counts candidates, not samples)."""

    def batches(self, model: ov.Model, batches: Sequence[Sequence[int]], handle: BatchHandler,
                requests: int | None, description: str, unit: str, digest=None) -> None:
        """Run ``model`` once per batch of sample indices (the samples stacked along the first axis); call
        ``handle`` per batch, in order; feed ``digest`` (if given) every sample read, as
        ``data.samples.update_sample_digest`` does, in order."""
