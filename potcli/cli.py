"""The ``potq`` command. The only place where exceptions become exit codes.

0 success · 1 runtime failure · 2 bad usage or invalid config · 3 accuracy target not reached ·
130 / 143 interrupted by SIGINT / SIGTERM.
"""
import logging
import signal
import sys
import traceback

import click

from . import __version__
from .config import check_config_file
from .errors import ConfigError, Interrupted, PotqError
from .schema import config_schema_text

log = logging.getLogger("potq")
LOG_LEVELS = ("debug", "info", "warning", "error")


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
