"""Read a config file (JSON with comments, or YAML), validate it against the schema, fill defaults.

Every problem is reported at once, one line each, as ``FILE: dotted.config.path: message``.
The schema in schemas/ is the only place defaults live; this module only applies them.
"""
import copy
import difflib
import json
import math
import re
from pathlib import Path

import jsonschema
import yaml

from .errors import ConfigError, format_problem
from .schema import config_schema
from .settings import RunConfig, settings_from_dict

MAX_CONFIG_BYTES = 1 << 20  # POT configs are a few KiB; anything this big is not a config
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")

ACCURACY_CHECKER_HINT = (
    "the Accuracy Checker engine (POT's default) is not part of potq: put your dataset reading in a DataLoader "
    "class and name it in engine.data_loader (and your metric in engine.metric), or use engine.type: simplified "
    "with engine.data_source for a folder of images; see 'Moving from POT' in the README"
)


def load_config(path: str | Path) -> RunConfig:
    """Read, validate and resolve a config file; raise ConfigError listing every problem."""
    path = Path(path)
    raw = read_config_file(path)
    resolved = validated_with_defaults(raw, str(path))
    return settings_from_dict(resolved, path)


def check_config_file(path: str | Path) -> list[str]:
    """Every problem in a config file, one line each; empty if it is valid."""
    try:
        validated_with_defaults(read_config_file(Path(path)), str(path))
    except ConfigError as e:
        return e.problems
    return []


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
        return json.loads(strip_json_comments(text), parse_constant=_reject_constant)
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


def validated_with_defaults(instance: dict, source: str, definition: str | None = None) -> dict:
    """Validate ``instance`` (the whole config, or one ``$defs`` entry) and return a copy with defaults filled."""
    problems = validation_problems(instance, source, definition)
    if problems:
        raise ConfigError(problems)
    filled = copy.deepcopy(instance)
    _DefaultFiller(_schema_for(definition), format_checker=jsonschema.FormatChecker()).validate(filled)
    return filled


def validation_problems(instance, source: str, definition: str | None = None) -> list[str]:
    problems = [format_problem(source, _dotted(path), msg) for path, msg in _non_finite_numbers(instance)]
    if problems:
        return problems
    schema = _schema_for(definition)
    engine = instance.get("engine") if definition is None and isinstance(instance, dict) else None
    skip_engine = _is_accuracy_checker(engine)
    if skip_engine:
        problems.append((["engine", "type"], ACCURACY_CHECKER_HINT))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(instance):
        if skip_engine and list(error.absolute_path)[:1] == ["engine"]:
            continue
        problems.extend(_describe(error, schema))
    problems.sort(key=lambda p: [str(part) for part in p[0]])
    seen, lines = set(), []
    for path, message in problems:
        line = format_problem(source, _dotted(path), message)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def _schema_for(definition: str | None) -> dict:
    root = config_schema()
    if definition is None:
        return root
    return {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{definition}"}


def _is_accuracy_checker(engine) -> bool:
    if not isinstance(engine, dict):
        return False
    if engine.get("type") == "accuracy_checker":
        return True
    looks_like_ac = bool({"config", "launchers", "datasets"} & engine.keys())  # POT's default engine, type left out
    return "type" not in engine and "data_loader" not in engine and looks_like_ac


def _describe(error: jsonschema.ValidationError, root: dict) -> list[tuple[list, str]]:
    """Turn one jsonschema error into (path, message) pairs that name the offending key."""
    path = list(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        known = sorted(_known_keys(error.schema, root))
        return [(path + [key], _unknown_key_message(key, known)) for key in error.instance if key not in known]
    if error.validator == "required":
        key = re.match(r"'(.*)' is a required property", error.message)
        return [(path + [key.group(1)] if key else path, "required key is missing")]
    if error.validator == "pattern" and "x-pattern-message" in error.schema:
        return [(path, f"{error.instance!r} {error.schema['x-pattern-message']}")]
    if error.validator == "format" and error.validator_value == "regex":
        return [(path, f"{error.instance!r} is not a valid regular expression")]
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _describe(jsonschema.exceptions.best_match(error.context), root)
    return [(path, error.message)]


def _unknown_key_message(key, known: list[str]) -> str:
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"{message} (did you mean {close[0]!r}?)"
    return f"{message}; allowed keys: {', '.join(known)}" if len(known) <= 12 else message


def _known_keys(schema: dict, root: dict) -> set[str]:
    """Property names a schema accepts, following $ref and allOf (as unevaluatedProperties does)."""
    keys = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        keys |= _known_keys(part, root)
    for branch in ("then", "else"):
        if branch in schema:
            keys |= _known_keys(schema[branch], root)
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        keys |= _known_keys(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return keys


def _non_finite_numbers(value, path=()):
    if isinstance(value, float) and not math.isfinite(value):
        yield list(path), f"{value} is not a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite_numbers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite_numbers(item, (*path, index))


def _dotted(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _type_name(value) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "empty"}.get(type(value), type(value).__name__)


_NO_DEFAULT = object()


def _default_of(subschema: dict):
    """A property's default, looking through a local ``$ref`` (``{"$ref": "#/$defs/device"}``)."""
    if "default" in subschema:
        return subschema["default"]
    ref = subschema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return _default_of(config_schema()["$defs"][ref.removeprefix("#/$defs/")])
    return _NO_DEFAULT


def _fill_defaults(validator, properties, instance, schema):
    if isinstance(instance, dict):
        for key, subschema in properties.items():
            default = _default_of(subschema)
            if default is not _NO_DEFAULT and key not in instance:
                instance[key] = copy.deepcopy(default)
    yield from jsonschema.Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, schema)


# Validating with this class writes each property's schema default into the instance (jsonschema FAQ recipe).
_DefaultFiller = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"properties": _fill_defaults})
