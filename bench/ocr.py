"""A real pretrained dense-prediction model for bench/: PP-OCRv4's text detector (a DBNet: CNN backbone, an FPN
that upsamples and concatenates, a transposed-convolution head with a per-pixel text probability map), whose ONNX
file ships inside the PyPI package rapidocr-onnxruntime, converted to an IR at a fixed 480x480 input; and
document pages rendered with OpenCV from bench/data/sentences.txt (PNG files in the cache) as its data.

    python bench/ocr.py          # fetches the wheel once (package registry), converts, prints a check
"""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("POTQ_BENCH_CACHE", Path.home() / ".cache" / "potq-bench"))
WHEEL = "rapidocr-onnxruntime==1.4.4"
DETECTOR = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
SIZE = 480
THRESHOLD = 0.3  # rapidocr's binarisation threshold of the probability map
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
         cv2.FONT_HERSHEY_PLAIN)


def detector_path(size: int = SIZE) -> Path:
    """The FP32 IR of the text detector at a fixed ``size`` x ``size`` input, made on first use."""
    path = CACHE / f"ppocrv4_det_{size}.xml"
    if not path.exists():
        import openvino as ov
        model = ov.Core().read_model(str(_onnx_file()))
        model.reshape({model.inputs[0]: [1, 3, size, size]})
        path.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, str(path), compress_to_fp16=False)
    return path


def _onnx_file() -> Path:
    onnx = CACHE / "ch_PP-OCRv4_det_infer.onnx"
    if not onnx.exists():
        wheels = CACHE / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), WHEEL],
                       check=True)
        wheel = next(wheels.glob("rapidocr_onnxruntime-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            onnx.write_bytes(archive.read(DETECTOR))
    return onnx


def page(index: int, size: int = SIZE) -> np.ndarray:
    """A BGR page of English text lines (fonts, sizes, ink and paper vary with ``index``), ``size`` x ``size``."""
    rng = np.random.default_rng(index)
    lines = (BENCH / "data" / "sentences.txt").read_text().splitlines()
    paper = int(rng.integers(215, 256))
    image = np.full((size, size, 3), paper, np.uint8)
    y = int(rng.integers(18, 40))
    while y < size - 10:
        font, scale = FONTS[int(rng.integers(len(FONTS)))], float(rng.uniform(0.45, 1.1))
        ink = tuple(int(c) for c in rng.integers(0, 90, 3))
        text = lines[int(rng.integers(len(lines)))]
        cv2.putText(image, text, (int(rng.integers(5, 60)), y), font, scale, ink, int(rng.integers(1, 3)),
                    cv2.LINE_AA)
        y += int(scale * 30 + rng.integers(8, 30))
    noise = rng.normal(0, 4, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def model_input(image: np.ndarray) -> np.ndarray:
    """rapidocr's preprocessing: (pixels / 255 - 0.5) / 0.5, NCHW."""
    return ((image.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis]


def page_file(index: int) -> Path:
    """``page(index)`` as a PNG file, rendered on first use: the loaders read images from disk as users' do."""
    path = CACHE / "pages" / f"{index}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.png")
        cv2.imwrite(str(partial), page(index))
        partial.replace(path)
    return path


class PageLoader:
    """A POT DataLoader over the page images ``start``..``start + count`` (no annotations); rendered before
    use, so that neither tool's time includes drawing the pages."""

    def __init__(self, start: int = 0, count: int = 128):
        self.start, self.count = start, count
        for index in range(start, start + count):
            page_file(index)

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index >= self.count:
            raise IndexError(index)
        return model_input(cv2.imread(str(page_file(self.start + index)))), None


def map_agreement(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Mean |p - p_fp32| of the probability maps and IoU of the maps thresholded at 0.3, over all pages."""
    union = np.logical_or(reference > THRESHOLD, other > THRESHOLD).sum()
    intersection = np.logical_and(reference > THRESHOLD, other > THRESHOLD).sum()
    return {"mean_abs_diff": float(np.mean(np.abs(reference - other))),
            "iou": float(intersection / union) if union else 1.0}


if __name__ == "__main__":
    import openvino as ov
    compiled = ov.Core().compile_model(str(detector_path()), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    maps = compiled.create_infer_request().infer({0: model_input(page(0))})[compiled.output(0)]
    cv2.imwrite(str(CACHE / "page0.png"), page(0))
    print(detector_path(), maps.shape, f"text pixels: {(maps > THRESHOLD).mean():.3f}")
