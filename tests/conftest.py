import socket
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests must not reach the network."""
    def refuse(*args, **kwargs):
        raise OSError("network access is blocked in tests")
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def run_cli():
    """Invoke the potq CLI in-process; returns click's Result with separate stdout/stderr."""
    def invoke(*args):
        from potcli.cli import main
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            try:
                code = main(list(map(str, args)))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            return CliResult(code, out.getvalue().decode(), err.getvalue().decode())
    return invoke


class CliResult:
    def __init__(self, exit_code, stdout, stderr):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    def __repr__(self):
        return f"CliResult(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def mock_module(tmp_path, monkeypatch):
    """Write a Python module under tmp_path/mods, importable by name for the test's duration."""
    root = tmp_path / "mods"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    written = []

    def write(relpath: str, text: str) -> Path:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        written.append(path)
        return path

    yield write
    for name in [n for n, m in sys.modules.items() if str(getattr(m, "__file__", "") or "").startswith(str(root))]:
        del sys.modules[name]


def write_images(folder: Path, count: int, shape=(8, 8, 3)) -> Path:
    """``count`` seeded random PNG images in ``folder`` (created), named 0.png, 1.png, ..."""
    import cv2
    import numpy as np
    folder.mkdir(parents=True)
    for index in range(count):
        cv2.imwrite(str(folder / f"{index}.png"), np.random.default_rng(index).integers(0, 255, shape, np.uint8))
    return folder


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


class ListLoader:
    """A POT-style DataLoader over a list of inputs (arrays or dicts), counting reads."""

    def __init__(self, samples, annotations=None):
        self.samples = list(samples)
        self.annotations = annotations if annotations is not None else [None] * len(self.samples)
        self.reads = 0

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        if index >= len(self.samples):
            raise IndexError(index)
        self.reads += 1
        return self.samples[index], self.annotations[index]


def operation_precisions(model) -> dict[str, str | None]:
    """{compute operation of ``model``: runtime precision of the CPU layer that executes it}, traced through the
    runtime model's originalLayersNames (CPU-independent: a fused attention Subgraph counts for its MatMuls)."""
    from potcli.engine.inference import Engine
    from potcli.engine.inspection import runtime_summary
    return {name: row["precision"] for name, row in runtime_summary(Engine(), model)["operations"].items()}


def standalone_fake_quantizes(model) -> int:
    from potcli.engine.inference import Engine
    from potcli.engine.inspection import runtime_summary
    return runtime_summary(Engine(), model)["standalone_fake_quantize"]


INT8 = ("u8", "i8")  # which of the two a kernel takes is the CPU's business (AMX takes i8 where AVX2 takes u8)


def in_int8(precisions: dict) -> set[str]:
    return {name for name, precision in precisions.items() if precision in INT8}


def infer(model, data):
    import openvino as ov
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled.create_infer_request().infer(data if isinstance(data, dict) else {0: data})[compiled.output(0)]


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/data/golden/*.json from the current code instead of comparing")
