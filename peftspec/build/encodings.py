"""The text encodings a data file may be in (`dataset.reader.encoding`), how each is decoded, and
what a file that is not UTF-8 most likely is: Excel's "Unicode Text" is UTF-16 with a byte-order
mark; a CSV saved by Excel on Windows in Western Europe is Windows-1252."""

from __future__ import annotations

CODECS = {
    "utf8": "utf-8-sig",
    "utf8-lossy": "utf-8-sig",
    "utf16": "utf-16",
    "cp1252": "cp1252",
    "latin1": "latin-1",
}
"""Each `reader.encoding` as Python's codec (a UTF-8 byte-order mark is skipped)."""
NATIVE = "utf8"
"""The encoding polars reads from the file itself; the others are decoded here first."""
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def decode(data: bytes, encoding: str) -> str:
    """`data` as text in `encoding`; `utf8-lossy` replaces invalid bytes, the others raise."""
    return data.decode(CODECS[encoding], errors="replace" if encoding == "utf8-lossy" else "strict")


def as_utf8(path: str, encoding: str):
    """What polars should read for the file at `path`: the path itself for UTF-8, else its text
    decoded from `encoding` and encoded as UTF-8 (in memory); a compressed file, decompressed."""
    import io

    from peftspec.build.compressed import compression, read_data

    if encoding == NATIVE:
        return io.BytesIO(read_data(path)) if compression(path) else path
    return io.BytesIO(decode(read_data(path), encoding).encode("utf-8"))


def sniff(data: bytes) -> tuple[str, str] | None:
    """(the encoding, why) of a file that is not UTF-8, or None when it is: UTF-16 by its
    byte-order mark, else Windows-1252 when it decodes, else Latin-1 (which decodes any bytes)."""
    if data.startswith(UTF16_MARKS):
        return "utf16", 'the file starts with a UTF-16 byte-order mark, as Excel\'s "Unicode Text" does'
    try:
        data.decode("utf-8-sig")
        return None
    except UnicodeDecodeError as exc:
        byte = data[exc.start : exc.start + 1]
        line = data[: exc.start].count(b"\n") + 1
    for encoding in ("cp1252", "latin1"):
        try:
            data.decode(CODECS[encoding])
        except UnicodeDecodeError:
            continue
        shown = byte.decode(CODECS[encoding])
        return (
            encoding,
            f"line {line} is not UTF-8: byte 0x{byte.hex().upper()} there reads as {shown!r} in {encoding}",
        )
    return None  # unreachable: Latin-1 decodes every byte


def guessed_text(data: bytes) -> str:
    """`data` decoded as the encoding it most likely is (for looking at a file, not reading it)."""
    found = sniff(data)
    return decode(data, found[0] if found else "utf8")
