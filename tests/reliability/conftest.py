from pathlib import Path

import pytest
import yaml

from .. import models

PLUGINS = Path(__file__).resolve().parent / "plugins.py"


@pytest.fixture
def make_config(tmp_path):
    """Write a tiny model and a config that quantizes it with tests/reliability/plugins.py; return its path."""
    def make(model=None, loader_args=None, params=None, metric=None, algorithm="DefaultQuantization", name="c.yaml"):
        models.save(model or models.conv_relu(), tmp_path / "model.xml")
        engine = {"data_loader": f"{PLUGINS}:ArrayLoader", "data_loader_args": loader_args or {}}
        if metric:
            engine.update(metric=f"{PLUGINS}:BadMetric", metric_args={"mode": metric})
        config = {"model": {"model_name": "m", "model": "model.xml"}, "engine": engine,
                  "compression": {"algorithms": [{"name": algorithm, "params": params or {}}]}}
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config))
        return path
    return make


def assert_one_clean_error(result, code: int, *parts: str) -> None:
    """Exit ``code``, one ``potq: error:`` line naming every part, no traceback."""
    assert result.exit_code == code, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr, result
    for part in parts:
        assert part in lines[0], result.stderr
