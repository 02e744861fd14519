"""YAML configs: PyYAML's safe loader, bounded and strict.

A config is a tree of JSON values, so the loader refuses what would expand, repeat or not survive as JSON,
each with the line it is on: aliases that expand past ``MAX_VALUES`` values (a 1 KiB "billion laughs" file
would otherwise keep validation busy for minutes), an alias inside the value it names, a key given twice
(the last one would silently win), keys that are not strings, and dates, sets, binary or ordered maps.
"""
import yaml

from ..errors import ConfigError, short_repr, shortened

MAX_VALUES = 100_000  # values once aliases are expanded; real configs hold a few hundred
_MERGE = "tag:yaml.org,2002:merge"
_NOT_JSON = {  # YAML-only types -> what to tell the user
    "tag:yaml.org,2002:timestamp": "a YAML date is not a JSON value; quote it to pass a string",
    "tag:yaml.org,2002:binary": "!!binary is not a JSON value; pass a string",
    "tag:yaml.org,2002:set": "a YAML set is not a JSON value; use a list",
    "tag:yaml.org,2002:omap": "a YAML ordered map is not a JSON value; use a mapping",
    "tag:yaml.org,2002:pairs": "YAML pairs are not a JSON value; use a mapping",
}


def parse_yaml(text: str, source: str):
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError([f"{_where(source, mark)}: invalid YAML: {e.problem or e.context}"]) from e
    except yaml.YAMLError as e:
        raise ConfigError.at(source, "", f"invalid YAML: {shortened(str(e))}") from e
    except RecursionError:
        raise ConfigError.at(source, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _where(source: str, mark) -> str:
    return f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source


def _refused(mark, message: str) -> yaml.MarkedYAMLError:
    return yaml.constructor.ConstructorError(None, None, message, mark)


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.expanded: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def compose_node(self, parent, index):
        """Count every node's expanded size once, as it is composed: linear time, even for an alias bomb."""
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            if id(node) not in self.expanded:  # its anchor is still open: the alias is inside what it names
                raise _refused(mark, "this alias refers to a value that contains it")
            return node
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        size = 1 + sum(self.expanded[id(child)] for child in children)
        if size > MAX_VALUES:
            raise _refused(node.start_mark, f"aliases expand this value to more than {MAX_VALUES} values; "
                                            f"a config holds a few hundred")
        self.expanded[id(node)] = size
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    raise _refused(key_node.start_mark, f"key {short_repr(key)} is not a string; quote it")
                if key in seen:
                    raise _refused(key_node.start_mark, f"key {short_repr(key)} is given twice (first on line "
                                                        f"{seen[key].line + 1}); only one can hold")
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than Python converts
            raise _refused(node.start_mark, f"an integer of {len(node.value)} characters is more than any "
                                            f"config value needs") from None

    def construct_not_json(self, node):
        raise _refused(node.start_mark, _NOT_JSON[node.tag])


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)
for _tag in _NOT_JSON:
    _BoundedLoader.add_constructor(_tag, _BoundedLoader.construct_not_json)
