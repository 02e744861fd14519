"""Typed, read-only views of a validated config. No defaults here: the schema fills them before this runs.

Building them also runs every check that needs no model: the algorithms' order, their level grids, and
whether an algorithm that needs a Metric has one.
"""
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ParamError, format_problem, short_repr
from .params import AlgorithmParams, DeviceDefaults, algorithm_params, order_problems
from .schema import config_schema

CONFIG_DIR_PLACEHOLDER = "${config_dir}"


@dataclass(frozen=True)
class ModelSection:
    name: str
    model: Path
    weights: Path | None


@dataclass(frozen=True)
class ClusterSettings:
    """Where evaluation and statistics run: here (neither set), on a local cluster of ``workers`` processes, or
    on the Dask cluster at ``address``."""

    workers: int | None
    address: str | None
    given_as: str  # what set them, for messages: "engine.workers", "--cluster", ...

    @property
    def enabled(self) -> bool:
        return self.workers is not None or self.address is not None


@dataclass(frozen=True)
class EngineSection:
    """Either POT's simplified image-folder mode (``data_source``) or user plugins (``data_loader``)."""

    data_source: Path | None
    layout: str | None
    central_fraction: float | None
    data_loader: str | None
    data_loader_args: dict
    metric: str | None
    metric_args: dict
    device: str
    stat_requests_number: int | None
    eval_requests_number: int | None
    cluster: ClusterSettings

    @property
    def simplified(self) -> bool:
        return self.data_source is not None


@dataclass(frozen=True)
class OutputCheck:
    """The INT8-vs-FP32 output comparison after quantization, and the thresholds that fail a run."""

    samples: int  # 0: no check
    min_cosine: float | None
    min_sqnr_db: float | None


@dataclass(frozen=True)
class CompressionSection:
    target_device: str
    model_type: str | None
    inplace_statistics: bool
    dump_intermediate_model: bool
    requantize: bool  # quantize a model that already holds FakeQuantize
    algorithms: tuple[AlgorithmParams, ...]
    output_check: OutputCheck
    stats_cache: Path | None  # statistics cache folder


@dataclass(frozen=True)
class RunConfig:
    source: Path
    model: ModelSection
    engine: EngineSection
    compression: CompressionSection
    resolved: dict  # the config with defaults filled and paths resolved, as recorded in report.json

    @property
    def config_dir(self) -> Path:
        return self.source.parent


def settings_from_dict(config: dict, source: Path) -> RunConfig:
    """Build the typed view of a validated, defaults-filled config; relative paths resolve against its folder."""
    base = source.resolve().parent
    model_cfg, engine_cfg, comp_cfg = config["model"], config["engine"], config["compression"]
    model_path = base / model_cfg["model"]
    weights = base / model_cfg["weights"] if "weights" in model_cfg else None
    model = ModelSection(name=model_cfg.get("model_name") or _name_from_file(model_path, str(source)),
                         model=model_path, weights=weights)
    data_source = base / engine_cfg["data_source"] if "data_source" in engine_cfg else None
    engine = EngineSection(
        data_source=data_source,
        layout=engine_cfg.get("layout"),
        central_fraction=engine_cfg.get("central_fraction"),
        data_loader=engine_cfg.get("data_loader"),
        data_loader_args=expand_config_dir(engine_cfg.get("data_loader_args", {}), base),
        metric=engine_cfg.get("metric"),
        metric_args=expand_config_dir(engine_cfg.get("metric_args", {}), base),
        device=engine_cfg["device"],
        stat_requests_number=engine_cfg.get("stat_requests_number"),
        eval_requests_number=engine_cfg.get("eval_requests_number"),
        cluster=cluster_settings(engine_cfg, str(source), "engine."),
    )
    defaults = DeviceDefaults(comp_cfg["target_device"], comp_cfg["model_type"])
    algorithms = algorithm_list(comp_cfg["algorithms"], defaults, str(source), "compression.algorithms")
    if engine.metric is None and any(a.accuracy is not None for a in algorithms):
        raise ConfigError.at(str(source), "engine.metric", "AccuracyAwareQuantization needs a Metric plugin")
    compression = CompressionSection(
        target_device=comp_cfg["target_device"],
        model_type=comp_cfg["model_type"],
        inplace_statistics=comp_cfg["inplace_statistics"],
        dump_intermediate_model=comp_cfg["dump_intermediate_model"],
        requantize=comp_cfg["requantize"],
        algorithms=algorithms,
        output_check=OutputCheck(**comp_cfg["output_check"]),
        stats_cache=base / comp_cfg["stats_cache"] if comp_cfg["stats_cache"] else None,
    )
    resolved = {**config, "model": {**model_cfg, "model_name": model.name, "model": str(model.model),
                                    **({"weights": str(weights)} if weights else {})},
                "engine": expand_config_dir(engine_cfg, base)}
    if data_source is not None:
        resolved["engine"]["data_source"] = str(data_source)
    if compression.stats_cache is not None:
        resolved["compression"] = {**comp_cfg, "stats_cache": str(compression.stats_cache)}
    return RunConfig(source=source, model=model, engine=engine, compression=compression, resolved=resolved)


def cluster_settings(engine_cfg: dict, source: str, prefix: str) -> ClusterSettings:
    """``workers`` / ``cluster`` of a validated engine block; ConfigError if both are given."""
    workers, address = engine_cfg["workers"], engine_cfg["cluster"]
    if workers is not None and address is not None:
        raise ConfigError.at(source, f"{prefix}cluster", f"give {prefix}workers (a local cluster) or "
                                                         f"{prefix}cluster (one that runs elsewhere), not both")
    return ClusterSettings(workers, address, f"{prefix}{'cluster' if address is not None else 'workers'}")


def _name_from_file(model_path: Path, source: str) -> str:
    """The stem of the model file, which names the outputs when model_name is not given: held to the rule the
    schema sets for model_name, so that no output escapes its folder or carries a control character."""
    rule = config_schema()["$defs"]["model"]["properties"]["model_name"]
    name = model_path.stem
    if not re.search(rule["pattern"], name) or len(name) > rule["maxLength"]:
        raise ConfigError.at(source, "model.model", f"the outputs are named after the model file, and "
                                                    f"{short_repr(name)} {rule['x-pattern-message']} (at most "
                                                    f"{rule['maxLength']} characters): set model.model_name")
    return name


def algorithm_list(entries: list[dict], defaults: DeviceDefaults, source: str,
                   path: str) -> tuple[AlgorithmParams, ...]:
    """Typed params of every validated ``{name, params}`` entry; ConfigError listing every problem."""
    problems = [format_problem(source, f"{path}[{index}]", message)
                for index, message in order_problems([entry["name"] for entry in entries])]
    algorithms = []
    for index, entry in enumerate(entries):
        try:
            algorithms.append(algorithm_params(entry["name"], entry["params"], defaults))
        except ParamError as e:
            problems += e.located(source, f"{path}[{index}].params").problems
    if problems:
        raise ConfigError(problems)
    return tuple(algorithms)


def expand_config_dir(value, base: Path):
    """Replace ``${config_dir}`` in every string of a plugin-args structure with the config file's folder."""
    if isinstance(value, str):
        return value.replace(CONFIG_DIR_PLACEHOLDER, str(base))
    if isinstance(value, dict):
        return {k: expand_config_dir(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_config_dir(v, base) for v in value]
    return value
