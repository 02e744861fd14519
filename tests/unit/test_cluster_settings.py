"""--workers / --cluster and engine.workers / engine.cluster: how they are read and refused, and how a pass is
cut into shards (no cluster is started here)."""
import sys

import pytest
import yaml

from potcli.cluster.shards import SHARDS_PER_WORKER, InOrder, shard_ranges
from potcli.config import load_config, with_cluster

from ..conftest import REPO

DIGITS = REPO / "samples" / "digits"


@pytest.mark.parametrize("count,workers,align", [(797, 2, 64), (1000, 2, 1), (5, 4, 1), (64, 2, 64), (1, 1, 8),
                                                 (300, 3, 7)])
def test_shards_cover_every_item_once_in_order_starting_on_the_alignment(count, workers, align):
    ranges = shard_ranges(count, workers, align)
    assert [i for r in ranges for i in r] == list(range(count))
    assert all(r.start % align == 0 for r in ranges)
    assert len(ranges) <= max(1, workers * SHARDS_PER_WORKER)


def test_shard_results_are_consumed_in_shard_order_whatever_order_they_arrive_in():
    consumed = []
    order = InOrder(consumed.append)
    for position in (2, 0, 3, 1, 4):
        order.add(position, f"shard {position}")
    assert consumed == [f"shard {i}" for i in range(5)]


def write_config(tmp_path, **engine):
    config = yaml.safe_load((DIGITS / "config.yaml").read_text())
    config["engine"].update(engine)
    config["model"]["model"] = str(DIGITS / config["model"]["model"])
    config["model"].pop("weights", None)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_engine_workers_and_cluster_are_read_and_the_command_line_overrides_them(tmp_path):
    settings = load_config(write_config(tmp_path, workers=3)).engine.cluster
    assert (settings.workers, settings.address, settings.given_as) == (3, None, "engine.workers")
    assert settings.enabled
    assert not load_config(DIGITS / "config.yaml").engine.cluster.enabled
    overridden = with_cluster(load_config(write_config(tmp_path, workers=3)), None, "tcp://127.0.0.1:8786")
    assert (overridden.engine.cluster.workers, overridden.engine.cluster.address) == (None, "tcp://127.0.0.1:8786")
    assert overridden.resolved["engine"]["cluster"] == "tcp://127.0.0.1:8786"  # report.json's config as run
    assert overridden.resolved["engine"]["workers"] is None


def test_both_in_the_config_is_refused_by_validate(run_cli, tmp_path):
    result = run_cli("validate", write_config(tmp_path, workers=2, cluster="tcp://127.0.0.1:8786"))
    assert result.exit_code == 2
    assert "c.yaml: engine.cluster: give engine.workers (a local cluster) or engine.cluster" in result.stderr


@pytest.mark.parametrize("value,message", [(0, "minimum of 1"), (257, "maximum of 256"), ("two", "not of type")])
def test_a_bad_worker_count_is_refused_naming_the_key(run_cli, tmp_path, value, message):
    result = run_cli("validate", write_config(tmp_path, workers=value))
    assert result.exit_code == 2 and "engine.workers" in result.stderr and message in result.stderr, result


def test_both_flags_are_refused(run_cli):
    result = run_cli("eval", DIGITS / "test.yaml", "--workers", "2", "--cluster", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2 and result.stderr == ("potq: --cluster: give --workers (a local cluster) or "
                                                       "--cluster (one that runs elsewhere), not both\n")


def test_workers_without_the_cluster_extra_say_what_to_install(run_cli, monkeypatch):
    import potcli.cluster
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    for module in ("runs", "connection"):  # and as if no test had imported them yet
        monkeypatch.delitem(sys.modules, f"potcli.cluster.{module}", raising=False)
        monkeypatch.delattr(potcli.cluster, module, raising=False)
    result = run_cli("eval", DIGITS / "test.yaml", "--workers", "2")
    assert result.exit_code == 2, result
    assert result.stderr.startswith(f"{DIGITS / 'test.yaml'}: --workers: needs Dask, potq's optional cluster "
                                    f"extra: pip install 'potq[cluster]'"), result
