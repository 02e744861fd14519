"""``openvino.tools.pot.engines.ie_engine``: POT's IEEngine."""
from ..api import IEEngine

__all__ = ["IEEngine"]
