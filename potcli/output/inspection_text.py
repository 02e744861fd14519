"""The table ``potq inspect`` prints for ``pipeline.inspect_model``'s result."""
from .summary import human_bytes, shown_path, table


def inspect_text(result: dict) -> str:
    graph, runtime = result["graph"], result["runtime"]
    quantizers = graph["fake_quantize"]
    levels = ", ".join(f"levels {levels}: {count}" for levels, count in quantizers["by_levels"].items())
    weights = ", ".join(f"{kind}: {row['count']} ({human_bytes(row['bytes'])})"
                        for kind, row in graph["weights"].items())
    operations = graph["compute_operations"]
    precisions = ", ".join(f"{p}: {n}" for p, n in runtime["by_precision"].items())
    lines = [("operations", str(graph["operations"])),
             ("FakeQuantize", f"{quantizers['count']}" + (f" ({levels})" if levels else "")),
             ("they feed", ", ".join(f"{kind} {count}" for kind, count in quantizers["feeds"].items()) or "-"),
             ("weights", weights or "none constant"),
             ("graph", f"{len(operations) - len(graph['floating_point_compute'])} of {len(operations)} compute "
                       f"operations have quantized inputs and weights"),
             ("CPU runs", f"{runtime['int8_compute_layers']} of {runtime['compute_layers']} compute layers in INT8"
                          + (f" ({precisions})" if precisions else "")
                          + f"; {runtime['standalone_fake_quantize']} FakeQuantize not fused")]
    files = result["files"]
    title = f"potq inspect: {shown_path(files['model']['path'])}"
    return table(title, lines) + ("\n\n" + _operations_table(operations, runtime["operations"]) if operations else "")


def _operations_table(operations: dict, runtime: dict) -> str:
    rows = [("compute operation", "type", "weights", "CPU", "in the graph")]
    for name, row in operations.items():
        weights = row["weights"]["element_type"] if row["weights"] else "-"
        graph = "quantized" if row["quantized"] else f"floating point: {row['why']}"
        rows.append((name, row["type"], weights, runtime[name]["precision"] or "untraced", graph))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  " + "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
                     + "  " + row[-1] for row in rows)
