"""potq AccuracyAwareQuantization vs NNCF quantize_with_accuracy_control, same model, data and budget.

    python bench/aaq.py                          # every case, 3 repeats (about 40 minutes on 2 cores)
    python bench/aaq.py --quick                  # one repeat
    python bench/aaq.py --cases text_recognizer  # some cases only

Cases (each tool quantizes with 300 calibration samples and validates on the DataLoader's samples, read
through the same DataLoader; NNCF's validation function computes the same per-sample metric):

- digits_outlier: samples/digits/model/digits_outlier.xml (the digits CNN with one activation channel scaled
  300x: same FP32 function, but DefaultQuantization loses about 3.5 points of top-1), top-1 on the 1000-image
  calibration split, budgets 0.01 and 0 (absolute); the drop is also measured on the 797 held-out images.
- text_recognizer: a PP-OCR-style recognizer (bench/models.py: depthwise-separable CNN, two attention blocks,
  CTC head; 44 quantizer groups; random weights) on bench/cases.py's 300 seeded random images; the metric is
  the cosine of each sample's logits against the FP32 model's (output agreement), budget 0.004: several groups must go
  back to FP32.
- minilm: all-MiniLM-L6-v2 (bench/minilm.py, pretrained) on bench/cases.py's 300 real sentences; the cosine of each
  sentence embedding against FP32, budget 0.003.

The table gives wall time (median of --repeats, each run in its own process), the drop reached on the
validation samples, the compute layers left in FP32 (read from the compiled model), potq's ranking cost
(inferences and seconds, from its report) and INT8 latency against FP32. --full-ranking adds potq with its
race replaced by POT's ranking (every group on every ranking sample), to compare the layers reverted.
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
from cases import DIGITS, case  # noqa: E402
from harness import (LoaderItems, compile_for, heading, latencies_ms, machine_line, markdown_table,  # noqa: E402
                     median_of, peak_rss_mib, run_worker)

TOOLS = ("potq", "nncf")
FULL = "potq, full ranking"  # --full-ranking: potq scoring every group on the whole ranking subset, as POT
SAMPLES = 300
BUDGETS = {"digits_outlier": (0.01, 0.0), "text_recognizer": (0.004,), "minilm": (0.003,)}
sys.path.insert(0, str(DIGITS))


class AnnotatedLoader:
    """A POT DataLoader over prepared inputs, each annotated with the FP32 model's output for it."""

    def __init__(self, inputs: list, model: ov.Model):
        compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()
        self.inputs = inputs
        self.references = [request.infer(x)[compiled.output(0)].copy() for x in inputs]

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index], self.references[index]


def cosine(output: np.ndarray, reference: np.ndarray) -> float:
    output, reference = output.ravel().astype(np.float64), reference.ravel().astype(np.float64)
    return float(output @ reference / (np.linalg.norm(output) * np.linalg.norm(reference) + 1e-12))


def case_data(name: str, workdir: Path):
    """(FP32 model, DataLoader, per-sample metric(output, annotation) -> float, metric name); the models and
    calibration data are bench/cases.py's (FP32 IRs built under ``workdir`` where needed)."""
    core = ov.Core()
    if name == "digits_outlier":
        from plugins import ImageLoader
        return (core.read_model(DIGITS / "model" / "digits_outlier.xml"), ImageLoader(str(DIGITS / "data" / "calib")),
                lambda output, label: float(output.argmax() == label), "accuracy@top1")
    registered = case(name)
    model = core.read_model(registered.fp32(workdir))
    calibration = registered.calibration(SAMPLES)
    inputs = [calibration[i][0] for i in range(SAMPLES)]
    return model, AnnotatedLoader(inputs, model), cosine, "cosine"


def per_sample_metric(score, name):
    """A POT Metric with per-sample values, scoring each output with ``score(output, annotation)``."""
    from potcli import Metric

    class PerSample(Metric):
        def __init__(self):
            super().__init__()
            self._values = []

        @property
        def value(self):
            return {name: [self._values[-1]]}

        @property
        def avg_value(self):
            return {name: float(np.mean(self._values))}

        def update(self, output, target):
            self._values.append(score(output[0], target[0]))

        def reset(self):
            self._values = []

        def get_attributes(self):
            return {name: {"direction": "higher-better", "type": name}}

    return PerSample()


def worker(args) -> None:
    model, loader, score, name = case_data(args.case, Path(args.out).parent)
    start = time.perf_counter()
    ranking = {}
    if args.tool in ("potq", FULL):
        from potcli import IEEngine, compress_model_weights, create_pipeline
        from potcli.algorithms.accuracy_aware import racing
        from potcli.pot.api import CompressionModel
        if args.tool == FULL:
            racing.FIRST_ROUND = SAMPLES  # one round on every ranking sample: POT's ranking
        params = {"stat_subset_size": SAMPLES, "maximal_drop": args.budget}
        pipeline = create_pipeline([{"name": "AccuracyAwareQuantization", "params": params}],
                                   IEEngine({"device": "CPU"}, loader, per_sample_metric(score, name)))
        result = pipeline.run(CompressionModel(model, args.case))
        compress_model_weights(result)
        quantized = result.model
        section = result.report_sections[-1]["ranking"]
        ranking = {"inferences": section["inferences"], "ranking_seconds": section["seconds"]}
    else:
        import nncf
        core = ov.Core()

        def validate(compiled, items):
            compiled = compiled if isinstance(compiled, ov.CompiledModel) else core.compile_model(compiled, "CPU")
            request = compiled.create_infer_request()
            values = [score(request.infer(x)[compiled.output(0)], y) for x, y in items]
            return float(np.mean(values)), values

        quantized = nncf.quantize_with_accuracy_control(
            model, nncf.Dataset(LoaderItems(loader, SAMPLES, data_only=True)),
            nncf.Dataset(LoaderItems(loader, len(loader))), validate, max_drop=args.budget, subset_size=SAMPLES)
    seconds = time.perf_counter() - start
    ov.save_model(quantized, args.out, compress_to_fp16=False)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib(), **ranking}))


def metric_of(path: Path, case: str, split: str = "calib") -> float:
    """The case's metric for the model at ``path`` (digits: on ``split``)."""
    _, loader, score, _ = case_data(case, path.parent)
    if case == "digits_outlier" and split != "calib":
        from plugins import ImageLoader
        loader = ImageLoader(str(DIGITS / "data" / split))
    compiled = compile_for(ov.Core(), str(path), "LATENCY", "f32")
    request = compiled.create_infer_request()
    return float(np.mean([score(request.infer(loader[i][0])[compiled.output(0)], loader[i][1])
                          for i in range(len(loader))]))


def fp32_layers(path) -> int:
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    count = 0
    for node in compiled.get_runtime_model().get_ordered_ops():
        info = node.get_rt_info()
        if info["layerType"].astype(str) in ("Convolution", "FullyConnected", "MatMul") and \
                info["runtimePrecision"].astype(str) not in ("u8", "i8"):
            count += 1
    return count


def bench_case(case: str, tools: tuple[str, ...], repeats: int, quick: bool, tmp: Path) -> list[list]:
    model, loader, _, _ = case_data(case, tmp)
    fp32_path = tmp / f"{case}_fp32.xml"
    ov.save_model(model, str(fp32_path), compress_to_fp16=False)
    fp32 = {"calib": metric_of(fp32_path, case)}
    if case == "digits_outlier":
        fp32["test"] = metric_of(fp32_path, case, "test")
    rows = []
    for budget in BUDGETS[case]:
        results = {}
        for tool in tools:
            out = tmp / f"{case}_{tool.replace(' ', '_').replace(',', '')}_{budget}.xml"
            runs = [run_worker(Path(__file__), ["--case", case, "--tool", tool, "--budget", str(budget),
                                                "--out", str(out)]) for _ in range(repeats)]
            results[tool] = {"seconds": median_of(runs, "seconds"), "path": out, "run": runs[-1]}
            print(f"  {case} {tool} maximal_drop {budget}: {results[tool]['seconds']:.1f} s", file=sys.stderr)
        paths = {"fp32": fp32_path, **{tool: results[tool]["path"] for tool in tools}}
        core = ov.Core()
        sample = loader[0][0]
        latency = latencies_ms({k: compile_for(core, str(p), "LATENCY", "f32") for k, p in paths.items()},
                               {k: sample for k in paths}, 50 if quick else 500)
        for tool in tools:
            path, run = results[tool]["path"], results[tool]["run"]
            held_out = (fp32["test"] - metric_of(path, case, "test")) if "test" in fp32 else ""
            ranking = f"{run['inferences']} in {run['ranking_seconds']:.1f} s" if "inferences" in run else ""
            rows.append([case, budget, tool, results[tool]["seconds"], fp32["calib"] - metric_of(path, case),
                         held_out, fp32_layers(path), ranking, latency[tool], latency["fp32"] / latency[tool]])
        rows.append([case, budget, "time potq/NNCF", results["potq"]["seconds"] / results["nncf"]["seconds"],
                     "", "", "", "", "", ""])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=list(BUDGETS), default=list(BUDGETS))
    parser.add_argument("--case", choices=list(BUDGETS))
    parser.add_argument("--full-ranking", action="store_true", help=f"also run {FULL!r}")
    parser.add_argument("--tool", choices=(*TOOLS, FULL))
    parser.add_argument("--budget", type=float)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        worker(args)
        return 0
    repeats = 1 if args.quick else args.repeats
    print(f"machine: {machine_line()}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tools = TOOLS + ((FULL,) if args.full_ranking else ())
        rows = [row for case in args.cases for row in bench_case(case, tools, repeats, args.quick, Path(tmp))]
    print(heading(f"AccuracyAwareQuantization, potq vs NNCF (median of {repeats} runs)"))
    print(markdown_table(["case", "maximal_drop", "tool", "wall s", "drop on validation", "drop held-out",
                          "layers in FP32", "potq ranking: inferences", "INT8 latency ms", "speed-up vs FP32"],
                         rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
