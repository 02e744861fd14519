"""``openvino.tools.pot.utils`` (the logger helpers are in ``.logger``, as in POT)."""
