"""``openvino.tools.pot.pipeline.initializer``: POT's create_pipeline."""
from ..api import create_pipeline

__all__ = ["create_pipeline"]
