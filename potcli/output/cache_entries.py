"""Keyed arrays on disk for the statistics cache: one small ``.npz`` per entry, written atomically, checked on
every read.

An entry is ``<key>-<data>.npz``: ``key`` hashes what the value depends on, ``data`` the samples it was
computed from (several data versions of one key can live side by side). The file holds the value and a
record of both hashes and of the key's fields; a read returns the value only if that record matches what
the reader expects exactly, so a truncated, foreign or renamed file is never trusted. Writes go to a
temporary file in the same folder and are renamed into place, so concurrent runs sharing the folder only
ever see whole entries (two runs writing one entry write the same bytes; the last rename wins).
"""
import io
import json
import logging
from pathlib import Path

import numpy as np

from ..errors import OutputError
from .files import write_file_atomically

log = logging.getLogger("potq")
ENTRY_FORMAT = 1


class CacheEntries:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.rejected = 0  # entries found but not trusted (unreadable or not what their name says)

    def index(self) -> dict[str, set[str]]:
        """Every key in the folder with the data hashes it has entries for (one listing of the folder)."""
        found: dict[str, set[str]] = {}
        if self.directory.is_dir():
            for path in self.directory.glob("*-*.npz"):
                key, _, data = path.name[:-len(".npz")].partition("-")
                found.setdefault(key, set()).add(data)
        return found

    def load(self, key: str, data: str, fields: dict) -> np.ndarray | None:
        """The value stored for (``key``, ``data``); None if there is none or it does not hold what it should
        (the caller then recomputes it). A file that exists but fails the checks is counted in ``rejected``."""
        path = self._path(key, data)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                record = json.loads(str(stored["record"]))
                value = np.array(stored["value"])
        except Exception as e:  # truncated, not an npz, missing arrays: all mean "do not trust"
            return self._reject(path, f"is unreadable ({type(e).__name__})")
        if record != _record(key, data, fields):
            return self._reject(path, "holds another entry than its name says")
        return value

    def store(self, key: str, data: str, fields: dict, value: np.ndarray) -> None:
        """Write the entry; a cache that cannot be written is worth a warning, not a failed run."""
        buffer = io.BytesIO()
        np.savez(buffer, record=np.array(json.dumps(_record(key, data, fields))), value=np.asarray(value))
        try:
            write_file_atomically(self._path(key, data), buffer.getvalue())
        except OutputError as e:
            log.warning("statistics cache: %s", e)

    def _path(self, key: str, data: str) -> Path:
        return self.directory / f"{key}-{data}.npz"

    def _reject(self, path: Path, why: str) -> None:
        log.warning("statistics cache: %s %s; recomputing it", path, why)
        self.rejected += 1


def _record(key: str, data: str, fields: dict) -> dict:
    return {"format": ENTRY_FORMAT, "key": key, "data": data, "fields": fields}
