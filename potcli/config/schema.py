"""The packaged JSON Schemas (schemas/ in the source tree, ``potcli.schemas`` once installed)."""
import functools
import json
from importlib import resources


@functools.cache
def _load(name: str) -> dict:
    return json.loads(resources.files("potcli.schemas").joinpath(name).read_text(encoding="utf-8"))


def config_schema() -> dict:
    """The config schema. Treat it as read-only: it is shared."""
    return _load("config.schema.json")


def report_schema() -> dict:
    return _load("report.schema.json")


def config_schema_text() -> str:
    return resources.files("potcli.schemas").joinpath("config.schema.json").read_text(encoding="utf-8")


def schema_default(definition: str, key: str):
    """The default the schema gives ``key`` in ``$defs/<definition>`` (looking through its allOf parts)."""
    node = config_schema()["$defs"][definition]
    for part in [node, *node.get("allOf", [])]:
        prop = part.get("properties", {}).get(key)
        if prop is not None and "default" in prop:
            return prop["default"]
    raise KeyError(f"schema gives no default for {definition}.{key}")
