"""Spellings POT accepted for a value potq names one way, rewritten before validation.

POT's own spec files write ``"model_type": "None"``; its config code turned the presets ``symmetric`` and
``asymmetric`` into ``performance`` and ``accuracy``; ``batch_mean`` aggregated like ``mean`` once statistics
are reduced per inference; ``AccuracyAwareCommon`` was the algorithm AccuracyAwareQuantization ran on CPU and GPU.
"""
import copy

PRESETS = {"symmetric": "performance", "asymmetric": "accuracy"}
AGGREGATORS = {"batch_mean": "mean"}
ALGORITHMS = {"AccuracyAwareCommon": "AccuracyAwareQuantization"}
MODEL_TYPES = {"None": None}


def canonical(instance, definition: str | None = None):
    """A copy of ``instance`` (a whole config, or the ``$defs`` entry named) with POT's spellings replaced."""
    instance = copy.deepcopy(instance)
    if definition is None and isinstance(instance, dict):
        compression = instance.get("compression")
        if isinstance(compression, dict):
            _replace(compression, "model_type", MODEL_TYPES)
            algorithms = compression.get("algorithms")
            for entry in algorithms if isinstance(algorithms, list) else []:
                _algorithm(entry)
    elif definition == "algorithm":
        _algorithm(instance)
    return instance


def _algorithm(entry) -> None:
    if not isinstance(entry, dict):
        return
    _replace(entry, "name", ALGORITHMS)
    params = entry.get("params")
    if not isinstance(params, dict):
        return
    _replace(params, "model_type", MODEL_TYPES)
    _replace(params, "preset", PRESETS)
    for estimator in _range_estimators(params):
        for bound in ("min", "max"):
            if isinstance(estimator.get(bound), dict):
                _replace(estimator[bound], "aggregator", AGGREGATORS)


def _range_estimators(params: dict) -> list[dict]:
    holders = [params] + [params[kind] for kind in ("weights", "activations") if isinstance(params.get(kind), dict)]
    return [holder["range_estimator"] for holder in holders if isinstance(holder.get("range_estimator"), dict)]


def _replace(block: dict, key: str, spellings: dict) -> None:
    value = block.get(key)
    if isinstance(value, str) and value in spellings:
        block[key] = spellings[value]
