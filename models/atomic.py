"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Only regular files are ever replaced. A symlink is written through: its target gets the new
text (atomically) and the link stays. A device node, a FIFO, a socket or a folder is refused,
and so is a folder that is missing or cannot be written: :class:`OutputError` says which, in one
sentence, before anything is written.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from models.exceptions import OutputError

#: Names of the kinds of files ``write_atomic`` refuses to replace.
_SPECIAL = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def output_target(path: str | os.PathLike[str]) -> Path:
    """The regular file that writing ``path`` would replace (a symlink's final target).

    Raises
    ------
    OutputError
        When the path is a special file, or its folder is missing or not writable.
    """
    name = str(path)
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"{name}: cannot write: {error.strerror or error}") from None
    if info is not None:
        for test, kind in _SPECIAL:
            if test(info.st_mode):
                raise OutputError(
                    f"{name}: is {kind}, not a regular file; refusing to replace it "
                    "(use -o - to write to stdout)"
                )
        if not os.access(target, os.W_OK):
            raise OutputError(f"{name}: the file is read-only; refusing to replace it")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{name}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{name}: cannot write in the folder {folder}: permission denied")
    return target


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Nothing the user had is lost if the write fails half-way: the old file stays whole.

    Raises
    ------
    OutputError
        When ``path`` is a device, FIFO, socket or folder, or cannot be written (see
        :func:`output_target`); nothing is written then.
    """
    target = output_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    # mkstemp makes the file private; give it the mode a plain open() would have.
    umask = os.umask(0)
    os.umask(umask)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
    os.chmod(tmp, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
