"""Shared measuring tools for bench/: isolated worker processes, latency/throughput, tables.

Every quantization runs in its own process so that wall time and peak RSS belong to that run alone; timings
are repeated and the median is quoted, because these machines are noisy.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov

from potcli.engine.cpu import cpu_description
from potcli.engine.latency import latencies_ms  # noqa: F401  (re-exported for the bench scripts)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def run_worker(script: Path, args: list[str]) -> dict:
    """Run ``python script worker ARGS`` and return the JSON object it prints last."""
    result = subprocess.run([sys.executable, str(script), "worker", *args], capture_output=True, text=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed_potq(args: list[str]) -> tuple[float, dict]:
    """One potq command in its own process, timed from outside: (wall seconds, the --json summary it prints)."""
    command = [sys.executable, "-m", "potcli", *args, "--json", "--no-progress"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return wall, json.loads(result.stdout)


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM). Unlike a parent's rusage of its child, it does not start from the
    parent's size: Linux carries the pre-exec high-water mark into ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class LoaderItems:
    """A DataLoader's items as an iterable for nncf.Dataset, read one at a time on every pass, as potq reads
    them (``data_only``: just the data of each (data, annotation) item)."""

    def __init__(self, loader, size: int, data_only: bool = False):
        self.loader, self.size, self.data_only = loader, size, data_only

    def __len__(self):
        return self.size

    def __iter__(self):
        return (self.loader[i][0] if self.data_only else self.loader[i] for i in range(self.size))


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def compile_for(core: ov.Core, model_path: str, hint: str, precision: str | None = None) -> ov.CompiledModel:
    config = {"PERFORMANCE_HINT": hint}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return core.compile_model(core.read_model(model_path), "CPU", config)


def throughputs(compilers: dict[str, Callable[[], ov.CompiledModel]], inputs: dict[str, np.ndarray], rounds: int,
                seconds: float) -> dict[str, float]:
    """Median inferences per second with the throughput hint and all optimal requests busy, each model compiled
    (``compilers[name]()``) and released in turn: with several compiled at once their streams contend, unevenly
    (the INT8 transformer_encoder models ran at 15.6 and 21.4 inferences/s beside each other and FP32, 57.5 and
    58.5 alone)."""
    results = {name: [] for name in compilers}
    for _ in range(rounds):
        for name, compile_model in compilers.items():
            model = compile_model()
            queue = ov.AsyncInferQueue(model, model.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                queue.start_async(inputs[name])
                count += 1
            queue.wait_all()
            results[name].append(count / (time.perf_counter() - start))
            del queue, model
    return {name: statistics.median(values) for name, values in results.items()}


def machine_line() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = cpu_description()
    return (f"{model}, {os.cpu_count()} cores, {', '.join(cpu['isa_flags']) or 'no AVX2'}; ISA {isa_tag()}; "
            f"OpenVINO {ov.get_version()}; Python {platform.python_version()}")


def isa_tag() -> str:
    """The instruction-set level the runtime used, for every table header: results differ between levels."""
    cpu = cpu_description()
    return cpu["isa"] + (f" held to {cpu['max_isa_setting']}" if cpu["max_isa_setting"] else "")


def heading(text: str) -> str:
    return f"### {text} [ISA {isa_tag()}]\n"


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
