"""report.json: what was done, with what, and what came out (schemas/report.schema.json describes it)."""
import json
import platform

import openvino as ov

from . import __version__
from .algorithms.context import QuantizationState

REPORT_VERSION = 1


def build_report(*, config: dict, config_file: dict | None, inputs: dict, outputs: dict, state: QuantizationState,
                 timings: dict[str, float], runtime: dict, weights_compressed: bool) -> dict:
    """The report as a plain dict; ``outputs`` maps file roles to ``output.describe_file`` entries."""
    return {
        "report_version": REPORT_VERSION,
        "status": state.status,
        "versions": {"potq": __version__, "openvino": ov.get_version(), "python": platform.python_version()},
        "config": config,
        "files": {"config": config_file, "input": inputs, "output": outputs},
        "weights_compressed": weights_compressed,
        "timings_seconds": {stage: round(seconds, 4) for stage, seconds in timings.items()},
        "algorithms": list(state.sections),
        "fp32_nodes": [{"node": node, "reason": reason} for node, reason in sorted(fp32_nodes(state).items())],
        "runtime": runtime,
    }


def fp32_nodes(state: QuantizationState) -> dict[str, str]:
    """Quantizable-type nodes left in floating point, and why."""
    nodes = dict(state.plan.fp32_nodes) if state.plan else {}
    for section in state.sections:
        nodes.update(section.get("reverted", {}))
    return nodes


def report_bytes(report: dict) -> bytes:
    return (json.dumps(report, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")
