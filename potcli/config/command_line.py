"""POT's command line (``pot -c CONFIG`` or ``pot -q default|accuracy_aware -m ... ``) turned into potq settings.

``potq run`` takes POT's flags: ``-c`` names a config as the positional CONFIG does; ``-q`` builds one from POT's
templates (preset performance, stat_subset_size 300, target_device ANY; maximal_drop from ``--max-drop``).
Combinations POT refused are refused with POT's meaning (exit 2), one line each. Paths given as flags are relative
to the working folder. POT's output layout applies when its command line is used: ``<output-dir>/optimized/``
with ``-d``, else ``<output-dir>/<model_name>_<algorithms>/<timestamp>/optimized/``.
"""
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import ConfigError, format_problem
from .files import read_config_file
from .not_carried import PREFIX
from .settings import RunConfig, settings_from_dict
from .validation import validated_with_defaults

SOURCE = "potq run"  # what messages about flags name
COMMAND_LINE = Path("command line")  # the "config file" of a -q run (relative paths: the working folder)
POT_OUTPUT_DIR = Path("results")  # POT's --output-dir default
TEMPLATES = {  # POT's configs/templates/{default,accuracy_aware}_quantization_template.json
    "default": {"name": "DefaultQuantization", "params": {"preset": "performance", "stat_subset_size": 300}},
    "accuracy_aware": {"name": "AccuracyAwareQuantization",
                       "params": {"preset": "performance", "stat_subset_size": 300, "maximal_drop": 0.01}},
}
SIMPLIFIED_KEYS = ("layout", "central_fraction", "device", "stat_requests_number", "workers",
                   "cluster")  # kept by --engine simplified
AC_FLAG = (f"{PREFIX}the Accuracy Checker engine; use --engine-config FILE (an engine block with data_loader and "
           f"metric plugins) or --engine simplified --data-source DIR instead")


@dataclass(frozen=True)
class PotFlags:
    """The POT-style options of ``potq run`` (None / False: not given)."""

    config: str | None = None  # -c/--config, or potq's positional CONFIG
    quantize: str | None = None  # -q: default | accuracy_aware
    model: str | None = None  # -m
    weights: str | None = None  # -w
    name: str | None = None  # -n
    preset: str | None = None
    engine: str | None = None  # --engine: simplified | accuracy_checker
    engine_config: str | None = None  # potq's --engine-config: a file holding an engine block
    ac_config: str | None = None
    data_source: str | None = None
    max_drop: float | None = None
    evaluate: bool = False  # -e
    direct_dump: bool = False  # -d
    output_dir: str | None = None  # POT's --output-dir (with -c / -q)
    pot_style: bool = False  # -c or -q was used: POT's output layout


_QUANTIZE_ONLY = {"model": "-m/--model", "weights": "-w/--weights", "name": "-n/--name", "preset": "--preset",
                  "max_drop": "--max-drop", "engine_config": "--engine-config"}


def flag_problems(flags: PotFlags) -> list[str]:
    """Combinations POT refused (and those potq cannot run), one line each."""
    problems = []
    if flags.ac_config is not None or flags.engine == "accuracy_checker":
        problems.append(format_problem(SOURCE, "--ac-config" if flags.ac_config else "--engine", AC_FLAG))
    if flags.quantize is None:
        if flags.config is None:
            problems.append(format_problem(SOURCE, "", "give a config (potq run CONFIG, or -c CONFIG as with "
                                                       "POT) or -q default|accuracy_aware with -m MODEL.xml"))
        problems += [format_problem(SOURCE, flag, f"applies only with -q; the config says it (POT: 'Either "
                                                  f"--config or {flag} option should be specified')")
                     for key, flag in _QUANTIZE_ONLY.items() if getattr(flags, key) is not None]
        return problems
    if flags.config is not None:
        problems.append(format_problem(SOURCE, "-q", "either a config or -q (POT: 'Either --config or --quantize "
                                                     "option should be specified')"))
    if flags.model is None:
        problems.append(format_problem(SOURCE, "-m/--model", "-q needs the model's .xml"))
    if flags.quantize == "accuracy_aware" and flags.max_drop is None:
        problems.append(format_problem(SOURCE, "--max-drop", "-q accuracy_aware needs --max-drop (the largest "
                                                             "accepted accuracy drop)"))
    if flags.quantize == "default" and flags.max_drop is not None:
        problems.append(format_problem(SOURCE, "--max-drop", "applies only with -q accuracy_aware"))
    problems += _engine_problems(flags)
    return problems


def _engine_problems(flags: PotFlags) -> list[str]:
    simplified = flags.engine == "simplified"
    if simplified and flags.engine_config is not None:
        return [format_problem(SOURCE, "--engine-config", "either --engine simplified or --engine-config")]
    if simplified and flags.data_source is None:
        return [format_problem(SOURCE, "--data-source", "--engine simplified needs --data-source DIR (POT: 'For "
                                                        "Simplified mode `--data-source` option should be "
                                                        "specified')")]
    if not simplified and flags.engine_config is None and flags.engine is None:
        return [format_problem(SOURCE, "--engine", "-q needs an engine: --engine simplified --data-source DIR, or "
                                                   "--engine-config FILE (POT's default engine, the Accuracy "
                                                   "Checker, is not part of potq)")]
    if simplified and (flags.quantize == "accuracy_aware" or flags.evaluate):
        what = "-q accuracy_aware" if flags.quantize == "accuracy_aware" else "-e/--evaluate"
        return [format_problem(SOURCE, what, "needs a Metric, and simplified mode has no annotations (POT: 'Can not "
                                             "make evaluation in simplified mode'): use --engine-config with a "
                                             "metric")]
    return []


def settings_from_flags(flags: PotFlags) -> RunConfig:
    """The run the flags describe: the config of ``-c`` (with POT's engine flags applied) or a ``-q`` template."""
    problems = flag_problems(flags)
    if problems:
        raise ConfigError(problems)
    if flags.quantize is None:
        path = Path(flags.config)
        raw = _with_engine_flags(read_config_file(path), flags, path)
        settings = settings_from_dict(validated_with_defaults(raw, str(path)), path)
    else:
        source = Path(flags.engine_config) if flags.engine_config else COMMAND_LINE
        settings = settings_from_dict(validated_with_defaults(_template(flags), str(source)), source)
    if flags.evaluate and settings.engine.metric is None:
        why = "simplified mode has no annotations (POT: 'Can not make evaluation in simplified mode')" \
            if settings.engine.simplified else "name one in engine.metric"
        raise ConfigError.at(SOURCE, "-e/--evaluate", f"needs a Metric: {why}")
    return settings


def _template(flags: PotFlags) -> dict:
    algorithm = {"name": TEMPLATES[flags.quantize]["name"], "params": dict(TEMPLATES[flags.quantize]["params"])}
    if flags.preset:
        algorithm["params"]["preset"] = flags.preset
    if flags.max_drop is not None:
        algorithm["params"]["maximal_drop"] = flags.max_drop
    model = {"model": _absolute(flags.model)}
    model.update({key: value for key, value in (("weights", _absolute(flags.weights)), ("model_name", flags.name))
                  if value})
    return {"model": model, "engine": _engine_block(flags),
            "compression": {"target_device": "ANY", "algorithms": [algorithm]}}


def _engine_block(flags: PotFlags) -> dict:
    if flags.engine_config is None:
        return {"type": "simplified", "data_source": _absolute(flags.data_source)}
    engine = read_config_file(Path(flags.engine_config))  # its relative paths: its own folder (the run's source)
    if flags.data_source is not None:
        engine = {**engine, "data_source": _absolute(flags.data_source)}
    return engine


def _with_engine_flags(config: dict, flags: PotFlags, path: Path) -> dict:
    """POT's ``--engine simplified`` / ``--data-source`` applied to a config read with ``-c``."""
    engine = config.get("engine") if isinstance(config.get("engine"), dict) else {}
    if flags.engine == "simplified":
        kept = {key: engine[key] for key in SIMPLIFIED_KEYS if key in engine}
        source = _absolute(flags.data_source) if flags.data_source else engine.get("data_source")
        return {**config, "engine": {"type": "simplified", **kept, **({"data_source": source} if source else {})}}
    if flags.data_source is not None:
        if engine.get("type") != "simplified" or "data_source" in engine:
            raise ConfigError.at(SOURCE, "--data-source", f"fills in engine.data_source of a simplified-mode config "
                                                          f"that has none; {path} has "
                                                          f"{'one' if 'data_source' in engine else 'no such engine'}")
        return {**config, "engine": {**engine, "data_source": _absolute(flags.data_source)}}
    return config


def _absolute(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None


def output_dir(settings: RunConfig, flags: PotFlags, now: datetime | None = None) -> Path | None:
    """Where the run writes. POT's command line wrote to ``<output-dir>/optimized`` with ``-d``, else to
    ``<output-dir>/<model_name>_<algorithms>/<timestamp>/optimized``; potq's own form writes to ``--output-dir``
    itself (None: potq's default)."""
    if not flags.pot_style:
        return Path(flags.output_dir) if flags.output_dir else None
    base = Path(flags.output_dir) if flags.output_dir else POT_OUTPUT_DIR
    if flags.direct_dump:
        return base / "optimized"
    folder = "_".join([settings.model.name] + [algorithm.name for algorithm in settings.compression.algorithms])
    return base / folder / (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S") / "optimized"
