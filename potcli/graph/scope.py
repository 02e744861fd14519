"""Ignored scope: which nodes stay in floating point, and why. Entries that match nothing are errors."""
import difflib
import re
from dataclasses import dataclass

import openvino as ov

from ..config.params import IgnoredOperation, IgnoredScope
from ..errors import ParamError


@dataclass(frozen=True)
class IgnoredNodes:
    """Node names kept in FP32, each with the reason (which config entry matched it)."""

    reasons: dict[str, str]

    def reason(self, node_name: str) -> str | None:
        return self.reasons.get(node_name)


def resolve_ignored_scope(model: ov.Model, ignored: IgnoredScope, extra_types: tuple[str, ...]) -> IgnoredNodes:
    """Match POT's ``ignored`` block (scope, patterns, operations) plus ``extra_types`` against ``model``.

    :param extra_types: operation types ignored by ``model_type: transformer``.
    Raises ParamError listing every entry that matches no node (a typo must not pass silently).
    """
    nodes, unmatched = match_ignored_scope(model, ignored, extra_types)
    if unmatched:
        raise ParamError.several(unmatched)
    return nodes


def match_ignored_scope(model: ov.Model, ignored: IgnoredScope,
                        extra_types: tuple[str, ...]) -> tuple[IgnoredNodes, list[tuple[str, str]]]:
    """The nodes ``ignored`` matches, and ``(path, message)`` for every entry that matches none."""
    nodes = model.get_ordered_ops()
    names = {node.get_friendly_name() for node in nodes}
    reasons: dict[str, str] = {}
    unmatched = []
    for i, name in enumerate(ignored.scope):
        if name in names:
            reasons.setdefault(name, f"ignored.scope[{i}]")
        else:
            unmatched.append((f"ignored.scope[{i}]",
                              f"{name!r} matches no node of the model{_hint(name, names)}"))
    for i, pattern in enumerate(ignored.patterns):
        regex = re.compile(pattern)
        hits = [n for n in sorted(names) if regex.fullmatch(n)]
        for hit in hits:
            reasons.setdefault(hit, f"ignored.patterns[{i}]")
        if not hits:
            unmatched.append((f"ignored.patterns[{i}]", f"{pattern!r} matches no node name of the model"))
    for i, entry in enumerate(ignored.operations):
        hits = [n.get_friendly_name() for n in nodes if _operation_matches(n, entry)]
        for hit in hits:
            reasons.setdefault(hit, f"ignored.operations[{i}] ({entry.type})")
        if not hits:
            qualifier = " with these attributes" if entry.attributes else ""
            unmatched.append((f"ignored.operations[{i}]",
                              f"no {entry.type} operation{qualifier} in the model"))
    for node in nodes:
        if node.get_type_name() in extra_types:
            reasons.setdefault(node.get_friendly_name(), "model_type: transformer")
    return IgnoredNodes(reasons), unmatched


def _operation_matches(node: ov.Node, entry: IgnoredOperation) -> bool:
    if node.get_type_name() != entry.type:
        return False
    attributes = node.get_attributes()
    wanted = entry.attributes
    return all(key in attributes and _same(attributes[key], value) for key, value in wanted.items())


def _same(actual, expected) -> bool:
    if isinstance(actual, (list, tuple)) or hasattr(actual, "tolist"):
        actual = list(actual.tolist() if hasattr(actual, "tolist") else actual)
        return isinstance(expected, list) and [str(a) for a in actual] == [str(e) for e in expected]
    return str(actual).lower() == str(expected).lower()


def _hint(name: str, names: set[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""
