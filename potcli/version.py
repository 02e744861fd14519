"""potq's version, read from the installed package's metadata (pyproject.toml is the only place it is written)."""
from importlib.metadata import version

__version__ = version("potq")
