"""What every algorithm receives (RunContext) and what flows from one algorithm to the next (QuantizationState)."""
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import openvino as ov

from ..engine.inference import Engine
from ..graph.placement import QuantizationPlan
from ..output.files import write_model_outputs
from ..statistics.ranges import FQParams
from .statistics_cache import StatisticsCache


@dataclass(frozen=True)
class RunContext:
    engine: Engine
    loader: object  # the user's DataLoader
    metric: object | None  # the user's Metric, if any
    inplace_statistics: bool
    stat_requests: int | None
    eval_requests: int | None
    model_name: str
    dump_dir: Path | None = None  # dump_intermediate_model
    timings: dict[str, float] = field(default_factory=dict)
    postprocess: Callable | None = None  # POT's IEEngine.postprocess_output, applied before the Metric
    stats_cache: StatisticsCache | None = None  # --stats-cache / compression.stats_cache

    def dump(self, model: ov.Model, tag: str) -> None:
        """With dump_intermediate_model, write ``model`` as ``<dump_dir>/<model_name>_<tag>.xml/.bin``."""
        if self.dump_dir is not None:
            write_model_outputs(self.dump_dir, f"{self.model_name}_{tag}", model)

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class QuantizationState:
    fp32: ov.Model  # the original model, never changed
    model: ov.Model  # the current model (FakeQuantize inserted once MinMax ran)
    plan: QuantizationPlan | None = None
    params: dict[str, FQParams] = field(default_factory=dict)
    sections: tuple[dict, ...] = ()  # one report section per algorithm that ran
    status: str = "ok"  # "ok" or "accuracy_target_not_reached"

    def with_section(self, section: dict, **changes) -> "QuantizationState":
        return replace(self, sections=self.sections + (section,), **changes)

    def fp32_nodes(self) -> dict[str, str]:
        """Quantizable-type nodes left in floating point, and why (not quantizable, ignored, reverted)."""
        nodes = dict(self.plan.fp32_nodes) if self.plan else {}
        for section in self.sections:
            nodes.update(section.get("reverted", {}))
        return nodes
