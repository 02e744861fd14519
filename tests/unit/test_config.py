import copy
import json

import pytest
import yaml

from potcli.config import load_config
from potcli.config.json_reader import strip_json_comments
from potcli.config.params import IgnoredScope
from potcli.config.schema import config_schema
from potcli.config.validation import validated_with_defaults
from potcli.errors import ConfigError

from ..conftest import REPO, write_text

CONFIG_FILES = sorted((REPO / "configs").glob("*.*"))

BASE = {
    "model": {"model": "m.xml"},
    "engine": {"data_loader": "loader:Loader"},
    "compression": {"algorithms": [{"name": "DefaultQuantization", "params": {"preset": "performance"}}]},
}
AAQ = "AccuracyAwareQuantization"


def with_change(path: str, value=None, delete=False):
    """A copy of BASE with the value at a dotted path (``a.b[0].c``) set or deleted."""
    def change(config):
        parts = path.replace("[", ".[").split(".")
        node = config
        for part in parts[:-1]:
            key = int(part[1:-1]) if part.startswith("[") else part
            node = node[key]
        last = parts[-1]
        key = int(last[1:-1]) if last.startswith("[") else last
        if delete:
            del node[key]
        else:
            node[key] = value
        return config
    return change


def aaq(**params):
    return with_change("compression.algorithms[0]", {"name": AAQ, "params": params})


P0 = "compression.algorithms[0].params"
BROKEN = [  # (id, change, config path named in the message, part of the message)
    ("preset_typo", with_change(f"{P0}.preset", "fast"), f"{P0}.preset",
     "'fast' is not one of [None, 'performance', 'mixed', 'accuracy']"),
    ("unknown_param", with_change(f"{P0}.prest", "mixed"), f"{P0}.prest", "did you mean 'preset'?"),
    ("subset_size_string", with_change(f"{P0}.stat_subset_size", "300"), f"{P0}.stat_subset_size",
     "is not of type 'integer', 'null'"),
    ("subset_size_zero", with_change(f"{P0}.stat_subset_size", 0), f"{P0}.stat_subset_size", "less than the minimum"),
    ("subset_size_negative", with_change(f"{P0}.stat_subset_size", -5), f"{P0}.stat_subset_size", "minimum of 1"),
    ("batch_size_zero", with_change(f"{P0}.stat_batch_size", 0), f"{P0}.stat_batch_size", "minimum of 1"),
    ("seed_negative", with_change(f"{P0}.seed", -1), f"{P0}.seed", "minimum of 0"),
    ("shuffle_not_bool", with_change(f"{P0}.shuffle_data", "yes"), f"{P0}.shuffle_data", "not of type 'boolean'"),
    ("bits_too_many", with_change(f"{P0}.weights", {"bits": 9}), f"{P0}.weights.bits", "maximum of 8"),
    ("mode_typo", with_change(f"{P0}.weights", {"mode": "sym"}), f"{P0}.weights.mode", "'sym' is not one of"),
    ("granularity_typo", with_change(f"{P0}.activations", {"granularity": "perlayer"}), f"{P0}.activations.granularity",
     "is not one of"),
    ("estimator_type", with_change(f"{P0}.range_estimator", {"max": {"type": "median"}}),
     f"{P0}.range_estimator.max.type",
     "'median' is not one of"),
    ("aggregator_typo", with_change(f"{P0}.range_estimator", {"max": {"aggregator": "avg"}}),
     f"{P0}.range_estimator.max.aggregator", "'avg' is not one of"),
    ("outlier_prob_range", with_change(f"{P0}.range_estimator", {"min": {"outlier_prob": 0.7}}),
     f"{P0}.range_estimator.min.outlier_prob", "greater than or equal to the maximum of 0.5"),
    ("saturation_fix_value", with_change(f"{P0}.saturation_fix", "yes"), f"{P0}.saturation_fix", "is not one of"),
    ("layerwise_tuning", with_change(f"{P0}.use_layerwise_tuning", True), f"{P0}.use_layerwise_tuning",
     "not carried over from POT: layer-wise fine-tuning"),
    ("maximal_drop_negative", aaq(maximal_drop=-0.1), f"{P0}.maximal_drop", "minimum of 0"),
    ("relative_drop_above_one", aaq(maximal_drop=1.5, drop_type="relative"), f"{P0}.maximal_drop", "maximum of 1"),
    ("drop_type_typo", aaq(drop_type="percent"), f"{P0}.drop_type", "'percent' is not one of"),
    ("max_iter_zero", aaq(max_iter_num=0), f"{P0}.max_iter_num", "minimum of 1"),
    ("metric_without_name", aaq(metrics=[{"baseline_value": 0.9}]), f"{P0}.metrics[0].name", "required key is missing"),
    ("metric_subset_ratio_zero", aaq(metric_subset_ratio=0), f"{P0}.metric_subset_ratio", "minimum of 0"),
    ("aaq_key_in_dq", with_change(f"{P0}.maximal_drop", 0.01), f"{P0}.maximal_drop", "unknown key 'maximal_drop'"),
    ("unknown_algorithm", with_change("compression.algorithms[0].name", "Foo"), "compression.algorithms[0].name",
     "'Foo' is not one of"),
    ("no_algorithms", with_change("compression.algorithms", []), "compression.algorithms", "should be non-empty"),
    ("params_not_mapping", with_change(f"{P0}", ["preset"]), P0, "is not of type 'object'"),
    ("missing_compression", with_change("compression", delete=True), "compression", "required key is missing"),
    ("missing_model_path", with_change("model.model", delete=True), "model.model", "required key is missing"),
    ("model_wrong_extension", with_change("model.model", "m.txt"), "model.model", "must name an OpenVINO IR"),
    ("weights_wrong_extension", with_change("model.weights", "m.xml"), "model.weights", "must name an IR .bin"),
    ("target_device_gna", with_change("compression.target_device", "GNA"), "compression.target_device",
     "not carried over from POT: GNA targets"),
    ("model_type_typo", with_change("compression.model_type", "cnn"), "compression.model_type", "is not one of"),
    ("inplace_statistics_string", with_change("compression.inplace_statistics", "no"),
     "compression.inplace_statistics", "not of type 'boolean'"),
    ("accuracy_checker_engine", with_change("engine", {"type": "accuracy_checker", "config": "ac.yml"}), "engine.type",
     "name it in engine.data_loader"),
    ("accuracy_checker_implicit", with_change("engine", {"config": "ac.yml"}), "engine.type", "Accuracy Checker"),
    ("simplified_without_source", with_change("engine", {"type": "simplified"}), "engine.data_source",
     "required key is missing"),
    ("engine_type_unknown", with_change("engine.type", "magic"), "engine.type", "'magic' is not one of"),
    ("requests_zero", with_change("engine.stat_requests_number", 0), "engine.stat_requests_number", "minimum of 1"),
    ("loader_args_list", with_change("engine.data_loader_args", [1]), "engine.data_loader_args",
     "not of type 'object'"),
    ("unknown_top_level", with_change("compresion", {}), "compresion", "did you mean 'compression'?"),
    ("ignored_scope_string", with_change(f"{P0}.ignored", {"scope": "conv1"}), f"{P0}.ignored.scope",
     "not of type 'array'"),
    ("ignored_bad_regex", with_change(f"{P0}.ignored", {"patterns": ["conv("]}), f"{P0}.ignored.patterns[0]",
     "not a valid regular expression"),
    ("ignored_operation_without_type", with_change(f"{P0}.ignored", {"operations": [{"attributes": {}}]}),
     f"{P0}.ignored.operations[0].type", "required key is missing"),
    ("threshold_zero", with_change(f"{P0}.threshold", 0), f"{P0}.threshold", "minimum of 0"),
    ("nan_number", aaq(maximal_drop=float("nan")), f"{P0}.maximal_drop", "not a finite number"),
    ("huge_bits", with_change(f"{P0}.weights", {"bits": 10 ** 30}), f"{P0}.weights.bits", "maximum of 8"),
    ("grid_wider_than_bits", with_change(f"{P0}.weights", {"bits": 4, "level_low": -100, "level_high": 100}),
     f"{P0}.weights", "level_low -100 .. level_high 100 is not a grid of at most 2^4 levels"),
    ("bias_correction_first", with_change("compression.algorithms", [{"name": "FastBiasCorrection"},
                                                                     {"name": "MinMaxQuantization"}]),
     "compression.algorithms[0]", "FastBiasCorrection corrects a quantized model: list it after MinMaxQuantization"),
    ("quantized_twice", with_change("compression.algorithms", [{"name": "DefaultQuantization"},
                                                               {"name": "MinMaxQuantization"}]),
     "compression.algorithms[1]", "MinMaxQuantization after DefaultQuantization: the model is already quantized"),
    ("alignment_after_quantization", with_change("compression.algorithms", [{"name": "MinMaxQuantization"},
                                                                            {"name": "ActivationChannelAlignment"}]),
     "compression.algorithms[1]", "ActivationChannelAlignment changes FP32 weights: list it before"),
    ("aaq_without_metric", aaq(), "engine.metric", "AccuracyAwareQuantization needs a Metric plugin"),
]


@pytest.mark.parametrize("change,path,message", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_config_names_path_and_exits_2(tmp_path, run_cli, change, path, message):
    config_file = tmp_path / "broken.yaml"
    config_file.write_text(yaml.safe_dump(change(copy.deepcopy(BASE))))
    result = run_cli("validate", config_file)
    assert result.exit_code == 2, result
    assert f"{config_file}: {path}: " in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_table_has_25_distinct_cases():
    assert len({case[0] for case in BROKEN}) == len(BROKEN) >= 25


BROKEN_FILES = [  # (id, file name, content, part of the message)
    ("yaml_syntax", "c.yaml", "model:\n  model: m.xml\n engine: [\n", ":3:2: invalid YAML"),
    ("json_syntax", "c.json", '{\n  "model": {"model": "m.xml" "x"}\n}\n', "c.json:2:30: invalid JSON"),
    ("json_nan", "c.json", '{"model": NaN}', "NaN is not a number a config can hold"),
    ("empty_file", "c.yaml", "  \n", "config file is empty"),
    ("list_at_top", "c.yaml", "- model: m.xml\n", "top level must be a mapping"),
    ("scalar_at_top", "c.json", '"model"', "top level must be a mapping"),
    ("unknown_extension", "c.toml", "model = 1", "unknown config file extension '.toml'"),
    ("python_tag_not_executed", "c.yaml", "model: !!python/object/apply:os.system ['echo hacked']\n",
     "invalid YAML"),
    ("deep_nesting", "c.json", "[" * 100000 + "]" * 100000, "nested too deeply"),
]


@pytest.mark.parametrize("name,content,message", [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES])
def test_broken_file_is_one_clear_error(tmp_path, run_cli, capfd, name, content, message):
    config_file = tmp_path / name
    config_file.write_text(content)
    result = run_cli("validate", config_file)
    assert result.exit_code == 2, result
    assert str(config_file) in result.stderr and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "hacked" not in capfd.readouterr().out


def test_missing_file_and_folder_are_errors(tmp_path, run_cli):
    result = run_cli("validate", tmp_path / "nope.yaml", tmp_path)
    assert result.exit_code == 2
    assert "nope.yaml: config file not found" in result.stderr
    assert "unknown config file extension" in result.stderr or "is a folder" in result.stderr


def test_oversize_file_is_refused_without_parsing(tmp_path, run_cli):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    result = run_cli("validate", big)
    assert result.exit_code == 2 and "larger than 1024 KiB" in result.stderr


def test_every_error_is_printed_at_once(tmp_path, run_cli):
    config = copy.deepcopy(BASE)
    config["compression"]["algorithms"][0]["params"] = {"preset": "fast", "seed": -1, "prest": 1}
    config["model"]["modle_name"] = "x"
    path = write_text(tmp_path / "c.yaml", yaml.safe_dump(config))
    lines = run_cli("validate", path).stderr.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith(f"{path}: ") for line in lines)


@pytest.mark.parametrize("config_file", CONFIG_FILES, ids=[p.name for p in CONFIG_FILES])
def test_shipped_config_validates(run_cli, config_file):
    result = run_cli("validate", config_file)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"{config_file}: ok"


def _schema_keys(node) -> set[str]:
    keys = set()
    if isinstance(node, dict):
        keys |= set(node.get("properties", {}))
        for value in node.values():
            keys |= _schema_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= _schema_keys(value)
    return keys


def _config_keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | set().union(*map(_config_keys, node.values()))
    if isinstance(node, list):
        return set().union(set(), *map(_config_keys, node))
    return set()


def test_shipped_configs_together_use_every_documented_key():
    from potcli.config.files import read_config_file
    used = set().union(*(_config_keys(read_config_file(p)) for p in CONFIG_FILES))
    documented = _schema_keys(config_schema()) - {"$schema"}
    assert documented - used == set()


def test_json_comments_are_blanked_but_strings_kept():
    text = '{"a": "http://x/*y*/", // line\n /* block\n */ "b": 1}'
    stripped = strip_json_comments(text)
    assert json.loads(stripped) == {"a": "http://x/*y*/", "b": 1}
    assert stripped.count("\n") == text.count("\n")


def test_defaults_come_from_the_schema_and_do_not_leak(tmp_path):
    config_file = write_text(tmp_path / "sub" / "c.yaml", yaml.safe_dump(BASE))
    first = load_config(config_file)
    dq = first.compression.algorithms[0]
    assert dq.quantization.preset == "performance" and dq.sampling.subset_size is None and dq.sampling.seed == 0
    assert dq.quantization.ignored == IgnoredScope((), (), ())
    assert dq.bias.fast and dq.bias.threshold == 2.0 and dq.quantization.saturation_fix == "first_layer"
    assert first.compression.target_device == "ANY" and first.compression.inplace_statistics is True
    assert first.model.model == (tmp_path / "sub" / "m.xml").resolve() and first.model.name == "m"
    dq.config["ignored"]["scope"].append("changed")
    assert load_config(config_file).compression.algorithms[0].config["ignored"]["scope"] == []


def test_relative_drop_keeps_aaq_defaults():
    params = validated_with_defaults({"name": AAQ, "params": {"drop_type": "relative"}}, "api", "algorithm")["params"]
    assert params["maximal_drop"] == 0.01 and params["metric_subset_ratio"] == 0.5
    assert params["use_fast_bias"] is True and params["ranking_subset_size"] is None


def test_other_algorithms_defaults_do_not_mix():
    fbc = validated_with_defaults({"name": "FastBiasCorrection"}, "api", "algorithm")["params"]
    bc = validated_with_defaults({"name": "BiasCorrection"}, "api", "algorithm")["params"]
    assert fbc["threshold"] == 2.0 and bc["threshold"] == 1000.0
    assert "preset" not in fbc


def test_config_dir_placeholder_expands(tmp_path):
    config = copy.deepcopy(BASE)
    config["engine"]["data_loader_args"] = {"root": "${config_dir}/data", "n": 3, "more": ["${config_dir}"]}
    settings = load_config(write_text(tmp_path / "c.json", json.dumps(config)))
    assert settings.engine.data_loader_args == {"root": f"{tmp_path}/data", "n": 3, "more": [str(tmp_path)]}


def test_schema_command_prints_the_packaged_schema(run_cli):
    result = run_cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == config_schema()
    assert json.loads((REPO / "schemas" / "config.schema.json").read_text()) == config_schema()


def test_invalid_config_raises_config_error_with_all_problems():
    with pytest.raises(ConfigError) as info:
        validated_with_defaults({"name": "DefaultQuantization", "params": {"preset": 1, "seed": "x"}}, "api",
                                "algorithm")
    assert len(info.value.problems) == 2
    assert info.value.exit_code == 2
