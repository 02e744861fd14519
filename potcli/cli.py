"""The ``potq`` command. The only place where exceptions become exit codes.

0 success · 1 runtime failure · 2 bad usage or invalid config · 3 accuracy target not reached ·
130 / 143 interrupted by SIGINT / SIGTERM.
"""
import json
import logging
import signal
import sys
import traceback
from pathlib import Path

import click

from .version import __version__
from .config import check_config_file, load_config
from .config.schema import config_schema_text
from .errors import ConfigError, Interrupted, PotqError
from .output.inspection_text import inspect_text
from .output.plan_text import plan_text
from .output.summary import eval_summary_text, run_summary_text
from .progress import set_enabled as set_progress

log = logging.getLogger("potq")
LOG_LEVELS = ("debug", "info", "warning", "error")
EXIT_ACCURACY_NOT_REACHED = 3


def _json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (for CI).")(func)


def _no_progress_option(func):
    return click.option("--no-progress", is_flag=True,
                        help="No progress bars (on a terminal) or progress lines (in logs) on stderr.")(func)


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
@_log_level_option
@click.pass_context
def validate(ctx, configs, log_level):
    """Check config files against the schema, without loading models or plugins.

    Prints every problem, one line each, and exits 2 if there is any.
    """
    _subcommand_log_level(ctx, log_level)
    failed = False
    for path in configs:
        problems = check_config_file(path)
        for line in problems:
            click.echo(line, err=True)
        if problems:
            failed = True
        else:
            click.echo(f"{path}: ok")
    ctx.exit(2 if failed else 0)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None,
              help="Where <model_name>.xml/.bin and report.json go (default: results/<model_name>/).")
@click.option("--keep-uncompressed-weights", is_flag=True,
              help="Keep weights in floating point behind their FakeQuantize instead of storing them as int8.")
@click.option("--no-evaluation", is_flag=True,
              help="Do not measure the config's Metric on the FP32 and INT8 models after DefaultQuantization.")
@click.option("--stats-cache", type=click.Path(file_okay=False), default=None,
              help="Statistics cache folder (overrides compression.stats_cache): reruns that need the same "
                   "statistics on the same data skip collecting them.")
@click.option("--dry-run", is_flag=True,
              help="Only list what would be quantized, what is ignored and why, and the algorithms' steps: "
                   "no data is read, no plugin loaded, nothing written.")
@_json_option
@_no_progress_option
@_log_level_option
@click.pass_context
def run(ctx, config, output_dir, keep_uncompressed_weights, no_evaluation, stats_cache, dry_run, as_json, no_progress,
        log_level):
    """Quantize the model a config describes and write the INT8 IR and report.json.

    Ends with a summary on stdout (the report's "summary"). Exit 0 on success, 3 if AccuracyAwareQuantization
    could not reach maximal_drop (the best model found is still written).
    """
    _subcommand_log_level(ctx, log_level)
    set_progress(not no_progress)
    settings = load_config(config)
    from .pipeline import RunOptions, plan_config, run_config  # OpenVINO loads only for the commands that run models

    if dry_run:
        plan = plan_config(settings, Path(output_dir) if output_dir else None)
        click.echo(json.dumps(plan, indent=2) if as_json else plan_text(plan))
        for problem in plan["problems"]:  # printed as main() prints them: config problems (exit 2) bare
            click.echo(problem["message"] if problem["exit_code"] == 2 else f"potq: error: {problem['message']}",
                       err=True)
        ctx.exit(max((problem["exit_code"] for problem in plan["problems"]), default=0))

    options = RunOptions(output_dir=Path(output_dir) if output_dir else None,
                         keep_uncompressed_weights=keep_uncompressed_weights, evaluate=not no_evaluation,
                         command_line=("potq", *ctx.obj["argv"]),
                         stats_cache=Path(stats_cache) if stats_cache else None)
    result = run_config(settings, options)
    summary = result.report["summary"]
    click.echo(json.dumps(summary, indent=2) if as_json else run_summary_text(summary))
    ctx.exit(EXIT_ACCURACY_NOT_REACHED if result.status == "accuracy_target_not_reached" else 0)


@cli.command(name="eval")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="IR (.xml) or ONNX model to evaluate instead of the config's model.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the metrics as JSON to this file.")
@_json_option
@_no_progress_option
@_log_level_option
@click.pass_context
def eval_command(ctx, config, model_path, output, as_json, no_progress, log_level):
    """Print the metric(s) of a model with the config's DataLoader and Metric."""
    _subcommand_log_level(ctx, log_level)
    set_progress(not no_progress)
    settings = load_config(config)
    from .output.files import write_file_atomically
    from .pipeline import evaluate_config

    result = evaluate_config(settings, Path(model_path) if model_path else None)
    click.echo(json.dumps(result, indent=2) if as_json else eval_summary_text(result))
    if output:
        write_file_atomically(Path(output), (json.dumps(result, indent=2) + "\n").encode())


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
    click.echo(json.dumps(result, indent=2) if as_json else inspect_text(result))


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


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("potq: %(message)s" if level != "debug" else
                                           "potq: %(levelname)s %(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


def _raise_interrupted(signum, _frame):
    raise Interrupted(signum, signal.Signals(signum).name)


def main(argv=None) -> int:
    """Entry point of the ``potq`` console script and ``python -m potcli``."""
    args = list(sys.argv[1:] if argv is None else argv)
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
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
        click.echo(f"potq: internal error: {type(e).__name__}: {e} "
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
