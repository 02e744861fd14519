"""Where FakeQuantize goes, on tiny models with known structure."""
import pytest

from potcli.config.params import IgnoredOperation, IgnoredScope
from potcli.errors import ParamError
from potcli.graph.placement import plan_quantization
from potcli.graph.scope import resolve_ignored_scope
from potcli.rules import device_rules

from .. import models


def ignored_scope(block: dict) -> IgnoredScope:
    operations = tuple(IgnoredOperation(e["type"], e.get("attributes", {})) for e in block.get("operations", ()))
    return IgnoredScope(tuple(block.get("scope", ())), tuple(block.get("patterns", ())), operations)


def plan(model, ignored=None, extra_types=()):
    scope = resolve_ignored_scope(model, ignored_scope(ignored or {}), extra_types)
    return plan_quantization(model, device_rules("CPU"), scope)


def by_name(result):
    return {q.name: q for q in result.activations}


def test_conv_inputs_and_weights_are_quantized():
    result = plan(models.conv_relu())
    assert {q.name: q.consumers for q in result.activations} == {
        "image/fq_output_0": (("conv1", 0),), "conv1/relu/fq_output_0": (("conv2", 0),)}
    assert [(w.name, w.channel_axes, w.first_layer) for w in result.weights] == [
        ("conv1/fq_weights_1", (0,), True), ("conv2/fq_weights_1", (0,), False)]


def test_residual_add_shares_quantizer_moved_above_maxpool():
    result = by_name(plan(models.residual()))
    # the max-pool output feeds block.conv1 and the residual Add: one quantizer, moved above the pool
    assert result["stem/relu/fq_output_0"].consumers == (("pool", 0),)
    assert result["block.conv2/bias/fq_output_0"].consumers == (("block.add", 0),)
    assert "pool/fq_output_0" not in result
    assert result["gap/fq_output_0"].consumers == (("fc", 0),)
    assert result["block.relu/fq_output_0"].consumers == (("gap", 0),)


def test_concat_inputs_get_one_unified_group():
    result = by_name(plan(models.concat_branches()))
    left, right = result["left/relu/fq_output_0"], result["right/relu/fq_output_0"]
    assert left.consumers == (("concat", 0),) and right.consumers == (("concat", 1),)
    assert left.group == right.group
    assert "concat/fq_output_0" not in result


@pytest.mark.parametrize("transpose_b,axis", [(True, 0), (False, 1)])
def test_matmul_weights_are_per_output_channel_for_either_layout(transpose_b, axis):
    weights = {w.node: w.channel_axes for w in plan(models.matmuls(transpose_b=transpose_b)).weights}
    assert weights == {"dense1": (axis,), "dense2": (1,)}


def test_matmul_of_two_activations_quantizes_both_and_forces_the_second_symmetric():
    result = plan(models.attention())
    scores = [q for q in result.activations if ("scores", 1) in q.consumers]
    assert len(scores) == 1 and scores[0].force_symmetric
    context = [q for q in result.activations if ("context", 0) in q.consumers]
    assert len(context) == 1 and not context[0].force_symmetric
    assert {w.node for w in result.weights} == {"q", "k", "v"}


def test_ignored_scope_pattern_and_operation_keep_nodes_in_fp32():
    result = plan(models.residual(), {"scope": ["fc"], "patterns": [r"block\.conv\d"],
                                      "operations": [{"type": "Convolution", "attributes": {"strides": [1, 1]}}]})
    assert result.weights == ()
    assert result.fp32_nodes == {"fc": "ignored by ignored.scope[0]", "block.conv1": "ignored by ignored.patterns[0]",
                                 "block.conv2": "ignored by ignored.patterns[0]",
                                 "stem": "ignored by ignored.operations[0] (Convolution)"}


def test_ignored_entries_that_match_nothing_are_errors():
    with pytest.raises(ParamError) as info:
        plan(models.residual(), {"scope": ["fc", "fc1"], "patterns": ["nothing.*"],
                                 "operations": [{"type": "Convolution", "attributes": {"group": 2}}]})
    assert info.value.located("test.yaml", "params").problems == [
        "test.yaml: params.ignored.scope[1]: 'fc1' matches no node of the model (did you mean 'fc'?)",
        "test.yaml: params.ignored.patterns[0]: 'nothing.*' matches no node name of the model",
        "test.yaml: params.ignored.operations[0]: no Convolution operation with these attributes in the model"]


def test_transformer_model_type_keeps_adds_in_fp32():
    result = plan(models.residual(), extra_types=("Add",))
    assert "block.add" in result.fp32_nodes
    assert all(("block.add", port) not in q.consumers for q in result.activations for port in (0, 1))


def test_model_without_quantizable_operations_has_an_empty_plan():
    result = plan(models.no_quantizable_ops())
    assert result.activations == () and result.weights == ()
