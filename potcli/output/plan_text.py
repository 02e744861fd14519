"""The table ``potq run --dry-run`` prints for ``pipeline.plan_config``'s result."""
from .summary import MAX_LISTED, shown_path, table


def plan_text(plan: dict) -> str:
    lines = [("model", f"{shown_path(plan['model'])} ({plan['operations']} operations, "
                       f"{plan['compute_operations']} compute)"),
             ("data", f"{plan['data']} (not loaded)"),
             ("metric", f"{plan['metric']} (not loaded)" if plan["metric"] else "none"),
             ("output", f"{shown_path(plan['output_dir'])} (nothing written)")]
    for entry in plan["algorithms"]:
        label = f"algorithms[{entry['index']}]"
        lines.append((label, entry["algorithm"]))
        lines += [("", f"{number}. {step}") for number, step in enumerate(entry["steps"], 1)]
        if "quantized" in entry:
            lines += _placement_lines(entry)
    return table(f"potq run --dry-run: {shown_path(plan['config'])}", lines)


def _placement_lines(entry: dict) -> list[tuple[str, str]]:
    counts = entry["quantizers"]
    lines = [("quantizers", f"{counts['activations']} on activations, {counts['weights']} on weights")]
    for name, row in entry["quantized"].items():
        parts = [f"input{'s' if len(row['inputs']) > 1 else ''} {', '.join(map(str, row['inputs']))}"] \
            if row["inputs"] else []
        parts += ["weights"] if row["weights"] else []
        lines.append(("quantized", f"{name} ({row['type']}): {' and '.join(parts)}"))
    left = list(entry["floating_point"].items())
    lines += [("left in FP32", f"{name}: {reason}") for name, reason in left[:MAX_LISTED]]
    if len(left) > MAX_LISTED:
        lines.append(("left in FP32", f"... and {len(left) - MAX_LISTED} more (--json lists all)"))
    lines += [("matches nothing", f"{row['path']}: {row['message']}") for row in entry["unmatched_ignored"]]
    return lines
