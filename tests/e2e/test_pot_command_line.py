"""POT's command line on ``potq run``: -c, config-free -q runs, -e, -d, --output-dir with POT's folders, and the
combinations POT refused, refused with POT's meaning (exit 2, one line each)."""
import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from potcli.config.command_line import PotFlags, output_dir
from potcli.config.settings import settings_from_dict
from potcli.config.validation import validated_with_defaults

from .. import models
from ..conftest import REPO, write_images

AAQ_PLUGINS = REPO / "tests" / "aaq_plugins.py"


@pytest.fixture
def files(tmp_path):
    """A tiny model, a folder of images, a simplified-mode config, a plugin config and an engine-block file."""
    model = Path(models.save(models.conv_relu(), tmp_path / "model.xml"))
    images = write_images(tmp_path / "images", 4)
    engine = {"data_loader": f"{AAQ_PLUGINS}:ReferenceLoader",
              "data_loader_args": {"model_path": str(model), "count": 8}, "metric": f"{AAQ_PLUGINS}:Similarity"}
    engine_file = tmp_path / "engine.yaml"
    engine_file.write_text(yaml.safe_dump(engine))
    algorithms = [{"name": "DefaultQuantization", "params": {"stat_subset_size": 4}}]
    simplified = tmp_path / "simplified.yaml"
    simplified.write_text(yaml.safe_dump({"model": {"model_name": "m", "model": "model.xml"},
                                          "engine": {"type": "simplified", "data_source": "images"},
                                          "compression": {"algorithms": algorithms}}))
    plugins = tmp_path / "plugins.yaml"
    plugins.write_text(yaml.safe_dump({"model": {"model_name": "m", "model": "model.xml"}, "engine": engine,
                                       "compression": {"algorithms": algorithms}}))
    return {"model": model, "images": images, "engine": engine_file, "simplified": simplified, "plugins": plugins,
            "out": tmp_path / "out"}


def test_config_with_dash_c_and_direct_dump_writes_to_optimized(run_cli, files):
    result = run_cli("run", "-c", files["simplified"], "--output-dir", files["out"], "-d")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (files["out"] / "optimized").iterdir()) == ["m.bin", "m.xml", "report.json"]


def test_without_direct_dump_the_output_goes_where_pot_put_it(run_cli, files):
    result = run_cli("run", "-c", files["simplified"], "--output-dir", files["out"], "--log-level", "CRITICAL",
                     "--progress-bar", "--stream-output")
    assert result.exit_code == 0, result.stderr
    written = list(files["out"].glob("m_DefaultQuantization/*/optimized/m.xml"))
    assert len(written) == 1
    datetime.strptime(written[0].parent.parent.name, "%Y-%m-%d_%H-%M-%S")  # POT's time folder


def test_output_folder_layouts():
    config = validated_with_defaults({"model": {"model_name": "net", "model": "net.xml"},
                                      "engine": {"data_loader": "x:Y"},
                                      "compression": {"algorithms": [{"name": "MinMaxQuantization"},
                                                                     {"name": "FastBiasCorrection"}]}}, "c.yaml")
    settings = settings_from_dict(config, Path("c.yaml"))
    now = datetime(2024, 1, 2, 3, 4, 5)
    assert output_dir(settings, PotFlags(config="c.yaml", pot_style=True), now) == \
        Path("results/net_MinMaxQuantization_FastBiasCorrection/2024-01-02_03-04-05/optimized")
    assert output_dir(settings, PotFlags(config="c.yaml", pot_style=True, direct_dump=True, output_dir="o")) == \
        Path("o/optimized")
    assert output_dir(settings, PotFlags(config="c.yaml", output_dir="o")) == Path("o")  # potq's own form
    assert output_dir(settings, PotFlags(config="c.yaml")) is None


def test_config_free_default_quantization_in_simplified_mode(run_cli, files):
    result = run_cli("run", "-q", "default", "-m", files["model"], "-w", files["model"].with_suffix(".bin"),
                     "-n", "tiny", "--engine", "simplified", "--data-source", files["images"], "--preset", "mixed",
                     "--output-dir", files["out"], "-d")
    assert result.exit_code == 0, result.stderr
    report = json.loads((files["out"] / "optimized" / "report.json").read_text())
    params = report["config"]["compression"]["algorithms"][0]["params"]
    assert params["preset"] == "mixed" and params["stat_subset_size"] == 300  # POT's template
    assert report["config"]["compression"]["target_device"] == "ANY"
    assert (files["out"] / "optimized" / "tiny.xml").exists()


def test_config_free_accuracy_aware_with_an_engine_block_and_evaluate(run_cli, files):
    result = run_cli("run", "-q", "accuracy_aware", "-m", files["model"], "--engine-config", files["engine"],
                     "--max-drop", "0.02", "--output-dir", files["out"], "-d", "-e")
    assert result.exit_code in (0, 3), result.stderr
    assert result.stdout.splitlines()[-1].startswith("similarity: ")  # -e printed the quantized model's metric
    report = json.loads((files["out"] / "optimized" / "report.json").read_text())
    assert report["config"]["compression"]["algorithms"][0]["params"]["maximal_drop"] == 0.02


def test_evaluate_after_a_config_run(run_cli, files):
    result = run_cli("run", files["plugins"], "-o", files["out"], "-e")
    assert result.exit_code == 0, result.stderr
    assert 0.9 < float(result.stdout.splitlines()[-1].split("similarity:")[1]) <= 1.0


def test_accuracy_checker_config_runs_in_simplified_mode_as_pot_allowed(run_cli, files, tmp_path):
    ac_config = tmp_path / "ac.json"
    ac_config.write_text(json.dumps({"model": {"model_name": "m", "model": "model.xml"},
                                     "engine": {"config": "accuracy_checker.yml", "stat_requests_number": 2},
                                     "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}))
    result = run_cli("run", "-c", ac_config, "--engine", "simplified", "--data-source", files["images"],
                     "--output-dir", files["out"], "-d")
    assert result.exit_code == 0, result.stderr


REFUSED = [  # (id, arguments after `potq run`, lines of the message: (flag, part))
    ("nothing", [], [("", "give a config")]),
    ("config_twice", ["{simplified}", "-c", "{simplified}"], [("-c", "give the config once")]),
    ("config_and_quantize", ["-c", "{simplified}", "-q", "default", "-m", "{model}", "--engine", "simplified",
                             "--data-source", "{images}"], [("-q", "either a config or -q")]),
    ("model_with_config", ["-c", "{simplified}", "-m", "{model}"], [("-m/--model", "applies only with -q")]),
    ("preset_with_config", ["-c", "{simplified}", "--preset", "mixed"], [("--preset", "applies only with -q")]),
    ("quantize_without_model", ["-q", "default", "--engine", "simplified", "--data-source", "{images}"],
     [("-m/--model", "-q needs the model's .xml")]),
    ("quantize_without_engine", ["-q", "default", "-m", "{model}"], [("--engine", "-q needs an engine")]),
    ("simplified_without_source", ["-q", "default", "-m", "{model}", "--engine", "simplified"],
     [("--data-source", "--engine simplified needs --data-source DIR")]),
    ("accuracy_aware_without_drop", ["-q", "accuracy_aware", "-m", "{model}", "--engine-config", "{engine}"],
     [("--max-drop", "-q accuracy_aware needs --max-drop")]),
    ("accuracy_aware_simplified", ["-q", "accuracy_aware", "-m", "{model}", "--engine", "simplified",
                                   "--data-source", "{images}", "--max-drop", "0.01"],
     [("-q accuracy_aware", "simplified mode has no annotations")]),
    ("max_drop_with_default", ["-q", "default", "-m", "{model}", "--engine", "simplified", "--data-source",
                               "{images}", "--max-drop", "0.01"], [("--max-drop", "only with -q accuracy_aware")]),
    ("ac_config", ["-q", "default", "-m", "{model}", "--ac-config", "ac.yml"],
     [("--ac-config", "not carried over from POT: the Accuracy Checker engine; use --engine-config FILE"),
      ("--engine", "-q needs an engine")]),
    ("evaluate_simplified", ["-c", "{simplified}", "-e"], [("-e/--evaluate", "needs a Metric")]),
    ("data_source_for_plugins", ["-c", "{plugins}", "--data-source", "{images}"],
     [("--data-source", "fills in engine.data_source of a simplified-mode config")]),
]


@pytest.mark.parametrize("arguments,lines", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_wrong_combinations_are_refused_with_pots_meaning(run_cli, files, arguments, lines):
    result = run_cli("run", *[a.format(**files) for a in arguments], "-o", files["out"])
    assert result.exit_code == 2, result
    got = result.stderr.strip().splitlines()
    assert len(got) == len(lines) and "Traceback" not in result.stderr, got
    for line, (flag, part) in zip(got, lines, strict=True):
        assert line.startswith(f"potq run: {flag}: " if flag else "potq run: ") and part in line, got
    assert not files["out"].exists()
