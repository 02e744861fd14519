"""How close the INT8 model's outputs stay to the FP32 model's, on a few samples: a cheap check after every run.

Per model output: the cosine similarity of each sample's INT8 and FP32 outputs (flattened; mean and worst over
the samples) and the signal-to-quantization-noise ratio over all of them, SQNR = 10 log10(sum r^2 / sum (r - q)^2)
in dB. A classifier that stays usable keeps cosine above 0.99 and SQNR above about 20 dB; a destroyed model
(0.1 cosine, a few dB) is caught before anyone deploys it.
"""
import math

import numpy as np
import openvino as ov

from .inference import F32, Engine

POOR_COSINE = 0.97  # below this (worst output, mean over samples) potq warns that the model may be unusable


def compare_outputs(engine: Engine, fp32: ov.Model, int8: ov.Model, samples: list[dict]) -> dict:
    """Cosine and SQNR of every output of ``int8`` against ``fp32`` over ``samples`` (model inputs)."""
    reference = _outputs(engine.compile(fp32, "FP32 model", F32), samples)
    quantized = _outputs(engine.compile(int8, "quantized model", F32), samples)
    per_output = {}
    for index, name in enumerate(_output_names(fp32)):
        pairs = [(ref[index].astype(np.float64).ravel(), got[index].astype(np.float64).ravel())
                 for ref, got in zip(reference, quantized, strict=True)]
        cosines = [_cosine(ref, got) for ref, got in pairs]
        signal = sum(float(np.sum(ref ** 2)) for ref, _ in pairs)
        noise = sum(float(np.sum((ref - got) ** 2)) for ref, got in pairs)
        per_output[name] = {"cosine_mean": round(float(np.mean(cosines)), 6),
                            "cosine_min": round(float(np.min(cosines)), 6),
                            "sqnr_db": round(_decibels(signal, noise), 3)}
    worst = min(per_output, key=lambda name: per_output[name]["cosine_mean"])
    return {"samples": len(samples), "outputs": per_output, "worst_output": worst,
            "cosine": per_output[worst]["cosine_mean"],
            "sqnr_db": min(row["sqnr_db"] for row in per_output.values())}


def _outputs(compiled: ov.CompiledModel, samples: list[dict]) -> list[list[np.ndarray]]:
    request = compiled.create_infer_request()
    results = []
    for inputs in samples:
        request.infer(inputs)
        results.append([np.copy(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))])
    return results


def _output_names(model: ov.Model) -> list[str]:
    return [output.get_any_name() if output.get_names() else f"output {i}" for i, output in enumerate(model.outputs)]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        return 1.0 if not np.any(a) and not np.any(b) else 0.0
    return float(np.dot(a, b)) / norms


def _decibels(signal: float, noise: float) -> float:
    if noise == 0.0:
        return 999.0  # identical outputs; JSON has no infinity
    return 10.0 * math.log10(max(signal, 1e-300) / noise)
