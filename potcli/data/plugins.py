"""Load user DataLoader / Metric classes named in the config and construct them.

Accepted references: ``pkg.module:Class``, ``pkg.module.Class`` and ``path/to/file.py:Class`` (relative to the
config file's folder). Modules are imported with the config file's folder first on ``sys.path``, so a
``my_loader.py`` next to the config is found as ``my_loader:Class``.
"""
import hashlib
import importlib
import importlib.util
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from ..errors import PluginError, short_repr, shortened, user_code

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE_FORM = re.compile(rf"^(?P<module>{_IDENT}(?:\.{_IDENT})*):(?P<attr>{_IDENT}(?:\.{_IDENT})*)$")
_DOTTED_FORM = re.compile(rf"^(?P<module>{_IDENT}(?:\.{_IDENT})*)\.(?P<attr>{_IDENT})$")
_FILE_FORM = re.compile(rf"^(?P<file>.+\.py):(?P<attr>{_IDENT}(?:\.{_IDENT})*)$")

DATA_LOADER_METHODS = ("__len__", "__getitem__")
METRIC_METHODS = ("update", "avg_value", "reset", "get_attributes")


def load_data_loader(reference: str, args: dict, config_dir: Path, key: str = "engine.data_loader"):
    """Import, construct and shape-check the DataLoader named by ``reference``."""
    return _construct(reference, args, config_dir, key, "DataLoader", DATA_LOADER_METHODS)


def load_metric(reference: str, args: dict, config_dir: Path, key: str = "engine.metric"):
    """Import, construct and shape-check the Metric named by ``reference``."""
    return _construct(reference, args, config_dir, key, "Metric", METRIC_METHODS)


def _construct(reference, args, config_dir, key, role, methods):
    factory = resolve(reference, config_dir, key)
    if not callable(factory):
        raise PluginError(f"{key}: {short_repr(reference)} is a {type(factory).__name__}, not a {role} class")
    with user_code(lambda why: PluginError(f"{key}: constructing {role} {short_repr(reference)} with "
                                           f"{_args_text(args)} failed: {why}")):
        instance = factory(**args)
    check_shape(instance, role, methods, f"{key}: {short_repr(reference)}")
    return instance


def check_shape(instance, role: str, methods, label: str) -> None:
    """Fail with a PluginError if ``instance`` lacks any of ``methods``."""
    missing = [m for m in methods if not _has_member(instance, m)]
    if missing:
        raise PluginError(f"{label} does not look like a {role}: it has no {', '.join(missing)} "
                          f"(a {role} needs {', '.join(methods)})")


def _has_member(instance, name: str) -> bool:
    # Look on the class so that a property raising NotImplementedError still counts as present.
    return any(name in vars(klass) for klass in type(instance).__mro__ if klass is not object) or \
        name in getattr(instance, "__dict__", {})


def resolve(reference: str, config_dir: Path, key: str):
    """Return the object ``reference`` names; PluginError for a bad form, import failure or missing attribute."""
    reference = reference.strip() if isinstance(reference, str) else reference
    if not isinstance(reference, str) or not reference:
        raise PluginError(f"{key}: expected 'pkg.module:Class', 'pkg.module.Class' or 'path/to/file.py:Class', "
                          f"got {short_repr(reference)}")
    if match := _FILE_FORM.match(reference):
        module = _import_file(Path(config_dir) / match["file"], key)
    elif match := (_MODULE_FORM.match(reference) or _DOTTED_FORM.match(reference)):
        module = _import_module(match["module"], config_dir, key)
    else:
        raise PluginError(f"{key}: malformed plugin reference {short_repr(reference)}: expected 'pkg.module:Class', "
                          f"'pkg.module.Class' or 'path/to/file.py:Class'")
    target = module
    for part in match["attr"].split("."):
        if not hasattr(target, part):
            raise PluginError(f"{key}: module {module.__name__!r} ({getattr(module, '__file__', '?')}) "
                              f"has no attribute {match['attr']!r}")
        target = getattr(target, part)
    return target


def describe_reference(reference: str, config_dir: Path) -> str:
    """What loading ``reference`` would import and run, found without importing or running anything."""
    reference = reference.strip()
    if match := _FILE_FORM.match(reference):
        path = (Path(config_dir) / match["file"]).resolve()
        return f"runs the file {path}{'' if path.is_file() else ' (not found)'} and calls {match['attr']}"
    match = _MODULE_FORM.match(reference) or _DOTTED_FORM.match(reference)
    if not match:
        return f"is malformed ({short_repr(reference)}): nothing would be imported"
    top = match["module"].split(".")[0]
    try:
        with _on_sys_path(config_dir):
            spec = importlib.util.find_spec(top)  # a top-level name: no parent package is imported to find it
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        where = "not found"
    else:
        where = {"built-in": "built into Python", "frozen": "built into Python", None: "a namespace package"}.get(
            spec.origin, f"from {spec.origin}")
    return f"imports the module {match['module']} ({where}) and calls {match['attr']}"


def _import_module(name: str, config_dir: Path, key: str):
    try:
        with user_code(lambda why: PluginError(f"{key}: importing module {name!r} failed: {why}")), \
                _on_sys_path(config_dir):
            return importlib.import_module(name)
    except PluginError as e:
        missing = e.__cause__  # the module itself, not one it imports
        if isinstance(missing, ModuleNotFoundError) and missing.name and \
                (name == missing.name or name.startswith(missing.name + ".")):
            raise PluginError(f"{key}: no module named {name!r} (looked in {config_dir} and on sys.path)") from missing
        raise


def _import_file(path: Path, key: str):
    path = path.resolve()
    if not path.is_file():
        raise PluginError(f"{key}: plugin file {path} not found")
    # A stable, unique module name per file lets pickling and tracebacks refer to it.
    name = f"potq_plugin_{path.stem}_{hashlib.sha1(os.fsencode(path)).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with user_code(lambda why: PluginError(f"{key}: importing {path} failed: {why}")), _on_sys_path(path.parent):
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@contextmanager
def _on_sys_path(folder: Path):
    entry = str(Path(folder).resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        try:
            sys.path.remove(entry)
        except ValueError:
            pass


def _args_text(args: dict) -> str:
    if not args:
        return "no arguments"
    return shortened("arguments " + ", ".join(f"{k}={short_repr(v, 80)}" for k, v in args.items()), 400)
