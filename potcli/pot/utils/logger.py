"""``openvino.tools.pot.utils.logger``: ``init_logger`` shows potq's messages, ``get_logger`` gives a script a
logger whose messages go the same way (children of the "potq" logger)."""
import logging
import sys

__all__ = ["init_logger", "get_logger"]

_ROOT = logging.getLogger("potq")
_initialized = False


def init_logger(level="INFO", stream=sys.stdout, file_name=None, progress_bar=False) -> None:
    """Show messages from ``level`` up on ``stream`` (and in ``file_name``), in POT's format. As in POT, only the
    first call takes effect; ``progress_bar`` is accepted and has no effect (potq shows progress bars on a
    terminal anyway)."""
    global _initialized
    if _initialized:
        return
    _initialized = True
    _ROOT.setLevel(level.upper() if isinstance(level, str) else level)
    handlers = [logging.StreamHandler(stream)] + ([logging.FileHandler(file_name)] if file_name else [])
    for handler in handlers:
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        _ROOT.addHandler(handler)


def get_logger(name: str | None) -> logging.Logger:
    """A logger for a script or module, shown with potq's messages once ``init_logger`` ran."""
    return _ROOT.getChild(name) if name else _ROOT
