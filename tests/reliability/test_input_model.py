"""The input is never touched: outputs that would replace the model, its weights or the config are refused before
any work (exit 2), and a model that already holds FakeQuantize is quantized again only when the config says so."""
import json

import pytest
import yaml

from .conftest import assert_one_clean_error


def edited(config, **model):
    """``config`` with these keys of its model block changed (make_config names the outputs ``m``)."""
    data = yaml.safe_load(config.read_text())
    data["model"].update(model)
    config.write_text(yaml.safe_dump(data))
    return config


def folder_state(folder):
    return {path.name: path.read_bytes() if path.is_file() else "folder" for path in folder.iterdir()}


def test_output_into_the_model_folder_under_the_model_s_name_is_refused(run_cli, make_config, tmp_path):
    config = edited(make_config(), model_name="model")  # model.xml / .bin next to the input model.xml / .bin
    before = folder_state(tmp_path)
    result = run_cli("run", config, "-o", tmp_path, "--log-level", "error")
    assert_one_clean_error(result, 2, "c.yaml: model.model: writing", "model.xml would replace this input",
                           "choose another --output-dir (or model.model_name)")
    assert folder_state(tmp_path) == before  # not even a staging folder


def test_output_under_another_name_in_the_model_folder_is_fine(run_cli, make_config, tmp_path):
    result = run_cli("run", make_config(), "-o", tmp_path, "--log-level", "error")
    assert result.exit_code == 0, result
    assert (tmp_path / "m.xml").is_file() and (tmp_path / "model.xml").is_file()


def test_default_output_folder_holding_the_model_is_refused(run_cli, make_config, tmp_path, monkeypatch):
    config = make_config()
    model_folder = tmp_path / "results" / "model"
    model_folder.mkdir(parents=True)
    for suffix in (".xml", ".bin"):
        (tmp_path / f"model{suffix}").rename(model_folder / f"model{suffix}")
    edited(config, model_name="model", model="results/model/model.xml")
    monkeypatch.chdir(tmp_path)  # the default output folder is results/<model_name>/ under the working folder
    before = folder_state(model_folder)
    result = run_cli("run", config, "--log-level", "error")
    assert_one_clean_error(result, 2, "model.model: writing results/model/model.xml would replace this input")
    assert folder_state(model_folder) == before


def test_output_replacing_the_weights_is_refused(run_cli, make_config, tmp_path):
    config = edited(make_config(), weights="m.bin")
    (tmp_path / "model.bin").rename(tmp_path / "m.bin")
    result = run_cli("run", config, "-o", tmp_path, "--log-level", "error")
    assert_one_clean_error(result, 2, "c.yaml: model.weights: writing", "m.bin would replace this input")


@pytest.fixture
def quantized_config(run_cli, make_config, tmp_path):
    """A config whose model is potq's own INT8 output, with conv2 left in floating point."""
    first = make_config(params={"ignored": {"scope": ["conv2"]}})
    assert run_cli("run", first, "-o", tmp_path / "int8", "--log-level", "error").exit_code == 0
    return edited(make_config(name="again.yaml"), model="int8/m.xml")


def test_model_that_already_holds_fake_quantize_is_refused(run_cli, quantized_config, tmp_path):
    result = run_cli("run", quantized_config, "-o", tmp_path / "out", "--log-level", "error")
    assert_one_clean_error(result, 2, "again.yaml: model.model:", "already holds", "FakeQuantize: it looks already "
                                                                                    "quantized",
                           "set compression.requantize: true")
    assert not (tmp_path / "out").exists()


def test_requantize_quantizes_it_again_when_asked(run_cli, quantized_config, tmp_path):
    data = yaml.safe_load(quantized_config.read_text())
    data["compression"]["requantize"] = True
    quantized_config.write_text(yaml.safe_dump(data))
    result = run_cli("run", quantized_config, "-o", tmp_path / "out", "--log-level", "error")
    assert result.exit_code == 0, result
    assert json.loads((tmp_path / "out" / "report.json").read_text())["config"]["compression"]["requantize"] is True


def test_eval_output_onto_the_model_is_refused_before_evaluating(run_cli, make_config, tmp_path):
    config = make_config(metric="ok")
    before = (tmp_path / "model.xml").read_bytes()
    result = run_cli("eval", config, "-o", tmp_path / "model.xml", "--log-level", "error")
    assert_one_clean_error(result, 2, "model.model: writing", "model.xml would replace this input",
                           "choose another -o/--output file")
    assert result.stdout == ""  # refused before the evaluation
    assert (tmp_path / "model.xml").read_bytes() == before
