"""Ignored scope: which nodes stay in floating point, and why. Entries that match nothing are errors."""
import difflib
import re
from dataclasses import dataclass

import openvino as ov

from .errors import ConfigError


@dataclass(frozen=True)
class IgnoredScope:
    """Node names kept in FP32, each with the reason (which config entry matched it)."""

    reasons: dict[str, str]

    def reason(self, node_name: str) -> str | None:
        return self.reasons.get(node_name)


def resolve_ignored_scope(model: ov.Model, ignored: dict, extra_types: tuple[str, ...], source: str,
                          config_path: str) -> IgnoredScope:
    """Match POT's ``ignored`` block (scope, patterns, operations) plus ``extra_types`` against ``model``.

    :param extra_types: operation types ignored by ``model_type: transformer``.
    :param source, config_path: where the block came from, for error messages.
    Raises ConfigError listing every entry that matches no node (a typo must not pass silently).
    """
    nodes = model.get_ordered_ops()
    names = {node.get_friendly_name() for node in nodes}
    reasons: dict[str, str] = {}
    unmatched = []
    for i, name in enumerate(ignored.get("scope", [])):
        if name in names:
            reasons.setdefault(name, f"ignored.scope[{i}]")
        else:
            unmatched.append((f"{config_path}.scope[{i}]",
                              f"{name!r} matches no node of the model{_hint(name, names)}"))
    for i, pattern in enumerate(ignored.get("patterns", [])):
        regex = re.compile(pattern)
        hits = [n for n in sorted(names) if regex.fullmatch(n)]
        for hit in hits:
            reasons.setdefault(hit, f"ignored.patterns[{i}]")
        if not hits:
            unmatched.append((f"{config_path}.patterns[{i}]", f"{pattern!r} matches no node name of the model"))
    for i, entry in enumerate(ignored.get("operations", [])):
        hits = [n.get_friendly_name() for n in nodes if _operation_matches(n, entry)]
        for hit in hits:
            reasons.setdefault(hit, f"ignored.operations[{i}] ({entry['type']})")
        if not hits:
            qualifier = " with these attributes" if entry.get("attributes") else ""
            unmatched.append((f"{config_path}.operations[{i}]",
                              f"no {entry['type']} operation{qualifier} in the model"))
    for node in nodes:
        if node.get_type_name() in extra_types:
            reasons.setdefault(node.get_friendly_name(), "model_type: transformer")
    if unmatched:
        raise ConfigError([f"{source}: {path}: {message}" for path, message in unmatched])
    return IgnoredScope(reasons)


def _operation_matches(node: ov.Node, entry: dict) -> bool:
    if node.get_type_name() != entry["type"]:
        return False
    attributes = node.get_attributes()
    wanted = entry.get("attributes", {})
    return all(key in attributes and _same(attributes[key], value) for key, value in wanted.items())


def _same(actual, expected) -> bool:
    if isinstance(actual, (list, tuple)) or hasattr(actual, "tolist"):
        actual = list(actual.tolist() if hasattr(actual, "tolist") else actual)
        return isinstance(expected, list) and [str(a) for a in actual] == [str(e) for e in expected]
    return str(actual).lower() == str(expected).lower()


def _hint(name: str, names: set[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""
