"""POT's Python API. Replace ``openvino.tools.pot`` with ``potcli.pot`` in a POT script's imports (``potcli`` alone
also works for the names below); the module paths POT scripts import from are mirrored here: ``api``,
``engines.ie_engine``, ``graph``, ``graph.model_utils``, ``graph.nx_model``, ``pipeline.initializer``,
``utils.logger``."""
from .api import (CompressedModel, DataLoader, Engine, IEEngine, Metric, compress_model_weights, create_pipeline,
                  load_model, save_model)

__all__ = ["DataLoader", "Metric", "Engine", "IEEngine", "CompressedModel", "load_model", "save_model",
           "compress_model_weights", "create_pipeline"]
