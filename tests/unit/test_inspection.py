"""Which runtime layer executes each operation, from (layerType, runtimePrecision, originalLayersNames) rows as
CPUs with different instruction sets really report them (issue: the attention block on an AVX-512 VNNI CPU)."""
import pytest

from potcli.engine.cpu import isa_level
from potcli.engine.inspection import RuntimeLayer, operation_precisions

ATTENTION = ["q", "k", "v", "scores", "context"]


def rows(*table):
    return [RuntimeLayer(f"layer{i}", kind, precision, tuple(names.split(","))) for i, (kind, precision, names)
            in enumerate(table)]


# AMD EPYC with AVX-512 VNNI and BF16: the MatMul -> Softmax -> MatMul block is one Snippets Subgraph in i8.
VNNI = rows(("Subgraph", "f32", "tokens/fq_output_0"),
            ("FullyConnected", "i8", "q/DequantizationMultiply,q/fq_output_0"),
            ("FullyConnected", "i8", "k/DequantizationMultiply,k/fq_output_0"),
            ("FullyConnected", "i8", "v/DequantizationMultiply,v/fq_output_0"),
            ("Subgraph", "i8", "scores,scores/DequantizationMultiply,softmax,softmax/fq_output_0,context_original,"
                               "context"))
# The same model on that machine with ONEDNN_MAX_CPU_ISA=AVX2 (and on AVX2-only CPUs): separate MatMuls.
AVX2 = rows(("Subgraph", "f32", "tokens/fq_output_0"),
            ("FullyConnected", "u8", "q/DequantizationMultiply,q/fq_output_0"),
            ("FullyConnected", "u8", "k/DequantizationMultiply,k/fq_output_0"),
            ("FullyConnected", "u8", "v/DequantizationMultiply,v/fq_output_0"),
            ("MatMul", "i8", "scores,scores/DequantizationMultiply"),
            ("Softmax", "f32", "softmax,softmax/fq_output_0"),
            ("MatMul", "u8", "context_original,context"))


@pytest.mark.parametrize("table,expected", [
    (VNNI, {"q": "i8", "k": "i8", "v": "i8", "scores": "i8", "context": "i8"}),
    (AVX2, {"q": "u8", "k": "u8", "v": "u8", "scores": "i8", "context": "u8"}),
], ids=["avx512_vnni", "avx2"])
def test_every_attention_matmul_is_traced_to_the_layer_that_runs_it(table, expected):
    found = operation_precisions(ATTENTION, table)
    assert {name: row["precision"] for name, row in found.items()} == expected


def test_a_fused_subgraph_counts_for_the_matmuls_inside_it():
    found = operation_precisions(["scores", "context"], VNNI)
    assert found["scores"] == found["context"] == {"runtime_layer": "layer4", "layer_type": "Subgraph",
                                                   "precision": "i8"}


def test_exact_names_win_over_names_the_transformations_derived():
    table = rows(("Convolution", "u8", "conv2,conv2/bias,conv2/relu/fq_output_0"),
                 ("Convolution", "f32", "conv2/DequantizationMultiply_other"))
    assert operation_precisions(["conv2"], table)["conv2"]["runtime_layer"] == "layer0"


def test_an_operation_the_plugin_folded_away_has_no_layer():
    found = operation_precisions(["folded"], AVX2)
    assert found["folded"] == {"runtime_layer": None, "layer_type": None, "precision": None}


def test_a_prefix_that_is_not_a_transformation_suffix_does_not_match():
    table = rows(("Convolution", "u8", "conv10"), ("Convolution", "f32", "conv1/fq_output_0"))
    assert operation_precisions(["conv1"], table)["conv1"]["precision"] is None


@pytest.mark.parametrize("flags,level", [
    ({"avx2"}, "AVX2"), ({"avx2", "avx512f"}, "AVX512_CORE"), ({"avx2", "avx512f", "avx512_vnni"}, "AVX512_CORE_VNNI"),
    ({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}, "AVX512_CORE_BF16"),
    ({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_tile"}, "AVX512_CORE_AMX"),
    ({"avx2", "avx_vnni"}, "AVX2_VNNI"), (set(), "SSE41")])
def test_isa_level_from_cpu_flags(flags, level):
    assert isa_level(flags) == level


def test_a_convolution_the_plugin_renamed_is_found_through_what_reads_its_output():
    # a batch norm folded into the convolution: the runtime layer carries the Multiply's name, not "conv"
    table = rows(("Convolution", "u8", "Multiply_17,bn,conv/relu,conv/relu/fq_output_0"),
                 ("Convolution", "u8", "next_conv"))
    found = operation_precisions(["conv"], table, {"conv": ("conv/bias", "bn", "conv/relu")})
    assert found["conv"]["runtime_layer"] == "layer0" and found["conv"]["precision"] == "u8"
    assert operation_precisions(["conv"], table)["conv"]["precision"] is None  # without followers: not found
