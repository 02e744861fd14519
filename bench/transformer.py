"""Transformer handling, potq against NNCF, on a real pretrained transformer (all-MiniLM-L6-v2, bench/minilm.py).

    python bench/transformer.py                    # about 10 minutes on 2 cores
    python bench/transformer.py --repeats 1 --models transformer_encoder

Each variant quantizes the same model on the same sentences in its own process; the table gives quantization
time, the cosine of its sentence embeddings with FP32's on held-out sentences, and INT8 latency at the
runtime's default precision, with ratios against NNCF's model_type=TRANSFORMER (what NNCF's users are told
to run on a transformer).
"""
import argparse
import sys
import tempfile
from pathlib import Path

import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import case, outputs  # noqa: E402
from harness import compile_for, heading, latencies_ms, machine_line, markdown_table  # noqa: E402
from quantize import quantize_in_worker  # noqa: E402

BASELINE = "NNCF model_type=TRANSFORMER"
VARIANTS = {
    "potq defaults (finds attention: transformer handling + SmoothQuant)": ("potq", {}),
    "potq transformer handling, smooth_quant: false": ("potq", {"smooth_quant": False}),
    "potq model_type: null (POT's plain handling)": ("potq", {"model_type": None}),
    "NNCF defaults": ("nncf", {}),
    BASELINE: ("nncf", {"model_type": "transformer"}),
}


def bench_model(name: str, workdir: Path, repeats: int, iterations: int) -> list[list]:
    bench_case = case(name)
    fp32 = bench_case.fp32(workdir)
    held_out = bench_case.held_out()
    core = ov.Core()
    reference = outputs(core.compile_model(str(fp32), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}), held_out)
    measured = {}
    for index, (label, (tool, options)) in enumerate(VARIANTS.items()):
        run = quantize_in_worker(tool, name, bench_case.subset, fp32, workdir / f"{name}_{index}.xml", options,
                                 repeats)
        quantized = outputs(core.compile_model(run["path"], "CPU", {"INFERENCE_PRECISION_HINT": "f32"}), held_out)
        measured[label] = {**run, **bench_case.closeness(reference, quantized, held_out)}
        print(f"  {name}: {label}: {run['seconds']:.1f} s", file=sys.stderr, flush=True)
    sample = held_out[0] if isinstance(held_out[0], dict) else {0: held_out[0]}
    latency = latencies_ms({label: compile_for(core, run["path"], "LATENCY") for label, run in measured.items()},
                           dict.fromkeys(measured, sample), iterations)
    base = measured[BASELINE]
    return [[name, label, run["seconds"], run["seconds"] / base["seconds"], run["cosine"], run["cosine_min"],
             latency[label], latency[label] / latency[BASELINE]] for label, run in measured.items()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="quantizations per variant (median time)")
    parser.add_argument("--models", default="minilm", help="comma-separated bench/cases.py transformers")
    parser.add_argument("--iterations", type=int, default=100, help="latency iterations")
    args = parser.parse_args(argv)
    print(f"machine: {machine_line()}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for name in args.models.split(",")
                for row in bench_model(name, Path(tmp), args.repeats, args.iterations)]
    print(heading(f"Transformer handling (median of {args.repeats} quantizations; latency: median ms, one request, "
                  "default precision)"))
    print(markdown_table(["model", "variant", "quantization s", f"time / {BASELINE}", "cosine to FP32",
                          "worst input", "latency ms", f"latency / {BASELINE}"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
