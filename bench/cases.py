"""The models bench/ quantizes, each with its calibration data, held-out inputs and how closeness to FP32 is told.

- digits: samples/digits (a trained CNN, real images); top-1 on the 797 held-out images and SQNR of the logits.
- resnet_like, transformer_encoder, text_recognizer: bench/models.py (real topologies, random weights, seeded
  normal inputs); cosine and SQNR of the outputs.
- minilm: all-MiniLM-L6-v2 (bench/minilm.py, real pretrained weights and English sentences); cosine of the
  sentence embeddings.
- ocr_det: PP-OCRv4's text detector (bench/ocr.py, real pretrained weights, rendered pages); mean |p - p_fp32|
  of the probability map and IoU of the maps thresholded at 0.3.
"""
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openvino as ov

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DIGITS = REPO / "samples" / "digits"
sys.path.insert(0, str(BENCH))


@dataclass(frozen=True)
class Case:
    name: str
    fp32: Callable[[Path], Path]  # work folder -> FP32 IR
    calibration: Callable[[int], object]  # subset size -> POT DataLoader
    held_out: Callable[[], list]  # model inputs for closeness and latency
    closeness: Callable[[np.ndarray, np.ndarray, list], dict]  # FP32 outputs, INT8 outputs, held-out -> numbers
    subset: int = 300
    transformer: bool = False  # NNCF gets model_type=TRANSFORMER (potq detects it by itself)
    columns: tuple[str, ...] = field(default=("cosine", "sqnr_db"))


class SyntheticLoader:
    """Seeded normal samples generated per index, the same for both tools (and never all held in memory)."""

    def __init__(self, shape, size, seed=0):
        self.shape, self.size, self.seed = tuple(shape), size, seed

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index >= self.size:
            raise IndexError(index)
        return np.random.default_rng(self.seed + index).standard_normal(self.shape).astype(np.float32), None


def output_closeness(reference: np.ndarray, quantized: np.ndarray, _held_out=None) -> dict:
    flat_r, flat_q = reference.reshape(len(reference), -1), quantized.reshape(len(quantized), -1)
    cosine = np.sum(flat_r * flat_q, 1) / (np.linalg.norm(flat_r, axis=1) * np.linalg.norm(flat_q, axis=1))
    sqnr = 10 * np.log10(np.sum(flat_r ** 2) / np.sum((flat_r - flat_q) ** 2))
    return {"cosine": float(cosine.mean()), "cosine_min": float(cosine.min()), "sqnr_db": float(sqnr)}


def _built(name: str) -> Callable[[Path], Path]:
    def path(workdir: Path) -> Path:
        target = workdir / f"fp32_{name}.xml"
        if not target.exists():
            import models
            ov.save_model(getattr(models, name)(), str(target), compress_to_fp16=False)
        return target
    return path


def _synthetic(name: str) -> tuple[Callable, Callable]:
    def shape():
        import models
        return getattr(models, name)().inputs[0].get_shape()

    return (lambda size: SyntheticLoader(shape(), size),
            lambda: [SyntheticLoader(shape(), 32, seed=10_000)[i][0] for i in range(32)])


def _digits_loader(split: str):
    sys.path.insert(0, str(DIGITS))
    from plugins import ImageLoader
    return ImageLoader(str(DIGITS / "data" / split))


def _digits_closeness(reference, quantized, held_out) -> dict:
    labels = np.array([label for _, label in _digits_test_items()])
    top1 = float(np.mean(quantized.reshape(len(quantized), -1).argmax(1) == labels))
    return {"top1": top1, **output_closeness(reference, quantized)}


def _digits_test_items():
    loader = _digits_loader("test")
    return [loader[i] for i in range(len(loader))]


def _minilm_closeness(reference, quantized, _held_out) -> dict:
    import minilm
    cosine = minilm.cosine(reference.reshape(len(reference), -1), quantized.reshape(len(quantized), -1))
    return {"cosine": float(cosine.mean()), "cosine_min": float(cosine.min())}


def _ocr_closeness(reference, quantized, _held_out) -> dict:
    import ocr
    return ocr.map_agreement(reference, quantized)


def _minilm_case() -> Case:
    import minilm
    return Case("minilm", lambda workdir: minilm.ir_path(),
                lambda size: minilm.SentenceLoader(slice(0, size)),
                lambda: minilm.tokenized(minilm.sentences(minilm.EVALUATION)),
                _minilm_closeness, transformer=True, columns=("cosine", "cosine_min"))


def _ocr_case() -> Case:
    import ocr
    return Case("ocr_det", lambda workdir: ocr.detector_path(), lambda size: ocr.PageLoader(0, size),
                lambda: [ocr.PageLoader(1000, 40)[i][0] for i in range(40)], _ocr_closeness, subset=128,
                columns=("mean_abs_diff", "iou"))


def case(name: str) -> Case:
    if name == "digits":
        return Case("digits", lambda workdir: DIGITS / "model" / "digits.xml", lambda size: _digits_loader("calib"),
                    lambda: [x for x, _ in _digits_test_items()], _digits_closeness,
                    columns=("top1", "sqnr_db"))
    if name in ("resnet_like", "transformer_encoder", "text_recognizer"):
        calibration, held_out = _synthetic(name)
        return Case(name, _built(name), calibration, held_out, output_closeness,
                    transformer=name == "transformer_encoder")
    if name == "minilm":
        return _minilm_case()
    if name == "ocr_det":
        return _ocr_case()
    raise KeyError(name)


CASES = ("digits", "resnet_like", "transformer_encoder", "text_recognizer", "minilm", "ocr_det")


def outputs(compiled: ov.CompiledModel, inputs: list) -> np.ndarray:
    """The first output of ``compiled`` for each input, stacked."""
    request = compiled.create_infer_request()
    return np.stack([request.infer(x if isinstance(x, dict) else {0: x})[compiled.output(0)] for x in inputs])
