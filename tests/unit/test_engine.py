"""The inference engine hands every result back exactly once, in sample order, and never deadlocks."""
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from potcli.engine.collector import collect_statistics
from potcli.engine.inference import Engine
from potcli.errors import DataError, ModelError
from potcli.graph.queries import tensors_by_name
from potcli.statistics.streaming import TensorStatistic

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


def test_in_graph_statistics_equal_the_same_statistics_reduced_in_python():
    # abs_max is built from the in-graph min and max, and a tensor without a mean gets a sum as NaN probe
    model = models.conv_relu()
    tensors = sorted(name for name in tensors_by_name(model) if name.startswith("conv"))
    wanted = [TensorStatistic(tensor, reducer, axis, aggregator)
              for tensor in tensors for reducer in ("min", "max", "abs_max", "mean") for axis in (None, 1)
              for aggregator in ("max", "mean") if reducer != "mean" or tensor == tensors[0]]
    loader = [(x, None) for x in models.random_inputs(model, 6)]
    in_graph, in_python = (collect_statistics(Engine(), model, wanted, loader, range(6), inplace, None).values
                           for inplace in (True, False))
    assert in_graph.keys() == in_python.keys() == set(wanted)
    for stat in wanted:
        np.testing.assert_allclose(in_graph[stat], in_python[stat], rtol=1e-5, atol=1e-6, err_msg=str(stat))


@pytest.mark.parametrize("model, tensors, axes", [
    (models.conv_relu(size=48), ["conv1/bias", "conv2/bias"], (None, 1)),  # 18432 and 9216 values: sampled
    (models.conv_relu(size=40, batch=2), ["conv1/bias"], (None, 1, -1)),  # channels behind the batch
    (models.transformer_block(), None, (None, -1))])  # channels last
def test_quantiles_and_sampled_values_from_the_graph_are_numpys(model, tensors, axes):
    # TopK keeps a few extremes and numpy interpolates them as np.quantile does; a Slice and a Gather read
    # sample_grid at sample_positions
    from potcli.engine.collector import _statistics_model, graph_reduction
    names = tensors_by_name(model)
    tensors = tensors or [name for name, out in names.items() if len(out.get_partial_shape()) == 3
                          and out.get_element_type().is_real() and not out.get_node().get_type_name() == "Constant"][:3]
    wanted = [TensorStatistic(tensor, "quantile", axis, "median", prob, side) for tensor in tensors
              for axis in axes for prob in (1e-4, 0.01) for side in ("low", "high")]
    wanted += [TensorStatistic(tensor, "values", None, "sampled") for tensor in tensors]
    probe, outputs = _statistics_model(model, {s: graph_reduction(s, True, names[s.tensor], False) for s in wanted},
                                       [])
    assert not [key for kind, key in outputs if kind == "raw"]
    assert {node.get_type_name() for node in probe.get_ops()} >= {"TopK", "Gather", "Slice"}
    batch = model.inputs[0].get_partial_shape()[0].get_length()
    loader = [(x, None) for x in models.random_inputs(model, 20, batch=batch)]
    in_graph, in_python = (collect_statistics(Engine(), model, wanted, loader, range(20), inplace, None).values
                           for inplace in (True, False))
    for stat in wanted:
        np.testing.assert_allclose(in_graph[stat], in_python[stat], rtol=1e-6, atol=1e-6, err_msg=str(stat))
        if stat.reducer == "values":  # the first 16 samples' values, no more
            assert in_graph[stat].size == 16 * min(8192, int(np.prod(names[stat.tensor].get_shape())))


def test_quantiles_and_values_stay_in_python_where_the_graph_cannot_know_a_sample_s_shape():
    from potcli.engine.collector import graph_reduction
    conv = tensors_by_name(models.conv_relu())["conv1"]
    for stat in (TensorStatistic("conv1", "quantile", 1, "median"),
                 TensorStatistic("conv1", "values", None, "sampled")):
        assert graph_reduction(stat, True, conv, False) is not None
        assert graph_reduction(stat, True, conv, True) is None  # batched by stat_batch_size
        assert graph_reduction(stat, True, models.dynamic_batch().inputs[0], False) is None
        assert graph_reduction(stat, False, conv, False) is None  # inplace_statistics off


@pytest.mark.parametrize("reducer, inplace", [("min", True), ("min", False), ("quantile", True),
                                              ("values", True)])
def test_a_nan_in_an_observed_tensor_stops_the_pass_naming_tensor_and_sample(reducer, inplace):
    model = models.nan_producing()
    inputs = [np.abs(x) for x in models.random_inputs(model, 3)]
    inputs[1].reshape(-1)[40] = -1.0  # one square root of a negative value: one NaN in "sqrt" for sample 1
    aggregator = {"values": "sampled", "quantile": "median"}.get(reducer, "min")
    stat = TensorStatistic("sqrt", reducer, None, aggregator)
    with pytest.raises(DataError, match="activation 'sqrt' holds NaN or Inf for sample 1"):
        collect_statistics(Engine(), model, [stat], [(x, None) for x in inputs], range(3), inplace, None)


def _slow_compile(engine, monkeypatch, seconds=0.3, fail=False) -> list[float]:
    """Make ``engine``'s compiles take ``seconds`` (and fail); returns the list their end times go to."""
    compile_now, ended = engine.compile, []

    def compile_slowly(model, what="model", *args):
        time.sleep(seconds)
        ended.append(time.perf_counter())
        if fail:
            raise ModelError(f"OpenVINO cannot compile the {what} on CPU: broken")
        return compile_now(model, what, *args)
    monkeypatch.setattr(engine, "compile", compile_slowly)
    return ended


def _noting_reads(inputs: list, read: list):
    """(index, inputs) of each of ``inputs``, the time each was read appended to ``read``."""
    for i, x in enumerate(inputs):
        read.append(time.perf_counter())
        yield i, {"image": x}


def test_samples_are_read_while_the_model_compiles_and_come_back_in_order(monkeypatch):
    engine = Engine()
    compiled = _slow_compile(engine, monkeypatch)
    inputs = models.random_inputs(models.conv_relu(), 6)
    read, seen = [], []
    engine.compile_and_run(models.conv_relu(), "model", _noting_reads(inputs, read),
                           lambda index, outputs: seen.append((index, outputs[0])))
    assert read[-1] < compiled[0]  # every sample was read before the compile ended
    assert [index for index, _ in seen] == list(range(6))
    direct = Engine().compile(models.conv_relu())
    for index, output in seen:
        np.testing.assert_array_equal(output, direct.create_infer_request().infer({"image": inputs[index]})[0])


@pytest.mark.parametrize("fail_compile", [False, True])
def test_a_failure_while_reading_ahead_surfaces_once_the_compile_is_over(monkeypatch, fail_compile):
    # a DataLoader that fails on sample 2 reports it even when the compile fails too (it came first); no thread stays
    engine = Engine()
    _slow_compile(engine, monkeypatch, fail=fail_compile)
    before = threading.active_count()

    def samples():
        for i in range(6):
            if i == 2:
                raise DataError("sample 2 is broken")
            yield i, {"image": models.random_inputs(models.conv_relu(), 1)[0]}

    with pytest.raises(DataError, match="sample 2 is broken"):
        engine.compile_and_run(models.conv_relu(), "model", samples(), lambda index, outputs: None)
    assert threading.active_count() == before


def test_a_model_that_does_not_compile_stops_before_any_inference(monkeypatch):
    engine = Engine()
    _slow_compile(engine, monkeypatch, seconds=0.0, fail=True)
    with pytest.raises(ModelError, match="cannot compile the statistics model"):
        engine.compile_and_run(models.conv_relu(), "statistics model",
                               ((i, {"image": x}) for i, x in enumerate(models.random_inputs(models.conv_relu(), 3))),
                               lambda index, outputs: pytest.fail("inferred"))


@pytest.mark.parametrize("model, batch", [(models.conv_relu(), 1), (models.dynamic_batch(), 3)])
def test_shapes_are_the_static_ones_or_those_of_the_first_sample(model, batch):
    loader = [(x, None) for x in models.random_inputs(model, 2, batch=batch)]
    collected = collect_statistics(Engine(), model, [], loader, range(2), True, None, record_shapes=["conv1"])
    assert collected.shapes == {"conv1": (batch, 8, 8, 8)}


def test_evaluation_reads_its_first_samples_while_the_model_compiles(monkeypatch):
    from potcli.engine.batching import run_per_sample
    engine = Engine()
    compiled = _slow_compile(engine, monkeypatch)
    read, seen = [], []
    cost = run_per_sample(engine, models.conv_relu(), _noting_reads(models.random_inputs(models.conv_relu(), 4), read),
                          lambda index, outputs: seen.append(index), None, "Evaluation", 4, "model")
    assert read[-1] < compiled[0] and seen == [0, 1, 2, 3]
    assert cost.compile_seconds >= 0.3  # the compile's own time, reading or not
