"""report.json: what was done, with what, and what came out (schemas/report.schema.json describes it)."""
import json
import platform
from dataclasses import dataclass

import openvino as ov

from ..version import __version__

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


def build_report(outcome: RunOutcome, *, config: dict, config_file: dict | None, inputs: dict,
                 outputs: dict) -> dict:
    """The report as a plain dict; ``inputs`` / ``outputs`` map file roles to ``files.describe_file`` entries."""
    return {
        "report_version": REPORT_VERSION,
        "status": outcome.status,
        "versions": {"potq": __version__, "openvino": ov.get_version(), "python": platform.python_version()},
        "config": config,
        "files": {"config": config_file, "input": inputs, "output": outputs},
        "weights_compressed": outcome.weights_compressed,
        "timings_seconds": {stage: round(seconds, 4) for stage, seconds in outcome.timings.items()},
        "algorithms": list(outcome.sections),
        "fp32_nodes": [{"node": node, "reason": reason} for node, reason in sorted(outcome.fp32_nodes.items())],
        "runtime": outcome.runtime,
        "output_check": outcome.output_check,
    }


def report_bytes(report: dict) -> bytes:
    return (json.dumps(report, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")
