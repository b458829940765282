"""Why a data file cannot be read, at its line: the reader's own message names neither the row nor
the column, so a second, plain pass finds the first line that breaks the format."""

from __future__ import annotations

import csv
import io
import json

from peftspec.build.encodings import decode, sniff
from peftspec.build.problems import DataProblem

_KINDS = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def locate(
    path: str,
    shown: str,
    fmt: str,
    separator: str,
    quoting: bool,
    encoding: str,
    header: bool,
    setting: str = 'dataset.reader.encoding = "{}"',
    skip: int = 0,
):
    """The first problem of the file at `path` (named `shown` in messages), or None if none is
    found; one of its encoding says to set it as `setting` does. `skip`: lines above the table
    (`reader.skip_rows`), not read."""
    from peftspec.build.compressed import read_data

    data = read_data(path)
    try:
        text = decode(data, encoding)
    except UnicodeDecodeError as exc:
        return encoding_problem(data, shown, encoding, setting, exc)
    if fmt == "jsonl":
        return _jsonl(text, shown)
    if fmt in ("csv", "tsv"):
        return _delimited(text, shown, separator, quoting, header, skip)
    return None


def encoding_problem(
    data: bytes, shown: str, encoding: str, setting: str, exc: UnicodeDecodeError
) -> DataProblem:
    """Why the bytes of `shown` are not text in `encoding` (`exc`: where decoding failed): the
    encoding they most likely are in, and how to say so as `setting` does."""
    found = sniff(data) if encoding == "utf8" else None
    if found is not None:
        likely, why = found
        return DataProblem(
            "error",
            shown,
            f"{why}; the file is most likely {likely}: set {setting.format(likely)}, or re-save it as UTF-8",
        )
    line = data[: exc.start].count(b"\n") + 1
    return DataProblem(
        "error",
        shown,
        f"line {line} is not {encoding} ({exc.reason}); name the file's own encoding: utf8, "
        f"utf16, cp1252 or latin1 (as {setting.format('utf8')}), or utf8-lossy to replace what "
        "does not decode",
    )


def _jsonl(text: str, shown: str) -> DataProblem | None:
    kinds: dict[str, tuple[str, int]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            return DataProblem("error", shown, f"line {n} is not valid JSON ({exc.msg}, column {exc.colno})")
        if not isinstance(value, dict):
            return DataProblem(
                "error", shown, f"line {n} is {_KINDS.get(type(value), 'a value')}, not an object"
            )
        for key, cell in value.items():
            if cell is None:
                continue
            kind = _KINDS.get(type(cell), type(cell).__name__)
            first = kinds.setdefault(key, (kind, n))
            if first[0] != kind:
                return DataProblem(
                    "error",
                    shown,
                    f"line {n}: {key!r} is {kind}, but {first[0]} on line {first[1]}; "
                    "give every row the same kind",
                    column=key,
                )
    return None


def _delimited(
    text: str, shown: str, separator: str, quoting: bool, header: bool, skip: int = 0
) -> DataProblem | None:
    reader = csv.reader(
        io.StringIO("".join(text.splitlines(keepends=True)[skip:])),
        delimiter=separator,
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
        strict=True,
    )
    width = None
    try:
        for row in reader:
            if not row:
                continue
            if width is None:
                width = len(row)
                continue
            if len(row) != width:
                n = reader.line_num + skip
                what = "header" if header else "first row"
                return DataProblem(
                    "error",
                    shown,
                    f"line {n} has {len(row)} fields, the {what} has {width} (a stray separator?)",
                )
    except csv.Error as exc:
        message = str(exc).split("\n")[0]
        return DataProblem("error", shown, f"line {reader.line_num + skip}: {message} (an unclosed quote?)")
    return None
