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
from .config.command_line import PotFlags, settings_from_flags
from .config.command_line import output_dir as pot_output_dir
from .config.schema import config_schema_text
from .errors import ConfigError, Interrupted, PotqError

log = logging.getLogger("potq")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
EXIT_ACCURACY_NOT_REACHED = 3


def _log_level_option(func):
    return click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
                        help="Verbosity (default info). debug also prints tracebacks.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="potq")
@_log_level_option
@click.pass_context
def cli(ctx, log_level):
    """Post-training INT8 quantization of OpenVINO models, driven by POT-style configs."""
    ctx.obj = {"log_level": log_level or "info"}
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
@_pot_options
@_log_level_option
@click.pass_context
def run(ctx, config, output, output_dir, keep_uncompressed_weights, log_level, config_option, **pot):
    """Quantize the model a config describes and write the INT8 IR and report.json.

    POT's command line works too: -c CONFIG, or -q default|accuracy_aware -m MODEL.xml with an engine. Exit 0 on
    success, 3 if AccuracyAwareQuantization could not reach maximal_drop (the best model found is still written).
    """
    _subcommand_log_level(ctx, log_level)
    if config and config_option:
        raise ConfigError.at("potq run", "-c", "give the config once, as CONFIG or as -c CONFIG")
    if output and output_dir:
        raise ConfigError.at("potq run", "-o", "give either -o or --output-dir")
    flags = PotFlags(config=config or config_option, quantize=pot["quantize"], model=pot["model_path"],
                     weights=pot["weights"], name=pot["name"], preset=pot["preset"], engine=pot["engine"],
                     engine_config=pot["engine_config"], ac_config=pot["ac_config"], data_source=pot["data_source"],
                     max_drop=pot["max_drop"], evaluate=pot["evaluate"], direct_dump=pot["direct_dump"],
                     output_dir=output_dir, pot_style=bool(config_option or pot["quantize"]))
    settings = settings_from_flags(flags)
    from .pipeline import evaluate_config, run_config  # OpenVINO loads only for the commands that run models

    result = run_config(settings, Path(output) if output else pot_output_dir(settings, flags),
                        keep_uncompressed_weights)
    if flags.evaluate:
        _print_metrics(evaluate_config(settings, result.files[f"{settings.model.name}.xml"]))
    ctx.exit(EXIT_ACCURACY_NOT_REACHED if result.status == "accuracy_target_not_reached" else 0)


@cli.command(name="eval")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="IR (.xml) or ONNX model to evaluate instead of the config's model.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the metrics as JSON to this file.")
@_log_level_option
@click.pass_context
def eval_command(ctx, config, model_path, output, log_level):
    """Print the metric(s) of a model with the config's DataLoader and Metric."""
    _subcommand_log_level(ctx, log_level)
    settings = load_config(config)
    from .output.files import write_file_atomically
    from .pipeline import evaluate_config

    metrics = evaluate_config(settings, Path(model_path) if model_path else None)
    _print_metrics(metrics)
    if output:
        write_file_atomically(Path(output), (json.dumps(metrics, indent=2) + "\n").encode())


@cli.command()
@_log_level_option
@click.pass_context
def schema(ctx, log_level):
    """Print the config JSON Schema (for editors and CI)."""
    _subcommand_log_level(ctx, log_level)
    click.echo(config_schema_text(), nl=False)


def _print_metrics(evaluation: dict) -> None:
    for name, value in evaluation["metrics"].items():
        click.echo(f"{name}: {value:.6g}")


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
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = cli.main(args=argv, prog_name="potq", standalone_mode=False)
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
    return code or 0


def _print_traceback_if_debug() -> None:
    if log.isEnabledFor(logging.DEBUG):
        traceback.print_exc()
