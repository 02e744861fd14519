"""POT's Python API on potq: ``IEEngine``, ``load_model``, ``create_pipeline``, ``compress_model_weights``,
``save_model``. Scripts written for ``openvino.tools.pot`` run with only the import changed.

Configs passed here are validated against the same schema as config files (with "did you mean" hints);
problems raise ConfigError naming the API call and the key.
"""
from dataclasses import dataclass
from pathlib import Path

import openvino as ov

from .algorithms import run_algorithms
from .algorithms.context import QuantizationState, RunContext
from .config import validated_with_defaults
from .dataset import dataset_length
from .engine import Engine
from .evaluation import evaluate
from .graph import read_model
from .output import write_model_outputs
from .plugins import DATA_LOADER_METHODS, METRIC_METHODS, check_shape
from .settings import AlgorithmSpec
from .transform import compress_weights


@dataclass
class CompressionModel:
    """What ``load_model`` returns and ``Pipeline.run`` produces: an ov.Model with its name."""

    model: ov.Model
    name: str
    report_sections: tuple[dict, ...] = ()  # what each algorithm did, as report.json would show it


class IEEngine:
    """POT's engine: runs inference for statistics and evaluation with the user's DataLoader and Metric."""

    def __init__(self, config, data_loader=None, metric=None):
        self.config = validated_with_defaults(dict(config or {}), "IEEngine config", "apiEngine")
        if data_loader is not None:
            check_shape(data_loader, "DataLoader", DATA_LOADER_METHODS, "IEEngine data_loader")
        if metric is not None:
            check_shape(metric, "Metric", METRIC_METHODS, "IEEngine metric")
        self.data_loader = data_loader
        self.metric = metric
        self.engine = Engine(self.config["device"])


def load_model(model_config) -> CompressionModel:
    """Read the model named by ``{"model_name", "model", "weights"}`` (paths relative to the working folder)."""
    config = validated_with_defaults(dict(model_config), "load_model model_config", "model")
    path = Path(config["model"])
    model = read_model(path, Path(config["weights"]) if "weights" in config else None)
    return CompressionModel(model, config.get("model_name") or path.stem)


class Pipeline:
    """``create_pipeline``'s result: ``run(model)`` quantizes, ``evaluate(model)`` measures the Metric."""

    def __init__(self, algorithms: tuple[AlgorithmSpec, ...], engine: IEEngine):
        self.algorithms = algorithms
        self.engine = engine

    def run(self, model: CompressionModel) -> CompressionModel:
        ctx = self._context(model.name)
        state = run_algorithms(QuantizationState(model.model, model.model), self.algorithms, ctx, "algorithms")
        return CompressionModel(state.model, model.name, state.sections)

    def evaluate(self, model: CompressionModel, subset_indices=None) -> dict[str, float]:
        """The Metric's average values for ``model`` over the whole dataset (or ``subset_indices``)."""
        if self.engine.metric is None:
            raise ValueError("pipeline.evaluate needs an IEEngine created with a metric")
        indices = list(subset_indices) if subset_indices is not None else \
            list(range(dataset_length(self.engine.data_loader)))
        return evaluate(self.engine.engine, model.model, self.engine.data_loader, self.engine.metric, indices,
                        self.engine.config["eval_requests_number"]).metrics

    def _context(self, model_name: str) -> RunContext:
        return RunContext(engine=self.engine.engine, loader=self.engine.data_loader, metric=self.engine.metric,
                          target_device="ANY", model_type=None, inplace_statistics=True,
                          stat_requests=self.engine.config["stat_requests_number"],
                          eval_requests=self.engine.config["eval_requests_number"], source="create_pipeline",
                          model_name=model_name)


def create_pipeline(algo_config, engine: IEEngine) -> Pipeline:
    """Validate POT-style ``[{"name": ..., "params": {...}}]`` and bind it to ``engine``."""
    specs = []
    for index, algorithm in enumerate(algo_config):
        checked = validated_with_defaults(_plain(algorithm), f"create_pipeline algorithms[{index}]", "algorithm")
        specs.append(AlgorithmSpec(checked["name"], checked["params"]))
    return Pipeline(tuple(specs), engine)


def compress_model_weights(model: CompressionModel) -> None:
    """Store the weights of ``model`` as int8 constants (in place, as POT did)."""
    model.model = compress_weights(model.model)


def save_model(model: CompressionModel, save_path, model_name: str | None = None,
               for_stat_collection: bool = False) -> list[dict]:
    """Write ``<save_path>/<model_name>.xml/.bin`` atomically; return POT's ``[{name, model, weights}]``.

    ``for_stat_collection`` is accepted for POT compatibility and has no effect.
    """
    name = model_name or model.name
    files = write_model_outputs(Path(save_path), name, model.model)
    return [{"name": name, "model": str(files[f"{name}.xml"]), "weights": str(files[f"{name}.bin"])}]


def _plain(value):
    """POT scripts pass addict.Dict objects; validate plain dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
