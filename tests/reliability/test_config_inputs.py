"""Config files that expand, repeat, hide a device or smuggle non-JSON values: refused by `potq validate`, with the
line, exit 2."""
import json
import os

import pytest

from potcli.config.yaml_reader import MAX_VALUES

BODY = "engine: {data_loader: 'loader:Loader'}\ncompression: {algorithms: [{name: DefaultQuantization}]}\n"


def validate(run_cli, path):
    return run_cli("validate", path)


def with_engine(tmp_path, engine: str):
    """c.yaml whose line 2 is ``engine: {<engine>}``."""
    path = tmp_path / "c.yaml"
    path.write_text(f"model: {{model: m.xml}}\nengine: {{{engine}}}\n"
                    f"compression: {{algorithms: [{{name: DefaultQuantization}}]}}\n")
    return path


def assert_refused(result, *parts):
    assert result.exit_code == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr, result
    for part in parts:
        assert part in lines[0], result.stderr


def test_alias_bomb_is_refused_at_the_line_that_expands(run_cli, tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):  # 9**9 values once expanded, in 400 bytes
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*{'a' if level == 1 else f'l{level - 1}'}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n" + "model: {model: m.xml}\n" + BODY)
    expanded = [9 ** level for level in range(1, 10)]
    crossing = next(i for i, size in enumerate(expanded) if size > MAX_VALUES) + 1  # line of the first too big
    assert_refused(validate(run_cli, path), f"bomb.yaml:{crossing}:", f"more than {MAX_VALUES} values")


def test_alias_inside_what_it_names_is_refused(run_cli, tmp_path):
    path = with_engine(tmp_path, "data_loader: 'a:B', data_loader_args: &x {a: *x}")
    assert_refused(validate(run_cli, path), "c.yaml:2:", "refers to a value that contains it")


def test_yaml_symlink_to_dev_zero_is_not_read(run_cli, tmp_path):
    path = tmp_path / "zero.yaml"
    path.symlink_to("/dev/zero")
    assert_refused(validate(run_cli, path), "zero.yaml: is not a regular file")


def test_fifo_is_refused_without_waiting_for_a_writer(run_cli, tmp_path):
    path = tmp_path / "fifo.yaml"
    os.mkfifo(path)
    assert_refused(validate(run_cli, path), "fifo.yaml: is not a regular file")


@pytest.mark.parametrize("text,where", [
    ("model: {model: a.xml}\n" + BODY + "model: {model: b.xml}\n", "c.yaml:4:1"),
    ("model: {model: a.xml, model: b.xml}\n" + BODY, "c.yaml:1:23"),
], ids=["top_level", "nested"])
def test_duplicate_yaml_keys_name_both_lines(run_cli, tmp_path, text, where):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert_refused(validate(run_cli, path), where, "key 'model' is given twice (first on line 1)")


def test_yaml_merge_keys_are_not_duplicates(run_cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {<<: {model: a.xml, model_name: x}, model_name: y}\n" + BODY)
    assert validate(run_cli, path).exit_code == 0


def test_duplicate_json_keys_name_both_lines(run_cli, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"model": {"model": "a.xml"},\n'
                    ' "engine": {"data_loader": "a:B", "data_loader_args": {"model": 1}},\n'
                    ' // a comment does not move the columns\n'
                    ' "model": {"model": "b.xml"},\n'
                    ' "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}\n')
    assert_refused(validate(run_cli, path), "c.json:4:2:", "key 'model' is given twice (first on line 1)")


@pytest.mark.parametrize("value,message", [
    ("2024-01-01", "a YAML date is not a JSON value; quote it"),
    ("!!set {a, b}", "a YAML set is not a JSON value"),
    ("!!binary aGVsbG8=", "!!binary is not a JSON value"),
    ("!!omap [{a: 1}]", "ordered map is not a JSON value"),
], ids=["date", "set", "binary", "omap"])
def test_plugin_args_must_be_json_values(run_cli, tmp_path, value, message):
    path = with_engine(tmp_path, f"data_loader: 'a:B', data_loader_args: {{since: {value}}}")
    assert_refused(validate(run_cli, path), "c.yaml:2:", message)


def test_non_string_key_is_refused(run_cli, tmp_path):
    path = with_engine(tmp_path, "data_loader: 'a:B', data_loader_args: {1: x}")
    assert_refused(validate(run_cli, path), "c.yaml:2:", "key 1 is not a string")


def test_integer_with_thousands_of_digits_is_refused_at_its_line(run_cli, tmp_path):
    path = with_engine(tmp_path, f"data_loader: 'a:B', stat_requests_number: {'9' * 5000}")
    assert_refused(validate(run_cli, path), "c.yaml:2:", "an integer of 5000 characters")


@pytest.mark.parametrize("name", ["..", ".", "a\nb", "a\x00b", "a\x1b[2Jb", "a/b"],
                         ids=["dotdot", "dot", "newline", "nul", "escape", "slash"])
def test_model_names_that_escape_the_folder_or_hold_control_characters(run_cli, tmp_path, name):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"model": "m.xml", "model_name": name}, "engine": {"data_loader": "a:B"},
                                "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}))
    assert_refused(validate(run_cli, path), "model.model_name", "must be a file name")


def test_output_name_taken_from_a_model_file_with_a_newline_is_refused(run_cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text('model: {model: "a\\nb.xml"}\n' + BODY)
    assert_refused(validate(run_cli, path), "c.yaml: model.model: the outputs are named after the model file",
                   "set model.model_name")


@pytest.mark.parametrize("key,value", [("stat_requests_number", 100000), ("eval_requests_number", 1e20)])
def test_request_counts_have_a_maximum(run_cli, tmp_path, key, value):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"model": "m.xml"}, "engine": {"data_loader": "a:B", key: value},
                                "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}))
    assert_refused(validate(run_cli, path), f"engine.{key}: {value} is greater than the maximum of 256")


def test_quoted_values_in_messages_are_capped(run_cli, tmp_path):
    path = tmp_path / "c.json"
    huge = "x" * 200_000
    path.write_text(json.dumps({"model": {"model": "m.xml"}, "engine": {"data_loader": "a:B"},
                                "compression": {"algorithms": [{"name": "DefaultQuantization",
                                                                "params": {"preset": huge, huge: 1}}]}}))
    result = validate(run_cli, path)
    assert result.exit_code == 2, result
    assert all(len(line) < 1000 for line in result.stderr.splitlines()), [len(x) for x in result.stderr.splitlines()]
    assert "is not one of [None, 'performance', 'mixed', 'accuracy']" in result.stderr
    assert "more characters" in result.stderr
