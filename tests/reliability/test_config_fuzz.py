"""Property-based: mutated configs give exit 0 or 2 from `potq validate` and `potq run`, never a traceback."""
import copy
import json
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..unit.test_config import BASE

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
KEYS = st.sampled_from(["preset", "stat_subset_size", "weights", "activations", "range_estimator", "ignored",
                        "maximal_drop", "bits", "mode", "type", "aggregator", "scope", "name", "params", "",
                        "ünïcødé", "prest", "model", "engine", "compression", "algorithms"])
# POTQ_FUZZ_EXAMPLES=3000 explores further than CI's fixed, derandomized 60.
FUZZ = settings(max_examples=int(os.environ.get("POTQ_FUZZ_EXAMPLES", 60)), deadline=None, derandomize=True,
                database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def paths(node, prefix=()):
    """Every path into a config tree (dict keys and list indices)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated(draw, base):
    config = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        candidates = list(paths(config))
        path = draw(st.sampled_from(candidates))
        if not path:
            continue
        parent = config
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(KEYS)] = draw(VALUES)
    return config


def write(tmp_path, config, as_json: bool):
    path = tmp_path / ("fuzz.json" if as_json else "fuzz.yaml")
    path.write_text(json.dumps(config) if as_json else yaml.safe_dump(config, allow_unicode=True))
    return path


@FUZZ
@given(config=mutated(BASE), as_json=st.booleans())
def test_validate_gives_exit_0_or_2_on_mutated_configs(run_cli, tmp_path, config, as_json):
    result = run_cli("validate", write(tmp_path, config, as_json))
    assert result.exit_code in (0, 2), result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result


@settings(FUZZ, max_examples=15)
@given(params=mutated({"preset": "performance", "stat_subset_size": 4, "weights": {"bits": 8},
                       "activations": {"range_estimator": {"max": {"aggregator": "max"}}}}))
def test_run_gives_exit_0_or_2_on_mutated_algorithm_params(run_cli, make_config, tmp_path, params):
    config = make_config(loader_args={"count": 4}, params=params)
    result = run_cli("run", config, "-o", tmp_path / "out", "--log-level", "error")
    assert result.exit_code in (0, 2), result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result
