"""POT's simplified mode: every image of a folder, a glob pattern or a .txt list, read with OpenCV, no annotations."""
import glob
import logging
from pathlib import Path

import cv2
import numpy as np
import openvino as ov

from ..errors import DataError, ModelError
from .contracts import DataLoader

log = logging.getLogger("potq")
LAYOUTS = ("NCHW", "NHWC", "CHW", "HWC")
IMAGE_CHANNELS = (1, 3)  # what OpenCV reads: grayscale, or BGR


class ImageFolderLoader(DataLoader):
    """Images resized to the model input, channels in OpenCV's BGR order (as POT did), raw 0..255 values."""

    def __init__(self, data_source: Path, model: ov.Model, layout: str | None = None,
                 central_fraction: float | None = None):
        super().__init__({"data_source": str(data_source)})
        if len(model.inputs) != 1:
            raise ModelError(f"engine.type simplified reads images for a model with one input; this model has "
                             f"{len(model.inputs)} ({', '.join(p.get_any_name() for p in model.inputs)}): "
                             f"use a data_loader plugin")
        self._files = image_files(Path(data_source))
        shape = model.inputs[0].get_partial_shape()
        self._layout = input_layout(model, layout)
        dims = dict(zip(self._layout, shape, strict=True))
        self._channels = dims["C"].get_length() if dims["C"].is_static else 3
        if self._channels not in IMAGE_CHANNELS:
            raise ModelError(f"engine.type simplified: input shape {shape} in layout {self._layout} has "
                             f"{self._channels} channels, and images have 1 (grayscale) or 3 (BGR): set "
                             f"engine.layout to the model's layout ({', '.join(LAYOUTS)}), or use a data_loader "
                             f"plugin")
        self._size = (dims["W"].get_length(), dims["H"].get_length()) \
            if dims["W"].is_static and dims["H"].is_static else None
        self._central_fraction = central_fraction

    def __len__(self):
        return len(self._files)

    def __getitem__(self, index):
        path = self._files[index]
        image = _decode(path, cv2.IMREAD_GRAYSCALE if self._channels == 1 else cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"{path}: OpenCV cannot read this image")
        if self._central_fraction is not None:
            image = central_crop(image, self._central_fraction)
        if self._size is not None and image.shape[1::-1] != self._size:
            image = cv2.resize(image, self._size)
        if image.ndim == 2:
            image = image[:, :, np.newaxis]
        hwc = image.astype(np.float32)
        array = hwc.transpose(2, 0, 1) if self._layout.endswith("CHW") else hwc
        return (array[np.newaxis] if self._layout.startswith("N") else array), None


def central_crop(image: np.ndarray, fraction: float) -> np.ndarray:
    """The central ``fraction`` of the image's height and width (at least one pixel each)."""
    height, width = image.shape[:2]
    new_height, new_width = max(1, int(height * fraction)), max(1, int(width * fraction))
    top, left = (height - new_height) // 2, (width - new_width) // 2
    return image[top:top + new_height, left:left + new_width]


def input_layout(model: ov.Model, given: str | None) -> str:
    """engine.layout, else the model's own layout, else a guess from the input shape (said in the log)."""
    shape = model.inputs[0].get_partial_shape()
    if shape.rank.is_dynamic or len(shape) not in (3, 4):
        raise ModelError(f"engine.type simplified: cannot read images into input shape {shape}: it needs a "
                         f"3-D or 4-D image input; use a data_loader plugin")
    if given:
        return given[1:] if len(given) == 4 and len(shape) == 3 else given  # POT dropped N for a 3-D input
    own = _model_layout(model)
    if own and len(own) == len(shape):
        return own
    guessed = _guessed_layout(shape)
    if guessed is None:
        raise ModelError(f"engine.type simplified: the model's input {shape} has no layout, and neither its "
                         f"second nor its last axis is 1 or 3 channels: set engine.layout "
                         f"({', '.join(LAYOUTS)})")
    log.info("engine.layout not given and the model has none: reading images as %s for input shape %s (the axis "
             "with 1 or 3 channels); set engine.layout if that is wrong", guessed, shape)
    return guessed


def _guessed_layout(shape: ov.PartialShape) -> str | None:
    """POT's guess: channels first where that axis is 1 or 3, else channels last where that one is."""
    first = 1 if len(shape) == 4 else 0
    if shape[first].is_static and shape[first].get_length() in IMAGE_CHANNELS:
        return "NCHW" if len(shape) == 4 else "CHW"
    if shape[len(shape) - 1].is_static and shape[len(shape) - 1].get_length() in IMAGE_CHANNELS:
        return "NHWC" if len(shape) == 4 else "HWC"
    return None


def image_files(source: Path) -> list[Path]:
    """The images of a folder (recursively), a glob pattern, or a .txt file listing one path per line
    (relative to the .txt file's folder), as POT's simplified mode read them."""
    if source.suffix.lower() == ".txt" and source.is_file():
        files = _listed_files(source)
    else:
        candidates = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else \
            sorted(Path(p) for p in glob.glob(str(source), recursive=True) if Path(p).is_file())
        files = [p for p in candidates if _is_image(p)]
    if not files:
        raise DataError(f"{source}: no images found (engine.data_source)")
    return files


def _decode(path: Path, flags: int) -> np.ndarray | None:
    """The image in ``path``, read by Python and decoded by OpenCV: cv2.imread crashes the process on a file
    name that is not UTF-8."""
    data = np.fromfile(path, np.uint8)
    return cv2.imdecode(data, flags) if data.size else None


def _is_image(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # a name OpenCV cannot be given: decode the file instead
        return _decode(path, cv2.IMREAD_UNCHANGED) is not None
    return cv2.haveImageReader(str(path))


def _listed_files(listing: Path) -> list[Path]:
    files = []
    for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        path = listing.parent / line.strip()
        if not path.is_file():
            raise DataError(f"{listing}:{number}: {line.strip()!r} is not a file (engine.data_source)")
        files.append(path)
    return files


def _model_layout(model: ov.Model) -> str | None:
    layout = model.inputs[0].get_node().get_layout()
    text = layout.to_string().strip("[]").replace(",", "") if not layout.empty else ""
    return text if set(text) <= set("NCHW") and "C" in text and text else None
