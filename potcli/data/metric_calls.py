"""Talking to a user's POT-style Metric: attributes, average and per-sample values, all checked."""
import math
from collections.abc import Sequence

import numpy as np

from ..errors import MetricError
from .contracts import Metric

DIRECTIONS = ("higher-better", "higher-worse")


def metric_directions(metric) -> dict[str, str]:
    """``{metric name: direction}`` from ``get_attributes()``; MetricError for anything else."""
    try:
        attributes = metric.get_attributes()
    except Exception as e:
        raise MetricError(f"Metric.get_attributes() raised {type(e).__name__}: {e}") from e
    if not isinstance(attributes, dict) or not attributes:
        raise MetricError(f"Metric.get_attributes() returned {attributes!r}; expected "
                          f"{{name: {{'direction': 'higher-better' | 'higher-worse', 'type': ...}}}}")
    directions = {}
    for name, attrs in attributes.items():
        direction = attrs.get("direction") if isinstance(attrs, dict) else None
        if direction not in DIRECTIONS:
            raise MetricError(f"Metric.get_attributes(): metric {name!r} has direction {direction!r}; "
                              f"expected 'higher-better' or 'higher-worse'")
        directions[str(name)] = direction
    return directions


def average_values(metric) -> dict[str, float]:
    """``avg_value`` (a property in POT, a method in some user code) as checked floats."""
    return _numbers(_read(metric, "avg_value"), "avg_value", per_sample=False)


def sample_values(metric) -> dict[str, float]:
    """``value`` for the last update (one sample) as checked floats."""
    return _numbers(_read(metric, "value"), "value", per_sample=True)


def has_per_sample_values(metric) -> bool:
    """Whether the Metric implements POT's per-sample ``value`` (its base class only raises)."""
    for klass in type(metric).__mro__:
        if "value" in vars(klass):
            return klass is not Metric
    return False


def postprocessed(postprocess, names: list[str], outputs: list[np.ndarray], metadata, index: int):
    """What POT's ``IEEngine.postprocess_output(outputs by name, [metadata])`` makes of one sample's outputs: the
    outputs the Metric gets. ``postprocess`` is the hook of an IEEngine subclass (None: the outputs as they are)."""
    if postprocess is None:
        return outputs
    try:
        return postprocess(dict(zip(names, outputs, strict=True)), [metadata])
    except Exception as e:
        raise MetricError(f"postprocess_output() raised {type(e).__name__} on sample {index}: {e}") from e


def update(metric, outputs: list[np.ndarray], annotation, index: int) -> None:
    """``metric.update(outputs, [annotation])``: POT passed a list of outputs and one annotation per batch item."""
    try:
        metric.update(outputs, [annotation])
    except Exception as e:
        raise MetricError(f"Metric.update() raised {type(e).__name__} on sample {index}: {e}") from e


def reset(metric) -> None:
    try:
        metric.reset()
    except Exception as e:
        raise MetricError(f"Metric.reset() raised {type(e).__name__}: {e}") from e


def _read(metric, member: str):
    try:
        value = getattr(metric, member)
        return value() if callable(value) else value
    except Exception as e:
        raise MetricError(f"Metric.{member} raised {type(e).__name__}: {e}") from e


def _numbers(values, member: str, per_sample: bool) -> dict[str, float]:
    if not isinstance(values, dict) or not values:
        raise MetricError(f"Metric.{member} returned {values!r}; expected {{metric name: number}}")
    numbers = {}
    for name, value in values.items():
        if per_sample and isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            value = np.asarray(value, dtype=object).reshape(-1)
            value = value[0] if value.size == 1 else None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MetricError(f"Metric.{member}[{name!r}] is {value!r}, not a number") from None
        if not math.isfinite(number):
            raise MetricError(f"Metric.{member}[{name!r}] is {number}, not a finite number")
        numbers[str(name)] = number
    return numbers
