"""Reading a file's text (a regular file, size-limited, UTF-8) and parsing it as YAML or JSON."""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

from models.io.json_text import loads_json
from models.io.problems import MAX_DEPTH, PlatformFileError, Problem, _syntax

#: Environment variable that overrides :data:`DEFAULT_MAX_FILE_MB`.
MAX_FILE_MB_ENV = "DRPLAN_MAX_FILE_MB"
#: Largest file read, in MB (1 MB = 2**20 bytes), unless ``DRPLAN_MAX_FILE_MB`` says otherwise.
DEFAULT_MAX_FILE_MB = 512


def max_file_bytes() -> int:
    """The size limit of a file read: ``DRPLAN_MAX_FILE_MB`` (MB) or 512 MB."""
    text = os.environ.get(MAX_FILE_MB_ENV, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_FILE_MB
    except ValueError:
        mb = DEFAULT_MAX_FILE_MB
    if not math.isfinite(mb) or mb <= 0:
        mb = DEFAULT_MAX_FILE_MB
    return int(min(mb, 2**40) * 2**20)


def _unreadable(source: str, reason: str) -> PlatformFileError:
    return PlatformFileError([Problem(source, "", f"cannot read file: {reason}", None, False)])


def read_text(path: str | os.PathLike[str], source: str | None = None) -> str:
    """The text of the regular file ``path``, UTF-8 (a byte-order mark dropped), size-limited.

    A device, FIFO or socket is never opened for reading (``/dev/zero`` never ends, a FIFO with
    no writer never answers), and no more than :func:`max_file_bytes` are read.

    Raises
    ------
    PlatformFileError
        One problem naming the file and why it cannot be read.
    """
    source = str(path) if source is None else source
    limit = max_file_bytes()
    too_big = (
        f"the file is larger than the limit of {limit // 2**20} MB "
        f"(set {MAX_FILE_MB_ENV} to read it)"
    )
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise _unreadable(source, "Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise _unreadable(source, "not a regular file (a device, FIFO or socket is not read)")
        if info.st_size > limit:
            raise _unreadable(source, too_big)
        # Non-blocking, so that a FIFO swapped in after the stat cannot hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise _unreadable(source, "not a regular file")
            os.set_blocking(handle.fileno(), True)
            data = handle.read(limit + 1)
    except OSError as error:
        raise _unreadable(source, error.strerror or str(error)) from None
    if len(data) > limit:
        raise _unreadable(source, too_big)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _unreadable(source, f"not utf-8 text (line {line}: {error.reason})") from None


def read_data(path: str | os.PathLike[str], source: str | None = None) -> Any:
    """The parsed content of a YAML or JSON file (JSON if it ends in ``.json``), bounded:
    see :func:`read_text` and :func:`parse_text`."""
    source = str(path) if source is None else source
    return parse_text(read_text(path, source), source)


def parse_text(text: str, source: str) -> Any:
    """Parse ``text`` as JSON (``source`` ends in ``.json``) or YAML, refusing what no platform
    or plan needs and what could exhaust memory or the stack: YAML anchors and aliases, nesting
    over :data:`MAX_DEPTH`, integers over :data:`MAX_INT_DIGITS` digits, keys given twice,
    list or mapping keys.

    Raises
    ------
    PlatformFileError
        One problem naming the file and, where known, the line.
    """
    text = text.removeprefix("\ufeff")
    if source.endswith(".json"):
        try:
            return loads_json(text)
        except json.JSONDecodeError as error:
            raise _syntax(
                f"{source}:{error.lineno}:{error.colno}", f"JSON syntax error: {error.msg}"
            ) from None
        except ValueError as error:
            raise _syntax(source, f"JSON: {error}") from None
    import yaml  # for YAML only: reading a JSON file does not load it

    from models.io.yaml_events import _EventBuilder, _yaml_problem

    try:
        return _EventBuilder().build(text)
    except yaml.YAMLError as error:
        raise _yaml_problem(error, text, source) from None
    except RecursionError:
        raise _syntax(source, f"YAML: nested more than {MAX_DEPTH} levels deep") from None
