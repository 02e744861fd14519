"""The config layer: read a file, validate it against the schema, fill defaults, build typed settings.

Everything a config can be checked for without the model or the plugins is checked here, so that
``potq validate`` and ``potq run`` refuse the same configs.
"""
from dataclasses import replace
from pathlib import Path

from .files import read_config_file
from .settings import ClusterSettings, RunConfig, settings_from_dict
from .validation import validated_with_defaults


def load_config(path: str | Path) -> RunConfig:
    """Read, validate and resolve a config file; raise ConfigError listing every problem."""
    path = Path(path)
    return settings_from_dict(validated_with_defaults(read_config_file(path), str(path)), path)


def with_output_thresholds(config: RunConfig, min_cosine: float | None, min_sqnr_db: float | None) -> RunConfig:
    """``config`` with the command line's thresholds for the output check (where given) over the config's."""
    check = config.compression.output_check
    check = replace(check, min_cosine=check.min_cosine if min_cosine is None else min_cosine,
                    min_sqnr_db=check.min_sqnr_db if min_sqnr_db is None else min_sqnr_db)
    return replace(config, compression=replace(config.compression, output_check=check))


def with_cluster(config: RunConfig, workers: int | None, address: str | None) -> RunConfig:
    """``config`` with the command line's ``--workers`` / ``--cluster`` (where given) over the config's."""
    if workers is None and address is None:
        return config
    resolved = {**config.resolved, "engine": {**config.resolved["engine"], "workers": workers, "cluster": address}}
    return replace(config, engine=replace(config.engine, cluster=cluster_flags(workers, address)), resolved=resolved)


def cluster_flags(workers: int | None, address: str | None) -> ClusterSettings:
    """``--workers`` / ``--cluster`` as settings (not enabled when neither is given)."""
    return ClusterSettings(workers, address, "--cluster" if address is not None else "--workers")
