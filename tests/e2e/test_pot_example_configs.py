"""POT's own documented config files, walked by their key sets (tests/data/pot_example_configs.json).

Each runs once only its paths (and, where it used the Accuracy Checker, its engine block) are changed, or stops
with one line per problem that names the config path and says what to change. Model-specific values (paths,
image folders, node names, operation types) are filled in for this test's tiny model.
"""
import json
from pathlib import Path

import pytest
import yaml

from .. import models
from ..conftest import REPO, write_images

DATA = json.loads((REPO / "tests" / "data" / "pot_example_configs.json").read_text())["configs"]
AAQ_PLUGINS = REPO / "tests" / "aaq_plugins.py"
AC_KEYS = {"config", "launchers", "datasets", "name", "module", "module_config"}


def _uses_accuracy_checker(engine: dict) -> bool:
    return engine.get("type", "accuracy_checker") == "accuracy_checker" and bool(AC_KEYS & engine.keys())


def _same_run(entry: dict) -> str:
    """Configs that differ only in the model's name, or in an Accuracy Checker block the test replaces, run once."""
    engine = "accuracy checker" if _uses_accuracy_checker(entry["engine"]) else entry["engine"]
    model = {key: value for key, value in entry["model"].items() if key != "model_name"}
    return json.dumps([model, engine, entry.get("top"), entry["compression"], entry["expect"]], sort_keys=True)


def _fill(value, places: dict):
    """The key set with its placeholders replaced by this test's files and the tiny model's node names."""
    if isinstance(value, dict):
        filled = {key: _fill(item, places) for key, item in value.items()}
        if isinstance(filled.get("scope"), list):
            filled["scope"] = ["conv2"]
        if isinstance(filled.get("operations"), list):
            filled["operations"] = [{"type": "Add", **({"attributes": {}} if "attributes" in op else {})}
                                    for op in filled["operations"]]
        return filled
    if isinstance(value, list):
        return [_fill(item, places) for item in value]
    return places.get(value, value) if isinstance(value, str) else value


def _config(entry: dict, places: dict) -> dict:
    return {"model": _fill(entry["model"], places), "engine": _fill(entry["engine"], places),
            **_fill(entry.get("top", {}), places), "compression": _fill(entry["compression"], places)}


def _plugin_engine(model_path: Path) -> dict:
    return {"data_loader": f"{AAQ_PLUGINS}:ReferenceLoader", "data_loader_args": {"model_path": str(model_path),
                                                                                  "count": 16},
            "metric": f"{AAQ_PLUGINS}:Similarity"}


@pytest.fixture
def places(tmp_path):
    model_path = Path(models.save(models.conv_relu(), tmp_path / "model.xml"))
    images = write_images(tmp_path / "images", 4)
    return {"<MODEL>": str(model_path), "<WEIGHTS>": str(model_path.with_suffix(".bin")), "<IMAGES>": str(images),
            "<AC_CONFIG>": str(tmp_path / "accuracy_checker.yml")}


def _write(tmp_path: Path, config: dict, name: str) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def _groups() -> dict[str, dict]:
    groups: dict[str, list] = {}
    for entry in DATA:
        groups.setdefault(_same_run(entry), []).append(entry)
    return {" = ".join(e["file"] for e in group): group[0] for group in groups.values()}


GROUPS = _groups()


@pytest.mark.parametrize("entry", GROUPS.values(), ids=GROUPS.keys())
def test_pot_example_config_runs_or_says_what_to_change(run_cli, tmp_path, places, entry):
    config = _config(entry, places)
    if _uses_accuracy_checker(entry["engine"]):
        as_written = run_cli("validate", _write(tmp_path, config, "as_written.yaml"))
        assert as_written.exit_code == 2 and "Accuracy Checker engine (POT's default) is not part of potq" in \
            as_written.stderr, as_written
        config["engine"] = _plugin_engine(Path(places["<MODEL>"]))
    path = _write(tmp_path, config, "config.yaml")
    result = run_cli("run", path, "-o", tmp_path / "out", "--log-level", "error")
    if entry["expect"] == "runs":
        assert result.exit_code in (0, 3), result  # 3: the accuracy target was missed, the best model is written
        assert (tmp_path / "out" / "report.json").exists()
        return
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and all(line.startswith(f"{path}: ") for line in lines), result
    for where, part in entry["expect"]:
        assert any(line.startswith(f"{path}: {where}: ") and part in line for line in lines), (where, part, lines)


def test_key_sets_cover_the_documented_files():
    files = {entry["file"] for entry in DATA}
    assert len(files) == len(DATA) >= 30
    assert {"default_quantization_spec.json", "accuracy_aware_quantization_spec.json",
            "cascaded_model_default_quantizatoin_spec.json", "simplified_mode_template.json",
            "data_free_mode_template.json"} <= files
