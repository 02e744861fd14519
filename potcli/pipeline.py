"""The one orchestrator. ``potq run`` / ``potq eval`` (cli.py) and POT's Python API (pot/) both come through here:
a Session (the user's data, metric and the inference engine) is built once, then ``quantize`` runs the algorithm
list on it, ``evaluate`` measures the Metric, and ``run_config`` writes the INT8 IR and report.json.
"""
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import openvino as ov

from .algorithms import run_algorithms
from .algorithms.accuracy_aware.target import AccuracyTarget
from .algorithms.context import QuantizationState, RunContext
from .algorithms.preview import preview_algorithms
from .algorithms.statistics_cache import StatisticsCache
from .config.params import AlgorithmParams
from .config.settings import ClusterSettings, CompressionSection, OutputCheck, RunConfig
from .data.image_folder import ImageFolderLoader
from .data.metric_calls import metric_directions
from .data.plugins import DATA_LOADER_METHODS, METRIC_METHODS, check_shape, load_data_loader, load_metric
from .data.samples import ItemReader, dataset_length, input_specs, prepared_sample, sample_indices
from .engine.evaluation import Evaluation
from .engine.evaluation import evaluate as evaluate_metric
from .engine.fidelity import POOR_COSINE, compare_outputs
from .engine.inference import Engine
from .engine.inspection import runtime_summary
from .engine.latency import compare_latency
from .errors import ConfigError, Interrupted
from .graph.model_io import read_model, weights_file
from .graph.queries import compute_operations, count_operations
from .graph.survey import survey_model
from .graph.transform import compress_weights, fold_constants
from .output.files import StagedOutputs, describe_file, prepare_output_folder, write_model_outputs
from .output.report import RunOutcome, build_report, report_bytes

__all__ = ["Engine", "Session", "RunResult", "RunOptions", "QuantizeOptions", "quantize", "evaluate",
           "evaluate_per_sample", "run_config", "evaluate_config", "plan_config", "inspect_model", "read_model",
           "compress_weights", "save_model", "check_plugins", "make_engine", "shared_cluster"]

log = logging.getLogger("potq")
REPORT = "report.json"


@dataclass
class Session:
    """What every stage of a run needs, built once: the inference engine and the user's DataLoader and Metric."""

    engine: Engine
    loader: object  # the user's DataLoader, read through an ItemReader (its item form is recognised once)
    metric: object | None
    stat_requests: int | None  # None: the compiled model's optimal number
    eval_requests: int | None
    postprocess: Callable | None = None  # POT's IEEngine.postprocess_output, when the user's engine overrides it

    def __post_init__(self):
        if self.loader is not None and not isinstance(self.loader, ItemReader):
            self.loader = ItemReader(self.loader)


@dataclass(frozen=True)
class RunResult:
    status: str  # "ok", "accuracy_target_not_reached" or "output_check_failed"
    files: dict[str, Path]
    report: dict


@dataclass(frozen=True)
class RunOptions:
    """How ``potq run`` runs a config, beyond the config itself."""

    output_dir: Path | None = None  # default: results/<model_name>/
    keep_uncompressed_weights: bool = False
    evaluate: bool = True  # measure a configured Metric on the FP32 and the INT8 model for the report
    command_line: tuple[str, ...] | None = None  # recorded in report.json
    stats_cache: Path | None = None  # statistics cache folder; overrides compression.stats_cache
    cluster: object | None = None  # a cluster shared by several runs (shared_cluster), over the config's


@dataclass(frozen=True)
class QuantizeOptions:
    """How a quantization is run and where its messages point, beyond the algorithms' own params."""

    source: str  # config file (or Python API call) that error messages name
    algorithms_path: str  # where the algorithm list is in it: "compression.algorithms"
    model_name: str
    inplace_statistics: bool = True
    dump_dir: Path | None = None  # dump_intermediate_model
    timings: dict[str, float] = field(default_factory=dict)
    stats_cache: StatisticsCache | None = None


def quantize(model: ov.Model, algorithms: tuple[AlgorithmParams, ...], session: Session,
             options: QuantizeOptions) -> QuantizationState:
    """Run the algorithm list on ``model`` (left unchanged); the result holds the quantized model and what each
    algorithm did."""
    if session.metric is None and any(params.accuracy is not None for params in algorithms):
        raise ConfigError.at(options.source, "engine.metric", "AccuracyAwareQuantization needs a Metric plugin")
    ctx = RunContext(engine=session.engine, loader=session.loader, metric=session.metric,
                     inplace_statistics=options.inplace_statistics, stat_requests=session.stat_requests,
                     eval_requests=session.eval_requests, model_name=options.model_name, dump_dir=options.dump_dir,
                     timings=options.timings, postprocess=session.postprocess, stats_cache=options.stats_cache)
    model = fold_constants(model)
    return run_algorithms(QuantizationState(model, model), algorithms, ctx, options.source, options.algorithms_path)


def evaluate(model: ov.Model, session: Session, indices: Sequence[int] | None = None,
             description: str = "Evaluation") -> dict[str, float]:
    """The Metric's average values for ``model`` over the whole dataset (or ``indices``)."""
    return evaluate_per_sample(model, session, indices, per_sample=False, description=description)[1].metrics


def evaluate_per_sample(model: ov.Model, session: Session, indices: Sequence[int] | None = None,
                        per_sample: bool = True, description: str = "Evaluation") -> tuple[Sequence[int], Evaluation]:
    """The samples evaluated and the Metric's values on them (with its per-sample ``value`` after each)."""
    if indices is None:
        indices = range(dataset_length(session.loader))
    return indices, evaluate_metric(session.engine, model, session.loader, session.metric, indices,
                                    session.eval_requests, per_sample, description=description,
                                    postprocess=session.postprocess)


def save_model(model: ov.Model, out_dir: Path, model_name: str) -> dict[str, Path]:
    """Write ``<out_dir>/<model_name>.xml/.bin`` atomically; return the final paths by file name."""
    return write_model_outputs(out_dir, model_name, model)


def check_plugins(loader, metric, label: str) -> None:
    """PluginError if a DataLoader or Metric object given from Python lacks what POT's contracts require."""
    if loader is not None:
        check_shape(loader, "DataLoader", DATA_LOADER_METHODS, f"{label} data_loader")
    if metric is not None:
        check_shape(metric, "Metric", METRIC_METHODS, f"{label} metric")


def default_output_dir(config: RunConfig) -> Path:
    return Path("results") / config.model.name


def run_config(config: RunConfig, options: RunOptions = RunOptions()) -> RunResult:
    """Quantize as ``config`` says and write ``<model_name>.xml/.bin`` and ``report.json`` to ``output_dir``.

    Refuses, before any work, outputs that would replace an input and a model that looks already quantized.
    """
    out_dir = Path(options.output_dir) if options.output_dir else default_output_dir(config)
    names = [f"{config.model.name}.xml", f"{config.model.name}.bin", REPORT]
    refuse_overwriting_inputs(config, [out_dir / name for name in names], "--output-dir (or model.model_name)")
    prepare_output_folder(out_dir, names)
    staged = StagedOutputs(out_dir)
    try:
        result = _quantize_and_write(config, staged, options)
    except Interrupted as e:
        raise e.with_detail(f"it came after the new results were written to {out_dir}" if staged.committed else
                            "earlier outputs were left as they were") from None
    log.debug("wrote %s", result.files[names[0]])  # the summary lists the files
    return result


def refuse_overwriting_inputs(config: RunConfig, outputs: list[Path], instead: str, model_path: Path | None = None):
    """ConfigError (exit 2) if writing any of ``outputs`` would replace the model, its weights or the config."""
    model = Path(model_path or config.model.model)
    inputs = {"model.model": model, "model.weights": weights_file(model, None if model_path else config.model.weights),
              "": config.source}
    for output in outputs:
        for key, path in inputs.items():
            if path is not None and _same_file(output, path):
                raise ConfigError.at(str(config.source), key, f"writing {output} would replace this input "
                                                              f"({path}); choose another {instead}")


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _quantize_and_write(config: RunConfig, staged: StagedOutputs, options: RunOptions) -> RunResult:
    started = time.perf_counter()
    out_dir = staged.out_dir
    quantize_options = QuantizeOptions(
        source=str(config.source), algorithms_path="compression.algorithms", model_name=config.model.name,
        inplace_statistics=config.compression.inplace_statistics,
        dump_dir=out_dir / "intermediate" if config.compression.dump_intermediate_model else None,
        stats_cache=_statistics_cache(options.stats_cache or config.compression.stats_cache))
    timings = quantize_options.timings
    tick = time.perf_counter()
    model = read_model(config.model.model, config.model.weights)
    timings["read_model"] = time.perf_counter() - tick
    if not config.compression.requantize:
        _refuse_quantized(model, config)
    with _open_session(config, model, timings, options.cluster) as session:
        state = quantize(model, config.compression.algorithms, session, quantize_options)
        _say_model_family(state)
        tick = time.perf_counter()
        final = state.model if options.keep_uncompressed_weights else compress_weights(state.model)
        timings["compress_weights"] = time.perf_counter() - tick
        tick = time.perf_counter()
        runtime = runtime_summary(session.engine, final)
        timings["runtime_check"] = time.perf_counter() - tick
        tick = time.perf_counter()
        runtime["latency"] = compare_latency(session.engine, model, final)
        timings["latency"] = time.perf_counter() - tick
        metrics = _measured_metrics(state, session, model, final, timings) if options.evaluate else None
        tick = time.perf_counter()
        check = check_outputs(model, final, session, config.compression)
        timings["output_check"] = time.perf_counter() - tick
        status = state.status if state.status != "ok" or check is None or check["passed"] else "output_check_failed"
        tick = time.perf_counter()
        with staged:
            files = staged.save_model(final, config.model.name)
            timings["total"] = time.perf_counter() - started
            outcome = RunOutcome(status, state.sections, state.fp32_nodes(), runtime, check, timings,
                                 weights_compressed=not options.keep_uncompressed_weights, metrics=metrics,
                                 command_line=options.command_line,
                                 statistics_cache=quantize_options.stats_cache.counts()
                                 if quantize_options.stats_cache else None)
            config_file = describe_file(config.source) if config.source.is_file() else None  # -q: no config file
            report = build_report(outcome, config=config.resolved, config_file=config_file,
                                  inputs=_input_files(config),
                                  outputs={"model": files[f"{config.model.name}.xml"],
                                           "weights": files[f"{config.model.name}.bin"]})
            staged.write(REPORT, report_bytes(report))
            paths = staged.commit()
        timings["write_outputs"] = time.perf_counter() - tick
        return RunResult(status, paths, report)


def check_outputs(fp32: ov.Model, int8: ov.Model, session: Session, compression: CompressionSection) -> dict | None:
    """INT8 against FP32 outputs on ``output_check.samples`` samples, held back from the statistics subset of
    the first quantization algorithm where the dataset has more samples than that subset; with the thresholds."""
    settings: OutputCheck = compression.output_check
    if settings.samples == 0:
        return None
    length = dataset_length(session.loader)
    sampling = next(a.sampling for a in compression.algorithms if a.quantization is not None or a.bias is not None)
    held_out = []
    if sampling.subset_size is not None and sampling.subset_size < length:  # walk back from the end, lazily
        calibration = sample_indices(length, sampling.subset_size, sampling.shuffle, sampling.seed)
        chosen = calibration if isinstance(calibration, range) else set(calibration)
        held_out = list(islice((i for i in range(length - 1, -1, -1) if i not in chosen), settings.samples))
    indices = sorted(held_out) if held_out else list(range(max(0, length - settings.samples), length))
    specs = input_specs(fp32)
    result = compare_outputs(session.engine, fp32, int8, [prepared_sample(session.loader, i, specs).inputs
                                                          for i in indices])
    failed = []
    if settings.min_cosine is not None and result["cosine"] < settings.min_cosine:
        failed.append(f"cosine {result['cosine']:.4f} < min_cosine {settings.min_cosine}")
    if settings.min_sqnr_db is not None and result["sqnr_db"] < settings.min_sqnr_db:
        failed.append(f"SQNR {result['sqnr_db']:.1f} dB < min_sqnr_db {settings.min_sqnr_db}")
    where = f"{len(indices)} {'held-out' if held_out else 'calibration'} samples"
    log.debug("INT8 vs FP32 on %s: cosine %.4f, SQNR %.1f dB (worst output %r)", where, result["cosine"],
             result["sqnr_db"], result["worst_output"])
    if failed:
        log.error("INT8 vs FP32 check failed: %s", "; ".join(failed))
    elif result["cosine"] < POOR_COSINE:
        log.warning("the INT8 outputs are far from FP32 (cosine %.3f): the model may be unusable; see "
                    "'Transformers' in the README", result["cosine"])
    return {**result, "held_out": bool(held_out), "min_cosine": settings.min_cosine,
            "min_sqnr_db": settings.min_sqnr_db, "passed": not failed, "failures": failed}


def _say_model_family(state: QuantizationState) -> None:
    for section in state.sections:
        if section["algorithm"] == "MinMaxQuantization" and section["model_type"] == "transformer":
            log.info("transformer handling: %s (model_type: null gives POT's plain handling)",
                     section["model_type_reason"])
            return


def _refuse_quantized(model: ov.Model, config: RunConfig) -> None:
    quantizers = count_operations(model, "FakeQuantize")
    if quantizers:
        raise ConfigError.at(str(config.source), "model.model", f"{config.model.model} already holds {quantizers} "
                                                                f"FakeQuantize: it looks already quantized, and "
                                                                f"quantizing it again stacks more; set "
                                                                f"compression.requantize: true if that is intended")


def plan_config(config: RunConfig, output_dir: Path | None = None) -> dict:
    """What ``run_config`` would do (``potq run --dry-run``): the config and the model only; the DataLoader and
    Metric are not loaded, no data is read, nothing is compiled or written."""
    model = read_model(config.model.model, config.model.weights)
    engine = config.engine
    out_dir = Path(output_dir) if output_dir else default_output_dir(config)
    return {"config": str(config.source.resolve()), "model": str(config.model.model),
            "operations": len(model.get_ordered_ops()), "compute_operations": len(compute_operations(model)),
            "data": str(engine.data_source) if engine.simplified else engine.data_loader, "metric": engine.metric,
            "output_dir": str(out_dir.resolve()),
            **preview_algorithms(model, config.compression.algorithms, str(config.source), "compression.algorithms")}


def _statistics_cache(directory: Path | None) -> StatisticsCache | None:
    return StatisticsCache(directory) if directory is not None else None


def _measured_metrics(state: QuantizationState, session: Session, fp32: ov.Model, int8: ov.Model,
                      timings: dict[str, float]) -> dict | None:
    """The Metric on the FP32 and the INT8 model: AccuracyAwareQuantization's own measurements, or (any other
    algorithm, with a Metric configured) both models evaluated on the whole dataset."""
    aaq = next((s for s in state.sections if s["algorithm"] == "AccuracyAwareQuantization"), None)
    if aaq is not None:
        result = aaq["result"]
        return {"source": "AccuracyAwareQuantization", "samples": aaq["evaluation_samples"],
                "fp32": aaq["baseline"], "int8": {name: result["metrics"][name] for name in aaq["baseline"]},
                "drop": result["drop"]}
    if session.metric is None:
        return None
    indices = list(range(dataset_length(session.loader)))
    values = {}
    for label, model in (("fp32", fp32), ("int8", int8)):
        tick = time.perf_counter()
        values[label] = evaluate(model, session, indices, f"{label.upper()} evaluation")
        timings[f"{label} evaluation"] = time.perf_counter() - tick
    target = AccuracyTarget(metric_directions(session.metric), values["fp32"], maximal_drop=0.0, relative=False)
    return {"source": "evaluation", "samples": len(indices), **values, "drop": target.drops(values["int8"])}


def _input_files(config: RunConfig) -> dict:
    inputs = {"model": describe_file(config.model.model)}
    weights = weights_file(config.model.model, config.model.weights)
    if weights is not None:
        inputs["weights"] = describe_file(weights)
    return inputs


def evaluate_config(config: RunConfig, model_path: Path | None = None) -> dict:
    """Metrics of the config's model (or ``model_path``) over the whole dataset of the config's DataLoader."""
    if config.engine.metric is None:
        raise ConfigError.at(str(config.source), "engine.metric", "potq eval needs a Metric plugin here")
    started = time.perf_counter()
    model_file = model_path or config.model.model
    model = read_model(model_file, None if model_path else config.model.weights)
    timings: dict[str, float] = {}
    with _open_session(config, model, timings) as session:
        indices = range(dataset_length(session.loader))
        tick = time.perf_counter()
        metrics = evaluate(model, session, indices)
        ended = time.perf_counter()
    timings.update(evaluation=ended - tick, total=ended - started)
    return {"model": str(Path(model_file).resolve()), "samples": len(indices), "metrics": metrics,
            "timings_seconds": {stage: round(seconds, 4) for stage, seconds in timings.items()}}


def inspect_model(model_path: Path, device: str = "CPU") -> dict:
    """What any IR (potq's, NNCF's, POT's, a plain FP32 one) holds, and what ``device`` really runs in INT8."""
    model = read_model(model_path)
    files = {"model": str(Path(model_path).resolve())}
    weights = weights_file(model_path)
    if weights is not None:
        files["weights"] = str(weights.resolve())
    return {"files": {role: {"path": path, "bytes": Path(path).stat().st_size} for role, path in files.items()},
            "graph": survey_model(model), "runtime": runtime_summary(Engine(device), model)}


@contextmanager
def _open_session(config: RunConfig, model: ov.Model, timings: dict[str, float], shared=None) -> Iterator[Session]:
    """The session of a config: its DataLoader and Metric, and an engine that runs evaluation and statistics on
    a cluster if the config (or --workers / --cluster) asks for one; the cluster is closed afterwards."""
    engine = config.engine
    if engine.simplified:
        loader, metric = ImageFolderLoader(engine.data_source, model, engine.layout, engine.central_fraction), None
    else:
        loader = load_data_loader(engine.data_loader, engine.data_loader_args, config.config_dir)
        metric = load_metric(engine.metric, engine.metric_args, config.config_dir) if engine.metric else None
    plugin = None if engine.simplified else (engine.data_loader, engine.data_loader_args, str(config.config_dir))
    session = Session(make_engine(engine.device, engine.cluster, loader, str(config.source), plugin, shared),
                      loader, metric, engine.stat_requests_number, engine.eval_requests_number)
    try:
        if session.engine.remote is not None:
            tick = time.perf_counter()
            session.engine.remote.open()
            timings["cluster start"] = time.perf_counter() - tick
        yield session
    finally:
        if session.engine.remote is not None:
            session.engine.remote.close()


def make_engine(device: str, cluster: ClusterSettings, loader, source: str,
                plugin: tuple[str, dict, str] | None = None, shared=None) -> Engine:
    """An engine on ``device``; with ``cluster`` enabled (or a ``shared`` cluster, from ``shared_cluster``), one
    whose evaluation and statistics passes run on the cluster's workers, which read the DataLoader named by
    ``plugin`` (reference, args, config folder) or, without one, ``loader`` itself sent to them."""
    if shared is None and not cluster.enabled:
        return Engine(device)
    connection, runs = _cluster_modules(cluster, source)
    handle = shared or connection.ClusterHandle(cluster.workers, cluster.address)
    return Engine(device, runs.cluster_runs(handle, device, loader, plugin, owns_handle=shared is None))


@contextmanager
def shared_cluster(cluster: ClusterSettings, source: str):
    """One cluster (opened on first use) for several runs (``RunOptions.cluster``), closed afterwards; None if
    ``cluster`` is not enabled."""
    if not cluster.enabled:
        yield None
        return
    handle = _cluster_modules(cluster, source)[0].ClusterHandle(cluster.workers, cluster.address)
    try:
        yield handle
    finally:
        handle.close()


def _cluster_modules(cluster: ClusterSettings, source: str):
    """``potcli.cluster``'s connection and runs, imported here only for a run that asks for a cluster: they
    need Dask, potq's optional cluster extra."""
    try:
        from .cluster import connection, runs
    except ImportError as e:
        raise ConfigError.at(source, cluster.given_as, f"needs Dask, potq's optional cluster extra: pip install "
                                                       f"'potq[cluster]' ({e})") from e
    return connection, runs
