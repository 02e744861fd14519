"""Validate a config (or one part of it, for POT's Python API) against the schema and fill its defaults.

Every problem is reported at once, one line each, as ``FILE: dotted.config.path: message``.
The schema in schemas/ is the only place defaults live; this module only applies them.
"""
import copy
import difflib
import math
import re

import jsonschema

from ..errors import ConfigError, format_problem, short_repr, shortened
from .not_carried import Finding, findings
from .schema import config_schema
from .spellings import canonical

ACCURACY_CHECKER_HINT = (
    "the Accuracy Checker engine (POT's default) is not part of potq: put your dataset reading in a DataLoader "
    "class and name it in engine.data_loader (and your metric in engine.metric), or use engine.type: simplified "
    "with engine.data_source for a folder of images; see 'Moving from POT' in the README"
)
# Keys POT used that potq spells another way, where difflib would not find the match.
RENAMED_KEYS = {"name": "model_name"}


def validated_with_defaults(instance: dict, source: str, definition: str | None = None) -> dict:
    """Validate ``instance`` (the whole config, or one ``$defs`` entry) and return a copy with POT's alternative
    spellings replaced (spellings.py) and defaults filled."""
    instance = canonical(instance, definition)
    problems = validation_problems(instance, source, definition)
    if problems:
        raise ConfigError(problems)
    _DefaultFiller(_schema_for(definition), format_checker=jsonschema.FormatChecker()).validate(instance)
    return instance


def validation_problems(instance, source: str, definition: str | None = None) -> list[str]:
    problems = [format_problem(source, _dotted(path), msg) for path, msg in _non_finite_numbers(instance)]
    if problems:
        return problems
    schema = _schema_for(definition)
    found = findings(instance, definition)
    engine = instance.get("engine") if definition is None and isinstance(instance, dict) else None
    if _is_accuracy_checker(engine):
        found.append(Finding(("engine", "type"), ACCURACY_CHECKER_HINT, ("engine",)))
    problems = [(list(finding.path), finding.message) for finding in found]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(instance):
        problems.extend(problem for problem in _describe(error, schema)
                        if not any(finding.covers_path(problem[0]) for finding in found))
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
        return [(path, f"{short_repr(error.instance)} {error.schema['x-pattern-message']}")]
    if error.validator == "format" and error.validator_value == "regex":
        return [(path, f"{short_repr(error.instance)} is not a valid regular expression")]
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _describe(jsonschema.exceptions.best_match(error.context), root)
    # jsonschema quotes the whole offending value: keep the message one readable line
    return [(path, shortened(error.message.replace(repr(error.instance), short_repr(error.instance)), 500))]


def _unknown_key_message(key, known: list[str]) -> str:
    message = f"unknown key {short_repr(key)}"
    close = [RENAMED_KEYS[key]] if RENAMED_KEYS.get(key) in known else \
        difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
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
        name = shortened(str(part), 80)
        text += f"[{part}]" if isinstance(part, int) else (f".{name}" if text else name)
    return text


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
