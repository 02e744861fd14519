"""``openvino.tools.pot.graph.nx_model``: POT's CompressedModel (an OpenVINO ov.Model here, not a NetworkX graph)."""
from ..api import CompressedModel

__all__ = ["CompressedModel"]
