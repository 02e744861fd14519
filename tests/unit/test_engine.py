"""The inference engine hands every result back exactly once, in sample order, and never deadlocks."""
import subprocess
import sys

import pytest

from potcli.engine.inference import Engine

from .. import models
from ..conftest import REPO


@pytest.mark.parametrize("requests", [1, 2, 4])
def test_every_sample_comes_back_once_in_order(requests):
    engine = Engine()
    compiled = engine.compile(models.conv_relu())
    inputs = models.random_inputs(models.conv_relu(), 5)
    for _ in range(5):  # results arrive from several threads: repeat to give races a chance
        seen = []
        engine.run(compiled, ((i, {"image": inputs[i % 5]}) for i in range(150)),
                   lambda index, outputs, seen=seen: seen.append((index, outputs[0].shape)), requests)
        assert [index for index, _ in seen] == list(range(150))
        assert {shape for _, shape in seen} == {(1, 4, 8, 8)}


SCRIPT = """
import gc, sys
sys.path.insert(0, {repo!r})
from potcli.engine.inference import Engine
from tests import models

engine = Engine()
compiled = engine.compile(models.conv_relu())
sample = models.random_inputs(models.conv_relu(), 1)[0]

def fail(index, outputs):
    if index == 5:
        raise ValueError("the handler failed")

for _ in range(200):
    try:
        engine.run(compiled, ((i, {{"image": sample}}) for i in range(50)), fail, 4)
    except ValueError:
        pass
    gc.collect()  # frees the queue while other requests' callbacks may still be due
print("ok")
"""


def test_a_failing_handler_does_not_deadlock_the_queue(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(repo=str(REPO)))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("total,requests,batches", [(8, 2, [4, 4]), (5, 2, [3, 2]), (300, 2, [64, 64, 64, 64, 44])])
def test_batches_leave_no_request_idle_and_samples_come_back_in_order(monkeypatch, total, requests, batches):
    from potcli.engine.batching import compile_per_sample, run_compiled_per_sample
    engine = Engine()
    sizes = []
    run = engine.run
    monkeypatch.setattr(engine, "run", lambda compiled, items, *args, **kwargs: run(
        compiled, ((index, inputs) for index, inputs in items if sizes.append(len(inputs["image"])) or True),
        *args, **kwargs))
    sample = models.random_inputs(models.conv_relu(), 1)[0]
    seen = []
    run_compiled_per_sample(engine, compile_per_sample(engine, models.conv_relu(), "model"),
                            ((i, {"image": sample}) for i in range(total)),
                            lambda index, outputs: seen.append((index, outputs[0].shape)), requests, "test", total)
    assert sizes == batches
    assert seen == [(i, (1, 4, 8, 8)) for i in range(total)]
