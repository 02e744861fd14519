"""The statistics cache through potq run: reruns that need the same statistics skip collecting them and give
the same model; stale, corrupt and foreign entries are recomputed; concurrent runs share a folder safely."""
import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from potcli.algorithms import sampling
from potcli.config.schema import report_schema

from .. import models
from ..conftest import REPO


@pytest.fixture
def passes(monkeypatch):
    """Counts the statistics passes that really run inference."""
    calls = []
    collect = sampling.collect_statistics

    def counted(*args, **kwargs):
        calls.append(1)
        return collect(*args, **kwargs)

    monkeypatch.setattr(sampling, "collect_statistics", counted)
    return calls


def run(run_cli, config, out, *extra):
    result = run_cli("run", config, "-o", out, "--no-progress", "--no-evaluation", *extra)
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    return report, result


def edited(path, change) -> None:
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config))


def params_of(config):
    return config["compression"]["algorithms"][0]["params"]


def test_a_rerun_skips_collection_and_gives_the_same_model(run_cli, tiny_config, tmp_path, passes):
    config, cache = tiny_config(), tmp_path / "cache"
    first, _ = run(run_cli, config, tmp_path / "a", "--stats-cache", cache)
    # one pass: the statistics, and the values the range search scores its candidates on
    assert len(passes) == 1 and first["statistics_cache"]["reused"] == 0
    collected = first["statistics_cache"]["collected"]
    second, result = run(run_cli, config, tmp_path / "b", "--stats-cache", cache)
    assert len(passes) == 1, "the rerun ran a statistics pass"
    # 12: the activation quantizers' bounds and extremes, the layers' input means for bias correction, and the
    # values the range search scores its candidates on
    assert second["statistics_cache"] == {"directory": str(cache.resolve()), "reused": 12, "collected": 0,
                                          "stale": 0, "rejected": 0}
    assert collected > 12  # the first run also stored what other presets and no ignored scope need
    assert "statistics cache  12 statistics reused, 0 collected in " in result.stdout
    run(run_cli, config, tmp_path / "c")
    for name in ("m.xml", "m.bin"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()


@pytest.mark.parametrize("change", [
    lambda c: params_of(c).update(preset="mixed"),
    lambda c: params_of(c).update(ignored={"scope": ["conv2"]}),
    lambda c: c["compression"]["algorithms"][0].update(name="AccuracyAwareQuantization",
                                                       params={"maximal_drop": 0.5}),
], ids=["preset", "ignored_scope", "accuracy_aware_maximal_drop"])
def test_changes_that_need_no_new_statistics_skip_collection(run_cli, tiny_config, tmp_path, passes, change):
    config, cache = tiny_config(metric="Similarity"), tmp_path / "cache"
    run(run_cli, config, tmp_path / "a", "--stats-cache", cache)
    first = len(passes)
    edited(config, change)
    cached, _ = run(run_cli, config, tmp_path / "b", "--stats-cache", cache)
    assert len(passes) == first and cached["statistics_cache"]["collected"] == 0
    run(run_cli, config, tmp_path / "c")
    for name in ("m.xml", "m.bin"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()


def test_other_data_at_the_same_indices_is_stale_and_recollected(run_cli, tiny_config, tmp_path, passes):
    config, cache = tiny_config(), tmp_path / "cache"
    run(run_cli, config, tmp_path / "a", "--stats-cache", cache)
    first = len(passes)
    edited(config, lambda c: c["engine"]["data_loader_args"].update(seed=7))
    report, _ = run(run_cli, config, tmp_path / "b", "--stats-cache", cache)
    assert len(passes) == 2 * first
    assert report["statistics_cache"]["stale"] == 12 and report["statistics_cache"]["reused"] == 0
    run(run_cli, config, tmp_path / "c")
    assert (tmp_path / "b" / "m.bin").read_bytes() == (tmp_path / "c" / "m.bin").read_bytes()


def test_another_model_gets_its_own_entries(run_cli, tiny_config, tmp_path, passes):
    config, cache = tiny_config(), tmp_path / "cache"
    run(run_cli, config, tmp_path / "a", "--stats-cache", cache)
    first = len(passes)
    models.save(models.conv_relu(seed=1), tmp_path / "model.xml")
    report, _ = run(run_cli, config, tmp_path / "b", "--stats-cache", cache)
    assert len(passes) == 2 * first and report["statistics_cache"]["reused"] == 0


def test_corrupt_and_foreign_entries_are_never_trusted(run_cli, tiny_config, tmp_path, passes):
    config, cache = tiny_config(), tmp_path / "cache"
    run(run_cli, config, tmp_path / "a", "--stats-cache", cache)
    first = len(passes)
    entries = sorted(cache.glob("*.npz"))
    contents = [path.read_bytes() for path in entries]
    for i, path in enumerate(entries):  # truncated, or another entry's content under this name
        path.write_bytes(contents[i][:40] if i % 2 else contents[(i + 1) % len(entries)])
    report, result = run(run_cli, config, tmp_path / "b", "--stats-cache", cache)
    assert len(passes) == 2 * first and report["statistics_cache"]["reused"] == 0
    assert report["statistics_cache"]["rejected"] >= 1
    assert "is unreadable" in result.stderr or "holds another entry" in result.stderr
    again, _ = run(run_cli, config, tmp_path / "c", "--stats-cache", cache)
    assert len(passes) == 2 * first and again["statistics_cache"]["reused"] == 12
    run(run_cli, config, tmp_path / "d")
    assert (tmp_path / "b" / "m.bin").read_bytes() == (tmp_path / "d" / "m.bin").read_bytes()


def test_the_config_key_names_the_folder_relative_to_the_config(run_cli, tiny_config, tmp_path, passes):
    config = tiny_config(compression={"stats_cache": "cache"})
    run(run_cli, config, tmp_path / "a")
    first = len(passes)
    report, _ = run(run_cli, config, tmp_path / "b")
    assert report["statistics_cache"]["directory"] == str(tmp_path / "cache")
    assert report["config"]["compression"]["stats_cache"] == str(tmp_path / "cache")
    assert len(passes) == first


def test_concurrent_runs_share_one_folder(tiny_config, tmp_path):
    config, cache = tiny_config(count=32), tmp_path / "cache"
    runs = [subprocess.Popen([sys.executable, "-m", "potcli", "run", str(config), "-o", str(tmp_path / f"out{i}"),
                              "--stats-cache", str(cache), "--no-progress", "--no-evaluation", "--json"],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in runs]
    assert all(code == 0 for code, _, _ in results), results
    assert all(json.loads(out)["statistics_cache"]["rejected"] == 0 for _, out, _ in results)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".npz")) == []  # no temporary files left
    bins = {(tmp_path / f"out{i}" / "m.bin").read_bytes() for i in range(3)}
    assert len(bins) == 1


def test_a_cache_folder_that_cannot_be_created_is_a_warning(run_cli, tiny_config, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    report, result = run(run_cli, tiny_config(), tmp_path / "a", "--stats-cache", tmp_path / "file" / "cache")
    assert report["status"] == "ok" and report["statistics_cache"]["reused"] == 0
    assert "statistics were not stored" in result.stderr
