"""Write results so that a failed or interrupted run never damages an earlier good output.

Everything is written into a temporary folder inside the output folder (same file system), then moved into
place with ``os.replace`` while SIGINT/SIGTERM are held back. The old ``.xml`` is removed before the new
``.bin`` arrives and the new ``.xml`` comes last, so a reader sees the old pair, no ``.xml`` at all, or the
new pair: never a new ``.xml`` with an old ``.bin``. Old files are hard-linked into the temporary folder
first, so if a rename fails they are put back. On any failure the temporary folder is removed.
"""
import hashlib
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import openvino as ov

from ..errors import OutputError

TEMP_PREFIX = ".potq-tmp-"


class StagedOutputs:
    """Files written into a temporary folder inside ``out_dir``, then swapped in together by ``commit``.

    Use as a context manager: the temporary folder is removed however the block ends, so nothing is swapped
    in unless ``commit`` ran, and a failure leaves ``out_dir`` as it was.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.names: list[str] = []  # the .xml first: it is swapped in last
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.out_dir))
        except OSError as e:
            raise OutputError(f"{self.out_dir}: cannot create the output folder: {e.strerror or e}") from e

    def __enter__(self) -> "StagedOutputs":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def save_model(self, model: ov.Model, model_name: str) -> dict[str, dict]:
        """Stage ``<model_name>.xml/.bin``; return ``{file name: {"path", "bytes", "sha256"}}`` (final paths)."""
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
        """Swap every staged file in; return the final paths by file name."""
        with self._failure_is_output_error(), _signals_held():
            _swap_in(self.staging, self.out_dir, self.names)
        return {name: self.out_dir / name for name in self.names}

    @contextmanager
    def _failure_is_output_error(self):
        try:
            yield
        except Exception as e:
            raise OutputError(f"{self.out_dir}: writing results failed ({_reason(e)}); earlier files there were "
                              f"left unchanged") from e


def write_model_outputs(out_dir: Path, model_name: str, model: ov.Model) -> dict[str, Path]:
    """Save ``model`` as ``<model_name>.xml/.bin`` in ``out_dir`` atomically; return the final paths."""
    with StagedOutputs(out_dir) as staged:
        staged.save_model(model, model_name)
        return staged.commit()


def _swap_in(staging: Path, out_dir: Path, names: list[str]) -> None:
    xml, others = names[0], names[1:]
    backups = {}
    for name in names:
        if (out_dir / name).exists():
            backups[name] = staging / f"previous-{name}"
            try:
                os.link(out_dir / name, backups[name])
            except OSError:  # no hard links on this file system
                shutil.copy2(out_dir / name, backups[name])
    try:
        (out_dir / xml).unlink(missing_ok=True)
        for name in [*others, xml]:  # the .xml last: it is what readers open first
            os.replace(staging / name, out_dir / name)
    except BaseException:
        for name in [*others, xml]:
            if name in backups:
                os.replace(backups[name], out_dir / name)
            elif not (staging / name).exists():
                (out_dir / name).unlink(missing_ok=True)
        raise


def write_file_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file in the same folder, then os.replace)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from e


def describe_file(path: Path, final_path: Path | None = None) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(Path(final_path or path).resolve()), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


@contextmanager
def _signals_held():
    """Defer SIGINT/SIGTERM for the few renames that swap the results in."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
