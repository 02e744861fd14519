"""POT's simplified mode as POT read images: the layout guessed from the input shape when the IR has none, .txt
lists of images, central_fraction, and messages that point at engine.layout."""
import json

import numpy as np
import pytest
import yaml

from potcli.data.image_folder import central_crop

from .. import models
from ..conftest import write_images
from ..reliability.conftest import assert_one_clean_error


@pytest.fixture
def images(tmp_path):
    return write_images(tmp_path / "images", 6, shape=(10, 12, 3))


def simplified_config(tmp_path, model, data_source, **engine) -> str:
    models.save(model, tmp_path / "model.xml")
    config = {"model": {"model_name": "m", "model": "model.xml"},
              "engine": {"type": "simplified", "data_source": str(data_source), **engine},
              "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_channels_last_ir_without_layout_is_read_as_nhwc_and_the_guess_is_logged(run_cli, tmp_path, images):
    result = run_cli("run", simplified_config(tmp_path, models.channels_last(), images), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "engine.layout not given and the model has none: reading images as NHWC for input shape [1,8,8,3]" \
        in result.stderr


def test_txt_list_of_images_relative_to_the_list(run_cli, tmp_path, images):
    listing = images / "calibration.txt"
    listing.write_text("0.png\n\n3.png\n5.png\n")
    result = run_cli("run", simplified_config(tmp_path, models.conv_relu(), listing), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["algorithms"][0]["samples"] == 3


def test_txt_list_naming_a_missing_file_says_which_line(run_cli, tmp_path, images):
    listing = images / "calibration.txt"
    listing.write_text("0.png\nnope.png\n")
    result = run_cli("run", simplified_config(tmp_path, models.conv_relu(), listing), "-o", tmp_path / "out")
    assert_one_clean_error(result, 1, f"{listing}:2: 'nope.png' is not a file (engine.data_source)")


def test_layout_that_gives_no_image_channels_points_at_engine_layout(run_cli, tmp_path, images):
    # an NHWC model read as NCHW would have 8 channels
    config = simplified_config(tmp_path, models.channels_last(), images, layout="NCHW")
    result = run_cli("run", config, "-o", tmp_path / "out")
    assert_one_clean_error(result, 1, "input shape [1,8,8,3] in layout NCHW has 8 channels",
                           "set engine.layout to the model's layout")


def test_shape_without_an_image_channel_axis_asks_for_engine_layout(run_cli, tmp_path, images):
    result = run_cli("run", simplified_config(tmp_path, models.channels_last(channels=5), images), "-o",
                     tmp_path / "out")
    assert_one_clean_error(result, 1, "has no layout, and neither its second nor its last axis is 1 or 3 channels: "
                                      "set engine.layout")


def test_central_fraction_crops_before_the_resize(run_cli, tmp_path, images):
    config = simplified_config(tmp_path, models.conv_relu(), images, central_fraction=0.5)
    assert run_cli("run", config, "-o", tmp_path / "out").exit_code == 0
    image = np.arange(10 * 12).reshape(10, 12)
    np.testing.assert_array_equal(central_crop(image, 0.5), image[2:7, 3:9])
