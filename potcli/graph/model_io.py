"""Reading a model from disk (IR or ONNX), with one-line errors that name the file."""
import logging
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import openvino as ov

from ..errors import ModelError, first_line

log = logging.getLogger("potq")


def weights_file(model_path: Path, weights_path: Path | None = None) -> Path | None:
    """The weights an IR is read with (the .bin next to the .xml unless given); None for ONNX."""
    if Path(model_path).suffix.lower() != ".xml":
        return None
    return Path(weights_path) if weights_path else Path(model_path).with_suffix(".bin")


def read_model(model_path: Path, weights_path: Path | None = None) -> ov.Model:
    """Read an IR (.xml + .bin) or ONNX model; ModelError with the file name on any failure."""
    model_path = Path(model_path)
    _check_file(model_path, "model")
    weights_path = weights_file(model_path, weights_path)
    if weights_path is not None:
        _check_file(weights_path, "weights")
    try:
        with _native_stderr_to_debug_log():
            model = ov.Core().read_model(str(model_path), str(weights_path) if weights_path else None)
    except Exception as e:  # OpenVINO raises RuntimeError with multi-line C++ context
        reason = first_line(e)
        if weights_path and "weights" in reason.lower():
            raise ModelError(f"{weights_path}: does not match the model {model_path.name} ({reason})") from e
        raise ModelError(f"{model_path}: OpenVINO cannot read the model: {reason}") from e
    make_names_unique(model)
    return model


@contextmanager
def _native_stderr_to_debug_log():
    """OpenVINO tries every frontend on a file its own cannot read, and some (TensorFlow's text parser) print
    to the process's stderr from C++: keep that out of potq's one-line errors; it goes to the debug log."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            printed = captured.read().decode(errors="replace").strip()
            if printed:
                log.debug("OpenVINO printed while reading the model:\n%s", printed)


def _check_file(path: Path, role: str) -> None:
    if not path.exists():
        raise ModelError(f"{path}: {role} file not found")
    if not path.is_file():
        raise ModelError(f"{path}: {role} path is not a file")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise ModelError(f"{path}: cannot open {role} file: {e.strerror}") from e


def make_names_unique(model: ov.Model) -> None:
    """Give duplicate friendly names a ``#N`` suffix so that nodes can be named in configs and reports."""
    seen: dict[str, int] = {}
    for node in model.get_ordered_ops():
        name = node.get_friendly_name()
        if name in seen:
            seen[name] += 1
            node.set_friendly_name(f"{name}#{seen[name]}")
            log.debug("renamed duplicate node name %r to %r", name, node.get_friendly_name())
        else:
            seen[name] = 0
