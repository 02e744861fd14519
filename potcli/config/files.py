"""Reading a config file: JSON (json_reader.py) or YAML (yaml_reader.py), from a regular file of bounded size.

Every problem is one ``FILE[:LINE:COL]: message`` line in a ConfigError.
"""
import os
import stat
from pathlib import Path

from ..errors import ConfigError
from .json_reader import parse_json
from .yaml_reader import parse_yaml

MAX_CONFIG_BYTES = 1 << 20  # POT configs are a few KiB; anything this big is not a config
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def read_config_file(path: Path) -> dict:
    """Parse a .json (``//`` and ``/* */`` comments allowed) or .yaml/.yml file into a dict."""
    source = str(path)
    if path.suffix.lower() not in CONFIG_SUFFIXES:
        raise ConfigError.at(source, "", f"unknown config file extension {path.suffix!r}: use .json, .yaml or .yml")
    data = _read_bytes(path, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError.at(source, "", f"cannot read config file: not UTF-8 text (byte {data[e.start]:#04x} at "
                                         f"offset {e.start})") from None
    if not text.strip():
        raise ConfigError.at(source, "", "config file is empty")
    data = parse_json(text, source) if path.suffix.lower() == ".json" else parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError.at(source, "", f"the top level must be a mapping with model, engine and compression, "
                                         f"not {_type_name(data)}")
    return data


def _read_bytes(path: Path, source: str) -> bytes:
    """At most MAX_CONFIG_BYTES of a regular file: the cap counts bytes read, not what stat() claims (a
    symlink to /dev/zero, a FIFO or a /proc file would pass a size check), and opening does not block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError.at(source, "", "config file not found") from None
    except OSError as e:
        raise ConfigError.at(source, "", f"cannot read config file: {e.strerror or e}") from e
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError.at(source, "", "is a folder, not a config file")
        if not stat.S_ISREG(mode):
            raise ConfigError.at(source, "", "is not a regular file (a device, FIFO or socket); refusing to read it")
        try:
            data = f.read(MAX_CONFIG_BYTES + 1)
        except OSError as e:
            raise ConfigError.at(source, "", f"cannot read config file: {e.strerror or e}") from e
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError.at(source, "", f"config file is larger than {MAX_CONFIG_BYTES // 1024} KiB; "
                                         f"refusing to read it")
    return data


def _type_name(value) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "empty"}.get(type(value), type(value).__name__)
