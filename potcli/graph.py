"""Reading models and answering questions about an ov.Model graph: names, constants, consumers."""
import logging
from pathlib import Path

import numpy as np
import openvino as ov

from .errors import ModelError

log = logging.getLogger("potq")

# Ops through which a constant stays a constant (weights may be stored as f16 + Convert, or reshaped).
_FOLDABLE = {"Convert", "Reshape", "Unsqueeze", "Squeeze", "Transpose"}


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
        model = ov.Core().read_model(str(model_path), str(weights_path) if weights_path else None)
    except Exception as e:  # OpenVINO raises RuntimeError with multi-line C++ context
        reason = first_line(e)
        if weights_path and "weights" in reason.lower():
            raise ModelError(f"{weights_path}: does not match the model {model_path.name} ({reason})") from e
        raise ModelError(f"{model_path}: OpenVINO cannot read the model: {reason}") from e
    make_names_unique(model)
    return model


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


def first_line(error: BaseException) -> str:
    """The informative first line of an OpenVINO exception (the rest is C++ source context)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Exception from", "Check '"))]
    return (meaningful or lines or [type(error).__name__])[0]


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


def nodes_by_name(model: ov.Model) -> dict[str, ov.Node]:
    return {node.get_friendly_name(): node for node in model.get_ordered_ops()}


def constant_value(output: ov.Output) -> np.ndarray | None:
    """The value of ``output`` if it is a Constant, possibly behind Convert/Reshape/Squeeze/Unsqueeze/Transpose."""
    node = output.get_node()
    kind = node.get_type_name()
    if kind == "Constant":
        return node.get_data()
    if kind not in _FOLDABLE:
        return None
    inputs = [constant_value(node.input_value(i)) for i in range(node.get_input_size())]
    if any(value is None for value in inputs):
        return None
    data = inputs[0]
    shape = tuple(output.get_shape())
    if kind == "Convert":
        return data.astype(output.get_element_type().to_dtype())
    if kind == "Transpose":
        return np.transpose(data, inputs[1].astype(np.int64))
    return data.reshape(shape)  # Reshape / Squeeze / Unsqueeze: the output shape is static for constants


def is_constant(output: ov.Output) -> bool:
    return constant_value_is_foldable(output.get_node())


def constant_value_is_foldable(node: ov.Node) -> bool:
    kind = node.get_type_name()
    if kind == "Constant":
        return True
    return kind in _FOLDABLE and all(constant_value_is_foldable(node.input_value(i).get_node())
                                     for i in range(node.get_input_size()))


def consumers(output: ov.Output) -> list[ov.Input]:
    """Inputs reading ``output``, in a stable order (node name, port)."""
    return sorted(output.get_target_inputs(), key=lambda i: (i.get_node().get_friendly_name(), i.get_index()))


def port_name(output: ov.Output) -> str:
    """A stable name for a tensor: the producing node's name, plus ``:port`` for nodes with several outputs."""
    node = output.get_node()
    name = node.get_friendly_name()
    return name if node.get_output_size() == 1 else f"{name}:{output.get_index()}"
