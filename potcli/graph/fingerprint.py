"""A fingerprint of what a model computes, for the statistics cache: two models with the same fingerprint give
the same statistics on the same data.

It covers every operation's type and version, attributes, output types and shapes, how the operations are
connected, and the bytes of every constant. Names count too (statistics are keyed by tensor names), except
those of Constants and Results: OpenVINO numbers unnamed nodes with a per-process counter, so the same model
built twice would otherwise differ.
"""
import hashlib
import json

import numpy as np
import openvino as ov

UNNAMED = ("Constant", "Result")


def model_fingerprint(model: ov.Model) -> str:
    digest = hashlib.sha256()
    position: dict[int, int] = {}
    for index, node in enumerate(model.get_ordered_ops()):
        position[node.get_instance_id()] = index
        kind = node.get_type_name()
        inputs = [(position[value.get_node().get_instance_id()], value.get_index())
                  for value in (node.input_value(i) for i in range(node.get_input_size()))]
        outputs = [(out.get_element_type().get_type_name(), str(out.get_partial_shape())) for out in node.outputs()]
        digest.update(json.dumps([kind, node.get_type_info().version_id, None if kind in UNNAMED else
                                  node.get_friendly_name(), {k: str(v) for k, v in node.get_attributes().items()},
                                  inputs, outputs]).encode())
        if kind == "Constant":
            digest.update(np.ascontiguousarray(node.get_data()).reshape(-1).view(np.uint8))
    return digest.hexdigest()
