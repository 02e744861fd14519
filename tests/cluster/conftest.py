import socket

import pytest

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Loopback only: the tests' Dask cluster listens on 127.0.0.1; any other address is refused."""
    connect = socket.socket.connect

    def loopback_only(self, address, *args, **kwargs):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise OSError(f"network access is blocked in tests (loopback only, not {address[0]})")
        return connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture(scope="module")
def cluster_address():
    """A local cluster of 2 worker processes for the whole test module, started as potq starts one; tests
    join it with --cluster ADDRESS (and so also test joining a running cluster)."""
    pytest.importorskip("distributed", reason="the cluster tests need potq's cluster extra: pip install "
                                              "'potq[cluster]'")
    from potcli.cluster.connection import Cluster
    cluster = Cluster(workers=2)
    yield cluster.local.scheduler_address
    cluster.close()
