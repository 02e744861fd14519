"""What an output path may replace: nothing, or a regular file. Never a device, a FIFO, a socket or a folder
(``-o /dev/null`` as root would otherwise turn the device into a file for the whole machine), and never a file
reached through a symlink that leads out of the folder named."""
import os
import stat
from pathlib import Path

from ..errors import OutputError, TargetError

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFIFO: "a FIFO",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def replaceable(path: Path, follow_links: bool) -> Path:
    """The file to replace when writing ``path``: ``path`` itself, or with ``follow_links`` the file a symlink
    in the same folder points to. TargetError for anything potq must not replace."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as e:
        raise OutputError(f"{path}: cannot look at the output file: {e.strerror or e}") from e
    if stat.S_ISLNK(mode):
        target = Path(os.path.realpath(path))
        if not follow_links:
            raise TargetError(f"{path}: is a symlink (to {target}); potq replaces only regular files: remove "
                              f"it or choose another output folder")
        if target.parent != Path(os.path.realpath(path.parent)):
            raise TargetError(f"{path}: is a symlink to {target}, outside its folder; refusing to write through it")
        return replaceable(target, follow_links=False)
    if not stat.S_ISREG(mode):
        raise TargetError(f"{path}: is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a file potq may "
                          f"replace; refusing to write there")
    return path


def check_folder_can_hold(folder: Path) -> None:
    """OutputError now, rather than after the work, if ``folder`` (or the first existing folder above it, where
    it would be created) is a file."""
    folder = Path(os.path.abspath(folder))
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise OutputError(f"{folder}: cannot create the output folder: {candidate} is a file")
            return
