"""The switchable model of AccuracyAwareQuantization's ranking: its quantized path runs the CPU's INT8 kernels,
and switching a group off computes what that group's reverted model computes."""
import numpy as np
import openvino as ov
import pytest

from potcli import IEEngine, create_pipeline
from potcli import pipeline as potq
from potcli.algorithms.accuracy_aware.groups import Reverter, quantizer_groups
from potcli.algorithms.accuracy_aware.switchable import keep_flags, switchable_model
from potcli.rules import device_rules

from .. import models
from ..conftest import INT8, ListLoader, operation_precisions

RULES = device_rules("ANY")


def quantized_state(model, samples):
    configured = create_pipeline([{"name": "DefaultQuantization", "params": {}}], IEEngine({}, ListLoader(samples)))
    return potq.quantize(model, configured.algorithms, configured.engine.session,
                         potq.QuantizeOptions(source="test", algorithms_path="algorithms", model_name="m"))


def outputs(model, samples, flags=None):
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    name = model.inputs[0].get_any_name()
    return np.concatenate([request.infer({name: x, **(flags or {})})[compiled.output(0)] for x in samples])


@pytest.fixture(params=["classifier", "attention"])
def case(request):
    model = models.classifier_with_outliers() if request.param == "classifier" else models.attention()
    samples = models.random_inputs(model, 16)
    state = quantized_state(model, samples)
    groups = quantizer_groups(state.fp32, state.plan, RULES)
    reverter = Reverter(state.fp32, state.plan)
    return state, groups, reverter, samples, switchable_model(state.model, groups, reverter.biases, RULES["agnostic"])


def test_with_every_group_off_it_computes_the_fp32_model(case):
    state, groups, _, samples, switchable = case
    np.testing.assert_allclose(outputs(switchable, samples, keep_flags(len(groups), -1)),
                               outputs(state.fp32, samples), rtol=1e-4, atol=1e-5)


def test_one_group_off_computes_that_group_reverted(case):
    state, groups, reverter, samples, switchable = case
    assert len(groups) > 1
    kept = outputs(state.model, samples)
    for index, group in enumerate(groups):
        reverted = outputs(reverter.reverted_model(state.model, group), samples)
        switched = outputs(switchable, samples, keep_flags(len(groups), index))
        # INT8 kernels fused differently may round a few values differently: far closer than the revert's effect
        assert np.linalg.norm(switched - reverted) <= 0.1 * np.linalg.norm(reverted - kept) + 1e-6, group.layers


@pytest.mark.int8
def test_its_quantized_layers_run_as_int8_kernels_beside_their_fp32_copies(case):
    state, _, _, _, switchable = case
    precisions = operation_precisions(switchable)
    quantized = {name for name, precision in operation_precisions(state.model).items() if precision in INT8}
    assert quantized and all(precisions[name] in INT8 for name in quantized), precisions
    assert all(precisions[f"{name}/potq_fp32"] not in INT8 for name in quantized), precisions
