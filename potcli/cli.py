"""The ``potq`` command. The only place where exceptions become exit codes.

0 success · 1 runtime failure · 2 bad usage or invalid config · 3 accuracy target not reached ·
129 / 130 / 143 interrupted by SIGHUP / SIGINT / SIGTERM.
"""
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import click

from .version import __version__
from .config import cluster_flags, load_config, with_cluster, with_output_thresholds
from .config.command_line import PotFlags, settings_from_flags
from .config.command_line import output_dir as pot_output_dir
from .config.schema import config_schema_text
from .data.plugins import describe_reference
from .errors import ConfigError, Interrupted, PotqError, shortened
from .output.inspection_text import inspect_text
from .output.plan_text import plan_text
from .output.summary import eval_summary_text, run_summary_text
from .progress import set_enabled as set_progress

log = logging.getLogger("potq")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
EXIT_TARGET_NOT_REACHED = 3  # maximal_drop, or a threshold of the INT8-vs-FP32 output check


def _json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (for CI).")(func)


def _no_progress_option(func):
    return click.option("--no-progress", is_flag=True,
                        help="No progress bars (on a terminal) or progress lines (in logs) on stderr.")(func)


def _cluster_options(func):
    """--workers / --cluster: evaluation and statistics on a Dask cluster (the config's engine.workers /
    engine.cluster, overridden)."""
    func = click.option("--cluster", "cluster_address", default=None, metavar="ADDRESS",
                        help="Join the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) for evaluation "
                             "and statistics.")(func)
    return click.option("--workers", type=click.IntRange(1, 256), default=None,
                        help="Start N worker processes on this machine (a local Dask cluster) for evaluation and "
                             "statistics. Needs pip install 'potq[cluster]'.")(func)


def _with_cluster(settings, workers: int | None, address: str | None):
    _refuse_both_cluster_flags(workers, address)
    return with_cluster(settings, workers, address)


def _refuse_both_cluster_flags(workers: int | None, address: str | None) -> None:
    if workers is not None and address is not None:
        raise ConfigError.at("potq", "--cluster", "give --workers (a local cluster) or --cluster (one that runs "
                                                  "elsewhere), not both")


def _log_level_option(func):
    return click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
                        help="Verbosity (default info). debug also prints tracebacks.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="potq")
@_log_level_option
@click.pass_context
def cli(ctx, log_level):
    """Post-training INT8 quantization of OpenVINO models, driven by POT-style configs."""
    ctx.ensure_object(dict)["log_level"] = log_level or "info"
    _configure_logging(ctx.obj["log_level"])


def _subcommand_log_level(ctx, log_level):
    if log_level:
        ctx.obj["log_level"] = log_level
        _configure_logging(log_level)


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--plugins", is_flag=True,
              help="Also list the code each config would import and run (found without importing it).")
@_log_level_option
@click.pass_context
def validate(ctx, configs, plugins, log_level):
    """Check config files against the schema, without loading models or plugins.

    Prints every problem, one line each, and exits 2 if there is any.
    """
    _subcommand_log_level(ctx, log_level)
    failed = False
    for path in configs:
        try:
            settings = load_config(path)
        except ConfigError as e:
            for line in e.problems:
                click.echo(line, err=True)
            failed = True
            continue
        click.echo(f"{path}: ok")
        if plugins:
            for line in _plugin_lines(settings, path):
                click.echo(line)
    ctx.exit(2 if failed else 0)


def _plugin_lines(settings, path: str) -> list[str]:
    """What ``potq run`` / ``eval`` of this config would import and run: a config is code."""
    engine = settings.engine
    if engine.simplified:
        return [f"{path}: engine: imports no plugin (engine.type simplified reads images with OpenCV)"]
    plugins = [("engine.data_loader", engine.data_loader, "data_loader_args"),
               ("engine.metric", engine.metric, "metric_args")]
    return [f"{path}: {key}: {describe_reference(reference, settings.config_dir)}(**{args})"
            for key, reference, args in plugins if reference]


def _pot_options(func):
    """POT's command-line flags (``pot -h`` of POT 2023.3), on ``potq run``."""
    options = [
        click.option("-c", "--config", "config_option", type=click.Path(dir_okay=False), default=None,
                     help="The config, as POT took it (the same as CONFIG)."),
        click.option("-q", "--quantize", type=click.Choice(["default", "accuracy_aware"]), default=None,
                     help="Without a config: POT's template for DefaultQuantization or AccuracyAwareQuantization."),
        click.option("-m", "--model", "model_path", default=None, help="With -q: the model's .xml."),
        click.option("-w", "--weights", default=None, help="With -q: the model's .bin (default: next to the .xml)."),
        click.option("-n", "--name", default=None, help="With -q: the model name (names the output files)."),
        click.option("--preset", type=click.Choice(["performance", "mixed"]), default=None, help="With -q."),
        click.option("--engine", type=click.Choice(["accuracy_checker", "simplified"]), default=None,
                     help="simplified: read the images of --data-source (with -c: replaces the config's engine)."),
        click.option("--engine-config", default=None,
                     help="With -q: a YAML/JSON file holding an engine block (data_loader, metric, ...).",
                     type=click.Path(dir_okay=False)),
        click.option("--ac-config", default=None, help="POT's Accuracy Checker config: not carried over."),
        click.option("--data-source", default=None, help="Images for --engine simplified."),
        click.option("--max-drop", type=float, default=None, help="With -q accuracy_aware: the maximal drop."),
        click.option("-e", "--evaluate", is_flag=True, help="Afterwards, print the Metric of the quantized model."),
        click.option("-d", "--direct-dump", is_flag=True,
                     help="With -c / -q: write to <output-dir>/optimized/ (no algorithm and time folders)."),
        click.option("--progress-bar", is_flag=True, help="Accepted as in POT (potq shows progress bars anyway)."),
        click.option("--stream-output", is_flag=True, help="Accepted as in POT."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "output", type=click.Path(file_okay=False), default=None,
              help="Where <model_name>.xml/.bin and report.json go (default: results/<model_name>/).")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="The same as -o; with -c / -q, POT's output folder (default ./results).")
@click.option("--keep-uncompressed-weights", is_flag=True,
              help="Keep weights in floating point behind their FakeQuantize instead of storing them as int8.")
@click.option("--min-cosine", type=click.FloatRange(-1, 1), default=None,
              help="Exit 3 if the INT8 outputs' cosine similarity to FP32 is below this (compression.output_check).")
@click.option("--min-sqnr-db", type=float, default=None,
              help="Exit 3 if the INT8 outputs' SQNR against FP32 is below this many dB.")
@click.option("--no-evaluation", is_flag=True,
              help="Do not measure the config's Metric on the FP32 and INT8 models after DefaultQuantization.")
@click.option("--stats-cache", type=click.Path(file_okay=False), default=None,
              help="Statistics cache folder (overrides compression.stats_cache): reruns that need the same "
                   "statistics on the same data skip collecting them.")
@click.option("--dry-run", is_flag=True,
              help="Only list what would be quantized, what is ignored and why, and the algorithms' steps: "
                   "no data is read, no plugin loaded, nothing written.")
@_cluster_options
@_json_option
@_no_progress_option
@_pot_options
@_log_level_option
@click.pass_context
def run(ctx, config, output, output_dir, keep_uncompressed_weights, min_cosine, min_sqnr_db, no_evaluation,
        stats_cache, dry_run, workers, cluster_address, as_json, no_progress, log_level, config_option, **pot):
    """Quantize the model a config describes and write the INT8 IR and report.json.

    POT's command line works too: -c CONFIG, or -q default|accuracy_aware -m MODEL.xml with an engine. Ends with a
    summary on stdout (the report's "summary"). Exit 0 on success, 3 if AccuracyAwareQuantization could not reach
    maximal_drop or the INT8-vs-FP32 output check missed a threshold (the model is still written and report.json
    says why).
    """
    _subcommand_log_level(ctx, log_level)
    set_progress(not no_progress)
    if config and config_option:
        raise ConfigError.at("potq run", "-c", "give the config once, as CONFIG or as -c CONFIG")
    if output and output_dir:
        raise ConfigError.at("potq run", "-o", "give either -o or --output-dir")
    flags = PotFlags(config=config or config_option, quantize=pot["quantize"], model=pot["model_path"],
                     weights=pot["weights"], name=pot["name"], preset=pot["preset"], engine=pot["engine"],
                     engine_config=pot["engine_config"], ac_config=pot["ac_config"], data_source=pot["data_source"],
                     max_drop=pot["max_drop"], evaluate=pot["evaluate"], direct_dump=pot["direct_dump"],
                     output_dir=output_dir, pot_style=bool(config_option or pot["quantize"]))
    settings = _with_cluster(with_output_thresholds(settings_from_flags(flags), min_cosine, min_sqnr_db), workers,
                             cluster_address)
    out_dir = Path(output) if output else pot_output_dir(settings, flags)
    from .pipeline import RunOptions, evaluate_config, plan_config, run_config  # OpenVINO loads only here

    if dry_run:
        plan = plan_config(settings, out_dir)
        _echo(json.dumps(plan, indent=2) if as_json else plan_text(plan))
        for problem in plan["problems"]:  # printed as main() prints them: config problems (exit 2) bare
            click.echo(problem["message"] if problem["exit_code"] == 2 else f"potq: error: {problem['message']}",
                       err=True)
        ctx.exit(max((problem["exit_code"] for problem in plan["problems"]), default=0))

    _note_threads_before_plugins()
    options = RunOptions(output_dir=out_dir, keep_uncompressed_weights=keep_uncompressed_weights,
                         evaluate=not no_evaluation, command_line=("potq", *ctx.obj["argv"]),
                         stats_cache=Path(stats_cache) if stats_cache else None)
    result = run_config(settings, options)
    summary = result.report["summary"]
    _echo(json.dumps(summary, indent=2) if as_json else run_summary_text(summary))
    if flags.evaluate:
        _print_metrics(evaluate_config(settings, result.files[f"{settings.model.name}.xml"]))
    ctx.exit(EXIT_TARGET_NOT_REACHED if result.status != "ok" else 0)


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "output_root", type=click.Path(file_okay=False), default=None,
              help="Write each config's results to DIR/<model_name>/ (default: each config's results/<model_name>/).")
@_cluster_options
@_json_option
@_no_progress_option
@_log_level_option
@click.pass_context
def batch(ctx, configs, output_root, workers, cluster_address, as_json, no_progress, log_level):
    """Quantize several configs, one after another, as potq run would: one line per config on stdout, then
    the batch's exit code: 0 if every config succeeded, else 1 if any failed at run time, else 2 if any was
    invalid, else 3 if any missed its accuracy or output-check target. With --workers / --cluster, all the
    configs share one cluster."""
    _subcommand_log_level(ctx, log_level)
    set_progress(not no_progress)
    from .pipeline import RunOptions, default_output_dir, run_config, shared_cluster

    _note_threads_before_plugins()
    rows, targets = [], {}
    _refuse_both_cluster_flags(workers, cluster_address)
    with shared_cluster(cluster_flags(workers, cluster_address), "potq batch") as cluster:
        for path in configs:
            started = time.perf_counter()
            try:
                settings = load_config(path)
                out_dir = Path(output_root) / settings.model.name if output_root else default_output_dir(settings)
                _refuse_shared_folder(targets, path, out_dir.resolve())
                options = RunOptions(output_dir=out_dir, command_line=("potq", *ctx.obj["argv"]), cluster=cluster)
                result = run_config(settings, options)
                row = {"config": path, "exit_code": 0 if result.status == "ok" else EXIT_TARGET_NOT_REACHED,
                       "status": result.status, "output_dir": str(out_dir)}
            except PotqError as e:
                row = {"config": path, "exit_code": e.exit_code, "status": "failed", "error": _one_line(e)}
            except Exception as e:  # a bug shows in this config's line; the batch goes on
                row = {"config": path, "exit_code": 1, "status": "failed",
                       "error": f"internal error: {type(e).__name__}: {shortened(' '.join(str(e).split()))}"}
            row["seconds"] = round(time.perf_counter() - started, 2)
            rows.append(row)
            if not as_json:
                _echo(_batch_line(row))
    if as_json:
        _echo(json.dumps(rows, indent=2))
    codes = {row["exit_code"] for row in rows}
    ctx.exit(next((code for code in (1, 2, EXIT_TARGET_NOT_REACHED) if code in codes), 0))


def _refuse_shared_folder(targets: dict, path: str, out_dir: Path) -> None:
    if out_dir in targets:
        raise ConfigError.at(path, "model.model_name", f"writes to {out_dir}, as {targets[out_dir]} does: give the "
                                                       f"configs different model_name values")
    targets[out_dir] = path


def _one_line(error: PotqError) -> str:
    return "; ".join(error.problems) if isinstance(error, ConfigError) else str(error)


def _batch_line(row: dict) -> str:
    if row["exit_code"] == 0:
        return f"{row['config']}: ok ({row['output_dir']}, {row['seconds']:.1f} s)"
    if row["status"] != "failed":
        return f"{row['config']}: exit {row['exit_code']}, {row['status'].replace('_', ' ')} ({row['output_dir']})"
    return f"{row['config']}: exit {row['exit_code']}: {row['error']}"


@cli.command(name="eval")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="IR (.xml) or ONNX model to evaluate instead of the config's model.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Also write the metrics as JSON to this file ('-': to stdout, the table then goes to stderr).")
@_cluster_options
@_json_option
@_no_progress_option
@_log_level_option
@click.pass_context
def eval_command(ctx, config, model_path, output, workers, cluster_address, as_json, no_progress, log_level):
    """Print the metric(s) of a model with the config's DataLoader and Metric."""
    _subcommand_log_level(ctx, log_level)
    set_progress(not no_progress)
    settings = _with_cluster(load_config(config), workers, cluster_address)
    from .output.files import write_file_atomically
    from .output.targets import replaceable
    from .pipeline import evaluate_config, refuse_overwriting_inputs

    _note_threads_before_plugins()

    model = Path(model_path) if model_path else None
    to_file = output is not None and output != "-"
    if to_file:  # refused before the evaluation, not after it
        refuse_overwriting_inputs(settings, [Path(output)], "-o/--output file", model)
        replaceable(Path(output), follow_links=True)
    result = evaluate_config(settings, model)
    text = json.dumps(result, indent=2) + "\n"
    if output == "-":  # the JSON goes to stdout, the table out of its way
        _echo(eval_summary_text(result), err=True)
        click.echo(text, nl=False)
    else:
        _echo(text.rstrip("\n") if as_json else eval_summary_text(result))
    if to_file:
        write_file_atomically(Path(output), text.encode())


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--device", default="CPU", show_default=True, help="Device whose runtime precisions are read.")
@_json_option
@_log_level_option
@click.pass_context
def inspect(ctx, model, device, as_json, log_level):
    """Look inside any IR (potq's, NNCF's, POT's, a plain FP32 one): FakeQuantize and what they feed, weights
    by stored type, compute operations left in floating point, and what the CPU plugin really runs in INT8."""
    _subcommand_log_level(ctx, log_level)
    from .pipeline import inspect_model

    result = inspect_model(Path(model), device)
    _echo(json.dumps(result, indent=2) if as_json else inspect_text(result))


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="Calibration data: a folder of images (simplified mode) or of .npy/.npz samples.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Config file to write (default: <model stem>.yaml in the working folder).")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@_log_level_option
@click.pass_context
def init(ctx, model, data, output, force, log_level):
    """Write a commented starter config for MODEL (and a DataLoader skeleton unless --data is an image
    folder) that potq validate accepts and potq run runs."""
    _subcommand_log_level(ctx, log_level)
    from .output.files import write_file_atomically
    from .starter import starter_files

    if data is not None and not Path(data).is_dir():
        raise ConfigError([f"{data}: --data must be a folder"])
    config_path = Path(output or f"{Path(model).stem}.yaml")
    files = starter_files(Path(model), Path(data) if data else None, config_path)
    existing = [path for path in files if path.exists()]
    if existing and not force:
        raise ConfigError([f"{path}: already exists; choose another --output or add --force" for path in existing])
    for path, text in files.items():
        write_file_atomically(path, text.encode())
    click.echo(f"wrote {', '.join(str(path) for path in files)}")
    click.echo(f"next: potq validate {config_path} && potq run {config_path} --dry-run && potq run {config_path}")


@cli.command()
@_log_level_option
@click.pass_context
def schema(ctx, log_level):
    """Print the config JSON Schema (for editors and CI)."""
    _subcommand_log_level(ctx, log_level)
    click.echo(config_schema_text(), nl=False)


def _echo(text: str, err: bool = False) -> None:
    """Print a table: file names that are not UTF-8 (held as surrogates) show as U+FFFD instead of failing."""
    click.echo(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), err=err)


def _print_metrics(evaluation: dict, to_stderr: bool = False) -> None:
    for name, value in evaluation["metrics"].items():
        click.echo(f"{name}: {value:.6g}", err=to_stderr)


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("potq: %(message)s" if level != "debug" else
                                           "potq: %(levelname)s %(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False
    logging.getLogger("potq.algorithms").setLevel("DEBUG" if level == "debug" else "WARNING")  # the summary says it
    if level == "debug":
        logging.root.removeFilter(_not_telemetry)
    else:
        logging.root.addFilter(_not_telemetry)  # added once: a logging filter is kept in a list without repeats


def _not_telemetry(record: logging.LogRecord) -> bool:
    """Drops the warnings the openvino_telemetry package logs through the root logger when it cannot write its
    consent file under HOME (``import openvino`` checks it): they are not about the user's run."""
    return "openvino_telemetry" not in Path(record.pathname).parts


INTERRUPTING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupted(signum, _frame):
    raise Interrupted(signum, signal.Signals(signum).name)


# The threads running when a command started loading plugins (OpenVINO's own telemetry sender among them);
# None for commands that load none, whose threads are all potq's and OpenVINO's.
_threads_before_plugins: set[threading.Thread] | None = None


def _note_threads_before_plugins() -> None:
    global _threads_before_plugins
    _threads_before_plugins = set(threading.enumerate())


def entry_point() -> None:
    """The ``potq`` program (console script and ``python -m potcli``): ``main``, then the exit, without
    waiting for threads that a plugin started and left running."""
    code = main()
    strays = [] if _threads_before_plugins is None else \
        [t.name for t in threading.enumerate() if not t.daemon and t not in _threads_before_plugins
         and t is not threading.main_thread()]
    if strays:
        log.warning("a plugin left %d thread%s running (%s); exiting without waiting for %s", len(strays),
                    "s" if len(strays) > 1 else "", ", ".join(strays), "them" if len(strays) > 1 else "it")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv=None) -> int:
    """Run the ``potq`` command line ``argv`` (default: sys.argv) and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in INTERRUPTING
                if signal.getsignal(sig) is not signal.SIG_IGN}  # nohup and background jobs keep ignoring them
    try:  # obj["argv"]: the command line that report.json records
        code = cli.main(args=args, prog_name="potq", standalone_mode=False, obj={"argv": tuple(args)})
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except click.exceptions.Abort:
        click.echo("potq: aborted", err=True)
        code = 130
    except ConfigError as e:
        _print_traceback_if_debug()
        for line in e.problems:
            click.echo(line, err=True)
        code = e.exit_code
    except PotqError as e:
        _print_traceback_if_debug()
        click.echo(f"potq: error: {e}", err=True)
        code = e.exit_code
    except Interrupted as e:
        click.echo(f"potq: {e}", err=True)
        code = e.exit_code
    except Exception as e:  # anything else is a bug in potq or a library: say so, in one line
        _print_traceback_if_debug()
        click.echo(f"potq: internal error: {type(e).__name__}: {shortened(' '.join(str(e).split()))} "
                   f"(rerun with --log-level debug for the traceback)", err=True)
        code = 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        set_progress(True)  # --no-progress is for this command only (main may run again in one process)
    return code or 0


def _print_traceback_if_debug() -> None:
    if log.isEnabledFor(logging.DEBUG):
        traceback.print_exc()
