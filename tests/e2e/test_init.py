"""potq init: a starter config (and DataLoader skeleton) that potq validate accepts and potq run runs."""
import json

import numpy as np
import yaml

from .. import models
from ..conftest import REPO
from ..reliability.conftest import assert_one_clean_error

DIGITS = REPO / "samples" / "digits"


def init_validate_run(run_cli, tmp_path, model, *init_args):
    """potq init, validate, run: the written files, the config as parsed, the report and the run's stderr."""
    config = tmp_path / "conf" / "c.yaml"
    config.parent.mkdir(exist_ok=True)
    written = run_cli("init", model, "-o", config, *init_args)
    assert written.exit_code == 0, written.stderr
    assert run_cli("validate", config).exit_code == 0
    result = run_cli("run", config, "-o", tmp_path / "out", "--no-progress")
    assert result.exit_code == 0, result.stderr
    return (sorted(p.name for p in config.parent.iterdir()), yaml.safe_load(config.read_text()),
            json.loads((tmp_path / "out" / "report.json").read_text()), result.stderr)


def test_an_image_folder_gives_a_simplified_mode_config(run_cli, tmp_path):
    files, config, report, _ = init_validate_run(run_cli, tmp_path, DIGITS / "model" / "digits.xml",
                                                 "--data", DIGITS / "data" / "calib")
    assert files == ["c.yaml"]
    engine = config["engine"]  # data_source: relative to the config's folder, or absolute (where the repo lives)
    assert (tmp_path / "conf" / engine.pop("data_source")).resolve() == (DIGITS / "data" / "calib").resolve()
    assert engine == {"type": "simplified", "layout": "NCHW"}
    assert report["algorithms"][0]["samples"] == 300 and report["runtime"]["int8_compute_layers"] == 5


def test_without_data_a_skeleton_loader_makes_placeholders(run_cli, tmp_path):
    model = models.save(models.conv_relu(), tmp_path / "model.xml")
    files, config, report, stderr = init_validate_run(run_cli, tmp_path, model)
    assert files == ["c.yaml", "c_loader.py"]
    assert config["engine"]["data_loader"] == "c_loader.py:StarterLoader"
    assert config["model"]["model"] == "../model.xml"
    assert report["algorithms"][0]["samples"] == 300
    assert "random placeholder samples" in stderr


def test_a_folder_of_arrays_is_read_by_the_skeleton(run_cli, tmp_path):
    model = models.save(models.two_inputs(), tmp_path / "model.xml")
    data = tmp_path / "arrays"
    data.mkdir()
    for i, sample in enumerate(models.random_inputs(models.two_inputs(), 12)):
        np.savez(data / f"{i:03}.npz", **sample)
    files, config, report, stderr = init_validate_run(run_cli, tmp_path, model, "--data", data)
    assert config["engine"]["data_loader_args"] == {"data_dir": "${config_dir}/../arrays"}
    assert report["algorithms"][0]["samples"] == 12 and "placeholder" not in stderr


def test_existing_files_are_kept_unless_forced(run_cli, tmp_path):
    model = models.save(models.conv_relu(), tmp_path / "model.xml")
    config = tmp_path / "c.yaml"
    config.write_text("mine")
    result = run_cli("init", model, "-o", config)
    assert result.exit_code == 2 and config.read_text() == "mine"
    assert result.stderr.strip() == f"{config}: already exists; choose another --output or add --force"
    assert not (tmp_path / "c_loader.py").exists()
    assert run_cli("init", model, "-o", config, "--force").exit_code == 0
    assert config.read_text().startswith("# potq starter config for model.xml")


def test_bad_model_or_data_is_one_line(run_cli, tmp_path):
    assert_one_clean_error(run_cli("init", tmp_path / "none.xml"), 1, "none.xml: model file not found")
    model = models.save(models.conv_relu(), tmp_path / "model.xml")
    result = run_cli("init", model, "--data", tmp_path / "missing")
    assert result.exit_code == 2 and result.stderr.strip() == f"{tmp_path / 'missing'}: --data must be a folder"
