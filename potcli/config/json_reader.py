"""JSON configs, with ``//`` and ``/* */`` comments and trailing commas (POT read its configs with jstyleson, which
allowed both), and no key given twice.

Python's json module keeps the last of two equal keys without a word; here that is an error naming both lines.
"""
import json
import json.decoder
import json.scanner
import re

from ..errors import ConfigError, short_repr, shortened


def parse_json(text: str, source: str):
    stripped = strip_trailing_commas(strip_json_comments(text))
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    decoder.parse_object = _object_checker(stripped, source)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner would not call parse_object
    try:
        return decoder.decode(stripped)
    except json.JSONDecodeError as e:
        raise ConfigError([f"{source}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}"]) from e
    except ValueError as e:
        raise ConfigError.at(source, "", f"invalid JSON: {shortened(str(e))}") from e
    except RecursionError:
        raise ConfigError.at(source, "", "invalid JSON: nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a config can hold")


def _object_checker(text: str, source: str):
    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        seen = set()
        for key, _ in pairs:
            if key in seen:
                first, second = _key_positions(text, s_and_end[1], end, key)[:2]
                raise ConfigError([f"{source}:{_line(text, second)}:{_column(text, second)}: key "
                                   f"{short_repr(key)} is given twice (first on line {_line(text, first)}); "
                                   f"only one can hold"])
            seen.add(key)
        return dict(pairs), end
    return parse_object


def _key_positions(text: str, start: int, end: int, key: str) -> list[int]:
    """Where ``key`` appears as a key of the object spanning ``text[start:end]`` (not of objects inside it)."""
    positions, depth, i = [], 0, start
    while i < end:
        char = text[i]
        if char == '"':
            value, after = json.decoder.scanstring(text, i + 1)
            if depth == 0 and value == key and text[after:end].lstrip().startswith(":"):
                positions.append(i)
            i = after
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        i += 1
    return positions


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _column(text: str, position: int) -> int:
    return position - text.rfind("\n", 0, position)


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
