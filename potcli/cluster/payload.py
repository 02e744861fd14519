"""The model as it travels to workers: IR bytes (.xml and .bin, written losslessly), keyed by their hash."""
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openvino as ov

from ..errors import ModelError, first_line


@dataclass(frozen=True)
class ModelPayload:
    key: str  # SHA-256 of xml and bin: a worker compiles each model once
    xml: bytes
    weights: bytes


def model_payload(model: ov.Model) -> ModelPayload:
    with tempfile.TemporaryDirectory(prefix="potq-cluster-") as folder:
        xml = Path(folder) / "model.xml"
        try:
            ov.save_model(model, xml, compress_to_fp16=False)  # no f16 weights: the same numbers as here
        except Exception as e:
            raise ModelError(f"the model cannot be written to send it to the cluster: {first_line(e)}") from e
        data, weights = xml.read_bytes(), xml.with_suffix(".bin").read_bytes()
    return ModelPayload(hashlib.sha256(data + b"\0" + weights).hexdigest(), data, weights)


def read_payload(core: ov.Core, payload: ModelPayload) -> ov.Model:
    try:
        return core.read_model(model=payload.xml, weights=ov.Tensor(np.frombuffer(payload.weights, np.uint8)))
    except Exception as e:
        raise ModelError(f"the model sent by the main process cannot be read here: {first_line(e)}") from e
