"""The accuracy budget of AccuracyAwareQuantization: which metrics, their FP32 baseline, and the drop allowed."""
from dataclasses import dataclass

import numpy as np

from ...config.params import MetricBudget
from ...errors import ParamError

TOLERANCE = 1e-9  # float noise allowed when a drop equals maximal_drop exactly


@dataclass(frozen=True)
class AccuracyTarget:
    directions: dict[str, str]  # metric -> "higher-better" | "higher-worse", only the metrics kept in budget
    baseline: dict[str, float]  # FP32 values
    maximal_drop: float
    relative: bool  # drop_type: relative -> allowed drop is maximal_drop * |baseline|

    def drops(self, values: dict[str, float]) -> dict[str, float]:
        """How much worse than FP32 each metric is (positive: worse), whatever its direction."""
        return {name: self._sign(name) * (self.baseline[name] - values[name]) for name in self.directions}

    def allowed(self, name: str) -> float:
        return self.maximal_drop * abs(self.baseline[name]) if self.relative else self.maximal_drop

    def excess(self, values: dict[str, float]) -> float:
        """Largest amount by which a metric exceeds its allowed drop (<= 0 when the target is reached)."""
        drops = self.drops(values)
        return max(drops[name] - self.allowed(name) for name in self.directions)

    def reached(self, values: dict[str, float]) -> bool:
        return self.excess(values) <= TOLERANCE

    def worst_metric(self, values: dict[str, float]) -> str:
        drops = self.drops(values)
        return max(self.directions, key=lambda name: (drops[name] - self.allowed(name), name))

    def better(self, name: str, value: float, than: float) -> float:
        """How much better ``value`` is than ``than`` for metric ``name`` (positive: better)."""
        return self._sign(name) * (value - than)

    def degradation(self, name: str, reference: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per-sample degradation of ``values`` against ``reference`` (positive: worse)."""
        return self._sign(name) * (reference - values)

    def _sign(self, name: str) -> float:
        return 1.0 if self.directions[name] == "higher-better" else -1.0


def select_metrics(directions: dict[str, str],
                   budgets: tuple[MetricBudget, ...]) -> tuple[dict[str, str], dict[str, float]]:
    """The metrics AccuracyAwareQuantization keeps in budget, and the baseline values the config gives.

    ``budgets`` (params.metrics) selects metrics by name (default: all the Metric reports); baselines are
    returned only if every selected metric has one (then the FP32 evaluation is skipped, as in POT).
    """
    budgets = budgets or tuple(MetricBudget(name, None) for name in directions)
    selected, baselines = {}, {}
    for index, budget in enumerate(budgets):
        if budget.name not in directions:
            raise ParamError(f"metrics[{index}].name", f"the Metric reports no {budget.name!r}; it reports "
                                                       f"{', '.join(repr(n) for n in directions)}")
        selected[budget.name] = directions[budget.name]
        if budget.baseline_value is not None:
            baselines[budget.name] = float(budget.baseline_value)
    return selected, (baselines if len(baselines) == len(selected) else {})
