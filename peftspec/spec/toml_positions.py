"""Where each key and value sits in a TOML file: `tomllib` parses, this scanner locates.

`tomllib` returns plain values without positions, so after it has accepted a document this
scanner walks the same text once and records, for every key path, the line and column of the
key and of its value (array items get an index in the path). The text is known to be valid
TOML, which keeps the scanner small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peftspec.spec.diagnostics import KeyPath

Pos = tuple[int, int]  # 1-based line, column

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass
class SourcePositions:
    """Positions of keys and values in one TOML text, by key path."""

    keys: dict[KeyPath, Pos] = field(default_factory=dict)
    values: dict[KeyPath, Pos] = field(default_factory=dict)


def scan_positions(text: str) -> SourcePositions:
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.out = SourcePositions()
        self.array_tables: dict[KeyPath, int] = {}

    # -- cursor ---------------------------------------------------------------------------
    def pos(self) -> Pos:
        return self.line, self.i - self.line_start + 1

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i < len(self.text) and self.text[self.i] == "\n":
                self.line += 1
                self.line_start = self.i + 1
            self.i += 1

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces, tabs, comments and (if `newlines`) line breaks."""
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.advance()
            elif ch == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.advance()
            else:
                return

    # -- document ---------------------------------------------------------------------------
    def run(self) -> SourcePositions:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= len(self.text):
                return self.out
            if self.peek() == "[":
                table = self.header()
            else:
                self.key_value(table)

    def header(self) -> KeyPath:
        start = self.pos()
        is_array = self.peek(2) == "[["
        self.advance(2 if is_array else 1)
        parts = self.key_parts()
        self.advance(2 if is_array else 1)
        path = self.resolve_arrays(tuple(parts))
        if is_array:
            index = self.array_tables.get(path, -1) + 1
            self.array_tables[path] = index
            self.out.keys.setdefault(path, start)
            path = (*path, index)
        self.out.keys.setdefault(path, start)
        self.out.values.setdefault(path, start)
        self._record_parents(path, start)
        return path

    def resolve_arrays(self, path: KeyPath) -> KeyPath:
        """Insert the current index after every prefix that is an array of tables."""
        resolved: KeyPath = ()
        for part in path:
            resolved = (*resolved, part)
            if resolved in self.array_tables and resolved != path:
                resolved = (*resolved, self.array_tables[resolved])
        return resolved

    def _record_parents(self, path: KeyPath, pos: Pos) -> None:
        for n in range(1, len(path)):
            self.out.keys.setdefault(path[:n], pos)
            self.out.values.setdefault(path[:n], pos)

    def key_value(self, table: KeyPath) -> None:
        start = self.pos()
        path = (*table, *self.key_parts())
        self.out.keys[path] = start
        self._record_parents(path, start)
        self.skip_blank(newlines=False)
        self.advance()  # '='
        self.skip_blank(newlines=False)
        self.value(path)

    # -- keys ------------------------------------------------------------------------------
    def key_parts(self) -> list[str]:
        parts = []
        while True:
            self.skip_blank(newlines=False)
            parts.append(self.one_key())
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()

    def one_key(self) -> str:
        ch = self.peek()
        if ch in "\"'":
            return self.string()
        start = self.i
        while self.i < len(self.text) and self.text[self.i] in _BARE:
            self.advance()
        return self.text[start : self.i]

    # -- values ----------------------------------------------------------------------------
    def value(self, path: KeyPath) -> None:
        self.out.values[path] = self.pos()
        ch = self.peek()
        if ch in "\"'":
            self.string()
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            while self.i < len(self.text) and self.text[self.i] not in ",]}#\r\n":
                self.advance()

    def array(self, path: KeyPath) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.peek() == "]":
                self.advance()
                return
            item = (*path, index)
            self.out.keys[item] = self.pos()
            self.value(item)
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.advance()

    def inline_table(self, path: KeyPath) -> None:
        self.advance()
        while True:
            self.skip_blank(newlines=True)
            if self.peek() == "}":
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            self.key_value(path)

    def string(self) -> str:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            return self._multiline(quote)
        self.advance()
        start = self.i
        while self.peek() != quote:
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        raw = self.text[start : self.i]
        self.advance()
        return _unescape(raw) if quote == '"' else raw

    def _multiline(self, quote: str) -> str:
        self.advance(3)
        start = self.i
        while not (self.peek(3) == quote * 3 and self.peek(4) != quote * 4):
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        raw = self.text[start : self.i]
        self.advance(3)
        return raw


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    import tomllib

    return tomllib.loads(f'k = "{raw}"')["k"]
