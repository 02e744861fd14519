"""One writer per output folder: an exclusive ``flock`` on the folder itself (no lock file is left behind),
held while potq stages, swaps or recovers files there. The kernel drops it when the holder dies, kill -9 too."""
import errno
import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("potq")

_UNSUPPORTED = (errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF)  # file systems without flock


@contextmanager
def folder_lock(folder: Path):
    """Hold the folder's lock for the block; if another potq process holds it, say so once and wait."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("%s: another potq process is writing results here; waiting for it to finish", folder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            if e.errno not in _UNSUPPORTED:
                raise
            log.warning("%s: this file system cannot lock the folder (%s); a second potq writing here at the "
                        "same time would not be noticed", folder, e.strerror)
        yield
    finally:
        os.close(fd)
