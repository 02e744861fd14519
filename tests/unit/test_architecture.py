"""The layering of potcli/ (README "Architecture"): which package may import which, read from the source."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO

PACKAGE = REPO / "potcli"

# Every part of potcli and the parts it may import (besides itself, the standard library and third parties).
# Lower layers never import higher ones.
ALLOWED = {
    "errors": set(),
    "rules": set(),
    "version": set(),
    "progress": set(),
    "config": {"errors", "rules"},
    "statistics": {"config"},
    "data": {"errors"},
    "graph": {"errors", "config", "rules", "statistics"},
    "engine": {"errors", "data", "graph", "statistics", "progress"},
    "output": {"errors", "version"},
    "cluster": {"errors", "data", "engine", "progress", "version"},
    "algorithms": {"errors", "config", "rules", "statistics", "data", "graph", "engine", "output", "progress",
                   "version"},
    "pipeline": {"errors", "config", "data", "graph", "engine", "output", "algorithms", "progress",
                 "cluster"},  # imported only when a run asks for a cluster
    "pot": {"errors", "config", "pipeline", "data.contracts"},
    "starter": {"errors", "config", "data", "graph"},
    "cli": {"errors", "config", "pipeline", "output", "version", "progress", "starter", "data.plugins"},
    "__main__": {"cli"},
    "potcli": {"version"},  # __init__.py imports pot lazily, by name, on first use
}


def part_of(module: str) -> str:
    """``potcli.engine.collector`` -> ``engine``; ``potcli`` -> ``potcli``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "potcli"


def module_name(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def potcli_imports(path: Path) -> set[str]:
    """Absolute names of the potcli modules ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "potcli":
                found |= {f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target
                          for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "potcli"}
    return found


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_the_layers_below_it(path):
    own = part_of(module_name(path))
    forbidden = []
    for target in sorted(potcli_imports(path)):
        part = part_of(target)
        dotted = ".".join(target.split(".")[1:3])
        if part != own and part not in ALLOWED[own] and dotted not in ALLOWED[own]:
            forbidden.append(target)
    assert not forbidden, f"{path.relative_to(REPO)} ({own}) may not import {forbidden}"


def test_every_part_of_the_package_has_a_layer():
    assert {part_of(module_name(path)) for path in SOURCES} == set(ALLOWED)


def test_nothing_below_the_command_line_imports_it():
    importers = [path for path in SOURCES if any(part_of(t) == "cli" for t in potcli_imports(path))]
    assert [path.name for path in importers] == ["__main__.py"]


def test_range_math_and_config_load_without_openvino():
    code = ("import sys, potcli.statistics.ranges, potcli.statistics.streaming, potcli.config, potcli.cli; "
            "print('openvino' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_run_without_workers_imports_no_cluster_engine(tmp_path):
    """potq run and eval without --workers / --cluster import neither Dask nor potcli.cluster (base install)."""
    code = ("import sys; from potcli.cli import main; "
            f"codes = [main(['run', {str(REPO / 'samples/digits/config.yaml')!r}, '-o', {str(tmp_path)!r}]), "
            f"main(['eval', {str(REPO / 'samples/digits/test.yaml')!r}])]; "
            "print(codes, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'ray') "
            "or m.startswith('potcli.cluster')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[0, 0] []", result


def test_the_base_install_does_not_depend_on_the_cluster_engine():
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.split(">")[0].split("=")[0] in ("dask", "distributed", "ray")]
    assert any(d.startswith("distributed") for d in project["optional-dependencies"]["cluster"])


def test_every_package_ships_in_the_wheel():
    import tomllib
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {module_name(path) for path in PACKAGE.rglob("__init__.py")} | {"potcli.schemas"}
    assert listed == on_disk
