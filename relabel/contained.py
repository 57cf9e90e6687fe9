"""Read a file of the data folder, checked at the moment it is opened: the app shows these files to a browser.

The manifest loader refuses paths leading out of the data folder, but the folder can change after that: a
file swapped for a symlink to /etc/passwd, or for a FIFO, would then be served or hang a request. So every
read resolves the path, opens it without following a final symlink (and without blocking), and checks what
the open descriptor really is: a regular file, inside the data folder.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from glasses.images import ImageError, os_error_reason

OUT = "leads out of the data folder"
NOT_REGULAR = "not a regular file"
GONE = "gone from the data folder"
CHANGED = "changed while being opened (a symlink swapped in); try again"
PROC_FD = "/proc/self/fd"   # Linux: the kernel's name for each open file


class NotContained(ImageError):
    """The file cannot be read safely from the data folder; `source` is its relative path, `reason` why.
    An ImageError, so callers that already report unreadable images report this too."""


def read_contained(data_root: Path, relative: str) -> bytes:
    """The bytes of `relative` under `data_root`; raises NotContained unless what was opened is a regular file
    inside the data folder (symlinks within the folder are fine)."""
    root = Path(os.path.realpath(data_root))
    resolved = _resolved(root, relative)
    if resolved is None:
        raise NotContained(relative, OUT)
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotContained(relative, GONE) from None
    except OSError as err:   # ELOOP: the last part became a symlink after it was resolved; ENXIO: a socket
        reason = CHANGED if _is_symlink(resolved) else NOT_REGULAR if err.errno == errno.ENXIO else None
        raise NotContained(relative, reason or os_error_reason(err)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotContained(relative, NOT_REGULAR)
        if not _opened_inside(fd, info, root, relative):
            raise NotContained(relative, OUT)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def _resolved(root: Path, relative: str) -> Path | None:
    """`relative` with every symlink followed, or None when that leads out of `root`."""
    if Path(relative).is_absolute():
        return None
    resolved = Path(os.path.realpath(root / relative))
    return resolved if resolved.is_relative_to(root) else None


def _opened_inside(fd: int, info: os.stat_result, root: Path, relative: str) -> bool:
    """Whether the open file lies in the data folder: the kernel's name for it (Linux), else (no /proc)
    whether resolving the path again still leads inside, to this very file. This catches a folder above
    the file swapped for a symlink between resolving and opening."""
    try:
        return Path(os.readlink(f"{PROC_FD}/{fd}")).is_relative_to(root)
    except OSError:
        pass
    again = _resolved(root, relative)
    try:
        now = os.stat(again, follow_symlinks=False) if again is not None else None
    except OSError:
        return False
    return now is not None and (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False
