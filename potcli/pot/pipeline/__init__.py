"""``openvino.tools.pot.pipeline`` (import ``create_pipeline`` from ``.initializer``, as POT scripts did)."""
