"""Talking to a user's POT-style Metric: attributes, average and per-sample values, all checked."""
import math
from collections.abc import Sequence

import numpy as np

from ..errors import MetricError, short_repr, user_code
from .contracts import Metric

DIRECTIONS = ("higher-better", "higher-worse")


def metric_directions(metric) -> dict[str, str]:
    """``{metric name: direction}`` from ``get_attributes()``; MetricError for anything else."""
    with user_code(lambda why: MetricError(f"Metric.get_attributes() raised {why}")):
        attributes = metric.get_attributes()
    if not isinstance(attributes, dict) or not attributes:
        raise MetricError(f"Metric.get_attributes() returned {short_repr(attributes)}; expected "
                          f"{{name: {{'direction': 'higher-better' | 'higher-worse', 'type': ...}}}}")
    directions = {}
    for name, attrs in attributes.items():
        direction = attrs.get("direction") if isinstance(attrs, dict) else None
        if direction not in DIRECTIONS:
            raise MetricError(f"Metric.get_attributes(): metric {short_repr(name)} has direction "
                              f"{short_repr(direction)}; "
                              f"expected 'higher-better' or 'higher-worse'")
        directions[str(name)] = direction
    return directions


def average_values(metric) -> dict[str, float]:
    """``avg_value`` (a property in POT, a method in some user code) as checked floats."""
    return _numbers(_read(metric, "avg_value"), "avg_value", per_sample=False)


def sample_values(metric) -> dict[str, float]:
    """``value`` for the last update (one sample) as checked floats."""
    return _numbers(_read(metric, "value"), "value", per_sample=True)


def require_names(values: dict[str, float], names, member: str) -> None:
    """MetricError unless ``values`` (what ``Metric.<member>`` reported) has every metric ``names`` lists."""
    missing = [name for name in names if name not in values]
    if missing:
        raise MetricError(f"Metric.get_attributes() names {short_repr(missing[0])}, but Metric.{member} reports "
                          f"only {', '.join(short_repr(name) for name in values)}")


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
    with user_code(lambda why: MetricError(f"Metric.update() on sample {index} raised {why}")):
        metric.update(outputs, [annotation])


def reset(metric) -> None:
    with user_code(lambda why: MetricError(f"Metric.reset() raised {why}")):
        metric.reset()


def _read(metric, member: str):
    with user_code(lambda why: MetricError(f"Metric.{member} raised {why}")):
        value = getattr(metric, member)
        return value() if callable(value) else value


def _numbers(values, member: str, per_sample: bool) -> dict[str, float]:
    if not isinstance(values, dict) or not values:
        raise MetricError(f"Metric.{member} returned {short_repr(values)}; expected {{metric name: number}}")
    numbers = {}
    for name, value in values.items():
        if per_sample and isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            value = np.asarray(value, dtype=object).reshape(-1)
            value = value[0] if value.size == 1 else None
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            number = math.inf
        except (TypeError, ValueError):
            raise MetricError(f"Metric.{member}[{short_repr(name)}] is {short_repr(value)}, not a number") from None
        if not math.isfinite(number):
            raise MetricError(f"Metric.{member}[{short_repr(name)}] is {number}, not a finite number")
        numbers[str(name)] = number
    return numbers
