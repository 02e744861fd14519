"""Reading a config file: JSON with ``//`` and ``/* */`` comments and trailing commas (POT read its configs with
jstyleson, which allowed both) or YAML.

Every problem is one ``FILE[:LINE:COL]: message`` line in a ConfigError.
"""
import json
import re
from pathlib import Path

import yaml

from ..errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20  # POT configs are a few KiB; anything this big is not a config
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def read_config_file(path: Path) -> dict:
    """Parse a .json (``//`` and ``/* */`` comments allowed) or .yaml/.yml file into a dict."""
    source = str(path)
    if path.suffix.lower() not in CONFIG_SUFFIXES:
        raise ConfigError.at(source, "", f"unknown config file extension {path.suffix!r}: use .json, .yaml or .yml")
    try:
        if path.is_dir():
            raise ConfigError.at(source, "", "is a folder, not a config file")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError.at(source, "", f"config file is larger than {MAX_CONFIG_BYTES // 1024} KiB; "
                                             f"refusing to read it")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.at(source, "", "config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError.at(source, "", f"cannot read config file: {e}") from e
    if not text.strip():
        raise ConfigError.at(source, "", "config file is empty")
    data = _parse_json(text, source) if path.suffix.lower() == ".json" else _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError.at(source, "", f"the top level must be a mapping with model, engine and compression, "
                                         f"not {_type_name(data)}")
    return data


def _parse_json(text: str, source: str):
    try:
        return json.loads(strip_trailing_commas(strip_json_comments(text)), parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ConfigError([f"{source}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}"]) from e
    except ValueError as e:
        raise ConfigError.at(source, "", f"invalid JSON: {e}") from e
    except RecursionError:
        raise ConfigError.at(source, "", "invalid JSON: nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a config can hold")


def _parse_yaml(text: str, source: str):
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError([f"{where}: invalid YAML: {e.problem or e.context}"]) from e
    except yaml.YAMLError as e:
        raise ConfigError.at(source, "", f"invalid YAML: {e}") from e
    except RecursionError:
        raise ConfigError.at(source, "", "invalid YAML: nested too deeply") from None


def strip_json_comments(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments outside strings, keeping line and column numbers."""
    out, i, n = [], 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


_STRING_OR_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(?=\s*[\]}])')


def strip_trailing_commas(text: str) -> str:
    """Blank out commas right before a closing ``]`` or ``}`` (outside strings), keeping line and column numbers.
    Run it on text whose comments are already blanked."""
    return _STRING_OR_TRAILING_COMMA.sub(lambda m: m.group(1) or " ", text)


def _type_name(value) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "empty"}.get(type(value), type(value).__name__)
