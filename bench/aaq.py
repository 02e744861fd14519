"""potq AccuracyAwareQuantization vs NNCF quantize_with_accuracy_control, same model, data and budget.

    python bench/aaq.py              # about 2 minutes on 2 cores
    python bench/aaq.py --quick      # one repeat

The model is samples/digits/model/digits_outlier.xml (the digits CNN with one activation channel scaled 300x:
same FP32 function, but DefaultQuantization loses about 3.5 points of top-1), so both tools must revert
layers. Both quantize with 300 calibration images and validate on the 1000-image calibration split, read
through the same DataLoader; NNCF's validation function uses the same per-sample accuracy. For each budget
(maximal_drop / max_drop, absolute top-1) the table gives wall time (median of --repeats, each run in its
own process), the drop reached on the validation split and on the 797 held-out images, the compute layers left
in FP32 (read from the compiled model), and INT8 latency against FP32.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (REPO, LoaderItems, compile_for, heading, latencies_ms, machine_line, markdown_table,  # noqa: E402
                     median_of, peak_rss_mib, run_worker)

DIGITS = REPO / "samples" / "digits"
MODEL = DIGITS / "model" / "digits_outlier.xml"
BUDGETS = (0.01, 0.0)
TOOLS = ("potq", "nncf")
sys.path.insert(0, str(DIGITS))


def worker(args) -> None:
    from plugins import Accuracy, ImageLoader
    model = ov.Core().read_model(MODEL)
    loader = ImageLoader(str(DIGITS / "data" / "calib"))
    start = time.perf_counter()
    if args.tool == "potq":
        from potcli import IEEngine, compress_model_weights, create_pipeline
        from potcli.pot.api import CompressionModel
        params = {"stat_subset_size": 300, "maximal_drop": args.budget}
        pipeline = create_pipeline([{"name": "AccuracyAwareQuantization", "params": params}],
                                   IEEngine({"device": "CPU"}, loader, Accuracy()))
        result = pipeline.run(CompressionModel(model, "digits_outlier"))
        compress_model_weights(result)
        quantized = result.model
    else:
        import nncf
        core = ov.Core()

        def validate(compiled, items):
            compiled = compiled if isinstance(compiled, ov.CompiledModel) else core.compile_model(compiled, "CPU")
            request = compiled.create_infer_request()
            matches = [float(request.infer({0: x})[compiled.output(0)].argmax() == y) for x, y in items]
            return float(np.mean(matches)), matches

        quantized = nncf.quantize_with_accuracy_control(
            model, nncf.Dataset(LoaderItems(loader, 300, data_only=True)),
            nncf.Dataset(LoaderItems(loader, len(loader))), validate, max_drop=args.budget, subset_size=300)
    seconds = time.perf_counter() - start
    ov.save_model(quantized, args.out, compress_to_fp16=False)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


def accuracy(path, split) -> float:
    from plugins import ImageLoader
    data = ImageLoader(str(DIGITS / "data" / split))
    request = compile_for(ov.Core(), str(path), "LATENCY", "f32").create_infer_request()
    return float(np.mean([request.infer({0: data[i][0]})[0].argmax() == data[i][1] for i in range(len(data))]))


def fp32_layers(path) -> int:
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    count = 0
    for node in compiled.get_runtime_model().get_ordered_ops():
        info = node.get_rt_info()
        if info["layerType"].astype(str) in ("Convolution", "FullyConnected", "MatMul") and \
                info["runtimePrecision"].astype(str) not in ("u8", "i8"):
            count += 1
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tool", choices=TOOLS)
    parser.add_argument("--budget", type=float)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        worker(args)
        return 0
    repeats = 1 if args.quick else args.repeats
    print(f"machine: {machine_line()}\n", flush=True)
    fp32 = {split: accuracy(MODEL, split) for split in ("calib", "test")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for budget in BUDGETS:
            results = {}
            for tool in TOOLS:
                out = Path(tmp) / f"{tool}_{budget}.xml"
                runs = [run_worker(Path(__file__), ["--tool", tool, "--budget", str(budget), "--out", str(out)])
                        for _ in range(repeats)]
                results[tool] = {"seconds": median_of(runs, "seconds"), "path": out}
                print(f"  {tool} maximal_drop {budget}: {results[tool]['seconds']:.2f} s", file=sys.stderr)
            core = ov.Core()
            paths = {"fp32": MODEL, **{tool: results[tool]["path"] for tool in TOOLS}}
            data = np.zeros((1, 1, 8, 8), np.float32)
            latency = latencies_ms({k: compile_for(core, str(p), "LATENCY", "f32") for k, p in paths.items()},
                                   {k: data for k in paths}, 100 if args.quick else 2000)
            for tool in TOOLS:
                path = results[tool]["path"]
                rows.append([budget, tool, results[tool]["seconds"], (fp32["calib"] - accuracy(path, "calib")) * 100,
                             (fp32["test"] - accuracy(path, "test")) * 100, fp32_layers(path), latency[tool],
                             latency["fp32"] / latency[tool]])
            rows.append([budget, "time potq/NNCF", results["potq"]["seconds"] / results["nncf"]["seconds"],
                         "", "", "", "", ""])
    print(heading(f"AccuracyAwareQuantization on digits_outlier (median of {repeats} runs)"))
    print(markdown_table(["maximal_drop", "tool", "wall s", "drop on validation (points)", "drop held-out (points)",
                          "layers in FP32", "INT8 latency ms", "speed-up vs FP32"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
