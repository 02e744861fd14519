"""potq vs NNCF DefaultQuantization, side by side in one run, on the same models and calibration data.

    python bench/quantize.py                  # everything (about 5 minutes on 2 cores)
    python bench/quantize.py --quick          # fewer repeats, smaller sets: a smoke run

Measures, for the digits sample, a ResNet-18-style CNN and a BERT-style encoder (both built in bench/models.py):
quantization wall time and peak RSS (each run in its own process, median of --repeats), INT8 latency and
throughput of potq's and NNCF's models against FP32 (f32 and the runtime's default precision), digits top-1
on the held-out split, and potq's peak RSS with stat_subset_size 1000 against 100. Prints markdown tables of
ratios; bench/README.md keeps the latest ones.
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
                     median_of, peak_rss_mib, run_worker, throughputs)

DIGITS = REPO / "samples" / "digits"
MODELS = ("digits", "resnet_like", "transformer_encoder")
TOOLS = ("potq", "nncf")


def fp32_model_path(name: str, workdir: Path) -> Path:
    if name == "digits":
        return DIGITS / "model" / "digits.xml"
    path = workdir / f"fp32_{name}.xml"
    if not path.exists():
        import models
        ov.save_model(getattr(models, name)(), str(path), compress_to_fp16=False)
    return path


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


def calibration_loader(name: str, model: ov.Model, size: int):
    if name == "digits":
        sys.path.insert(0, str(DIGITS))
        from plugins import ImageLoader
        return ImageLoader(str(DIGITS / "data" / "calib"))
    return SyntheticLoader(model.inputs[0].get_shape(), size)


def worker(args) -> None:
    """Quantize one model with one tool; print {"seconds", "peak_rss_mib"} of this process."""
    model = ov.Core().read_model(args.fp32)
    loader = calibration_loader(args.model, model, args.subset)
    start = time.perf_counter()
    if args.tool == "potq":
        from potcli import IEEngine, compress_model_weights, create_pipeline
        from potcli.pot.api import CompressionModel
        pipeline = create_pipeline([{"name": "DefaultQuantization", "params": {"stat_subset_size": args.subset}}],
                                   IEEngine({"device": "CPU"}, loader))
        result = pipeline.run(CompressionModel(model, args.model))
        compress_model_weights(result)
        quantized = result.model
    else:
        import nncf
        dataset = nncf.Dataset(LoaderItems(loader, min(len(loader), args.subset), data_only=True))
        quantized = nncf.quantize(model, dataset, subset_size=args.subset)
    seconds = time.perf_counter() - start
    ov.save_model(quantized, args.out, compress_to_fp16=False)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


def quantization_runs(names, workdir, repeats, subset) -> dict:
    runs = {}
    for name in names:
        fp32 = fp32_model_path(name, workdir)
        for tool in TOOLS:
            out = workdir / f"{tool}_{name}.xml"
            results = [run_worker(Path(__file__), ["--tool", tool, "--model", name, "--subset", str(subset),
                                                   "--fp32", str(fp32), "--out", str(out)]) for _ in range(repeats)]
            runs[(name, tool)] = {"seconds": median_of(results, "seconds"),
                                  "peak_rss_mib": median_of(results, "peak_rss_mib"), "path": str(out)}
            print(f"  quantized {name} with {tool}: {runs[(name, tool)]['seconds']:.2f} s", file=sys.stderr)
    return runs


def speed_rows(names, workdir, runs, iterations, rounds, seconds) -> list[list]:
    core = ov.Core()
    rows = []
    for name in names:
        fp32 = str(fp32_model_path(name, workdir))
        paths = {"fp32_f32": (fp32, "f32"), "fp32_default": (fp32, None),
                 "potq": (runs[(name, "potq")]["path"], "f32"), "nncf": (runs[(name, "nncf")]["path"], "f32")}
        shape = tuple(core.read_model(fp32).inputs[0].get_shape())
        inputs = {key: np.random.default_rng(1).standard_normal(shape).astype(np.float32) for key in paths}
        latency = latencies_ms({k: compile_for(core, p, "LATENCY", prec) for k, (p, prec) in paths.items()},
                               inputs, iterations)
        tput = throughputs({k: compile_for(core, p, "THROUGHPUT", prec) for k, (p, prec) in paths.items()
                            if k != "fp32_default"}, inputs, rounds, seconds)
        default_precision = compile_for(core, fp32, "LATENCY").get_property("INFERENCE_PRECISION_HINT").to_string()
        rows.append([name, latency["fp32_f32"], f"{latency['fp32_default']:.3g} ({default_precision})",
                     latency["potq"], latency["nncf"], latency["potq"] / latency["nncf"],
                     latency["fp32_f32"] / latency["potq"], tput["potq"], tput["nncf"], tput["potq"] / tput["nncf"]])
    return rows


def digits_accuracy(runs) -> list:
    sys.path.insert(0, str(DIGITS))
    from plugins import ImageLoader
    test = ImageLoader(str(DIGITS / "data" / "test"))
    data = [test[i] for i in range(len(test))]
    core = ov.Core()
    accuracy = {}
    for key, path in (("fp32", DIGITS / "model" / "digits.xml"), ("potq", runs[("digits", "potq")]["path"]),
                      ("nncf", runs[("digits", "nncf")]["path"])):
        request = compile_for(core, str(path), "LATENCY", "f32").create_infer_request()
        accuracy[key] = float(np.mean([request.infer({0: x})[0].argmax() == y for x, y in data]))
    return [accuracy["fp32"], accuracy["potq"], accuracy["nncf"], (accuracy["fp32"] - accuracy["potq"]) * 100,
            (accuracy["fp32"] - accuracy["nncf"]) * 100]


def memory_row(workdir, small, large) -> list:
    fp32 = fp32_model_path("resnet_like", workdir)
    peaks = {}
    for subset in (small, large):
        peaks[subset] = run_worker(Path(__file__), ["--tool", "potq", "--model", "resnet_like", "--subset",
                                                    str(subset), "--fp32", str(fp32),
                                                    "--out", str(workdir / f"mem_{subset}.xml")])["peak_rss_mib"]
    return [small, peaks[small], large, peaks[large], peaks[large] / peaks[small]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--quick", action="store_true", help="1 repeat, 100 samples, short timings")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--subset", type=int, default=300)
    parser.add_argument("--tool", choices=TOOLS)
    parser.add_argument("--model")
    parser.add_argument("--fp32")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        worker(args)
        return 0
    repeats, subset = (1, 100) if args.quick else (args.repeats, args.subset)
    names = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"machine: {machine_line()}\n", flush=True)
        runs = quantization_runs(names, workdir, repeats, subset)
        print(heading(f"Quantization ({subset} calibration samples, median of {repeats} runs, each in its own "
                      "process)"))
        print(markdown_table(
            ["model", "potq s", "NNCF s", "time potq/NNCF", "potq peak RSS MiB", "NNCF peak RSS MiB", "RSS potq/NNCF"],
            [[n, runs[(n, "potq")]["seconds"], runs[(n, "nncf")]["seconds"],
              runs[(n, "potq")]["seconds"] / runs[(n, "nncf")]["seconds"], runs[(n, "potq")]["peak_rss_mib"],
              runs[(n, "nncf")]["peak_rss_mib"], runs[(n, "potq")]["peak_rss_mib"] / runs[(n, "nncf")]["peak_rss_mib"]]
             for n in names]) + "\n", flush=True)
        iterations, rounds, seconds = (30, 1, 1.0) if args.quick else (200, 3, 2.0)
        print(heading("Inference on CPU (latency: median ms, one request; throughput: inferences/s, throughput hint)"))
        print(markdown_table(["model", "FP32 f32 ms", "FP32 default ms", "potq INT8 ms", "NNCF INT8 ms",
                              "latency potq/NNCF", "speed-up f32/potq", "potq inf/s", "NNCF inf/s",
                              "throughput potq/NNCF"],
                             speed_rows(names, workdir, runs, iterations, rounds, seconds)) + "\n", flush=True)
        if "digits" in names:
            print(heading("Digits top-1 on the 797 held-out images"))
            print(markdown_table(["FP32", "potq INT8", "NNCF INT8", "potq drop (points)", "NNCF drop (points)"],
                                 [digits_accuracy(runs)]) + "\n", flush=True)
        small, large = (50, 200) if args.quick else (100, 1000)
        print(heading("potq peak RSS against stat_subset_size (resnet_like)"))
        print(markdown_table(["subset", "peak RSS MiB", "subset", "peak RSS MiB", "ratio"],
                             [memory_row(workdir, small, large)]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
