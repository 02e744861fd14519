"""Swapping staged files into an output folder, so that a process dying at any instant leaves a state the next
run completes or undoes.

The new files wait in a staging folder ``.potq-tmp-*`` inside the output folder. Before the first rename, the
old files are hard-linked into it (``previous-<name>``) and a journal ``SWAP`` names the files going in: from
then on the swap is decided. The old ``.xml`` is removed first and the new one arrives last, so a reader never
pairs a new ``.xml`` with an old ``.bin``. If a rename fails, the journal becomes ``UNDO`` and the old files go
back. Whoever next locks the folder (``recover``) finishes a ``SWAP``, completes an ``UNDO``, and removes a
staging folder without a journal (its run died before deciding anything).
"""
import json
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("potq")

TEMP_PREFIX = ".potq-tmp-"
SWAP, UNDO = "SWAP", "UNDO"
_BACKUP = "previous-"


def swap_in(staging: Path, out_dir: Path, names: list[str]) -> None:
    """Move ``staging/<name>`` to ``out_dir/<name>`` for every name (the .xml first in ``names``), all or none."""
    previous = []
    for name in names:
        if (out_dir / name).exists():
            _keep_copy(out_dir / name, staging / f"{_BACKUP}{name}")
            previous.append(name)
    for name in names:
        _sync(staging / name)
    _write_journal(staging, {"files": names, "previous": previous})
    try:
        _roll_forward(staging, out_dir, names)
    except BaseException:
        os.replace(staging / SWAP, staging / UNDO)
        _roll_back(staging, out_dir, names, previous)  # if this fails too, recover() finishes it later
        _remove_staging(staging)
        raise
    _sync(out_dir)
    _remove_staging(staging)


def discard(staging: Path) -> None:
    """Remove a staging folder whose swap was never decided; one with a journal stays for ``recover``."""
    if staging.is_dir() and not (staging / SWAP).exists() and not (staging / UNDO).exists():
        shutil.rmtree(staging, ignore_errors=True)


def recover(out_dir: Path) -> None:
    """Finish or undo the swaps of potq processes that died in ``out_dir``; remove what they left. Call it
    holding the folder's lock: then no staging folder found here is still in use. What cannot be tidied (another
    user's file, a journal potq did not write) is left, with a warning: it does not stop this run."""
    for entry in sorted(out_dir.glob(f"{TEMP_PREFIX}*")):
        try:
            _recover(entry, out_dir)
        except (OSError, ValueError) as e:
            log.warning("%s: cannot tidy %s, left by another potq (%s); leaving it", out_dir, entry.name,
                        getattr(e, "strerror", None) or e)


def _recover(entry: Path, out_dir: Path) -> None:
    if not entry.is_dir() or entry.is_symlink():
        entry.unlink(missing_ok=True)
        log.warning("%s: removed %s, a temporary file of an interrupted potq", out_dir, entry.name)
        return
    journal = _read_journal(entry)
    if journal and (entry / SWAP).exists():
        _roll_forward(entry, out_dir, journal["files"])
        _sync(out_dir)
        log.warning("%s: an interrupted potq run had decided to write %s; finished writing them", out_dir,
                    ", ".join(journal["files"]))
    elif journal:
        _roll_back(entry, out_dir, journal["files"], journal["previous"])
        _sync(out_dir)
        log.warning("%s: put back the earlier %s that an interrupted potq run was restoring", out_dir,
                    ", ".join(journal["files"]))
    elif any(entry.iterdir()):
        log.warning("%s: removed %s, left by a potq run interrupted before it wrote anything here", out_dir,
                    entry.name)
    _remove_staging(entry)  # an empty one is what a swap leaves if it dies in its last step: nothing to say


def _roll_forward(staging: Path, out_dir: Path, names: list[str]) -> None:
    """Move in whatever is still staged; repeatable after any interruption (a moved file is no longer staged)."""
    xml, others = names[0], names[1:]
    if (staging / xml).exists():
        (out_dir / xml).unlink(missing_ok=True)
    for name in [*others, xml]:  # the .xml last: it is what readers open first
        if (staging / name).exists():
            os.replace(staging / name, out_dir / name)


def _roll_back(staging: Path, out_dir: Path, names: list[str], previous: list[str]) -> None:
    """Put the old files back and remove new ones that had no old one; repeatable after any interruption."""
    xml, others = names[0], names[1:]
    for name in [*others, xml]:
        backup = staging / f"{_BACKUP}{name}"
        if name in previous:
            if backup.exists():
                os.replace(backup, out_dir / name)
        elif not (staging / name).exists():  # it had been moved in
            (out_dir / name).unlink(missing_ok=True)


def _keep_copy(path: Path, copy: Path) -> None:
    try:
        os.link(path, copy)
    except OSError:  # no hard links on this file system
        shutil.copy2(path, copy)


def _write_journal(staging: Path, journal: dict) -> None:
    """The journal appears in one rename, complete: its presence is the decision."""
    temp = staging / f"{SWAP}.writing"
    temp.write_text(json.dumps(journal))
    _sync(temp)
    os.replace(temp, staging / SWAP)
    _sync(staging)


def _read_journal(staging: Path) -> dict | None:
    """The journal of a staging folder, None if it has none; ValueError if potq did not write it."""
    for name in (SWAP, UNDO):
        if (staging / name).is_file():
            journal = json.loads((staging / name).read_text())
            if not _is_journal(journal):
                raise ValueError(f"{name} is not a journal potq wrote")
            return journal
    return None


def _is_journal(journal) -> bool:
    """Names of files in the output folder itself, and the old ones among them: nothing else may be moved."""
    if not isinstance(journal, dict) or not isinstance(journal.get("files"), list) or not journal["files"]:
        return False
    files, previous = journal["files"], journal.get("previous")
    plain = all(isinstance(f, str) and Path(f).name == f and f not in (".", "..") for f in files)
    return plain and isinstance(previous, list) and all(name in files for name in previous)


def _remove_staging(staging: Path) -> None:
    """Everything else first and the journal last: a staging folder without a journal was never decided."""
    for entry in staging.iterdir():
        if entry.name in (SWAP, UNDO):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name in (SWAP, UNDO):
        (staging / name).unlink(missing_ok=True)
    staging.rmdir()


def _sync(path: Path) -> None:
    """Flush a file or folder to disk, so that the journal never gets there before what it describes."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
