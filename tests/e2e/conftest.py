import pytest
import yaml

from .. import models
from ..conftest import REPO, write_text

AAQ_PLUGINS = REPO / "tests" / "aaq_plugins.py"


@pytest.fixture
def tiny_config(tmp_path):
    """Write conv_relu (or ``model``) and a config quantizing it on ``count`` seeded samples annotated with the
    FP32 outputs (tests/aaq_plugins.py), with ``metric`` if given; return the config's path."""
    def make(metric=None, count=16, params=None, algorithm="DefaultQuantization", model=None, name="c.yaml",
             compression=None):
        path = models.save(model or models.conv_relu(), tmp_path / "model.xml")
        engine = {"data_loader": f"{AAQ_PLUGINS}:ReferenceLoader",
                  "data_loader_args": {"model_path": path, "count": count}}
        if metric:
            engine["metric"] = f"{AAQ_PLUGINS}:{metric}"
        config = {"model": {"model_name": "m", "model": "model.xml"}, "engine": engine,
                  "compression": {**(compression or {}), "algorithms": [{"name": algorithm, "params": params or {}}]}}
        return write_text(tmp_path / name, yaml.safe_dump(config))
    return make
