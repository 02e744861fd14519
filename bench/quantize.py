"""potq vs NNCF DefaultQuantization, side by side in one run, on the same models and calibration data.

    python bench/quantize.py                       # every model of bench/cases.py (about 20 minutes on 2 cores)
    python bench/quantize.py --models digits,ocr_det --repeats 1
    python bench/quantize.py --quick               # one repeat, smaller subsets: a smoke run

For each model (bench/cases.py): quantization wall time and peak RSS (each run in its own process, median of
--repeats), how close each tool's INT8 outputs stay to FP32 on held-out inputs, INT8 latency against FP32 (f32
and the runtime's default precision) and throughput; and potq's peak RSS with stat_subset_size 1000 against 100.
Both tools run with their defaults; NNCF gets model_type=TRANSFORMER on the transformers (potq finds them
itself). Prints markdown tables of ratios; bench/README.md keeps the latest ones.
"""
import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import CASES, case, outputs  # noqa: E402
from harness import (LoaderItems, compile_for, heading, latencies_ms, machine_line, markdown_table,  # noqa: E402
                     median_of, peak_rss_mib, run_worker, throughputs)

TOOLS = ("potq", "nncf")


def quantize_with(tool: str, model: ov.Model, loader, subset: int, options: dict) -> ov.Model:
    """``model`` quantized by ``tool`` on the first ``subset`` samples of ``loader``: its defaults, changed
    by ``options`` (potq: DefaultQuantization params; NNCF: {"model_type": "transformer"})."""
    if tool == "potq":
        from potcli import IEEngine, compress_model_weights, create_pipeline
        from potcli.pot.api import CompressionModel
        params = {"stat_subset_size": subset, **options}
        pipeline = create_pipeline([{"name": "DefaultQuantization", "params": params}],
                                   IEEngine({"device": "CPU"}, loader))
        result = pipeline.run(CompressionModel(model, "m"))
        compress_model_weights(result)
        return result.model
    import nncf
    extra = {"model_type": nncf.ModelType.TRANSFORMER} if options.get("model_type") == "transformer" else {}
    dataset = nncf.Dataset(LoaderItems(loader, min(len(loader), subset), data_only=True))
    return nncf.quantize(model, dataset, subset_size=subset, **extra)


def default_options(tool: str, bench_case) -> dict:
    """Each tool as its users run it: NNCF is told a transformer is one, potq finds out itself."""
    return {"model_type": "transformer"} if tool == "nncf" and bench_case.transformer else {}


def quantize_in_worker(tool: str, name: str, subset: int, fp32: Path, out: Path, options: dict,
                       repeats: int) -> dict:
    """Median wall time and peak RSS of ``repeats`` quantizations, each in its own process."""
    results = [run_worker(Path(__file__), ["--tool", tool, "--model", name, "--subset", str(subset),
                                           "--fp32", str(fp32), "--out", str(out), "--options",
                                           json.dumps(options)]) for _ in range(repeats)]
    return {"seconds": median_of(results, "seconds"), "peak_rss_mib": median_of(results, "peak_rss_mib"),
            "path": str(out), "subset": subset}


def worker(args) -> None:
    """Quantize one model with one tool; print {"seconds", "peak_rss_mib"} of this process."""
    bench_case = case(args.model)
    model = ov.Core().read_model(args.fp32)
    loader = bench_case.calibration(args.subset)
    start = time.perf_counter()
    quantized = quantize_with(args.tool, model, loader, args.subset, json.loads(args.options))
    seconds = time.perf_counter() - start
    ov.save_model(quantized, args.out, compress_to_fp16=False)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


def quantization_runs(names, workdir, repeats, quick) -> dict:
    runs = {}
    for name in names:
        bench_case = case(name)
        subset = min(bench_case.subset, 100) if quick else bench_case.subset
        fp32 = bench_case.fp32(workdir)
        for tool in TOOLS:
            runs[(name, tool)] = quantize_in_worker(tool, name, subset, fp32, workdir / f"{tool}_{name}.xml",
                                                    default_options(tool, bench_case), repeats)
            print(f"  quantized {name} with {tool}: {runs[(name, tool)]['seconds']:.2f} s", file=sys.stderr)
    return runs


def closeness_rows(names, workdir, runs) -> list[list]:
    core = ov.Core()
    rows = []
    for name in names:
        bench_case = case(name)
        held_out = bench_case.held_out()
        f32 = {"INFERENCE_PRECISION_HINT": "f32"}
        reference = outputs(core.compile_model(str(bench_case.fp32(workdir)), "CPU", f32), held_out)
        measured = {tool: bench_case.closeness(reference, outputs(core.compile_model(runs[(name, tool)]["path"],
                                                                                     "CPU", f32), held_out),
                                               held_out) for tool in TOOLS}
        for column in bench_case.columns:
            rows.append([name, column, measured["potq"][column], measured["nncf"][column],
                         _better(column, measured["potq"][column], measured["nncf"][column])])
    return rows


def _better(column: str, potq: float, nncf: float) -> str:
    lower_is_better = column in ("mean_abs_diff",)
    if potq == nncf:
        return "same"
    return "potq" if (potq < nncf) == lower_is_better else "NNCF"


def speed_rows(names, workdir, runs, iterations, rounds, seconds) -> list[list]:
    core = ov.Core()
    rows = []
    for name in names:
        bench_case = case(name)
        fp32 = str(bench_case.fp32(workdir))
        paths = {"fp32_f32": (fp32, "f32"), "fp32_default": (fp32, None),
                 "potq": (runs[(name, "potq")]["path"], None), "nncf": (runs[(name, "nncf")]["path"], None)}
        sample = bench_case.held_out()[0]
        inputs = dict.fromkeys(paths, sample if isinstance(sample, dict) else {0: sample})
        latency = latencies_ms({k: compile_for(core, p, "LATENCY", prec) for k, (p, prec) in paths.items()},
                               inputs, iterations)
        tput = throughputs({k: functools.partial(compile_for, core, p, "THROUGHPUT", prec)
                            for k, (p, prec) in paths.items() if k != "fp32_f32"}, inputs, rounds, seconds)
        default_precision = compile_for(core, fp32, "LATENCY").get_property("INFERENCE_PRECISION_HINT").to_string()
        rows.append([name, latency["fp32_f32"], f"{latency['fp32_default']:.3g} ({default_precision})",
                     latency["potq"], latency["nncf"], latency["potq"] / latency["nncf"],
                     latency["fp32_default"] / latency["potq"], tput["potq"], tput["nncf"],
                     tput["potq"] / tput["nncf"]])
    return rows


def memory_row(workdir, small, large) -> list:
    bench_case = case("resnet_like")
    fp32 = bench_case.fp32(workdir)
    peaks = {}
    for subset in (small, large):
        peaks[subset] = quantize_in_worker("potq", "resnet_like", subset, fp32, workdir / f"mem_{subset}.xml",
                                           {}, 1)["peak_rss_mib"]
    return [small, peaks[small], large, peaks[large], peaks[large] / peaks[small]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--quick", action="store_true", help="1 repeat, at most 100 samples, short timings")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(CASES))
    parser.add_argument("--subset", type=int)
    parser.add_argument("--tool", choices=TOOLS)
    parser.add_argument("--model")
    parser.add_argument("--fp32")
    parser.add_argument("--out")
    parser.add_argument("--options", default="{}", help="worker: JSON options for quantize_with")
    parser.add_argument("--skip", default="", help="comma-separated tables to leave out: speed, memory")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        worker(args)
        return 0
    repeats = 1 if args.quick else args.repeats
    names = args.models.split(",")
    skipped = set(args.skip.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"machine: {machine_line()}\n", flush=True)
        runs = quantization_runs(names, workdir, repeats, args.quick)
        print(heading(f"Quantization (median of {repeats} runs, each in its own process)"))
        print(markdown_table(
            ["model", "samples", "potq s", "NNCF s", "time potq/NNCF", "potq peak RSS MiB", "NNCF peak RSS MiB",
             "RSS potq/NNCF"],
            [[n, runs[(n, "potq")]["subset"], runs[(n, "potq")]["seconds"], runs[(n, "nncf")]["seconds"],
              runs[(n, "potq")]["seconds"] / runs[(n, "nncf")]["seconds"], runs[(n, "potq")]["peak_rss_mib"],
              runs[(n, "nncf")]["peak_rss_mib"], runs[(n, "potq")]["peak_rss_mib"] / runs[(n, "nncf")]["peak_rss_mib"]]
             for n in names]) + "\n", flush=True)
        print(heading("INT8 outputs against FP32 on held-out inputs (f32 inference)"))
        print(markdown_table(["model", "measure", "potq", "NNCF", "closer"], closeness_rows(names, workdir, runs))
              + "\n", flush=True)
        iterations, rounds, seconds = (30, 1, 1.0) if args.quick else (100, 3, 2.0)
        if "speed" not in skipped:
            print(heading("Inference on CPU at the runtime's default precision (latency: median ms, one request; "
                          "throughput: inferences/s, throughput hint)"))
            print(markdown_table(["model", "FP32 f32 ms", "FP32 default ms", "potq INT8 ms", "NNCF INT8 ms",
                                  "latency potq/NNCF", "speed-up default/potq", "potq inf/s", "NNCF inf/s",
                                  "throughput potq/NNCF"],
                                 speed_rows(names, workdir, runs, iterations, rounds, seconds)) + "\n", flush=True)
        if "memory" not in skipped and "resnet_like" in names:
            small, large = (50, 200) if args.quick else (100, 1000)
            print(heading("potq peak RSS against stat_subset_size (resnet_like)"))
            print(markdown_table(["subset", "peak RSS MiB", "subset", "peak RSS MiB", "ratio"],
                                 [memory_row(workdir, small, large)]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
