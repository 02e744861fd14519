"""potq's exception hierarchy (and how messages are worded). ``cli.py`` is the only place these become exit codes."""


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


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; the exit code follows the shell convention 128 + signal number.

    A BaseException, like KeyboardInterrupt, so that the ``except Exception`` around user plugin calls does not
    turn it into a data or metric error.
    """

    def __init__(self, signum: int, name: str):
        super().__init__(f"interrupted by {name}; earlier outputs were left as they were")
        self.exit_code = 128 + signum


def format_problem(source: str, path: str, message: str) -> str:
    return f"{source}: {path}: {message}" if path else f"{source}: {message}"


def first_line(error: BaseException) -> str:
    """The informative first line of an OpenVINO exception (the rest is C++ source context)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Exception from", "Check '"))]
    return (meaningful or lines or [type(error).__name__])[0]
