"""JSON files: a list of rows; one object holding its rows under a key (`reader.field`); Label
Studio's export, a list of tasks (`peftspec.build.label_studio`)."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from peftspec.build.compressed import open_data, read_data
from peftspec.build.encodings import UTF16_MARKS, as_utf8, decode, guessed_text
from peftspec.build.problems import DataError, DataProblem
from peftspec.spec.reader import ReaderOptions

if TYPE_CHECKING:
    import polars as pl


def read_json(real: str, path: str, reader: ReaderOptions) -> pl.DataFrame:
    """A JSON list of rows, or the list under `reader.field` of a file that is one JSON object. An
    object read as rows would be one row of nested columns: refused, naming the key with the rows."""
    import io
    import json

    import polars as pl

    if not _is_object(real):  # a list of rows, whatever `field` says (it names the rows of objects)
        tasks = label_studio_tasks(real, reader.encoding)
        if tasks is not None:
            from peftspec.build.label_studio import task_rows

            return pl.from_dicts(task_rows(tasks), infer_schema_length=None)
        return pl.read_json(as_utf8(real, reader.encoding))
    data = json.loads(decode(read_data(real), reader.encoding))
    keys = ", ".join(map(repr, list(data)[:8]))
    if reader.field is None:
        under = rows_key(data)
        hint = f'; the rows look to be under {under!r}: set dataset.reader.field = "{under}"' if under else ""
        raise _refused(path, f"the file is one JSON object (keys {keys}), not a list of rows{hint}")
    rows = data.get(reader.field)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        found = "no such key" if reader.field not in data else f"a {type(rows).__name__}"
        raise _refused(
            path,
            f"dataset.reader.field = {reader.field!r} should name a list of rows (objects); "
            f"found {found} (keys {keys})",
        )
    return pl.read_json(io.BytesIO(json.dumps(rows).encode()))


def rows_key(data: Any) -> str | None:
    """The key of a JSON object that holds the rows (the first list of objects), or None."""
    if not isinstance(data, dict):
        return None
    return next((k for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)), None)


def json_rows_key(path: str) -> str | None:
    """For a `.json` file that is one object rather than a list of rows: the key holding its rows
    (what `dataset.reader.field` should say); None for a list, or an object without rows."""
    import json

    if not _is_object(path):
        return None
    try:
        return rows_key(json.loads(guessed_text(read_data(path))))
    except (OSError, ValueError, EOFError):
        return None


def label_studio_tasks(path: str, encoding: str = "utf8") -> list[dict[str, Any]] | None:
    """The tasks of a JSON file that is Label Studio's export (`peftspec.build.label_studio`), else
    None. Parsed once while the file is unchanged: `init` notes the export and then reads it, and
    `predict` labels its tasks and then writes them back (callers copy a task before changing it)."""
    if b'"annotations"' not in _head(path, 1 << 16):  # the rest need not be parsed twice
        return None
    found = os.stat(path)
    return _tasks(os.path.realpath(path), found.st_mtime_ns, found.st_size, encoding)


@functools.lru_cache(maxsize=1)
def _tasks(path: str, mtime_ns: int, size: int, encoding: str) -> list[dict[str, Any]] | None:
    import json

    from peftspec.build.label_studio import is_export

    try:
        tasks = json.loads(decode(read_data(path), encoding))
    except ValueError:  # not JSON, or not in `encoding`: the reader says where, as for any file
        return None
    return tasks if is_export(tasks) else None


def _is_object(path: str) -> bool:
    """Whether a JSON file is one object (`{`) rather than a list of rows."""
    return _head(path, 4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _head(path: str, size: int) -> bytes:
    """The file's first `size` bytes (decompressed), as UTF-8 when it is UTF-16."""
    with open_data(path) as fh:
        head = fh.read(size)
    if head.startswith(UTF16_MARKS):
        head = head[: len(head) // 2 * 2].decode("utf-16", errors="ignore").encode()
    return head


def _refused(path: str, message: str) -> DataError:
    return DataError([DataProblem("error", path, message)])
