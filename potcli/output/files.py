"""Write results so that a failed, interrupted or killed run never damages an earlier good output.

Everything is written into a staging folder inside the output folder (same file system) and swapped in at the
end by swap.py, with the signals that end a process held back meanwhile (signals.py). One potq at a time
writes to a folder (lock.py), and each one first finishes or undoes what a killed predecessor left there.
"""
import hashlib
import os
import secrets
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..errors import OutputError, PotqError
from .lock import folder_lock
from .signals import signals_deferred
from .swap import TEMP_PREFIX, discard, recover, swap_in
from .targets import check_folder_can_hold, replaceable


class StagedOutputs:
    """Files written into a staging folder inside ``out_dir``, then swapped in together by ``commit``.

    Use as a context manager: it holds the folder's lock, and the staging folder is removed however the block
    ends, so nothing is swapped in unless ``commit`` ran, and a failure leaves ``out_dir`` as it was.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.names: list[str] = []  # the .xml first: it is swapped in last
        self._held = ExitStack()  # the folder's lock and the staging folder's removal, until __exit__
        self.committed = False

    def __enter__(self) -> "StagedOutputs":
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"{self.out_dir}: cannot create the output folder: {e.strerror or e}") from e
        with ExitStack() as stack, self._failure_is_output_error():
            stack.enter_context(folder_lock(self.out_dir))
            recover(self.out_dir)
            self.staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.out_dir))
            stack.callback(discard, self.staging)
            self._held = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self._held.close()

    def save_model(self, model, model_name: str) -> dict[str, dict]:
        """Stage ov.Model ``model`` as ``<model_name>.xml/.bin``; return ``{file name: {"path", "bytes",
        "sha256"}}`` (final paths)."""
        import openvino as ov  # here, not above: staging other files needs no OpenVINO (and starts 5x faster)

        xml, weights = f"{model_name}.xml", f"{model_name}.bin"
        with self._failure_is_output_error():
            ov.save_model(model, str(self.staging / xml), compress_to_fp16=False)
            self.names = [xml, weights, *self.names]
            return {name: describe_file(self.staging / name, self.out_dir / name) for name in (xml, weights)}

    def write(self, name: str, data: bytes) -> None:
        with self._failure_is_output_error():
            (self.staging / name).write_bytes(data)
            self.names.append(name)

    def commit(self) -> dict[str, Path]:
        """Swap every staged file in; return the final paths by file name. A signal arriving meanwhile takes
        effect once the swap is complete (or undone); ``committed`` then tells which."""
        with self._failure_is_output_error(), signals_deferred():
            for name in self.names:  # checked again: the folder may have changed while the model was made
                replaceable(self.out_dir / name, follow_links=False)
            swap_in(self.staging, self.out_dir, self.names)
            self.committed = True
        return {name: self.out_dir / name for name in self.names}

    @contextmanager
    def _failure_is_output_error(self):
        try:
            yield
        except PotqError:
            raise
        except Exception as e:
            raise OutputError(f"{self.out_dir}: writing results failed ({_reason(e)}); earlier files there were "
                              f"left unchanged") from e


def prepare_output_folder(out_dir: Path, names: list[str]) -> None:
    """Before any work: refuse output files potq must not replace, fail now if the folder cannot exist, and
    finish or undo what a killed potq left in it."""
    check_folder_can_hold(out_dir)
    for name in names:
        replaceable(Path(out_dir) / name, follow_links=False)
    if Path(out_dir).is_dir():
        try:
            with folder_lock(Path(out_dir)):
                recover(Path(out_dir))
        except OSError as e:
            raise OutputError(f"{out_dir}: cannot tidy the output folder: {e.strerror or e}") from e


def write_model_outputs(out_dir: Path, model_name: str, model) -> dict[str, Path]:
    """Save ``model`` as ``<model_name>.xml/.bin`` in ``out_dir`` atomically; return the final paths."""
    with StagedOutputs(out_dir) as staged:
        staged.save_model(model, model_name)
        return staged.commit()


def write_file_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` (or, for a symlink in the same folder, the file it points to) with ``data`` in one step.

    The new file is a regular file with the mode the umask gives, written beside the target and renamed onto
    it; anything that is not a regular file is refused (targets.py).
    """
    target = replaceable(Path(path), follow_links=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with folder_lock(target.parent), signals_deferred():
            recover(target.parent)
            temp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # the umask applies
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temp, replaceable(target, follow_links=False))
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from e


def describe_file(path: Path, final_path: Path | None = None) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(Path(final_path or path).resolve()), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
