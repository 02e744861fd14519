"""``openvino.tools.pot.engines`` (import ``IEEngine`` from ``.ie_engine``, as POT scripts did)."""
