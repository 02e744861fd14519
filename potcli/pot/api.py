"""POT's Python API on potq: ``IEEngine``, ``load_model``, ``create_pipeline``, ``compress_model_weights``,
``save_model``. Scripts written for ``openvino.tools.pot`` run with only the import changed.

This face only translates POT's objects and delegates to the pipeline, the same entry points ``potq run`` uses.
Configs passed here are validated against the same schema as config files (with "did you mean" hints);
problems raise ConfigError naming the API call and the key.
"""
from dataclasses import dataclass
from pathlib import Path

import openvino as ov

from .. import pipeline
from ..config.params import AlgorithmParams, DeviceDefaults
from ..config.settings import algorithm_list
from ..config.validation import validated_with_defaults

API_DEFAULTS = DeviceDefaults(target_device="ANY", model_type="auto")  # the compression block's defaults
PIPELINE_SOURCE = "create_pipeline"


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
        pipeline.check_plugins(data_loader, metric, "IEEngine")
        self.data_loader = data_loader
        self.metric = metric
        self.session = pipeline.Session(pipeline.Engine(self.config["device"]), data_loader, metric,
                                        self.config["stat_requests_number"], self.config["eval_requests_number"])


def load_model(model_config) -> CompressionModel:
    """Read the model named by ``{"model_name", "model", "weights"}`` (paths relative to the working folder)."""
    config = validated_with_defaults(dict(model_config), "load_model model_config", "model")
    path = Path(config["model"])
    model = pipeline.read_model(path, Path(config["weights"]) if "weights" in config else None)
    return CompressionModel(model, config.get("model_name") or path.stem)


class Pipeline:
    """``create_pipeline``'s result: ``run(model)`` quantizes, ``evaluate(model)`` measures the Metric."""

    def __init__(self, algorithms: tuple[AlgorithmParams, ...], engine: IEEngine):
        self.algorithms = algorithms
        self.engine = engine

    def run(self, model: CompressionModel) -> CompressionModel:
        options = pipeline.QuantizeOptions(source=PIPELINE_SOURCE, algorithms_path="algorithms",
                                           model_name=model.name)
        state = pipeline.quantize(model.model, self.algorithms, self.engine.session, options)
        return CompressionModel(state.model, model.name, state.sections)

    def evaluate(self, model: CompressionModel, subset_indices=None) -> dict[str, float]:
        """The Metric's average values for ``model`` over the whole dataset (or ``subset_indices``)."""
        if self.engine.metric is None:
            raise ValueError("pipeline.evaluate needs an IEEngine created with a metric")
        indices = list(subset_indices) if subset_indices is not None else None
        return pipeline.evaluate(model.model, self.engine.session, indices)


def create_pipeline(algo_config, engine: IEEngine) -> Pipeline:
    """Validate POT-style ``[{"name": ..., "params": {...}}]`` and bind it to ``engine``."""
    checked = [validated_with_defaults(_plain(algorithm), f"{PIPELINE_SOURCE} algorithms[{index}]", "algorithm")
               for index, algorithm in enumerate(algo_config)]
    return Pipeline(algorithm_list(checked, API_DEFAULTS, PIPELINE_SOURCE, "algorithms"), engine)


def compress_model_weights(model: CompressionModel) -> None:
    """Store the weights of ``model`` as int8 constants (in place, as POT did)."""
    model.model = pipeline.compress_weights(model.model)


def save_model(model: CompressionModel, save_path, model_name: str | None = None,
               for_stat_collection: bool = False) -> list[dict]:
    """Write ``<save_path>/<model_name>.xml/.bin`` atomically; return POT's ``[{name, model, weights}]``.

    ``for_stat_collection`` is accepted for POT compatibility and has no effect.
    """
    name = model_name or model.name
    files = pipeline.save_model(model.model, Path(save_path), name)
    return [{"name": name, "model": str(files[f"{name}.xml"]), "weights": str(files[f"{name}.bin"])}]


def _plain(value):
    """POT scripts pass addict.Dict objects; validate plain dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
