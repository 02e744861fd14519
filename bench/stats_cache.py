"""potq's statistics cache on the ResNet-18-style model: reruns with the cache against a run without it.

    python bench/stats_cache.py            # 3 runs of each kind (about 3 minutes on 2 cores)
    python bench/stats_cache.py --quick    # 1 run of each kind, 100 samples

Every run is a whole `potq run` in its own process (DefaultQuantization, 300 seeded synthetic samples), timed
from outside; the table also quotes the DefaultQuantization and statistics stages from the run's report.
Kinds: no cache; the first run with an empty cache (it collects and stores, with what other presets and no
ignored scope would need); a rerun of the same config; a rerun with preset mixed. Each cached rerun's model
is checked to be byte-identical to the one a run without cache writes for that config.
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import openvino as ov
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH, heading, machine_line, markdown_table, timed_potq  # noqa: E402


def write_config(workdir: Path, subset: int, preset: str) -> Path:
    import models
    model = workdir / "resnet_like.xml"
    if not model.exists():
        ov.save_model(models.resnet_like(), str(model), compress_to_fp16=False)
    config = {"model": {"model": str(model)},
              "engine": {"data_loader": f"{BENCH / 'quantize.py'}:SyntheticLoader",
                         "data_loader_args": {"shape": [1, 3, 224, 224], "size": subset}},
              "compression": {"target_device": "CPU", "algorithms": [
                  {"name": "DefaultQuantization", "params": {"preset": preset, "stat_subset_size": subset}}]}}
    path = workdir / f"{preset}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def potq_run(config: Path, out: Path, cache: Path | None) -> dict:
    """One `potq run` in its own process: wall seconds and the summary it prints."""
    wall, summary = timed_potq(["run", str(config), "-o", str(out), "--no-evaluation",
                                *(["--stats-cache", str(cache)] if cache else [])])
    return {"wall": wall, "quantization": summary["seconds"]["DefaultQuantization"],
            "statistics": summary["seconds"]["statistics"], "cache": summary.get("statistics_cache"),
            "bin": (out / "resnet_like.bin").read_bytes()}


def median_run(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in ("wall", "quantization", "statistics")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run of each kind, 100 samples")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=int, default=300)
    args = parser.parse_args(argv)
    repeats, subset = (1, 100) if args.quick else (args.repeats, args.subset)
    print(f"machine: {machine_line()}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        performance, mixed = write_config(work, subset, "performance"), write_config(work, subset, "mixed")
        runs = {"no cache": [potq_run(performance, work / f"plain{i}", None) for i in range(repeats)]}
        reference_mixed = potq_run(mixed, work / "plain_mixed", None)["bin"]
        runs["cache, first run (empty cache)"] = [potq_run(performance, work / f"first{i}", work / f"cache{i}")
                                                  for i in range(repeats)]
        runs["cache, rerun"] = [potq_run(performance, work / f"rerun{i}", work / "cache0") for i in range(repeats)]
        runs["cache, rerun with preset mixed"] = [potq_run(mixed, work / f"mixed{i}", work / "cache0")
                                                  for i in range(repeats)]
        same = all(run["bin"] == runs["no cache"][0]["bin"] for run in runs["cache, rerun"]) and \
            all(run["bin"] == reference_mixed for run in runs["cache, rerun with preset mixed"])
        reused = [run["cache"]["reused"] for kind in ("cache, rerun", "cache, rerun with preset mixed")
                  for run in runs[kind]]
        base = median_run(runs["no cache"])
        rows = []
        for kind, measured in runs.items():
            median = median_run(measured)
            rows.append([kind, median["wall"], median["quantization"], median["statistics"],
                         median["quantization"] / base["quantization"], median["wall"] / base["wall"]])
        print(heading(f"Statistics cache, resnet_like, {subset} samples (median of {repeats} runs, each a "
                      f"`potq run` in its own process)"))
        print(markdown_table(["run", "potq run wall s", "DefaultQuantization s", "statistics s",
                              "quantization vs no cache", "wall vs no cache"], rows))
        print(f"\ncached reruns wrote byte-identical models: {'yes' if same else 'NO'}; statistics reused per "
              f"rerun: {sorted(set(reused))}; collected by the first run: "
              f"{runs['cache, first run (empty cache)'][0]['cache']['collected']}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
