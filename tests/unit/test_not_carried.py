"""Every POT key, value and algorithm potq does not carry gets one line saying why and what to use instead (exit 2);
the spellings POT accepted for values potq does carry are read as POT read them."""
import copy

import numpy as np
import pytest
import yaml

from potcli.config.not_carried import ALGORITHMS, LAYERWISE_KEYS, TARGET_DEVICES
from potcli.config.validation import validated_with_defaults
from potcli.errors import ConfigError
from potcli.statistics.streaming import TensorStatistic, hodges_lehmann, make_aggregator

from ..conftest import write_text

BASE = {
    "model": {"model": "m.xml"},
    "engine": {"data_loader": "loader:Loader"},
    "compression": {"algorithms": [{"name": "DefaultQuantization", "params": {"preset": "performance"}}]},
}
P0 = "compression.algorithms[0].params"


def config_with(**parts):
    config = copy.deepcopy(BASE)
    for dotted, value in parts.items():
        *parents, last = dotted.split("__")
        node = config
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return config


def validate(run_cli, tmp_path, config):
    path = write_text(tmp_path / "c.yaml", yaml.safe_dump(config))
    result = run_cli("validate", path)
    return path, result.exit_code, result.stderr.strip().splitlines()


def assert_one_line(run_cli, tmp_path, config, where, *parts):
    path, code, lines = validate(run_cli, tmp_path, config)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: {where}: not carried over from POT: "), lines
    assert "; use " in lines[0] and lines[0].endswith(" instead"), lines
    for part in parts:
        assert part in lines[0], lines


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_algorithm_pot_registered_and_potq_lacks_gets_one_line(run_cli, tmp_path, name):
    params = {"stat_subset_size": 100, "sparsity_level": 0.5, "tuning_scope": ["layer"]}  # its own keys: no noise
    config = config_with(compression__algorithms=[{"name": "DefaultQuantization"}, {"name": name, "params": params}])
    assert_one_line(run_cli, tmp_path, config, "compression.algorithms[1].name", name)


@pytest.mark.parametrize("device", sorted(TARGET_DEVICES))
def test_every_target_device_without_rules_is_refused_not_run_with_cpu_rules(run_cli, tmp_path, device):
    assert_one_line(run_cli, tmp_path, config_with(compression__target_device=device), "compression.target_device")
    config = config_with(compression__algorithms=[{"name": "DefaultQuantization",
                                                   "params": {"target_device": device}}])
    assert_one_line(run_cli, tmp_path, config, f"{P0}.target_device")


@pytest.mark.parametrize("key", ["use_layerwise_tuning", *LAYERWISE_KEYS])
def test_layerwise_tuning_and_its_parameters(run_cli, tmp_path, key):
    config = config_with(compression__algorithms__0__params={key: True})
    assert_one_line(run_cli, tmp_path, config, f"{P0}.{key}", "layer-wise fine-tuning", "AccuracyAwareQuantization")


CASES = [  # (id, config changes, path of the one line, part of the message)
    ("tpe_optimizer", {"optimizer": {"name": "Tpe", "params": {"max_trials": 100}}}, "optimizer", "TPE"),
    ("cascade", {"model": {"model_name": "mtcnn", "cascade": [{"name": "pnet", "model": "p.xml"}]}},
     "model.cascade", "one config per model"),
    ("data_free_engine", {"engine": {"type": "data_free", "generate_data": "True", "shape": "[1,3,8,8]"}},
     "engine.type", "engine.type: simplified"),
    ("engine_device_gpu", {"engine__device": "GPU"}, "engine.device", "compression.target_device"),
    ("annotation_free", {"compression__algorithms": [{"name": "AccuracyAwareQuantization",
                                                      "params": {"annotation_free": True}}]},
     f"{P0}.annotation_free", "agreement with the FP32 model"),
    ("annotation_conf_threshold", {"compression__algorithms": [{"name": "AccuracyAwareQuantization",
                                                                "params": {"annotation_conf_threshold": 0.6}}]},
     f"{P0}.annotation_conf_threshold", "annotation-free"),
    ("base_algorithm", {"compression__algorithms": [{"name": "AccuracyAwareQuantization",
                                                     "params": {"base_algorithm": "MinMaxQuantization"}}]},
     f"{P0}.base_algorithm", "DefaultQuantization's own params"),
    ("skip_model", {"compression__algorithms__0__params": {"ignored": {"skip_model": True}}},
     f"{P0}.ignored.skip_model", "cascade"),
]


@pytest.mark.parametrize("changes,where,part", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pot_keys_without_counterpart(run_cli, tmp_path, changes, where, part):
    assert_one_line(run_cli, tmp_path, config_with(**changes), where, part)


def test_several_at_once_are_all_reported(run_cli, tmp_path):
    config = config_with(optimizer={}, compression__target_device="GNA",
                         compression__algorithms=[{"name": "DefaultQuantization"}, {"name": "TunableQuantization"}])
    _, code, lines = validate(run_cli, tmp_path, config)
    assert code == 2 and len(lines) == 3 and all("not carried over from POT" in line for line in lines), lines


def test_model_name_key_suggests_model_name(run_cli, tmp_path):
    config = config_with(model={"name": "bert", "model": "m.xml"})
    path, code, lines = validate(run_cli, tmp_path, config)
    assert code == 2 and lines == [f"{path}: model.name: unknown key 'name' (did you mean 'model_name'?)"]


def test_api_create_pipeline_gets_the_same_line():
    with pytest.raises(ConfigError) as error:
        validated_with_defaults({"name": "QuantNoiseEstimator", "params": {"type": "sqnr"}}, "create_pipeline "
                                "algorithms[0]", "algorithm")
    assert error.value.problems == [
        "create_pipeline algorithms[0]: name: not carried over from POT: QuantNoiseEstimator (wrote each layer's "
        "quantization noise to a CSV file); use report.json (every quantizer and its range) or "
        "AccuracyAwareQuantization (ranks layers by their effect on the metric) instead"]


SPELLINGS = [  # (id, config changes, where the canonical value lands, value)
    ("model_type_None_string", {"compression__model_type": "None"}, ("compression", "model_type"), None),
    ("params_model_type_None", {"compression__algorithms__0__params": {"model_type": "None"}},
     ("compression", "algorithms", 0, "params", "model_type"), None),
    ("preset_symmetric", {"compression__algorithms__0__params": {"preset": "symmetric"}},
     ("compression", "algorithms", 0, "params", "preset"), "performance"),
    ("preset_asymmetric", {"compression__algorithms__0__params": {"preset": "asymmetric"}},
     ("compression", "algorithms", 0, "params", "preset"), "accuracy"),
    ("batch_mean", {"compression__algorithms__0__params": {
        "activations": {"range_estimator": {"max": {"aggregator": "batch_mean"}}}}},
     ("compression", "algorithms", 0, "params", "activations", "range_estimator", "max", "aggregator"), "mean"),
    ("accuracy_aware_common", {"compression__algorithms": [{"name": "AccuracyAwareCommon"}]},
     ("compression", "algorithms", 0, "name"), "AccuracyAwareQuantization"),
]


@pytest.mark.parametrize("changes,where,value", [c[1:] for c in SPELLINGS], ids=[c[0] for c in SPELLINGS])
def test_spellings_pot_accepted_are_read_as_pot_read_them(changes, where, value):
    config = config_with(**changes)
    original = copy.deepcopy(config)
    node = validated_with_defaults(config, "c.yaml")
    for key in where:
        node = node[key]
    assert node == value
    assert config == original  # the caller's dict is not changed


def test_json_with_trailing_commas_reads_as_jstyleson_read_it(run_cli, tmp_path):
    path = write_text(tmp_path / "c.json", """{
        "model": {"model": "m.xml",},  // POT's example configs have these
        "engine": {"data_loader": "loader:Loader"},
        "compression": {"algorithms": [{"name": "DefaultQuantization", "params": {"ignored": {"scope": ["a,]"],},},},],}
    }""")
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.stderr


def test_hodges_lehmann_is_the_median_of_pairwise_means():
    values = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0], [100.0, -5.0]])
    pairs = [(values[i] + values[j]) / 2 for i in range(4) for j in range(i + 1, 4)]
    np.testing.assert_allclose(hodges_lehmann(values), np.median(pairs, axis=0))
    assert hodges_lehmann(values[:1]).tolist() == [1.0, 10.0]


def test_hl_estimator_aggregator_keeps_a_bounded_seeded_sample():
    stat = TensorStatistic("t", "max", None, "hl_estimator")
    aggregators = [make_aggregator(stat) for _ in range(2)]
    samples = np.random.default_rng(0).standard_normal(3000)
    for aggregator in aggregators:
        for value in samples:
            aggregator.update(np.float64(value))
    assert len(aggregators[0].rows) == 1024 and aggregators[0].result() == aggregators[1].result()
    assert abs(float(aggregators[0].result())) < 0.1  # a standard normal's centre, outliers or not
