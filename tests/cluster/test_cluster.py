"""Evaluation, statistics and accuracy-aware quantization on a local cluster of 2 worker processes give exactly
what a local run gives; a killed worker is survived; failures are one line."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .. import models
from ..conftest import REPO
from ..reliability.conftest import PLUGINS, assert_one_clean_error

DIGITS = REPO / "samples" / "digits"
KILLING_LOADER = "tests.cluster.plugins:KillingLoader"  # by module: plugins.py imports from its package


def files(folder: Path, name: str) -> tuple[bytes, bytes]:
    return (folder / f"{name}.xml").read_bytes(), (folder / f"{name}.bin").read_bytes()


def test_distributed_eval_equals_local_eval(run_cli, cluster_address):
    local = run_cli("eval", DIGITS / "test.yaml", "-o", "-")
    distributed = run_cli("eval", DIGITS / "test.yaml", "-o", "-", "--cluster", cluster_address)
    assert local.exit_code == distributed.exit_code == 0, distributed
    assert json.loads(distributed.stdout)["metrics"] == json.loads(local.stdout)["metrics"]


def test_distributed_default_quantization_writes_the_byte_identical_model(run_cli, cluster_address, tmp_path):
    for out, extra in ((tmp_path / "local", ()), (tmp_path / "cluster", ("--cluster", cluster_address))):
        result = run_cli("run", DIGITS / "config.yaml", "-o", out, "--no-progress", *extra)
        assert result.exit_code == 0, result
    assert files(tmp_path / "cluster", "digits") == files(tmp_path / "local", "digits")
    reports = [json.loads((tmp_path / run / "report.json").read_text()) for run in ("local", "cluster")]
    assert reports[1]["summary"]["metrics"] == reports[0]["summary"]["metrics"]


def test_accuracy_aware_quantization_ranks_on_the_workers_and_reverts_the_same_layers(run_cli, cluster_address,
                                                                                      tmp_path, monkeypatch):
    """The same scores, reverts and model as a local run; with a cluster this process compiles and runs no
    ranking model (without one it does: the spies see them), and the cluster's passes carry every ranking
    inference, with the switchable model's switches as extra inputs, a round's candidates in one pass."""
    from potcli.cluster.runs import ClusterRuns
    from potcli.engine.inference import Engine
    here: dict[str, list[str]] = {"local": [], "cluster": []}
    sent: list[tuple[int, list[list[str]]]] = []  # per ranking pass: inferences, extra input names per entry
    run = "local"
    compile_, infer, per_sample = Engine.compile, Engine.run, ClusterRuns.per_sample

    def compiling(self, model, what="model", *args, **kwargs):
        here[run].append(what)
        return compile_(self, model, what, *args, **kwargs)

    def inferring(self, compiled, samples, handle, requests=None, description="", *args, **kwargs):
        here[run].append(description)
        return infer(self, compiled, samples, handle, requests, description, *args, **kwargs)

    def sending(self, model, indices, handle, requests, description, extra_inputs=None, shown=True):
        if description == "Ranking":
            entries = extra_inputs if isinstance(extra_inputs, list) else [extra_inputs or {}]
            sent.append((len(indices) * len(entries), [sorted(entry) for entry in entries]))
        return per_sample(self, model, indices, handle, requests, description, extra_inputs, shown)

    monkeypatch.setattr(Engine, "compile", compiling)
    monkeypatch.setattr(Engine, "run", inferring)
    monkeypatch.setattr(ClusterRuns, "per_sample", sending)
    for run, extra in (("local", ()), ("cluster", ("--cluster", cluster_address))):
        result = run_cli("run", DIGITS / "config_aaq.yaml", "-o", tmp_path / run, "--no-progress", *extra)
        assert result.exit_code == 0, result
    reports = [json.loads((tmp_path / run / "report.json").read_text()) for run in ("local", "cluster")]
    sections = [next(s for s in report["algorithms"] if s["algorithm"] == "AccuracyAwareQuantization")
                for report in reports]
    assert sections[0]["result"]["reverted_layers"] == ["res.conv2"]
    assert sections[1]["result"] == sections[0]["result"]
    assert files(tmp_path / "cluster", "digits_aaq") == files(tmp_path / "local", "digits_aaq")
    steps = [[(step["layers"], step["score"], step["score_samples"]) for step in section["iterations"]]
             for section in sections]
    assert steps[1] == steps[0]

    def ranking(names: list[str]) -> list[str]:
        return [name for name in names if "ranking" in name.lower()]

    local, cluster = (section["ranking"] for section in sections)
    assert ranking(here["local"]) and local["worker_inferences"] == 0
    assert ranking(here["cluster"]) == [], "the ranking compiled or ran a model in this process"
    assert cluster["worker_inferences"] == cluster["inferences"] == sum(count for count, _ in sent) > 0
    assert all(names and all(name.startswith("potq_keep_") for name in names)
               for _, entries in sent for names in entries)
    assert max(len(entries) for _, entries in sent) > 1, "a round's candidates were not sent as one pass"
    assert reports[1]["summary"]["accuracy_aware"]["ranking"]["worker_inferences"] == cluster["inferences"]


def test_a_switchable_model_the_workers_cannot_compile_leaves_the_ranking_to_compiled_candidates_there(
        run_cli, cluster_address, tmp_path, monkeypatch):
    """As a local run does when OpenVINO cannot compile the switchable model: the candidates are then the
    reverted models, each a pass on the workers, and the same layer is reverted."""
    from potcli.cluster.runs import ClusterRuns
    from potcli.errors import ModelError
    per_sample, compiled_passes = ClusterRuns.per_sample, []

    def refusing(self, model, indices, handle, requests, description, extra_inputs=None, shown=True):
        if any(extra_inputs if isinstance(extra_inputs, list) else [extra_inputs]):  # the switches
            raise ModelError("OpenVINO cannot compile the model for evaluation on CPU: unsupported (on worker x)")
        if description == "Ranking":
            compiled_passes.append(len(indices))
        return per_sample(self, model, indices, handle, requests, description, extra_inputs, shown)

    monkeypatch.setattr(ClusterRuns, "per_sample", refusing)
    result = run_cli("run", DIGITS / "config_aaq.yaml", "-o", tmp_path, "--no-progress", "--cluster", cluster_address)
    assert result.exit_code == 0, result
    section = next(s for s in json.loads((tmp_path / "report.json").read_text())["algorithms"]
                   if s["algorithm"] == "AccuracyAwareQuantization")
    assert section["result"]["reverted_layers"] == ["res.conv2"]
    ranking = section["ranking"]
    assert {round_["measured_on"] for round_ in ranking["rankings"][0]["rounds"]} == {"compiled"}
    assert "switchable_check" not in ranking["rankings"][0]
    assert ranking["worker_inferences"] == ranking["inferences"] == sum(compiled_passes) > 0


def test_ranking_scores_against_fp32_outputs_on_the_workers_equal_local_ones(cluster_address):
    """A Metric without per-sample values: the ranking scores by the error of the outputs against FP32, whose
    outputs the workers compute too when no evaluation kept them."""
    import numpy as np

    from potcli.algorithms.accuracy_aware.scoring import SampleScorer
    from potcli.algorithms.context import RunContext
    from potcli.config.settings import ClusterSettings
    from potcli.engine.inference import Engine
    from potcli.pipeline import make_engine

    from ..reliability.plugins import ArrayLoader
    fp32, candidate, indices = models.conv_relu(), models.conv_relu(seed=1), list(range(20))
    engines = {"local": Engine(), "cluster": make_engine("CPU", ClusterSettings(None, cluster_address, "--cluster"),
                                                         None, "test", (f"{PLUGINS}:ArrayLoader", {"count": 20},
                                                                        str(PLUGINS.parent)))}
    scores, on_workers = {}, {}
    try:
        for name, engine in engines.items():
            scorer = SampleScorer(RunContext(engine, ArrayLoader(count=20), None, False, None, None, "m"), fp32,
                                  indices, False, None)
            scorer.reference = scorer.outputs(scorer.prepared(fp32, "FP32 model for ranking"), indices)
            scores[name] = scorer.model_scores(candidate, indices)
            on_workers[name] = scorer.worker_inferences
    finally:
        engines["cluster"].remote.close()
    assert np.all(scores["local"] < 0)
    assert np.array_equal(scores["cluster"], scores["local"])
    assert on_workers == {"local": 0, "cluster": 20}


def config(tmp_path: Path, loader: str, loader_args: dict, params: dict | None = None, name="c.yaml",
           metric=True) -> Path:
    models.save(models.conv_relu(), tmp_path / "model.xml")
    engine = {"data_loader": loader, "data_loader_args": loader_args}
    if metric:
        engine.update(metric=f"{PLUGINS}:BadMetric", metric_args={"mode": "ok"})
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"model": {"model_name": "m", "model": "model.xml"}, "engine": engine,
                                    "compression": {"algorithms": [{"name": "DefaultQuantization",
                                                                    "params": params or {}}]}}))
    return path


def test_statistics_in_batches_give_the_same_model_and_a_cache_a_local_run_reuses(run_cli, cluster_address,
                                                                                    tmp_path):
    """stat_batch_size 4 over 30 samples: shards of whole batches; the statistics cache's data hash is the same
    whether the samples were read by workers or here."""
    path = config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 30}, {"stat_batch_size": 4}, metric=False)
    cache = tmp_path / "cache"
    first = run_cli("run", path, "-o", tmp_path / "cluster", "--stats-cache", cache, "--json", "--cluster",
                    cluster_address)
    assert first.exit_code == 0, first
    assert json.loads(first.stdout)["statistics_cache"]["collected"] > 0
    local = run_cli("run", path, "-o", tmp_path / "local", "--stats-cache", cache, "--json")
    assert local.exit_code == 0, local
    counts = json.loads(local.stdout)["statistics_cache"]
    assert counts["reused"] > 0 and counts["collected"] == counts["stale"] == 0, counts
    fresh = run_cli("run", path, "-o", tmp_path / "fresh")
    assert fresh.exit_code == 0, fresh
    assert files(tmp_path / "cluster", "m") == files(tmp_path / "local", "m") == files(tmp_path / "fresh", "m")


def test_a_worker_killed_mid_evaluation_is_survived_with_an_unchanged_result(run_cli, cluster_address, tmp_path):
    args = {"count": 64}
    local = run_cli("eval", config(tmp_path, f"{PLUGINS}:ArrayLoader", args), "-o", "-")
    marker = tmp_path / "killed-once"
    killing = config(tmp_path, KILLING_LOADER, {**args, "kill_at": 37, "once": str(marker)},
                     name="killing.yaml")
    result = run_cli("eval", killing, "-o", "-", "--cluster", cluster_address)
    assert marker.exists(), "no worker was killed"
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["metrics"] == json.loads(local.stdout)["metrics"]
    assert "Traceback" not in result.stderr


def test_a_sample_that_kills_every_worker_fails_the_run_in_one_line_and_keeps_earlier_outputs(
        run_cli, cluster_address, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 16}), "-o", out).exit_code == 0
    before = files(out, "m"), (out / "report.json").read_bytes()
    killing = config(tmp_path, KILLING_LOADER, {"count": 16, "kill_at": 5},
                     name="killing.yaml")
    result = run_cli("run", killing, "-o", out, "--cluster", cluster_address, "--log-level", "error")
    assert_one_clean_error(result, 1, "Statistics: samples ", "the workers holding them died 3 times")
    assert (files(out, "m"), (out / "report.json").read_bytes()) == before


def test_a_sample_the_data_loader_cannot_give_fails_as_locally_naming_the_worker(run_cli, cluster_address, tmp_path):
    result = run_cli("eval", config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 16, "fail_at": 9}),
                     "--cluster", cluster_address)
    assert_one_clean_error(result, 1, "DataLoader[9] raised OSError: cannot decode sample 9", "(on worker tcp://")


def test_a_plugin_the_workers_cannot_import_is_reported_with_their_cause(run_cli, cluster_address, tmp_path,
                                                                         mock_module):
    """The module is importable here (on this process's sys.path) but not where the workers run."""
    mock_module("only_here.py", """
        from tests.reliability.plugins import ArrayLoader as OnlyHereLoader
    """)
    result = run_cli("eval", config(tmp_path, "only_here:OnlyHereLoader", {"count": 8}), "--cluster",
                     cluster_address)
    assert_one_clean_error(result, 1, "engine.data_loader: no module named 'only_here'", "(on worker tcp://")


def test_pot_api_evaluates_on_the_cluster_named_in_the_engine_config(cluster_address, tmp_path):
    """IEEngine(config={"cluster": ...}): the DataLoader object itself travels to the workers."""
    from potcli import IEEngine, create_pipeline, load_model

    from ..reliability.plugins import ArrayLoader, BadMetric
    models.save(models.conv_relu(), tmp_path / "model.xml")
    model = load_model({"model_name": "m", "model": str(tmp_path / "model.xml")})
    results = []
    for engine_config in ({"device": "CPU"}, {"device": "CPU", "cluster": cluster_address}):
        engine = IEEngine(engine_config, ArrayLoader(count=20), BadMetric("ok"))
        pipeline = create_pipeline([{"name": "DefaultQuantization", "params": {"stat_subset_size": 12}}], engine)
        quantized = pipeline.run(model)
        results.append((files_of(quantized, tmp_path / str(len(results))), pipeline.evaluate(quantized)))
    assert results[1] == results[0]


def files_of(compressed, folder: Path) -> tuple[bytes, bytes]:
    compressed.save(folder, "m")
    return files(folder, "m")


@pytest.mark.parametrize("sig,to_group,code", [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)])
def test_a_signal_stops_the_cluster_work_exits_as_locally_and_leaves_no_worker(tmp_path, sig, to_group, code):
    """^C in a terminal reaches the whole process group (workers too); SIGTERM only potq. Either way: one line,
    the exit code of a local run, earlier outputs kept, and the workers potq started are gone."""
    pytest.importorskip("distributed")
    marker = tmp_path / "reading"  # holds the pid of the worker that reads
    path = config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 400, "sleep": 0.05, "marker": str(marker)})
    process = subprocess.Popen([sys.executable, "-m", "potcli", "eval", str(path), "--workers", "2"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)
    worker = int(marker.read_text())
    os.killpg(process.pid, sig) if to_group else process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr == f"potq: interrupted by {signal.Signals(sig).name}\n"
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_batch_shares_one_cluster_between_its_configs_and_writes_what_local_runs_write(run_cli, cluster_address,
                                                                                       tmp_path):
    first = config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 24}, name="first.yaml")
    second = tmp_path / "second.yaml"
    second.write_text(first.read_text().replace("model_name: m", "model_name: n").replace("{}", "{preset: mixed}"))
    for out, extra in ((tmp_path / "local", ()), (tmp_path / "cluster", ("--cluster", cluster_address))):
        result = run_cli("batch", first, second, "-o", out, "--no-progress", *extra)
        assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2, result
    for name in ("m", "n"):
        assert files(tmp_path / "cluster" / name, name) == files(tmp_path / "local" / name, name)


def test_the_ranking_seam_runs_a_model_with_inputs_the_data_loader_does_not_give(cluster_address):
    """engine.remote.per_sample(..., extra_inputs=...): how AccuracyAwareQuantization's ranking (the switches of
    its switchable model) moves to the workers; the outputs equal a local run's. A list of extra inputs runs the
    samples once per entry, entry after entry, in one pass."""
    import numpy as np

    from potcli.config.settings import ClusterSettings
    from potcli.engine.batching import run_per_sample
    from potcli.engine.inference import Engine
    from potcli.pipeline import make_engine

    from ..reliability.plugins import ArrayLoader
    model, loader = models.two_inputs(), ArrayLoader(count=20, input_name="left")
    right = np.full((1, 3, 8, 8), 0.25, np.float32)
    local = {}
    run_per_sample(Engine(), model, ((i, {"left": loader[i][0]["left"], "right": right}) for i in range(20)),
                   lambda index, outputs: local.__setitem__(index, outputs), None, "", 20, "model")
    engine = make_engine("CPU", ClusterSettings(None, cluster_address, "--cluster"), loader, "test",
                         (f"{PLUGINS}:ArrayLoader", {"count": 20, "input_name": "left"}, str(PLUGINS.parent)))
    remote, entries = {}, []
    try:
        engine.remote.per_sample(model, range(20), lambda index, outputs, *_: remote.__setitem__(index, outputs),
                                 None, "Ranking", extra_inputs={"right": right})
        engine.remote.per_sample(model, range(20), lambda index, outputs, *_: entries.append((index, outputs)),
                                 None, "Ranking", extra_inputs=[{"right": right}, {"right": 2 * right}])
    finally:
        engine.remote.close()
    assert list(remote) == list(range(20))
    assert all(np.array_equal(remote[i][0], local[i][0]) for i in range(20))
    assert [index for index, _ in entries] == [*range(20), *range(20)]
    assert all(np.array_equal(outputs[0], local[i][0]) for i, outputs in entries[:20])
    assert not any(np.array_equal(outputs[0], local[i][0]) for i, outputs in entries[20:])


def test_a_shard_that_keeps_failing_for_another_reason_is_tried_3_times_then_fails_in_one_line(
        run_cli, cluster_address, tmp_path):
    """Annotations that cannot travel back (a lock) fail the shard on every worker: retried, then one error."""
    path = config(tmp_path, "tests.cluster.plugins:LockAnnotatedLoader", {"count": 8})
    result = run_cli("eval", path, "--cluster", cluster_address)
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "trying again" in lines[0] and "Traceback" not in result.stderr, result
    assert lines[1].startswith("potq: error: Evaluation: samples ") and " failed 3 times" in lines[1], result


def test_a_cluster_that_cannot_be_reached_is_one_line(run_cli, monkeypatch, tmp_path):
    pytest.importorskip("distributed")
    from potcli.cluster import connection
    monkeypatch.setattr(connection, "CONNECT_SECONDS", 1)
    path = config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 8})
    result = run_cli("eval", path, "--cluster", "tcp://127.0.0.1:9")  # the discard port: nothing listens
    assert_one_clean_error(result, 1, "cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_workers_running_another_potq_are_refused(run_cli, cluster_address, monkeypatch, tmp_path):
    import potcli.version
    monkeypatch.setattr(potcli.version, "__version__", "0.0.1")  # in this process, not in the workers
    result = run_cli("eval", config(tmp_path, f"{PLUGINS}:ArrayLoader", {"count": 8}), "--cluster", cluster_address)
    assert_one_clean_error(result, 1, "worker tcp://127.0.0.1:", "runs potq", "this run potq 0.0.1",
                           "install the same versions on every worker")
