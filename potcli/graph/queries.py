"""Questions about an ov.Model graph: nodes and tensors by name, constant values, consumers."""
import numpy as np
import openvino as ov

# Ops through which a constant stays a constant (weights may be stored as f16 + Convert, or reshaped).
_FOLDABLE = {"Convert", "Reshape", "Unsqueeze", "Squeeze", "Transpose"}
# The operations INT8 is about: what the CPU plugin runs as INT8 kernels when their inputs are quantized.
COMPUTE_TYPES = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul")


def nodes_by_name(model: ov.Model) -> dict[str, ov.Node]:
    return {node.get_friendly_name(): node for node in model.get_ordered_ops()}


def count_operations(model: ov.Model, type_name: str) -> int:
    return sum(node.get_type_name() == type_name for node in model.get_ordered_ops())


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


def dims(output: ov.Output) -> tuple[int, ...]:
    """The shape of a tensor of static rank, -1 for each dynamic dimension."""
    return tuple(d.get_length() if d.is_static else -1 for d in output.get_partial_shape())


def tensors_by_name(model: ov.Model) -> dict[str, ov.Output]:
    """Every tensor of ``model`` by its ``port_name``."""
    return {port_name(out): out for node in model.get_ordered_ops() for out in node.outputs()}


def compute_operations(model: ov.Model) -> list[str]:
    """Names of the model's compute operations (COMPUTE_TYPES), in graph order."""
    return [node.get_friendly_name() for node in model.get_ordered_ops() if node.get_type_name() in COMPUTE_TYPES]
