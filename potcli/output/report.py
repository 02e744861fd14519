"""report.json: what was done, with what, and what came out (schemas/report.schema.json describes it)."""
import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone

import openvino as ov

from ..version import __version__
from .summary import run_summary

REPORT_VERSION = 1


@dataclass(frozen=True)
class RunOutcome:
    """What a quantization run produced, as plain data: everything report.json says beyond files and config."""

    status: str  # "ok", "accuracy_target_not_reached" or "output_check_failed"
    sections: tuple[dict, ...]  # one per algorithm that ran
    fp32_nodes: dict[str, str]  # quantizable-type node left in floating point -> why
    runtime: dict  # what the CPU plugin runs (engine.inspection.runtime_summary)
    output_check: dict | None  # INT8 against FP32 outputs (engine.fidelity), None when turned off
    timings: dict[str, float]  # seconds per stage
    weights_compressed: bool
    metrics: dict | None = None  # the Metric on the FP32 and the INT8 model, when one was measured
    statistics_cache: dict | None = None  # what the statistics cache gave, when one was used
    command_line: tuple[str, ...] | None = None  # the potq command that ran (None from the Python API)


def build_report(outcome: RunOutcome, *, config: dict, config_file: dict | None, inputs: dict,
                 outputs: dict) -> dict:
    """The report as a plain dict; ``inputs`` / ``outputs`` map file roles to ``files.describe_file`` entries.

    Its ``summary`` is what ``potq run`` prints at the end (``--json`` prints exactly that object).
    """
    report = {
        "report_version": REPORT_VERSION,
        "status": outcome.status,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command_line": list(outcome.command_line) if outcome.command_line is not None else None,
        "versions": {"potq": __version__, "openvino": ov.get_version(), "python": platform.python_version()},
        "config": config,
        "files": {"config": config_file, "input": inputs, "output": outputs},
        "weights_compressed": outcome.weights_compressed,
        "timings_seconds": {stage: round(seconds, 4) for stage, seconds in outcome.timings.items()},
        "algorithms": list(outcome.sections),
        "fp32_nodes": [{"node": node, "reason": reason} for node, reason in sorted(outcome.fp32_nodes.items())],
        "runtime": outcome.runtime,
        "output_check": outcome.output_check,
        "size": _size(inputs, outputs),
    }
    if outcome.metrics is not None:
        report["metrics"] = outcome.metrics
    if outcome.statistics_cache is not None:
        report["statistics_cache"] = outcome.statistics_cache
    report["summary"] = run_summary(report)
    return report


def _size(inputs: dict, outputs: dict) -> dict:
    """Weights file (the .bin; an ONNX model is one file) before and after."""
    before = (inputs.get("weights") or inputs["model"])["bytes"]
    after = outputs["weights"]["bytes"]
    return {"input_weights_bytes": before, "output_weights_bytes": after,
            "ratio": round(after / before, 4) if before else None}


def report_bytes(report: dict) -> bytes:
    return (json.dumps(report, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")
