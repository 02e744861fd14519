"""``openvino.tools.pot.graph.model_utils``: the helpers POT scripts call on a CompressedModel.

Nodes are OpenVINO ``ov.Node`` objects (``get_friendly_name()``, ``get_type_name()``), not Model Optimizer nodes.
"""
import openvino as ov

from ..api import CompressedModel, compress_model_weights, load_model, save_model

__all__ = ["load_model", "save_model", "compress_model_weights", "get_nodes_by_type", "get_node_by_name",
           "get_all_operation_nodes", "add_outputs"]


def get_nodes_by_type(model: CompressedModel, types: list, recursively: bool = True) -> list[ov.Node]:
    """The operations of ``model`` whose type is in ``types`` (``recursively`` is accepted as in POT)."""
    return [node for node in get_all_operation_nodes(model) if node.get_type_name() in types]


def get_node_by_name(model: CompressedModel, name: str) -> ov.Node | None:
    """The operation named ``name``, or None; RuntimeError if several have that name (as in POT)."""
    found = [node for node in get_all_operation_nodes(model) if node.get_friendly_name() == name]
    if len(found) > 1:
        raise RuntimeError(f"The model contains more than one node with the name {name}")
    return found[0] if found else None


def get_all_operation_nodes(model: CompressedModel, recursively: bool = True) -> list[ov.Node]:
    """Every operation of ``model``, in topological order."""
    return [node for entry in model.models for node in entry["model"].get_ordered_ops()]


def add_outputs(models: list[dict], node_names) -> dict[str, list]:
    """Make the named operations (or tensors) outputs of each ``{"model": ov.Model}`` of ``models``;
    ``node_names`` is a list of names, or POT's ``{model friendly name: {key: name}}``. Returns the new outputs
    per model name."""
    added = {}
    for entry in models:
        model = entry["model"]
        names = node_names.get(model.get_friendly_name(), {}) if isinstance(node_names, dict) else node_names
        nodes = {node.get_friendly_name(): node for node in model.get_ordered_ops()}
        wanted = names.values() if isinstance(names, dict) else names
        added[model.get_friendly_name()] = model.add_outputs([nodes[name].output(0) if name in nodes else name
                                                              for name in wanted])
    return added
