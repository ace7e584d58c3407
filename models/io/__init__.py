"""Reading and writing platform files (YAML or JSON), with every problem reported at once.

A bad file never gives a traceback: :class:`PlatformFileError` carries one :class:`Problem` per
mistake, each naming the file, the field path and the bad value.

One job per module: ``read`` (a file's text, size-limited, and parsing it), ``yaml_events`` and
``json_text`` (the two parsers and what they refuse), ``well_formed`` (a well-formed file read
straight into entities, without the schema's pydantic models), ``schema_problems`` (the
schema's errors as problems, for any other file), ``references`` (cross-references), ``build``
(the :class:`Platform`), ``write`` (back to a file), ``problems`` (the records and the limits).
"""

from __future__ import annotations

from models.io.build import load_platform, parse_platform
from models.io.json_text import loads_json
from models.io.problems import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_PROBLEMS,
    PlatformFileError,
    Problem,
)
from models.io.read import (
    DEFAULT_MAX_FILE_MB,
    MAX_FILE_MB_ENV,
    max_file_bytes,
    parse_text,
    read_data,
    read_text,
)
from models.io.write import dump_platform_text, platform_to_dict, save_platform

__all__ = [
    "DEFAULT_MAX_FILE_MB",
    "MAX_DEPTH",
    "MAX_FILE_MB_ENV",
    "MAX_INT_DIGITS",
    "MAX_PROBLEMS",
    "PlatformFileError",
    "Problem",
    "dump_platform_text",
    "load_platform",
    "loads_json",
    "max_file_bytes",
    "parse_platform",
    "parse_text",
    "platform_to_dict",
    "read_data",
    "read_text",
    "save_platform",
]
