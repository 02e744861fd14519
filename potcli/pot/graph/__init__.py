"""``openvino.tools.pot.graph``: reading and writing models (the helpers on them are in ``.model_utils``)."""
from .model_utils import load_model, save_model

__all__ = ["load_model", "save_model"]
