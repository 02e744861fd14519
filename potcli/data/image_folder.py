"""POT's simplified mode: every image of a folder (or glob pattern), read with OpenCV, no annotations."""
import glob
from pathlib import Path

import cv2
import numpy as np
import openvino as ov

from ..errors import DataError, ModelError
from .contracts import DataLoader

LAYOUT_BY_RANK = {4: "NCHW", 3: "CHW"}


class ImageFolderLoader(DataLoader):
    """Images resized to the model input, channels in OpenCV's BGR order (as POT did), raw 0..255 values."""

    def __init__(self, data_source: Path, model: ov.Model, layout: str | None = None):
        super().__init__({"data_source": str(data_source)})
        if len(model.inputs) != 1:
            raise ModelError(f"engine.type simplified reads images for a model with one input; this model has "
                             f"{len(model.inputs)} ({', '.join(p.get_any_name() for p in model.inputs)}): "
                             f"use a data_loader plugin")
        self._files = image_files(Path(data_source))
        shape = model.inputs[0].get_partial_shape()
        self._layout = layout or _model_layout(model) or LAYOUT_BY_RANK.get(len(shape) if shape.rank.is_static else 0)
        if self._layout is None or shape.rank.is_dynamic or len(shape) != len(self._layout):
            raise ModelError(f"engine.type simplified: cannot read images into input shape {shape}; "
                             f"set engine.layout (NCHW, NHWC, CHW or HWC)")
        dims = dict(zip(self._layout, shape, strict=True))
        self._channels = dims["C"].get_length() if dims["C"].is_static else 3
        self._size = (dims["W"].get_length(), dims["H"].get_length()) \
            if dims["W"].is_static and dims["H"].is_static else None

    def __len__(self):
        return len(self._files)

    def __getitem__(self, index):
        path = self._files[index]
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if self._channels == 1 else cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"{path}: OpenCV cannot read this image")
        if self._size is not None and image.shape[1::-1] != self._size:
            image = cv2.resize(image, self._size)
        if image.ndim == 2:
            image = image[:, :, np.newaxis]
        hwc = image.astype(np.float32)
        array = hwc.transpose(2, 0, 1) if self._layout.endswith("CHW") else hwc
        return (array[np.newaxis] if self._layout.startswith("N") else array), None


def image_files(source: Path) -> list[Path]:
    if source.is_dir():
        candidates = sorted(p for p in source.rglob("*") if p.is_file())
    else:
        candidates = sorted(Path(p) for p in glob.glob(str(source), recursive=True) if Path(p).is_file())
    files = [p for p in candidates if cv2.haveImageReader(str(p))]
    if not files:
        raise DataError(f"{source}: no images found (engine.data_source)")
    return files


def _model_layout(model: ov.Model) -> str | None:
    layout = model.inputs[0].get_node().get_layout()
    text = layout.to_string().strip("[]").replace(",", "") if not layout.empty else ""
    return text if set(text) <= set("NCHW") and "C" in text and text else None
