"""``potq run``: config -> plugins and model -> algorithms -> int8 weights -> outputs and report, atomically."""
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .algorithms import run_algorithms
from .algorithms.context import QuantizationState, RunContext
from .dataset import dataset_length
from .engine import Engine
from .errors import ConfigError
from .evaluation import evaluate
from .graph import read_model, weights_file
from .image_loader import ImageFolderLoader
from .output import describe_file, write_model_outputs
from .plugins import load_data_loader, load_metric
from .report import build_report, report_bytes
from .runtime import runtime_summary
from .settings import RunConfig
from .transform import compress_weights

log = logging.getLogger("potq")


@dataclass(frozen=True)
class RunResult:
    status: str  # "ok" or "accuracy_target_not_reached"
    files: dict[str, Path]
    report: dict


def default_output_dir(config: RunConfig) -> Path:
    return Path("results") / config.model.name


def run_config(config: RunConfig, output_dir: Path | None = None, keep_uncompressed_weights: bool = False) -> RunResult:
    """Quantize as ``config`` says and write ``<model_name>.xml/.bin`` and ``report.json`` to ``output_dir``."""
    started = time.perf_counter()
    out_dir = Path(output_dir) if output_dir else default_output_dir(config)
    engine = Engine(config.engine.device)
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    model = read_model(config.model.model, config.model.weights)
    timings["read_model"] = time.perf_counter() - tick
    loader, metric = _plugins(config, model)
    ctx = RunContext(engine=engine, loader=loader, metric=metric, target_device=config.compression.target_device,
                     model_type=config.compression.model_type,
                     inplace_statistics=config.compression.inplace_statistics,
                     stat_requests=config.engine.stat_requests_number,
                     eval_requests=config.engine.eval_requests_number, source=str(config.source),
                     model_name=config.model.name,
                     dump_dir=out_dir / "intermediate" if config.compression.dump_intermediate_model else None,
                     timings=timings)
    state = run_algorithms(QuantizationState(model, model), config.compression.algorithms, ctx,
                           "compression.algorithms")
    with ctx.timed("compress_weights"):
        final = state.model if keep_uncompressed_weights else compress_weights(state.model)
    with ctx.timed("runtime_check"):
        runtime = runtime_summary(engine.core, final)
    log.info("%d of %d compute layers run in INT8 on CPU", runtime["int8_compute_layers"], runtime["compute_layers"])
    inputs = {"model": describe_file(config.model.model)}
    weights = weights_file(config.model.model, config.model.weights)
    if weights is not None:
        inputs["weights"] = describe_file(weights)

    report: dict = {}

    def make_report(files: dict) -> bytes:
        timings["total"] = time.perf_counter() - started
        outputs = {"model": files[f"{config.model.name}.xml"], "weights": files[f"{config.model.name}.bin"]}
        report.update(build_report(config=config.resolved, config_file=describe_file(config.source),
                                   inputs=inputs, outputs=outputs, state=state, timings=timings, runtime=runtime,
                                   weights_compressed=not keep_uncompressed_weights))
        return report_bytes(report)

    with ctx.timed("write_outputs"):
        files = write_model_outputs(out_dir, config.model.name, final, make_report)
    log.info("wrote %s", files[f"{config.model.name}.xml"])
    return RunResult(state.status, files, report)


def evaluate_config(config: RunConfig, model_path: Path | None = None) -> dict:
    """Metrics of the config's model (or ``model_path``) over the whole dataset of the config's DataLoader."""
    if config.engine.metric is None:
        raise ConfigError.at(str(config.source), "engine.metric", "potq eval needs a Metric plugin here")
    model_file = model_path or config.model.model
    weights = None if model_path else config.model.weights
    model = read_model(model_file, weights)
    loader, metric = _plugins(config, model)
    indices = list(range(dataset_length(loader)))
    result = evaluate(Engine(config.engine.device), model, loader, metric, indices, config.engine.eval_requests_number)
    return {"model": str(Path(model_file).resolve()), "samples": len(indices), "metrics": result.metrics}


def _plugins(config: RunConfig, model):
    engine = config.engine
    if engine.simplified:
        return ImageFolderLoader(engine.data_source, model, engine.layout), None
    loader = load_data_loader(engine.data_loader, engine.data_loader_args, config.config_dir)
    metric = load_metric(engine.metric, engine.metric_args, config.config_dir) if engine.metric else None
    return loader, metric
