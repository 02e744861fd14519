"""POT's Python API on potq: ``Engine`` / ``IEEngine``, ``load_model``, ``create_pipeline``,
``compress_model_weights``, ``save_model``, and ``CompressedModel``; also what ``openvino.tools.pot.api`` exported
(``DataLoader``, ``Metric``, ``Engine``). Scripts written for ``openvino.tools.pot`` run with only the import changed.

This face only translates POT's objects and delegates to the pipeline, the same entry points ``potq run`` uses.
Configs passed here are validated against the same schema as config files (with "did you mean" hints);
problems raise ConfigError naming the API call and the key.
"""
import logging
from abc import ABC, abstractmethod
from pathlib import Path

import openvino as ov

from .. import pipeline
from ..config.params import AlgorithmParams, DeviceDefaults
from ..config.settings import algorithm_list, cluster_settings
from ..config.validation import validated_with_defaults
from ..data.contracts import AttrDict, DataLoader, Metric
from ..errors import PluginError

__all__ = ["DataLoader", "Metric", "Engine", "IEEngine", "CompressedModel", "load_model", "save_model",
           "compress_model_weights", "create_pipeline"]

API_DEFAULTS = DeviceDefaults(target_device="ANY", model_type="auto")  # the compression block's defaults
PIPELINE_SOURCE = "create_pipeline"
log = logging.getLogger("potq")


class CompressedModel:
    """What ``load_model`` returns and ``Pipeline.run`` produces: an ov.Model with its name (POT's CompressedModel,
    for one model; cascades are not carried over)."""

    def __init__(self, model: ov.Model, name: str, report_sections: tuple[dict, ...] = ()):
        self.model = model
        self.name = name
        self.report_sections = report_sections  # what each algorithm did, as report.json would show it

    @property
    def models(self) -> list[dict]:
        """POT's list of the models held: ``[{"model": ov.Model}]``."""
        return [{"model": self.model}]

    @property
    def is_cascade(self) -> bool:
        return False

    def save(self, save_path, model_name: str | None = None, for_stat_collection: bool = False) -> list[dict]:
        """As ``save_model(self, ...)``."""
        return save_model(self, save_path, model_name, for_stat_collection)


CompressionModel = CompressedModel  # potq's earlier name for it


class Engine(ABC):
    """POT's engine base class: the config, the DataLoader and the Metric. potq runs the inference itself, so a
    pipeline takes an IEEngine (or a subclass of it); a subclass of Engine alone cannot drive one."""

    def __init__(self, config, data_loader=None, metric=None):
        self.config = AttrDict(validated_with_defaults(dict(config or {}), f"{type(self).__name__} config",
                                                       "apiEngine"))
        pipeline.check_plugins(data_loader, metric, type(self).__name__)
        self._data_loader = data_loader
        self._metric = metric
        self._model = None

    @property
    def data_loader(self):
        return self._data_loader

    @property
    def metric(self):
        return self._metric

    def set_model(self, model: CompressedModel) -> None:
        """Set the model ``predict`` runs."""
        self._model = model

    @abstractmethod
    def predict(self, stats_layout=None, sampler=None, stat_aliases=None, metric_per_sample=False,
                print_progress=False):
        """Run the model set with ``set_model`` over the dataset; return ``(metrics, statistics)``."""

    def get_metrics_attributes(self) -> dict:
        return self._metric.get_attributes()


class IEEngine(Engine):
    """POT's engine: runs inference for statistics and evaluation with the user's DataLoader and Metric.

    A subclass may override ``postprocess_output(outputs, metadata)`` (POT's documented hook): the Metric then
    gets what it returns, in every evaluation potq runs (``pipeline.evaluate``, ``predict`` and
    AccuracyAwareQuantization).
    """

    def __init__(self, config, data_loader=None, metric=None):
        super().__init__(config, data_loader, metric)
        hook = self.postprocess_output if type(self).postprocess_output is not IEEngine.postprocess_output else None
        source = f"{type(self).__name__} config"
        engine = pipeline.make_engine(self.config["device"], cluster_settings(self.config, source, ""), data_loader,
                                      source)  # with workers / cluster: the DataLoader object goes to the workers
        self.session = pipeline.Session(engine, data_loader, metric, self.config["stat_requests_number"],
                                        self.config["eval_requests_number"], postprocess=hook)

    @staticmethod
    def postprocess_output(outputs, _metadata):
        """The outputs the Metric gets: ``outputs`` is ``{output name: array}`` for one sample, ``metadata`` the
        list of its DataLoader metadata (``[{}]`` when the item had none)."""
        return list(outputs.values())

    def predict(self, stats_layout=None, sampler=None, stat_aliases=None, metric_per_sample=False,
                print_progress=False):
        """Evaluate the model set with ``set_model``: ``(metrics, {})``, or with ``metric_per_sample``
        ``(([{"sample_id", "metric_name", "result"}, ...], metrics), {})``. ``sampler`` may be a list of sample
        indices. potq collects statistics itself: ``stats_layout`` is not supported."""
        if stats_layout is not None or stat_aliases is not None:
            raise NotImplementedError("IEEngine.predict: potq collects statistics itself; call it without "
                                      "stats_layout to evaluate")
        if self._model is None or self.metric is None:
            raise ValueError("IEEngine.predict needs a model (set_model) and an IEEngine created with a metric")
        indices = list(sampler) if sampler is not None else None
        if not metric_per_sample:
            return pipeline.evaluate(self._model.model, self.session, indices), {}
        indices, evaluation = pipeline.evaluate_per_sample(self._model.model, self.session, indices)
        per_sample = [{"sample_id": index, "metric_name": name, "result": float(values[position])}
                      for name, values in evaluation.per_sample.items() for position, index in enumerate(indices)]
        return (sorted(per_sample, key=lambda row: row["sample_id"]), evaluation.metrics), {}


def load_model(model_config, target_device: str = "ANY") -> CompressedModel:
    """Read the model named by ``{"model_name", "model", "weights"}`` (paths relative to the working folder).
    ``target_device`` is accepted as in POT; the algorithms' params say which rules apply."""
    config = validated_with_defaults(dict(model_config), "load_model model_config", "model")
    path = Path(config["model"])
    model = pipeline.read_model(path, Path(config["weights"]) if "weights" in config else None)
    log.info("loaded model %s", path)
    return CompressedModel(model, config.get("model_name") or path.stem)


class Pipeline:
    """``create_pipeline``'s result: ``run(model)`` quantizes, ``evaluate(model)`` measures the Metric."""

    def __init__(self, algorithms: tuple[AlgorithmParams, ...], engine: IEEngine):
        self.algorithms = algorithms
        self.engine = engine

    def run(self, model: CompressedModel) -> CompressedModel:
        options = pipeline.QuantizeOptions(source=PIPELINE_SOURCE, algorithms_path="algorithms",
                                           model_name=model.name)
        state = pipeline.quantize(model.model, self.algorithms, self.engine.session, options)
        return CompressedModel(state.model, model.name, state.sections)

    def evaluate(self, model: CompressedModel, subset_indices=None) -> dict[str, float]:
        """The Metric's average values for ``model`` over the whole dataset (or ``subset_indices``)."""
        if self.engine.metric is None:
            raise ValueError("pipeline.evaluate needs an IEEngine created with a metric")
        indices = list(subset_indices) if subset_indices is not None else None
        log.info("Evaluation of the model")
        return pipeline.evaluate(model.model, self.engine.session, indices)


def create_pipeline(algo_config, engine: IEEngine, interface: str = "API") -> Pipeline:
    """Validate POT-style ``[{"name": ..., "params": {...}}]`` and bind it to ``engine``. ``interface`` is
    accepted as in POT."""
    if not isinstance(engine, IEEngine):
        raise PluginError(f"create_pipeline: the engine is a {type(engine).__name__}, not an IEEngine: potq runs "
                          f"the inference itself; subclass IEEngine (and override postprocess_output to change "
                          f"what the Metric gets)")
    checked = [validated_with_defaults(_plain(algorithm), f"{PIPELINE_SOURCE} algorithms[{index}]", "algorithm")
               for index, algorithm in enumerate(algo_config)]
    return Pipeline(algorithm_list(checked, API_DEFAULTS, PIPELINE_SOURCE, "algorithms"), engine)


def compress_model_weights(model: CompressedModel) -> None:
    """Store the weights of ``model`` as int8 constants (in place, as POT did)."""
    model.model = pipeline.compress_weights(model.model)


def save_model(model: CompressedModel, save_path, model_name: str | None = None,
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
