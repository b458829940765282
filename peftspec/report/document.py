"""A report as plain blocks, written out as Markdown and as self-contained HTML from one source."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Bold:
    text: str


Cell = str | Bold


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    numeric: list[bool] = field(default_factory=list)


@dataclass
class Image:
    src: str
    alt: str


Block = Heading | Para | Bullets | Table | Image


def _md_escape(text: str) -> str:
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_cell(cell: Cell) -> str:
    return f"**{_md_escape(cell.text)}**" if isinstance(cell, Bold) else _md_escape(cell)


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + _md_escape(block.text), ""]
        elif isinstance(block, Para):
            out += [block.text, ""]
        elif isinstance(block, Bullets):
            out += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            numeric = block.numeric or [False] * len(block.header)
            out.append("| " + " | ".join(_md_escape(h) for h in block.header) + " |")
            out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Image):
            out += [f"![{_md_escape(block.alt)}]({block.src})", ""]
    return "\n".join(out)


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _inline(text: str) -> str:
    """The small Markdown subset used in paragraphs: `code` and **bold**, HTML-escaped."""
    import re

    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def to_html(blocks: list[Block], title: str) -> str:
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            out.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Bullets):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            numeric = block.numeric or [False] * len(block.header)
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join(
                "<tr>" + "".join(_html_cell(c, n) for c, n in zip(row, numeric)) + "</tr>"
                for row in block.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Image):
            out.append(f"<p><img src='{html.escape(block.src)}' alt='{html.escape(block.alt)}'></p>")
    out.append("</body></html>")
    return "\n".join(out)


def _html_cell(cell: Cell, numeric: bool) -> str:
    cls = " class='num'" if numeric else ""
    if isinstance(cell, Bold):
        return f"<td{cls}><strong>{html.escape(cell.text)}</strong></td>"
    return f"<td{cls}>{html.escape(cell)}</td>"
