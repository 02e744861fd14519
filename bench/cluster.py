"""potq without a cluster, with 1 and with 2 local workers (`--workers N`), on two cases:

    python bench/cluster.py            # 3 repeats (about 4 minutes on 2 cores)
    python bench/cluster.py --quick    # 1 repeat, 128 evaluation samples

- digits AAQ: `potq run samples/digits/config_aaq.yaml` (AccuracyAwareQuantization on the 1000-image split:
  an FP32 evaluation, two INT8 evaluations, statistics on 300 images, one ranking, whose inferences run on the
  workers with a cluster: the table counts them);
- a larger evaluation: `potq eval` of the ResNet-18-style model (bench/models.py, 3x224x224) on --samples seeded
  synthetic images, with a Metric that counts the top class.

Every run is a whole potq command in its own process, timed from outside (median of --repeats); the table also
quotes the stages from its JSON summary, and the per-sample costs a reader needs for README's model of AAQ time.
Each cluster run is checked to give what the run without a cluster gives (metrics, AAQ's drop and reverted layers,
and the model's bytes; not the seconds and counts the summary also holds).
Needs potq's cluster extra (pip install 'potq[cluster]'); run it from the repository with the venv that has it.
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import openvino as ov
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH, REPO, heading, machine_line, markdown_table, timed_potq  # noqa: E402

MODES = {"no cluster": [], "--workers 1": ["--workers", "1"], "--workers 2": ["--workers", "2"]}


class TopClass:
    """A POT Metric: the share of samples whose top class is 0 (any deterministic function of the outputs)."""

    def __init__(self):
        self.hits = []

    @property
    def avg_value(self):
        return {"top_is_0": float(np.mean(self.hits))}

    def update(self, outputs, _annotations):
        self.hits.append(float(np.argmax(outputs[0]) == 0))

    def reset(self):
        self.hits = []

    def get_attributes(self):
        return {"top_is_0": {"direction": "higher-better", "type": "share"}}


def potq(args: list[str], out: Path | None = None, name: str = "") -> dict:
    """One potq command in its own process: wall seconds, its JSON summary, and the model it wrote."""
    wall, summary = timed_potq(args)
    model = (out / f"{name}.xml").read_bytes() + (out / f"{name}.bin").read_bytes() if out else b""
    return {"wall": wall, "summary": summary, "model": model}


def digits_aaq(work: Path, mode: list[str], run: int) -> dict:
    out = work / f"aaq{run}{''.join(mode)}"
    measured = potq(["run", str(REPO / "samples/digits/config_aaq.yaml"), "-o", str(out), *mode], out, "digits_aaq")
    seconds = measured["summary"]["seconds"]
    evaluations = seconds["fp32 evaluation"] + seconds["int8 evaluation"]
    outcome = measured["summary"]["accuracy_aware"]
    ranking = outcome["ranking"]
    return {"wall": measured["wall"], "evaluations": evaluations, "statistics": seconds["statistics"],
            "ranking": seconds.get("ranking", 0.0), "ranking inferences": ranking["inferences"],
            "on workers": ranking["worker_inferences"],
            "result": ({key: outcome[key] for key in ("reached", "drop", "reverted_layers")}, measured["model"])}


def resnet_config(work: Path, samples: int) -> Path:
    import models
    model = work / "resnet_like.xml"
    ov.save_model(models.resnet_like(), str(model), compress_to_fp16=False)
    config = {"model": {"model": str(model)},
              "engine": {"data_loader": f"{BENCH / 'cases.py'}:SyntheticLoader",
                         "data_loader_args": {"shape": [1, 3, 224, 224], "size": samples},
                         "metric": f"{BENCH / 'cluster.py'}:TopClass"},
              "compression": {"algorithms": [{"name": "DefaultQuantization", "params": {}}]}}
    path = work / "resnet_eval.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def resnet_eval(config: Path, mode: list[str]) -> dict:
    measured = potq(["eval", str(config), *mode])
    return {"wall": measured["wall"], "evaluations": measured["summary"]["timings_seconds"]["evaluation"],
            "result": measured["summary"]["metrics"]}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def table(title: str, runs: dict[str, list[dict]], samples: int, columns: list[str], counts: tuple = ()) -> str:
    """``columns``: seconds; ``counts``: numbers of something (inferences)."""
    base = runs["no cluster"]
    rows = []
    for mode, measured in runs.items():
        row = [mode, median(measured, "wall")] + [median(measured, column) for column in columns]
        row += [median(measured, column) for column in counts]
        rows.append(row + [median(measured, "evaluations") / samples * 1000,
                           median(runs["--workers 1"], "evaluations") / median(measured, "evaluations"),
                           median(base, "wall") / median(measured, "wall")])
    header = ["run", "wall s", *[f"{column} s" for column in columns], *counts, "evaluation ms/sample",
              "evaluation speed vs 1 worker", "wall speed vs no cluster"]
    return heading(title) + "\n" + markdown_table(header, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 128 evaluation samples")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=384, help="ResNet evaluation samples")
    args = parser.parse_args(argv)
    repeats, samples = (1, 128) if args.quick else (args.repeats, args.samples)
    print(f"machine: {machine_line()}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = resnet_config(work, samples)
        aaq = {mode: [] for mode in MODES}
        evaluation = {mode: [] for mode in MODES}
        for run in range(repeats):  # modes interleaved, so that a noisy minute does not hit one mode only
            for mode, flags in MODES.items():
                aaq[mode].append(digits_aaq(work, flags, run))
                evaluation[mode].append(resnet_eval(config, flags))
        same = all(run["result"] == aaq["no cluster"][0]["result"] for runs in aaq.values() for run in runs) and \
            all(run["result"] == evaluation["no cluster"][0]["result"] for runs in evaluation.values() for run in runs)
        # digits AAQ evaluates 1000 samples 3 times (FP32, DefaultQuantization, one revert)
        print(table(f"digits AAQ (samples/digits/config_aaq.yaml; median of {repeats})", aaq, 3 * 1000,
                    ["evaluations", "statistics", "ranking"], ("ranking inferences", "on workers")))
        print()
        print(table(f"potq eval, resnet_like, {samples} samples (median of {repeats})", evaluation, samples,
                    ["evaluations"]))
        print(f"\nevery cluster run gave the results of the run without a cluster (metrics, reverted layers, model "
              f"bytes): {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
