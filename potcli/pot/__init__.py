"""POT's Python API, the names ``openvino.tools.pot`` exported; only the import line of a POT script changes."""
from ..data.contracts import DataLoader, Metric
from .api import IEEngine, compress_model_weights, create_pipeline, load_model, save_model

__all__ = ["DataLoader", "Metric", "IEEngine", "load_model", "save_model", "compress_model_weights",
           "create_pipeline"]
