"""The end-of-run summary: the facts of report.json a user looks at first, as a plain dict (``--json``, and the
report's own ``summary``) and as a compact table for the terminal.

Each row of the table is one ``Row``: how to take its fact from the report (None when it does not apply to
this run) and how to show it. A new report section is one more ``Row`` in ``RUN_ROWS``.
"""
import os
from collections.abc import Callable
from dataclasses import dataclass

MAX_LISTED = 8  # floating-point layers listed in the table; --json and report.json list all
LINE_WIDTH = 90  # characters of text after the label before a long row wraps


@dataclass(frozen=True)
class Row:
    key: str  # key in the summary dict
    fact: Callable[[dict], object]  # report -> JSON-able value, or None to leave the row out
    lines: Callable[[object], list[tuple[str, str]]]  # value -> (label, text) lines of the table


def _compute_layers(report: dict) -> dict:
    runtime = report["runtime"]
    left = {entry["node"]: entry["reason"] for entry in report["fp32_nodes"]}
    for name in runtime["floating_point_compute_layers"]:
        precision = runtime["operations"][name]["precision"]
        left.setdefault(name, f"the CPU plugin runs it in {precision}")
    return {"int8": runtime["int8_compute_layers"], "total": runtime["compute_layers"],
            "standalone_fake_quantize": runtime["standalone_fake_quantize"], "left_in_floating_point": left}


def _compute_layers_lines(value: dict) -> list[tuple[str, str]]:
    text = f"{value['int8']} of {value['total']} run in INT8 on CPU"
    if value["standalone_fake_quantize"]:
        text += f" ({value['standalone_fake_quantize']} FakeQuantize not fused: they run in FP32)"
    lines = [("compute layers", text)]
    left = sorted(value["left_in_floating_point"].items())
    for name, reason in left[:MAX_LISTED]:
        lines.append(("left in FP32", f"{name}: {reason}"))
    if len(left) > MAX_LISTED:
        lines.append(("left in FP32", f"... and {len(left) - MAX_LISTED} more (report.json: fp32_nodes)"))
    return lines


def _metrics(report: dict) -> dict | None:
    measured = report.get("metrics")
    if measured is None:
        return None
    return {"samples": measured["samples"], "source": measured["source"],
            "values": {name: {"fp32": measured["fp32"][name], "int8": measured["int8"][name], "drop": drop}
                       for name, drop in measured["drop"].items()}}


def _metrics_lines(value: dict) -> list[tuple[str, str]]:
    return [(name, f"FP32 {row['fp32']:.6g} -> INT8 {row['int8']:.6g}, drop {row['drop']:.4g} "
                   f"({value['samples']} samples)") for name, row in value["values"].items()]


def _accuracy_aware(report: dict) -> dict | None:
    section = next((s for s in report["algorithms"] if s["algorithm"] == "AccuracyAwareQuantization"), None)
    if section is None:
        return None
    result, ranking = section["result"], section["ranking"]
    tried = [step for step in section["iterations"] if step["step"] == "revert"]
    return {"reached": result["reached"], "drop": result["drop"], "maximal_drop": section["maximal_drop"],
            "drop_type": section["drop_type"], "reverted_layers": result["reverted_layers"],
            "ranking": {key: ranking[key] for key in ("inferences", "worker_inferences", "full_subset_inferences",
                                                      "seconds", "subset_samples")}
            | {"rankings": len(ranking["rankings"])},
            "iterations": [{"accepted": step["accepted"], "evaluation_seconds": step["evaluation_seconds"]}
                           for step in tried]}


def _accuracy_aware_lines(value: dict) -> list[tuple[str, str]]:
    drops = ", ".join(f"{name} {drop:.4g}" for name, drop in value["drop"].items())
    verdict = "within" if value["reached"] else "NOT within"
    reverted = value["reverted_layers"]
    lines = [("accuracy-aware", f"drop {drops}: {verdict} maximal_drop {value['maximal_drop']:g} "
                                f"({value['drop_type']})"),
             ("reverted to FP32", _counted(len(reverted), "layer") + (f": {', '.join(reverted)}" if reverted else ""))]
    ranking, tried = value["ranking"], value["iterations"]
    if ranking["rankings"]:
        where = " (on the cluster's workers)" if ranking["worker_inferences"] else ""
        lines.append(("ranking", f"{ranking['inferences']} inferences{where} in {ranking['seconds']:.2f} s, "
                                 f"{_counted(ranking['rankings'], 'ranking')} (every group on all "
                                 f"{ranking['subset_samples']} samples: {ranking['full_subset_inferences']})"))
    if tried:
        seconds = [step["evaluation_seconds"] for step in tried]
        each = ": " + ", ".join(f"{s:.2f}" for s in seconds[:MAX_LISTED]) if len(seconds) > 1 else ""
        lines.append(("iterations", f"{_counted(len(tried), 'revert')} tried, "
                                    f"{sum(not step['accepted'] for step in tried)} rejected; evaluations "
                                    f"{sum(seconds):.2f} s{each}{', ...' if len(seconds) > MAX_LISTED else ''}"))
    return lines


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _size(report: dict) -> dict:
    return report["size"]


def _size_lines(value: dict) -> list[tuple[str, str]]:
    ratio = f" ({value['ratio']:.2f}x)" if value["ratio"] is not None else ""
    before, after = human_bytes(value["input_weights_bytes"]), human_bytes(value["output_weights_bytes"])
    return [("weights file", f"{before} -> {after}{ratio}")]


def _latency(report: dict) -> dict:
    latency = report["runtime"]["latency"]
    return {"isa": latency["isa"], "fp32_ms": latency["fp32_f32_ms"], "int8_ms": latency["int8_ms"],
            "speedup": latency["speedup_vs_f32"], "default_precision": latency["default_precision"],
            "fp32_default_ms": latency["fp32_default_ms"], "speedup_vs_default": latency["speedup_vs_default"]}


def _latency_lines(value: dict) -> list[tuple[str, str]]:
    lines = [(f"latency ({value['isa']})", f"FP32 {value['fp32_ms']:.3g} ms -> INT8 {value['int8_ms']:.3g} ms "
                                           f"({value['speedup']:.2f}x)")]
    if value["default_precision"] != "f32":
        lines.append((f"latency ({value['default_precision']})",
                      f"FP32 {value['fp32_default_ms']:.3g} ms -> INT8 {value['int8_ms']:.3g} ms "
                      f"({value['speedup_vs_default']:.2f}x)"))
    return lines


def _output_check(report: dict) -> dict | None:
    check = report.get("output_check")
    if check is None:
        return None
    return {"samples": check["samples"], "held_out": check["held_out"], "cosine": check["cosine"],
            "sqnr_db": check["sqnr_db"], "worst_output": check["worst_output"], "passed": check["passed"],
            "failures": check["failures"]}


def _output_check_lines(value: dict) -> list[tuple[str, str]]:
    where = f"{value['samples']} {'held-out' if value['held_out'] else 'calibration'} samples"
    text = (f"cosine {value['cosine']:.4f}, SQNR {value['sqnr_db']:.1f} dB on {where} "
            f"(worst output {value['worst_output']})")
    return [("INT8 vs FP32", text)] + [("INT8 vs FP32", f"FAILED: {failure}") for failure in value["failures"]]


def _model_family(report: dict) -> dict | None:
    section = next((s for s in report["algorithms"] if s["algorithm"] == "MinMaxQuantization"), None)
    if section is None or section["model_type"] != "transformer":
        return None
    smoothed = any(s["algorithm"] == "SmoothQuant" and s["groups"] for s in report["algorithms"])
    return {"reason": section["model_type_reason"], "smooth_quant": smoothed}


def _model_family_lines(value: dict) -> list[tuple[str, str]]:
    return [("transformer", value["reason"] + (", SmoothQuant applied" if value["smooth_quant"] else ""))]


def _cache_lines(value: dict) -> list[tuple[str, str]]:
    recomputed = [f"{value[kind]} {kind}" for kind in ("stale", "rejected") if value[kind]]
    text = f"{value['reused']} statistics reused, {value['collected']} collected"
    return [("statistics cache", text + (f" ({', '.join(recomputed)})" if recomputed else "")
             + f" in {shown_path(value['directory'])}")]


def _seconds(report: dict) -> dict:
    return report["timings_seconds"]


def _seconds_lines(value: dict) -> list[tuple[str, str]]:
    """``stage seconds`` pairs, wrapped at about LINE_WIDTH characters."""
    lines, current = [], []
    for stage, seconds in value.items():
        item = f"{stage} {seconds:.2f}"
        if current and len(", ".join(current + [item])) > LINE_WIDTH:
            lines.append(", ".join(current) + ",")
            current = []
        current.append(item)
    lines.append(", ".join(current))
    return [("seconds" if i == 0 else "", text) for i, text in enumerate(lines)]


def _outputs(report: dict) -> dict:
    output = report["files"]["output"]
    folder = os.path.dirname(output["model"]["path"])
    return {"model": output["model"]["path"], "weights": output["weights"]["path"],
            "report": os.path.join(folder, "report.json")}


def _outputs_lines(value: dict) -> list[tuple[str, str]]:
    return [("written" if i == 0 else "", shown_path(path)) for i, path in enumerate(value.values())]


RUN_ROWS = (
    Row("transformer", _model_family, _model_family_lines),
    Row("compute_layers", _compute_layers, _compute_layers_lines),
    Row("metrics", _metrics, _metrics_lines),
    Row("output_check", _output_check, _output_check_lines),
    Row("accuracy_aware", _accuracy_aware, _accuracy_aware_lines),
    Row("weights_size", _size, _size_lines),
    Row("latency", _latency, _latency_lines),
    Row("statistics_cache", lambda report: report.get("statistics_cache"), _cache_lines),
    Row("seconds", _seconds, _seconds_lines),
    Row("outputs", _outputs, _outputs_lines),
)

STATUS_TEXT = {"ok": "ok",
               "accuracy_target_not_reached": "accuracy target NOT reached (the best model found was written)",
               "output_check_failed": "INT8 vs FP32 output check FAILED (the model was written)"}


def run_summary(report: dict) -> dict:
    """The summary of a report: ``status`` and one entry per row that applies."""
    summary = {"status": report["status"]}
    for row in RUN_ROWS:
        value = row.fact(report)
        if value is not None:
            summary[row.key] = value
    return summary


def run_summary_text(summary: dict) -> str:
    lines = [line for row in RUN_ROWS if row.key in summary for line in row.lines(summary[row.key])]
    return table(f"potq run: {STATUS_TEXT[summary['status']]}", lines)


def eval_summary_text(result: dict) -> str:
    """The table ``potq eval`` prints for ``pipeline.evaluate_config``'s result."""
    lines = [("samples", str(result["samples"]))]
    lines += [(name, f"{value:.6g}") for name, value in result["metrics"].items()]
    lines += _seconds_lines(result["timings_seconds"])
    return table(f"potq eval: {shown_path(result['model'])}", lines)


def table(title: str, lines: list[tuple[str, str]]) -> str:
    width = max((len(label) for label, _ in lines), default=0)
    return "\n".join([title] + [f"  {label:<{width}}  {text}" for label, text in lines])


def human_bytes(count: int) -> str:
    value, unit = float(count), "B"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"


def shown_path(path: str) -> str:
    """``path`` relative to the working folder when it is inside it: shorter on the terminal."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
