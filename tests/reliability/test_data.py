"""Bad data from the DataLoader: one clear line naming the sample, exit 1, nothing written."""
import json

import numpy as np
import pytest

from .. import models
from .conftest import assert_one_clean_error


def run(run_cli, config, out):
    return run_cli("run", config, "-o", out, "--log-level", "error")


def test_empty_loader(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"count": 0}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader is empty")
    assert not (tmp_path / "out").exists()


def test_getitem_raising_names_the_index(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"fail_at": 5}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[5] raised OSError: cannot decode sample 5")


def test_wrong_shape(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"shape": [1, 3, 9, 8]}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[0] input 'image': got shape [1, 3, 9, 8]", "axis 2 must be 8")


def test_wrong_rank(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"shape": [8, 8]}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[0] input 'image': got shape [8, 8]", "(rank 4)")


def test_sample_without_batch_dimension_is_accepted_as_pot_did(run_cli, make_config, tmp_path):
    assert run(run_cli, make_config(loader_args={"shape": [3, 8, 8]}), tmp_path / "out").exit_code == 0


def test_grayscale_image_without_batch_and_channel_axes_is_reshaped_as_pot_did(run_cli, make_config, tmp_path):
    config = make_config(model=models.conv_relu(channels=1), loader_args={"shape": [8, 8]})
    assert run(run_cli, config, tmp_path / "out").exit_code == 0


def test_channels_last_image_for_a_channels_first_input_says_transpose(run_cli, make_config, tmp_path):
    # POT reshaped [8, 8, 3] into [1, 3, 8, 8], mixing pixels and channels; potq refuses and says why
    result = run(run_cli, make_config(loader_args={"shape": [8, 8, 3]}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[0] input 'image': got shape [8, 8, 3]",
                           "the sizes match in another order: transpose the array to the model's layout")


def test_non_numeric_dtype(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"dtype": "datetime64[s]"}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[0] input 'image': dtype datetime64[s] is not numeric")


def test_integer_data_is_converted(run_cli, make_config, tmp_path):
    assert run(run_cli, make_config(loader_args={"dtype": "int32"}), tmp_path / "out").exit_code == 0


def test_dict_with_unknown_input_name(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"input_name": "img"}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[0]: unknown input name 'img'; the model's inputs are 'image'")


def test_nan_in_input_names_the_sample(run_cli, make_config, tmp_path):
    result = run(run_cli, make_config(loader_args={"nan_at": 3}), tmp_path / "out")
    assert_one_clean_error(result, 1, "DataLoader[3] input 'image': contains NaN or Inf")


def test_inf_in_activations_never_becomes_a_range(run_cli, make_config, tmp_path):
    # finite inputs, but the model overflows float32 inside: that activation cannot get a range
    result = run(run_cli, make_config(model=models.overflowing()), tmp_path / "out")
    assert_one_clean_error(result, 1, "activation 'overflow' holds NaN or Inf for sample 0")
    assert not (tmp_path / "out").exists()


def test_nan_in_activations_is_found_even_where_reductions_skip_it(run_cli, make_config, tmp_path):
    # one NaN in the middle of the tensor: the CPU plugin's in-graph ReduceMin/ReduceMax step over it (and
    # MinMaxQuantization alone collects no mean that would carry it)
    config = make_config(model=models.nan_producing(), loader_args={"one_negative": True},
                         algorithm="MinMaxQuantization")
    result = run(run_cli, config, tmp_path / "out")
    assert_one_clean_error(result, 1, "activation 'sqrt' holds NaN or Inf for sample 0")


def test_fewer_samples_than_stat_subset_size_warns_and_uses_them(run_cli, make_config, tmp_path):
    config = make_config(loader_args={"count": 5}, params={"stat_subset_size": 300})
    result = run_cli("run", config, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "stat_subset_size 300 is larger than the dataset (5 samples): using all 5" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["algorithms"][0]["samples"] == 5


@pytest.mark.parametrize("model,loader_args,message", [
    ("u8", {"fill": 300.7}, "value 300.7 is not an integer, and the model's input is uint8"),
    ("u8", {"fill": 300.0}, "values 300..300 do not fit the model's uint8 input (0..255)"),
    ("u8", {"fill": -1, "dtype": "int32"}, "values -1..-1 do not fit the model's uint8 input (0..255)"),
    ("i64", {"fill": 2.5}, "value 2.5 is not an integer, and the model's input is int64"),
    ("f32", {"fill": 1e300, "dtype": "float64"}, "value 1e+300 overflows the model's float32 input"),
    ("f32", {"fill": 1.0, "dtype": "complex64"}, "complex values cannot feed the model's float32 input"),
], ids=["fraction_into_u8", "out_of_range_into_u8", "negative_into_u8", "fraction_into_i64", "float64_overflow",
        "complex"])
def test_lossy_casts_of_sample_data_name_the_sample_and_input(run_cli, make_config, tmp_path, model, loader_args,
                                                             message):
    models_by_type = {"u8": models.typed_input(np.uint8), "i64": models.typed_input(np.int64), "f32": None}
    result = run(run_cli, make_config(model=models_by_type[model], loader_args=loader_args), tmp_path / "out")
    assert_one_clean_error(result, 1, f"DataLoader[0] input 'image': {message}")


def test_integral_data_in_range_feeds_an_integer_input(run_cli, make_config, tmp_path):
    config = make_config(model=models.typed_input(np.uint8), loader_args={"fill": 200.0})
    assert run(run_cli, config, tmp_path / "out").exit_code == 0


@pytest.mark.parametrize("shuffle", [False, True])
def test_huge_dataset_length_is_sampled_without_listing_it(run_cli, make_config, tmp_path, shuffle):
    config = make_config(loader_args={"count": 10 ** 12}, params={"stat_subset_size": 4, "shuffle_data": shuffle})
    result = run(run_cli, config, tmp_path / "out")
    assert result.exit_code == 0, result
    assert json.loads((tmp_path / "out" / "report.json").read_text())["algorithms"][0]["samples"] == 4
