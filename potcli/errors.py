"""potq's exception hierarchy (and how messages are worded). ``cli.py`` is the only place these become exit codes."""
from collections.abc import Callable
from contextlib import contextmanager


class PotqError(Exception):
    """A user-facing failure; ``str(e)`` is the whole message. Exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class ConfigError(PotqError):
    """The config (file or Python dict) is invalid. Carries every problem found, one line each."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    @classmethod
    def at(cls, source: str, path: str, message: str) -> "ConfigError":
        """One problem at a config path, formatted as ``SOURCE: path: message``."""
        return cls([format_problem(source, path, message)])


class ParamError(PotqError):
    """A problem with an algorithm's params found once the model or plugins are known.

    ``path`` is relative to the algorithm's ``params`` block (``ignored.scope[1]``); the code that runs the
    algorithm list adds where that block is (``compression.algorithms[0].params``) and turns it into a
    ConfigError, so leaf code never needs to know which file or list it came from.
    """

    exit_code = 2

    def __init__(self, path: str, message: str):
        self.problems = [(path, message)]
        super().__init__(f"{path}: {message}")

    @classmethod
    def several(cls, problems: list[tuple[str, str]]) -> "ParamError":
        error = cls(*problems[0])
        error.problems = list(problems)
        return error

    def located(self, source: str, prefix: str) -> ConfigError:
        return ConfigError([format_problem(source, f"{prefix}.{path}" if path else prefix, message)
                            for path, message in self.problems])


class PluginError(PotqError):
    """A user DataLoader or Metric could not be loaded, constructed, or has the wrong shape."""


class ModelError(PotqError):
    """The model cannot be read, compiled, or quantized as asked."""


class DataError(PotqError):
    """The DataLoader produced unusable samples (empty, wrong shape/dtype, NaN, raised)."""


class MetricError(PotqError):
    """The Metric raised or returned something that is not a finite number."""


class OutputError(PotqError):
    """Results could not be written; any earlier output in the folder is left as it was."""


class ClusterError(PotqError):
    """The cluster (``--workers`` / ``--cluster``) could not be started or reached, runs other versions, or its
    workers kept failing on a shard."""


class TargetError(PotqError):
    """An output path names something potq must not replace: a device, a FIFO, a folder, a symlink out of its
    folder. Refused before anything is written."""

    exit_code = 2


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived; the exit code follows the shell convention 128 + signal number.

    A BaseException, like KeyboardInterrupt, so that the code around user plugin calls lets it through instead of
    turning it into a data or metric error. ``detail`` says what happened to the outputs, where that is known.
    """

    def __init__(self, signum: int, name: str, detail: str | None = None):
        super().__init__(signum, name, detail)
        self.signum, self.name, self.detail = signum, name, detail
        self.exit_code = 128 + signum

    def __str__(self) -> str:
        return f"interrupted by {self.name}" + (f"; {self.detail}" if self.detail else "")

    def with_detail(self, detail: str) -> "Interrupted":
        """This interruption, saying ``detail`` unless it already says something."""
        return self if self.detail else Interrupted(self.signum, self.name, detail)


MAX_QUOTED = 200  # characters of a user's value (or exception text) quoted in a message


def format_problem(source: str, path: str, message: str) -> str:
    return f"{source}: {path}: {message}" if path else f"{source}: {message}"


def shortened(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out: a message stays one readable line."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def short_repr(value, limit: int = MAX_QUOTED) -> str:
    return shortened(repr(value), limit)


def is_interruption(error: BaseException) -> bool:
    """Signals (^C, SIGTERM): the only BaseExceptions from user code that are not the plugin's failure."""
    return isinstance(error, (KeyboardInterrupt, Interrupted))


@contextmanager
def user_code(failure: Callable[[str], PotqError]):
    """Call into a user's plugin: whatever it raises, SystemExit and GeneratorExit included, becomes
    ``failure(description)``, so a plugin can neither fake an exit code nor print a traceback. Signals pass."""
    try:
        yield
    except BaseException as e:
        if is_interruption(e):
            raise
        raise failure(describe_exception(e)) from e


def describe_exception(error: BaseException) -> str:
    """``Type: message`` of an exception raised by user code, one line, its length capped. SystemExit and
    other BaseExceptions say that a plugin must not end potq."""
    if isinstance(error, SystemExit):
        return f"SystemExit({short_repr(error.code)}): a plugin must not exit potq"
    text = " ".join(str(error).split())
    described = f"{type(error).__name__}: {shortened(text)}" if text else type(error).__name__
    return described if isinstance(error, Exception) else f"{described} (a plugin must not raise it)"


def first_line(error: BaseException) -> str:
    """The informative first line of an OpenVINO exception (the rest is C++ source context)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Exception from", "Check '"))]
    return (meaningful or lines or [type(error).__name__])[0]
